//! Workspaces, and what a run leaves behind in the user's tree: nothing.

mod common;

use common::*;

const MEMBER_LIB: &str = "/// `a` divided by `b`, or `None` when `b` is 0.\n\
                          pub fn ratio(a: u32, b: u32) -> Option<u32> {\n    a.checked_div(b)\n}\n\n\
                          /// `x` plus one, saturating.\n\
                          pub fn succ(x: u8) -> u8 {\n    x.saturating_add(1)\n}\n";

#[test]
fn workspace_change_in_one_member_tests_only_that_member() {
    let root_manifest = "[workspace]\nmembers = [\"alpha\", \"beta\"]\nresolver = \"2\"\n";
    let alpha_manifest = "[package]\nname = \"alpha\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";
    let beta_manifest = alpha_manifest.replace("alpha", "beta");
    let repo = repo_with(
        "unused",
        &[
            ("Cargo.toml", root_manifest),
            ("alpha/Cargo.toml", alpha_manifest),
            ("alpha/src/lib.rs", MEMBER_LIB),
            ("beta/Cargo.toml", &beta_manifest),
            ("beta/src/lib.rs", MEMBER_LIB),
        ],
    );
    let beta_after = MEMBER_LIB.replace("a.checked_div(b)", "Some(a / b)");
    write(repo.path(), "beta/src/lib.rs", &beta_after);
    commit_all(repo.path(), "divide directly");

    let listed = list(repo.path(), &["--base", "HEAD~1"]);
    listed.assert_code(0);
    assert_eq!(listed.function_paths(), ["beta::ratio"], "{listed}");
    assert_eq!(listed.function("beta::ratio")["file"], "beta/src/lib.rs");
}

#[test]
fn user_tree_is_left_untouched() {
    let repo = repo_with("tidy", &[("src/lib.rs", MEMBER_LIB)]);
    // Committed, staged and unstaged changes, and an untracked file, all at once.
    let committed = MEMBER_LIB.replace("a.checked_div(b)", "Some(a / b)");
    write(repo.path(), "src/lib.rs", &committed);
    commit_all(repo.path(), "divide directly");
    let dirty = committed.replace("x.saturating_add(1)", "x + 1");
    write(repo.path(), "src/lib.rs", &dirty);
    write(repo.path(), "notes.txt", "not part of the crate\n");
    // The suite's shared target dir, outside the repository.
    let target = shared_target_dir();

    let status_before = git(repo.path(), &["status", "--porcelain", "--ignored"]);
    let files_before = file_list(repo.path(), &[&target]);
    let lib_before = std::fs::read(repo.path().join("src/lib.rs")).unwrap();

    let run = edgecheck(repo.path(), &["--base", "HEAD~1", "--budget", "3s"]);
    run.assert_code(1);
    assert_eq!(run.function_paths(), ["tidy::ratio", "tidy::succ"], "{run}");
    assert!(
        target.join("edgecheck").is_dir(),
        "nothing under <target-dir>/edgecheck"
    );

    assert_eq!(
        git(repo.path(), &["status", "--porcelain", "--ignored"]),
        status_before,
        "git status changed"
    );
    assert_eq!(
        file_list(repo.path(), &[&target]),
        files_before,
        "files were created or removed outside the target dir"
    );
    assert_eq!(
        std::fs::read(repo.path().join("src/lib.rs")).unwrap(),
        lib_before
    );
}

/// `--features` and `--all-features` reach the packages under test: a changed function behind a
/// feature is tested only when the feature is on.
#[test]
fn features_are_passed_to_the_packages_under_test() {
    let manifest = "[package]\nname = \"feat\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                    [features]\nextra = []\n\n[dependencies]\n";
    let before = "/// One more than `x`.\n#[cfg(feature = \"extra\")]\npub fn next(x: u32) -> u32 {\n    x.saturating_add(1)\n}\n";
    let after = "/// One more than `x`.\n#[cfg(feature = \"extra\")]\npub fn next(x: u32) -> u32 {\n    x + 1\n}\n";
    let repo = repo_with("feat", &[("Cargo.toml", manifest), ("src/lib.rs", before)]);
    write(repo.path(), "src/lib.rs", after);
    commit_all(repo.path(), "the change");
    let off = edgecheck(
        repo.path(),
        &["--base", "HEAD~1", "--budget", "2s", "--engines", "edge"],
    );
    off.assert_code(0);
    off.assert_skipped(
        "feat::next",
        &[
            "not compiled in this configuration",
            "feature = \"extra\"",
            "--features",
        ],
    );
    for flag in [&["--features", "extra"][..], &["--all-features"][..]] {
        let mut args = vec!["--base", "HEAD~1", "--budget", "2s", "--engines", "edge"];
        args.extend_from_slice(flag);
        let on = edgecheck(repo.path(), &args);
        on.assert_code(1);
        on.finding("feat::next", "overflow");
    }
}
