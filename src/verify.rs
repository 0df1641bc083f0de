//! Proves each finding (`--verify`): its regression test pasted next to the function in scratch copies of the head and the base, built once per copy with `cargo test --no-run`, and run by its exact name under the run's limits: it must fail on the head and, for an introduced finding, pass on the base.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::build::{self, TestBuildSpec, TestOutcome};
use crate::contain::{self, Containment};
use crate::error::{Error, Result};
use crate::shadow::{self, Insertion, Piece};
use crate::triage::Finding;

/// The module the regression tests of one module are pasted into, next to its items.
const TEST_MODULE: &str = "edgecheck_verify";

/// A debug test binary takes longer than the release harness that timed the input: the run's
/// `--timeout` times this is what one test may take.
const TIMEOUT_MARGIN: u32 = 10;

/// The least time one test may take, for the start of the test binary itself.
const MIN_TEST_TIME: Duration = Duration::from_secs(5);

/// Address space a test process may use beyond `--memory-limit`: the limit counts every
/// mapping (the binary, thread stacks, the allocator's reserved arenas), not only the heap the
/// harness measured.
const ADDRESS_SPACE_HEADROOM_MIB: u64 = 512;

/// Where a finding's test goes in a copy: the module that defines the function it calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The package, as an index into [`CopySpec::packages`].
    pub package: usize,
    /// The file holding the module's items, relative to the copy's root.
    pub file: PathBuf,
    /// For an inline `mod x { … }`: where its closing brace is (1-based line, 0-based char
    /// column); `None` for a file module, whose end is the place.
    pub inline_close: Option<(usize, usize)>,
    /// The module's path from the crate root.
    pub module: Vec<String>,
}

/// What to prove for one finding.
#[derive(Debug, Clone)]
pub enum Proof {
    /// The test must fail in the head copy at `head`; with `base`, it must also pass in the
    /// base copy there (an introduced finding whose function has a counterpart before).
    Run { head: Place, base: Option<Place> },
    /// The finding cannot be checked, for this reason.
    Impossible(String),
}

/// A package of a copy.
#[derive(Debug, Clone)]
pub struct CopyPackage {
    /// Its name in the copy (the base copy renames the packages under test).
    pub name: String,
    /// Its library's root file, relative to the copy's root.
    pub lib_root: PathBuf,
    /// Features to enable on it.
    pub features: Vec<String>,
}

/// One scratch copy of the workspace to paste tests into.
#[derive(Debug, Clone)]
pub struct CopySpec<'a> {
    /// Where the copy is written: under the run's work dir, never the user's tree.
    pub root: PathBuf,
    /// The workspace's files, relative to `root`, manifests already rewritten for the copy.
    pub files: &'a BTreeMap<PathBuf, Vec<u8>>,
    /// Per package of the run (the same indices as the workspace's).
    pub packages: Vec<CopyPackage>,
}

/// How the tests are built and run.
#[derive(Debug, Clone)]
pub struct VerifySpec<'a> {
    pub head: CopySpec<'a>,
    /// The code before the change, when the run has one.
    pub base: Option<CopySpec<'a>>,
    /// The cargo target dir the copies share (their packages' names differ).
    pub target_dir: PathBuf,
    /// Each test process runs in a fresh empty dir under this one.
    pub runs_dir: PathBuf,
    /// Where cargo runs, for the user's `.cargo/config.toml`.
    pub config_dir: PathBuf,
    pub all_features: bool,
    pub no_default_features: bool,
    pub jobs: usize,
    /// The run's `--timeout`.
    pub timeout: Duration,
    /// The run's `--memory-limit`, in MiB.
    pub memory_limit_mib: u64,
    /// How each test process is confined (it may also write to its own dir).
    pub containment: Containment,
    /// Set when the run's `--time-limit` has passed (and the processes it started were
    /// killed): a test not run by then, or cut short, proves nothing.
    pub time_up: Option<&'a AtomicBool>,
}

/// Why a test proves nothing when `--time-limit` passed.
pub const TIME_UP: &str = "--time-limit was reached before its test had run";

/// How one test ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestRun {
    /// It ran and passed.
    Passed,
    /// It ran and did not pass cleanly: how it ended.
    Failed(String),
    /// It could not be run: why.
    NotRun(String),
}

/// Runs every finding's regression test and marks each finding `verified`, with the reason
/// when it is not. `proofs[i]` is what to prove for `findings[i]`. A copy that does not build
/// leaves its findings unverified with the compiler's first error; it does not fail the run.
pub fn verify(
    spec: &VerifySpec,
    findings: &mut [Finding],
    proofs: &[Proof],
    progress: &dyn Fn(&str),
) -> Result<()> {
    let heads: Vec<Option<&Place>> = proofs
        .iter()
        .map(|p| match p {
            Proof::Run { head, .. } => Some(head),
            Proof::Impossible(_) => None,
        })
        .collect();
    let bases: Vec<Option<&Place>> = proofs
        .iter()
        .map(|p| match p {
            Proof::Run { base, .. } => base.as_ref(),
            Proof::Impossible(_) => None,
        })
        .collect();
    let head_runs = run_side(spec, &spec.head, "head", findings, &heads, progress)?;
    // The base is only worth building for the findings that failed on the head.
    let wanted_bases: Vec<Option<&Place>> = bases
        .iter()
        .zip(&head_runs)
        .map(|(b, h)| b.filter(|_| matches!(h, Some(TestRun::Failed(_)))))
        .collect();
    let base_runs = match (&spec.base, wanted_bases.iter().any(Option::is_some)) {
        (Some(base), true) => run_side(spec, base, "base", findings, &wanted_bases, progress)?,
        _ => wanted_bases
            .iter()
            .map(|b| {
                b.map(|_| {
                    TestRun::NotRun("the run has no copy of the code before the change".into())
                })
            })
            .collect(),
    };
    for (i, f) in findings.iter_mut().enumerate() {
        let (verified, why) = match (&proofs[i], &head_runs[i]) {
            (Proof::Impossible(why), _) => (false, Some(why.clone())),
            (Proof::Run { base, .. }, Some(head)) => {
                let base_run = base.as_ref().map(|_| {
                    base_runs[i].clone().unwrap_or_else(|| {
                        TestRun::NotRun("the test was not run on the base".into())
                    })
                });
                decide(head, base_run.as_ref())
            }
            (Proof::Run { .. }, None) => (false, Some("the test was not run".into())),
        };
        // A memory error AddressSanitizer found does not show in a test built without it.
        let why = match why {
            Some(w) if w == HEAD_PASSED && f.message.contains("AddressSanitizer") => Some(format!(
                "{HEAD_PASSED} without AddressSanitizer, which found this memory error (run it with `RUSTFLAGS=-Zsanitizer=address cargo +nightly test --target <host>`)"
            )),
            other => other,
        };
        f.verified = Some(verified);
        f.verification = why;
    }
    Ok(())
}

const HEAD_PASSED: &str = "the test passed on head";

/// Whether a finding is proven by how its test ran on the head and, when the base is checked,
/// on the base; the reason when it is not.
pub fn decide(head: &TestRun, base: Option<&TestRun>) -> (bool, Option<String>) {
    match (head, base) {
        (TestRun::Passed, _) => (false, Some(HEAD_PASSED.into())),
        (TestRun::NotRun(why), _) => (false, Some(why.clone())),
        (TestRun::Failed(_), None | Some(TestRun::Passed)) => (true, None),
        (TestRun::Failed(_), Some(TestRun::Failed(how))) => (
            false,
            Some(format!("the test also fails on the base ({how})")),
        ),
        (TestRun::Failed(_), Some(TestRun::NotRun(why))) => {
            (false, Some(format!("on the base: {why}")))
        }
    }
}

/// A module in a copy: its file, and the closing brace of an inline one.
type ModuleAt = (PathBuf, Option<(usize, usize)>);

/// A test placed in a copy: the finding it proves, where, and its function's name.
struct Placed<'p> {
    finding: usize,
    place: &'p Place,
    name: String,
}

/// Pastes the tests of the findings with a place on this side into one copy, builds it once and
/// runs each test. `None` for the findings with no place here. A test a compile error is
/// pinned on is taken out (unverified, with its error) and the copy built again without it; an
/// error in no pasted test leaves every test of the copy unverified.
fn run_side(
    spec: &VerifySpec,
    copy: &CopySpec,
    side: &str,
    findings: &[Finding],
    places: &[Option<&Place>],
    progress: &dyn Fn(&str),
) -> Result<Vec<Option<TestRun>>> {
    let mut out: Vec<Option<TestRun>> = places
        .iter()
        .map(|p| p.map(|_| TestRun::NotRun(String::new())))
        .collect();
    let mut placed = Vec::new();
    for (i, place) in places.iter().enumerate() {
        let Some(place) = place else { continue };
        match test_fn_name(&findings[i].regression_test) {
            Some(name) => placed.push(Placed {
                finding: i,
                place,
                name: name.to_string(),
            }),
            None => {
                out[i] = Some(TestRun::NotRun(
                    "the regression test has no function name".into(),
                ))
            }
        }
    }
    let phase = format!(
        "verifying {} finding{}",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" }
    );
    // The side is said by `decide`, which prefixes the base's reasons.
    let does_not_compile = |error: &str| format!("the test does not compile: {error}");
    let executables = loop {
        if placed.is_empty() {
            return Ok(out);
        }
        progress(&format!("{phase}: building the tests on the {side}"));
        write_copy(copy, &placed, findings)?;
        let built = build::build_tests(&build_spec(spec, copy, &placed));
        if spec.time_up.is_some_and(|t| t.load(Ordering::SeqCst)) {
            // The build was killed (or is no use now): its outcome says nothing of the tests.
            for p in &placed {
                out[p.finding] = Some(TestRun::NotRun(TIME_UP.into()));
            }
            return Ok(out);
        }
        let (errors, stderr) = match built? {
            TestOutcome::Built { executables } => break executables,
            TestOutcome::Failed { errors, stderr } => (errors, stderr),
        };
        let names: Vec<&str> = placed.iter().map(|p| p.name.as_str()).collect();
        match pin_errors(&errors, &copy.root, &names) {
            Some(pinned) if !pinned.is_empty() => placed.retain(|p| match pinned.get(&p.name) {
                Some(why) => {
                    out[p.finding] = Some(TestRun::NotRun(does_not_compile(why)));
                    false
                }
                None => true,
            }),
            _ => {
                let why = does_not_compile(&first_error(&errors, &stderr, &copy.root));
                for p in &placed {
                    out[p.finding] = Some(TestRun::NotRun(why.clone()));
                }
                return Ok(out);
            }
        }
    };
    let time_up = || spec.time_up.is_some_and(|t| t.load(Ordering::SeqCst));
    let limits = Limits {
        time: (spec.timeout * TIMEOUT_MARGIN).max(MIN_TEST_TIME),
        address_space: (spec.memory_limit_mib + ADDRESS_SPACE_HEADROOM_MIB) << 20,
        containment: spec.containment.clone(),
    };
    let total = placed.len();
    for (n, p) in placed.iter().enumerate() {
        progress(&format!(
            "{phase}: running {} of {total} on the {side}",
            n + 1
        ));
        let package = &copy.packages[p.place.package];
        let lib_root = copy.root.join(&package.lib_root);
        let exe = executables
            .iter()
            .find(|(src, _)| same_file(src, &lib_root))
            .or(match executables.len() {
                1 => executables.first(),
                _ => None,
            });
        let Some((_, exe)) = exe else {
            out[p.finding] = Some(TestRun::NotRun(format!(
                "cargo built no test binary for {}",
                package.name
            )));
            continue;
        };
        let path = test_path(&p.place.module, &p.name);
        let dir = spec.runs_dir.join(format!("{side}-{n}"));
        let run = match time_up() {
            true => TestRun::NotRun(TIME_UP.into()),
            false => run_test(exe, &path, &dir, &limits)?,
        };
        // Killed at the limit, a test's end is not its verdict.
        out[p.finding] = Some(match time_up() {
            true => TestRun::NotRun(TIME_UP.into()),
            false => run,
        });
    }
    Ok(out)
}

/// Writes the copy with the `placed` tests pasted in, one test module per module, each test
/// once.
fn write_copy(copy: &CopySpec, placed: &[Placed], findings: &[Finding]) -> Result<()> {
    let mut modules: BTreeMap<ModuleAt, Vec<(&str, &str)>> = BTreeMap::new();
    for p in placed {
        let tests = modules
            .entry((p.place.file.clone(), p.place.inline_close))
            .or_default();
        if !tests.iter().any(|(n, _)| *n == p.name) {
            tests.push((&p.name, &findings[p.finding].regression_test));
        }
    }
    let mut insertions: BTreeMap<PathBuf, Vec<Insertion>> = BTreeMap::new();
    for ((file, at), tests) in modules {
        let code: String = tests.iter().map(|(_, code)| *code).collect();
        insertions.entry(file).or_default().push(Insertion {
            at,
            pieces: vec![Piece::plumbing(test_module(&code))],
        });
    }
    let mut files = copy.files.clone();
    shadow::splice(&mut files, &copy.root, insertions)?;
    shadow::sync_tree(&copy.root, &files)
}

/// `cargo test --no-run` of the packages the `placed` tests are in.
fn build_spec(spec: &VerifySpec, copy: &CopySpec, placed: &[Placed]) -> TestBuildSpec {
    let mut ps: Vec<usize> = placed.iter().map(|p| p.place.package).collect();
    ps.sort();
    ps.dedup();
    let packages: Vec<&CopyPackage> = ps.iter().map(|&p| &copy.packages[p]).collect();
    TestBuildSpec {
        manifest: copy.root.join("Cargo.toml"),
        packages: packages.iter().map(|p| p.name.clone()).collect(),
        features: packages
            .iter()
            .flat_map(|p| p.features.iter().map(move |f| format!("{}/{f}", p.name)))
            .collect(),
        all_features: spec.all_features,
        no_default_features: spec.no_default_features,
        target_dir: spec.target_dir.clone(),
        jobs: spec.jobs,
        config_dir: spec.config_dir.clone(),
    }
}

/// The pasted test each compile error is in, by test name, with its first error; `None` when
/// an error is in none of them (the copy itself does not build).
fn pin_errors(
    errors: &[build::Diag],
    root: &Path,
    names: &[&str],
) -> Option<BTreeMap<String, String>> {
    let mut pinned = BTreeMap::new();
    for e in errors {
        // An error inside a macro's definition (`assert_eq!`) is where the macro was called.
        let (file, line) = e
            .file
            .iter()
            .map(|f| (f, e.line))
            .chain(e.macro_sites.iter().map(|(f, l)| (f, *l)))
            .find(|(f, _)| f.starts_with(root))?;
        let text = std::fs::read_to_string(file).ok()?;
        let lines: Vec<&str> = text.lines().collect();
        let name = enclosing_test(&lines, line, names)?;
        // The line in the copy would mean nothing to the user: the error is in their test.
        pinned
            .entry(name.to_string())
            .or_insert_with(|| error_line(e));
    }
    Some(pinned)
}

/// The pasted test whose body holds 1-based line `line`. A pasted test starts with
/// `fn <name>(` and ends with `}` at the start of a line, and its body is indented: walking up
/// from the line, a `}` or another `fn` at the start of a line first means it is not in one.
fn enclosing_test<'n>(lines: &[&str], line: usize, names: &[&'n str]) -> Option<&'n str> {
    for l in lines.get(..line)?.iter().rev() {
        if let Some(rest) = l.strip_prefix("fn ") {
            let name = rest.split('(').next().unwrap_or_default().trim();
            return names.iter().copied().find(|n| *n == name);
        }
        if l.starts_with('}') {
            return None;
        }
    }
    None
}

/// The `#[cfg(test)]` module holding `tests`, with the module's own items in scope as a test
/// module next to them has them.
fn test_module(tests: &str) -> String {
    format!("\n#[cfg(test)]\n#[allow(unused_imports)]\nmod {TEST_MODULE} {{\nuse super::*;\n\n{tests}}}\n")
}

/// The name of the function a regression test defines: `fn edgecheck_truncate_panic_1a2b3c()`.
fn test_fn_name(test: &str) -> Option<&str> {
    test.lines()
        .find_map(|l| l.trim_start().strip_prefix("fn "))
        .and_then(|rest| rest.split('(').next())
        .map(str::trim)
        .filter(|name| !name.is_empty())
}

/// The name libtest knows a pasted test by: its module's path, the test module, the function.
fn test_path(module: &[String], name: &str) -> String {
    module
        .iter()
        .map(String::as_str)
        .chain([TEST_MODULE, name])
        .collect::<Vec<_>>()
        .join("::")
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

/// A compiler error's first line: `error[E0369]: binary operation `==` cannot be applied …`.
fn error_line(d: &build::Diag) -> String {
    let text = build::strip_ansi(&d.rendered);
    text.lines().next().unwrap_or_default().trim().to_string()
}

/// The compiler's first error as one line, with where it points in the copy.
fn first_error(errors: &[build::Diag], stderr: &str, root: &Path) -> String {
    match errors.first() {
        Some(d) => {
            let line = error_line(d);
            // Where in the copy: the span itself, or the macro call that led to it.
            let site = d
                .file
                .iter()
                .map(|f| (f, d.line))
                .chain(d.macro_sites.iter().map(|(f, l)| (f, *l)))
                .find(|(f, _)| f.starts_with(root));
            match site {
                Some((file, at)) => format!(
                    "{line} ({}:{at})",
                    file.strip_prefix(root).unwrap_or(file).display()
                ),
                None => line,
            }
        }
        None => build::strip_ansi(stderr)
            .lines()
            .find(|l| l.trim_start().starts_with("error"))
            .unwrap_or("cargo failed without an error message")
            .trim()
            .to_string(),
    }
}

/// What one test process may use.
struct Limits {
    time: Duration,
    /// Bytes of address space (`RLIMIT_AS`).
    address_space: u64,
    containment: Containment,
}

/// Runs one test by its exact name in a fresh empty dir, in its own process group (killed with
/// it on timeout), under the limits; it dies with the tool. Its output goes to files beside the
/// dir, not pipes, so a process it leaves behind holding them cannot keep the verdict waiting.
fn run_test(exe: &Path, path: &str, dir: &Path, limits: &Limits) -> Result<TestRun> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let out_path = dir.with_extension("stdout");
    let err_path = dir.with_extension("stderr");
    let create = |p: &Path| {
        std::fs::File::create(p).map_err(|e| Error::io(format!("creating {}", p.display()), e))
    };
    let mut command = contain::command(&limits.containment.writing_to(dir), exe);
    command
        .args([path, "--exact", "--test-threads=1", "--color=never"])
        .current_dir(dir)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(create(&out_path)?)
        .stderr(create(&err_path)?);
    limit_memory(&mut command, limits.address_space);
    {
        use std::os::unix::process::CommandExt as _;
        command.process_group(0);
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Ok(TestRun::NotRun(format!(
                "the test binary {} could not be started: {e}",
                exe.display()
            )))
        }
    };
    let started = Instant::now();
    let (status, timed_out) = loop {
        match child.try_wait() {
            Ok(Some(status)) => break (Some(status), false),
            Ok(None) if started.elapsed() >= limits.time => break (None, true),
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(Error::io("waiting for a test process", e)),
        }
    };
    // A supervisor kills what the test started when the test ends; a plain child's group
    // goes in every case, so nothing the test spawned outlives it.
    if timed_out || limits.containment.supervisor.is_none() {
        contain::stop(&mut child);
    }
    let status = match status {
        Some(s) => Some(s),
        None => child.wait().ok(),
    };
    // A test may print without end: the start holds libtest's verdict on a test that ended.
    let mut stdout = Vec::new();
    if let Ok(f) = std::fs::File::open(&out_path) {
        let _ = f.take(1 << 20).read_to_end(&mut stdout);
    }
    Ok(judge(
        status.as_ref().map(exit_of),
        &String::from_utf8_lossy(&stdout),
        timed_out.then_some(limits.time),
    ))
}

/// How a process ended: its exit code, or the signal that killed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

fn exit_of(status: &ExitStatus) -> Exit {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(c), _) => Exit::Code(c),
        (None, Some(s)) => Exit::Signal(s),
        (None, None) => Exit::Code(-1),
    }
}

/// What one test run says. A pass is exit status 0 *and* libtest's summary of one passed test:
/// code under test may end the process itself (`process::exit(0)`) before the test finishes.
pub fn judge(exit: Option<Exit>, stdout: &str, timed_out: Option<Duration>) -> TestRun {
    if let Some(after) = timed_out {
        return TestRun::Failed(format!(
            "did not finish in {}",
            humantime::format_duration(after)
        ));
    }
    let passed = stdout.contains("test result: ok. 1 passed;");
    match exit {
        Some(Exit::Code(0)) if passed => TestRun::Passed,
        _ if stdout.contains("running 0 tests") => TestRun::NotRun(
            "the test was not found in the test binary (its module is not compiled?)".into(),
        ),
        Some(Exit::Code(0)) => {
            TestRun::Failed("the process exited with status 0 before the test finished".into())
        }
        Some(Exit::Code(101)) if stdout.contains("test result: FAILED") => {
            TestRun::Failed(match panic_line(stdout) {
                Some(msg) => format!("panicked: {msg}"),
                None => "panicked".into(),
            })
        }
        Some(Exit::Code(c)) => TestRun::Failed(format!("the process exited with status {c}")),
        Some(Exit::Signal(s)) => TestRun::Failed(format!("the process was killed by signal {s}")),
        None => TestRun::Failed("the process could not be waited for".into()),
    }
}

/// The panic message libtest echoes from the failed test's captured output, first line.
fn panic_line(stdout: &str) -> Option<String> {
    let mut lines = stdout.lines();
    lines.find(|l| l.contains("panicked at "))?;
    lines
        .next()
        .map(|l| l.trim().chars().take(200).collect())
        .filter(|l: &String| !l.is_empty())
}

/// Caps the process's address space (`RLIMIT_AS`), so a test that allocates without bound
/// fails instead of taking the machine's memory.
fn limit_memory(command: &mut Command, bytes: u64) {
    use std::os::unix::process::CommandExt as _;
    // SAFETY: between fork and exec, only setrlimit, which is async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes as libc::rlim_t,
                rlim_max: bytes as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSED: &str = "\nrunning 1 test\ntest a::edgecheck_verify::t ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 3 filtered out; finished in 0.00s\n\n";

    const FAILED: &str = "\nrunning 1 test\ntest a::edgecheck_verify::t ... FAILED\n\nfailures:\n\n---- a::edgecheck_verify::t stdout ----\n\nthread 'a::edgecheck_verify::t' panicked at src/lib.rs:3:5:\nbyte index 1 is not a char boundary\nnote: run with `RUST_BACKTRACE=1`\n\n\nfailures:\n    a::edgecheck_verify::t\n\ntest result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 3 filtered out; finished in 0.00s\n\n";

    #[test]
    fn a_pass_is_status_zero_and_one_passed_test() {
        assert_eq!(judge(Some(Exit::Code(0)), PASSED, None), TestRun::Passed);
        // The function called `process::exit(0)`: status 0, but libtest never said so.
        let exited = "\nrunning 1 test\n";
        assert!(matches!(
            judge(Some(Exit::Code(0)), exited, None),
            TestRun::Failed(why) if why.contains("exited with status 0")
        ));
        // A summary the code under test printed does not make a killed process pass.
        assert!(matches!(
            judge(Some(Exit::Signal(6)), PASSED, None),
            TestRun::Failed(why) if why.contains("signal 6")
        ));
        assert!(matches!(
            judge(None, PASSED, Some(Duration::from_secs(10))),
            TestRun::Failed(why) if why.contains("did not finish in 10s")
        ));
    }

    #[test]
    fn a_panic_is_a_failure_with_its_message() {
        assert_eq!(
            judge(Some(Exit::Code(101)), FAILED, None),
            TestRun::Failed("panicked: byte index 1 is not a char boundary".into())
        );
        assert!(matches!(
            judge(Some(Exit::Code(3)), "\nrunning 1 test\n", None),
            TestRun::Failed(why) if why.contains("status 3")
        ));
    }

    #[test]
    fn a_test_that_did_not_run_proves_nothing() {
        let none = "\nrunning 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 4 filtered out; finished in 0.00s\n\n";
        assert!(matches!(
            judge(Some(Exit::Code(0)), none, None),
            TestRun::NotRun(_)
        ));
    }

    #[test]
    fn a_finding_is_proven_by_failing_on_head_and_passing_on_the_base() {
        let failed = TestRun::Failed("panicked".into());
        assert_eq!(decide(&failed, None), (true, None));
        assert_eq!(decide(&failed, Some(&TestRun::Passed)), (true, None));
        assert_eq!(
            decide(&TestRun::Passed, None),
            (false, Some("the test passed on head".into()))
        );
        assert_eq!(
            decide(&failed, Some(&failed)),
            (
                false,
                Some("the test also fails on the base (panicked)".into())
            )
        );
        let (ok, why) = decide(
            &TestRun::NotRun("the test does not compile: x".into()),
            None,
        );
        assert!(!ok);
        assert_eq!(why.as_deref(), Some("the test does not compile: x"));
    }

    /// A compile error is pinned on the pasted test whose body it is in, never on the user's
    /// code around the test module.
    #[test]
    fn compile_errors_are_pinned_on_the_pasted_test_they_are_in() {
        let file = "pub fn f() {\n    1\n}\n\n#[cfg(test)]\nmod edgecheck_verify {\nuse super::*;\n\n#[test]\nfn t1() {\n    // a comment\n    let _ = f();\n}\n#[test]\nfn t2() {\n    assert_eq!(f(), Level(2));\n}\n}\n";
        let lines: Vec<&str> = file.lines().collect();
        let names = ["t1", "t2"];
        assert_eq!(enclosing_test(&lines, 12, &names), Some("t1"));
        assert_eq!(enclosing_test(&lines, 16, &names), Some("t2"));
        assert_eq!(enclosing_test(&lines, 15, &names), Some("t2"));
        // In the user's function, and past the end of the file.
        assert_eq!(enclosing_test(&lines, 2, &names), None);
        assert_eq!(enclosing_test(&lines, 99, &names), None);
        // The closing brace of the test module.
        assert_eq!(enclosing_test(&lines, 18, &names), None);
    }

    /// A stand-in test binary: a shell script with `body`.
    fn script(dir: &Path, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let path = dir.join("fake-test");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// The real process handling: libtest's summary read from stdout, the exit status, and a
    /// test that hangs (with a child of its own) killed with its group on time.
    #[test]
    fn test_processes_are_judged_and_a_hang_is_killed_with_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            time: Duration::from_millis(500),
            address_space: 4 << 30,
            // This test binary is no supervisor: the script runs as a plain child.
            containment: Containment {
                sandbox: false,
                writable: Vec::new(),
                supervisor: None,
            },
        };
        let run = |body: &str| {
            let exe = script(dir.path(), body);
            run_test(&exe, "m::t", &dir.path().join("run"), &limits).unwrap()
        };
        assert_eq!(
            run("echo 'running 1 test'; echo 'test result: ok. 1 passed; 0 failed;'"),
            TestRun::Passed
        );
        assert!(matches!(
            run("echo 'running 1 test'; exit 0"),
            TestRun::Failed(_)
        ));
        let started = Instant::now();
        assert!(matches!(
            run("sleep 30 & sleep 30"),
            TestRun::Failed(why) if why.contains("did not finish")
        ));
        assert!(started.elapsed() < Duration::from_secs(10));
        // It ran in its own fresh directory, given the test's exact name.
        assert_eq!(
            run("[ \"$1 $2\" = 'm::t --exact' ] && [ -z \"$(ls -A)\" ] && echo 'test result: ok. 1 passed;'"),
            TestRun::Passed
        );
    }

    #[test]
    fn tests_are_named_by_module_path() {
        let test =
            "#[test]\nfn edgecheck_truncate_panic_1a2b3c() {\n    let _ = truncate(\"é\", 1);\n}\n";
        assert_eq!(test_fn_name(test), Some("edgecheck_truncate_panic_1a2b3c"));
        assert_eq!(
            test_path(&["text".into()], "t"),
            "text::edgecheck_verify::t"
        );
        assert_eq!(test_path(&[], "t"), "edgecheck_verify::t");
    }
}
