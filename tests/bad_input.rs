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
