//! Hostile code under test: what the changed function does to its surroundings stays in a
//! directory of its own, and its processes do not outlive the tool.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
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

/// The processes whose working directory is under `dir`.
fn processes_under(dir: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(dir))
        })
        .collect()
}

#[test]
#[cfg(target_os = "linux")]
fn killing_the_tool_with_sigkill_leaves_no_harness_process() {
    let before = "pub fn spin(n: u32) -> u32 {\n    n\n}\n";
    let after = "pub fn spin(n: u32) -> u32 {\n    n.wrapping_mul(3) / 3\n}\n";
    let repo = changed_crate("spinner", before, after, false);
    let mut tool = Command::new(BIN)
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
}
