//! Hostile code under test: what the changed function does to its surroundings stays in a
//! directory of its own, and its processes do not outlive the tool.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn a_function_writing_a_relative_path_leaves_the_sources_and_their_copies_alone() {
    let before = "pub fn save(v: &[u8]) -> usize {\n    v.len()\n}\n";
    // Its working directory is empty: `src/` is not there, and `Cargo.toml` lands beside
    // nothing.
    let after = "pub fn save(v: &[u8]) -> usize {\n    let _ = std::fs::write(\"src/lib.rs\", v);\n    let _ = std::fs::write(\"Cargo.toml\", v);\n    v.len()\n}\n";
    let repo = changed_crate("writer", before, after, false);
    let lib = std::fs::read(repo.path().join("src/lib.rs")).unwrap();
    let manifest = std::fs::read(repo.path().join("Cargo.toml")).unwrap();
    for _ in 0..2 {
        // The second run reuses the scratch copies: they must still be the sources.
        let run = edgecheck(repo.path(), &["--engines", "edge", "--budget", "2s"]);
        run.assert_code(0);
        run.assert_tested("writer::save");
    }
    assert_eq!(std::fs::read(repo.path().join("src/lib.rs")).unwrap(), lib);
    assert_eq!(
        std::fs::read(repo.path().join("Cargo.toml")).unwrap(),
        manifest
    );
}

#[test]
#[cfg(target_os = "linux")]
fn killing_the_tool_with_sigkill_leaves_no_harness_process() {
    let before = "pub fn spin(n: u32) -> u32 {\n    n\n}\n";
    // It also starts a daemonised grandchild once, outside the harness's process group.
    let after = "pub fn spin(n: u32) -> u32 {\n    static ONCE: std::sync::Once = std::sync::Once::new();\n    ONCE.call_once(|| {\n        let _ = std::process::Command::new(\"sh\").args([\"-c\", \"setsid sleep 2741.5 &\"]).status();\n    });\n    n.wrapping_mul(3) / 3\n}\n";
    let repo = changed_crate("spinner", before, after, false);
    let mut tool = tool()
        .args([
            "edgecheck",
            "--engines",
            "proptest",
            "--budget",
            "10m",
            "-v",
        ])
        .args(["--format", "json", "--target-dir"])
        .arg(shared_target_dir())
        .current_dir(repo.path())
        .env_remove("CARGO_TARGET_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `-v` names the scratch dir, under which every harness process runs. Its stderr is read
    // to the end, so the tool never writes into a closed pipe.
    let stderr = BufReader::new(tool.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Some((_, dir)) = line.split_once("scratch dir ") {
                let _ = tx.send(PathBuf::from(dir.trim()));
            }
        }
    });
    let scratch = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the tool names its scratch dir");
    // The harness processes run under `runs/`; the builds run elsewhere.
    let runs = scratch.join("runs");
    let started = Instant::now();
    while processes_under(&runs).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no harness process started"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    tool.kill().unwrap(); // SIGKILL: no handler of the tool runs
    tool.wait().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        processes_under(&scratch),
        Vec::<u32>::new(),
        "harness processes outlived the tool"
    );
    assert_eq!(
        processes_running("2741.5"),
        Vec::<u32>::new(),
        "a process the code under test started outlived the tool"
    );
}

/// The pids of processes whose command line contains `marker`.
fn processes_running(marker: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker))
        })
        .collect()
}

#[test]
#[cfg(target_os = "linux")]
fn ending_the_process_is_a_finding_compared_with_the_base_and_spawned_processes_die() {
    let before = "pub fn quits(n: u8) -> u8 {\n    n\n}\n\
                  pub fn aborts(n: u8) -> u8 {\n    n\n}\n\
                  pub fn both_quit(n: u8) -> u8 {\n    if n == 200 {\n        std::process::exit(3);\n    }\n    n\n}\n\
                  pub fn spawns(n: u8) -> u8 {\n    n\n}\n";
    // `spawns` leaves a daemonised grandchild behind, outside the harness's process group.
    let after = "pub fn quits(n: u8) -> u8 {\n    if n == 0 {\n        std::process::exit(0);\n    }\n    n\n}\n\
                 pub fn aborts(n: u8) -> u8 {\n    if n == 255 {\n        std::process::abort();\n    }\n    n\n}\n\
                 pub fn both_quit(n: u8) -> u8 {\n    if n == 200 {\n        std::process::exit(3);\n    }\n    n + 0\n}\n\
                 pub fn spawns(n: u8) -> u8 {\n    if n == 7 {\n        let _ = std::process::Command::new(\"sh\")\n            .args([\"-c\", \"setsid sleep 3917.25 &\"])\n            .status();\n    }\n    n\n}\n";
    let repo = changed_crate("enders", before, after, false);
    let tree = tree_snapshot(repo.path());
    let run = edgecheck(
        repo.path(),
        &["--engines", "edge,proptest", "--budget", "3s"],
    );
    run.assert_code(1);
    // The report's kind stays the schema's `crash`; `ending` says how.
    let quits = run.finding("enders::quits", "crash");
    assert_eq!(str_of(quits, "ending"), "exit", "{run}");
    assert_eq!(str_of(quits, "label"), "introduced", "{run}");
    assert_eq!(str_of(quits, "input"), "quits(0)", "{run}");
    assert!(
        str_of(quits, "message").contains("exited with status 0"),
        "{run}"
    );
    let aborts = run.finding("enders::aborts", "crash");
    assert_eq!(str_of(aborts, "ending"), "abort", "{run}");
    assert_eq!(str_of(aborts, "label"), "introduced", "{run}");
    assert!(str_of(aborts, "message").contains("SIGABRT"), "{run}");
    // The code before the change exits on that input too.
    let both = run.finding("enders::both_quit", "crash");
    assert_eq!(str_of(both, "ending"), "exit", "{run}");
    assert_eq!(str_of(both, "label"), "pre-existing", "{run}");
    assert!(
        run.findings_of("enders::spawns", "exit").is_empty(),
        "{run}"
    );
    run.assert_tested("enders::spawns");
    assert_eq!(
        processes_running("3917.25"),
        Vec::<u32>::new(),
        "a process the code under test started outlived the run"
    );
    assert_tree_unchanged(repo.path(), &tree);
}

#[test]
#[cfg(target_os = "linux")]
fn the_sandbox_keeps_the_code_under_test_from_writing_outside_the_run() {
    // Outside the temp dir (the tool's is a directory of its own here, wherever the checkout
    // lives), the user's tree and the run's directories.
    let outside = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let escape = outside.join("sandbox-escape.txt");
    let _ = std::fs::remove_file(&escape);
    let tmp = outside.join("sandbox-tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let before = "pub fn save(n: u8) -> u8 {\n    n\n}\n";
    let after = format!(
        "pub fn save(n: u8) -> u8 {{\n    let _ = std::fs::write({:?}, [n]);\n    n\n}}\n",
        escape.display().to_string()
    );
    let repo = changed_crate("boxed", before, &after, false);
    let tree = tree_snapshot(repo.path());
    let run_with = |extra: &[&str]| {
        let args: Vec<&str> = ["--engines", "edge", "--budget", "2s"]
            .iter()
            .chain(extra)
            .copied()
            .collect();
        edgecheck_with_env(
            repo.path(),
            &args,
            &shared_target_dir(),
            &[("TMPDIR", tmp.as_path())],
        )
    };
    let run = run_with(&[]);
    run.assert_code(0);
    run.assert_tested("boxed::save");
    let sandbox = str_of(&run.report()["settings"], "sandbox");
    assert!(sandbox.starts_with("active"), "{run}");
    assert!(
        !escape.exists(),
        "the code under test wrote outside the run"
    );

    let run = run_with(&["--no-sandbox"]);
    run.assert_code(0);
    assert!(
        str_of(&run.report()["settings"], "sandbox").starts_with("off"),
        "{run}"
    );
    assert!(escape.exists(), "--no-sandbox lets the function write");
    let _ = std::fs::remove_file(&escape);
    assert_tree_unchanged(repo.path(), &tree);
}
