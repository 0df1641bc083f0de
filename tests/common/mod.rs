//! Shared helpers for the integration tests: real crates in temporary git repositories, the
//! built `cargo-edgecheck` binary run on them, and its JSON report.
//!
//! Every run passes `--target-dir` pointing at one directory shared by the whole suite, so the
//! harness's dependencies (proptest, serde_json) compile once.

#![allow(dead_code)] // each test file uses a different part of this module

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_cargo-edgecheck");

/// The binary under test, with a machine cache of its own under the test target dir, so the
/// suite never writes the user's cache and the libFuzzer archive is built once for it.
pub fn tool() -> Command {
    let mut command = Command::new(BIN);
    command.env("CARGO_EDGECHECK_CACHE_DIR", machine_cache_dir());
    command
}

/// The machine cache every run of the suite uses (`CARGO_EDGECHECK_CACHE_DIR`).
pub fn machine_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("edgecheck-cache")
}

/// The target dir every run shares, so harness dependencies build once for the suite.
pub fn shared_target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("edgecheck-shared")
}

/// The target dir of every `cargo fuzz` build of emitted or exported targets, inside the shared
/// one: they are built with the same flags, so libFuzzer's C++ and the fuzz crates'
/// dependencies compile once for the suite.
pub fn cargo_fuzz_target_dir() -> PathBuf {
    shared_target_dir().join("cargo-fuzz")
}

/// The program that runs `cargo fuzz …` when given `fuzz …`: `cargo` when cargo-fuzz is
/// installed (`.ci/install-consumers` installs it), else a cargo-fuzz installed once into the
/// test scratch dir, so the suite needs nothing beyond cargo.
pub fn cargo_fuzz_program() -> PathBuf {
    let on_path = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if on_path {
        return PathBuf::from("cargo");
    }
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tools");
    let bin = root.join("bin/cargo-fuzz");
    if !bin.is_file() {
        let status = Command::new("cargo")
            .args([
                "install",
                "cargo-fuzz",
                "--locked",
                "--version",
                "0.13.2",
                "--quiet",
                "--root",
            ])
            .arg(&root)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "installing cargo-fuzz failed");
    }
    bin
}

/// `cargo fuzz` as a command (see [`cargo_fuzz_program`]).
pub fn cargo_fuzz() -> Command {
    let mut cmd = Command::new(cargo_fuzz_program());
    cmd.arg("fuzz");
    cmd
}

/// A `Cargo.toml` for a library crate named `name` that stands alone (its own workspace).
pub fn manifest(name: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\n\n[workspace]\n"
    )
}

/// Writes `text` to `path` under `dir`, creating directories as needed.
pub fn write(dir: &Path, path: &str, text: &str) {
    let full = dir.join(path);
    std::fs::create_dir_all(full.parent().expect("a file path has a parent")).unwrap();
    std::fs::write(&full, text).unwrap_or_else(|e| panic!("writing {}: {e}", full.display()));
}

/// Runs git in `dir` with a fixed identity and without the user's or the system's git
/// configuration (as on a fresh CI machine); panics when git fails. Returns stdout, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=edgecheck tests"])
        .args(["-c", "user.email=tests@edgecheck.invalid"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.hooksPath=/dev/null",
        ])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("LC_ALL", "C")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Stages everything and commits it.
pub fn commit_all(dir: &Path, message: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
}

/// A git repository holding `files` (path, contents) in one first commit, with `target/`
/// ignored. A file list without `Cargo.toml` gets `manifest(name)`.
pub fn repo_with(name: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    if !files.iter().any(|(p, _)| *p == "Cargo.toml") {
        write(dir.path(), "Cargo.toml", &manifest(name));
    }
    write(dir.path(), ".gitignore", "/target\n");
    for (path, text) in files {
        write(dir.path(), path, text);
    }
    git(dir.path(), &["init", "-q"]);
    commit_all(dir.path(), "first commit");
    dir
}

/// A crate `name` in a git repository whose first commit has `before` as `src/lib.rs`, and whose
/// working tree has `after` there, committed as a second commit when `commit` is true.
pub fn changed_crate(name: &str, before: &str, after: &str, commit: bool) -> tempfile::TempDir {
    let dir = repo_with(name, &[("src/lib.rs", before)]);
    write(dir.path(), "src/lib.rs", after);
    if commit {
        commit_all(dir.path(), "the change");
    }
    dir
}

/// What one run of the tool gave.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The JSON report, when the run wrote one.
    pub report: Option<Value>,
}

/// Runs `cargo-edgecheck edgecheck <args> --verify --format json --output <file> --target-dir
/// <shared> -q` in `dir`, and reads the report back. The report file lives outside `dir`. Every
/// finding is proven (`--verify`): [`Run::finding`] asserts its regression test reproduces it.
pub fn edgecheck(dir: &Path, args: &[&str]) -> Run {
    edgecheck_with_target(dir, args, &shared_target_dir())
}

/// Same as [`edgecheck`], with the given target dir.
pub fn edgecheck_with_target(dir: &Path, args: &[&str], target_dir: &Path) -> Run {
    edgecheck_with_env(dir, args, target_dir, &[])
}

/// Same as [`edgecheck_with_target`], with more environment variables for the tool.
pub fn edgecheck_with_env(
    dir: &Path,
    args: &[&str],
    target_dir: &Path,
    envs: &[(&str, &Path)],
) -> Run {
    let out_dir = tempfile::tempdir().expect("a temporary directory");
    let report_path = out_dir.path().join("report.json");
    let mut cmd = tool();
    cmd.arg("edgecheck")
        .args(args)
        .arg("--verify")
        .arg("--format")
        .arg("json")
        .arg("--output")
        .arg(&report_path)
        .arg("--target-dir")
        .arg(target_dir)
        .arg("-q")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUST_BACKTRACE")
        .envs(envs.iter().copied());
    let out = cmd.output().expect("cargo-edgecheck runs");
    let report = std::fs::read_to_string(&report_path).ok().map(|text| {
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("the report is not JSON ({e}):\n{text}"))
    });
    run_of(out, report)
}

/// Runs `cargo-edgecheck edgecheck list <args> --format json` in `dir`: what a run would test,
/// without building. Its listing is the run's report (`functions`, with `status` `testable` or
/// `skipped`).
pub fn list(dir: &Path, args: &[&str]) -> Run {
    let out = tool()
        .args(["edgecheck", "list"])
        .args(args)
        .args(["--format", "json", "--target-dir"])
        .arg(shared_target_dir())
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("cargo-edgecheck runs");
    let report = serde_json::from_slice(&out.stdout).ok();
    run_of(out, report)
}

/// Runs the binary with exactly `args` (after `edgecheck`) in `dir`: no added flags.
pub fn edgecheck_raw(dir: &Path, args: &[&str]) -> Run {
    let out = tool()
        .arg("edgecheck")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("cargo-edgecheck runs");
    run_of(out, None)
}

fn run_of(out: Output, report: Option<Value>) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        report,
    }
}

impl Run {
    /// The report; panics with the tool's output when there is none.
    pub fn report(&self) -> &Value {
        match &self.report {
            Some(r) => r,
            None => panic!("no report was written:\n{self}"),
        }
    }

    /// Asserts the exit status, showing the run when it differs.
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit status:\n{self}");
        self
    }

    /// The report's `findings`.
    pub fn findings(&self) -> Vec<&Value> {
        array(self.report(), "findings")
    }

    /// The report's `functions`.
    pub fn functions(&self) -> Vec<&Value> {
        array(self.report(), "functions")
    }

    /// The `functions` entry for `path`; panics when there is none.
    pub fn function(&self, path: &str) -> &Value {
        self.functions()
            .into_iter()
            .find(|f| f["function"] == path)
            .unwrap_or_else(|| panic!("`{path}` is not in the report:\n{self}"))
    }

    /// The function paths listed in the report, sorted.
    pub fn function_paths(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .functions()
            .iter()
            .map(|f| str_of(f, "function").to_string())
            .collect();
        v.sort();
        v
    }

    /// Asserts that a listing plans a call to `function`.
    pub fn assert_testable(&self, function: &str) {
        let f = self.function(function);
        assert_eq!(f["status"], "testable", "{function}: {self}");
    }

    /// The findings for `function` of `kind`.
    pub fn findings_of(&self, function: &str, kind: &str) -> Vec<&Value> {
        self.findings()
            .into_iter()
            .filter(|f| f["function"] == function && f["kind"] == kind)
            .collect()
    }

    /// The first finding for `function` of `kind`; panics with the whole report when there is
    /// none, or when the run proved its findings (`--verify`, as [`edgecheck`] runs) and this
    /// one's regression test does not reproduce it.
    pub fn finding(&self, function: &str, kind: &str) -> &Value {
        let f = self
            .findings_of(function, kind)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no `{kind}` finding for `{function}`:\n{self}"));
        assert_ne!(
            f["verified"], false,
            "the `{kind}` finding for `{function}` is not proven: {}\n{self}",
            f["verification"]
        );
        f
    }

    /// Asserts that `function` was tested, and with at least one input from each engine run.
    pub fn assert_tested(&self, function: &str) {
        let f = self.function(function);
        assert_eq!(
            f["status"], "tested",
            "`{function}` was not tested:\n{self}"
        );
        let engines = f["engines"].as_object().expect("`engines` is an object");
        assert!(
            engines.get("edge").and_then(Value::as_u64).unwrap_or(0) > 0,
            "`{function}`: no input from the edge engine:\n{self}"
        );
    }

    /// Asserts that `function` was skipped with a reason containing every one of `words`.
    pub fn assert_skipped(&self, function: &str, words: &[&str]) {
        let f = self.function(function);
        assert_eq!(
            f["status"], "skipped",
            "`{function}` was not skipped:\n{self}"
        );
        let reason = str_of(f, "reason");
        for w in words {
            assert!(
                reason.contains(w),
                "the reason for skipping `{function}` does not mention `{w}`: {reason}"
            );
        }
    }

    /// Asserts a usage or environment error: exit 2, no report, one `error:` line on stderr that
    /// contains every one of `words`, and no panic of the tool.
    pub fn assert_error(&self, words: &[&str]) {
        self.assert_code(2);
        assert!(
            !self.stderr.contains("panicked"),
            "the tool panicked:\n{self}"
        );
        let first = self
            .stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default();
        assert!(
            first.starts_with("error:"),
            "stderr does not start with `error:`:\n{self}"
        );
        for w in words {
            assert!(
                first.contains(w),
                "the error line does not mention `{w}`: {first}"
            );
        }
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "exit status: {}", self.code)?;
        writeln!(f, "--- stderr ---\n{}", self.stderr)?;
        if !self.stdout.is_empty() {
            writeln!(f, "--- stdout ---\n{}", self.stdout)?;
        }
        if let Some(r) = &self.report {
            writeln!(
                f,
                "--- report ---\n{}",
                serde_json::to_string_pretty(r).unwrap_or_default()
            )?;
        }
        Ok(())
    }
}

/// `v[key]` as an array; panics when it is not one.
pub fn array<'a>(v: &'a Value, key: &str) -> Vec<&'a Value> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("`{key}` is not an array in {v}"))
        .iter()
        .collect()
}

/// `v[key]` as a string; panics when it is not one.
pub fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {v}"))
}

/// The 1-based line of the first line of `text` that contains `needle`.
pub fn line_of(text: &str, needle: &str) -> u64 {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` is not in the source")) as u64
        + 1
}

/// Every file under `root`, relative to it, except under `.git` and the paths in `except`.
pub fn file_list(root: &Path, except: &[&Path]) -> BTreeSet<PathBuf> {
    fn walk(dir: &Path, root: &Path, except: &[&Path], out: &mut BTreeSet<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|n| n == ".git") || except.contains(&path.as_path()) {
                continue;
            }
            if path.is_dir() {
                walk(&path, root, except, out);
            } else {
                out.insert(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, except, &mut out);
    out
}

/// Every file under `root` with its bytes (a symlink: its target), except under `.git` and
/// `target` directories: what a run must leave exactly as it was.
pub fn tree_snapshot(root: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, root: &Path, out: &mut std::collections::BTreeMap<PathBuf, Vec<u8>>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
            if kind.is_dir() {
                if path
                    .file_name()
                    .is_some_and(|n| n == ".git" || n == "target")
                {
                    continue;
                }
                walk(&path, root, out);
            } else if kind.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.insert(rel, target.into_os_string().into_encoded_bytes());
            } else {
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Asserts that the files under `root` are byte for byte what `before` recorded.
pub fn assert_tree_unchanged(root: &Path, before: &std::collections::BTreeMap<PathBuf, Vec<u8>>) {
    let after = tree_snapshot(root);
    let changed: Vec<&PathBuf> = before
        .keys()
        .chain(after.keys())
        .filter(|p| before.get(*p) != after.get(*p))
        .collect();
    assert!(
        changed.is_empty(),
        "the run changed, created or removed files in the user's tree: {changed:?}"
    );
}

/// The processes (other than this one) whose working directory, executable or command line
/// lies under `dir`.
pub fn processes_under(dir: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let needle = dir.as_os_str().as_encoded_bytes().to_vec();
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != std::process::id())
        .filter(|pid| {
            let under = |link: &str| {
                std::fs::read_link(format!("/proc/{pid}/{link}")).is_ok_and(|p| p.starts_with(dir))
            };
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            under("cwd")
                || under("exe")
                || cmdline
                    .windows(needle.len())
                    .any(|w| w == needle.as_slice())
        })
        .collect()
}

/// Waits 2 s for the tool's processes to go, then asserts that none under `dir` is left.
pub fn assert_no_process_left(dir: &Path) {
    std::thread::sleep(std::time::Duration::from_secs(2));
    let left = processes_under(dir);
    let described: Vec<String> = left
        .iter()
        .map(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            format!(
                "{pid}: {}",
                String::from_utf8_lossy(&cmd).replace('\0', " ")
            )
        })
        .collect();
    assert!(
        left.is_empty(),
        "processes of the run outlived it under {}:\n{}",
        dir.display(),
        described.join("\n")
    );
}

/// The tool started in the background with `-v` (and `args`, the shared target dir, a JSON
/// report to a file), its stdin an open pipe that is never written, its stderr read line by line.
pub struct Background {
    pub child: std::process::Child,
    /// The lines of its stderr, as they come.
    pub lines: std::sync::mpsc::Receiver<String>,
    /// Every line read so far.
    pub seen: Vec<String>,
    pub report_path: PathBuf,
    _out_dir: tempfile::TempDir,
}

impl Background {
    pub fn start(dir: &Path, args: &[&str]) -> Background {
        Self::spawn(dir, args, tool())
    }

    /// Started as the leader of a process group of its own, as a shell starts a job: a signal
    /// to the group reaches it and the cargo it runs, as Ctrl-C in a terminal does.
    pub fn start_in_own_group(dir: &Path, args: &[&str]) -> Background {
        use std::os::unix::process::CommandExt;
        let mut command = tool();
        command.process_group(0);
        Self::spawn(dir, args, command)
    }

    fn spawn(dir: &Path, args: &[&str], mut command: Command) -> Background {
        use std::io::BufRead;
        let out_dir = tempfile::tempdir().expect("a temporary directory");
        let report_path = out_dir.path().join("report.json");
        let mut child = command
            .arg("edgecheck")
            .args(args)
            .args(["-v", "--format", "json", "--output"])
            .arg(&report_path)
            .arg("--target-dir")
            .arg(shared_target_dir())
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUST_BACKTRACE")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("cargo-edgecheck starts");
        let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let (tx, lines) = std::sync::mpsc::channel();
        // Read to the end, so the tool never writes into a closed pipe.
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Background {
            child,
            lines,
            seen: Vec::new(),
            report_path,
            _out_dir: out_dir,
        }
    }

    /// Waits (at most `limit`) for a stderr line for which `pick` gives something, and returns it.
    pub fn wait_for<T>(
        &mut self,
        limit: std::time::Duration,
        mut pick: impl FnMut(&str) -> Option<T>,
    ) -> T {
        let until = std::time::Instant::now() + limit;
        loop {
            let left = until.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let got = pick(&line);
                    self.seen.push(line);
                    if let Some(v) = got {
                        return v;
                    }
                }
                Err(_) => panic!(
                    "the tool did not print the line waited for in {limit:?}; it printed:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// The scratch dir `-v` names: every copy, build and harness process of the run is under it.
    pub fn scratch_dir(&mut self) -> PathBuf {
        self.wait_for(std::time::Duration::from_secs(120), |line| {
            line.split_once("scratch dir ")
                .map(|(_, dir)| PathBuf::from(dir.trim()))
        })
    }

    /// Waits for the tool to end and gives what it did, its report included. A death by a
    /// signal is exit status 128 + the signal's number, as a shell shows it.
    pub fn finish(mut self) -> Run {
        use std::os::unix::process::ExitStatusExt;
        let status = self.child.wait().expect("the tool runs");
        self.seen.extend(self.lines.iter());
        let report = std::fs::read_to_string(&self.report_path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
        Run {
            code: status
                .code()
                .or(status.signal().map(|sig| 128 + sig))
                .unwrap_or(-1),
            stdout: String::new(),
            stderr: self.seen.join("\n"),
            report,
        }
    }
}
