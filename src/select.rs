//! Changed functions: parses the crate with syn, maps files to module paths, and picks every function a changed line touches.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{
    Attribute, Expr, ExprLit, ExprUnary, ImplItem, Item, ItemImpl, ItemMod, Lit, Meta, Token, Type,
    UnOp, Visibility,
};

use crate::diff::{ChangeSet, FileChange};
use crate::error::{Error, Result};
use crate::source::{self, Edition, ParseError};

mod pattern;
use crate::source::{BuildOutputs, CrateSource};
pub use pattern::{validate as validate_pattern, FnPattern};

/// One module of the crate, file or inline, reachable from the crate root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Module path from the crate root; empty for the root itself.
    pub path: Vec<String>,
    /// Absolute path of the file that holds the module's items.
    pub file: PathBuf,
    /// For an inline `mod x { … }`: the 1-based line and 0-based column (in chars) of its
    /// closing brace, where injected code goes. `None` for a file module (code goes at the end).
    pub inline_close: Option<(usize, usize)>,
    /// The `#[cfg(…)]` attributes on this module's `mod` declaration, as source text
    /// (e.g. `#[cfg(feature = "x")]`), so a re-export of it can carry the same condition.
    pub cfg_attrs: Vec<String>,
    /// The module is test code (`#[cfg(test)]`, or inside such a module).
    pub is_test: bool,
    /// Other crates can name items in it: it and every module above it are declared `pub`.
    pub public: bool,
    /// Why its file could not be read as Rust, when it could not: its items are unknown.
    pub unparsed: Option<ParseError>,
    /// The `pub use` items among its own items, for finding a function by a re-export path.
    pub reexports: Vec<Reexport>,
    /// For a file brought in with `include!`: the file of the module it is part of, where code
    /// for its items is injected (the included file may be generated at build time).
    pub included_in: Option<PathBuf>,
    /// Its file is one a build script makes (missing, or only in `OUT_DIR`): running the build
    /// script would tell what it holds.
    pub needs_build: bool,
    /// Its own items, parsed once by the scan: the file's for a file module, the braces' for
    /// an inline one (found by position, so two cfg'd `mod imp { … }` stay apart).
    pub items: Vec<Item>,
}

/// One name a `pub use` makes visible in a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reexport {
    /// The name it is visible under; `None` for a glob (`pub use a::*`).
    pub name: Option<String>,
    /// The path it names, from the crate root (for a glob: the module whose items it takes).
    pub target: Vec<String>,
}

/// Where a function is declared.
#[derive(Debug, Clone)]
pub enum FnKind {
    /// A free function in a module.
    Free,
    /// A function in an inherent `impl Type { … }` block.
    Inherent {
        self_ty: Box<syn::Type>,
        impl_generics: syn::Generics,
    },
    /// A function in a trait impl `impl Trait for Type { … }`.
    TraitImpl {
        self_ty: Box<syn::Type>,
        trait_path: syn::Path,
        impl_generics: syn::Generics,
    },
}

/// Literal values found in a function body, to seed the engines with the values the code
/// compares against.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Literals {
    pub ints: Vec<i128>,
    pub floats: Vec<f64>,
    pub strs: Vec<String>,
    pub bytes: Vec<Vec<u8>>,
    pub chars: Vec<char>,
    /// Lengths the code compares a `.len()` against (`s.len() != 60`, `v.len() < 6`), for
    /// strings and sequences of exactly, just under and just over that length.
    pub lens: Vec<usize>,
}

impl Literals {
    /// Adds `other`'s values after this one's own, each list kept to `cap` entries.
    pub fn merge(&mut self, other: &Literals, cap: usize) {
        fn extend<T: PartialEq + Clone>(list: &mut Vec<T>, more: &[T], cap: usize) {
            for v in more {
                if list.len() >= cap {
                    break;
                }
                if !list.contains(v) {
                    list.push(v.clone());
                }
            }
        }
        extend(&mut self.ints, &other.ints, cap);
        for f in &other.floats {
            if self.floats.len() < cap && !self.floats.iter().any(|v| v.to_bits() == f.to_bits()) {
                self.floats.push(*f);
            }
        }
        extend(&mut self.strs, &other.strs, cap);
        extend(&mut self.bytes, &other.bytes, cap);
        extend(&mut self.chars, &other.chars, cap);
        extend(&mut self.lens, &other.lens, cap);
    }

    pub fn is_empty(&self) -> bool {
        self.ints.is_empty()
            && self.floats.is_empty()
            && self.strs.is_empty()
            && self.bytes.is_empty()
            && self.chars.is_empty()
            && self.lens.is_empty()
    }
}

/// A function that the change touched (or that `--function` named).
#[derive(Debug, Clone)]
pub struct ChangedFn {
    /// Module path of the module the function is declared in (for methods: the module of the impl).
    pub module: Vec<String>,
    /// The function's own name.
    pub name: String,
    pub kind: FnKind,
    /// Path for reports: `crate_name::a::b::name`, or `crate_name::a::Type::name` for methods
    /// (the type printed without generics).
    pub display_path: String,
    /// Absolute path of the file it is in.
    pub file: PathBuf,
    /// 1-based line of the `fn` signature's first token (after attributes) and of the body's closing brace.
    pub line: usize,
    pub end_line: usize,
    pub sig: syn::Signature,
    /// Declared with any `pub` visibility.
    pub is_pub: bool,
    /// Other crates can call it by its path: declared plain `pub`, in a public module.
    pub exported: bool,
    /// Declared plain `pub` (or a trait impl's method), whatever its module.
    pub plain_pub: bool,
    /// The doc comment text, lines joined with `\n`.
    pub doc: String,
    /// `#[cfg(…)]` attributes on the function (and on its impl block), as source text.
    pub cfg_attrs: Vec<String>,
    pub literals: Literals,
    /// Why the function cannot be tested at all, when that is known from its declaration alone
    /// (test code, `extern` block item, …). `plan` decides the rest.
    pub skip: Option<String>,
    /// The names of the functions and methods its body calls (last path segment), for finding
    /// the callers of a changed helper and the callees whose literals it is seeded with.
    pub calls: BTreeSet<String>,
    /// The same, told apart: free functions and methods.
    pub called: Calls,
}

/// Most literal values kept per kind: enough to seed the engines, bounded for huge functions.
const MAX_LITERALS: usize = 64;

/// Longer string literals are messages or data blobs, not values worth trying as inputs.
const MAX_LITERAL_BYTES: usize = 256;

/// Attributes (by their last path segment) that make a function a test rather than code under test.
const TEST_ATTRS: &[&str] = &[
    "test",
    "bench",
    "rstest",
    "test_case",
    "quickcheck",
    "wasm_bindgen_test",
];

/// How deep module declarations are looked for inside nested macro bodies.
const MAX_MACRO_DEPTH: usize = 3;

/// Skip reason for `async fn`: a harness would need an executor.
const SKIP_ASYNC: &str = "async functions are not supported yet";
/// Skip reason for `unsafe fn`: random inputs do not respect its safety contract.
const SKIP_UNSAFE: &str =
    "unsafe function: calling it with arbitrary inputs may be undefined behaviour";

/// Walks every module reachable from the crate root. A file that cannot be parsed, or a `mod x;`
/// without its file, is recorded with the reason in `Module::unparsed`, and the walk goes on
/// without what it declares: one such file never stops the run.
pub fn scan_modules(src: &CrateSource) -> Vec<Module> {
    let root = clean_path(&src.root_file);
    let dir = ModDir {
        dir: parent_dir(&root),
        relative: None,
    };
    let mut scanner = Scanner {
        modules: Vec::new(),
        stack: Vec::new(),
        files: FileCache::new(src.edition),
        edition: src.edition,
        built: src.built.clone(),
    };
    let parent = Parent {
        path: &[],
        file: &root,
        dir: &dir,
        is_test: false,
        public: true,
        gated: false,
    };
    scanner.file_module(&parent, Vec::new(), &root, dir.clone(), Vec::new(), None);
    scanner.modules
}

/// The changed files whose functions cannot be known because the file did not parse, with the
/// parser's message.
pub fn unparsed_changed(
    modules: &[Module],
    changes: &ChangeSet,
    repo_root: &Path,
) -> Result<Vec<(PathBuf, ParseError)>> {
    let changed = changed_files(changes, repo_root)?;
    let mut out: Vec<(PathBuf, ParseError)> = Vec::new();
    for m in modules {
        // An `include!` of a file the build makes is noted on the including file, which parsed.
        let on_includer = m.included_in.as_ref() == Some(&m.file);
        if let (Some(e), false) = (&m.unparsed, on_includer) {
            if changed.contains_key(&canonical(&m.file)) && !out.iter().any(|(f, _)| f == &m.file) {
                out.push((m.file.clone(), e.clone()));
            }
        }
    }
    Ok(out)
}

/// A macro the change touched: a `macro_rules!` definition, or a macro called where items go.
/// The functions it generates are not read, since the source is read without expanding macros.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedMacro {
    /// `name!`, after the module path from the crate root (`text::make!`).
    pub path: String,
    pub file: PathBuf,
    /// 1-based line of the definition or the call.
    pub line: usize,
    /// A `macro_rules!` definition, not a call.
    pub definition: bool,
}

impl ChangedMacro {
    /// Why what it generates is not tested.
    pub fn reason(&self) -> String {
        let name = self.path.rsplit("::").next().unwrap_or(&self.path);
        let what = match self.definition {
            true => format!(
                "the change is in the macro definition `macro_rules! {}`",
                name.trim_end_matches('!')
            ),
            false => format!("the change is in a call of `{name}` where items go"),
        };
        format!("{what}: functions a macro generates are not tested (the source is read as written, macros unexpanded)")
    }
}

/// The macro definitions and item-position macro calls, outside test code, whose span meets a
/// changed line.
pub fn changed_macros(
    modules: &[Module],
    changes: &ChangeSet,
    repo_root: &Path,
) -> Result<Vec<ChangedMacro>> {
    let changed = changed_files(changes, repo_root)?;
    let mut out = Vec::new();
    for module in readable(modules) {
        let Some(change) = changed.get(&canonical(&module.file)) else {
            continue;
        };
        for item in &module.items {
            let Item::Macro(m) = item else { continue };
            let (start, end) = (first_line(m), m.span().end().line);
            if is_test_code(&m.attrs) || !change.touches(start, end) {
                continue;
            }
            let name = match &m.ident {
                Some(ident) => ident.to_string(),
                None => m
                    .mac
                    .path
                    .segments
                    .last()
                    .map(|s| s.ident.to_string())
                    .unwrap_or_default(),
            };
            let path = module
                .path
                .iter()
                .cloned()
                .chain([format!("{name}!")])
                .collect::<Vec<_>>();
            out.push(ChangedMacro {
                path: path.join("::"),
                file: module.file.clone(),
                line: start,
                definition: m.ident.is_some(),
            });
        }
    }
    Ok(out)
}

/// The functions whose span meets a changed line. `repo_root` is what the paths in `changes`
/// are relative to.
pub fn select_changed(
    src: &CrateSource,
    modules: &[Module],
    changes: &ChangeSet,
    repo_root: &Path,
) -> Result<Vec<ChangedFn>> {
    let changed = changed_files(changes, repo_root)?;
    let mut out = Vec::new();
    for module in readable(modules) {
        let Some(change) = changed.get(&canonical(&module.file)) else {
            continue;
        };
        out.extend(module_fns(src, module, &module.items, &mut |c| {
            change.touches(c.start, c.end)
        }));
    }
    Ok(sorted_unique(out))
}

/// Every function of the crate outside test code.
pub fn all_functions(src: &CrateSource, modules: &[Module]) -> Vec<ChangedFn> {
    let mut out = Vec::new();
    for module in readable(modules) {
        out.extend(module_fns(src, module, &module.items, &mut |_| true));
    }
    sorted_unique(out)
}

/// The modules outside test code whose items could be read.
fn readable(modules: &[Module]) -> impl Iterator<Item = &Module> {
    modules
        .iter()
        .filter(|m| !m.is_test && m.unparsed.is_none())
}

/// What a body calls, by the callee's last path segment: free functions (`f(…)`, `a::f(…)`,
/// `iter.map(helper)`) and methods (`x.f(…)`, `Type::f(…)`). Names bound locally (`let value
/// = …`, parameters, closure arguments) are not calls of a function of that name.
#[derive(Debug, Clone, Default)]
pub struct Calls {
    pub free: BTreeSet<String>,
    pub methods: BTreeSet<String>,
}

fn called_names(sig: &syn::Signature, block: &syn::Block) -> Calls {
    #[derive(Default)]
    struct Walk {
        calls: Calls,
        locals: BTreeSet<String>,
    }
    impl Walk {
        fn path(&mut self, path: &syn::Path) {
            let segs: Vec<String> = path
                .segments
                .iter()
                .map(|s| unraw(&s.ident.to_string()).to_string())
                .collect();
            let Some((last, front)) = segs.split_last() else {
                return;
            };
            let on_type = front
                .last()
                .is_some_and(|t| t == "Self" || t.starts_with(|c: char| c.is_uppercase()));
            if on_type {
                self.calls.methods.insert(last.clone());
            } else if !(front.is_empty() && self.locals.contains(last)) {
                self.calls.free.insert(last.clone());
            }
        }
    }
    impl<'ast> Visit<'ast> for Walk {
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            self.calls
                .methods
                .insert(unraw(&m.method.to_string()).to_string());
            visit::visit_expr_method_call(self, m);
        }
        // A path called, or passed as a value (`iter.map(helper)`), calls it too.
        fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
            self.path(&p.path);
        }
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.locals.insert(unraw(&p.ident.to_string()).to_string());
            visit::visit_pat_ident(self, p);
        }
    }
    let mut walk = Walk::default();
    // Bindings first, so a use before a later `let` of the same name is still a local's.
    for input in &sig.inputs {
        if let syn::FnArg::Typed(t) = input {
            walk.visit_pat(&t.pat);
        }
    }
    struct Bindings<'a>(&'a mut BTreeSet<String>);
    impl<'ast> Visit<'ast> for Bindings<'_> {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.insert(unraw(&p.ident.to_string()).to_string());
            visit::visit_pat_ident(self, p);
        }
    }
    Bindings(&mut walk.locals).visit_block(block);
    walk.visit_block(block);
    walk.calls
}

/// What `--function` patterns named in one crate.
#[derive(Debug, Default)]
pub struct Named {
    pub functions: Vec<ChangedFn>,
    /// The patterns that named nothing here, each with the crate's closest names.
    pub unmatched: Vec<(String, Vec<String>)>,
}

/// The functions named by `--function` patterns, and the patterns that named none.
pub fn select_by_path(src: &CrateSource, modules: &[Module], patterns: &[String]) -> Result<Named> {
    let all = all_functions(src, modules);
    let mut named = Named::default();
    for text in patterns {
        let pattern = FnPattern::parse(text).map_err(Error::Usage)?;
        let hits = pattern.select(src, modules, &all);
        if hits.is_empty() {
            named
                .unmatched
                .push((text.clone(), pattern.closest(src, &all)));
        }
        named.functions.extend(hits.into_iter().cloned());
    }
    named.functions = sorted_unique(named.functions);
    Ok(named)
}

/// Whether other crates can call `f`: exported from its own module, or declared `pub` in a
/// private module that a public module re-exports (`pub use inner::parse;`, `pub use
/// inner::Table;` for its methods, `pub use inner::*;`).
pub fn public_api(modules: &[Module], f: &ChangedFn) -> bool {
    if f.exported {
        return true;
    }
    if !f.plain_pub {
        return false;
    }
    let mut item = f.module.clone();
    match &f.kind {
        FnKind::Free => item.push(unraw(&f.name).to_string()),
        FnKind::Inherent { self_ty, .. } | FnKind::TraitImpl { self_ty, .. } => {
            item.push(type_name(self_ty))
        }
    }
    modules
        .iter()
        .filter(|m| m.public && !m.is_test)
        .flat_map(|m| &m.reexports)
        .any(|r| match &r.name {
            Some(_) => r.target == item || r.target == f.module,
            None => r.target == f.module,
        })
}

/// The files of the crate whose functions could not be read, each with the reason.
pub fn unparsed_files(modules: &[Module]) -> Vec<String> {
    modules
        .iter()
        .filter_map(|m| {
            m.unparsed
                .as_ref()
                .map(|e| format!("{}: {e}", m.file.display()))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Module scan

/// Where a module's `mod x;` children are looked up, following rustc's rules.
#[derive(Debug, Clone)]
struct ModDir {
    /// The directory `mod x;` and `#[path]` are resolved against.
    dir: PathBuf,
    /// Set for a non-mod-rs file `a.rs`: its children live one level down, in `a/`, but a
    /// `#[path]` on them stays relative to `dir`.
    relative: Option<String>,
}

/// The module a `mod` declaration appears in.
struct Parent<'a> {
    path: &'a [String],
    file: &'a Path,
    dir: &'a ModDir,
    is_test: bool,
    public: bool,
    /// Some enclosing declaration carries a `#[cfg]`, so a missing file may be compiled out.
    gated: bool,
}

/// The walk over `mod` declarations from the crate root.
struct Scanner {
    modules: Vec<Module>,
    /// Files on the current chain of declarations, to stop a `#[path]` cycle.
    stack: Vec<PathBuf>,
    files: FileCache,
    edition: Edition,
    built: Option<BuildOutputs>,
}

impl Scanner {
    /// Records the file module `file` (declared in `decl`) and walks its items. `included_in`
    /// is set for a file brought into the module with `include!`.
    fn file_module(
        &mut self,
        decl: &Parent,
        path: Vec<String>,
        file: &Path,
        dir: ModDir,
        cfg_attrs: Vec<String>,
        included_in: Option<PathBuf>,
    ) {
        let ast = if self.stack.iter().any(|f| f == file) {
            Err(ParseError {
                line: 0,
                column: 0,
                message: format!(
                    "circular module declaration: {} includes itself",
                    file.display()
                ),
            })
        } else {
            self.files.get(file)
        };
        let is_test = decl.is_test;
        let index = self.modules.len();
        self.modules.push(Module {
            path: path.clone(),
            file: file.to_path_buf(),
            inline_close: None,
            cfg_attrs,
            is_test,
            public: decl.public,
            unparsed: ast.as_ref().err().cloned(),
            reexports: Vec::new(),
            included_in,
            needs_build: false,
            items: Vec::new(),
        });
        let Ok(ast) = ast else { return };
        self.modules[index].reexports = reexports(&ast.items, &path, self.edition);
        self.modules[index].items = ast.items.clone();
        self.stack.push(file.to_path_buf());
        let me = Parent {
            path: &path,
            file,
            dir: &dir,
            is_test,
            public: decl.public,
            gated: decl.gated,
        };
        self.items(&me, &ast.items);
        self.stack.pop();
    }

    /// Follows every `mod` declaration and `include!` among one module's items.
    fn items(&mut self, parent: &Parent, items: &[Item]) {
        for item in items {
            match item {
                Item::Mod(m) => self.declared_mod(parent, m),
                Item::Macro(m) if m.mac.path.is_ident("include") && !is_test_code(&m.attrs) => {
                    self.included(parent, m)
                }
                Item::Macro(m) if !is_test_code(&m.attrs) => {
                    self.macro_mods(parent, m.mac.tokens.clone(), 0)
                }
                _ => {}
            }
        }
    }

    /// `mod x;` declarations inside macro calls and `macro_rules!` bodies (`cfg_if! { if
    /// #[cfg(unix)] { mod unix; } … }`, `cfg_time! { pub mod time; }`): rustc sees them once the
    /// macro expands. They count as behind a `#[cfg]`, so a missing file is no error; a
    /// function in a module the configuration leaves out is said to be compiled out when built.
    fn macro_mods(&mut self, parent: &Parent, tokens: TokenStream, depth: usize) {
        if depth > MAX_MACRO_DEPTH {
            return;
        }
        if let Ok(file) = syn::parse2::<syn::File>(tokens.clone()) {
            for item in &file.items {
                match item {
                    Item::Mod(m) if m.content.is_none() && !is_test_code(&m.attrs) => {
                        let mut path = parent.path.to_vec();
                        path.push(m.ident.to_string());
                        if self.modules.iter().any(|known| known.path == path) {
                            continue;
                        }
                        let gated = Parent {
                            gated: true,
                            ..*parent
                        };
                        self.declared_mod(&gated, m);
                    }
                    Item::Macro(inner) => {
                        self.macro_mods(parent, inner.mac.tokens.clone(), depth + 1)
                    }
                    _ => {}
                }
            }
            return;
        }
        for tree in tokens {
            if let TokenTree::Group(g) = tree {
                self.macro_mods(parent, g.stream(), depth + 1);
            }
        }
    }

    /// An item-level `include!("file.rs")`: the file's items belong to the module it is in.
    fn included(&mut self, parent: &Parent, m: &syn::ItemMacro) {
        let host = parent.file.to_path_buf();
        // The host module's own entry is the first one with its path: injection goes there.
        let file = match m.mac.parse_body::<syn::LitStr>() {
            Ok(lit) => Some(clean_path(&parent_dir(parent.file).join(lit.value()))),
            // `include!(concat!(env!("OUT_DIR"), "/types.rs"))`, once the build script ran.
            Err(_) => out_dir_file(&m.mac.tokens).and_then(|rel| {
                let out = &self.built.as_ref()?.out_dir;
                Some(out.join(rel.trim_start_matches('/')))
            }),
        };
        let file = match file.filter(|f| f.is_file()) {
            Some(f) => f,
            None => {
                let text = m.mac.tokens.to_string();
                self.modules.push(Module {
                    path: parent.path.to_vec(),
                    file: host.clone(),
                    inline_close: None,
                    cfg_attrs: Vec::new(),
                    is_test: parent.is_test,
                    public: parent.public,
                    unparsed: Some(ParseError {
                        line: m.mac.path.span().start().line,
                        column: m.mac.path.span().start().column + 1,
                        message: format!(
                            "`include!({text})` names a file the build makes, which is not there; its items are not read"
                        ),
                    }),
                    reexports: Vec::new(),
                    included_in: Some(host),
                    needs_build: true,
                    items: Vec::new(),
                });
                return;
            }
        };
        let dir = parent.dir.clone();
        let decl = Parent { ..*parent };
        self.file_module(
            &decl,
            parent.path.to_vec(),
            &file,
            dir,
            Vec::new(),
            Some(host),
        );
    }

    /// The first of rustc's candidate files that the build script wrote into the built copy
    /// of the package (a `mod generated;` whose file the build makes).
    fn in_built_copy(&self, tried: &[PathBuf]) -> Option<(PathBuf, ModDir)> {
        let built = self.built.as_ref()?;
        tried.iter().find_map(|t| {
            let copy = built
                .copy_dir
                .join(t.strip_prefix(&built.package_dir).ok()?);
            copy.is_file().then(|| {
                (
                    copy.clone(),
                    ModDir {
                        dir: parent_dir(&copy),
                        relative: None,
                    },
                )
            })
        })
    }

    /// Records the module `m` declares (inline or file) and everything under it.
    fn declared_mod(&mut self, parent: &Parent, m: &ItemMod) {
        let name = m.ident.to_string();
        let mut path = parent.path.to_vec();
        path.push(name.clone());
        let cfg_attrs = cfg_attrs(&m.attrs);
        let is_test = parent.is_test || has_test_cfg(&m.attrs);
        let gated = parent.gated || !cfg_attrs.is_empty();
        let public = parent.public && matches!(m.vis, Visibility::Public(_));
        let path_attr = path_attr(&m.attrs);
        let bare = unraw(&name);
        let Some((brace, items)) = &m.content else {
            let child = Parent {
                is_test,
                public,
                gated,
                ..*parent
            };
            let found = resolve_file(parent.dir, bare, path_attr.as_deref())
                .or_else(|tried| self.in_built_copy(&tried).ok_or(tried));
            match found {
                Ok((file, dir)) => self.file_module(&child, path, &file, dir, cfg_attrs, None),
                // A module compiled out in this configuration may have no file.
                Err(_) if gated => {}
                Err(tried) => self.modules.push(Module {
                    file: tried[0].clone(),
                    unparsed: Some(missing_module(&path, parent.file, &tried)),
                    path,
                    inline_close: None,
                    cfg_attrs,
                    is_test,
                    public,
                    reexports: Vec::new(),
                    included_in: None,
                    needs_build: true,
                    items: Vec::new(),
                }),
            }
            return;
        };
        let inline_close = Some(close_position(brace));
        let file = parent.file.to_path_buf();
        self.modules.push(Module {
            path: path.clone(),
            file,
            inline_close,
            cfg_attrs,
            is_test,
            public,
            unparsed: None,
            reexports: reexports(items, &path, self.edition),
            included_in: None,
            needs_build: false,
            items: items.clone(),
        });
        let dir = inline_dir(parent.dir, bare, path_attr.as_deref());
        let me = Parent {
            path: &path,
            file: parent.file,
            dir: &dir,
            is_test,
            public,
            gated,
        };
        self.items(&me, items)
    }
}

/// The file an `include!(concat!(env!("OUT_DIR"), "/x.rs"))` names inside `OUT_DIR`.
fn out_dir_file(tokens: &TokenStream) -> Option<String> {
    let text = tokens.to_string();
    if !text.contains("OUT_DIR") {
        return None;
    }
    let mut parts = Vec::new();
    collect_strings(tokens.clone(), &mut parts);
    let rel: String = parts.into_iter().filter(|p| p != "OUT_DIR").collect();
    (!rel.is_empty()).then_some(rel)
}

fn collect_strings(tokens: TokenStream, out: &mut Vec<String>) {
    for t in tokens {
        match t {
            TokenTree::Literal(l) => {
                if let Lit::Str(s) = Lit::new(l) {
                    out.push(s.value());
                }
            }
            TokenTree::Group(g) => collect_strings(g.stream(), out),
            _ => {}
        }
    }
}

/// The names the `pub use` items among `items` (in module `module`) make visible, with the
/// paths they stand for from the crate root.
fn reexports(items: &[Item], module: &[String], edition: Edition) -> Vec<Reexport> {
    let mut out = Vec::new();
    for item in items {
        let Item::Use(u) = item else { continue };
        if matches!(u.vis, Visibility::Inherited) || is_test_code(&u.attrs) {
            continue;
        }
        let mut flat = Vec::new();
        flatten_use(&u.tree, Vec::new(), &mut flat);
        for (name, path) in flat {
            if let Some(target) =
                absolute_use_path(&path, module, u.leading_colon.is_some(), edition)
            {
                out.push(Reexport { name, target });
            }
        }
    }
    out
}

/// The `(name, path)` pairs of a use tree; a glob has no name and the path of its module.
fn flatten_use(
    tree: &syn::UseTree,
    prefix: Vec<String>,
    out: &mut Vec<(Option<String>, Vec<String>)>,
) {
    let with = |ident: &syn::Ident| {
        let mut p = prefix.clone();
        p.push(unraw(&ident.to_string()).to_string());
        p
    };
    match tree {
        syn::UseTree::Path(p) => flatten_use(&p.tree, with(&p.ident), out),
        syn::UseTree::Name(n) if n.ident == "self" => {
            if let Some(last) = prefix.last() {
                out.push((Some(last.clone()), prefix.clone()));
            }
        }
        syn::UseTree::Name(n) => out.push((
            Some(unraw(&n.ident.to_string()).to_string()),
            with(&n.ident),
        )),
        syn::UseTree::Rename(r) => {
            let path = if r.ident == "self" {
                prefix.clone()
            } else {
                with(&r.ident)
            };
            out.push((Some(unraw(&r.rename.to_string()).to_string()), path));
        }
        syn::UseTree::Glob(_) => out.push((None, prefix)),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                flatten_use(t, prefix.clone(), out);
            }
        }
    }
}

/// A use path made absolute from the crate root: `crate::`, `self::` and `super::` resolved; a
/// plain path is relative to the module (2018 and later) or to the crate root (2015). `None`
/// for a path that leaves the crate (`::other_crate::…` in 2018, `super` past the root).
fn absolute_use_path(
    path: &[String],
    module: &[String],
    leading_colon: bool,
    edition: Edition,
) -> Option<Vec<String>> {
    let first = path.first()?;
    if leading_colon {
        return (edition == Edition::E2015).then(|| path.to_vec());
    }
    let mut out: Vec<String>;
    let mut rest = path;
    match first.as_str() {
        "crate" => {
            out = Vec::new();
            rest = &path[1..];
        }
        "self" => {
            out = module.to_vec();
            rest = &path[1..];
        }
        "super" => {
            out = module.to_vec();
            while rest.first().map(String::as_str) == Some("super") {
                out.pop()?;
                rest = &rest[1..];
            }
        }
        _ if edition == Edition::E2015 => out = Vec::new(),
        _ => out = module.to_vec(),
    }
    out.extend(rest.iter().cloned());
    Some(out)
}

/// Why a `mod x;` has no module: rustc's candidate files are all missing.
fn missing_module(path: &[String], declared_in: &Path, tried: &[PathBuf]) -> ParseError {
    let tried: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
    ParseError {
        line: 0,
        column: 0,
        message: format!(
            "module `{}` declared in {} has no source file (looked for {}); if the build generates it, its items are not read",
            path.join("::"),
            declared_in.display(),
            tried.join(" and ")
        ),
    }
}

/// The file of `mod name;` and where its own children live, or the candidates that were missing.
fn resolve_file(
    dir: &ModDir,
    name: &str,
    path_attr: Option<&str>,
) -> std::result::Result<(PathBuf, ModDir), Vec<PathBuf>> {
    if let Some(p) = path_attr {
        // rustc treats every `#[path]` file like a mod.rs: its children are its siblings.
        let file = clean_path(&dir.dir.join(p));
        return match file.is_file() {
            true => Ok((
                file.clone(),
                ModDir {
                    dir: parent_dir(&file),
                    relative: None,
                },
            )),
            false => Err(vec![file]),
        };
    }
    let mut base = dir.dir.clone();
    base.extend(&dir.relative);
    let flat = base.join(format!("{name}.rs"));
    let nested = base.join(name).join("mod.rs");
    if flat.is_file() {
        Ok((
            flat,
            ModDir {
                dir: base,
                relative: Some(name.to_string()),
            },
        ))
    } else if nested.is_file() {
        Ok((
            nested,
            ModDir {
                dir: base.join(name),
                relative: None,
            },
        ))
    } else {
        Err(vec![flat, nested])
    }
}

/// Where the children of an inline `mod name { … }` live.
fn inline_dir(dir: &ModDir, name: &str, path_attr: Option<&str>) -> ModDir {
    // On an inline module rustc takes `#[path]` as a directory, relative to the current one.
    if let Some(p) = path_attr {
        return ModDir {
            dir: clean_path(&dir.dir.join(p)),
            relative: None,
        };
    }
    let mut base = dir.dir.clone();
    base.extend(&dir.relative);
    ModDir {
        dir: base.join(name),
        relative: None,
    }
}

/// Position of the closing `}` of a braced block: 1-based line, 0-based column in chars.
fn close_position(brace: &syn::token::Brace) -> (usize, usize) {
    let end = brace.span.close().end();
    (end.line, end.column.saturating_sub(1))
}

/// The value of a `#[path = "…"]` attribute.
///
/// `#[cfg_attr(pred, path = "…")]` counts when its predicate holds on the host (features count
/// as off), so `#[cfg_attr(feature = "x", path = "a.rs")] #[cfg_attr(not(feature = "x"), path =
/// "b.rs")]` gives `b.rs`.
fn path_attr(attrs: &[Attribute]) -> Option<String> {
    let plain = attrs
        .iter()
        .find(|a| a.path().is_ident("path"))
        .and_then(|a| match &a.meta {
            Meta::NameValue(nv) => str_value(&nv.value),
            _ => None,
        });
    plain.or_else(|| {
        attrs
            .iter()
            .filter(|a| a.path().is_ident("cfg_attr"))
            .find_map(|a| {
                let args = a
                    .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                    .ok()?;
                let mut args = args.into_iter();
                let pred = args.next()?;
                if !source::cfg_holds(&pred, source::host_cfgs()) {
                    return None;
                }
                args.find_map(|m| match m {
                    Meta::NameValue(nv) if nv.path.is_ident("path") => str_value(&nv.value),
                    _ => None,
                })
            })
    })
}

/// The value of a string literal expression.
fn str_value(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.value()),
        _ => None,
    }
}

/// The path without `.` components, so module files print and compare cleanly.
fn clean_path(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// The directory of a file (empty for a bare file name).
fn parent_dir(file: &Path) -> PathBuf {
    file.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// An identifier without its `r#` prefix, as it appears in file names and user patterns.
fn unraw(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// Parsed files by path, so a file shared by several modules is parsed once.
struct FileCache {
    edition: Edition,
    parsed: HashMap<PathBuf, std::result::Result<Rc<syn::File>, ParseError>>,
}

impl FileCache {
    fn new(edition: Edition) -> Self {
        FileCache {
            edition,
            parsed: HashMap::new(),
        }
    }

    /// The parsed file, reading and parsing it on first use.
    fn get(&mut self, path: &Path) -> std::result::Result<Rc<syn::File>, ParseError> {
        let edition = self.edition;
        self.parsed
            .entry(path.to_path_buf())
            .or_insert_with(|| source::parse_path(path, edition).map(Rc::new))
            .clone()
    }
}

// ---------------------------------------------------------------------------------------------
// Selection

/// Changed files by canonical absolute path; paths that no longer exist are dropped.
fn changed_files<'a>(
    changes: &'a ChangeSet,
    repo_root: &Path,
) -> Result<HashMap<PathBuf, &'a FileChange>> {
    let root = fs::canonicalize(repo_root).map_err(|e| {
        Error::io(
            format!("cannot resolve the repository root {}", repo_root.display()),
            e,
        )
    })?;
    Ok(changes
        .files
        .iter()
        .filter_map(|(rel, change)| fs::canonicalize(root.join(rel)).ok().map(|p| (p, change)))
        .collect())
}

/// The canonical form of a path, or the path itself when it cannot be resolved.
fn canonical(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// What a filter sees of a function before its full record is built.
struct Candidate {
    self_ty: Option<String>,
    name: String,
    /// First line of the item, its attributes and doc comment included.
    start: usize,
    /// Line of the body's closing brace.
    end: usize,
}

/// One function declaration, free or in an impl, with what its record needs.
struct FnDecl<'a> {
    attrs: &'a [Attribute],
    is_pub: bool,
    /// Declared plain `pub` (not `pub(crate)`), or a trait impl's method.
    is_plain_pub: bool,
    sig: &'a syn::Signature,
    block: &'a syn::Block,
    /// First line of the item, attributes included.
    start: usize,
}

/// The impl block around a method, or nothing for a free function.
struct ImplCtx<'a> {
    attrs: &'a [Attribute],
    kind: FnKind,
    type_name: String,
}

/// The non-test functions among one module's own items that `keep` accepts.
fn module_fns(
    src: &CrateSource,
    module: &Module,
    items: &[Item],
    keep: &mut dyn FnMut(&Candidate) -> bool,
) -> Vec<ChangedFn> {
    let mut out = Vec::new();
    for item in items {
        match item {
            Item::Fn(f) if !is_test_code(&f.attrs) => {
                let is_pub = !matches!(f.vis, Visibility::Inherited);
                let decl = FnDecl {
                    attrs: &f.attrs,
                    is_pub,
                    is_plain_pub: matches!(f.vis, Visibility::Public(_)),
                    sig: &f.sig,
                    block: &f.block,
                    start: first_line(f),
                };
                out.extend(consider(src, module, None, &decl, keep));
            }
            Item::Impl(imp) if !is_test_code(&imp.attrs) => {
                out.extend(impl_fns(src, module, imp, keep))
            }
            _ => {}
        }
    }
    out
}

/// The non-test methods of one impl block that `keep` accepts.
fn impl_fns(
    src: &CrateSource,
    module: &Module,
    imp: &ItemImpl,
    keep: &mut dyn FnMut(&Candidate) -> bool,
) -> Vec<ChangedFn> {
    let ctx = impl_ctx(imp);
    let mut out = Vec::new();
    for item in &imp.items {
        let ImplItem::Fn(f) = item else { continue };
        if is_test_code(&f.attrs) {
            continue;
        }
        let is_pub = imp.trait_.is_some() || !matches!(f.vis, Visibility::Inherited);
        let decl = FnDecl {
            attrs: &f.attrs,
            is_pub,
            is_plain_pub: imp.trait_.is_some() || matches!(f.vis, Visibility::Public(_)),
            sig: &f.sig,
            block: &f.block,
            start: first_line(f),
        };
        out.extend(consider(src, module, Some(&ctx), &decl, keep));
    }
    out
}

/// The kind and printable type name of an impl block's methods.
fn impl_ctx(imp: &ItemImpl) -> ImplCtx<'_> {
    let self_ty = imp.self_ty.clone();
    let impl_generics = imp.generics.clone();
    let kind = match &imp.trait_ {
        Some((_, trait_path, _)) => FnKind::TraitImpl {
            self_ty,
            trait_path: trait_path.clone(),
            impl_generics,
        },
        None => FnKind::Inherent {
            self_ty,
            impl_generics,
        },
    };
    ImplCtx {
        attrs: &imp.attrs,
        kind,
        type_name: type_name(&imp.self_ty),
    }
}

/// The record for `decl` when `keep` accepts it.
fn consider(
    src: &CrateSource,
    module: &Module,
    imp: Option<&ImplCtx>,
    decl: &FnDecl,
    keep: &mut dyn FnMut(&Candidate) -> bool,
) -> Option<ChangedFn> {
    let candidate = Candidate {
        self_ty: imp.map(|i| i.type_name.clone()),
        name: decl.sig.ident.to_string(),
        start: decl.start,
        end: decl.block.brace_token.span.close().start().line,
    };
    keep(&candidate).then(|| changed_fn(src, module, imp, decl, candidate))
}

/// The full record of one selected function.
fn changed_fn(
    src: &CrateSource,
    module: &Module,
    imp: Option<&ImplCtx>,
    decl: &FnDecl,
    c: Candidate,
) -> ChangedFn {
    let mut display = vec![src.name.clone()];
    display.extend(module.path.iter().cloned());
    display.extend(c.self_ty.clone());
    display.push(c.name.clone());
    let mut cfgs = imp.map(|i| cfg_attrs(i.attrs)).unwrap_or_default();
    cfgs.extend(cfg_attrs(decl.attrs));
    let called = called_names(decl.sig, decl.block);
    ChangedFn {
        module: module.path.clone(),
        name: c.name,
        kind: imp.map(|i| i.kind.clone()).unwrap_or(FnKind::Free),
        display_path: display.join("::"),
        file: module.file.clone(),
        line: decl.sig.fn_token.span.start().line,
        end_line: c.end,
        sig: decl.sig.clone(),
        is_pub: decl.is_pub,
        exported: decl.is_plain_pub && module.public && !module.is_test,
        plain_pub: decl.is_plain_pub,
        doc: doc_text(decl.attrs),
        cfg_attrs: cfgs,
        literals: collect_literals(decl.block),
        skip: skip_reason(decl.sig),
        calls: called.free.union(&called.methods).cloned().collect(),
        called,
    }
}

/// First line of an item, counting its attributes and doc comment.
fn first_line(item: &impl Spanned) -> usize {
    item.span().start().line
}

/// Why a function cannot be called from a generated harness, judged from its signature.
fn skip_reason(sig: &syn::Signature) -> Option<String> {
    if sig.asyncness.is_some() {
        Some(SKIP_ASYNC.to_string())
    } else if sig.unsafety.is_some() {
        Some(SKIP_UNSAFE.to_string())
    } else {
        None
    }
}

/// The name a method's self type is reported under: the last path segment without generics.
fn type_name(ty: &Type) -> String {
    match ty {
        Type::Path(p) if p.qself.is_none() => match p.path.segments.last() {
            Some(seg) => seg.ident.to_string(),
            None => source_text(ty),
        },
        Type::Reference(r) => type_name(&r.elem),
        Type::Paren(p) => type_name(&p.elem),
        Type::Group(g) => type_name(&g.elem),
        _ => source_text(ty),
    }
}

/// Results ordered by file and line, each function once (a file mounted at two module paths
/// keeps the first, which is the one reached first from the crate root).
fn sorted_unique(mut fns: Vec<ChangedFn>) -> Vec<ChangedFn> {
    fns.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    let mut seen = HashSet::new();
    fns.retain(|f| seen.insert((f.file.clone(), f.line, f.name.clone(), method_type(&f.kind))));
    fns
}

/// The self type name of a method, or nothing for a free function.
fn method_type(kind: &FnKind) -> Option<String> {
    match kind {
        FnKind::Free => None,
        FnKind::Inherent { self_ty, .. } | FnKind::TraitImpl { self_ty, .. } => {
            Some(type_name(self_ty))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Attributes

/// The `#[cfg(…)]` attributes among `attrs`, as source text.
fn cfg_attrs(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .map(source_text)
        .collect()
}

/// Source text as written, falling back to printed tokens when spans carry no source.
fn source_text(node: &(impl Spanned + ToTokens)) -> String {
    node.span()
        .source_text()
        .unwrap_or_else(|| node.to_token_stream().to_string())
}

/// Whether the attributes mark test code: a test attribute or a `#[cfg]` that needs `test`.
fn is_test_code(attrs: &[Attribute]) -> bool {
    has_test_cfg(attrs)
        || attrs.iter().any(|a| {
            a.path()
                .segments
                .last()
                .is_some_and(|s| TEST_ATTRS.contains(&s.ident.to_string().as_str()))
        })
}

/// Whether some `#[cfg(…)]` holds only when `test` is set.
fn has_test_cfg(attrs: &[Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .filter_map(|a| a.parse_args::<Meta>().ok())
        .any(|m| cfg_needs_test(&m))
}

/// Whether a cfg predicate implies `test` (`test`, `all(test, …)`, `any(test, all(test, …))`).
fn cfg_needs_test(meta: &Meta) -> bool {
    match meta {
        Meta::Path(p) => p.is_ident("test"),
        Meta::List(list) => {
            let Ok(nested) = list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            else {
                return false;
            };
            if list.path.is_ident("all") {
                nested.iter().any(cfg_needs_test)
            } else if list.path.is_ident("any") {
                !nested.is_empty() && nested.iter().all(cfg_needs_test)
            } else {
                false
            }
        }
        Meta::NameValue(_) => false,
    }
}

/// The doc comment text, one leading space trimmed per line, lines joined with `\n`.
fn doc_text(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        let Meta::NameValue(nv) = &attr.meta else {
            continue;
        };
        let Some(text) = str_value(&nv.value) else {
            continue;
        };
        // split, not lines(): an empty `///` line separates paragraphs and must stay.
        lines.extend(
            text.split('\n')
                .map(|l| l.strip_prefix(' ').unwrap_or(l).to_string()),
        );
    }
    lines.join("\n")
}

// ---------------------------------------------------------------------------------------------
// Literals

/// The literal values in a function body.
pub(crate) fn collect_literals(block: &syn::Block) -> Literals {
    let mut collector = LitCollector::default();
    collector.visit_block(block);
    collector.lits
}

/// Gathers literals from expressions, patterns and macro arguments.
#[derive(Default)]
struct LitCollector {
    lits: Literals,
}

impl<'ast> Visit<'ast> for LitCollector {
    /// A negated literal counts with both signs.
    fn visit_expr(&mut self, expr: &'ast Expr) {
        if let Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr: inner,
            ..
        }) = expr
        {
            if let Expr::Lit(lit) = &**inner {
                self.add(&lit.lit);
                self.add_negated(&lit.lit);
                return;
            }
        }
        visit::visit_expr(self, expr);
    }

    /// `x.len() OP n` and `n OP x.len()`: `n` is a length the code cares about.
    fn visit_expr_binary(&mut self, bin: &'ast syn::ExprBinary) {
        use syn::BinOp::*;
        if matches!(bin.op, Eq(_) | Ne(_) | Lt(_) | Le(_) | Gt(_) | Ge(_)) {
            for (a, b) in [(&*bin.left, &*bin.right), (&*bin.right, &*bin.left)] {
                if let (true, Some(n)) = (is_len_call(a), int_literal(b)) {
                    if n <= MAX_LEN_LITERAL {
                        push_unique(&mut self.lits.lens, n);
                    }
                }
            }
        }
        visit::visit_expr_binary(self, bin);
    }

    /// A literal in an expression, pattern, array length, ….
    fn visit_lit(&mut self, lit: &'ast Lit) {
        self.add(lit);
    }

    /// Macro arguments are unparsed tokens to syn, but `assert!(n < 10)` compares against values too.
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.add_tokens(mac.tokens.clone());
    }
}

impl LitCollector {
    /// Records one literal's value under its kind.
    fn add(&mut self, lit: &Lit) {
        let lits = &mut self.lits;
        match lit {
            Lit::Int(i) => {
                if let Ok(v) = i.base10_parse::<i128>() {
                    push_unique(&mut lits.ints, v);
                }
            }
            Lit::Float(f) => {
                if let Ok(v) = f.base10_parse::<f64>() {
                    push_float(&mut lits.floats, v);
                }
            }
            Lit::Str(s) => {
                let v = s.value();
                if v.len() <= MAX_LITERAL_BYTES {
                    push_unique(&mut lits.strs, v);
                }
            }
            Lit::ByteStr(b) => {
                let v = b.value();
                if v.len() <= MAX_LITERAL_BYTES {
                    push_unique(&mut lits.bytes, v);
                }
            }
            Lit::Byte(b) => push_unique(&mut lits.ints, i128::from(b.value())),
            Lit::Char(c) => push_unique(&mut lits.chars, c.value()),
            _ => {}
        }
    }

    /// Records the negation of a numeric literal.
    fn add_negated(&mut self, lit: &Lit) {
        match lit {
            Lit::Int(i) => {
                if let Some(v) = i.base10_parse::<i128>().ok().and_then(i128::checked_neg) {
                    push_unique(&mut self.lits.ints, v);
                }
            }
            Lit::Float(f) => {
                if let Ok(v) = f.base10_parse::<f64>() {
                    push_float(&mut self.lits.floats, -v);
                }
            }
            _ => {}
        }
    }

    /// Records the literals in a macro's tokens; a `-` right after an operator, a comma or the
    /// start counts as a sign.
    fn add_tokens(&mut self, tokens: TokenStream) {
        let mut sign_possible = true;
        let mut negate = false;
        for tt in tokens {
            match tt {
                TokenTree::Group(g) => {
                    self.add_tokens(g.stream());
                    (sign_possible, negate) = (false, false);
                }
                TokenTree::Punct(p) => {
                    negate = sign_possible && p.as_char() == '-';
                    sign_possible = true;
                }
                TokenTree::Literal(l) => {
                    let lit = Lit::new(l);
                    self.add(&lit);
                    if negate {
                        self.add_negated(&lit);
                    }
                    (sign_possible, negate) = (false, false);
                }
                TokenTree::Ident(_) => (sign_possible, negate) = (false, false),
            }
        }
    }
}

/// Longest length worth building inputs of from a `.len()` comparison.
const MAX_LEN_LITERAL: usize = 1 << 16;

/// `x.len()`, `x.chars().count()` or `x.as_bytes().len()`.
fn is_len_call(e: &Expr) -> bool {
    match e {
        Expr::MethodCall(m) => (m.method == "len" || m.method == "count") && m.args.is_empty(),
        Expr::Paren(p) => is_len_call(&p.expr),
        _ => false,
    }
}

/// The value of an unsuffixed or suffixed integer literal expression.
fn int_literal(e: &Expr) -> Option<usize> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse().ok(),
        Expr::Paren(p) => int_literal(&p.expr),
        _ => None,
    }
}

/// Appends `value` unless present or the list is full.
fn push_unique<T: PartialEq>(list: &mut Vec<T>, value: T) {
    if list.len() < MAX_LITERALS && !list.contains(&value) {
        list.push(value);
    }
}

/// Appends a float unless the same bits are present (so `-0.0` and `0.0` both stay).
fn push_float(list: &mut Vec<f64>, value: f64) {
    if list.len() < MAX_LITERALS && !list.iter().any(|v| v.to_bits() == value.to_bits()) {
        list.push(value);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Writes `text` to `root/rel`, creating directories.
    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// A crate named `demo` rooted at `root/src/lib.rs`.
    fn demo(root: &Path) -> CrateSource {
        CrateSource {
            name: "demo".into(),
            root_file: root.join("src/lib.rs"),
            edition: Edition::E2021,
            built: None,
        }
    }

    /// Module paths joined with `::`, each with its file relative to `root`.
    fn layout(modules: &[Module], root: &Path) -> Vec<(String, String)> {
        modules
            .iter()
            .map(|m| {
                (
                    m.path.join("::"),
                    m.file.strip_prefix(root).unwrap().display().to_string(),
                )
            })
            .collect()
    }

    /// A change set with added line ranges and deletion points for one file.
    fn change(rel: &str, added: &[(usize, usize)], deleted_at: &[usize]) -> ChangeSet {
        let fc = FileChange {
            added: added.to_vec(),
            deleted_at: deleted_at.to_vec(),
            is_new: false,
        };
        ChangeSet {
            base: None,
            files: BTreeMap::from([(PathBuf::from(rel), fc)]),
        }
    }

    /// Display paths of the selected functions.
    fn names(fns: &[ChangedFn]) -> Vec<&str> {
        fns.iter().map(|f| f.display_path.as_str()).collect()
    }

    /// Scans the crate at `root` and selects by `changes`.
    fn select(root: &Path, changes: &ChangeSet) -> Vec<ChangedFn> {
        let src = demo(root);
        let modules = scan_modules(&src);
        select_changed(&src, &modules, changes, root).unwrap()
    }

    /// Byte offset of a 1-based line and 0-based char column.
    fn offset(text: &str, (line, col): (usize, usize)) -> usize {
        let start: usize = text
            .split_inclusive('\n')
            .take(line - 1)
            .map(str::len)
            .sum();
        start + text[start..].char_indices().nth(col).unwrap().0
    }

    /// mod.rs and non-mod-rs files both nest their children correctly.
    #[test]
    fn nested_file_modules_in_both_styles() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "src/lib.rs", "mod a;\nmod b;\n");
        write(root, "src/a.rs", "mod c;\n");
        write(root, "src/a/c.rs", "mod e;\n");
        write(root, "src/a/c/e.rs", "");
        write(root, "src/b/mod.rs", "mod d;\n");
        write(root, "src/b/d.rs", "");
        let modules = scan_modules(&demo(root));
        let expected = [
            ("", "src/lib.rs"),
            ("a", "src/a.rs"),
            ("a::c", "src/a/c.rs"),
            ("a::c::e", "src/a/c/e.rs"),
            ("b", "src/b/mod.rs"),
            ("b::d", "src/b/d.rs"),
        ];
        let expected: Vec<_> = expected
            .iter()
            .map(|(p, f)| (p.to_string(), f.to_string()))
            .collect();
        assert_eq!(layout(&modules, root), expected);
        assert!(modules
            .iter()
            .all(|m| m.inline_close.is_none() && !m.is_test && m.cfg_attrs.is_empty()));
    }

    /// `#[path]` on file and inline modules resolves the way rustc does.
    #[test]
    fn path_attributes_follow_rustc() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let lib = "#[path = \"other/x_impl.rs\"] mod x;\nmod a;\nmod outer { mod inner; }\n#[path = \"w\"] mod inl { mod q; }\n";
        write(root, "src/lib.rs", lib);
        // A #[path] file behaves like mod.rs: its children are its siblings.
        write(root, "src/other/x_impl.rs", "mod y;\n");
        write(root, "src/other/y.rs", "");
        // In a non-mod-rs file, #[path] is relative to the file's own directory...
        write(
            root,
            "src/a.rs",
            "#[path = \"z.rs\"] mod z;\nmod m { mod n; }\n",
        );
        write(root, "src/z.rs", "");
        // ...while inline modules nest under the file's name.
        write(root, "src/a/m/n.rs", "");
        write(root, "src/outer/inner.rs", "");
        write(root, "src/w/q.rs", "");
        let modules = scan_modules(&demo(root));
        let expected = [
            ("", "src/lib.rs"),
            ("x", "src/other/x_impl.rs"),
            ("x::y", "src/other/y.rs"),
            ("a", "src/a.rs"),
            ("a::z", "src/z.rs"),
            ("a::m", "src/a.rs"),
            ("a::m::n", "src/a/m/n.rs"),
            ("outer", "src/lib.rs"),
            ("outer::inner", "src/outer/inner.rs"),
            ("inl", "src/lib.rs"),
            ("inl::q", "src/w/q.rs"),
        ];
        let expected: Vec<_> = expected
            .iter()
            .map(|(p, f)| (p.to_string(), f.to_string()))
            .collect();
        assert_eq!(layout(&modules, root), expected);
    }

    /// Text inserted at `inline_close` lands just before the `}`, with columns in chars.
    #[test]
    fn inline_close_is_the_closing_brace() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let lib = "mod one {\n    fn f() {}\n}\nmod two { mod three { const S: &str = \"é\u{1F600}\"; } }\n";
        write(root, "src/lib.rs", lib);
        let modules = scan_modules(&demo(root));
        let paths: Vec<_> = modules.iter().map(|m| m.path.join("::")).collect();
        assert_eq!(paths, ["", "one", "two", "two::three"]);
        assert_eq!(modules[1].inline_close, Some((3, 0)));
        for m in &modules[1..] {
            let mut text = lib.to_string();
            let at = offset(&text, m.inline_close.unwrap());
            text.insert_str(at, "/*X*/");
            assert_eq!(&text[at..at + 6], "/*X*/}", "module {:?}", m.path);
            syn::parse_file(&text).unwrap();
        }
        // Column counts chars: the `}` of `three` comes after a 2-byte and a 4-byte char.
        let three = modules[3].inline_close.unwrap();
        let line = lib.lines().nth(three.0 - 1).unwrap();
        assert_eq!(line.chars().nth(three.1), Some('}'));
        assert_ne!(line.as_bytes()[three.1], b'}');
    }

    /// cfg text and test flags are recorded; a missing file is an error unless cfg'd.
    #[test]
    fn cfg_modules_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let lib = "#[cfg(feature = \"nope\")]\nmod gone;\n#[cfg(unix)] mod u;\n#[cfg(test)]\nmod tests { mod inner {} }\n#[cfg(all(test, unix))] mod t2 {}\n#[cfg(not(test))] mod nt {}\n";
        write(root, "src/lib.rs", lib);
        write(root, "src/u.rs", "");
        let modules = scan_modules(&demo(root));
        let paths: Vec<_> = modules.iter().map(|m| m.path.join("::")).collect();
        assert_eq!(paths, ["", "u", "tests", "tests::inner", "t2", "nt"]);
        assert_eq!(modules[1].cfg_attrs, ["#[cfg(unix)]"]);
        assert_eq!(modules[2].cfg_attrs, ["#[cfg(test)]"]);
        let tests: Vec<bool> = modules.iter().map(|m| m.is_test).collect();
        assert_eq!(tests, [false, false, true, true, true, false]);

        write(root, "src/lib.rs", "mod missing;\npub fn f() {}\n");
        let modules = scan_modules(&demo(root));
        let msg = modules[1]
            .unparsed
            .as_ref()
            .expect("the missing module is noted")
            .to_string();
        assert!(
            msg.contains("`missing`") && msg.contains("missing.rs") && msg.contains("mod.rs"),
            "{msg}"
        );
        // The rest of the crate is still there.
        assert_eq!(names(&all_functions(&demo(root), &modules)), ["demo::f"]);
    }

    /// `include!(concat!(env!("OUT_DIR"), "/x.rs"))` names `x.rs` in the build's `OUT_DIR`.
    #[test]
    fn out_dir_includes_name_their_file() {
        let mac: syn::ItemMacro =
            syn::parse_str("include!(concat!(env!(\"OUT_DIR\"), \"/gen/types.rs\"));").unwrap();
        assert_eq!(
            out_dir_file(&mac.mac.tokens).as_deref(),
            Some("/gen/types.rs")
        );
        let plain: syn::ItemMacro = syn::parse_str("include!(\"x.rs\");").unwrap();
        assert_eq!(out_dir_file(&plain.mac.tokens), None);
    }

    /// Modules declared inside macro calls and macro_rules bodies are walked; `cfg_attr` paths
    /// count when their predicate holds.
    #[test]
    fn modules_behind_macros_and_cfg_attr_paths() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let lib = "cfg_if::cfg_if! {\n    if #[cfg(unix)] {\n        mod unix;\n    } else {\n        mod other;\n    }\n}\nmacro_rules! crate_root { () => { pub mod private; } }\ncrate_root!();\ncfg_time! { pub mod time; }\n#[cfg_attr(feature = \"spin\", path = \"core_lazy.rs\")]\n#[cfg_attr(not(feature = \"spin\"), path = \"inline_lazy.rs\")]\npub mod lazy;\n";
        write(root, "src/lib.rs", lib);
        write(root, "src/unix.rs", "pub fn u() {}\n");
        write(root, "src/private.rs", "pub fn p() {}\n");
        write(root, "src/time.rs", "pub fn t() {}\n");
        write(root, "src/inline_lazy.rs", "pub fn l() {}\n");
        let modules = scan_modules(&demo(root));
        assert!(modules.iter().all(|m| m.unparsed.is_none()), "{modules:?}");
        assert_eq!(
            names(&all_functions(&demo(root), &modules)),
            [
                "demo::lazy::l",
                "demo::private::p",
                "demo::time::t",
                "demo::unix::u"
            ]
        );
    }

    /// A file that does not parse is recorded with its position, and the walk goes on.
    #[test]
    fn unparsable_files_are_noted_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "src/lib.rs", "mod bad;\nmod good;\n");
        write(root, "src/bad.rs", "fn ok() {}\n\nfn broken( {\n");
        write(root, "src/good.rs", "pub fn fine() {}\n");
        let modules = scan_modules(&demo(root));
        let bad = modules.iter().find(|m| m.path == ["bad"]).unwrap();
        let err = bad.unparsed.as_ref().expect("a parse error");
        assert!(err.line == 3 || err.line == 4, "{err}");
        assert_eq!(
            names(&all_functions(&demo(root), &modules)),
            ["demo::good::fine"]
        );
        let changes = change("src/bad.rs", &[(1, 1)], &[]);
        let noted = unparsed_changed(&modules, &changes, root).unwrap();
        assert_eq!(noted.len(), 1);
        assert!(noted[0].0.ends_with("src/bad.rs"));
        assert!(select(root, &changes).is_empty());
    }

    /// A 2015-edition crate parses with its own rules: bare trait objects, `async` as a name,
    /// anonymous trait method parameters.
    #[test]
    fn edition_2015_files_parse() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let lib = "pub trait Visit { fn visit(&mut self, &str); }\npub fn apply(f: &mut FnMut(u8) -> u8, x: u8) -> u8 { f(x) }\npub fn async(n: u32) -> u32 { n }\npub fn boxed() -> Box<Fn() -> u8 + Send> { Box::new(|| 1) }\n";
        write(root, "src/lib.rs", lib);
        let src = CrateSource {
            edition: Edition::E2015,
            ..demo(root)
        };
        let modules = scan_modules(&src);
        assert!(modules[0].unparsed.is_none(), "{:?}", modules[0].unparsed);
        assert_eq!(
            names(&all_functions(&src, &modules)),
            ["demo::apply", "demo::r#async", "demo::boxed"]
        );
        // The same file is not 2018 code.
        assert!(scan_modules(&demo(root))[0].unparsed.is_some());
    }

    /// `include!("file.rs")` brings the file's items into the module that includes it.
    #[test]
    fn included_files_belong_to_their_module() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "src/lib.rs", "pub mod gen;\n");
        write(
            root,
            "src/gen.rs",
            "include!(\"defs.rs\");\npub fn host() {}\n",
        );
        write(
            root,
            "src/defs.rs",
            "pub struct Token(pub u8);\npub fn made(t: Token) -> u8 { t.0 }\n",
        );
        let modules = scan_modules(&demo(root));
        let included = modules.iter().find(|m| m.included_in.is_some()).unwrap();
        assert_eq!(included.path, ["gen"]);
        assert!(included.file.ends_with("src/defs.rs"));
        assert!(included
            .included_in
            .as_ref()
            .unwrap()
            .ends_with("src/gen.rs"));
        // The host module comes first, so code for both files is injected into gen.rs.
        assert!(modules
            .iter()
            .find(|m| m.path == ["gen"])
            .unwrap()
            .included_in
            .is_none());
        assert_eq!(
            names(&all_functions(&demo(root), &modules)),
            ["demo::gen::made", "demo::gen::host"]
        );
    }

    /// A module with one function of each shape, at known lines.
    const SHAPES: &str = "\
/// Cuts `s`.
///
/// # Panics
/// never
pub fn truncate(s: &str) -> &str {
    s
}

struct Stack<T>(Vec<T>);

impl<T: Clone> Stack<T> {
    pub(crate) fn pop_n(&mut self, n: usize) {
        let _ = n;
    }

    fn helper(&self) {}
}

impl<T> Default for Stack<T> {
    fn default() -> Self {
        Stack(Vec::new())
    }
}

async fn later() {}
unsafe fn raw() {}
const fn fixed() -> u8 { 1 }
";

    /// Free fns, inherent and trait-impl methods are picked by the lines they span.
    #[test]
    fn selects_functions_by_changed_lines() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "src/lib.rs", "pub mod text;\n");
        write(root, "src/text.rs", SHAPES);
        let fns = select(
            root,
            &change("src/text.rs", &[(6, 6), (13, 13), (21, 21)], &[]),
        );
        assert_eq!(
            names(&fns),
            [
                "demo::text::truncate",
                "demo::text::Stack::pop_n",
                "demo::text::Stack::default"
            ]
        );

        let [truncate, pop_n, default] = &fns[..] else {
            unreachable!()
        };
        assert_eq!((truncate.line, truncate.end_line), (5, 7));
        assert_eq!(truncate.doc, "Cuts `s`.\n\n# Panics\nnever");
        assert!(truncate.is_pub && matches!(truncate.kind, FnKind::Free));
        assert_eq!(truncate.module, ["text"]);
        assert!(truncate.file.ends_with("src/text.rs"));
        assert_eq!((pop_n.line, pop_n.end_line, pop_n.is_pub), (12, 14, true));
        assert!(
            matches!(&pop_n.kind, FnKind::Inherent { impl_generics, .. } if impl_generics.params.len() == 1)
        );
        assert!(
            matches!(&default.kind, FnKind::TraitImpl { trait_path, .. } if trait_path.is_ident("Default"))
        );
        assert!(default.is_pub && default.skip.is_none());

        // A change outside any function selects nothing.
        assert!(select(root, &change("src/text.rs", &[(8, 9)], &[])).is_empty());
    }

    /// A changed doc comment line or a deletion point inside a function selects it.
    #[test]
    fn doc_lines_and_deletions_count() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "src/lib.rs", SHAPES);
        assert_eq!(
            names(&select(root, &change("src/lib.rs", &[(3, 3)], &[]))),
            ["demo::truncate"]
        );
        // A line deleted just before `}` of `helper`, and one before the closing brace of `default`.
        let fns = select(root, &change("src/lib.rs", &[], &[16, 22]));
        assert_eq!(names(&fns), ["demo::Stack::helper", "demo::Stack::default"]);
        assert!(!fns[0].is_pub);
    }

    /// async and unsafe fns carry a skip reason; const fns do not.
    #[test]
    fn skip_reasons_for_async_and_unsafe() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "src/lib.rs", SHAPES);
        let fns = select(root, &change("src/lib.rs", &[(25, 27)], &[]));
        assert_eq!(names(&fns), ["demo::later", "demo::raw", "demo::fixed"]);
        assert_eq!(fns[0].skip.as_deref(), Some(SKIP_ASYNC));
        assert_eq!(fns[1].skip.as_deref(), Some(SKIP_UNSAFE));
        assert_eq!(fns[2].skip, None);
    }

    /// Tests, cfg(test) code, items in fn bodies and macro output are not returned.
    #[test]
    fn test_code_and_nested_items_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let lib = "\
fn outer() {
    fn nested() {}
    struct L;
    impl L { fn m() {} }
}
#[test]
fn t() {}
#[cfg(test)]
fn helper() {}
#[cfg(test)]
impl S { fn m() {} }
#[cfg(test)]
mod tests {
    fn inside() {}
}
#[tokio::test]
async fn t2() {}
macro_rules! mk { () => { fn made() {} } }
mk!();
";
        write(root, "src/lib.rs", lib);
        let fns = select(root, &change("src/lib.rs", &[(1, 20)], &[]));
        assert_eq!(names(&fns), ["demo::outer"]);
    }

    /// A changed macro definition or item-position call is named, in its module, as what it
    /// is; an unchanged one, a call inside a function and test code are not.
    #[test]
    fn changed_macro_definitions_and_calls_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let lib = "\
macro_rules! mk {
    ($n:ident) => { pub fn $n() {} };
}
mk!(one);
mk!(two);
pub mod inner {
    thread_local! { static X: u8 = 0; }
}
#[cfg(test)]
mk!(three);
fn body() { mk!(four); }
";
        write(root, "src/lib.rs", lib);
        let src = demo(root);
        let modules = scan_modules(&src);
        let changes = change("src/lib.rs", &[(2, 2), (5, 5), (7, 7), (10, 11)], &[]);
        let found: Vec<(String, usize, bool)> = changed_macros(&modules, &changes, root)
            .unwrap()
            .into_iter()
            .map(|m| (m.path, m.line, m.definition))
            .collect();
        assert_eq!(
            found,
            [
                ("mk!".to_string(), 1, true),
                ("mk!".to_string(), 5, false),
                ("inner::thread_local!".to_string(), 7, false),
            ]
        );
    }

    /// Functions of inline modules (even two of one name) belong to those modules.
    #[test]
    fn inline_modules_own_their_functions() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let lib = "pub fn top() {}\n#[cfg(feature = \"a\")]\nmod imp {\n    pub fn f() {}\n}\n#[cfg(not(feature = \"a\"))]\nmod imp {\n    pub fn g() {}\n}\n";
        write(root, "src/lib.rs", lib);
        let fns = select(root, &change("src/lib.rs", &[(1, 9)], &[]));
        assert_eq!(names(&fns), ["demo::top", "demo::imp::f", "demo::imp::g"]);
        assert_eq!(fns[1].module, ["imp"]);
    }

    /// A method carries the cfgs of its impl block and its own.
    #[test]
    fn cfg_attrs_come_from_impl_and_fn() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let lib = "struct S;\n#[cfg(feature = \"x\")]\nimpl S {\n    #[cfg(unix)]\n    fn m(&self) {}\n}\n";
        write(root, "src/lib.rs", lib);
        let fns = select(root, &change("src/lib.rs", &[(5, 5)], &[]));
        assert_eq!(
            fns[0].cfg_attrs,
            ["#[cfg(feature = \"x\")]", "#[cfg(unix)]"]
        );
    }

    /// A repo root with `..` and `.` still matches the change set keys.
    #[test]
    fn repo_root_may_be_non_canonical() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        write(&root, "crate/src/lib.rs", "mod a;\n");
        write(&root, "crate/src/a.rs", "fn f() {}\n");
        let src = CrateSource {
            name: "demo".into(),
            root_file: root.join("crate/src/lib.rs"),
            edition: Edition::E2021,
            built: None,
        };
        let modules = scan_modules(&src);
        let odd_root = root.join("crate/../.");
        let changes = change("crate/src/a.rs", &[(1, 1)], &[]);
        let fns = select_changed(&src, &modules, &changes, &odd_root).unwrap();
        assert_eq!(names(&fns), ["demo::a::f"]);
    }

    /// Numbers (with signs), strings, byte strings and chars come from the body and macros.
    #[test]
    fn literals_from_the_body() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let lib = "\
fn f(x: i64, s: &str, b: &[u8], c: char) -> f64 {
    if x > 10 || x == -3 || x == 0xff || x == 10 { return 2.5; }
    if s == \"héllo\" || b == b\"\\x00ab\" || c == 'é' || b[0] == b'z' { return -0.5; }
    match x { -7 => {}, 1..=4 => {}, _ => {} }
    assert!(x != 99, \"bad {}\", -11);
    let _ = 340282366920938463463374607431768211455u128;
    0.0
}
";
        write(root, "src/lib.rs", lib);
        let fns = select(root, &change("src/lib.rs", &[(1, 1)], &[]));
        let lits = &fns[0].literals;
        assert_eq!(lits.ints, [10, 3, -3, 255, 0, 122, -7, 1, 4, 99, 11, -11]);
        assert_eq!(
            lits.floats.iter().map(|f| f.to_bits()).collect::<Vec<_>>(),
            [2.5f64, 0.5, -0.5, 0.0].map(f64::to_bits)
        );
        assert_eq!(lits.strs, ["héllo", "bad {}"]);
        assert_eq!(lits.bytes, [b"\x00ab".to_vec()]);
        assert_eq!(lits.chars, ['é']);
    }

    /// Literal lists stop at 64 entries and long strings are dropped.
    #[test]
    fn literal_lists_are_capped_and_long_strings_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let ints: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        let long = "x".repeat(300);
        let lib = format!(
            "fn f() {{ let _ = [{}]; let _ = \"{long}\"; }}\n",
            ints.join(", ")
        );
        write(root, "src/lib.rs", &lib);
        let fns = select(root, &change("src/lib.rs", &[(1, 1)], &[]));
        let lits = &fns[0].literals;
        assert_eq!(lits.ints, (0..64).collect::<Vec<i128>>());
        assert!(lits.strs.is_empty());
    }

    /// A pattern selects what it names: the exact path first, then free functions whose path
    /// ends with it, then (for one bare word) methods of that name.
    #[test]
    fn select_by_path_names_precisely() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "src/lib.rs", "pub mod text;\npub mod stack;\nfn truncate() {}\n#[cfg(test)]\nmod tests { fn truncate() {} }\n");
        write(
            root,
            "src/text.rs",
            "pub fn truncate() {}\npub fn only_here() {}\n",
        );
        write(root, "src/stack.rs", SHAPES);
        let src = demo(root);
        let modules = scan_modules(&src);
        let by = |pats: &[&str]| {
            let pats: Vec<String> = pats.iter().map(|p| p.to_string()).collect();
            let named = select_by_path(&src, &modules, &pats).unwrap();
            match named.unmatched.into_iter().next() {
                Some((pattern, closest)) => Err((pattern, closest)),
                None => Ok(names(&named.functions)
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()),
            }
        };
        assert_eq!(by(&["truncate"]).unwrap(), ["demo::truncate"]);
        assert_eq!(by(&["only_here"]).unwrap(), ["demo::text::only_here"]);
        assert_eq!(by(&["text::truncate"]).unwrap(), ["demo::text::truncate"]);
        for p in [
            "crate::text::truncate",
            "demo::text::truncate",
            "::demo::text::truncate",
        ] {
            assert_eq!(by(&[p]).unwrap(), ["demo::text::truncate"], "{p}");
        }
        assert_eq!(
            by(&["Stack::pop_n"]).unwrap(),
            ["demo::stack::Stack::pop_n"]
        );
        assert_eq!(
            by(&["stack::Stack::pop_n", "demo::stack::Stack<u8>::pop_n"]).unwrap(),
            ["demo::stack::Stack::pop_n"]
        );
        assert_eq!(
            by(&[
                "Stack::<T>::default",
                "<Stack<u8> as Default>::default",
                "Default::default"
            ])
            .unwrap(),
            ["demo::stack::Stack::default"]
        );
        // Backtrace decorations are dropped.
        assert_eq!(
            by(&[
                "demo::text::truncate::h0123456789abcdef",
                "  7: demo::text::truncate::{{closure}}"
            ])
            .unwrap(),
            ["demo::text::truncate"]
        );
        // Segments match whole names, and a pattern must name a function.
        match by(&["trunc"]) {
            Err((pattern, closest)) => {
                assert_eq!(pattern, "trunc");
                assert!(
                    closest.iter().any(|c| c == "demo::text::truncate"),
                    "{closest:?}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(by(&["text"]).is_err());
        assert!(
            matches!(by(&["truncate", "nope::truncate"]), Err((p, _)) if p == "nope::truncate")
        );
        assert!(by(&["tests::truncate"]).is_err());
        assert!(by(&["<Stack as Clone>::default"]).is_err());
        assert!(FnPattern::parse("not a path!").is_err());
        assert!(FnPattern::parse("demo::async").is_ok());
        assert!(FnPattern::parse("<demo::Stack<fn(u8)> as Default>::default").is_ok());
    }

    /// Re-export paths name the function they re-export, and a name shared with a method
    /// elsewhere does not drag the method in; trait impls on std types are named by
    /// `<Type as Trait<Arg>>::method`.
    #[test]
    fn select_by_reexport_and_qualified_paths() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "src/lib.rs",
            "mod parser;\nmod table;\npub mod time;\npub use parser::parse;\npub use table::Table as Grid;\npub use self::time::*;\n",
        );
        write(root, "src/parser.rs", "pub fn parse(s: &str) -> u8 { 0 }\n");
        write(
            root,
            "src/table.rs",
            "pub struct Table;\nimpl Table { pub fn parse(s: &str) -> Self { Table } }\n",
        );
        write(
            root,
            "src/time.rs",
            "pub struct Stamp(pub u64);\npub struct Other;\nimpl From<Stamp> for std::time::SystemTime { fn from(s: Stamp) -> Self { std::time::UNIX_EPOCH } }\nimpl From<Other> for std::time::SystemTime { fn from(s: Other) -> Self { std::time::UNIX_EPOCH } }\npub fn stamp_now() -> u64 { 0 }\n",
        );
        let src = demo(root);
        let modules = scan_modules(&src);
        let by = |p: &str| {
            let named = select_by_path(&src, &modules, &[p.to_string()]).unwrap();
            assert!(named.unmatched.is_empty(), "{p}: {:?}", named.unmatched);
            names(&named.functions)
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(by("demo::parse"), ["demo::parser::parse"]);
        assert_eq!(by("parse"), ["demo::parser::parse"]);
        assert_eq!(by("demo::Grid::parse"), ["demo::table::Table::parse"]);
        assert_eq!(by("Table::parse"), ["demo::table::Table::parse"]);
        assert_eq!(by("demo::stamp_now"), ["demo::time::stamp_now"]);
        assert_eq!(
            by("<std::time::SystemTime as From<demo::time::Stamp>>::from"),
            ["demo::time::SystemTime::from"]
        );
        assert_eq!(by("<SystemTime as From>::from").len(), 2);
    }
}
