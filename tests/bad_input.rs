//! Usage and environment errors: exit status 2, one `error:` line that names the problem, and
//! never a panic of the tool. And `--help`.

mod common;

use common::*;

const LIB: &str =
    "/// `x` doubled, saturating.\npub fn double(x: u32) -> u32 {\n    x.saturating_mul(2)\n}\n";

/// Asserts that stderr is exactly one line (the `error:` line).
fn assert_one_line(run: &Run) {
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "expected a one-line error:\n{run}");
}

#[test]
fn not_a_git_repository() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Cargo.toml", &manifest("nogit"));
    write(dir.path(), "src/lib.rs", LIB);
    let run = edgecheck(dir.path(), &["--budget", "3s"]);
    run.assert_error(&["not inside a git repository"]);
    assert_one_line(&run);
    assert!(run.report.is_none(), "a report was written:\n{run}");
}

#[test]
fn unknown_base() {
    let repo = repo_with("basic", &[("src/lib.rs", LIB)]);
    let run = edgecheck(repo.path(), &["--base", "no-such-rev", "--budget", "3s"]);
    run.assert_error(&["unknown base", "no-such-rev"]);
    assert_one_line(&run);
}

#[test]
fn missing_manifest() {
    let repo = repo_with("basic", &[("src/lib.rs", LIB)]);
    let run = edgecheck(
        repo.path(),
        &["--manifest-path", "nowhere/Cargo.toml", "--budget", "3s"],
    );
    run.assert_error(&["nowhere/Cargo.toml"]);
    assert_one_line(&run);
}

#[test]
fn changed_file_that_does_not_parse() {
    let after = LIB.replace("x.saturating_mul(2)", "x.saturating_mul(2");
    let repo = changed_crate("broken", LIB, &after, true);
    let run = edgecheck(repo.path(), &["--base", "HEAD~1", "--budget", "3s"]);
    run.assert_error(&["src/lib.rs", "does not parse"]);
    assert_one_line(&run);
}

#[test]
fn crate_that_does_not_build() {
    // A type error in a function the change did not touch.
    let before = format!("{LIB}\n/// Always one.\npub fn one() -> u32 {{\n    \"one\"\n}}\n");
    let after = before.replace("x.saturating_mul(2)", "x * 2");
    let repo = changed_crate("typo", &before, &after, true);
    let run = edgecheck(repo.path(), &["--base", "HEAD~1", "--budget", "3s"]);
    // The compiler's own error follows the first line, so only that line is checked.
    run.assert_error(&["does not build"]);
    assert!(run.stderr.contains("mismatched types"), "{run}");
}

#[test]
fn help_lists_the_main_options() {
    let dir = tempfile::tempdir().unwrap();
    let run = edgecheck_raw(dir.path(), &["--help"]);
    run.assert_code(0);
    for flag in ["--budget", "--base", "--function", "--diff", "--format"] {
        assert!(
            run.stdout.contains(flag),
            "--help does not mention {flag}:\n{run}"
        );
    }
}

/// Every numeric flag out of bounds, and a report path that cannot be written, is refused
/// before any work starts (no build: each fails in well under a second), leaving the tree as
/// it was.
#[test]
fn bad_flag_values_and_report_paths_are_refused_before_any_work() {
    let repo = changed_crate(
        "flags",
        LIB,
        &LIB.replace("saturating_mul(2)", "wrapping_mul(2)"),
        false,
    );
    let before = file_list(repo.path(), &[]);
    let missing = repo.path().join("no-such-dir/report.json");
    let cases: Vec<(Vec<&str>, &[&str])> = vec![
        (
            vec!["--budget", "99999999999999h"],
            &["--budget", "at most a week"],
        ),
        (vec!["--budget", "0s"], &["--budget", "more than zero"]),
        (
            vec!["--time-limit", "0s"],
            &["--time-limit", "more than zero"],
        ),
        (vec!["--time-limit", "soon"], &["--time-limit", "30s"]),
        (vec!["--timeout", "2h"], &["--timeout", "at most an hour"]),
        (vec!["-j", "0"], &["--jobs", "1..=1024"]),
        (
            vec!["--memory-limit", "0"],
            &["--memory-limit", "64..=1048576"],
        ),
        (vec!["--shard", "0/2"], &["--shard", "K/N"]),
        (vec!["--output", "/"], &["is a directory"]),
        (
            vec!["--output", missing.to_str().unwrap()],
            &["does not exist"],
        ),
    ];
    for (args, words) in cases {
        let started = std::time::Instant::now();
        let run = edgecheck_raw(repo.path(), &args);
        run.assert_error(words);
        assert!(
            started.elapsed().as_secs() < 5,
            "{args:?} started work:\n{run}"
        );
    }
    assert_eq!(file_list(repo.path(), &[]), before, "the tree changed");
}
