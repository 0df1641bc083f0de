//! The crate's own structs, enums and type aliases, found with `syn`, so that `plan` can generate arguments of those types.

use std::collections::BTreeMap;
use std::path::PathBuf;

use syn::Item;

use crate::select::Module;

/// A type declared in the crate.
#[derive(Debug, Clone)]
pub struct TypeItem {
    /// Module path of the declaring module.
    pub module: Vec<String>,
    pub name: String,
    pub kind: TypeKind,
}

#[derive(Debug, Clone)]
pub enum TypeKind {
    Struct(syn::ItemStruct),
    Enum(syn::ItemEnum),
    Alias(syn::ItemType),
}

/// Every struct, enum and type alias of one crate, outside test code.
#[derive(Debug, Clone, Default)]
pub struct CrateTypes {
    items: Vec<TypeItem>,
}

impl CrateTypes {
    /// Reads the declarations of every scanned module. Files that do not parse were reported
    /// by the module scan already; here they only contribute nothing.
    pub fn collect(modules: &[Module]) -> CrateTypes {
        let mut parsed: BTreeMap<PathBuf, Option<syn::File>> = BTreeMap::new();
        let mut items = Vec::new();
        for m in modules.iter().filter(|m| !m.is_test) {
            let file = parsed.entry(m.file.clone()).or_insert_with(|| {
                let text = std::fs::read_to_string(&m.file).ok()?;
                syn::parse_file(&text).ok()
            });
            let Some(file) = file else { continue };
            // The module's own items: the file's top level, or the inline module's body.
            let file_depth = modules
                .iter()
                .filter(|o| o.file == m.file && o.inline_close.is_none())
                .map(|o| o.path.len())
                .next()
                .unwrap_or(0);
            let Some(own) = inline_items(&file.items, &m.path[file_depth.min(m.path.len())..])
            else {
                continue;
            };
            for item in own {
                let (name, kind) = match item {
                    Item::Struct(s) => (s.ident.to_string(), TypeKind::Struct(s.clone())),
                    Item::Enum(e) => (e.ident.to_string(), TypeKind::Enum(e.clone())),
                    Item::Type(t) => (t.ident.to_string(), TypeKind::Alias(t.clone())),
                    _ => continue,
                };
                items.push(TypeItem {
                    module: m.path.clone(),
                    name,
                    kind,
                });
            }
        }
        CrateTypes { items }
    }

    /// The declaration a type path names, seen from module `from`: a path through modules
    /// (`crate::shapes::Rect`, `super::Rect`, `shapes::Rect`), or a bare name declared in
    /// `from`, or else declared exactly once in the crate (brought in by a `use`).
    pub fn find(&self, path: &syn::Path, from: &[String]) -> Option<&TypeItem> {
        let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let (name, prefix) = segs.split_last()?;
        let named = || self.items.iter().filter(move |i| &i.name == name);
        if !prefix.is_empty() {
            let mut module: Vec<String> = match prefix[0].as_str() {
                "crate" => Vec::new(),
                "self" => from.to_vec(),
                "super" => from[..from.len().saturating_sub(1)].to_vec(),
                _ => {
                    let mut m = from.to_vec();
                    m.push(prefix[0].clone());
                    m
                }
            };
            for p in &prefix[1..] {
                match p.as_str() {
                    "super" => {
                        module.pop();
                    }
                    _ => module.push(p.clone()),
                }
            }
            // `shapes::Rect` written at the root and `crate::shapes::Rect` mean the same.
            let absolute: Vec<String> = prefix.iter().filter(|p| *p != "crate").cloned().collect();
            return named()
                .find(|i| i.module == module)
                .or_else(|| named().find(|i| i.module == absolute));
        }
        if let Some(local) = named().find(|i| i.module == from) {
            return Some(local);
        }
        let mut all = named();
        match (all.next(), all.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    }
}

/// The items of the inline module at `path` below `items` (the items themselves for an empty path).
fn inline_items<'a>(items: &'a [Item], path: &[String]) -> Option<&'a [Item]> {
    let Some((first, rest)) = path.split_first() else {
        return Some(items);
    };
    items.iter().find_map(|i| match i {
        Item::Mod(m) if &m.ident.to_string() == first => m
            .content
            .as_ref()
            .and_then(|(_, inner)| inline_items(inner, rest)),
        _ => None,
    })
}
