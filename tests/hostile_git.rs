//! Hostile repositories: shallow clones, detached heads, staged-only changes, renamed and
//! deleted files, odd paths, files that do not parse or build where the change is not, and two
//! runs at once. Each asserts the exit status, the message, and that the user's tree is byte
//! for byte what it was. Most need only `cargo edgecheck list`; the runs build one harness each.

mod common;

use std::time::Duration;

use common::*;

const DOUBLE: &str =
    "/// `x` doubled, saturating.\npub fn double(x: u32) -> u32 {\n    x.saturating_mul(2)\n}\n";

/// A repository (`main`) whose last commit changes `double`, cloned with `--depth 1` from a
/// `feature` branch: `main` is fetched too, but none of its commits are in the clone's history.
fn shallow_clone() -> (tempfile::TempDir, tempfile::TempDir) {
    let origin = repo_with("shallow", &[("src/lib.rs", DOUBLE)]);
    write(origin.path(), "README.md", "main moves on\n");
    commit_all(origin.path(), "main moves on");
    git(
        origin.path(),
        &["checkout", "-q", "-b", "feature", "HEAD~1"],
    );
    write(
        origin.path(),
        "src/lib.rs",
        &DOUBLE.replace("saturating_mul", "wrapping_mul"),
    );
    commit_all(origin.path(), "the change");
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    git(
        clone.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            "--branch",
            "feature",
            &url,
            ".",
        ],
    );
    // As actions/checkout leaves it: no `origin/HEAD`.
    git(clone.path(), &["remote", "set-head", "origin", "-d"]);
    (origin, clone)
}

#[test]
fn a_shallow_clone_without_the_base_says_to_fetch_the_whole_history() {
    let (_origin, clone) = shallow_clone();
    let tree = tree_snapshot(clone.path());
    // The base named, and the default one (the merge-base with `origin/main`, which the cut
    // history does not hold): both name the fix, neither tests HEAD against itself.
    for args in [&["--base", "HEAD~1"][..], &[][..]] {
        let listed = list(clone.path(), args);
        listed.assert_error(&["shallow clone", "fetch-depth: 0", "git fetch --unshallow"]);
        let run = edgecheck(clone.path(), &[&["--budget", "2s"][..], args].concat());
        run.assert_error(&["shallow clone", "fetch-depth: 0"]);
    }
    let listed = list(clone.path(), &[]);
    assert!(listed.stderr.contains("origin/main"), "{listed}");
    assert_tree_unchanged(clone.path(), &tree);
}

#[test]
fn a_detached_head_is_compared_with_the_merge_base_of_the_default_branch() {
    let repo = repo_with("detached", &[("src/lib.rs", DOUBLE)]);
    write(
        repo.path(),
        "src/lib.rs",
        &DOUBLE.replace("saturating_mul", "wrapping_mul"),
    );
    commit_all(repo.path(), "the change");
    // HEAD is the change, detached; `main` is one commit behind, as in a CI checkout of a
    // pull request's merge commit.
    git(repo.path(), &["checkout", "-q", "--detach", "HEAD"]);
    git(repo.path(), &["branch", "-q", "-f", "main", "HEAD~1"]);
    let tree = tree_snapshot(repo.path());
    let listed = list(repo.path(), &[]);
    listed.assert_code(0);
    assert_eq!(listed.function_paths(), ["detached::double"], "{listed}");
    listed.assert_testable("detached::double");
    assert_eq!(
        git(repo.path(), &["rev-parse", "--abbrev-ref", "HEAD"]),
        "HEAD",
        "HEAD is no longer detached"
    );
    assert_tree_unchanged(repo.path(), &tree);
}

#[test]
fn a_staged_only_change_is_selected_and_the_index_is_left_alone() {
    let repo = repo_with("staged", &[("src/lib.rs", DOUBLE)]);
    write(
        repo.path(),
        "src/lib.rs",
        &DOUBLE.replace("saturating_mul", "wrapping_mul"),
    );
    git(repo.path(), &["add", "src/lib.rs"]);
    let tree = tree_snapshot(repo.path());
    let index = std::fs::read(repo.path().join(".git/index")).unwrap();
    let listed = list(repo.path(), &["--base", "HEAD"]);
    listed.assert_code(0);
    assert_eq!(listed.function_paths(), ["staged::double"], "{listed}");
    // Not even git's index is refreshed: a `git commit` the user has half done stays so.
    assert_eq!(
        std::fs::read(repo.path().join(".git/index")).unwrap(),
        index,
        "the index changed"
    );
    assert_tree_unchanged(repo.path(), &tree);
    assert_eq!(
        git(repo.path(), &["diff", "--cached", "--name-only"]),
        "src/lib.rs"
    );
}

#[test]
fn renamed_moved_and_deleted_files_select_what_stands_at_the_new_paths() {
    let lib = "pub mod first;\npub mod flat;\nmod gone;\n\n/// Goes away.\npub fn removed(x: u8) -> u8 {\n    x\n}\n\n/// Stays.\npub fn kept(x: u8) -> u8 {\n    x\n}\n";
    let first = "/// One.\npub fn one(x: u8) -> u8 {\n    x\n}\n\n/// Two.\npub fn two(x: u8) -> u8 {\n    x.wrapping_add(2)\n}\n";
    let flat = "/// Flat.\npub fn level(x: u8) -> u8 {\n    x / 2\n}\n";
    let gone = "/// Gone.\npub fn vanished(x: u8) -> u8 {\n    x\n}\n";
    let repo = repo_with(
        "moves",
        &[
            ("src/lib.rs", lib),
            ("src/first.rs", first),
            ("src/flat.rs", flat),
            ("src/gone.rs", gone),
        ],
    );
    // `first.rs` renamed to `second.rs` with `two` changed; `flat.rs` moved, unchanged, under
    // `deep/`; `gone.rs` and `removed` deleted.
    git(repo.path(), &["mv", "src/first.rs", "src/second.rs"]);
    write(
        repo.path(),
        "src/second.rs",
        &first.replace("wrapping_add(2)", "saturating_add(2)"),
    );
    git(repo.path(), &["mv", "src/flat.rs", "src/flat_moved.rs"]);
    std::fs::create_dir_all(repo.path().join("src/deep")).unwrap();
    git(
        repo.path(),
        &["mv", "src/flat_moved.rs", "src/deep/flat.rs"],
    );
    write(repo.path(), "src/deep.rs", "pub mod flat;\n");
    git(repo.path(), &["rm", "-q", "src/gone.rs"]);
    let after =
        "pub mod second;\npub mod deep;\n\n/// Stays.\npub fn kept(x: u8) -> u8 {\n    x\n}\n";
    write(repo.path(), "src/lib.rs", after);
    commit_all(repo.path(), "renames, a move and deletions");
    let tree = tree_snapshot(repo.path());
    let listed = list(repo.path(), &["--base", "HEAD~1"]);
    listed.assert_code(0);
    // A file at a new path is new to the comparison (its functions have new paths); what was
    // deleted has nothing left to test, and is no error.
    assert_eq!(
        listed.function_paths(),
        [
            "moves::deep::flat::level",
            "moves::second::one",
            "moves::second::two"
        ],
        "{listed}"
    );
    assert_tree_unchanged(repo.path(), &tree);
}

/// A path dependency outside the repository: the scratch copies must find it where it is.
fn helper_dependency() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "helper dep/Cargo.toml",
        "[package]\nname = \"helper\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    write(
        dir.path(),
        "helper dep/src/lib.rs",
        "/// The divisor the crate uses.\npub fn divisor(x: u32) -> u32 {\n    x % 4\n}\n",
    );
    dir
}

/// One run through everything that must not stop it: the repository in a directory with
/// spaces, a changed module in a file with a space in its name, non-UTF-8 file names (tracked,
/// changed and untracked), unchanged files that do not parse (an example, an integration
/// test, a module behind a false `#[cfg]`), a base revision that does not build, and a path
/// dependency outside the repository.
#[test]
fn a_run_goes_on_past_odd_paths_unparsable_unchanged_files_and_a_base_that_does_not_build() {
    use std::os::unix::ffi::OsStrExt;
    let outer = tempfile::tempdir().unwrap();
    let deps = helper_dependency();
    let root = outer.path().join("my project dir");
    std::fs::create_dir_all(&root).unwrap();
    let dep_path = deps.path().join("helper dep");
    let manifest = format!(
        "[package]\nname = \"odd_paths\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nhelper = {{ path = {:?} }}\n\n[workspace]\n",
        dep_path.to_str().unwrap()
    );
    // The base has a type error in `label`, which the change fixes.
    let lib_before = "#[path = \"with space.rs\"]\npub mod spaced;\n#[cfg(any())]\nmod legacy;\n\n/// A label.\npub fn label() -> u32 {\n    \"label\"\n}\n";
    let lib_after = lib_before.replace(
        "-> u32 {\n    \"label\"",
        "-> &'static str {\n    \"label\"",
    );
    let spaced_before = "/// `x` split in `helper::divisor(y)` parts.\npub fn share(x: u32, y: u32) -> u32 {\n    x.checked_div(helper::divisor(y)).unwrap_or(0)\n}\n";
    let spaced_after = spaced_before.replace(
        ".checked_div(helper::divisor(y)).unwrap_or(0)",
        " / helper::divisor(y)",
    );
    let broken = "fn main() {\n    let = ;\n}\n";
    write(&root, "Cargo.toml", &manifest);
    write(&root, ".gitignore", "/target\n");
    write(&root, "src/lib.rs", lib_before);
    write(&root, "src/with space.rs", spaced_before);
    write(&root, "src/legacy.rs", "pub fn old( {\n");
    write(&root, "examples/broken.rs", broken);
    write(&root, "tests/broken.rs", broken);
    let odd_name = |name: &[u8]| root.join(std::ffi::OsStr::from_bytes(name));
    std::fs::write(odd_name(b"notes-\xff\xfe.txt"), "before\n").unwrap();
    git(&root, &["init", "-q"]);
    commit_all(&root, "first commit");
    write(&root, "src/lib.rs", &lib_after);
    write(&root, "src/with space.rs", &spaced_after);
    std::fs::write(odd_name(b"notes-\xff\xfe.txt"), "after\n").unwrap();
    std::fs::write(odd_name(b"untracked-\xe9.rs"), "not rust at all {\n").unwrap();
    commit_all(&root, "the change");
    std::fs::write(odd_name(b"untracked-\xc0.txt"), "untracked\n").unwrap();

    let tree = tree_snapshot(&root);
    let dep_tree = tree_snapshot(deps.path());
    let run = edgecheck(
        &root,
        &["--base", "HEAD~1", "--engines", "edge", "--budget", "2s"],
    );
    run.assert_code(1);
    let f = run.function("odd_paths::spaced::share");
    assert_eq!(f["status"], "tested", "{run}");
    assert_eq!(f["file"], "src/with space.rs", "{run}");
    assert!(
        str_of(f, "base").contains("does not build"),
        "the base that does not build should be named: {run}"
    );
    let finding = run.finding("odd_paths::spaced::share", "panic");
    assert!(
        str_of(finding, "message").contains("divide by zero")
            || str_of(finding, "message").contains("divisor of zero"),
        "{run}"
    );
    // Nothing to compare with, so what it finds counts as introduced.
    assert_eq!(finding["introduced"], true, "{run}");
    assert_eq!(finding["location"]["file"], "src/with space.rs", "{run}");
    assert_tree_unchanged(&root, &tree);
    assert_tree_unchanged(deps.path(), &dep_tree);
}

/// Two runs on one workspace and one target dir at once: the second waits for the first, says
/// so, and both report the same finding from intact copies.
#[test]
fn two_runs_at_once_on_one_target_dir_take_turns() {
    let repo = changed_crate(
        "twice",
        DOUBLE,
        &DOUBLE.replace("x.saturating_mul(2)", "x * 2"),
        false,
    );
    let tree = tree_snapshot(repo.path());
    let args = ["--base", "HEAD", "--engines", "edge", "--budget", "2s"];
    let mut first = Background::start(repo.path(), &args);
    // The first holds the scratch dir once it has named it.
    let scratch = first.scratch_dir();
    let mut second = Background::start(repo.path(), &args);
    second.wait_for(Duration::from_secs(60), |line| {
        line.contains("waiting for another cargo-edgecheck run to finish")
            .then_some(())
    });
    for run in [first.finish(), second.finish()] {
        run.assert_code(1);
        run.finding("twice::double", "overflow");
        assert!(!run.stderr.contains("panicked"), "{run}");
    }
    assert_tree_unchanged(repo.path(), &tree);
    assert_no_process_left(&scratch);
}
