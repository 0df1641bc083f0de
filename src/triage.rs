//! Findings from raw harness reports: the kind of failure, locations mapped back to the user's files, duplicates merged, the input as a Rust call and a ready-to-paste regression test.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ids::stable_id;
use crate::protocol::{Engine, Kind};
use crate::run::{BaseOutcome, RawFinding};
use crate::select::{ChangedFn, FnKind};

/// One edge case found, as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable across runs for the same function, kind and location.
    pub id: String,
    pub function: String,
    pub kind: FindingKind,
    /// For a `crash`: how it ended the process (`exit`, `abort` or `signal`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ending: Option<Ending>,
    /// Whether the change introduced it: the code before the change did not fail the same way
    /// on the same input (or there is no code before it to compare with).
    pub introduced: bool,
    pub label: Label,
    pub engine: Engine,
    pub message: String,
    pub location: Option<Location>,
    /// Where the panic happened, when that is in std or a dependency: `location` is then the
    /// line of the user's code that called into it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub panicked_in: Option<String>,
    /// The input as a Rust call: `truncate("é", 1)`.
    pub input: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    pub elapsed_ms: u64,
    pub regression_test: String,
    /// A finding in a changed helper, reached through this caller (which `input` calls).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub through: Option<String>,
    /// With `--verify`: whether `regression_test`, pasted next to the function, failed on the
    /// head and (for an introduced finding) passed on the base. Absent without `--verify`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// Why the finding is not verified, when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<String>,
}

impl Finding {
    /// The kind as people read it: a `crash` says how it ended the process.
    pub fn kind_name(&self) -> String {
        match self.ending {
            Some(e) => e.name().to_string(),
            None => self.kind.to_string(),
        }
    }
}

/// What went wrong, as reported: the harness's kinds, with overflow panics told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    Panic,
    /// An arithmetic overflow panic (the harness builds with overflow checks on).
    Overflow,
    Divergence,
    Timeout,
    Oom,
    /// The process ended while the function ran: how is the finding's [`Ending`].
    Crash,
}

impl FindingKind {
    /// Whether the finding ended the harness process: its base outcome comes only from
    /// running the base on the same input in a process of its own.
    pub fn ends_process(self) -> bool {
        matches!(
            self,
            FindingKind::Timeout | FindingKind::Oom | FindingKind::Crash
        )
    }
}

/// How a `crash` ended the process. Each is a finding of its own (its own id, and compared
/// with the base on its own: a base that exits where the head aborts did not fail the same
/// way), while the report's `kind` stays `crash`, as the report schema has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ending {
    /// `process::exit`, with any status (0 included).
    Exit,
    /// `process::abort`, a stack overflow, a panic while panicking or in an `extern "C"` fn.
    Abort,
    /// A signal other than SIGABRT (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGKILL, ...).
    Signal,
}

impl Ending {
    /// How the harness's kind of failure ended the process, when it did in one of these ways.
    pub fn of(kind: Kind) -> Option<Ending> {
        match kind {
            Kind::Exit => Some(Ending::Exit),
            Kind::Abort => Some(Ending::Abort),
            Kind::Signal => Some(Ending::Signal),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Ending::Exit => "exit",
            Ending::Abort => "abort",
            Ending::Signal => "signal",
        }
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FindingKind::Panic => "panic",
            FindingKind::Overflow => "overflow",
            FindingKind::Divergence => "divergence",
            FindingKind::Timeout => "timeout",
            FindingKind::Oom => "oom",
            FindingKind::Crash => "crash",
        })
    }
}

/// Whose a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Label {
    /// The change introduced it: the code before the change did not fail the same way on the
    /// same input (or there is no code before it to compare with).
    Introduced,
    /// The code before the change failed the same way.
    PreExisting,
    /// A panic the doc comment announces under `# Panics`, shared with the code before.
    Expected,
    /// What the code before the change does on the input could not be established (a hang,
    /// out-of-memory or end of the process whose input could not be run on the base).
    Unknown,
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Label::Introduced => "introduced",
            Label::PreExisting => "pre-existing",
            Label::Expected => "expected",
            Label::Unknown => "unknown",
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// Maps paths in the scratch copy back to the user's tree, relative to where reports point.
#[derive(Debug, Clone)]
pub struct PathMap {
    /// The scratch copy of the workspace root.
    pub copy_root: PathBuf,
    /// The workspace root in the user's tree.
    pub ws_root: PathBuf,
    /// What report paths are relative to (the repository root, or the workspace root).
    pub report_root: PathBuf,
    /// The directories of the packages under test, in the user's tree.
    pub package_dirs: Vec<PathBuf>,
}

impl PathMap {
    /// The report path of a file in the copy; other paths (std, dependencies) as they are.
    pub fn user_path(&self, file: &str) -> String {
        let p = Path::new(file);
        if let Ok(rel) = p.strip_prefix(&self.copy_root) {
            return self.report_path(&self.ws_root.join(rel));
        }
        // Debug info names a crate's files relative to its package (`./src/lib.rs`).
        if p.is_relative() {
            let rel = p.strip_prefix(".").unwrap_or(p);
            if let Some(dir) = self.package_dirs.iter().find(|d| d.join(rel).is_file()) {
                return self.report_path(&dir.join(rel));
            }
        }
        file.to_string()
    }

    /// A path in the user's tree, relative to the report root when it lies under it.
    pub fn report_path(&self, p: &Path) -> String {
        Self::relative(&self.report_root, p)
    }

    /// `p` relative to `root` when it lies under it, with `/` separators.
    pub fn relative(root: &Path, p: &Path) -> String {
        let p = p.strip_prefix(root).unwrap_or(p);
        p.to_string_lossy().replace('\\', "/")
    }
}

/// Classifies, maps and deduplicates the raw findings of one function, and decides from what
/// the base version did on the same input whether the change introduced each one. `no_base`
/// says why there was no base to compare with, when there was none.
pub fn triage(
    func: &ChangedFn,
    shape: &CallShape,
    raw: &[RawFinding],
    paths: &PathMap,
    no_base: Option<&str>,
) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    // Several processes may find the same edge case: show the simplest input for it, and the
    // time it was first found.
    let first_found = |r: &RawFinding| {
        raw.iter()
            .filter(|o| o.kind == r.kind && o.location == r.location)
            .map(|o| o.elapsed_ms)
            .min()
    };
    let mut sorted: Vec<&RawFinding> = raw.iter().collect();
    sorted.sort_by_key(|r| {
        (
            r.args
                .as_ref()
                .map_or(usize::MAX, |a| a.iter().map(String::len).sum()),
            r.elapsed_ms,
        )
    });
    for r in sorted {
        let kind = classify(r.kind, &r.message);
        let location = r.location.as_ref().map(|(f, l, c)| Location {
            file: paths.user_path(f),
            line: *l,
            column: *c,
        });
        let key_loc = location
            .as_ref()
            .map(|l| format!("{}:{}:{}", l.file, l.line, l.column))
            .unwrap_or_default();
        // An exit, an abort and a signal in one function are three findings.
        let kind_key = match Ending::of(r.kind) {
            Some(e) => format!("{kind}:{}", e.name()),
            None => kind.to_string(),
        };
        let id = stable_id(&format!("{}|{}|{}", func.display_path, kind_key, key_loc));
        if out.iter().any(|f| f.id == id) {
            continue;
        }
        let verdict = judge(func, kind, r, no_base);
        let input = match &r.args {
            Some(args) => call_text(func, shape, args),
            None => "(input not recovered)".to_string(),
        };
        let message = if kind == FindingKind::Divergence {
            format!(
                "the result differs from the code before the change: it returned {}, now {}",
                r.base_value().unwrap_or("?"),
                r.head_value.as_deref().unwrap_or("?")
            )
        } else {
            r.message.clone()
        };
        // The base's value, and the head's it differs from.
        let expect = (kind == FindingKind::Divergence)
            .then(|| r.base_value())
            .flatten()
            .map(|old| (old, r.head_value.as_deref().unwrap_or("")));
        let ending = Ending::of(r.kind);
        let regression_test = regression_test(
            (func, shape),
            (kind, ending),
            &message,
            location.as_ref(),
            r.args.as_deref(),
            &id,
            expect,
        );
        out.push(Finding {
            id,
            function: func.display_path.clone(),
            kind,
            ending,
            introduced: verdict.label == Label::Introduced,
            label: verdict.label,
            engine: r.engine,
            message,
            location,
            panicked_in: r.origin.clone(),
            input,
            base: Some(verdict.base),
            head: Some(head_text(kind, r)),
            elapsed_ms: first_found(r).unwrap_or(r.elapsed_ms),
            regression_test,
            through: None,
            verified: None,
            verification: None,
        });
    }
    out
}

/// Findings of a caller of the changed `helper`: those located in the helper are the helper's,
/// reached through the caller.
pub fn attribute_to_helper(
    findings: &mut [Finding],
    caller: &ChangedFn,
    helper: &ChangedFn,
    helper_file: &str,
) {
    for f in findings {
        let inside = f.location.as_ref().is_some_and(|l| {
            l.file == helper_file && (helper.line..=helper.end_line).contains(&(l.line as usize))
        });
        if inside {
            f.function = helper.display_path.clone();
            f.through = Some(caller.display_path.clone());
        }
    }
}

/// Whether a finding is the change's, and what the base did.
struct Verdict {
    label: Label,
    base: String,
}

fn judge(func: &ChangedFn, kind: FindingKind, r: &RawFinding, no_base: Option<&str>) -> Verdict {
    let introduced = |base: String| Verdict {
        label: Label::Introduced,
        base,
    };
    let Some(outcome) = &r.base else {
        if no_base.is_none() && kind.ends_process() {
            // The function has a base, but it could not be run on this input.
            return Verdict {
                label: Label::Unknown,
                base: "unknown: the code before the change could not be run on this input"
                    .to_string(),
            };
        }
        return introduced(no_base.unwrap_or("no comparable base").to_string());
    };
    match outcome {
        BaseOutcome::Returned(v) => introduced(match v {
            Some(v) => format!("returned {v}"),
            None => "returned normally".to_string(),
        }),
        BaseOutcome::Panicked { message, .. } => {
            let base_kind = classify(Kind::Panic, message);
            if base_kind != kind {
                return introduced(format!("{base_kind}: {message}"));
            }
            // A `# Panics` section in the doc comment announces the panic.
            let documented = func.doc.lines().any(|l| l.trim() == "# Panics");
            Verdict {
                label: if documented {
                    Label::Expected
                } else {
                    Label::PreExisting
                },
                base: format!("{base_kind}: {message}"),
            }
        }
        BaseOutcome::Ended(base_kind)
            if classify(*base_kind, "") == kind && Ending::of(*base_kind) == Ending::of(r.kind) =>
        {
            Verdict {
                label: Label::PreExisting,
                base: format!("{} as well", base_kind.name()),
            }
        }
        BaseOutcome::Ended(base_kind) => introduced(base_kind.name().to_string()),
        BaseOutcome::Unknown(why) => Verdict {
            label: Label::Unknown,
            base: format!("unknown: {why}"),
        },
    }
}

fn head_text(kind: FindingKind, r: &RawFinding) -> String {
    match kind {
        FindingKind::Divergence => {
            format!("returned {}", r.head_value.as_deref().unwrap_or("?"))
        }
        FindingKind::Timeout => "did not return (timeout)".into(),
        FindingKind::Oom => "ran out of memory".into(),
        FindingKind::Crash => match Ending::of(r.kind) {
            Some(Ending::Exit) => "ended the process (process::exit)".into(),
            Some(Ending::Abort) => "aborted the process".into(),
            Some(Ending::Signal) => "was killed by a signal".into(),
            None => "crashed the process".into(),
        },
        FindingKind::Panic | FindingKind::Overflow => format!("{kind}: {}", r.message),
    }
}

/// `overflow` for arithmetic overflow panics (the harness builds with overflow checks on).
pub fn classify(raw_kind: Kind, message: &str) -> FindingKind {
    match raw_kind {
        Kind::Panic if message.starts_with("attempt to ") && message.ends_with("with overflow") => {
            FindingKind::Overflow
        }
        Kind::Panic => FindingKind::Panic,
        Kind::Divergence => FindingKind::Divergence,
        Kind::Timeout => FindingKind::Timeout,
        Kind::Oom => FindingKind::Oom,
        Kind::Crash | Kind::Exit | Kind::Abort | Kind::Signal => FindingKind::Crash,
    }
}

/// The call of `func` on rendered arguments; a formatting trait's `fmt` as the `format!` that
/// calls it.
fn call_text(func: &ChangedFn, shape: &CallShape, args: &[String]) -> String {
    let name = match (&shape.self_ty, &func.kind) {
        (Some(ty), FnKind::TraitImpl { trait_path, .. }) => {
            format!("<{ty} as {}>::{}", trait_name(trait_path), func.name)
        }
        (Some(ty), FnKind::Inherent { .. }) => format!("<{ty}>::{}", func.name),
        _ => call_name(func),
    };
    match crate::plan::format_spec(func) {
        Some(spec) => format!("format!({spec:?}, {})", args.join(", ")),
        None if shape.type_args.is_empty() => format!("{name}({})", args.join(", ")),
        None => format!(
            "{name}::<{}>({})",
            shape.type_args.join(", "),
            args.join(", ")
        ),
    }
}

/// How a call outside the harness (the input shown, a regression test) is written, beyond the
/// function's name: what the plan chose where the compiler could not infer it.
#[derive(Debug, Clone, Default)]
pub struct CallShape {
    /// Types for the function's own type parameters (`median::<i32>(&[])`).
    pub type_args: Vec<String>,
    /// The self type of a blanket impl, instantiated (`<Vec<u8> as ToHex>::to_hex`).
    pub self_ty: Option<String>,
    /// It returns a lazy iterator: a test consumes it (up to this many items), so a panic in
    /// it shows, and a divergence compares the items.
    pub drain: Option<usize>,
}

impl CallShape {
    /// What a call outside the harness needs from the plan: the types chosen for type
    /// parameters, the instantiated self type, and whether the result is a lazy iterator.
    pub fn of(plan: &crate::plan::Plan) -> CallShape {
        let text = |t: &syn::Type| tidy_tokens(&quote::ToTokens::to_token_stream(t).to_string());
        match plan {
            crate::plan::Plan::Call(p) => CallShape {
                type_args: p.type_args.iter().map(text).collect(),
                self_ty: p.instantiated_self.as_ref().map(text),
                drain: (p.result == crate::plan::ResultUse::Drain)
                    .then_some(crate::generate::DRAIN_CAP),
            },
            crate::plan::Plan::Skip(_) => CallShape::default(),
        }
    }
}

/// A trait as a call names it: its last segment with its generic arguments (`From<Meters>`).
fn trait_name(trait_path: &syn::Path) -> String {
    trait_path
        .segments
        .last()
        .map(|s| {
            let args = &s.arguments;
            let args = quote::ToTokens::to_token_stream(args).to_string();
            tidy_tokens(&format!("{}{args}", s.ident))
        })
        .unwrap_or_default()
}

/// Tokens as people write them: `Vec<u8>`, not `Vec < u8 >`.
fn tidy_tokens(tokens: &str) -> String {
    tokens
        .replace(" < ", "<")
        .replace("< ", "<")
        .replace(" <", "<")
        .replace(" >", ">")
        .replace(" :: ", "::")
        .replace(" ,", ",")
        .replace("& ", "&")
}

/// How the function is called from its own module: `truncate` or `Stack::new`.
pub fn call_name(func: &ChangedFn) -> String {
    match &func.kind {
        FnKind::Free => func.name.clone(),
        FnKind::Inherent { self_ty, .. } => format!("{}::{}", type_name(self_ty), func.name),
        FnKind::TraitImpl {
            self_ty,
            trait_path,
            ..
        } => format!(
            "<{} as {}>::{}",
            type_name(self_ty),
            trait_name(trait_path),
            func.name
        ),
    }
}

fn type_name(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        other => quote::ToTokens::to_token_stream(other).to_string(),
    }
}

/// `call`, consumed when it returns a lazy iterator.
fn drained(shape: &CallShape, call: String) -> String {
    match shape.drain {
        Some(cap) => format!("{call}.take({cap}).collect::<Vec<_>>()"),
        None => call,
    }
}

/// The assertion that `call` returns the value whose canonical text is `old` (where it now
/// returns `now`). NaN equals NaN there; when the divergence is the sign of a zero
/// (`--strict-floats`), the sign is what is asserted, as `==` does not tell them apart.
fn value_assertion(call: &str, old: &str, now: &str) -> String {
    match (old, now) {
        ("NaN", _) => format!("assert!({call}.is_nan());"),
        ("0.0", "-0.0") => {
            format!("let r = {call};\n    assert!(r == 0.0 && r.is_sign_positive(), \"{{r:?}}\");")
        }
        ("-0.0", "0.0") => {
            format!("let r = {call};\n    assert!(r == 0.0 && r.is_sign_negative(), \"{{r:?}}\");")
        }
        // A string inside a wrapper (`Err("bad digit")`) is a `&str` literal where the value
        // may hold a `String`, which `==` does not compare across `Result` or `Option`: their
        // `Debug` texts compare instead (the observation is that text, maps and sets aside).
        _ if old.contains('"') && !old.starts_with('"') && !old.contains('{') => {
            format!(
                "assert_eq!(format!(\"{{:?}}\", {call}), {});",
                raw_literal(old)
            )
        }
        _ => format!("assert_eq!({call}, {old});"),
    }
}

/// `text` as a raw string literal, with as many `#` as it needs.
fn raw_literal(text: &str) -> String {
    let mut hashes = String::from("#");
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{text}\"{hashes}")
}

/// For a call with `&mut` arguments, whose observation is the result and then each of them
/// after the call (`(); then the `&mut` argument is [0, 0]`): each bound to a local, the call
/// made, and each compared. `None` when the observation has no `&mut` part.
fn expected_value_body(
    (func, shape): (&ChangedFn, &CallShape),
    args: &[String],
    old: &str,
) -> Option<String> {
    let mut parts = old.split("; then the `&mut` argument is ");
    let result = parts.next()?;
    let after: Vec<&str> = parts.collect();
    let mutable: Vec<usize> = (0..args.len())
        .filter(|&i| args[i].starts_with("&mut "))
        .collect();
    if after.is_empty() || after.len() != mutable.len() {
        return None;
    }
    let mut lines = Vec::new();
    let mut bound = args.to_vec();
    for (n, &i) in mutable.iter().enumerate() {
        lines.push(format!("let mut arg{n} = {};", &args[i]["&mut ".len()..]));
        bound[i] = format!("&mut arg{n}");
    }
    let call = drained(shape, call_text(func, shape, &bound));
    match result {
        "()" | "_" => lines.push(format!("let _ = {call};")),
        value => lines.push(value_assertion(&call, value, "")),
    }
    for (n, value) in after.iter().enumerate() {
        if *value != "_" {
            lines.push(format!("assert_eq!(arg{n}, {value});"));
        }
    }
    Some(lines.join("\n    "))
}

/// A `#[test]` that reproduces the finding; it fails until the edge case is handled.
fn regression_test(
    (func, shape): (&ChangedFn, &CallShape),
    (kind, ending): (FindingKind, Option<Ending>),
    message: &str,
    location: Option<&Location>,
    args: Option<&[String]>,
    id: &str,
    expect: Option<(&str, &str)>,
) -> String {
    let short: String = message
        .chars()
        .take(160)
        .collect::<String>()
        .replace('\n', " ");
    let at = location
        .map(|l| format!(" at {}:{}:{}", l.file, l.line, l.column))
        .unwrap_or_default();
    let what = match kind {
        FindingKind::Timeout => format!("hangs ({short})"),
        FindingKind::Oom => format!("runs out of memory ({short})"),
        FindingKind::Crash => match ending {
            Some(Ending::Exit) => format!("ends the process ({short})"),
            Some(Ending::Abort) => format!("aborts the process ({short})"),
            Some(Ending::Signal) => format!("is killed by a signal ({short})"),
            None => format!("crashes the process ({short})"),
        },
        FindingKind::Overflow => format!("overflows: {short}{at}"),
        FindingKind::Divergence => short.clone(),
        FindingKind::Panic => format!("panics: {short}{at}"),
    };
    let call = match args {
        Some(a) => drained(shape, call_text(func, shape, a)),
        None => format!("{}(/* input not recovered */)", call_name(func)),
    };
    let test_name = format!(
        "edgecheck_{}_{}_{}",
        func.name.trim_start_matches("r#"),
        kind,
        &id[..6]
    )
    .to_lowercase();
    let body = match (expect, args) {
        (Some((old, now)), Some(a)) => expected_value_body((func, shape), a, old)
            .unwrap_or_else(|| value_assertion(&call, old, now)),
        (Some((old, now)), None) => value_assertion(&call, old, now),
        (None, _) => format!("let _ = {call};"),
    };
    // A private function is only reachable from a test module next to it: say so.
    let private = if func.is_pub { "" } else { "; it is private" };
    let place = format!(
        "the `#[cfg(test)]` module next to `{}` (with `use super::*;`{private})",
        func.name
    );
    format!(
        "#[test]\nfn {test_name}() {{\n    // Found by cargo-edgecheck: {what}.\n    // Put this in {place}; it fails until the edge case is handled.\n    {body}\n}}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_messages_are_overflows() {
        assert_eq!(
            classify(Kind::Panic, "attempt to multiply with overflow"),
            FindingKind::Overflow
        );
        assert_eq!(
            classify(Kind::Panic, "attempt to shift left with overflow"),
            FindingKind::Overflow
        );
        assert_eq!(
            classify(Kind::Panic, "attempt to divide by zero"),
            FindingKind::Panic
        );
        assert_eq!(
            classify(
                Kind::Panic,
                "index out of bounds: the len is 0 but the index is 0"
            ),
            FindingKind::Panic
        );
        assert_eq!(classify(Kind::Timeout, ""), FindingKind::Timeout);
        // The names in reports, ids and regression test names.
        assert_eq!(FindingKind::Overflow.to_string(), "overflow");
        assert_eq!(Label::PreExisting.to_string(), "pre-existing");
        assert_eq!(
            serde_json::to_value(Label::PreExisting).unwrap(),
            "pre-existing"
        );
    }

    #[test]
    fn copy_paths_map_back_to_the_user_tree() {
        let m = PathMap {
            copy_root: "/t/edgecheck/head".into(),
            ws_root: "/repo/ws".into(),
            report_root: "/repo".into(),
            package_dirs: vec![],
        };
        assert_eq!(m.user_path("/t/edgecheck/head/src/lib.rs"), "ws/src/lib.rs");
        assert_eq!(
            m.user_path("/rustc/abc/library/core/src/cmp.rs"),
            "/rustc/abc/library/core/src/cmp.rs"
        );
    }
}
