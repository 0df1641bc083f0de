//! `--ai-only`: of a change's functions, only those AI-assisted commits wrote (by their
//! trailers, their identities or the pull request's label), and the report naming the commits.

mod common;

use std::path::Path;

use common::*;

const BASE: &str = r#"
pub fn first_char(s: &str) -> Option<char> {
    s.chars().next()
}

pub fn midpoint(a: u32, b: u32) -> u32 {
    a / 2 + b / 2
}

pub fn tail(v: &[u8]) -> &[u8] {
    v.get(1..).unwrap_or(&[])
}
"#;

/// Replaces `from` with `to` in the crate's `src/lib.rs`.
fn edit(dir: &Path, from: &str, to: &str) {
    let path = dir.join("src/lib.rs");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from} is not in the file");
    std::fs::write(&path, text.replace(from, to)).unwrap();
}

/// A crate with three commits on top of the base, each bringing an edge-case bug into another
/// function: one by a person, one with a `Co-authored-by: Copilot` trailer and one with an
/// `Assisted-by:` trailer. Returns the repository and the base commit.
fn three_commits() -> (tempfile::TempDir, String) {
    let dir = repo_with("aimix", &[("src/lib.rs", BASE)]);
    let base = git(dir.path(), &["rev-parse", "HEAD"]);
    edit(dir.path(), "s.chars().next()", "s[..1].chars().next()");
    commit_all(dir.path(), "Shorter first_char");
    edit(dir.path(), "a / 2 + b / 2", "(a + b) / 2");
    commit_all(
        dir.path(),
        "Exact midpoint\n\nCo-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>",
    );
    edit(dir.path(), "v.get(1..).unwrap_or(&[])", "&v[1..]");
    commit_all(
        dir.path(),
        "Simpler tail\n\nAssisted-by: Claude:claude-sonnet-4-5",
    );
    (dir, base)
}

#[test]
fn only_the_ai_assisted_commits_functions_are_tested_and_the_commits_are_named() {
    let (dir, base) = three_commits();
    let run = edgecheck(
        dir.path(),
        &[
            "--base",
            &base,
            "--ai-only",
            "--engines",
            "edge",
            "--budget",
            "10s",
        ],
    );
    run.assert_code(1);
    assert_eq!(
        run.function_paths(),
        vec!["aimix::midpoint".to_string(), "aimix::tail".to_string()],
        "{run}"
    );
    run.finding("aimix::midpoint", "overflow");
    run.finding("aimix::tail", "panic");
    assert!(
        run.findings_of("aimix::first_char", "panic").is_empty(),
        "{run}"
    );

    let ai = &run.report()["ai"];
    let evidence: Vec<&str> = array(ai, "commits")
        .iter()
        .map(|c| str_of(c, "evidence"))
        .collect();
    assert_eq!(
        evidence,
        vec![
            "Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>",
            "Assisted-by: Claude:claude-sonnet-4-5",
        ],
        "{run}"
    );
    let left_out: Vec<&str> = array(ai, "left_out")
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    assert_eq!(left_out, vec!["aimix::first_char"], "{run}");
}

/// The functions `list` selects with `args` (which say `--ai-only`) and environment `env`.
fn ai_listed(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Vec<String> {
    let mut command = tool();
    command
        .args(["edgecheck", "list"])
        .args(args)
        .args(["--format", "json"])
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GITHUB_EVENT_PATH");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let listing: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    array(&listing, "functions")
        .iter()
        .map(|f| str_of(f, "function").to_string())
        .collect()
}

#[test]
fn the_pull_request_label_marks_every_commit() {
    let (dir, base) = three_commits();
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        r#"{"pull_request": {"number": 7, "labels": [{"name": "bug"}, {"name": "AI-Assisted"}]}}"#,
    )
    .unwrap();
    let all = ai_listed(
        dir.path(),
        &["--base", &base, "--ai-only"],
        &[("GITHUB_EVENT_PATH", &event)],
    );
    assert_eq!(all, ["aimix::first_char", "aimix::midpoint", "aimix::tail"]);
    // Another label name: the trailers decide again.
    let trailers = ai_listed(
        dir.path(),
        &["--base", &base, "--ai-only", "--ai-label", "copilot"],
        &[("GITHUB_EVENT_PATH", &event)],
    );
    assert_eq!(trailers, ["aimix::midpoint", "aimix::tail"]);
}

#[test]
fn a_later_human_rewrite_and_uncommitted_edits_are_not_ai_assisted() {
    let (dir, base) = three_commits();
    // A person rewrites the line the assistant wrote in `midpoint`.
    edit(dir.path(), "(a + b) / 2", "a.midpoint(b)");
    commit_all(dir.path(), "Use the std midpoint");
    // And edits `first_char` without committing.
    edit(
        dir.path(),
        "s[..1].chars().next()",
        "s.get(..1)?.chars().next()",
    );
    let committed = ai_listed(dir.path(), &["--base", &base, "--ai-only"], &[]);
    assert_eq!(committed, ["aimix::tail"]);
    let with_uncommitted = ai_listed(
        dir.path(),
        &["--base", &base, "--ai-only=include-uncommitted"],
        &[],
    );
    assert_eq!(with_uncommitted, ["aimix::first_char", "aimix::tail"]);
}

#[test]
fn lines_an_assistant_deleted_select_their_function() {
    let before = r#"
pub fn average(v: &[u32]) -> u32 {
    if v.is_empty() {
        return 0;
    }
    v.iter().sum::<u32>() / v.len() as u32
}

pub fn untouched(x: u8) -> u8 {
    x
}
"#;
    let dir = repo_with("deleted", &[("src/lib.rs", before)]);
    let base = git(dir.path(), &["rev-parse", "HEAD"]);
    edit(
        dir.path(),
        "    if v.is_empty() {\n        return 0;\n    }\n",
        "",
    );
    commit_all(dir.path(), "Drop the guard\n\nGenerated-by: Codex");
    // A person adds lines above it later, so the deletion point moves.
    edit(
        dir.path(),
        "pub fn average",
        "/// The mean.\npub fn average",
    );
    commit_all(dir.path(), "Document average");
    assert_eq!(
        ai_listed(dir.path(), &["--base", &base, "--ai-only"], &[]),
        ["deleted::average"]
    );
}

#[test]
fn no_ai_assisted_commit_is_one_line_and_exit_0() {
    let dir = changed_crate(
        "human",
        "pub fn f(x: u8) -> u8 { x }\n",
        "pub fn f(x: u8) -> u8 { x + 1 }\n",
        true,
    );
    let run = edgecheck_raw(dir.path(), &["--base", "HEAD~1", "--ai-only", "-q"]);
    run.assert_code(0);
    assert_eq!(run.stdout.lines().count(), 1, "{run}");
    assert!(run.stdout.contains("no AI-assisted commit"), "{run}");
    // Without `--base`, `--ai-only` needs git: a diff file or named functions are refused.
    let conflict = edgecheck_raw(dir.path(), &["--ai-only", "--function", "f"]);
    conflict.assert_code(2);
}
