//! The module map in the README is the dependency order of `src/`: every module is listed
//! under "How it works", and a module uses only modules listed before it (which also rules out
//! cycles). Paths are read with syn from `use` items and from every path in the code that
//! starts with `crate::`; code inside macro calls (the `quote!` templates of generated code)
//! is not Rust of this crate and is not read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The modules of the README's map, in order: the `- `name.rs`:` bullets of "How it works".
fn documented_order() -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md is readable");
    let section = readme
        .split("\n## How it works")
        .nth(1)
        .expect("the README has a \"How it works\" section");
    let section = section.split("\n## ").next().unwrap_or_default();
    section
        .lines()
        .filter_map(|l| l.strip_prefix("- `"))
        .filter_map(|l| l.split_once(".rs`"))
        .map(|(name, _)| name.to_string())
        .filter(|name| !name.contains('/'))
        .collect()
}

/// The top-level module of each file under `src/`: `src/lab/blame.rs` belongs to `lab`.
fn source_files() -> Vec<(String, PathBuf)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&src).expect("under src/");
                let first = rel.components().next().expect("a file name");
                let name = Path::new(first.as_os_str())
                    .file_stem()
                    .expect("a file stem")
                    .to_string_lossy()
                    .into_owned();
                out.push((name, path));
            }
        }
    }
    out.sort();
    out
}

/// The modules named by `crate::<module>` in a file.
#[derive(Default)]
struct CrateUses(BTreeSet<String>);

impl<'ast> Visit<'ast> for CrateUses {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if let syn::UseTree::Path(p) = &item.tree {
            if p.ident == "crate" {
                let mut firsts = Vec::new();
                use_tree_firsts(&p.tree, &mut firsts);
                self.0.extend(firsts);
            }
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let mut segments = path.segments.iter();
        if let (Some(first), Some(second)) = (segments.next(), segments.next()) {
            if first.ident == "crate" {
                self.0.insert(second.ident.to_string());
            }
        }
        syn::visit::visit_path(self, path);
    }
}

/// The first names under `use crate::…`: `crate::{a::X, b}` names `a` and `b`.
fn use_tree_firsts(tree: &syn::UseTree, out: &mut Vec<String>) {
    match tree {
        syn::UseTree::Path(p) => out.push(p.ident.to_string()),
        syn::UseTree::Name(n) => out.push(n.ident.to_string()),
        syn::UseTree::Rename(r) => out.push(r.ident.to_string()),
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| use_tree_firsts(t, out)),
        syn::UseTree::Glob(_) => {}
    }
}

#[test]
fn modules_use_only_modules_listed_before_them() {
    let order = documented_order();
    assert!(
        order.len() > 10,
        "the README's module map was not found: {order:?}"
    );
    let rank: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, m)| (m.as_str(), i))
        .collect();
    let mut wrong = Vec::new();
    for (module, file) in source_files() {
        // The crate root and the binary are not stages.
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(&at) = rank.get(module.as_str()) else {
            wrong.push(format!("src/{module}.rs is not in the README's module map"));
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        let ast = syn::parse_file(&text).expect("source files parse");
        let mut uses = CrateUses::default();
        uses.visit_file(&ast);
        for used in uses.0.iter().filter(|u| **u != module) {
            match rank.get(used.as_str()) {
                Some(&u) if u < at => {}
                Some(_) => wrong.push(format!(
                    "{} uses `crate::{used}`, which the README lists after `{module}`",
                    file.display()
                )),
                None => wrong.push(format!(
                    "{} uses `crate::{used}`, which is not in the README's module map",
                    file.display()
                )),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn crate_paths_are_found_in_uses_and_code() {
    let ast = syn::parse_file(
        "use crate::{a::X, b}; use std::fmt; fn f() { crate::c::g(); let _ = quote!(crate::d::h); }",
    )
    .unwrap();
    let mut uses = CrateUses::default();
    uses.visit_file(&ast);
    let found: Vec<&str> = uses.0.iter().map(String::as_str).collect();
    assert_eq!(found, ["a", "b", "c"]);
}
