//! Reads the crate's Rust files and parses them with syn, under the rules of the crate's edition.
//!
//! syn parses the current language. Code of the 2015 edition is still valid Rust that rustc
//! builds, but three of its forms do not parse with syn: `async`, `await`, `try` and `dyn` used
//! as identifiers, trait objects written without `dyn` where syn needs it (`&mut FnMut(u8) ->
//! u8`, `Box<Fn() + Send>`), and trait methods with anonymous parameters (`fn f(u8);`). For a
//! 2015 crate the token stream is rewritten into the 2018 spelling of the same code before it
//! is parsed: the identifiers become raw identifiers, a `dyn` is put before bare `Fn` traits
//! in type position, and anonymous parameters get `_:`. Spans are kept, so every line and
//! column still points into the user's file.

use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, Group, Ident, Spacing, Span, TokenStream, TokenTree};

/// The library target of one package: what its sources are and how to read them.
#[derive(Debug, Clone)]
pub struct CrateSource {
    /// The crate name as written in Rust paths (`my_crate`, dashes turned into underscores).
    pub name: String,
    /// Absolute path of the crate root file (`…/src/lib.rs`).
    pub root_file: PathBuf,
    /// The edition its files are parsed under.
    pub edition: Edition,
    /// What the package's build script made, once it has run: its `OUT_DIR`, for
    /// `include!(concat!(env!("OUT_DIR"), "/…"))`, and the package's directory in a built copy,
    /// where files it writes into the source tree are found.
    pub built: Option<BuildOutputs>,
}

/// Where a build script's output is, after a build of a copy of the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOutputs {
    pub out_dir: PathBuf,
    /// The package directory in the user's tree, and the same directory in the built copy.
    pub package_dir: PathBuf,
    pub copy_dir: PathBuf,
}

pub use cargo_metadata::Edition;

/// Why a file could not be parsed: the position and syn's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl From<syn::Error> for ParseError {
    fn from(e: syn::Error) -> Self {
        let at = e.span().start();
        ParseError {
            line: at.line,
            column: at.column + 1,
            message: e.to_string(),
        }
    }
}

/// Reads and parses one file of a crate of `edition`. An unreadable file is a parse error too:
/// its functions cannot be looked at either way.
pub fn parse_path(path: &Path, edition: Edition) -> Result<syn::File, ParseError> {
    let text = std::fs::read_to_string(path).map_err(|e| ParseError {
        line: 0,
        column: 0,
        message: format!("cannot read it: {e}"),
    })?;
    parse_text(&text, edition)
}

/// Parses the text of one file of a crate of `edition`.
pub fn parse_text(text: &str, edition: Edition) -> Result<syn::File, ParseError> {
    if edition != Edition::E2015 {
        return Ok(syn::parse_file(text)?);
    }
    // A shebang line is not Rust tokens (`#![…]` on the first line is an inner attribute).
    let body = match text.strip_prefix("#!") {
        Some(rest) if !rest.trim_start().starts_with('[') => {
            let end = text.find('\n').unwrap_or(text.len());
            // Blank the line out so line numbers stay as they were.
            format!("{}{}", " ".repeat(end), &text[end..])
        }
        _ => text.to_string(),
    };
    let tokens: TokenStream = body.parse().map_err(|e: proc_macro2::LexError| {
        let at = e.span().start();
        ParseError {
            line: at.line,
            column: at.column + 1,
            message: e.to_string(),
        }
    })?;
    Ok(syn::parse2(rewrite_2015(tokens, Context::Items))?)
}

/// What the tokens of a group are, as far as the rewrite cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    /// Items, statements or expressions.
    Items,
    /// The body of a `trait` declaration, where methods may have anonymous parameters.
    TraitBody,
    /// The parameter list of a method in a trait body.
    TraitParams,
}

/// Words that are keywords from the 2018 edition on but identifiers in 2015.
const EDITION_2018_KEYWORDS: &[&str] = &["async", "await", "try"];

/// The traits whose bare use (`&Fn(u8)`) syn does not parse without `dyn`.
const FN_TRAITS: &[&str] = &["Fn", "FnMut", "FnOnce"];

fn rewrite_2015(tokens: TokenStream, context: Context) -> TokenStream {
    let input: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(input.len());
    for (i, tree) in input.iter().enumerate() {
        match tree {
            TokenTree::Ident(ident) => {
                let word = ident.to_string();
                let next = input.get(i + 1);
                if EDITION_2018_KEYWORDS.contains(&word.as_str()) {
                    // `try!(…)` stays a macro call; every other use is a plain identifier.
                    out.push(raw(&word, ident.span()));
                } else if word == "dyn" && !starts_type(next) {
                    out.push(raw(&word, ident.span()));
                } else if FN_TRAITS.contains(&word.as_str())
                    && is_paren_group(next)
                    && in_type_position(&out)
                {
                    out.push(TokenTree::Ident(Ident::new("dyn", ident.span())));
                    out.push(tree.clone());
                } else {
                    out.push(tree.clone());
                }
            }
            TokenTree::Group(group) => {
                let inner = match (group.delimiter(), context) {
                    (Delimiter::Brace, _) if follows_trait_header(&out) => Context::TraitBody,
                    (Delimiter::Parenthesis, Context::TraitBody) if follows_fn_name(&out) => {
                        Context::TraitParams
                    }
                    _ => Context::Items,
                };
                let mut stream = rewrite_2015(group.stream(), inner);
                if inner == Context::TraitParams {
                    stream = name_anonymous_params(stream);
                }
                let mut g = Group::new(group.delimiter(), stream);
                g.set_span(group.span());
                out.push(TokenTree::Group(g));
            }
            other => out.push(other.clone()),
        }
    }
    out.into_iter().collect()
}

fn raw(word: &str, span: Span) -> TokenTree {
    TokenTree::Ident(Ident::new_raw(word, span))
}

fn is_paren_group(tree: Option<&TokenTree>) -> bool {
    matches!(tree, Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
}

fn is_punct(tree: Option<&TokenTree>, c: char) -> bool {
    matches!(tree, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

fn is_ident(tree: Option<&TokenTree>, word: &str) -> bool {
    matches!(tree, Some(TokenTree::Ident(i)) if i == word)
}

/// Whether the token after `dyn` can begin a trait bound, which makes `dyn` the keyword.
fn starts_type(next: Option<&TokenTree>) -> bool {
    match next {
        Some(TokenTree::Ident(_)) => true,
        // `dyn ::path::Trait`, `dyn 'a + Trait`, `dyn ?Sized`, `dyn (Trait)`.
        Some(TokenTree::Punct(p)) => matches!(p.as_char(), ':' | '\'' | '?'),
        Some(TokenTree::Group(g)) => g.delimiter() == Delimiter::Parenthesis,
        _ => false,
    }
}

/// Whether the tokens written so far end where a type begins and a bound cannot: after `&`,
/// `&mut`, `&'a`, `*const`, `*mut`, `<` or `,` of generic arguments, `->`. After `:` or `+` a
/// bare `Fn(…)` is a bound (`F: Fn(u8)`), which needs no `dyn` and must not get one.
fn in_type_position(out: &[TokenTree]) -> bool {
    let last = out.last();
    let before = out.len().checked_sub(2).and_then(|i| out.get(i));
    if is_punct(last, '&') || is_punct(last, '<') || is_punct(last, ',') {
        return true;
    }
    // `->`: a '>' right after a joint '-'.
    if is_punct(last, '>')
        && matches!(before, Some(TokenTree::Punct(p)) if p.as_char() == '-' && p.spacing() == Spacing::Joint)
    {
        return true;
    }
    if is_ident(last, "mut") || is_ident(last, "const") {
        return is_punct(before, '&')
            || is_punct(before, '*')
            || matches!(before, Some(TokenTree::Ident(_)))
                && lifetime_after_amp(&out[..out.len() - 1]);
    }
    lifetime_after_amp(out)
}

/// Whether `out` ends in `& 'a`.
fn lifetime_after_amp(out: &[TokenTree]) -> bool {
    let n = out.len();
    n >= 3
        && matches!(&out[n - 1], TokenTree::Ident(_))
        && is_punct(out.get(n - 2), '\'')
        && is_punct(out.get(n - 3), '&')
}

/// Whether a brace group here opens the body of `trait Name<…>: Bounds where … { … }`.
fn follows_trait_header(out: &[TokenTree]) -> bool {
    // Walk back over the header to the `trait` keyword, stopping at anything that ends an item.
    for tree in out.iter().rev() {
        match tree {
            TokenTree::Ident(i) if i == "trait" => return true,
            TokenTree::Ident(i) if i == "impl" || i == "fn" || i == "struct" || i == "enum" => {
                return false
            }
            TokenTree::Punct(p) if p.as_char() == ';' => return false,
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => return false,
            _ => {}
        }
    }
    false
}

/// Whether a parenthesis group here is the parameter list of `fn name` or `fn name<…>`.
fn follows_fn_name(out: &[TokenTree]) -> bool {
    let mut depth = 0usize;
    for (i, tree) in out.iter().enumerate().rev() {
        match tree {
            TokenTree::Punct(p) if p.as_char() == '>' => depth += 1,
            TokenTree::Punct(p) if p.as_char() == '<' => depth = depth.saturating_sub(1),
            TokenTree::Ident(_) if depth == 0 => {
                return i > 0 && is_ident(out.get(i - 1), "fn");
            }
            _ if depth > 0 => {}
            _ => return false,
        }
    }
    false
}

/// `(u8, &str)` → `(_: u8, _: &str)`: the anonymous parameters of a 2015 trait method get a
/// wildcard name; named ones and `self` receivers stay.
fn name_anonymous_params(params: TokenStream) -> TokenStream {
    let trees: Vec<TokenTree> = params.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::new();
    for param in split_top_level_commas(&trees) {
        if !out.is_empty() {
            out.push(TokenTree::Punct(proc_macro2::Punct::new(
                ',',
                Spacing::Alone,
            )));
        }
        if !param.is_empty() && !has_top_level_colon(param) && !is_receiver(param) {
            let span = param[0].span();
            let mut underscore = Ident::new("_", span);
            underscore.set_span(span);
            out.push(TokenTree::Ident(underscore));
            let mut colon = proc_macro2::Punct::new(':', Spacing::Alone);
            colon.set_span(span);
            out.push(TokenTree::Punct(colon));
        }
        out.extend(param.iter().cloned());
    }
    out.into_iter().collect()
}

/// The parameters of a list, split at commas outside `<…>`.
fn split_top_level_commas(trees: &[TokenTree]) -> Vec<&[TokenTree]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, t) in trees.iter().enumerate() {
        if let TokenTree::Punct(p) = t {
            match p.as_char() {
                '<' => depth += 1,
                // `->` is not the end of a generic list.
                '>' if !(i > 0 && is_punct(trees.get(i - 1), '-')) => {
                    depth = depth.saturating_sub(1)
                }
                ',' if depth == 0 => {
                    parts.push(&trees[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
    }
    if start < trees.len() {
        parts.push(&trees[start..]);
    }
    parts
}

/// Whether a parameter has a `name:` (a single `:` outside `<…>`, not half of a `::`).
fn has_top_level_colon(param: &[TokenTree]) -> bool {
    let mut depth = 0usize;
    for (i, t) in param.iter().enumerate() {
        let TokenTree::Punct(p) = t else { continue };
        match p.as_char() {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => {
                let joined_before = i > 0
                    && matches!(&param[i - 1], TokenTree::Punct(q) if q.as_char() == ':' && q.spacing() == Spacing::Joint);
                let joined_after = p.spacing() == Spacing::Joint && is_punct(param.get(i + 1), ':');
                if !joined_before && !joined_after {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// `self`, `mut self`, `&self`, `&mut self`, `&'a self`, `&'a mut self`.
fn is_receiver(param: &[TokenTree]) -> bool {
    param
        .iter()
        .any(|t| matches!(t, TokenTree::Ident(i) if i == "self"))
        && !has_top_level_colon(param)
}

/// The host's `rustc --print cfg` lines (`unix`, `target_os="linux"`, …), read once; empty when
/// rustc cannot say.
pub fn host_cfgs() -> &'static [String] {
    static CFGS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    CFGS.get_or_init(|| {
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
        std::process::Command::new(rustc)
            .args(["--print", "cfg"])
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// Whether a cfg predicate (`unix`, `target_os = "linux"`, `all(…)`, `any(…)`, `not(…)`) holds
/// where `cfgs` (lines as `rustc --print cfg` prints them) are set.
pub fn cfg_holds(meta: &syn::Meta, cfgs: &[String]) -> bool {
    use syn::punctuated::Punctuated;
    match meta {
        syn::Meta::Path(p) => p
            .get_ident()
            .is_some_and(|i| cfgs.iter().any(|c| c == &i.to_string())),
        syn::Meta::NameValue(nv) => {
            let (
                Some(key),
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(value),
                    ..
                }),
            ) = (nv.path.get_ident(), &nv.value)
            else {
                return false;
            };
            let line = format!("{key}=\"{}\"", value.value());
            cfgs.iter().any(|c| c == &line)
        }
        syn::Meta::List(list) => {
            let Ok(inner) =
                list.parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
            else {
                return false;
            };
            match list.path.get_ident().map(|i| i.to_string()).as_deref() {
                Some("all") => inner.iter().all(|m| cfg_holds(m, cfgs)),
                Some("any") => inner.iter().any(|m| cfg_holds(m, cfgs)),
                Some("not") => inner.len() == 1 && !cfg_holds(&inner[0], cfgs),
                _ => false,
            }
        }
    }
}

/// Whether code under `attrs` may be compiled on the host: false only when one of its
/// `#[cfg(…)]` predicates is false whatever features are on (`#[cfg(procmacro2_semver_exempt)]`,
/// `#[cfg(windows)]` on Linux). Features are not known here, so they count as either.
pub fn cfg_may_hold(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .filter_map(|a| a.parse_args::<syn::Meta>().ok())
        .all(|m| cfg_known(&m, host_cfgs()) != Some(false))
}

/// A cfg predicate's value where `cfgs` are set, with `feature = "…"` unknown (`None`).
fn cfg_known(meta: &syn::Meta, cfgs: &[String]) -> Option<bool> {
    use syn::punctuated::Punctuated;
    match meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("feature") => None,
        syn::Meta::List(list) => {
            let inner = list
                .parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
                .ok()?;
            let values: Vec<Option<bool>> = inner.iter().map(|m| cfg_known(m, cfgs)).collect();
            match list.path.get_ident().map(|i| i.to_string()).as_deref() {
                Some("all") if values.contains(&Some(false)) => Some(false),
                Some("all") => values.iter().all(|v| *v == Some(true)).then_some(true),
                Some("any") if values.contains(&Some(true)) => Some(true),
                Some("any") => values.iter().all(|v| *v == Some(false)).then_some(false),
                Some("not") if values.len() == 1 => values[0].map(|v| !v),
                _ => None,
            }
        }
        other => Some(cfg_holds(other, cfgs)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parses_2015(src: &str) -> syn::File {
        parse_text(src, Edition::E2015).unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    #[test]
    fn bare_fn_trait_objects_and_2018_keywords_parse_in_2015() {
        for src in [
            "fn f(x: &mut FnMut(u8) -> u8) {}",
            "fn f(x: Option<&'static Fn(&str)>) {}",
            "fn f(x: Box<Fn() -> u8 + Send>) {}",
            "fn f(x: &'a mut FnMut()) {}",
            "fn f(x: *const Fn()) {}",
            "fn f() -> Box<Error> { loop {} }",
            "fn async() {}",
            "fn f() { let async = 1; let await = 2; let dyn = 3; let try = 4; }",
            "fn f() -> Result<(), E> { try!(x()); Ok(()) }",
            "fn f(x: &dyn Error) {}",
            "fn g<F: Fn(u8) -> u8>(f: F) where F: FnMut() + Send {}",
            "trait T { fn f(u8); fn g(&self, &str, Vec<u8>) -> bool; fn h(&mut self, n: u8); }",
            "trait T<A>: Clone where A: Copy { fn f(A, ::std::string::String); }",
        ] {
            parses_2015(src);
        }
    }

    #[test]
    fn rewritten_code_keeps_positions_and_meaning() {
        let file = parses_2015("fn a() {}\n\nfn async(x: &Fn(u8)) -> u8 { 0 }\n");
        let syn::Item::Fn(f) = &file.items[1] else {
            panic!("a function")
        };
        assert_eq!(f.sig.ident.to_string(), "r#async");
        assert_eq!(syn::spanned::Spanned::span(&f.sig.ident).start().line, 3);
        let arg = quote::ToTokens::to_token_stream(&f.sig.inputs).to_string();
        assert_eq!(arg, "x : & dyn Fn (u8)");
        // A bound stays a bound.
        let g = parses_2015("fn g<F: Fn(u8)>(f: F) {}");
        let text = quote::ToTokens::to_token_stream(&g).to_string();
        assert!(!text.contains("dyn"), "{text}");
    }

    #[test]
    fn cfgs_that_cannot_hold_are_told_apart_from_features() {
        let cfgs = ["unix".to_string(), "target_os=\"linux\"".to_string()];
        let known = |src: &str| cfg_known(&syn::parse_str(src).unwrap(), &cfgs);
        assert_eq!(known("unix"), Some(true));
        assert_eq!(known("procmacro2_semver_exempt"), Some(false));
        assert_eq!(known("feature = \"std\""), None);
        assert_eq!(known("not(feature = \"std\")"), None);
        assert_eq!(known("all(feature = \"std\", windows)"), Some(false));
        assert_eq!(known("any(feature = \"std\", unix)"), Some(true));
        assert_eq!(known("not(target_os = \"linux\")"), Some(false));
    }

    #[test]
    fn later_editions_parse_as_written_and_report_real_errors() {
        assert!(parse_text("fn async() {}", Edition::E2021).is_err());
        let err = parse_text("fn f( {}", Edition::E2015).unwrap_err();
        assert!(err.line >= 1, "{err}");
        let err = parse_text("fn f() {\n  let = 1;\n}\n", Edition::E2021).unwrap_err();
        assert_eq!(err.line, 2, "{err}");
    }
}
