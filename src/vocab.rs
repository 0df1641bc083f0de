//! The crate's own vocabulary for each target: the literals of the functions it calls, the
//! constants it names, and the arguments the crate's tests, doc examples and examples pass it.
//!
//! Bugs in real parsers hide behind the crate's keywords, lengths and formats, which a target's
//! own body often does not spell: the keyword is checked in a helper three calls down, the
//! length is a constant, a valid input exists only in a test. All of it is read statically with
//! syn; the crate's tests are never built (many published crates' tests do not build on a
//! current compiler).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Expr, Lit, Token};

use crate::select::{collect_literals, ChangedFn, FnKind, Literals, Module};
use crate::source::CrateSource;
use crate::source::{self, Edition};

/// Most values per kind a target's literals hold with everything merged in.
const MAX_MERGED: usize = 96;
/// How deep the calls of a target are followed for callee literals, and how many functions.
const CALLEE_DEPTH: usize = 3;
const MAX_CALLEES: usize = 24;
/// Directories of a package whose files call the crate's functions the way users do.
const USER_CODE_DIRS: &[&str] = &["tests", "examples", "benches"];
/// Files read per package from those directories, at most.
const MAX_USER_FILES: usize = 200;

/// What a crate says about its own inputs, gathered once per package.
pub struct Vocabulary {
    /// Every function of the crate: its name, own literals and the names it calls.
    functions: Vec<(String, Literals, BTreeSet<String>)>,
    /// Literal values of the crate's `const` and `static` items, by name.
    consts: HashMap<String, Literals>,
    /// Literal arguments at call sites (tests, doc examples, examples, other code), by the
    /// called function's name.
    call_sites: HashMap<String, Literals>,
}

impl Vocabulary {
    /// Reads the vocabulary of the crate `src` (scanned as `modules`, with `all` its functions)
    /// in the package at `package_dir`.
    pub fn collect(
        src: &CrateSource,
        modules: &[Module],
        all: &[ChangedFn],
        package_dir: &Path,
    ) -> Vocabulary {
        let functions = all
            .iter()
            .map(|f| (plain(&f.name), f.literals.clone(), f.calls.clone()))
            .collect();
        let mut files: Vec<PathBuf> = Vec::new();
        for m in modules.iter().filter(|m| m.unparsed.is_none()) {
            if !files.contains(&m.file) {
                files.push(m.file.clone());
            }
        }
        for dir in USER_CODE_DIRS {
            rust_files(&package_dir.join(dir), &mut files);
        }
        files.truncate(modules.len() + MAX_USER_FILES);
        let mut reader = FileReader {
            edition: src.edition,
            consts: HashMap::new(),
            call_sites: HashMap::new(),
            docs: Vec::new(),
        };
        for file in &files {
            if let Ok(ast) = source::parse_path(file, src.edition) {
                reader.visit_file(&ast);
            }
        }
        reader.read_doc_examples();
        Vocabulary {
            functions,
            consts: reader.consts,
            call_sites: reader.call_sites,
        }
    }

    /// The literals to seed `f` with: its own first, then the arguments the crate's code passes
    /// it, the constants it names, and the literals of the functions it calls (transitively).
    pub fn literals_for(&self, f: &ChangedFn) -> Literals {
        let mut out = f.literals.clone();
        for key in call_keys(f) {
            if let Some(seen) = self.call_sites.get(&key) {
                out.merge(seen, MAX_MERGED);
            }
        }
        self.merge_consts(&f.calls, &mut out);
        let me = plain(&f.name);
        let mut visited: BTreeSet<String> = BTreeSet::from([me]);
        let mut frontier: Vec<String> = f.calls.iter().cloned().collect();
        let mut taken = 0;
        for _ in 0..CALLEE_DEPTH {
            let mut next = Vec::new();
            for name in frontier {
                if !visited.insert(name.clone()) {
                    continue;
                }
                for (_, lits, calls) in self.functions.iter().filter(|(n, ..)| *n == name) {
                    if taken >= MAX_CALLEES {
                        break;
                    }
                    taken += 1;
                    out.merge(lits, MAX_MERGED);
                    self.merge_consts(calls, &mut out);
                    next.extend(calls.iter().cloned());
                }
            }
            frontier = next;
        }
        out
    }

    fn merge_consts(&self, names: &BTreeSet<String>, out: &mut Literals) {
        for name in names {
            if let Some(lits) = self.consts.get(name) {
                out.merge(lits, MAX_MERGED);
            }
        }
    }
}

/// The names call sites of `f` are recorded under: its own, and for `FromStr::from_str` the
/// `"…".parse()` calls that reach it.
fn call_keys(f: &ChangedFn) -> Vec<String> {
    let mut keys = vec![plain(&f.name)];
    if let FnKind::TraitImpl { trait_path, .. } = &f.kind {
        let is_from_str = trait_path
            .segments
            .last()
            .is_some_and(|s| s.ident == "FromStr");
        if is_from_str {
            keys.push(PARSE_KEY.to_string());
        }
    }
    keys
}

/// The key for the receivers of `.parse()` calls, which `FromStr::from_str` gets.
const PARSE_KEY: &str = "<str>::parse";

fn plain(ident: &str) -> String {
    ident.strip_prefix("r#").unwrap_or(ident).to_string()
}

/// The `.rs` files under `dir`, recursively, in a stable order.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if out.len() >= MAX_USER_FILES * 4 {
            return;
        }
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") && !out.contains(&p) {
            out.push(p);
        }
    }
}

/// Walks parsed files for constants, call sites and doc comment lines.
struct FileReader {
    edition: Edition,
    consts: HashMap<String, Literals>,
    call_sites: HashMap<String, Literals>,
    /// Doc comment lines in the order met; code blocks are read from them at the end.
    docs: Vec<String>,
}

impl FileReader {
    fn record_call(&mut self, name: &str, args: &[&Expr]) {
        let mut lits = Literals::default();
        for a in args {
            literal_values(a, &mut lits);
        }
        if !lits.is_empty() {
            self.call_sites
                .entry(plain(name))
                .or_default()
                .merge(&lits, MAX_MERGED);
        }
    }

    fn record_const(&mut self, name: &str, expr: &Expr) {
        let mut lits = Literals::default();
        literal_values(expr, &mut lits);
        if !lits.is_empty() {
            self.consts
                .entry(plain(name))
                .or_default()
                .merge(&lits, MAX_MERGED);
        }
    }

    /// Parses the Rust code blocks of the doc comments read so far and reads their call sites.
    fn read_doc_examples(&mut self) {
        let docs = std::mem::take(&mut self.docs);
        for block in code_blocks(&docs) {
            let file = source::parse_text(&block, self.edition).or_else(|_| {
                source::parse_text(&format!("fn __doc_example() {{\n{block}\n}}"), self.edition)
            });
            if let Ok(file) = file {
                self.visit_file(&file);
            }
        }
    }
}

impl<'ast> Visit<'ast> for FileReader {
    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let Expr::Path(p) = &*call.func {
            if let Some(last) = p.path.segments.last() {
                let args: Vec<&Expr> = call.args.iter().collect();
                self.record_call(&last.ident.to_string(), &args);
            }
        }
        visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let args: Vec<&Expr> = call.args.iter().collect();
        self.record_call(&call.method.to_string(), &args);
        if call.method == "parse" {
            self.record_call(PARSE_KEY, &[&call.receiver]);
        }
        visit::visit_expr_method_call(self, call);
    }

    /// `assert_eq!(parse("1.2"), …)`: macro arguments that read as expressions are visited.
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if let Ok(exprs) = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
            for e in &exprs {
                self.visit_expr(e);
            }
        }
    }

    fn visit_item_const(&mut self, c: &'ast syn::ItemConst) {
        self.record_const(&c.ident.to_string(), &c.expr);
        visit::visit_item_const(self, c);
    }

    fn visit_item_static(&mut self, s: &'ast syn::ItemStatic) {
        self.record_const(&s.ident.to_string(), &s.expr);
        visit::visit_item_static(self, s);
    }

    fn visit_impl_item_const(&mut self, c: &'ast syn::ImplItemConst) {
        self.record_const(&c.ident.to_string(), &c.expr);
        visit::visit_impl_item_const(self, c);
    }

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        if let syn::Meta::NameValue(nv) = &attr.meta {
            if nv.path.is_ident("doc") {
                if let Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(s), ..
                }) = &nv.value
                {
                    self.docs.extend(s.value().split('\n').map(str::to_string));
                }
            }
        }
    }
}

/// The literal values an argument expression spells: literals, negated numbers, arrays and
/// `vec![…]` of them, `&…`, `"…".to_string()`, `String::from("…")`, `Some(…)`, tuples and
/// struct literals. An array of bytes is kept whole as a byte string.
fn literal_values(e: &Expr, out: &mut Literals) {
    match e {
        Expr::Lit(_) | Expr::Unary(_) => {
            let lits = collect_literals(&syn::parse_quote!({ #e }));
            out.merge(&lits, MAX_MERGED);
        }
        Expr::Reference(r) => literal_values(&r.expr, out),
        Expr::Paren(p) => literal_values(&p.expr, out),
        Expr::Group(g) => literal_values(&g.expr, out),
        Expr::Array(a) => {
            let bytes: Option<Vec<u8>> = a.elems.iter().map(byte_value).collect();
            match bytes {
                Some(b) if !b.is_empty() => {
                    if out.bytes.len() < MAX_MERGED && !out.bytes.contains(&b) {
                        out.bytes.push(b);
                    }
                }
                _ => a.elems.iter().for_each(|x| literal_values(x, out)),
            }
        }
        Expr::Repeat(r) => literal_values(&r.expr, out),
        Expr::Tuple(t) => t.elems.iter().for_each(|x| literal_values(x, out)),
        Expr::Struct(s) => s.fields.iter().for_each(|f| literal_values(&f.expr, out)),
        Expr::Call(c) => c.args.iter().for_each(|x| literal_values(x, out)),
        Expr::MethodCall(m) if m.args.is_empty() => literal_values(&m.receiver, out),
        Expr::Macro(m) if m.mac.path.is_ident("vec") => {
            if let Ok(array) = m
                .mac
                .parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
            {
                let array = Expr::Array(syn::ExprArray {
                    attrs: Vec::new(),
                    bracket_token: Default::default(),
                    elems: array,
                });
                literal_values(&array, out);
            }
        }
        _ => {}
    }
}

/// An integer literal that fits a byte (`0x3f`, `b'a'`).
fn byte_value(e: &Expr) -> Option<u8> {
    match e {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse().ok(),
        Expr::Lit(syn::ExprLit {
            lit: Lit::Byte(b), ..
        }) => Some(b.value()),
        _ => None,
    }
}

/// The Rust code blocks among doc comment lines: fenced blocks whose info string is empty or
/// names Rust (`rust`, `no_run`, `should_panic`, `ignore`, …), with rustdoc's hidden-line
/// markers (`# `) removed.
fn code_blocks(lines: &[String]) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<(bool, Vec<String>)> = None;
    for line in lines {
        let trimmed = line.trim_start();
        let fence = trimmed.starts_with("```") || trimmed.starts_with("~~~");
        match (&mut current, fence) {
            (None, true) => {
                let info = trimmed.trim_start_matches(['`', '~']).trim();
                let rust = info.split([',', ' ']).all(|w| {
                    matches!(
                        w,
                        "" | "rust"
                            | "no_run"
                            | "should_panic"
                            | "ignore"
                            | "compile_fail"
                            | "edition2015"
                            | "edition2018"
                            | "edition2021"
                            | "edition2024"
                    )
                });
                current = Some((rust, Vec::new()));
            }
            (Some((rust, body)), true) => {
                if *rust {
                    blocks.push(body.join("\n"));
                }
                current = None;
            }
            (Some((_, body)), false) => {
                let code = match trimmed.strip_prefix('#') {
                    Some(rest) if rest.is_empty() || rest.starts_with(' ') => {
                        rest.strip_prefix(' ').unwrap_or(rest)
                    }
                    _ => line.as_str(),
                };
                body.push(code.to_string());
            }
            (None, false) => {}
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select::{all_functions, scan_modules};

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Literals for the function named `name` of the crate at `root`.
    fn literals_of(root: &Path, name: &str) -> Literals {
        let src = CrateSource {
            name: "demo".into(),
            root_file: root.join("src/lib.rs"),
            edition: Edition::E2021,
            built: None,
        };
        let modules = scan_modules(&src);
        let all = all_functions(&src, &modules);
        let vocab = Vocabulary::collect(&src, &modules, &all, root);
        let f = all.iter().find(|f| f.name == name).expect("the function");
        vocab.literals_for(f)
    }

    #[test]
    fn callees_constants_and_lengths_join_the_target_literals() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(
            root,
            "src/lib.rs",
            "const LIMIT: u32 = 4096;\npub fn parse(s: &str) -> usize { if s.len() != 60 { return 0; } attr(s) }\nfn attr(s: &str) -> usize { key(s) + LIMIT as usize }\nfn key(s: &str) -> usize { if s.starts_with(\"charset=\") { 1 } else { 2 } }\nfn unrelated() -> &'static str { \"not called\" }\n",
        );
        let lits = literals_of(root, "parse");
        assert_eq!(lits.lens, [60]);
        assert!(lits.strs.contains(&"charset=".to_string()), "{lits:?}");
        assert!(lits.ints.contains(&4096), "{lits:?}");
        assert!(!lits.strs.contains(&"not called".to_string()), "{lits:?}");
        // Own literals come first.
        assert_eq!(lits.ints[0], 60);
    }

    #[test]
    fn arguments_from_tests_doc_examples_and_examples_are_seeds() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(
            root,
            "src/lib.rs",
            "pub struct Amount(u64);\nimpl std::str::FromStr for Amount { type Err = (); fn from_str(s: &str) -> Result<Self, ()> { Err(()) } }\n/// Decodes.\n///\n/// ```\n/// # use demo::decode;\n/// assert_eq!(decode(&[0x3f, 0x81]), 2);\n/// ```\npub fn decode(b: &[u8]) -> usize { b.len() }\npub fn check(s: &str, n: i32) -> bool { true }\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() { assert!(super::check(\"XK-1234-56\", -7)); }\n}\n",
        );
        write(
            root,
            "tests/it.rs",
            "#[test]\nfn amounts() { let a: demo::Amount = \"12.50 EUR\".parse().unwrap(); }\n",
        );
        write(
            root,
            "examples/ex.rs",
            "fn main() { demo::check(&String::from(\"from example\"), 3); }\n",
        );
        let check = literals_of(root, "check");
        assert!(check.strs.contains(&"XK-1234-56".to_string()), "{check:?}");
        assert!(
            check.strs.contains(&"from example".to_string()),
            "{check:?}"
        );
        assert!(
            check.ints.contains(&-7) && check.ints.contains(&3),
            "{check:?}"
        );
        let decode = literals_of(root, "decode");
        assert_eq!(decode.bytes, [vec![0x3f, 0x81]]);
        let from_str = literals_of(root, "from_str");
        assert!(
            from_str.strs.contains(&"12.50 EUR".to_string()),
            "{from_str:?}"
        );
    }

    #[test]
    fn code_blocks_are_the_rust_ones() {
        let lines: Vec<String> = "text\n```\nlet a = 1;\n# let hidden = 2;\n```\n```text\nnot rust\n```\n```rust,no_run\nf();\n```"
            .split('\n')
            .map(String::from)
            .collect();
        assert_eq!(code_blocks(&lines), ["let a = 1;\nlet hidden = 2;", "f();"]);
    }
}
