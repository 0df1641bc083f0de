//! The comparison with the base revision: behaviour changes (divergences), findings the change
//! introduced versus pre-existing or documented ones, and functions with no comparable base (new,
//! signature changed, base does not build).
//!
//! Each test makes a crate in a temporary git repository, commits the code before the change,
//! commits the change, and runs the tool with `--base HEAD~1`.

mod common;

use std::path::Path;

use common::shared_target_dir;
use serde_json::Value;

/// A library crate `name` in a git repository with two commits: `before` as `src/lib.rs`, then
/// `after`.
fn changed_crate(name: &str, before: &str, after: &str) -> tempfile::TempDir {
    common::changed_crate(name, before, after, true)
}

/// One run of the tool: exit status, output and JSON report.
struct Run {
    code: i32,
    stderr: String,
    report: Option<Value>,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "exit status: {}\n--- stderr ---\n{}",
            self.code, self.stderr
        )?;
        if let Some(r) = &self.report {
            let text = serde_json::to_string_pretty(r).unwrap_or_default();
            writeln!(f, "--- report ---\n{text}")?;
        }
        Ok(())
    }
}

impl Run {
    fn report(&self) -> &Value {
        self.report
            .as_ref()
            .unwrap_or_else(|| panic!("no report was written:\n{self}"))
    }

    fn assert_code(&self, code: i32) {
        assert_eq!(self.code, code, "unexpected exit status:\n{self}");
        assert!(
            !self.stderr.contains("panicked"),
            "the tool panicked:\n{self}"
        );
    }

    fn findings(&self) -> Vec<&Value> {
        self.report()["findings"]
            .as_array()
            .unwrap_or_else(|| panic!("`findings` is not an array:\n{self}"))
            .iter()
            .collect()
    }

    /// The findings for `function` of `kind`.
    fn findings_of(&self, function: &str, kind: &str) -> Vec<&Value> {
        self.findings()
            .into_iter()
            .filter(|f| f["function"] == function && f["kind"] == kind)
            .collect()
    }

    /// The first finding for `function` of `kind`; panics when there is none, or when its
    /// regression test does not reproduce it (every run here proves its findings).
    fn finding(&self, function: &str, kind: &str) -> &Value {
        let f = self
            .findings_of(function, kind)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no `{kind}` finding for `{function}`:\n{self}"));
        assert_eq!(
            f["verified"], true,
            "the `{kind}` finding for `{function}` is not proven: {}\n{self}",
            f["verification"]
        );
        f
    }

    /// The `functions` entry for `function`.
    fn function(&self, function: &str) -> &Value {
        self.report()["functions"]
            .as_array()
            .unwrap_or_else(|| panic!("`functions` is not an array:\n{self}"))
            .iter()
            .find(|f| f["function"] == function)
            .unwrap_or_else(|| panic!("`{function}` is not in the report:\n{self}"))
    }

    /// Asserts that `function` was tested and that its `base` mentions `words`.
    fn assert_function_base(&self, function: &str, words: &str) {
        let f = self.function(function);
        assert_eq!(
            f["status"], "tested",
            "`{function}` was not tested:\n{self}"
        );
        let base = text(f, "base");
        assert!(
            base.contains(words),
            "the base of `{function}` should mention `{words}`: {base}\n{self}"
        );
    }
}

/// `v[key]` as a string; panics when it is not one.
fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {v}"))
}

/// Runs `cargo-edgecheck edgecheck --base HEAD~1 --budget 4s <args>` in `dir` with a JSON report
/// and the shared target dir.
fn edgecheck(dir: &Path, args: &[&str]) -> Run {
    let out_dir = tempfile::tempdir().expect("a temporary directory");
    let report_path = out_dir.path().join("report.json");
    let out = common::tool()
        .arg("edgecheck")
        .args(["--base", "HEAD~1", "--budget", "4s", "--verify"])
        .args(args)
        .args(["--format", "json", "-q", "--output"])
        .arg(&report_path)
        .arg("--target-dir")
        .arg(shared_target_dir())
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("cargo-edgecheck runs");
    let report = std::fs::read_to_string(&report_path).ok().map(|t| {
        serde_json::from_str(&t).unwrap_or_else(|e| panic!("the report is not JSON ({e}):\n{t}"))
    });
    Run {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        report,
    }
}

/// Asserts that `finding` is not introduced and carries `label`.
fn assert_not_introduced(run: &Run, finding: &Value, label: &str) {
    assert_eq!(finding["introduced"], false, "{finding}\n{run}");
    assert_eq!(finding["label"], label, "{finding}\n{run}");
}

#[test]
fn dropped_leap_year_rule_is_a_divergence() {
    let before = "/// Whether `y` is a leap year in the Gregorian calendar.\n\
                  pub fn is_leap(y: u32) -> bool {\n    \
                  y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)\n}\n";
    let after = "/// Whether `y` is a leap year in the Gregorian calendar.\n\
                 pub fn is_leap(y: u32) -> bool {\n    \
                 y % 4 == 0 && y % 100 != 0\n}\n";
    let repo = changed_crate("leap", before, after);
    let run = edgecheck(repo.path(), &[]);
    run.assert_code(1);
    run.assert_function_base("leap::is_leap", "compared with the code before the change");
    let f = run.finding("leap::is_leap", "divergence");
    assert_eq!(f["introduced"], true, "{run}");
    assert_eq!(f["label"], "introduced", "{run}");
    // Every year the rule change affects is a multiple of 400, a leap year the old code knew.
    assert_eq!(text(f, "base"), "returned true", "{run}");
    let input = text(f, "input");
    assert!(input.starts_with("is_leap("), "{run}");
    let test = text(f, "regression_test");
    assert!(
        test.contains(&format!("assert_eq!({input}, true)")),
        "the regression test should assert the old result `true` of `{input}`:\n{test}"
    );
    assert!(
        run.findings().iter().all(|f| f["kind"] == "divergence"),
        "only a divergence is expected:\n{run}"
    );
}

const FIRST_PLUS_BEFORE: &str = r#"/// The first element plus the sum of the others.
pub fn first_plus(v: &[u32]) -> u64 {
    let first = v[0] as u64;
    let mut rest = 0u64;
    for x in &v[1..] {
        rest += *x as u64;
    }
    first + rest
}
"#;

const FIRST_PLUS_AFTER: &str = r#"/// The first element plus the sum of the others.
pub fn first_plus(v: &[u32]) -> u64 {
    let first = u64::from(v[0]);
    first + v[1..].iter().map(|&x| u64::from(x)).sum::<u64>()
}
"#;

#[test]
fn panic_shared_with_the_base_is_pre_existing() {
    let repo = changed_crate("firstplus", FIRST_PLUS_BEFORE, FIRST_PLUS_AFTER);
    let run = edgecheck(repo.path(), &[]);
    run.assert_code(0);
    run.assert_function_base(
        "firstplus::first_plus",
        "compared with the code before the change",
    );
    let f = run.finding("firstplus::first_plus", "panic");
    assert!(text(f, "message").contains("index out of bounds"), "{run}");
    assert!(text(f, "base").contains("panic"), "{run}");
    for f in run.findings() {
        assert_ne!(
            f["kind"], "divergence",
            "the refactor changes no result:\n{run}"
        );
        assert_not_introduced(&run, f, "pre-existing");
    }

    let any = edgecheck(repo.path(), &["--fail-on", "any"]);
    any.assert_code(1);
    let f = any.finding("firstplus::first_plus", "panic");
    assert_not_introduced(&any, f, "pre-existing");
}

#[test]
fn documented_panic_shared_with_the_base_is_expected() {
    let before = r#"/// Each of `n` equal shares of `total`, the remainder dropped.
///
/// # Panics
/// When `n` is zero.
pub fn share(total: u32, n: u32) -> u32 {
    assert!(n > 0, "n must be positive");
    total / n
}
"#;
    let after = r#"/// Each of `n` equal shares of `total`, the remainder dropped.
///
/// # Panics
/// When `n` is zero.
pub fn share(total: u32, n: u32) -> u32 {
    assert!(n > 0, "n must be positive");
    let each = total / n;
    each
}
"#;
    let repo = changed_crate("shares", before, after);
    let run = edgecheck(repo.path(), &[]);
    run.assert_code(0);
    let f = run.finding("shares::share", "panic");
    assert!(text(f, "message").contains("n must be positive"), "{run}");
    for f in run.findings() {
        assert_ne!(
            f["kind"], "divergence",
            "the refactor changes no result:\n{run}"
        );
        assert_not_introduced(&run, f, "expected");
    }
}

#[test]
fn panic_of_a_new_function_is_introduced() {
    let before = "/// One.\npub fn one() -> u32 {\n    1\n}\n";
    let after = "/// One.\npub fn one() -> u32 {\n    1\n}\n\n\
                 /// The byte at `i`.\npub fn byte_at(v: &[u8], i: usize) -> u8 {\n    v[i]\n}\n";
    let repo = changed_crate("newfn", before, after);
    let run = edgecheck(repo.path(), &[]);
    run.assert_code(1);
    run.assert_function_base("newfn::byte_at", "no comparable base");
    let f = run.finding("newfn::byte_at", "panic");
    assert_eq!(f["introduced"], true, "{run}");
    assert_eq!(f["label"], "introduced", "{run}");
    assert!(text(f, "base").contains("no comparable base"), "{run}");
}

#[test]
fn panic_after_a_signature_change_is_introduced() {
    let before = "/// The first byte, or 0.\npub fn byte_at(v: &[u8]) -> u8 {\n    \
                  v.first().copied().unwrap_or(0)\n}\n";
    let after = "/// The byte at `i`.\npub fn byte_at(v: &[u8], i: usize) -> u8 {\n    v[i]\n}\n";
    let repo = changed_crate("sigchange", before, after);
    let run = edgecheck(repo.path(), &[]);
    run.assert_code(1);
    run.assert_function_base("sigchange::byte_at", "signature changed");
    let f = run.finding("sigchange::byte_at", "panic");
    assert_eq!(f["introduced"], true, "{run}");
    assert_eq!(f["label"], "introduced", "{run}");
}

#[test]
fn base_that_does_not_build_gives_no_comparison_and_no_error() {
    let before = r#"/// The byte at `i`, or 0.
pub fn byte_at(v: &[u8], i: usize) -> u8 {
    v.get(i).copied().unwrap_or(0)
}

/// A name.
pub fn name() -> u32 {
    "not a number"
}
"#;
    let after = r#"/// The byte at `i`, or 0.
pub fn byte_at(v: &[u8], i: usize) -> u8 {
    v[i]
}

/// A name.
pub fn name() -> &'static str {
    "not a number"
}
"#;
    let repo = changed_crate("brokenbase", before, after);
    let run = edgecheck(repo.path(), &[]);
    run.assert_code(1);
    run.assert_function_base("brokenbase::byte_at", "does not build");
    let f = run.finding("brokenbase::byte_at", "panic");
    assert_eq!(f["introduced"], true, "{run}");
    assert_eq!(f["label"], "introduced", "{run}");
}

#[test]
fn float_refactor_with_the_same_results_has_no_divergence() {
    let before = r#"/// The arithmetic mean of `xs`, 0 for none.
pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let mut sum = 0.0;
    for x in xs {
        sum += x;
    }
    sum / xs.len() as f64
}
"#;
    let after = r#"/// The arithmetic mean of `xs`, 0 for none.
pub fn mean(xs: &[f64]) -> f64 {
    match xs.len() {
        0 => 0.0,
        n => xs.iter().fold(0.0, |sum, &x| sum + x) / n as f64,
    }
}
"#;
    let repo = changed_crate("floatmean", before, after);
    let run = edgecheck(repo.path(), &[]);
    run.assert_code(0);
    run.assert_function_base(
        "floatmean::mean",
        "compared with the code before the change",
    );
    assert!(run.findings().is_empty(), "no finding expected:\n{run}");
}

#[test]
fn negative_zero_is_a_divergence_only_with_strict_floats() {
    let before = "/// `x` negated.\npub fn negate(x: f64) -> f64 {\n    0.0 - x\n}\n";
    let after = "/// `x` negated.\npub fn negate(x: f64) -> f64 {\n    -x\n}\n";
    let repo = changed_crate("negzero", before, after);
    let run = edgecheck(repo.path(), &[]);
    run.assert_code(0);
    assert!(run.findings().is_empty(), "no finding expected:\n{run}");

    let strict = edgecheck(repo.path(), &["--strict-floats"]);
    strict.assert_code(1);
    let f = strict.finding("negzero::negate", "divergence");
    assert_eq!(f["introduced"], true, "{strict}");
}

#[test]
fn mut_argument_is_compared_after_the_call() {
    let before = "/// Appends `x` to `v` twice.\npub fn push_twice(v: &mut Vec<u8>, x: u8) {\n    \
                  v.push(x);\n    v.push(x);\n}\n";
    let after = "/// Appends `x` to `v` twice.\npub fn push_twice(v: &mut Vec<u8>, x: u8) {\n    \
                 v.push(x);\n}\n";
    let repo = changed_crate("pushtwice", before, after);
    let run = edgecheck(repo.path(), &[]);
    run.assert_code(1);
    run.assert_function_base(
        "pushtwice::push_twice",
        "compared with the code before the change",
    );
    let f = run.finding("pushtwice::push_twice", "divergence");
    assert_eq!(f["introduced"], true, "{run}");
    assert!(text(f, "input").starts_with("push_twice("), "{run}");
}

/// A result whose type gained a field prints differently before and after the change, whatever
/// the code does: that is not a divergence. Panics are still compared.
#[test]
fn a_result_type_declared_differently_is_not_compared() {
    let before = "/// A size.\n#[derive(Debug)]\npub struct Size {\n    pub w: u32,\n}\n\n\
                  /// The size of a row of `n` cells.\npub fn row(n: u32) -> Size {\n    Size { w: n.saturating_mul(2) }\n}\n";
    let after = "/// A size.\n#[derive(Debug)]\npub struct Size {\n    pub w: u32,\n    pub h: u32,\n}\n\n\
                 /// The size of a row of `n` cells.\npub fn row(n: u32) -> Size {\n    Size { w: n * 2, h: 1 }\n}\n";
    let repo = changed_crate("rows", before, after);
    let run = edgecheck(repo.path(), &["--engines", "edge"]);
    run.assert_code(1);
    assert!(
        run.findings_of("rows::row", "divergence").is_empty(),
        "no divergence from the new field: {run}"
    );
    let f = run.finding("rows::row", "overflow");
    assert_eq!(f["introduced"], true, "{run}");
}

#[test]
fn results_that_vary_between_calls_are_not_called_divergences() {
    // A correct refactor whose pairs come from a map, in no particular order: compared
    // order-free. A seeded hash is not a function of its input at all: not compared.
    let before = r#"use std::collections::HashMap;

/// How often each char occurs, in no particular order.
pub fn counts(s: &str) -> Vec<(char, usize)> {
    let mut m = HashMap::new();
    for c in s.chars() {
        *m.entry(c).or_insert(0) += 1;
    }
    m.into_iter().collect()
}

/// A hash of `s`, seeded at random.
pub fn token(s: &str) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write(s.as_bytes());
    h.finish()
}
"#;
    let after = r#"use std::collections::HashMap;

/// How often each char occurs, in no particular order.
pub fn counts(s: &str) -> Vec<(char, usize)> {
    let mut m: HashMap<char, usize> = HashMap::new();
    s.chars().for_each(|c| *m.entry(c).or_default() += 1);
    m.into_iter().collect()
}

/// A hash of `s`, seeded at random.
pub fn token(s: &str) -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(s)
}
"#;
    let repo = changed_crate("unordered", before, after);
    let run = edgecheck(repo.path(), &["--engines", "edge,proptest"]);
    run.assert_code(0);
    assert!(run.findings().is_empty(), "no finding expected:\n{run}");
    run.assert_function_base(
        "unordered::counts",
        "compared with the code before the change",
    );
    run.assert_function_base("unordered::token", "results are not compared");
}

#[test]
fn a_generalised_signature_is_compared_when_the_old_function_takes_the_same_call() {
    let before = r#"/// The first byte.
///
/// # Panics
/// On an empty slice.
pub fn lead(v: &[u8]) -> u8 {
    v[0]
}

/// The sum.
pub fn total(v: Vec<u32>) -> u32 {
    v.iter().sum()
}

/// The first char.
pub fn initial(s: &str) -> char {
    s.chars().next().unwrap_or(' ')
}
"#;
    // An added lifetime and a parameter generalised to a bound the old type meets: the old
    // function takes the new call. `initial`'s new call passes a `String`, which it does not.
    let after = r#"/// The first byte.
///
/// # Panics
/// On an empty slice.
pub fn lead<'a>(v: &'a [u8]) -> u8 {
    *v.first().expect("an empty slice has no first byte")
}

/// The sum.
pub fn total<I: IntoIterator<Item = u32>>(v: I) -> u32 {
    v.into_iter().sum()
}

/// The first char.
pub fn initial<S: AsRef<str>>(s: S) -> char {
    s.as_ref().chars().next().unwrap_or(' ')
}
"#;
    let repo = changed_crate("generalised", before, after);
    let run = edgecheck(repo.path(), &["--engines", "edge,proptest"]);
    run.assert_code(0);
    run.assert_function_base(
        "generalised::lead",
        "compared with the code before the change",
    );
    run.assert_function_base(
        "generalised::total",
        "compared with the code before the change",
    );
    run.assert_function_base("generalised::initial", "does not take the same arguments");
    let lead = run.finding("generalised::lead", "panic");
    assert_not_introduced(&run, lead, "expected");
    let total = run.finding("generalised::total", "overflow");
    assert_not_introduced(&run, total, "pre-existing");
}
