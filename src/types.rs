//! The crate's own structs, enums and type aliases, found with `syn`, so that `plan` can generate arguments of those types.

use syn::Item;

use crate::select::Module;

/// A type declared in the crate.
#[derive(Debug, Clone)]
pub struct TypeItem {
    /// Module path of the declaring module.
    pub module: Vec<String>,
    pub name: String,
    pub kind: TypeKind,
    /// Other crates can name it: declared `pub` in a public module.
    pub reachable: bool,
}

#[derive(Debug, Clone)]
pub enum TypeKind {
    Struct(syn::ItemStruct),
    Enum(syn::ItemEnum),
    Alias(syn::ItemType),
}

impl TypeItem {
    /// The declaration as source text, to tell whether it changed.
    pub fn definition_text(&self) -> String {
        use quote::ToTokens;
        match &self.kind {
            TypeKind::Struct(s) => s.to_token_stream().to_string(),
            TypeKind::Enum(e) => e.to_token_stream().to_string(),
            TypeKind::Alias(a) => a.to_token_stream().to_string(),
        }
    }

    /// The names of its type parameters.
    /// The generic parameters of its declaration.
    pub fn generics(&self) -> &syn::Generics {
        match &self.kind {
            TypeKind::Struct(s) => &s.generics,
            TypeKind::Enum(e) => &e.generics,
            TypeKind::Alias(a) => &a.generics,
        }
    }

    /// Whether the type has lifetime parameters (its values may borrow).
    pub fn has_lifetimes(&self) -> bool {
        self.generics().lifetimes().next().is_some()
    }

    pub fn type_params(&self) -> Vec<String> {
        let generics = match &self.kind {
            TypeKind::Struct(s) => &s.generics,
            TypeKind::Enum(e) => &e.generics,
            TypeKind::Alias(a) => &a.generics,
        };
        generics
            .type_params()
            .map(|t| t.ident.to_string())
            .collect()
    }

    /// The types its fields (or alias target) are written with.
    pub fn field_types(&self) -> Vec<&syn::Type> {
        match &self.kind {
            TypeKind::Struct(s) => s.fields.iter().map(|f| &f.ty).collect(),
            TypeKind::Enum(e) => e
                .variants
                .iter()
                .flat_map(|v| v.fields.iter().map(|f| &f.ty))
                .collect(),
            TypeKind::Alias(a) => vec![&*a.ty],
        }
    }
}

/// Every path a type is written with (`Vec<Word>` gives `Vec` and `Word`).
fn type_paths(ty: &syn::Type) -> Vec<syn::Path> {
    use syn::visit::Visit;
    struct Paths(Vec<syn::Path>);
    impl<'ast> Visit<'ast> for Paths {
        fn visit_type_path(&mut self, p: &'ast syn::TypePath) {
            self.0.push(p.path.clone());
            syn::visit::visit_type_path(self, p);
        }
    }
    let mut paths = Paths(Vec::new());
    paths.visit_type(ty);
    paths.0
}

/// Whether `ty` mentions a crate type that other crates cannot name (the harness is one).
pub fn mentions_private(ty: &syn::Type, from: &[String], types: &CrateTypes) -> bool {
    type_paths(ty)
        .iter()
        .any(|p| types.find(p, from).is_some_and(|item| !item.reachable))
}

/// Whether a crate type that `ty` mentions (at any depth, through fields too) is declared
/// differently in `head` and `base`, seen from module `from`: then values of `ty` print
/// differently even where the code behaves the same.
pub fn declared_differently(
    ty: &syn::Type,
    from: &[String],
    head: &CrateTypes,
    base: &CrateTypes,
) -> bool {
    let mut seen = Vec::new();
    differs(ty, from, head, base, &mut seen)
}

fn differs(
    ty: &syn::Type,
    from: &[String],
    head: &CrateTypes,
    base: &CrateTypes,
    seen: &mut Vec<String>,
) -> bool {
    for path in type_paths(ty) {
        let Some(h) = head.find(&path, from) else {
            continue;
        };
        let key = format!("{}::{}", h.module.join("::"), h.name);
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let b = base.find(&path, from);
        if b.map(TypeItem::definition_text) != Some(h.definition_text()) {
            return true;
        }
        if h.field_types()
            .into_iter()
            .any(|t| differs(t, &h.module, head, base, seen))
        {
            return true;
        }
    }
    false
}

/// An associated function of a crate type: one that takes no `self` (a way to build a value),
/// or a `&mut self` method (a way to change one).
#[derive(Debug, Clone)]
pub struct Constructor {
    /// The type's name, as the impl block writes it.
    pub type_name: String,
    /// Module path of the impl block.
    pub module: Vec<String>,
    pub sig: syn::Signature,
    /// Callable from the type's own module: declared `pub`/`pub(…)`, or in that module.
    pub visible_from_type: bool,
}

/// Every struct, enum and type alias of one crate, outside test code, and the constructors
/// and `Default` impls of its types.
#[derive(Debug, Clone, Default)]
pub struct CrateTypes {
    items: Vec<TypeItem>,
    constructors: Vec<Constructor>,
    /// Names of the types with a `Default` impl (derived or written).
    defaults: Vec<String>,
    /// Inherent `&mut self` methods, which change a value's state.
    mutators: Vec<Constructor>,
    /// `(trait, type)` for every `impl Trait for Type` of the crate (last path segments).
    trait_impls: Vec<(String, String)>,
    /// Names of the traits the crate declares.
    traits: Vec<String>,
    /// Integer constants of the crate with a literal value (`const MAX_LEN: usize = 40;`).
    consts: Vec<(String, usize)>,
}

impl CrateTypes {
    /// The declarations of every scanned module, from the items the scan parsed. Files that
    /// did not parse were reported by the scan already; here they only contribute nothing.
    pub fn collect(modules: &[Module]) -> CrateTypes {
        let mut declared = Declared::of(modules);
        let (constructors, mutators, trait_impls) = methods_of_impls(&declared);
        declared.defaults.extend(trait_defaults(&declared));
        CrateTypes {
            items: declared.items,
            constructors,
            defaults: declared.defaults,
            mutators,
            trait_impls,
            traits: declared.traits,
            consts: declared.consts,
        }
    }

    /// The associated functions of type `name` that take no `self`.
    pub fn constructors_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Constructor> {
        self.constructors
            .iter()
            .filter(move |c| c.type_name == name && c.visible_from_type)
    }

    /// The `&mut self` methods of type `name`, callable from its module.
    pub fn mutators_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Constructor> {
        self.mutators
            .iter()
            .filter(move |c| c.type_name == name && c.visible_from_type)
    }

    /// The crate's types that implement `trait_name`, a trait the crate declares.
    /// Whether the crate declares a trait of this name.
    pub fn declares_trait(&self, name: &str) -> bool {
        self.traits.iter().any(|t| t == name)
    }

    pub fn implementors<'a>(&'a self, trait_name: &'a str) -> impl Iterator<Item = &'a str> {
        let declared = self.traits.iter().any(|t| t == trait_name);
        self.trait_impls
            .iter()
            .filter(move |(t, _)| declared && t == trait_name)
            .map(|(_, ty)| ty.as_str())
    }

    /// The path from the crate root of the type `name` (`crate::core::Word`), which names it
    /// from any module.
    pub fn path_of(&self, name: &str) -> Option<syn::Path> {
        let item = self.items.iter().find(|i| i.name == name)?;
        let text = std::iter::once("crate")
            .chain(item.module.iter().map(String::as_str))
            .chain(std::iter::once(name))
            .collect::<Vec<_>>()
            .join("::");
        syn::parse_str(&text).ok()
    }

    /// The value of the crate's integer constant `name`, when it is a literal.
    pub fn const_value(&self, name: &str) -> Option<usize> {
        self.consts.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    /// Whether type `name` implements `Default`.
    pub fn has_default(&self, name: &str) -> bool {
        self.defaults.iter().any(|d| d == name)
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
            let found = named()
                .find(|i| i.module == module)
                .or_else(|| named().find(|i| i.module == absolute));
            // `crate::Q` where `Q` is declared in `inner` and re-exported: the one type of
            // that name, when the path stays inside the crate.
            let local = matches!(prefix[0].as_str(), "crate" | "self" | "super");
            return found.or_else(|| {
                let mut all = named();
                match (all.next(), all.next(), local) {
                    (Some(only), None, true) => Some(only),
                    _ => None,
                }
            });
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

/// The associated functions of the crate's non-generic inherent impls that can build a value
/// (no `self`) or change one (`&mut self`), and the (trait, type) pairs of non-generic trait
/// impls.
fn methods_of_impls(
    declared: &Declared,
) -> (Vec<Constructor>, Vec<Constructor>, Vec<(String, String)>) {
    let mut constructors = Vec::new();
    let mut mutators = Vec::new();
    let mut trait_impls = Vec::new();
    for (module, imp) in &declared.impls {
        let Some(type_name) = impl_type_name(imp) else {
            continue;
        };
        if let Some((_, trait_path, _)) = &imp.trait_ {
            if let Some(t) = trait_path.segments.last() {
                if imp.generics.params.is_empty() {
                    trait_impls.push((t.ident.to_string(), type_name.clone()));
                }
            }
            continue;
        }
        if imp.generics.type_params().next().is_some() {
            continue;
        }
        let declared_in = declared
            .items
            .iter()
            .find(|i: &&TypeItem| i.name == type_name)
            .map(|i| i.module.clone());
        for it in &imp.items {
            let syn::ImplItem::Fn(f) = it else { continue };
            // A constructor behind a cfg the host never sets (`#[cfg(procmacro2_semver_exempt)]`)
            // is not there to call.
            if f.sig.unsafety.is_some()
                || f.sig.asyncness.is_some()
                || !crate::source::cfg_may_hold(&f.attrs)
                || !crate::source::cfg_may_hold(&imp.attrs)
            {
                continue;
            }
            let receiver = match f.sig.inputs.first() {
                Some(syn::FnArg::Receiver(r)) => Some(r),
                _ => None,
            };
            let list = match receiver {
                None => &mut constructors,
                Some(r) if r.reference.is_some() && r.mutability.is_some() => &mut mutators,
                Some(_) => continue,
            };
            list.push(Constructor {
                type_name: type_name.clone(),
                module: module.clone(),
                sig: f.sig.clone(),
                visible_from_type: !matches!(f.vis, syn::Visibility::Inherited)
                    || declared_in.as_ref() == Some(module),
            });
        }
    }
    (constructors, mutators, trait_impls)
}

/// The types with an `impl Default`.
fn trait_defaults(declared: &Declared) -> Vec<String> {
    declared
        .impls
        .iter()
        .filter(|(_, imp)| {
            imp.trait_
                .as_ref()
                .and_then(|(_, path, _)| path.segments.last())
                .is_some_and(|t| t.ident == "Default")
        })
        .filter_map(|(_, imp)| impl_type_name(imp))
        .collect()
}

/// The declarations of a crate's modules, before impls are read.
struct Declared {
    items: Vec<TypeItem>,
    impls: Vec<(Vec<String>, syn::ItemImpl)>,
    defaults: Vec<String>,
    traits: Vec<String>,
    consts: Vec<(String, usize)>,
}

impl Declared {
    /// The types, traits, integer constants and impl blocks of every module outside test code.
    fn of(modules: &[Module]) -> Declared {
        let mut items = Vec::new();
        let mut impls: Vec<(Vec<String>, syn::ItemImpl)> = Vec::new();
        let mut defaults = Vec::new();
        let mut traits = Vec::new();
        let mut consts = Vec::new();
        for m in modules
            .iter()
            .filter(|m| !m.is_test && m.unparsed.is_none())
        {
            let own = &m.items;
            for item in own {
                let (name, kind) = match item {
                    Item::Struct(s) => (s.ident.to_string(), TypeKind::Struct(s.clone())),
                    Item::Enum(e) => (e.ident.to_string(), TypeKind::Enum(e.clone())),
                    Item::Type(t) => (t.ident.to_string(), TypeKind::Alias(t.clone())),
                    Item::Impl(i) => {
                        impls.push((m.path.clone(), i.clone()));
                        continue;
                    }
                    Item::Trait(t) => {
                        traits.push(t.ident.to_string());
                        continue;
                    }
                    Item::Const(c) => {
                        if let syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Int(n),
                            ..
                        }) = &*c.expr
                        {
                            if let Ok(v) = n.base10_parse::<usize>() {
                                consts.push((c.ident.to_string(), v));
                            }
                        }
                        continue;
                    }
                    _ => continue,
                };
                let attrs = match item {
                    Item::Struct(s) => &s.attrs,
                    Item::Enum(e) => &e.attrs,
                    _ => &Vec::new(),
                };
                if derives(attrs, "Default") {
                    defaults.push(name.clone());
                }
                let public = match item {
                    Item::Struct(s) => matches!(s.vis, syn::Visibility::Public(_)),
                    Item::Enum(e) => matches!(e.vis, syn::Visibility::Public(_)),
                    Item::Type(t) => matches!(t.vis, syn::Visibility::Public(_)),
                    _ => false,
                };
                items.push(TypeItem {
                    module: m.path.clone(),
                    name,
                    kind,
                    reachable: public && m.public,
                });
            }
        }
        Declared {
            items,
            impls,
            defaults,
            traits,
            consts,
        }
    }
}

/// The last identifier of an impl block's self type.
fn impl_type_name(imp: &syn::ItemImpl) -> Option<String> {
    match &*imp.self_ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// Whether `#[derive(…)]` among `attrs` names `name`.
fn derives(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .any(|a| {
            let mut found = false;
            let _ = a.parse_nested_meta(|m| {
                found |= m.path.segments.last().is_some_and(|s| s.ident == name);
                Ok(())
            });
            found
        })
}
