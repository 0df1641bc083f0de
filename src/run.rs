//! Runs the harness: one process per target and engine under its share of the budget, on all cores; a hang or crash ends only its own process, its input is recovered (and minimised, for libFuzzer), and the base version is tried on it.

use std::collections::{BTreeMap, VecDeque};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::contain::{self, Containment};
use crate::error::{Error, Result};
use crate::ids::TargetId;
use crate::protocol::{
    Engine, Event, Kind, Options, Outcome, Recorded, ReplaySide, Side, EXIT_FUZZER_CRASH,
    EXIT_FUZZER_TIMEOUT, EXIT_HARNESS_ERROR, EXIT_OOM, EXIT_TIMEOUT,
};
/// How long libFuzzer may spend minimising a crash input.
const MINIMIZE_SECS: u64 = 5;

/// What every harness process shares.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// The harness for the edge and proptest engines.
    pub binary: Option<PathBuf>,
    /// The harness built with coverage instrumentation and libFuzzer.
    pub fuzz_binary: Option<PathBuf>,
    /// Where results and logs of each process go, and each process's own empty working dir.
    pub scratch: PathBuf,
    /// Where libFuzzer keeps each function's corpus between runs.
    pub corpus_root: PathBuf,
    pub timeout: Duration,
    pub jobs: usize,
    pub seed: u64,
    pub malloc_limit_mb: u64,
    pub strict_floats: bool,
    /// How each harness process is confined.
    pub containment: Containment,
}

/// A target as the scheduler needs it.
#[derive(Debug, Clone)]
pub struct TargetInfo {
    pub id: TargetId,
    /// The target calls a base version too, so inputs that end the process are tried on it.
    pub has_base: bool,
    /// The function's path, naming its libFuzzer corpus.
    pub name: String,
    /// The changed code has literals, so libFuzzer gets a dictionary.
    pub has_literals: bool,
}

/// One process to run: a target, for `budget`, with one engine and seed.
#[derive(Debug, Clone)]
pub struct Job {
    pub target: TargetInfo,
    pub budget: Duration,
    pub engine: Engine,
    /// Which of the target's processes this is: each gets its own seed and files.
    pub worker: usize,
    phase: Phase,
    /// Keys of findings this target already has, which a resumed libFuzzer run passes over.
    known: Vec<String>,
}

/// Where a replay finds the input to try on the base.
#[derive(Debug, Clone)]
enum ReplayAt {
    /// The `seq`-th input of a deterministic engine run.
    Seq { seq: u64, edge_execs: Option<u64> },
    /// The bytes of a libFuzzer input.
    Input(PathBuf),
}

/// Why a process runs: the run itself, or a step that completes one of its findings.
#[derive(Debug, Clone)]
enum Phase {
    Run,
    /// The run crashed: replay it writing each input down, to learn the one that crashed.
    Record {
        crash: RawFinding,
        edge_execs: Option<u64>,
    },
    /// Try the base version on the input of a finding that ended the process.
    BaseCheck {
        finding: RawFinding,
        at: ReplayAt,
    },
    /// libFuzzer found something: make its input smaller, keeping the same failure.
    Minimize {
        finding: RawFinding,
        artifact: PathBuf,
    },
    /// Decode a (minimised) libFuzzer input and run it on both versions again.
    Decode {
        finding: RawFinding,
        input: PathBuf,
    },
}

impl Job {
    fn uses_fuzz_binary(&self) -> bool {
        match &self.phase {
            Phase::Run | Phase::Record { .. } => self.engine == Engine::Libfuzzer,
            Phase::BaseCheck { at, .. } => matches!(at, ReplayAt::Input(_)),
            Phase::Minimize { .. } | Phase::Decode { .. } => true,
        }
    }
}

/// The processes for `targets` within `budget` of wall time on `jobs` cores. The edge engine
/// runs first for every target, each in a short process of its own (it is deterministic and
/// usually done in milliseconds), so the cheap findings of all targets come early. The other
/// engines then share the rest of the cores' time evenly: with fewer targets than cores, a
/// target gets several processes (other seeds, or proptest and libFuzzer side by side).
pub fn plan_jobs(
    targets: &[TargetInfo],
    engines: &[Engine],
    jobs: usize,
    budget: Duration,
) -> Vec<Job> {
    let jobs = jobs.max(1);
    let n = targets.len().max(1);
    let rounds = n.div_ceil(jobs) as u32;
    let has_edge = engines.contains(&Engine::Edge);
    let random: Vec<Engine> = engines
        .iter()
        .copied()
        .filter(|e| *e != Engine::Edge)
        .collect();
    let edge_share = match (has_edge, random.is_empty()) {
        (false, _) => Duration::ZERO,
        (true, true) => budget,
        (true, false) => budget / 10,
    };
    let edge_budget = (edge_share / rounds).max(Duration::from_millis(100));
    let rest = budget.saturating_sub(edge_share);
    let per_engine = (jobs / (n * random.len().max(1))).max(1);
    let processes = (n * random.len() * per_engine).max(1) as u32;
    let random_budget = (rest * jobs as u32 / processes)
        .min(rest)
        .max(Duration::from_millis(200));
    let job = |target: &TargetInfo, engine, budget, worker| Job {
        target: target.clone(),
        budget,
        engine,
        worker,
        phase: Phase::Run,
        known: Vec::new(),
    };
    let mut out = Vec::new();
    if has_edge {
        out.extend(targets.iter().map(|t| job(t, Engine::Edge, edge_budget, 0)));
    }
    let mut worker = 1;
    for engine in random {
        for _ in 0..per_engine {
            out.extend(
                targets
                    .iter()
                    .map(|t| job(t, engine, random_budget, worker)),
            );
            worker += 1;
        }
    }
    out
}

/// What the base version did with an input.
#[derive(Debug, Clone, PartialEq)]
pub enum BaseOutcome {
    /// It returned; the observation of its result, when its type can be observed.
    Returned(Option<String>),
    Panicked {
        message: String,
        location: Option<(String, u32, u32)>,
    },
    /// It ended the process too: a timeout, out of memory, an exit, abort or signal.
    Ended(Kind),
    /// What it does on the input could not be established: why.
    Unknown(String),
}

/// A finding as the harness reported it, before triage.
#[derive(Debug, Clone)]
pub struct RawFinding {
    pub engine: Engine,
    /// A caught panic, a divergence between head and base, or what ended the process.
    pub kind: Kind,
    pub message: String,
    pub location: Option<(String, u32, u32)>,
    /// The arguments as Rust source, when known.
    pub args: Option<Vec<String>>,
    /// Milliseconds since the start of the run stage.
    pub elapsed_ms: u64,
    /// The input's position in the process's sequence, for replays.
    pub seq: Option<u64>,
    /// What the base did with the same input, when it was tried.
    pub base: Option<BaseOutcome>,
    /// For a divergence: the observation of the head's result.
    pub head_value: Option<String>,
    /// The harness's name for the failure (where and how), to chase it while minimising.
    pub key: Option<String>,
    /// The bytes of a libFuzzer input that ended the process.
    pub input_file: Option<PathBuf>,
    /// Where the panic happened when that is std or a dependency (`location` is then the
    /// user's line that led there).
    pub origin: Option<String>,
}

impl RawFinding {
    /// What the base returned, when it returned an observable value.
    pub fn base_value(&self) -> Option<&str> {
        match &self.base {
            Some(BaseOutcome::Returned(Some(v))) => Some(v),
            _ => None,
        }
    }
}

/// Everything one target's processes (and their follow-up steps) gave.
#[derive(Debug, Clone)]
pub struct TargetRun {
    pub target: TargetId,
    /// Inputs tried per engine.
    pub execs: BTreeMap<Engine, u64>,
    pub findings: Vec<RawFinding>,
    /// A version whose result differed between two calls on the same input (its arguments
    /// rendered): results were not compared from then on.
    pub nondeterministic: Option<(Side, Vec<String>)>,
}

struct Running {
    job: Job,
    child: Child,
    started: Instant,
    files: JobFiles,
}

/// The files of one process.
struct JobFiles {
    results: PathBuf,
    stderr: PathBuf,
    record: PathBuf,
    artifacts: PathBuf,
    minimized: PathBuf,
    input_dump: PathBuf,
    /// The process's working directory: fresh and empty, so the code under test writing a
    /// relative path writes nowhere near the sources (or their scratch copies).
    cwd: PathBuf,
}

impl JobFiles {
    fn new(scratch: &Path, job: &Job) -> JobFiles {
        let tag = match job.phase {
            Phase::Run => "run",
            Phase::Record { .. } => "record",
            Phase::BaseCheck { .. } => "base",
            Phase::Minimize { .. } => "minimize",
            Phase::Decode { .. } => "decode",
        };
        let stem = job.target.id.process_stem(job.worker);
        JobFiles {
            results: scratch.join(format!("{stem}.{tag}.jsonl")),
            stderr: scratch.join(format!("{stem}.{tag}.stderr")),
            record: scratch.join(format!("{stem}.inflight.json")),
            artifacts: scratch.join(format!("{stem}.artifacts")),
            minimized: scratch.join(format!("{stem}.minimized")),
            input_dump: scratch.join(format!("{stem}.input")),
            cwd: scratch.join(format!("{stem}.{tag}.cwd")),
        }
    }
}

/// Runs every job, at most `spec.jobs` at a time, calling `on_done` as each target finishes.
pub fn run_all(
    spec: &RunSpec,
    jobs: Vec<Job>,
    on_done: &mut dyn FnMut(&TargetRun),
) -> Result<Vec<TargetRun>> {
    let t0 = Instant::now();
    std::fs::create_dir_all(&spec.scratch)
        .map_err(|e| Error::io(format!("creating {}", spec.scratch.display()), e))?;
    let mut outstanding: BTreeMap<TargetId, usize> = BTreeMap::new();
    for job in &jobs {
        *outstanding.entry(job.target.id).or_default() += 1;
    }
    let mut queue: VecDeque<Job> = jobs.into();
    let mut running: Vec<Running> = Vec::new();
    let mut runs: BTreeMap<TargetId, TargetRun> = BTreeMap::new();
    while !queue.is_empty() || !running.is_empty() {
        while running.len() < spec.jobs.max(1) {
            let Some(job) = queue.pop_front() else { break };
            running.push(spawn(spec, job)?);
        }
        std::thread::sleep(Duration::from_millis(10));
        let mut i = 0;
        while i < running.len() {
            let r = &mut running[i];
            let hard_deadline = r.job.budget + spec.timeout * 2 + Duration::from_secs(5);
            let status = match r.child.try_wait() {
                Ok(Some(status)) => Some(status),
                Ok(None) if r.started.elapsed() > hard_deadline => {
                    contain::stop(&mut r.child);
                    r.child.wait().ok()
                }
                Ok(None) => None,
                Err(e) => return Err(Error::io("waiting for a harness process", e)),
            };
            let Some(status) = status else {
                i += 1;
                continue;
            };
            let done = running.swap_remove(i);
            let stderr = std::fs::read_to_string(&done.files.stderr).unwrap_or_default();
            if let Some(why) = containment_failure(status, &stderr) {
                return Err(Error::Contain(why));
            }
            if let Some(why) = harness_failure(status, &stderr) {
                return Err(Error::Harness(why));
            }
            let target = done.job.target.id;
            let run = runs.entry(target).or_insert_with(|| TargetRun {
                target,
                execs: BTreeMap::new(),
                findings: Vec::new(),
                nondeterministic: None,
            });
            let next = finish(done, (status, &stderr), run, t0);
            if !next.is_empty() {
                *outstanding.entry(target).or_default() += next.len() - 1;
                queue.extend(next);
                continue;
            }
            let left = outstanding.entry(target).or_default();
            *left = left.saturating_sub(1);
            if *left == 0 {
                on_done(run);
            }
        }
    }
    Ok(runs.into_values().collect())
}

/// A file-system-safe name for a function's corpus directory.
fn corpus_dir_name(function: &str) -> String {
    function
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn spawn(spec: &RunSpec, job: Job) -> Result<Running> {
    let files = JobFiles::new(&spec.scratch, &job);
    for p in [
        &files.results,
        &files.stderr,
        &files.record,
        &files.minimized,
        &files.input_dump,
    ] {
        let _ = std::fs::remove_file(p);
    }
    let mut options = Options {
        target: job.target.id.harness_name(),
        engines: vec![job.engine],
        budget_ms: job.budget.as_millis() as u64,
        timeout_ms: spec.timeout.as_millis() as u64,
        seed: spec.seed.wrapping_add(job.worker as u64 * 0x9E37_79B9),
        results: files.results.clone(),
        malloc_limit_mb: spec.malloc_limit_mb as usize,
        strict_floats: spec.strict_floats,
        input_dump: Some(files.input_dump.clone()),
        known: job.known.clone(),
        seeds_dir: None,
        dict: None,
        record: None,
        edge_execs: None,
        base_at: None,
        replay_input: None,
        replay_side: ReplaySide::Head,
        chase: None,
    };
    let fuzzer_args = phase_settings(spec, &job, &files, &mut options)?;
    let binary = if job.uses_fuzz_binary() {
        &spec.fuzz_binary
    } else {
        &spec.binary
    };
    let Some(binary) = binary.clone() else {
        return Err(Error::Usage(format!(
            "internal: no harness binary for the {} engine",
            job.engine.name()
        )));
    };
    let err_file = std::fs::File::create(&files.stderr)
        .map_err(|e| Error::io(format!("creating {}", files.stderr.display()), e))?;
    let _ = std::fs::remove_dir_all(&files.cwd);
    std::fs::create_dir_all(&files.cwd)
        .map_err(|e| Error::io(format!("creating {}", files.cwd.display()), e))?;
    let mut command = contain::command(&spec.containment, &binary);
    let child = command
        .args(&fuzzer_args)
        .env(
            "EDGECHECK_HARNESS_OPTS",
            serde_json::to_string(&options).unwrap_or_default(),
        )
        .current_dir(&files.cwd)
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err_file)
        // Its own process group, so nothing else gets the terminal's signals.
        .process_group(0)
        .spawn()
        .map_err(|source| Error::Spawn {
            program: binary.display().to_string(),
            source,
        })?;
    Ok(Running {
        job,
        child,
        started: Instant::now(),
        files,
    })
}

/// What the job's phase adds to the options, and the flags it hands to libFuzzer.
fn phase_settings(
    spec: &RunSpec,
    job: &Job,
    files: &JobFiles,
    options: &mut Options,
) -> Result<Vec<String>> {
    let mut fuzzer_args: Vec<String> = Vec::new();
    let secs = |d: Duration| d.as_secs().max(1);
    let timeout_flag = format!("-timeout={}", secs(spec.timeout * 3));
    match &job.phase {
        Phase::Run if job.engine == Engine::Libfuzzer => {
            let corpus = spec.corpus_root.join(corpus_dir_name(&job.target.name));
            // Per process: each writes its seeds and dictionary as it starts, and a second
            // process of the target (`-j` above the targets) would truncate them under the
            // first one's libFuzzer ("ParseDictionaryFile: file does not exist or is empty").
            let stem = job.target.id.process_stem(job.worker);
            let seeds = spec.scratch.join(format!("{stem}.seeds"));
            let dict = spec.scratch.join(format!("{stem}.dict"));
            // Artifacts of an earlier run would pass for this one's.
            let _ = std::fs::remove_dir_all(&files.artifacts);
            for dir in [&corpus, &seeds, &files.artifacts] {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
            }
            options.seeds_dir = Some(seeds.clone());
            options.dict = Some(dict.clone());
            fuzzer_args.extend([corpus.display().to_string(), seeds.display().to_string()]);
            fuzzer_args.extend([
                format!("-max_total_time={}", secs(job.budget)),
                timeout_flag,
                format!("-rss_limit_mb={}", spec.malloc_limit_mb + 512),
                format!("-artifact_prefix={}/", files.artifacts.display()),
                format!(
                    "-seed={}",
                    spec.seed.wrapping_add(job.worker as u64) % (u32::MAX as u64) + 1
                ),
                "-print_final_stats=1".into(),
                format!("-error_exitcode={EXIT_FUZZER_CRASH}"),
                format!("-timeout_exitcode={EXIT_FUZZER_TIMEOUT}"),
            ]);
            if job.target.has_literals {
                fuzzer_args.push(format!("-dict={}", dict.display()));
            }
        }
        Phase::Run => {}
        Phase::Record { edge_execs, .. } => {
            options.record = Some(files.record.clone());
            options.edge_execs = *edge_execs;
        }
        Phase::BaseCheck {
            at: ReplayAt::Seq { seq, edge_execs },
            ..
        } => {
            options.base_at = Some(*seq);
            options.edge_execs = *edge_execs;
        }
        Phase::BaseCheck {
            at: ReplayAt::Input(input),
            ..
        } => {
            options.replay_input = Some(input.clone());
            options.replay_side = ReplaySide::Base;
        }
        Phase::Minimize { finding, artifact } => {
            options.chase = Some(finding.key.clone().unwrap_or_default());
            fuzzer_args.extend([
                "-minimize_crash=1".to_string(),
                "-runs=1000000".into(),
                format!("-max_total_time={MINIMIZE_SECS}"),
                format!("-exact_artifact_path={}", files.minimized.display()),
                timeout_flag,
                format!("-error_exitcode={EXIT_FUZZER_CRASH}"),
                artifact.display().to_string(),
            ]);
        }
        Phase::Decode { input, .. } => {
            options.replay_input = Some(input.clone());
            options.replay_side = ReplaySide::Head;
        }
    }
    Ok(fuzzer_args)
}

/// Why the supervisor could not confine or start a harness process, when that is how it
/// ended: not a finding, the run cannot go on.
fn containment_failure(status: ExitStatus, stderr: &str) -> Option<String> {
    if status.code() != Some(contain::EXIT_CONTAIN_FAILED) {
        return None;
    }
    stderr
        .lines()
        .find_map(|l| l.strip_prefix(contain::FAILURE_PREFIX))
        .map(|why| why.trim().to_string())
}

/// How a process ended: `None` when it did its work (`completed`: it wrote the event its
/// phase ends with), otherwise what ended it. A status of 0 without that last event is the
/// code under test calling `process::exit(0)`.
fn ended(status: ExitStatus, completed: bool, stderr: &str) -> Option<Kind> {
    match (status.code(), status.signal()) {
        (Some(0), _) if completed => None,
        (Some(EXIT_TIMEOUT | EXIT_FUZZER_TIMEOUT), _) => Some(Kind::Timeout),
        (Some(EXIT_OOM), _) => Some(Kind::Oom),
        // libFuzzer (or AddressSanitizer under it) stopped the process; its stderr says why.
        (Some(_), _) if stderr.contains("ERROR: libFuzzer: fuzz target exited") => Some(Kind::Exit),
        (Some(_), _) if stderr.contains("ERROR: AddressSanitizer") => Some(Kind::Crash),
        (Some(EXIT_FUZZER_CRASH), _) if stderr.contains("ERROR: libFuzzer") => Some(Kind::Crash),
        (Some(_), _) => Some(Kind::Exit),
        (None, Some(libc::SIGABRT)) => Some(Kind::Abort),
        (None, _) => Some(Kind::Signal),
    }
}

/// Whether a process wrote the event its phase ends with.
fn completed(job: &Job, results: &Results) -> bool {
    match &job.phase {
        // libFuzzer's own exit handler turns an exit of the code under test into a crash.
        Phase::Run if job.engine == Engine::Libfuzzer => true,
        Phase::Minimize { .. } => true,
        Phase::Run | Phase::Record { .. } => results.execs.contains_key(&job.engine),
        Phase::BaseCheck { .. } => results.base_check.is_some(),
        Phase::Decode { .. } => results.decoded.is_some() || !results.findings.is_empty(),
    }
}

/// Why the harness itself failed to start, when that is how the process ended.
fn harness_failure(status: ExitStatus, stderr: &str) -> Option<String> {
    (status.code() == Some(EXIT_HARNESS_ERROR))
        .then(|| {
            stderr
                .lines()
                .find(|l| l.starts_with("edgecheck-harness:"))
                .map(str::to_string)
        })
        .flatten()
}

/// The newest crash input libFuzzer saved in `dir`.
fn newest_artifact(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("crash-"))
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
}

/// Reads what a finished process reported, and returns the step to run next, if a finding
/// needs one; otherwise this process's part of the target's run is complete.
/// Fewest seconds left of a libFuzzer run's budget worth resuming it for after a finding.
const RESUME_MIN_SECS: u64 = 2;

/// Added to a resumed run's worker number, so its files and seed are its own.
const RESUMED_WORKER_STEP: usize = 100;

/// Records what a finished process found; returns the processes that complete its findings,
/// and a resumed libFuzzer run when one stopped at a finding with budget left.
fn finish(
    done: Running,
    ended_as: (ExitStatus, &str),
    run: &mut TargetRun,
    t0: Instant,
) -> Vec<Job> {
    let resumed = done.job.clone();
    let elapsed = done.started.elapsed();
    let mut next = finish_one(done, ended_as, run, t0)
        .into_iter()
        .collect::<Vec<_>>();
    let fuzz_run = matches!(resumed.phase, Phase::Run) && resumed.engine == Engine::Libfuzzer;
    let left = resumed.budget.saturating_sub(elapsed);
    if let (
        true,
        Some(Job {
            phase: Phase::Minimize { finding, .. },
            ..
        }),
    ) = (fuzz_run, next.first())
    {
        if left >= Duration::from_secs(RESUME_MIN_SECS) {
            // libFuzzer stops at a crash: go on with the rest of the budget, passing over what
            // is known (the corpus carries the progress made).
            let mut known = resumed.known.clone();
            known.extend(finding.key.clone());
            next.push(Job {
                budget: left,
                known,
                // Files of its own: the finding's minimisation still reads this run's artifact.
                worker: resumed.worker + RESUMED_WORKER_STEP,
                ..resumed
            });
        }
    }
    next
}

/// `ended_as`: the process's exit status and its stderr.
fn finish_one(
    done: Running,
    (status, stderr): (ExitStatus, &str),
    run: &mut TargetRun,
    t0: Instant,
) -> Option<Job> {
    let offset = (done.started - t0).as_millis() as u64;
    let results = read_results(&done.files.results, offset);
    let job = done.job;
    let elapsed = done.started.elapsed();
    let end = ended(status, completed(&job, &results), stderr);
    match job.phase.clone() {
        Phase::Record {
            mut crash,
            edge_execs,
        } => {
            // The replay ran the same inputs in the same order, writing each before the call.
            let recorded = end
                .is_some()
                .then(|| std::fs::read_to_string(&done.files.record).ok())
                .flatten()
                .and_then(|s| serde_json::from_str::<Recorded>(&s).ok());
            match recorded {
                Some(r) => {
                    crash.args = Some(r.args);
                    crash.seq = Some(r.seq);
                }
                None => crash
                    .message
                    .push_str(" (the replay did not crash again, so the input is unknown)"),
            }
            if let Some(seq) = crash.seq {
                if let Some(j) = base_check(
                    &job,
                    elapsed,
                    crash.clone(),
                    ReplayAt::Seq { seq, edge_execs },
                ) {
                    return Some(j);
                }
            }
            run.findings.push(crash);
            None
        }
        Phase::BaseCheck { mut finding, .. } => {
            let same_input = match (&finding.args, &results.base_check_args) {
                (Some(found), Some(replayed)) => found == replayed,
                _ => true,
            };
            finding.base = match (end, results.base_check) {
                // The replay reached another input than the finding's (an engine whose
                // sequence depends on timing): what the base did there is not the answer.
                _ if !same_input => Some(BaseOutcome::Unknown(
                    "the replay did not reach the same input again".into(),
                )),
                (None, Some(b)) => b,
                (Some(kind), _) => Some(BaseOutcome::Ended(kind)),
                (None, None) => None,
            };
            if finding.args.is_none() {
                finding.args = results.decoded;
            }
            run.findings.push(finding);
            None
        }
        Phase::Minimize { finding, .. } => {
            let input = if done.files.minimized.is_file() {
                done.files.minimized.clone()
            } else {
                finding.input_file.clone()?
            };
            Some(follow_up(&job, elapsed, Phase::Decode { finding, input }))
        }
        Phase::Decode { mut finding, input } if finding.key.is_none() => {
            // An input that ended libFuzzer's process, run again on its own: how it ends now
            // is the finding's kind; then the base is tried on it.
            if let Some(kind) = end.filter(|_| finding.kind == Kind::Crash) {
                if kind != Kind::Crash {
                    finding.kind = kind;
                    finding.message = crash_message(status, stderr);
                }
            }
            match base_check(&job, elapsed, finding.clone(), ReplayAt::Input(input)) {
                Some(j) => Some(j),
                None => {
                    if finding.args.is_none() {
                        finding.args = results.decoded;
                    }
                    run.findings.push(finding);
                    None
                }
            }
        }
        Phase::Decode { finding, .. } => {
            // The minimised input, run again on both versions; if it no longer fails the same
            // way, the input as first found stands.
            let same = results
                .findings
                .into_iter()
                .find(|f| f.key.is_some() && f.key == finding.key);
            run.findings.push(match same {
                Some(small) => RawFinding {
                    elapsed_ms: finding.elapsed_ms,
                    engine: finding.engine,
                    ..small
                },
                None => finding,
            });
            None
        }
        Phase::Run => finish_run(
            &job,
            &done.files,
            (status, end, stderr),
            results,
            run,
            offset,
            elapsed,
        ),
    }
}

/// A step that completes a finding of `job`, which ran for `elapsed`: it gets three times as
/// long, and the time to minimise.
fn follow_up(job: &Job, elapsed: Duration, phase: Phase) -> Job {
    Job {
        budget: elapsed * 3 + Duration::from_secs(MINIMIZE_SECS + 2),
        phase,
        ..job.clone()
    }
}

/// The replay that tries the base on a finding's input, when the target has a base.
fn base_check(job: &Job, elapsed: Duration, finding: RawFinding, at: ReplayAt) -> Option<Job> {
    job.target
        .has_base
        .then(|| follow_up(job, elapsed, Phase::BaseCheck { finding, at }))
}

/// What a run of the engines found, and the step that completes its first finding that needs
/// one: minimising a libFuzzer input, a base check of an input that ended the process, or a
/// replay that records the input of a crash the runtime could not report.
fn finish_run(
    job: &Job,
    files: &JobFiles,
    (status, end, stderr): (ExitStatus, Option<Kind>, &str),
    results: Results,
    run: &mut TargetRun,
    offset: u64,
    elapsed: Duration,
) -> Option<Job> {
    let fuzzing = job.engine == Engine::Libfuzzer;
    let edge_execs = results.execs.get(&Engine::Edge).copied();
    if run.nondeterministic.is_none() {
        run.nondeterministic = results.nondeterministic.clone();
    }
    for (engine, n) in &results.execs {
        *run.execs.entry(*engine).or_default() += n;
    }
    if fuzzing {
        *run.execs.entry(Engine::Libfuzzer).or_default() += fuzzer_execs(stderr);
    }
    let mut next_step = None;
    // A hang or out-of-memory the runtime reported explains the process's end (libFuzzer
    // next_step exits with its own status, saying "fuzz target exited").
    let explained = results
        .findings
        .iter()
        .any(|f| matches!(f.kind, Kind::Timeout | Kind::Oom));
    for mut f in results.findings {
        let ends_process = matches!(f.kind, Kind::Timeout | Kind::Oom);
        if fuzzing && !ends_process && next_step.is_none() {
            if let Some(artifact) = newest_artifact(&files.artifacts) {
                f.input_file = Some(artifact.clone());
                next_step = Some(follow_up(
                    job,
                    elapsed,
                    Phase::Minimize {
                        finding: f,
                        artifact,
                    },
                ));
                continue;
            }
        }
        if ends_process && next_step.is_none() {
            let at = match (&f.input_file, f.seq) {
                (Some(input), _) if fuzzing => Some(ReplayAt::Input(input.clone())),
                (_, Some(seq)) if !fuzzing => Some(ReplayAt::Seq { seq, edge_execs }),
                _ => None,
            };
            if let Some(j) = at.and_then(|at| base_check(job, elapsed, f.clone(), at)) {
                next_step = Some(j);
                continue;
            }
        }
        run.findings.push(f);
    }
    let Some(end) = end.filter(|_| next_step.is_none() && !explained) else {
        return next_step;
    };
    // Ended without a word: an exit, abort or signal the runtime could not report.
    let crash = RawFinding {
        engine: job.engine,
        kind: if end == Kind::Crash {
            crash_kind(stderr)
        } else {
            end
        },
        message: crash_message(status, stderr),
        location: None,
        args: None,
        elapsed_ms: offset + elapsed.as_millis() as u64,
        seq: None,
        base: None,
        head_value: None,
        key: None,
        input_file: None,
        origin: None,
    };
    if fuzzing {
        let Some(artifact) = newest_artifact(&files.artifacts) else {
            run.findings.push(crash);
            return None;
        };
        let mut crash = crash;
        crash.input_file = Some(artifact.clone());
        // Run the input again outside libFuzzer, whose "deadly signal" does not say what
        // ended the process; then on the base.
        return Some(follow_up(
            job,
            elapsed,
            Phase::Decode {
                finding: crash,
                input: artifact,
            },
        ));
    }
    Some(follow_up(job, elapsed, Phase::Record { crash, edge_execs }))
}

/// How many inputs libFuzzer ran, from its final statistics.
fn fuzzer_execs(stderr: &str) -> u64 {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// What a results file says.
#[derive(Debug, Default)]
struct Results {
    findings: Vec<RawFinding>,
    execs: BTreeMap<Engine, u64>,
    /// A base check's answer: `Some(None)` when there was no base to call.
    base_check: Option<Option<BaseOutcome>>,
    /// The input a base check called the base on.
    base_check_args: Option<Vec<String>>,
    /// A version that returned different values on the same input, and that input.
    nondeterministic: Option<(Side, Vec<String>)>,
    /// The arguments of a replayed libFuzzer input.
    decoded: Option<Vec<String>>,
}

/// Reads a results file. Findings the base version caused by hanging (the head returned) are
/// not the head's and are left out.
fn read_results(path: &Path, offset_ms: u64) -> Results {
    let mut out = Results::default();
    let text = std::fs::read_to_string(path).unwrap_or_default();
    // A line that does not parse was torn by a process killed while writing it.
    for event in text
        .lines()
        .filter_map(|l| serde_json::from_str::<Event>(l).ok())
    {
        match event {
            Event::Stats { engine, execs } => *out.execs.entry(engine).or_default() += execs,
            Event::BaseCheck { base, args, .. } => {
                out.base_check = Some(base.map(base_outcome));
                out.base_check_args = args;
            }
            Event::Decoded { args } => out.decoded = Some(args),
            Event::Nondeterministic { side, args } => out.nondeterministic = Some((side, args)),
            Event::Finding(f) if f.side == Side::Base => {}
            Event::Finding(f) => {
                let f = *f;
                let head_value = match &f.head {
                    Some(Outcome::Returned(v)) => v.clone(),
                    _ => None,
                };
                let location = f
                    .panic
                    .as_ref()
                    .filter(|p| !p.file.is_empty())
                    .map(|p| (p.file.clone(), p.line, p.column));
                out.findings.push(RawFinding {
                    engine: f.engine,
                    kind: f.kind,
                    message: f.message,
                    location,
                    args: f.args,
                    elapsed_ms: offset_ms + f.elapsed_ms,
                    seq: f.seq,
                    base: f.base.map(base_outcome),
                    head_value,
                    key: f.key,
                    input_file: f.input_file,
                    origin: f.panic.and_then(|p| p.origin),
                });
            }
        }
    }
    out
}

/// What the base did, as the tool keeps it.
fn base_outcome(outcome: Outcome) -> BaseOutcome {
    match outcome {
        Outcome::Returned(v) => BaseOutcome::Returned(v),
        Outcome::Panicked(p) => BaseOutcome::Panicked {
            location: (!p.file.is_empty()).then(|| (p.file.clone(), p.line, p.column)),
            message: p.message,
        },
    }
}

/// What killed the process, from the runtime's last words.
fn crash_kind(stderr: &str) -> Kind {
    if stderr.contains("memory allocation of")
        || stderr.contains("AddressSanitizer: out of memory")
        || stderr.contains("libFuzzer: out-of-memory")
    {
        Kind::Oom
    } else {
        Kind::Crash
    }
}

fn crash_message(status: ExitStatus, stderr: &str) -> String {
    // AddressSanitizer names the error on one line: that line is the message.
    if let Some(line) = stderr
        .lines()
        .find(|l| l.contains("ERROR: AddressSanitizer:"))
    {
        let what = line.split("ERROR: ").nth(1).unwrap_or(line);
        let what = what.split(" on address").next().unwrap_or(what);
        return format!("{what} (memory error in unsafe code)");
    }
    // libFuzzer names what it stopped for (`out-of-memory (malloc(34359738368))`, `deadly
    // signal`); the statistics it prints after are no message.
    if let Some(line) = stderr.lines().find(|l| l.contains("ERROR: libFuzzer:")) {
        let what = line
            .split("ERROR: libFuzzer: ")
            .nth(1)
            .unwrap_or(line)
            .trim();
        return format!("libFuzzer: {what}");
    }
    let last_words: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .rev()
        .take(3)
        .collect();
    let last_words: Vec<&str> = last_words.into_iter().rev().collect();
    let how = match (status.signal(), status.code()) {
        (Some(sig), _) => format!("was killed by signal {sig} ({})", signal_name(sig)),
        (None, Some(code)) => format!("exited with status {code}"),
        _ => "ended abnormally".to_string(),
    };
    if last_words.is_empty() {
        format!("the process {how}")
    } else {
        format!("{}: the process {how}", last_words.join(" "))
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGABRT => "SIGABRT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        _ => "signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(side: Side, kind: Kind, seq: u64) -> Event {
        Event::Finding(Box::new(crate::protocol::Finding {
            engine: Engine::Edge,
            kind,
            side,
            message: "boom".into(),
            panic: Some(crate::protocol::Panic {
                message: "boom".into(),
                file: "src/lib.rs".into(),
                line: 3,
                column: 9,
                origin: None,
            }),
            args: Some(vec!["1".into()]),
            seq: Some(seq),
            elapsed_ms: 5,
            input_file: None,
            base: Some(Outcome::Returned(Some("Some(1)".into()))),
            head: None,
            key: Some("src/lib.rs:3:9".into()),
        }))
    }

    #[test]
    fn results_lines_become_findings_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.jsonl");
        let lines: Vec<String> = [
            finding(Side::Head, Kind::Panic, 7),
            finding(Side::Base, Kind::Timeout, 9),
            Event::Stats {
                engine: Engine::Edge,
                execs: 10,
            },
        ]
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .chain([
            "not json".to_string(),
            // A key the protocol does not have is refused, not read as a default.
            r#"{"event":"stats","engine":"edge","execs":5,"exec":1}"#.to_string(),
        ])
        .collect();
        std::fs::write(&p, lines.join("\n") + "\n").unwrap();
        let r = read_results(&p, 100);
        let (f, e, b) = (r.findings, r.execs, r.base_check);
        assert_eq!(f.len(), 1, "the base's hang is not a finding of the head");
        assert_eq!(f[0].location, Some(("src/lib.rs".into(), 3, 9)));
        assert_eq!(f[0].elapsed_ms, 105);
        assert_eq!(f[0].seq, Some(7));
        assert_eq!(
            f[0].base,
            Some(BaseOutcome::Returned(Some("Some(1)".into())))
        );
        assert_eq!(e[&Engine::Edge], 10);
        assert!(b.is_none());
    }

    #[test]
    fn crash_messages_keep_the_runtime_last_words() {
        let status = ExitStatus::from_raw(libc::SIGABRT);
        let m = crash_message(
            status,
            "\nthread 'main' has overflowed its stack\nfatal runtime error: stack overflow\n",
        );
        assert!(m.contains("overflowed its stack"), "{m}");
        assert!(m.contains("SIGABRT"), "{m}");
        assert_eq!(
            crash_kind("memory allocation of 99999 bytes failed"),
            Kind::Oom
        );
    }

    fn info(id: usize) -> TargetInfo {
        TargetInfo {
            id: TargetId(id),
            has_base: false,
            name: format!("c::f{id}"),
            has_literals: false,
        }
    }

    #[test]
    fn edge_first_then_random_engines_on_every_core() {
        let engines = [Engine::Edge, Engine::Proptest];
        let jobs = plan_jobs(&[info(0)], &engines, 2, Duration::from_secs(10));
        assert_eq!(
            jobs.len(),
            3,
            "one edge process, then a random one per core"
        );
        assert_eq!(jobs[0].engine, Engine::Edge);
        assert_eq!(jobs[0].budget, Duration::from_secs(1));
        assert_eq!(jobs[1].engine, Engine::Proptest);
        assert_eq!(jobs[1].budget, Duration::from_secs(9));
        let three = plan_jobs(
            &[info(0), info(1), info(2)],
            &engines,
            2,
            Duration::from_secs(10),
        );
        assert_eq!(three.len(), 6);
        assert!(
            three[..3].iter().all(|j| j.engine == Engine::Edge),
            "edge first for every target"
        );
        assert_eq!(three[3].budget, Duration::from_secs(6));
        let both = plan_jobs(&[info(0)], &Engine::ALL, 2, Duration::from_secs(10));
        assert_eq!(both.len(), 3, "proptest and libFuzzer side by side");
        assert_eq!(both[2].engine, Engine::Libfuzzer);
        assert_eq!(both[2].budget, Duration::from_secs(9));
    }

    #[test]
    fn fuzzer_statistics_give_the_execution_count() {
        assert_eq!(
            fuzzer_execs("INFO: x\nstat::number_of_executed_units: 1234\nstat::x: 1\n"),
            1234
        );
        assert_eq!(corpus_dir_name("c::Stack::pop_n"), "c--Stack--pop_n");
    }
}
