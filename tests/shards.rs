//! CI manners: `--shard K/N` splits the selection by a stable hash of each function's path,
//! `merge` combines the shards' reports into the report of the whole, and a run whose stderr
//! is not a terminal logs its progress as lines.

mod common;

use std::collections::BTreeSet;

use common::*;

/// Eight changed functions: the even ones now panic on an empty slice, the odd ones are
/// rewritten without a change in behaviour.
fn eight_changed() -> tempfile::TempDir {
    let before: String = (0..8)
        .map(|i| format!("pub fn f{i}(v: &[u8]) -> u8 {{\n    v.first().map_or({i}, |b| b.wrapping_add({i}))\n}}\n\n"))
        .collect();
    let after: String = (0..8)
        .map(|i| match i % 2 {
            0 => format!("pub fn f{i}(v: &[u8]) -> u8 {{\n    v[0].wrapping_add({i})\n}}\n\n"),
            _ => format!("pub fn f{i}(v: &[u8]) -> u8 {{\n    match v.first() {{\n        Some(b) => b.wrapping_add({i}),\n        None => {i},\n    }}\n}}\n\n"),
        })
        .collect();
    changed_crate("sharded", &before, &after, false)
}

fn names(run: &Run) -> BTreeSet<String> {
    run.function_paths().into_iter().collect()
}

#[test]
fn the_shards_of_a_selection_are_disjoint_and_make_the_whole() {
    let dir = eight_changed();
    let whole = names(&list(dir.path(), &[]));
    assert_eq!(whole.len(), 8, "{whole:?}");
    let mut union = BTreeSet::new();
    for k in 1..=3 {
        let part = names(&list(dir.path(), &["--shard", &format!("{k}/3")]));
        assert!(
            union.is_disjoint(&part),
            "shard {k}/3 repeats a function: {part:?}"
        );
        union.extend(part);
    }
    assert_eq!(union, whole);
    list(dir.path(), &["--shard", "4/3"]).assert_error(&["--shard", "K/N"]);
}

fn finding_ids(report: &serde_json::Value) -> BTreeSet<String> {
    array(report, "findings")
        .iter()
        .map(|f| str_of(f, "id").to_string())
        .collect()
}

fn function_names(report: &serde_json::Value) -> BTreeSet<String> {
    array(report, "functions")
        .iter()
        .map(|f| str_of(f, "function").to_string())
        .collect()
}

#[test]
fn merged_shard_reports_are_the_report_of_the_whole() {
    let dir = eight_changed();
    let args = ["--engines", "edge", "--budget", "4s"];
    let whole = edgecheck(dir.path(), &args);
    whole.assert_code(1);
    let reports = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for k in 1..=2 {
        let shard = format!("{k}/2");
        let run = edgecheck(dir.path(), &[&args[..], &["--shard", &shard]].concat());
        assert_eq!(run.report()["settings"]["shard"], shard.as_str(), "{run}");
        let path = reports.path().join(format!("shard-{k}.json"));
        std::fs::write(&path, run.report().to_string()).unwrap();
        paths.push(path);
    }
    let shard_reports: Vec<serde_json::Value> = paths
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect();

    let out = reports.path().join("merged");
    let merge = tool()
        .args(["edgecheck", "merge"])
        .args(&paths)
        .args(["--format", "json,markdown,junit", "--output-dir"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        merge.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&merge.stderr)
    );
    let merged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("edgecheck.json")).unwrap())
            .unwrap();
    assert!(merged["settings"].get("shard").is_none(), "{merged}");

    // The merged report is the union of the shards' reports…
    let union = |of: fn(&serde_json::Value) -> BTreeSet<String>| -> BTreeSet<String> {
        shard_reports.iter().flat_map(of).collect()
    };
    assert_eq!(function_names(&merged), union(function_names));
    assert_eq!(finding_ids(&merged), union(finding_ids));
    assert_eq!(array(&merged, "findings").len(), finding_ids(&merged).len());
    // …and says what the unsharded run says.
    assert_eq!(function_names(&merged), function_names(whole.report()));
    assert_eq!(finding_ids(&merged), finding_ids(whole.report()));
    let markdown = std::fs::read_to_string(out.join("edgecheck.md")).unwrap();
    assert!(
        markdown.contains("4 edge cases introduced in 4 functions"),
        "{markdown}"
    );
    assert!(out.join("edgecheck.junit.xml").is_file());

    // Reports of other runs are not merged.
    let other = reports.path().join("other.json");
    let mut moved = shard_reports[0].clone();
    moved["base"] = serde_json::json!("0123456789abcdef0123456789abcdef01234567");
    std::fs::write(&other, moved.to_string()).unwrap();
    let refused = tool()
        .args(["edgecheck", "merge"])
        .arg(&paths[1])
        .arg(&other)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("different bases"));
}

#[test]
fn a_log_gets_a_line_per_phase_and_a_status_line_every_ten_seconds() {
    let dir = changed_crate(
        "logged",
        "pub fn f(v: &[u8]) -> usize { v.len() }\n",
        "pub fn f(v: &[u8]) -> usize { v.iter().count() }\n",
        false,
    );
    // Not `-q`, and stderr is a pipe.
    let out = tool()
        .args([
            "edgecheck",
            "--engines",
            "proptest",
            "--budget",
            "12s",
            "--format",
            "json",
        ])
        .arg("--target-dir")
        .arg(shared_target_dir())
        .current_dir(dir.path())
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    for phase in [
        "reading the workspace",
        "building the harness",
        "fuzzing 1 function(s)",
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with('[') && l.contains(phase)),
            "no line for `{phase}`:\n{stderr}"
        );
    }
    let status = lines
        .iter()
        .find(|l| l.contains("/12s] fuzzing: "))
        .unwrap_or_else(|| panic!("no status line:\n{stderr}"));
    assert!(
        status.contains("of 1 functions done, 0 findings"),
        "{status}"
    );
    // No terminal control characters in a log.
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}
