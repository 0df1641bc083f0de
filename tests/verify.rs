//! `--verify`: every finding's regression test is pasted next to its function in a scratch copy,
//! built with `cargo test` and run; the report says which findings it proved, and why not.

mod common;

use common::*;

const BEFORE: &str = r#"/// The first `max` characters of `s`.
pub fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

/// Half of `x`.
pub fn half(x: u32) -> u32 {
    x / 2
}

/// The first byte.
pub fn first(v: &[u8]) -> u8 {
    v[0]
}
"#;

const AFTER: &str = r#"/// The first `max` characters of `s`.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    &s[..max]
}

/// Half of `x`.
pub fn half(x: u32) -> u32 {
    x >> 2
}

/// The first byte.
pub fn first(v: &[u8]) -> u8 {
    let byte = v[0];
    byte
}
"#;

/// The runs here are short: the edge engine alone finds all of it. (`common::edgecheck` adds
/// `--verify` to every run.)
const QUICK: &[&str] = &["--base", "HEAD~1", "--budget", "3s", "--engines", "edge"];

/// An introduced panic, an introduced divergence and a pre-existing panic are each proven: the
/// test fails on the head and, for the introduced ones, passes on the base. The user's tree is
/// not touched.
#[test]
fn every_kind_of_finding_is_proven() {
    let repo = changed_crate("proven", BEFORE, AFTER, true);
    let run = edgecheck(repo.path(), QUICK);
    run.assert_code(1);
    let panic = run.finding("proven::truncate", "panic");
    let divergence = run.finding("proven::half", "divergence");
    let shared = run.finding("proven::first", "panic");
    assert_eq!(panic["label"], "introduced", "{run}");
    assert_eq!(divergence["label"], "introduced", "{run}");
    assert_eq!(shared["label"], "pre-existing", "{run}");
    for f in run.findings() {
        assert_eq!(f["verified"], true, "{f:#}\n{run}");
        assert!(f.get("verification").is_none(), "{f:#}");
    }
    assert_eq!(
        git(repo.path(), &["status", "--porcelain"]),
        "",
        "the user's tree changed"
    );
}

const LEVEL_BEFORE: &str = r#"/// The first `max` characters of `s`.
pub fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

/// A level, shown but not comparable.
#[derive(Debug)]
pub struct Level(pub u8);

/// The level of `x`.
pub fn level(x: u8) -> Level {
    Level(x / 2)
}
"#;

const LEVEL_AFTER: &str = r#"/// The first `max` characters of `s`.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    &s[..max]
}

/// A level, shown but not comparable.
#[derive(Debug)]
pub struct Level(pub u8);

/// The level of `x`.
pub fn level(x: u8) -> Level {
    Level(x >> 2)
}
"#;

/// A divergence whose test cannot compile (the result type has no `PartialEq` for its
/// `assert_eq!`) is kept, marked unverified with the compiler's error; the other finding of the
/// same copy is still proven, and the run goes on.
#[test]
fn a_finding_whose_test_does_not_compile_is_unverified_not_dropped() {
    let repo = changed_crate("unproven", LEVEL_BEFORE, LEVEL_AFTER, true);
    let run = edgecheck(repo.path(), QUICK);
    run.assert_code(1);
    // Not `run.finding`, which asserts the proof.
    let f = run
        .findings_of("unproven::level", "divergence")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no divergence for `unproven::level`:\n{run}"));
    assert_eq!(f["verified"], false, "{run}");
    let why = str_of(f, "verification");
    assert!(
        why.starts_with("the test does not compile: ") && why.contains("=="),
        "{why}"
    );
    let panic = run.finding("unproven::truncate", "panic");
    assert_eq!(panic["verified"], true, "{run}");
}
