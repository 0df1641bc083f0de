//! Which functions a run tests: changed ones only, from committed, uncommitted and untracked
//! changes, from `--function` or a `--diff` file, and which it skips and why.

mod common;

use common::*;

const THREE_FNS: &str = r#"//! Small numeric helpers.

/// Half of `x`, rounded down.
pub fn half(x: u32) -> u32 {
    x / 2
}

/// The larger of `a` and `b`.
pub fn larger(a: i32, b: i32) -> i32 {
    if a > b {
        a
    } else {
        b
    }
}

/// The last byte of `v`, if any.
pub fn last_byte(v: &[u8]) -> Option<u8> {
    v.last().copied()
}
"#;

#[test]
fn unchanged_functions_are_not_tested() {
    let after = THREE_FNS.replace("v.last().copied()", "Some(v[v.len() - 1])");
    let repo = changed_crate("three", THREE_FNS, &after, true);
    let listed = list(repo.path(), &["--base", "HEAD~1"]);
    listed.assert_code(0);
    assert_eq!(listed.function_paths(), ["three::last_byte"], "{listed}");
    listed.assert_testable("three::last_byte");
}

#[test]
fn uncommitted_changes_count() {
    // The change is only in the working tree; the base is the last commit.
    let after = THREE_FNS.replace("x / 2", "(x + 1) / 2 - 1");
    let repo = changed_crate("dirty", THREE_FNS, &after, false);
    let listed = list(repo.path(), &["--base", "HEAD"]);
    listed.assert_code(0);
    assert_eq!(listed.function_paths(), ["dirty::half"], "{listed}");
    let f = listed.function("dirty::half");
    assert_eq!(f["line"], line_of(&after, "pub fn half"), "{listed}");
}

#[test]
fn untracked_module_file_counts() {
    let repo = repo_with("grown", &[("src/lib.rs", THREE_FNS)]);
    // A new file, never added to git, declared as a module in the (now modified) crate root.
    let lib = THREE_FNS.replace("helpers.\n", "helpers.\n\nmod stats;\n");
    write(repo.path(), "src/lib.rs", &lib);
    let stats = "/// The mean of `v`, rounded down.\n\
                 pub(crate) fn mean(v: &[u64]) -> u64 {\n    v.iter().sum::<u64>() / v.len() as u64\n}\n";
    write(repo.path(), "src/stats.rs", stats);
    let status = git(repo.path(), &["status", "--porcelain"]);
    assert!(status.contains("?? src/stats.rs"), "{status}");

    let listed = list(repo.path(), &["--base", "HEAD"]);
    listed.assert_code(0);
    assert_eq!(listed.function_paths(), ["grown::stats::mean"], "{listed}");
    assert_eq!(
        listed.function("grown::stats::mean")["file"],
        "src/stats.rs"
    );
    listed.assert_testable("grown::stats::mean");
}

#[test]
fn function_flag_needs_no_diff() {
    // A clean tree: nothing changed since the last commit.
    let lib = THREE_FNS.replace("v.last().copied()", "Some(v[0])");
    let repo = repo_with("named", &[("src/lib.rs", &lib)]);
    let listed = list(
        repo.path(),
        &["--function", "last_byte", "--function", "half"],
    );
    listed.assert_code(0);
    assert_eq!(
        listed.function_paths(),
        ["named::half", "named::last_byte"],
        "{listed}"
    );
    listed.assert_testable("named::last_byte");
}

#[test]
fn diff_file_works_outside_git() {
    let after = THREE_FNS.replace("x / 2", "x / (x - x)");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Cargo.toml", &manifest("plain"));
    write(dir.path(), "src/lib.rs", &after);
    let patch = tempfile::tempdir().unwrap();
    write(patch.path(), "before/src/lib.rs", THREE_FNS);
    write(patch.path(), "after/src/lib.rs", &after);
    // `diff -u` style paths, rewritten to git's a/ and b/ prefixes.
    let out = std::process::Command::new("git")
        .args(["diff", "--no-index", "--no-color", "before", "after"])
        .current_dir(patch.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace("a/before/", "a/")
        .replace("b/after/", "b/");
    assert!(text.contains("+++ b/src/lib.rs"), "{text}");
    let diff_file = patch.path().join("change.diff");
    std::fs::write(&diff_file, text).unwrap();

    let listed = list(dir.path(), &["--diff", diff_file.to_str().unwrap()]);
    listed.assert_code(0);
    assert_eq!(listed.function_paths(), ["plain::half"], "{listed}");
    assert!(!dir.path().join(".git").exists());
}

/// Runs the tool on the last commit of `repo` against the one before, with the deterministic
/// and random engines only (no libFuzzer build), for `budget`.
fn check_change(repo: &std::path::Path, budget: &str) -> Run {
    edgecheck(
        repo,
        &[
            "--base",
            "HEAD~1",
            "--budget",
            budget,
            "--engines",
            "edge,proptest",
        ],
    )
}

#[test]
fn methods_crate_types_and_generics_are_reached() {
    let before = r#"pub mod geo {
    /// A point on the plane; its fields are private to this module.
    #[derive(Debug, Clone, Copy)]
    pub struct Point {
        x: i32,
        y: i32,
    }

    impl Point {
        /// The sum of the coordinates.
        pub fn sum(&self) -> i32 {
            self.x.wrapping_add(self.y)
        }
    }
}

/// One step of a walk.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    Left(u8),
    Right { by: u8 },
    Stay,
}

/// The distance of `p` from the origin along the axes.
pub fn manhattan(p: &geo::Point) -> u32 {
    p.sum().unsigned_abs()
}

/// The position after `steps`, starting at 0.
pub fn walk(steps: &[Step]) -> i64 {
    let mut at = 0i64;
    for s in steps {
        match s {
            Step::Left(n) => at -= i64::from(*n),
            Step::Right { by } => at += i64::from(*by),
            Step::Stay => {}
        }
    }
    at
}

/// The largest item, if any.
pub fn largest<T: Ord + Copy>(items: &[T]) -> Option<T> {
    items.iter().copied().max()
}

/// `a` split into `parts`.
pub fn share(a: u32, parts: std::num::NonZeroU32) -> u32 {
    a / parts.get()
}

/// The length of `s` in characters.
pub fn chars(s: impl AsRef<str>) -> usize {
    s.as_ref().chars().count()
}

/// A word borrowed from a text.
pub struct Word<'a> {
    pub text: &'a str,
    pub gap: usize,
}

impl<'a> Word<'a> {
    /// The word's first character, if any.
    pub fn first(&self) -> Option<char> {
        self.text.chars().next()
    }
}

/// A list that holds itself: cannot be generated yet.
pub struct Chain {
    pub next: Option<Box<Chain>>,
}

/// How long the chain is.
pub fn chain_len(c: &Chain) -> usize {
    1 + c.next.as_ref().map_or(0, |n| chain_len(n))
}
"#;
    let after = before
        .replace("self.x.wrapping_add(self.y)", "self.x + self.y")
        .replace(
            "Step::Left(n) => at -= i64::from(*n),",
            "Step::Left(n) => at -= i64::from(*n) * 1_000_000_000_000_000_000,",
        )
        .replace(
            "items.iter().copied().max()",
            "Some(items[items.len() - 1])",
        )
        .replace("a / parts.get()", "(a + 1) / parts.get()")
        .replace(
            "self.text.chars().next()",
            "Some(self.text.as_bytes()[0] as char)",
        )
        // Same results as before: no finding, not even a divergence.
        .replace(
            "s.as_ref().chars().count()",
            "s.as_ref().chars().fold(0, |n, _| n + 1)",
        )
        .replace(
            "1 + c.next",
            "c.next.as_ref().map_or(1, |n| 1 + chain_len(n)) + 0 * c.next",
        );
    let repo = changed_crate("shapes", before, &after, true);
    let run = check_change(repo.path(), "6s");
    run.assert_code(1);
    // A method with a receiver, whose type has private fields in another module.
    let sum = run.finding("shapes::geo::Point::sum", "overflow");
    assert!(
        str_of(sum, "input").starts_with("Point::sum(&Point { x: "),
        "the receiver is shown as a struct literal: {run}"
    );
    assert_eq!(sum["introduced"], true, "{run}");
    // An enum argument, with struct-like and unit variants.
    let walk = run.finding("shapes::walk", "overflow");
    assert!(str_of(walk, "input").contains("Step::Left("), "{run}");
    // A generic function, instantiated.
    let largest = run.finding("shapes::largest", "overflow");
    // The type chosen for `T` is named, so the call compiles where inference has nothing.
    assert!(
        str_of(largest, "input").starts_with("largest::<")
            && str_of(largest, "input").ends_with(">(&[])"),
        "{run}"
    );
    run.assert_tested("shapes::chars");
    assert!(
        run.findings_of("shapes::chars", "divergence").is_empty(),
        "{run}"
    );
    run.assert_skipped("shapes::chain_len", &["recursive type"]);
    // A std wrapper, built from a generated integer.
    let share = run.finding("shapes::share", "overflow");
    assert!(
        str_of(share, "input").contains("std::num::NonZeroU32::new("),
        "{run}"
    );
    // A type with a lifetime, borrowing from the generated value.
    let first = run.finding("shapes::Word::first", "panic");
    assert!(
        str_of(first, "input").starts_with("Word::first(&Word { text: \"\", gap: "),
        "{run}"
    );
}

#[test]
fn trait_impl_methods_are_called() {
    let before = r#"use std::fmt;
use std::str::FromStr;

/// An amount of money in cents.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Money {
    pub cents: i64,
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.cents / 100, (self.cents % 100).abs())
    }
}

impl FromStr for Money {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let cents: i64 = s.parse().map_err(|_| format!("not a number: {s}"))?;
        Ok(Money { cents })
    }
}
"#;
    let after = before
        .replace("(self.cents % 100).abs()", "self.cents.abs() % 100")
        .replace(
            "let cents: i64 = s.parse()",
            "let cents: i64 = s[1..].parse()",
        );
    let repo = changed_crate("money", before, &after, true);
    let run = check_change(repo.path(), "4s");
    run.assert_code(1);
    // A panic inside `Display::fmt` is a finding, shown as the formatting call.
    let fmt = run.finding("money::Money::fmt", "overflow");
    assert!(
        str_of(fmt, "input").starts_with("format!(\"{}\", &Money { cents: "),
        "{run}"
    );
    // `from_str` returns `Result<Self, Self::Err>`: the wrapper names `<Money as FromStr>::Err`.
    let parse = run.finding("money::Money::from_str", "panic");
    assert!(str_of(parse, "message").contains("byte index 1"), "{run}");
}

#[test]
fn a_helper_that_cannot_be_called_is_tested_through_its_callers() {
    let before = r#"/// The value of the next character as a digit (0 for anything else).
fn next_digit(it: &mut std::str::Chars<'_>) -> u32 {
    it.next().and_then(|c| c.to_digit(10)).unwrap_or(0)
}

/// The sum of the first two digits of `s`.
pub fn sum2(s: &str) -> u32 {
    let mut it = s.chars();
    next_digit(&mut it) + next_digit(&mut it)
}

/// Not a caller: must not be picked.
pub fn unrelated(x: u8) -> u8 {
    x
}
"#;
    let after = before.replace(
        "it.next().and_then(|c| c.to_digit(10)).unwrap_or(0)",
        "it.next().and_then(|c| c.to_digit(10)).unwrap()",
    );
    let repo = changed_crate("digits", before, &after, true);
    let run = check_change(repo.path(), "3s");
    run.assert_code(1);
    let helper = run.function("digits::next_digit");
    assert_eq!(helper["status"], "tested", "{run}");
    assert_eq!(helper["tested_through"][0], "digits::sum2", "{run}");
    assert!(
        str_of(helper, "reason").contains("tested through its callers"),
        "{run}"
    );
    assert_eq!(
        run.function("digits::sum2")["caller_of"],
        "digits::next_digit"
    );
    assert!(!run
        .function_paths()
        .contains(&"digits::unrelated".to_string()));
    // The panic is in the helper: reported there, with the caller's call as the input.
    let f = run.finding("digits::next_digit", "panic");
    assert_eq!(str_of(f, "through"), "digits::sum2", "{run}");
    assert!(str_of(f, "input").starts_with("sum2("), "{run}");
    assert_eq!(f["introduced"], true, "{run}");
}

#[test]
fn a_type_whose_fields_cannot_be_generated_is_built_with_its_constructors() {
    let before = r#"use std::time::Instant;

/// A counter with a limit; `since` cannot be generated, so the tool builds it with `parse`.
#[derive(Debug)]
pub struct Counter {
    limit: u32,
    hits: u32,
    since: Instant,
}

impl Counter {
    /// A counter from its limit, written in decimal.
    pub fn parse(s: &str) -> Result<Counter, std::num::ParseIntError> {
        Ok(Counter { limit: s.trim().parse()?, hits: 0, since: Instant::now() })
    }

    /// What is left before the limit.
    pub fn left(&self) -> u32 {
        self.limit.saturating_sub(self.hits)
    }
}
"#;
    let after = before.replace(
        "self.limit.saturating_sub(self.hits)",
        "self.limit - self.hits - 1",
    );
    let repo = changed_crate("counter", before, &after, true);
    let run = check_change(repo.path(), "4s");
    run.assert_code(1);
    let f = run.finding("counter::Counter::left", "overflow");
    assert!(
        str_of(f, "input").starts_with("Counter::left(&Counter::parse(\"")
            && str_of(f, "input").contains(".unwrap())"),
        "the receiver is built with its constructor: {run}"
    );
    // Inputs `parse` refuses are passed over, not reported.
    assert!(
        run.findings()
            .iter()
            .all(|f| !str_of(f, "message").contains("rejected")),
        "{run}"
    );
}

#[test]
fn a_receiver_reaches_states_through_a_sequence_of_its_methods() {
    let before = r#"/// Bytes with a callback the tool cannot generate, so values come from `new` and `push`.
pub struct Buffer {
    data: Vec<u8>,
    on_push: fn(u8),
}

fn ignore(_: u8) {}

impl Buffer {
    pub fn new() -> Buffer {
        Buffer { data: Vec::new(), on_push: ignore }
    }

    pub fn push(&mut self, b: u8) {
        (self.on_push)(b);
        self.data.push(b);
    }

    /// The second byte, or 0.
    pub fn second(&self) -> u8 {
        self.data.get(1).copied().unwrap_or(0)
    }
}
"#;
    let after = before.replace(
        "self.data.get(1).copied().unwrap_or(0)",
        "if self.data.is_empty() { 0 } else { self.data[1] }",
    );
    let repo = changed_crate("buffer", before, &after, true);
    let run = check_change(repo.path(), "4s");
    run.assert_code(1);
    let f = run.finding("buffer::Buffer::second", "panic");
    let input = str_of(f, "input");
    assert!(
        input.starts_with("Buffer::second(&{ let mut v = Buffer::new(); v.push(")
            && input.matches("v.push(").count() == 1,
        "the state comes from one `push` on a new buffer: {run}"
    );
}

#[test]
fn closures_are_generated_and_returned_iterators_drained() {
    let before = r#"/// The indexes of the items `keep` accepts.
pub fn positions<T: Copy, F: Fn(T) -> bool>(items: &[T], keep: F) -> Vec<usize> {
    items.iter().enumerate().filter(|(_, x)| keep(**x)).map(|(i, _)| i).collect()
}

/// The halves of the even numbers of `v`, lazily.
pub fn halves(v: &[u32]) -> impl Iterator<Item = u32> + '_ {
    v.iter().filter(|x| *x % 2 == 0).map(|x| x / 2)
}
"#;
    let after = before
        .replace(
            ".map(|(i, _)| i).collect()",
            ".map(|(i, _)| i - 1).collect()",
        )
        .replace(
            ".filter(|x| *x % 2 == 0).map(|x| x / 2)",
            ".map(|x| x / (x % 2) / 2)",
        );
    let repo = changed_crate("lazy", before, &after, true);
    let run = check_change(repo.path(), "4s");
    run.assert_code(1);
    // The overflow needs a closure that keeps the first item.
    let f = run.finding("lazy::positions", "overflow");
    assert!(str_of(f, "input").contains("|_| true"), "{run}");
    // The division happens only when the iterator is drained.
    let f = run.finding("lazy::halves", "panic");
    assert!(str_of(f, "message").contains("divide by zero"), "{run}");
}

#[test]
fn a_type_parameter_bounded_by_a_local_trait_gets_a_crate_type() {
    let before = r#"/// Something with an area.
pub trait Area {
    fn area(&self) -> u32;
}

/// A square.
#[derive(Debug, Clone, Copy)]
pub struct Square {
    pub side: u16,
}

impl Area for Square {
    fn area(&self) -> u32 {
        u32::from(self.side) * u32::from(self.side)
    }
}

/// The total area of `shapes`.
pub fn total<S: Area>(shapes: &[S]) -> u32 {
    shapes.iter().map(|s| s.area()).fold(0, u32::saturating_add)
}

/// Twice the area of `shape`.
pub fn double(shape: &dyn Area) -> u32 {
    shape.area().saturating_mul(2)
}
"#;
    let after = before
        .replace(".fold(0, u32::saturating_add)", ".sum()")
        .replace("shape.area().saturating_mul(2)", "shape.area() * 2");
    let repo = changed_crate("areas", before, &after, true);
    let run = check_change(repo.path(), "4s");
    run.assert_code(1);
    let f = run.finding("areas::total", "overflow");
    assert!(
        str_of(f, "input").starts_with("total(&[Square { side: "),
        "{run}"
    );
}

#[test]
fn generic_impls_and_generic_types_are_instantiated() {
    let before = r#"/// Lowercase hex of anything that is bytes.
pub trait ToHex {
    fn to_hex(&self) -> String;
}

impl<T: AsRef<[u8]>> ToHex for T {
    fn to_hex(&self) -> String {
        self.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A bag of values kept in order.
#[derive(Debug, Clone, Default)]
pub struct Bag<T> {
    pub items: Vec<T>,
}

impl<T: Ord + Copy> Bag<T> {
    /// The smallest value, if any.
    pub fn min(&self) -> Option<T> {
        self.items.iter().copied().min()
    }
}
"#;
    let after = before
        .replace(
            "self.as_ref().iter().map(|b| format!(\"{b:02x}\")).collect()",
            "self.as_ref().iter().map(|b| format!(\"{b:02x}\")).collect::<String>()[..2].to_string()",
        )
        .replace(
            "self.items.iter().copied().min()",
            "Some(*self.items.iter().min().unwrap())",
        );
    let repo = changed_crate("generic", before, &after, true);
    let run = check_change(repo.path(), "4s");
    run.assert_code(1);
    let f = run.finding("generic::T::to_hex", "panic");
    assert!(str_of(f, "input").contains("to_hex(&vec![])"), "{run}");
    let f = run.finding("generic::Bag::min", "panic");
    assert!(
        str_of(f, "input").contains("Bag { items: vec![] }"),
        "{run}"
    );
}

#[test]
fn crate_private_types_are_built_and_observed_inside_the_crate() {
    let before = r#"/// A counter the crate keeps to itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tick {
    pub(crate) n: u8,
}

/// The next tick, wrapping around.
pub(crate) fn next(t: Tick) -> Tick {
    Tick { n: t.n.wrapping_add(1) }
}
"#;
    let after = before.replace("t.n.wrapping_add(1)", "t.n + 1");
    let repo = changed_crate("ticks", before, &after, true);
    let run = check_change(repo.path(), "3s");
    run.assert_code(1);
    let f = run.finding("ticks::next", "overflow");
    assert!(str_of(f, "input").starts_with("next(Tick { n: "), "{run}");
    assert_eq!(f["introduced"], true, "{run}");
}
