//! `--function` patterns: the paths people paste, from panics, backtraces and docs, matched
//! against the crate's functions precisely.
//!
//! A pattern is a Rust path, parsed with syn: `text::truncate`, `crate::text::truncate`,
//! `mycrate::Stack<T>::pop`, `Stack::<T>::pop`, `<Amount as FromStr>::from_str`,
//! `<mycrate::Date<Utc> as core::str::FromStr>::from_str`, `FromStr::from_str`. Backtrace
//! decorations (`::h0123456789abcdef`, `::{{closure}}`) are dropped first. Matching goes in
//! tiers and stops at the first tier that finds something, so a path selects what it names:
//!
//! 1. the exact path from the crate root, also through `pub use` re-exports
//!    (`mycrate::parse` names `parser::parse` when the root re-exports it), and
//!    `Type::method` or `Trait::method` with the module in front or not;
//! 2. a free function whose path ends with the pattern (`parser::parse` for `a::parser::parse`);
//! 3. for a one-word pattern without the crate's name, methods of that name as well.

use super::{type_name, unraw, ChangedFn, CrateSource, FnKind, Module};

/// A parsed `--function` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnPattern {
    /// The path's segments, generic arguments left out, `r#` prefixes dropped.
    segments: Vec<String>,
    /// Written from the root: a leading `::` or `crate`. (A leading crate name is recognised
    /// per crate, when matching.)
    rooted: bool,
    /// For `<Type as Trait>::method`: what is in the angle brackets.
    qualified: Option<Qualified>,
}

/// The `<Type as Trait>` part of a qualified path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Qualified {
    /// The self type's name: its last path segment.
    self_ty: String,
    /// The trait's last segment, and the last segments of the types in its generic arguments.
    trait_name: String,
    trait_args: Vec<String>,
}

/// Re-export rewrites tried per pattern, so a cycle of `pub use` cannot loop.
const MAX_REWRITES: usize = 64;

impl FnPattern {
    /// Parses a pattern; the error says what is wrong and what a pattern looks like.
    pub fn parse(text: &str) -> Result<FnPattern, String> {
        let cleaned = strip_decorations(text);
        let bad = |why: &str| {
            format!(
                "`--function {text}` is not a function path ({why}): write it as Rust does, e.g. `text::truncate`, `Stack::pop`, `<Amount as FromStr>::from_str`"
            )
        };
        if cleaned.is_empty() {
            return Err(bad("it is empty"));
        }
        let tokens: proc_macro2::TokenStream = cleaned
            .parse()
            .map_err(|e: proc_macro2::LexError| bad(&e.to_string()))?;
        let path: syn::TypePath =
            syn::parse2(raw_keywords(tokens)).map_err(|e| bad(&e.to_string()))?;
        let segs: Vec<String> = path
            .path
            .segments
            .iter()
            .map(|s| unraw(&s.ident.to_string()).to_string())
            .collect();
        let Some(qself) = &path.qself else {
            let rooted =
                path.path.leading_colon.is_some() || segs.first().is_some_and(|s| s == "crate");
            let segments = segs
                .into_iter()
                .skip_while(|s| s == "crate")
                .collect::<Vec<_>>();
            if segments.is_empty() {
                return Err(bad("it names no function"));
            }
            return Ok(FnPattern {
                segments,
                rooted,
                qualified: None,
            });
        };
        let self_ty = type_name(&qself.ty);
        if qself.position == 0 {
            // `<Type>::method` is `Type::method`.
            let mut segments = vec![self_ty];
            segments.extend(segs);
            return Ok(FnPattern {
                segments,
                rooted: false,
                qualified: None,
            });
        }
        let trait_seg = &path.path.segments[qself.position - 1];
        let trait_args = type_arg_names(&trait_seg.arguments);
        let method: Vec<String> = segs[qself.position..].to_vec();
        if method.len() != 1 {
            return Err(bad("a qualified path names one method after the trait"));
        }
        Ok(FnPattern {
            segments: method,
            rooted: false,
            qualified: Some(Qualified {
                self_ty,
                trait_name: unraw(&trait_seg.ident.to_string()).to_string(),
                trait_args,
            }),
        })
    }

    /// The functions of `all` (from the crate `src`, scanned as `modules`) the pattern names.
    pub fn select<'a>(
        &self,
        src: &CrateSource,
        modules: &[Module],
        all: &'a [ChangedFn],
    ) -> Vec<&'a ChangedFn> {
        if let Some(q) = &self.qualified {
            return all
                .iter()
                .filter(|f| f.name_unraw() == self.segments[0] && q.matches(f))
                .collect();
        }
        let (segments, rooted) = self.without_crate_name(src);
        if segments.is_empty() {
            return Vec::new();
        }
        let paths = resolve_reexports(&segments, modules);
        let exact: Vec<&ChangedFn> = all
            .iter()
            .filter(|f| paths.iter().any(|p| names_exactly(f, p)))
            .collect();
        if !exact.is_empty() {
            return exact;
        }
        let free: Vec<&ChangedFn> = all
            .iter()
            .filter(|f| matches!(f.kind, FnKind::Free) && f.path_segments().ends_with(&segments))
            .collect();
        if !free.is_empty() || rooted || segments.len() > 1 {
            return free;
        }
        all.iter()
            .filter(|f| f.name_unraw() == segments[0])
            .collect()
    }

    /// Up to five names of `all` that come closest to the pattern, for the error message.
    pub fn closest(&self, src: &CrateSource, all: &[ChangedFn]) -> Vec<String> {
        let wanted = match &self.qualified {
            Some(q) => format!("{}::{}", q.self_ty, self.segments[0]),
            None => self.without_crate_name(src).0.join("::"),
        };
        let last = wanted.rsplit("::").next().unwrap_or_default().to_string();
        let mut scored: Vec<(f64, String)> = all
            .iter()
            .map(|f| {
                let inner = f.path_segments().join("::");
                let score = strsim::jaro_winkler(&wanted, &inner)
                    .max(strsim::jaro_winkler(&last, &f.name_unraw()));
                (score, f.display_path.clone())
            })
            .filter(|(score, _)| *score > 0.7)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        scored.dedup_by(|a, b| a.1 == b.1);
        scored.into_iter().take(5).map(|(_, name)| name).collect()
    }

    /// The segments without a leading crate name, and whether the pattern is rooted.
    fn without_crate_name(&self, src: &CrateSource) -> (Vec<String>, bool) {
        match self.segments.split_first() {
            Some((first, rest)) if !rest.is_empty() && first == &src.name => (rest.to_vec(), true),
            _ => (self.segments.clone(), self.rooted),
        }
    }
}

impl Qualified {
    fn matches(&self, f: &ChangedFn) -> bool {
        let FnKind::TraitImpl {
            self_ty,
            trait_path,
            ..
        } = &f.kind
        else {
            return false;
        };
        let Some(last) = trait_path.segments.last() else {
            return false;
        };
        if type_name(self_ty) != self.self_ty || unraw(&last.ident.to_string()) != self.trait_name {
            return false;
        }
        if self.trait_args.is_empty() {
            return true;
        }
        type_arg_names(&last.arguments) == self.trait_args
    }
}

/// The names (last segments) of the types among a path segment's generic arguments:
/// `From<mycrate::Stamp>` gives `["Stamp"]`.
fn type_arg_names(args: &syn::PathArguments) -> Vec<String> {
    match args {
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|arg| match arg {
                syn::GenericArgument::Type(t) => Some(type_name(t)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

impl ChangedFn {
    /// The function's name without `r#`.
    fn name_unraw(&self) -> String {
        unraw(&self.name).to_string()
    }

    /// Module path, self type name for methods, and the function's name, without `r#`.
    pub(super) fn path_segments(&self) -> Vec<String> {
        let mut segs: Vec<String> = self.module.iter().map(|s| unraw(s).to_string()).collect();
        if let FnKind::Inherent { self_ty, .. } | FnKind::TraitImpl { self_ty, .. } = &self.kind {
            segs.push(type_name(self_ty));
        }
        segs.push(self.name_unraw());
        segs
    }
}

/// Whether `path` (from the crate root) is the function's own: its module and name, with the
/// self type or the trait for a method; a method also answers to `Type::method` and
/// `Trait::method` without the module in front.
fn names_exactly(f: &ChangedFn, path: &[String]) -> bool {
    let Some((name, front)) = path.split_last() else {
        return false;
    };
    if *name != f.name_unraw() {
        return false;
    }
    let module: Vec<String> = f.module.iter().map(|s| unraw(s).to_string()).collect();
    match &f.kind {
        FnKind::Free => front == module.as_slice(),
        FnKind::Inherent { self_ty, .. } | FnKind::TraitImpl { self_ty, .. } => {
            let Some((ty, in_module)) = front.split_last() else {
                return false;
            };
            let trait_name = match &f.kind {
                FnKind::TraitImpl { trait_path, .. } => trait_path
                    .segments
                    .last()
                    .map(|s| unraw(&s.ident.to_string()).to_string()),
                _ => None,
            };
            let named = *ty == type_name(self_ty) || trait_name.as_ref() == Some(ty);
            named && (in_module.is_empty() || in_module == module.as_slice())
        }
    }
}

/// The pattern itself and every path it stands for through the crate's `pub use` items.
fn resolve_reexports(segments: &[String], modules: &[Module]) -> Vec<Vec<String>> {
    let mut found: Vec<Vec<String>> = vec![segments.to_vec()];
    let mut next = 0;
    while next < found.len() && found.len() < MAX_REWRITES {
        let path = found[next].clone();
        next += 1;
        // `a::b::X::f`: the module `a::b` may make `X` visible; try every split.
        for split in 0..path.len() {
            let (module_path, rest) = path.split_at(split);
            for module in modules.iter().filter(|m| m.path == module_path) {
                for r in &module.reexports {
                    let rewritten = match &r.name {
                        Some(name) if rest.first() == Some(name) => {
                            [r.target.as_slice(), &rest[1..]].concat()
                        }
                        None => [r.target.as_slice(), rest].concat(),
                        _ => continue,
                    };
                    if !found.contains(&rewritten) {
                        found.push(rewritten);
                    }
                }
            }
        }
    }
    found
}

/// The pattern without what backtraces add: a symbol hash, closure and shim frames.
fn strip_decorations(text: &str) -> String {
    let mut t = text.trim().to_string();
    // A backtrace line: `  12: mycrate::f::h0123456789abcdef`.
    if let Some((n, rest)) = t.split_once(": ") {
        if n.trim().chars().all(|c| c.is_ascii_digit()) {
            t = rest.trim().to_string();
        }
    }
    loop {
        let before = t.len();
        if let Some((head, last)) = t.rsplit_once("::") {
            let closure = last.starts_with('{') && last.ends_with('}');
            let hash = last.len() == 17
                && last.starts_with('h')
                && last[1..].chars().all(|c| c.is_ascii_hexdigit());
            if closure || hash {
                t = head.to_string();
            }
        }
        if t.len() == before {
            break;
        }
    }
    // A package name with dashes at the front is the crate name.
    if let Some((first, rest)) = t.split_once("::") {
        if first.contains('-')
            && first
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        {
            t = format!("{}::{rest}", first.replace('-', "_"));
        }
    }
    t
}

/// Keywords that can only be names in a pasted path: backtraces and old-edition crates write
/// `mycrate::async` or `mycrate::type` for the functions `r#async` and `r#type`. The keywords a
/// type inside generic arguments may need (`fn`, `dyn`, `impl`, `mut`, `const`, `for`, `as`,
/// `unsafe`, `extern`, `crate`, `self`, `super`, `Self`) stay keywords.
const NAME_ONLY_KEYWORDS: &[&str] = &[
    "abstract", "async", "await", "become", "box", "break", "continue", "do", "else", "enum",
    "false", "final", "gen", "if", "in", "let", "loop", "macro", "match", "mod", "move",
    "override", "priv", "pub", "ref", "return", "static", "struct", "trait", "true", "try", "type",
    "typeof", "union", "unsized", "use", "virtual", "where", "while", "yield",
];

/// The tokens with every name-only keyword turned into a raw identifier.
fn raw_keywords(tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    use proc_macro2::{Group, Ident, TokenTree};
    tokens
        .into_iter()
        .map(|t| match t {
            TokenTree::Ident(i) if NAME_ONLY_KEYWORDS.contains(&i.to_string().as_str()) => {
                TokenTree::Ident(Ident::new_raw(&i.to_string(), i.span()))
            }
            TokenTree::Group(g) => {
                let mut out = Group::new(g.delimiter(), raw_keywords(g.stream()));
                out.set_span(g.span());
                TokenTree::Group(out)
            }
            other => other,
        })
        .collect()
}

/// Checks a `--function` value on the command line, before any work starts.
pub fn validate(text: &str) -> Result<String, String> {
    FnPattern::parse(text).map(|_| text.to_string())
}
