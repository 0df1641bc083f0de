//! The configuration in `[package.metadata.edgecheck]` (and the workspace's): its settings
//! apply under the command line, its excludes leave functions out, and a key or value it does
//! not know is an error naming the key and the file.

mod common;

use common::*;

const BEFORE: &str = r#"
pub fn first_byte(v: &[u8]) -> u8 {
    v.first().copied().unwrap_or(0)
}

pub fn generated_first(v: &[u8]) -> u8 {
    v.first().copied().unwrap_or(0)
}
"#;

const AFTER: &str = r#"
pub fn first_byte(v: &[u8]) -> u8 {
    v[0]
}

pub fn generated_first(v: &[u8]) -> u8 {
    v[0]
}
"#;

/// A crate whose manifest ends with `table`, with two functions changed to panic on an
/// empty slice.
fn configured(table: &str) -> tempfile::TempDir {
    let manifest = format!("{}\n{table}\n", manifest("cfgdemo"));
    let dir = repo_with(
        "cfgdemo",
        &[("Cargo.toml", &manifest), ("src/lib.rs", BEFORE)],
    );
    write(dir.path(), "src/lib.rs", AFTER);
    dir
}

#[test]
fn the_configuration_sets_the_budget_fail_on_and_verify_and_excludes_a_function() {
    let dir = configured(
        r#"[package.metadata.edgecheck]
budget = "3s"
engines = ["edge"]
fail-on = "never"
exclude = ["cfgdemo::generated_*"]
verify = true"#,
    );
    let run = edgecheck(dir.path(), &[]);
    // The finding stays in the report; `fail-on = "never"` keeps the exit status 0.
    run.assert_code(0);
    let settings = &run.report()["settings"];
    assert_eq!(settings["budget_ms"], 3000, "{run}");
    assert_eq!(settings["engines"], serde_json::json!(["edge"]), "{run}");
    assert_eq!(settings["fail_on"], "never", "{run}");
    // `verify = true` proves it, as `--verify` does.
    assert_eq!(
        run.finding("cfgdemo::first_byte", "panic")["verified"],
        true,
        "{run}"
    );
    run.assert_skipped(
        "cfgdemo::generated_first",
        &["excluded by", "cfgdemo::generated_*"],
    );

    // The command line wins over the file.
    let run = edgecheck(dir.path(), &["--budget", "4s", "--fail-on", "introduced"]);
    run.assert_code(1);
    assert_eq!(run.report()["settings"]["budget_ms"], 4000, "{run}");
}

#[test]
fn a_workspace_table_applies_to_its_members() {
    let root = "[workspace]\nmembers = [\"cfgdemo\"]\n\n[workspace.metadata.edgecheck]\nexclude = [\"cfgdemo/src/lib.rs\"]\n";
    let ws = tempfile::tempdir().unwrap();
    write(ws.path(), "Cargo.toml", root);
    // The member is the crate above, without its own `[workspace]`.
    let member = ws.path().join("cfgdemo");
    std::fs::create_dir_all(member.join("src")).unwrap();
    let own = manifest("cfgdemo").replace("\n[workspace]\n", "\n");
    write(&member, "Cargo.toml", &own);
    write(&member, "src/lib.rs", BEFORE);
    git(ws.path(), &["init", "-q"]);
    write(ws.path(), ".gitignore", "/target\n");
    commit_all(ws.path(), "first");
    write(&member, "src/lib.rs", AFTER);
    let listed = list(ws.path(), &[]);
    listed.assert_code(0);
    for f in ["cfgdemo::first_byte", "cfgdemo::generated_first"] {
        listed.assert_skipped(f, &["excluded by `cfgdemo/src/lib.rs`"]);
    }
}

#[test]
fn an_unknown_key_or_a_wrong_value_is_an_error_naming_it_and_the_file() {
    for (table, words) in [
        (
            "[package.metadata.edgecheck]\nbudgets = \"3s\"",
            &[
                "unknown key `budgets`",
                "package.metadata.edgecheck",
                "Cargo.toml",
                "budget, time-limit, timeout",
            ][..],
        ),
        (
            "[package.metadata.edgecheck]\nbudget = \"soon\"",
            &["`budget`", "`soon`", "Cargo.toml"][..],
        ),
        (
            "[package.metadata.edgecheck]\ntime-limit = \"0s\"",
            &["`time-limit`", "`0s`", "more than zero"][..],
        ),
        (
            "[package.metadata.edgecheck]\nengines = [\"afl\"]",
            &["`engines`", "no engine `afl`"][..],
        ),
        (
            "[package.metadata.edgecheck]\nexclude = \"src/gen.rs\"",
            &["package.metadata.edgecheck", "expected a sequence"][..],
        ),
    ] {
        let dir = configured(table);
        let run = list(dir.path(), &[]);
        run.assert_code(2);
        run.assert_error(words);
    }
}
