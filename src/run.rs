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
    /// Say on stderr how long each process was given and took (`-vv`).
    pub log: bool,
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
    /// As planned; settled when the process starts (see [`Slice`]), then what it was given.
    pub budget: Duration,
    pub engine: Engine,
    /// Which of the target's processes this is: each gets its own seed and files.
    pub worker: usize,
    /// How its time is settled when it starts.
    pub slice: Slice,
    phase: Phase,
    /// Keys of findings this target already has, which a resumed libFuzzer run passes over.
    known: Vec<String>,
}

/// How a process's time is settled when it starts: never past the end of the engines' part
/// of the window (an engine run) or the window's end (a follow-up step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slice {
    /// At most the planned time: the edge engine, and follow-up steps.
    Capped,
    /// An equal share of the engines' time still free, with the other shared processes not
    /// started yet: the random engines, which so take up what the edge engine left unused.
    Shared,
    /// What was left of a libFuzzer run that stopped at a finding.
    Resumed,
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

/// What starting one harness process costs before it runs its first input: the supervisor
/// (this binary again), its confinement, the harness's own start and the scheduler's polling,
/// measured on two busy cores (`benches/budget.py`). A process is given its time less this.
pub const START_COST: Duration = Duration::from_millis(20);

/// The least time an edge process is planned for: with less per function the budget does not
/// serve a function at all.
pub const EDGE_MIN: Duration = Duration::from_millis(40);

/// What an edge process is expected to take, for the random engines' share: the edge engine
/// runs out of values in milliseconds on most functions (measured on `benches/budget.py`'s 60
/// functions: 51 of 60 processes within 10 ms, start-up included; six took 70 to 250 ms, and
/// three hangs the per-input timeout).
const EDGE_EXPECTED: Duration = Duration::from_millis(30);

/// The least useful time of an engine on one function, which decides how many functions it
/// serves: libFuzzer's time is whole seconds (`-max_total_time`), and half a second of
/// proptest runs thousands of inputs on a small function.
pub fn min_slice(engine: Engine) -> Duration {
    match engine {
        Engine::Edge => EDGE_MIN,
        Engine::Proptest => Duration::from_millis(500),
        Engine::Libfuzzer => Duration::from_secs(1),
    }
}

/// The least time a process is started with when it is its turn; below it, its engine is cut
/// for the function (or its follow-up left undone), rather than started to be stopped.
fn least_slice(job: &Job) -> Duration {
    match (&job.phase, job.slice, job.engine) {
        (Phase::Run, Slice::Resumed, _) => Duration::from_secs(RESUME_MIN_SECS),
        (Phase::Run, _, Engine::Edge) => EDGE_MIN / 5,
        (Phase::Run, _, engine) => min_slice(engine) / 2,
        // libFuzzer's own limit, one second, runs to two.
        (Phase::Minimize { .. }, _, _) => Duration::from_secs(2),
        _ => FOLLOW_UP_MIN,
    }
}

/// The least time a follow-up step (a replay, a base check, a decode) is started with.
const FOLLOW_UP_MIN: Duration = Duration::from_millis(50);

/// The window of wall time the run stage has: a budget, from its start.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Engine processes end by then; the time after it is the follow-ups' reserve.
    pub engines_end: Instant,
    /// Every process has ended by then, stopped if it must; the time after it, to the
    /// budget's end, is for triage and the report.
    pub end: Instant,
}

impl Window {
    /// The window of `budget` from `start` for `targets` targets: a reserve at the end for
    /// stopping the last processes, triage, the report and the tool's exit (measured with 60
    /// functions and 46 findings: under 1 ms for triage, about 10 ms from the report to the
    /// exit; here 60 ms and a millisecond per function), and before it the follow-ups'
    /// reserve, a twentieth of the budget (at most three seconds), for the findings of the
    /// last processes: their base checks and decoding (libFuzzer's minimisation, two seconds
    /// at least, mostly runs on the core its finding freed, earlier).
    pub fn new(start: Instant, budget: Duration, targets: usize) -> Window {
        let report =
            (Duration::from_millis(60) + Duration::from_millis(1) * targets as u32).min(budget / 4);
        let follow_ups = (budget / 20).min(Duration::from_secs(3));
        let end = start + budget.saturating_sub(report);
        Window {
            engines_end: end - follow_ups.min(end - start),
            end,
        }
    }
}

/// The processes a run plans, and how many targets each kind of engine serves.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub jobs: Vec<Job>,
    /// The edge engine serves the first `edge` targets (all, when the cores' time allows).
    pub edge: usize,
    /// The random engines serve the first `random` targets.
    pub random: usize,
}

/// The least time per function, start-up included, the edge engine and the random engines
/// (all of them, side by side) are planned with: a function is served when the budget has it.
pub fn per_function(engines: &[Engine]) -> (Duration, Duration) {
    let random = engines
        .iter()
        .filter(|e| **e != Engine::Edge)
        .map(|e| min_slice(*e) + START_COST)
        .sum();
    (EDGE_MIN + START_COST, random)
}

/// The processes for `targets`, in their order, within `window` of wall time (the engines'
/// part of the budget) on `slots` cores. The edge engine runs first for every target, each in
/// a short process of its own (it is deterministic and usually done in milliseconds), so the
/// cheap findings of all targets come early; the other engines then share the rest of the
/// cores' time evenly, settled as each process starts (so what the edge engine left unused is
/// not lost). With fewer targets than cores, a target gets several processes (other seeds, or
/// proptest and libFuzzer side by side).
///
/// No function's slice is cut below a useful minimum ([`per_function`]): when the cores' time
/// cannot give the edge engine its minimum on every target, the first targets get it and the
/// rest nothing (and no target gets the random engines); when it cannot give every target the
/// random engines' minimum, the first targets get them and the rest the edge engine only.
pub fn plan_jobs(
    targets: &[TargetInfo],
    engines: &[Engine],
    slots: usize,
    window: Duration,
) -> Schedule {
    let slots = slots.max(1);
    let n = targets.len();
    let cores = window * slots as u32;
    let has_edge = engines.contains(&Engine::Edge);
    let mut random: Vec<Engine> = engines
        .iter()
        .copied()
        .filter(|e| *e != Engine::Edge)
        .collect();
    random.dedup();
    let (edge_need, random_need) = per_function(&random);
    let fits = |left: Duration, need: Duration| match need.is_zero() {
        true => n,
        false => n.min((left.as_nanos() / need.as_nanos()) as usize),
    };
    let edge = match has_edge {
        true => fits(cores, edge_need),
        false => 0,
    };
    let rounds = edge.div_ceil(slots).max(1) as u32;
    let edge_budget = match random.is_empty() {
        true => window / rounds,
        false => window / 10 / rounds,
    }
    .max(EDGE_MIN)
    .min(window.saturating_sub(START_COST));
    // The random engines get what the edge processes are expected to leave, and only when the
    // edge engine serves every target: it comes first.
    let served_random = match (random.is_empty(), has_edge && edge < n) {
        (true, _) | (_, true) => 0,
        (false, false) => {
            let edge_cost = (EDGE_EXPECTED.min(edge_budget) + START_COST) * edge as u32;
            fits(cores.saturating_sub(edge_cost), random_need)
        }
    };
    let per_engine = match served_random {
        0 => 0,
        k => (slots / (k * random.len())).max(1),
    };
    let job = |target: &TargetInfo, engine, budget, worker, slice| Job {
        target: target.clone(),
        budget,
        engine,
        worker,
        slice,
        phase: Phase::Run,
        known: Vec::new(),
    };
    let mut jobs: Vec<Job> = targets[..edge]
        .iter()
        .map(|t| job(t, Engine::Edge, edge_budget, 0, Slice::Capped))
        .collect();
    // As planned, before the shares are settled at each start.
    let processes = (served_random * random.len() * per_engine).max(1) as u32;
    let random_budget = (cores / processes)
        .saturating_sub(START_COST)
        .min(window.saturating_sub(START_COST));
    let mut worker = 1;
    for engine in random {
        for _ in 0..per_engine {
            jobs.extend(
                targets[..served_random]
                    .iter()
                    .map(|t| job(t, engine, random_budget, worker, Slice::Shared)),
            );
            worker += 1;
        }
    }
    Schedule {
        jobs,
        edge,
        random: served_random,
    }
}

/// The time `job` is given when it starts at `now`, or `None` when what is left is below its
/// least slice ([`least_slice`]). `running`: when the processes on the other cores are
/// expected to end; `queue`: what waits after this one.
fn settle(
    job: &Job,
    now: Instant,
    window: Window,
    slots: usize,
    running: &[Instant],
    queue: &VecDeque<Job>,
) -> Option<Duration> {
    let until = |end: Instant| {
        end.saturating_duration_since(now)
            .saturating_sub(START_COST)
    };
    let budget = match (&job.phase, job.slice) {
        (Phase::Run, Slice::Shared) => {
            shared_slice(job, now, window, slots, running, queue).min(until(window.engines_end))
        }
        (Phase::Run, _) => job.budget.min(until(window.engines_end)),
        _ => job.budget.min(until(window.end)),
    };
    // libFuzzer's minimisation time is whole seconds; a part of one would run to the next.
    let budget = match job.phase {
        Phase::Minimize { .. } => Duration::from_secs(budget.as_secs()),
        _ => budget,
    };
    (budget >= least_slice(job)).then_some(budget)
}

/// An equal share of the cores' time left before the engines' end: what the running
/// processes (and the edge processes still waiting) are not expected to take, over this
/// process and the shared ones waiting, as many of them as that time gives their least slice
/// (the first in the queue are served first: the later ones will be cut).
fn shared_slice(
    job: &Job,
    now: Instant,
    window: Window,
    slots: usize,
    running: &[Instant],
    queue: &VecDeque<Job>,
) -> Duration {
    let left = window.engines_end.saturating_duration_since(now);
    let busy: Duration = running
        .iter()
        .map(|end| {
            (*end)
                .min(window.engines_end)
                .saturating_duration_since(now)
        })
        .sum();
    let waiting_edge: Duration = queue
        .iter()
        .filter(|j| matches!(j.phase, Phase::Run) && j.engine == Engine::Edge)
        .map(|j| j.budget.min(EDGE_EXPECTED) + START_COST)
        .sum();
    let shares = 1 + queue
        .iter()
        .filter(|j| matches!(j.phase, Phase::Run) && j.slice == Slice::Shared)
        .count() as u32;
    let free = (left * slots as u32)
        .saturating_sub(busy)
        .saturating_sub(waiting_edge);
    let servable = (free.as_nanos() / (least_slice(job) + START_COST).as_nanos()) as u32;
    (free / shares.min(servable).max(1)).saturating_sub(START_COST)
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

impl Running {
    /// When it is expected to end: an edge process usually long before its budget.
    fn expected_end(&self) -> Instant {
        let budget = match (&self.job.phase, self.job.engine) {
            (Phase::Run, Engine::Edge) => self.job.budget.min(EDGE_EXPECTED),
            _ => self.job.budget,
        };
        self.started + START_COST + budget
    }
}

/// What the run stage gave: each target's run, the engines the time left could not start for
/// a target, and the processes' time.
#[derive(Debug, Default)]
pub struct RunOutcome {
    /// Per target that ran at least one process.
    pub runs: Vec<TargetRun>,
    /// Per target, the planned engines whose turn came when too little time was left (the
    /// follow-up steps of findings took it).
    pub cut: BTreeMap<TargetId, Vec<Engine>>,
    /// The summed wall time of the engine processes.
    pub engines: Duration,
    /// The summed wall time of the follow-up processes: recording, base checks,
    /// minimisation, decoding.
    pub follow_ups: Duration,
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
    /// The name of a job's phase, in its files' names.
    fn tag(job: &Job) -> &'static str {
        match job.phase {
            Phase::Run => "run",
            Phase::Record { .. } => "record",
            Phase::BaseCheck { .. } => "base",
            Phase::Minimize { .. } => "minimize",
            Phase::Decode { .. } => "decode",
        }
    }

    fn new(scratch: &Path, job: &Job) -> JobFiles {
        let tag = JobFiles::tag(job);
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

/// Runs every job, at most `spec.jobs` at a time and within `window`, calling `on_done` as
/// each target finishes. Follow-up steps go first in the queue (a finding is worth completing
/// before more inputs are tried); each process is given its time as it starts ([`settle`]);
/// at the window's end every process still running is stopped, and what they and the steps
/// left undone found out is kept as far as it goes: a finding whose base check was cut short
/// says so (`unknown`), none is dropped.
pub fn run_all(
    spec: &RunSpec,
    jobs: Vec<Job>,
    window: Window,
    on_done: &mut dyn FnMut(&TargetRun),
) -> Result<RunOutcome> {
    let t0 = Instant::now();
    let slots = spec.jobs.max(1);
    std::fs::create_dir_all(&spec.scratch)
        .map_err(|e| Error::io(format!("creating {}", spec.scratch.display()), e))?;
    let mut book = Book {
        log: spec.log,
        ..Book::default()
    };
    for job in &jobs {
        *book.outstanding.entry(job.target.id).or_default() += 1;
    }
    let mut queue: VecDeque<Job> = jobs.into();
    let mut running: Vec<Running> = Vec::new();
    loop {
        let over = Instant::now() >= window.end;
        while running.len() < slots && !over {
            let Some(mut job) = queue.pop_front() else {
                break;
            };
            let ends: Vec<Instant> = running.iter().map(Running::expected_end).collect();
            match settle(&job, Instant::now(), window, slots, &ends, &queue) {
                Some(budget) => {
                    job.budget = budget;
                    running.push(spawn(spec, job)?);
                }
                None => {
                    let target = job.target.id;
                    let next = book.cut_short(job);
                    book.settled(target, next, &mut queue, on_done);
                }
            }
        }
        if over {
            // The window is over: stop what still runs, and settle what waits as cut short.
            for mut r in std::mem::take(&mut running) {
                contain::stop(&mut r.child);
                let status = r.child.wait().ok();
                let target = r.job.target.id;
                let next = match status {
                    Some(status) => book.finished(r, status, true, t0)?,
                    None => book.cut_short(r.job),
                };
                book.settled(target, next, &mut queue, on_done);
            }
            while let Some(job) = queue.pop_front() {
                let target = job.target.id;
                let next = book.cut_short(job);
                book.settled(target, next, &mut queue, on_done);
            }
            break;
        }
        if queue.is_empty() && running.is_empty() {
            break;
        }
        let nap = window
            .end
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(10));
        std::thread::sleep(nap);
        let mut i = 0;
        while i < running.len() {
            let r = &mut running[i];
            // A process past its time and any grace for its last input: its harness hangs.
            let hard_deadline =
                START_COST + r.job.budget + spec.timeout * 2 + Duration::from_secs(5);
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
            let target = done.job.target.id;
            let next = book.finished(done, status, false, t0)?;
            book.settled(target, next, &mut queue, on_done);
        }
    }
    let Book {
        runs,
        cut,
        engines,
        follow_ups,
        ..
    } = book;
    Ok(RunOutcome {
        runs: runs.into_values().collect(),
        cut,
        engines,
        follow_ups,
    })
}

/// What the scheduler keeps while it runs: each target's results, how many of its processes
/// are still to end, what was cut, and the processes' time.
#[derive(Default)]
struct Book {
    log: bool,
    runs: BTreeMap<TargetId, TargetRun>,
    outstanding: BTreeMap<TargetId, usize>,
    cut: BTreeMap<TargetId, Vec<Engine>>,
    engines: Duration,
    follow_ups: Duration,
}

impl Book {
    fn run(&mut self, target: TargetId) -> &mut TargetRun {
        self.runs.entry(target).or_insert_with(|| TargetRun {
            target,
            execs: BTreeMap::new(),
            findings: Vec::new(),
            nondeterministic: None,
        })
    }

    /// Reads what an ended process gave (`stopped`: at the window's end); returns the steps
    /// that complete its findings.
    fn finished(
        &mut self,
        done: Running,
        status: ExitStatus,
        stopped: bool,
        t0: Instant,
    ) -> Result<Vec<Job>> {
        let took = done.started.elapsed();
        if self.log {
            eprintln!(
                "edgecheck: {} {} {}: given {} ms, took {} ms{}",
                done.job.target.name,
                done.job.engine.name(),
                JobFiles::tag(&done.job),
                done.job.budget.as_millis(),
                took.as_millis(),
                if stopped {
                    " (stopped at the window's end)"
                } else {
                    ""
                }
            );
        }
        match done.job.phase {
            Phase::Run => self.engines += took,
            _ => self.follow_ups += took,
        }
        let stderr = std::fs::read_to_string(&done.files.stderr).unwrap_or_default();
        if let Some(why) = containment_failure(status, &stderr) {
            return Err(Error::Contain(why));
        }
        if let Some(why) = harness_failure(status, &stderr) {
            return Err(Error::Harness(why));
        }
        if stopped && !matches!(done.job.phase, Phase::Run) {
            return Ok(self.cut_short(done.job));
        }
        let run = self.run(done.job.target.id);
        Ok(finish(done, (status, &stderr), run, t0, stopped))
    }

    /// Settles a job there was no time for: a planned engine is cut for its target; a
    /// follow-up step leaves its finding as far as it is known.
    fn cut_short(&mut self, job: Job) -> Vec<Job> {
        if let (Phase::Run, Slice::Capped | Slice::Shared) = (&job.phase, job.slice) {
            let cut = self.cut.entry(job.target.id).or_default();
            if !cut.contains(&job.engine) {
                cut.push(job.engine);
            }
            return Vec::new();
        }
        let has_base = job.target.has_base;
        let run = self.run(job.target.id);
        cut_short(job, has_base, run).into_iter().collect()
    }

    /// One of `target`'s processes is done with, `next` its follow-ups: they go first in the
    /// queue; the target is done when nothing of it is left.
    fn settled(
        &mut self,
        target: TargetId,
        next: Vec<Job>,
        queue: &mut VecDeque<Job>,
        on_done: &mut dyn FnMut(&TargetRun),
    ) {
        let left = self.outstanding.entry(target).or_default();
        *left = (*left + next.len()).saturating_sub(1);
        let done = *left == 0;
        for job in next.into_iter().rev() {
            queue.push_front(job);
        }
        if done {
            if let Some(run) = self.runs.get(&target) {
                on_done(run);
            }
        }
    }
}

/// Why a finding is less complete than it would be: the budget ended first.
const CUT_SHORT: &str = "the budget ended before";

/// Settles a follow-up step there was no time for (or that was stopped at the window's end):
/// its finding is kept with what is known, the unknown said; a minimisation not done leaves
/// the input as found, still to decode.
fn cut_short(job: Job, has_base: bool, run: &mut TargetRun) -> Option<Job> {
    let unknown = |what: &str| Some(BaseOutcome::Unknown(format!("{CUT_SHORT} {what}")));
    match job.phase {
        Phase::Run => None,
        Phase::Record { mut crash, .. } => {
            crash
                .message
                .push_str(&format!(" ({CUT_SHORT} the replay that records its input)"));
            if has_base {
                crash.base =
                    unknown("the input was recorded to try the code before the change on it");
            }
            run.findings.push(crash);
            None
        }
        Phase::BaseCheck { mut finding, .. } => {
            finding.base = unknown("the code before the change was tried on this input");
            run.findings.push(finding);
            None
        }
        Phase::Minimize { finding, artifact } => {
            let input = finding.input_file.clone().unwrap_or(artifact);
            Some(Job {
                phase: Phase::Decode { finding, input },
                budget: FOLLOW_UP_MIN * 10,
                ..job
            })
        }
        Phase::Decode { mut finding, .. } => {
            // An input that ended libFuzzer's process, not decoded: what the base does on it
            // is not known either.
            if finding.key.is_none() && has_base && finding.base.is_none() {
                finding.base = unknown("the code before the change was tried on this input");
            }
            run.findings.push(finding);
            None
        }
    }
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
                // A backstop: the harness ends the run at its budget (libFuzzer's limit is
                // whole seconds, and it runs one more).
                format!("-max_total_time={}", job.budget.as_secs() + 1),
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
                // libFuzzer runs until more than this many whole seconds have passed.
                format!(
                    "-max_total_time={}",
                    job.budget
                        .as_secs()
                        .saturating_sub(1)
                        .clamp(1, MINIMIZE_SECS)
                ),
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

/// Fewest seconds left of a libFuzzer run's budget worth resuming it for after a finding.
const RESUME_MIN_SECS: u64 = 2;

/// Added to a resumed run's worker number, so its files and seed are its own.
const RESUMED_WORKER_STEP: usize = 100;

/// Records what a finished process found; returns the processes that complete its findings,
/// and a resumed libFuzzer run when one stopped at a finding with budget left. `stopped`: the
/// process was stopped at the window's end, so how it ended says nothing of the code.
fn finish(
    done: Running,
    ended_as: (ExitStatus, &str),
    run: &mut TargetRun,
    t0: Instant,
    stopped: bool,
) -> Vec<Job> {
    let resumed = done.job.clone();
    let elapsed = done.started.elapsed();
    let mut next = finish_one(done, ended_as, run, t0, stopped)
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
                slice: Slice::Resumed,
                ..resumed
            });
        }
    }
    next
}

/// Reads what a finished process reported, and returns the step to run next, if a finding
/// needs one; otherwise this process's part of the target's run is complete. `ended_as`: the
/// process's exit status and its stderr.
fn finish_one(
    done: Running,
    (status, stderr): (ExitStatus, &str),
    run: &mut TargetRun,
    t0: Instant,
    stopped: bool,
) -> Option<Job> {
    let offset = (done.started - t0).as_millis() as u64;
    let results = read_results(&done.files.results, offset);
    let job = done.job;
    let elapsed = done.started.elapsed();
    let end = match stopped {
        true => None,
        false => ended(status, completed(&job, &results), stderr),
    };
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

/// A step that completes a finding of `job`, which ran for `elapsed`: it gets at most three
/// times as long, and the time to minimise (and never past the window's end).
fn follow_up(job: &Job, elapsed: Duration, phase: Phase) -> Job {
    Job {
        budget: elapsed * 3 + Duration::from_secs(MINIMIZE_SECS + 2),
        phase,
        slice: Slice::Capped,
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
        let one = plan_jobs(&[info(0)], &engines, 2, Duration::from_secs(10));
        let jobs = &one.jobs;
        assert_eq!(
            jobs.len(),
            3,
            "one edge process, then a random one per core"
        );
        assert_eq!((one.edge, one.random), (1, 1));
        assert_eq!(jobs[0].engine, Engine::Edge);
        assert_eq!(jobs[0].slice, Slice::Capped);
        assert_eq!(jobs[0].budget, Duration::from_secs(1));
        assert_eq!(jobs[1].engine, Engine::Proptest);
        assert_eq!(jobs[1].slice, Slice::Shared);
        assert_eq!(jobs[1].budget, Duration::from_secs(10) - START_COST);
        let three = plan_jobs(
            &[info(0), info(1), info(2)],
            &engines,
            2,
            Duration::from_secs(10),
        );
        assert_eq!(three.jobs.len(), 6);
        assert!(
            three.jobs[..3].iter().all(|j| j.engine == Engine::Edge),
            "edge first for every target"
        );
        let both = plan_jobs(&[info(0)], &Engine::ALL, 2, Duration::from_secs(10));
        assert_eq!(both.jobs.len(), 3, "proptest and libFuzzer side by side");
        assert_eq!(both.jobs[2].engine, Engine::Libfuzzer);
    }

    fn infos(n: usize) -> Vec<TargetInfo> {
        (0..n).map(info).collect()
    }

    /// With more functions than the cores' time serves at the engines' least useful slice,
    /// the first ones in order get the random engines, the rest the edge engine only.
    #[test]
    fn a_small_budget_gives_the_random_engines_to_the_first_functions_only() {
        let (edge_need, random_need) = per_function(&Engine::ALL);
        assert_eq!(edge_need, EDGE_MIN + START_COST);
        assert_eq!(random_need, Duration::from_millis(1500) + START_COST * 2);
        // 2 cores × 4.5 s = 9 s; the edge processes are expected to take 60 × 50 ms = 3 s;
        // 6 s serve three functions at 1.54 s.
        let plan = plan_jobs(&infos(60), &Engine::ALL, 2, Duration::from_millis(4500));
        assert_eq!((plan.edge, plan.random), (60, 3));
        assert_eq!(plan.jobs.len(), 60 + 3 * 2);
        let random: Vec<TargetId> = plan.jobs[60..].iter().map(|j| j.target.id).collect();
        assert_eq!(
            random,
            [0, 1, 2, 0, 1, 2].map(TargetId),
            "the first functions, in order"
        );
        assert!(plan.jobs[60..].iter().all(|j| j.slice == Slice::Shared));
        // Enough for everyone: the plan is as before.
        let plenty = plan_jobs(&infos(10), &Engine::ALL, 2, Duration::from_secs(60));
        assert_eq!((plenty.edge, plenty.random), (10, 10));
    }

    /// When even the edge engine's minimum does not fit every function, the first ones get
    /// it and the rest nothing: no slice is cut to nothing.
    #[test]
    fn a_tiny_budget_serves_the_first_functions_with_the_edge_engine_only() {
        // 2 cores × 1 s = 2 s at 60 ms each: 33 functions.
        let plan = plan_jobs(&infos(60), &Engine::ALL, 2, Duration::from_secs(1));
        assert_eq!((plan.edge, plan.random), (33, 0));
        assert!(plan.jobs.iter().all(|j| j.engine == Engine::Edge));
        assert!(plan.jobs.iter().all(|j| j.budget >= EDGE_MIN));
        let none = plan_jobs(&infos(5), &Engine::ALL, 1, Duration::from_millis(50));
        assert_eq!((none.edge, none.random, none.jobs.len()), (0, 0, 0));
        // Without the edge engine, the random engines' minimum decides alone.
        let random = plan_jobs(&infos(10), &[Engine::Proptest], 2, Duration::from_secs(1));
        assert_eq!((random.edge, random.random), (0, 3));
    }

    /// The budget's window: the report's reserve at the end, the follow-ups' before it.
    #[test]
    fn the_window_keeps_reserves_for_follow_ups_and_the_report() {
        let t = Instant::now();
        let w = Window::new(t, Duration::from_secs(5), 60);
        assert_eq!(w.end - t, Duration::from_millis(5000 - 120));
        assert_eq!(w.end - w.engines_end, Duration::from_millis(250));
        let long = Window::new(t, Duration::from_secs(600), 1);
        assert_eq!(long.end - long.engines_end, Duration::from_secs(3));
        let tiny = Window::new(t, Duration::from_millis(100), 60);
        assert_eq!(tiny.end - t, Duration::from_millis(75));
    }

    fn job(engine: Engine, slice: Slice, budget: Duration) -> Job {
        Job {
            target: info(0),
            budget,
            engine,
            worker: 1,
            slice,
            phase: Phase::Run,
            known: Vec::new(),
        }
    }

    /// A shared process gets an equal share of the free time with those still waiting, and
    /// the first ones waiting are served when not all can be.
    #[test]
    fn shares_are_settled_as_each_process_starts() {
        let now = Instant::now();
        let window = Window {
            engines_end: now + Duration::from_secs(4),
            end: now + Duration::from_secs(5),
        };
        let queue = |n: usize| -> VecDeque<Job> {
            (0..n)
                .map(|_| job(Engine::Proptest, Slice::Shared, Duration::ZERO))
                .collect()
        };
        let pt = job(Engine::Proptest, Slice::Shared, Duration::ZERO);
        // Two free cores, 8 s, four processes: 2 s each.
        let share = settle(&pt, now, window, 2, &[], &queue(3)).unwrap();
        assert_eq!(share, Duration::from_secs(2) - START_COST);
        // One core busy to the end: 4 s over four.
        let busy = [now + Duration::from_secs(9)];
        let share = settle(&pt, now, window, 2, &busy, &queue(3)).unwrap();
        assert_eq!(share, Duration::from_secs(1) - START_COST);
        // 4 s over 40 processes would be 100 ms: the first 14 get 270 ms and more each.
        let share = settle(&pt, now, window, 2, &busy, &queue(39)).unwrap();
        assert!(share >= least_slice(&pt), "{share:?}");
        // Past the engines' end, nothing starts; an edge process keeps its cap.
        let late = now + Duration::from_millis(3990);
        assert_eq!(settle(&pt, late, window, 2, &[], &queue(0)), None);
        let edge = job(Engine::Edge, Slice::Capped, EDGE_MIN);
        assert_eq!(
            settle(&edge, now, window, 2, &[], &queue(0)),
            Some(EDGE_MIN)
        );
    }

    fn raw(kind: Kind) -> RawFinding {
        RawFinding {
            engine: Engine::Edge,
            kind,
            message: "the process was killed by signal 6 (SIGABRT)".into(),
            location: None,
            args: Some(vec!["1".into()]),
            elapsed_ms: 5,
            seq: Some(3),
            base: None,
            head_value: None,
            key: None,
            input_file: None,
            origin: None,
        }
    }

    /// A follow-up there was no time for keeps its finding, saying what is not known; a
    /// minimisation not done leaves the input to decode.
    #[test]
    fn follow_ups_cut_short_keep_their_findings() {
        let run = &mut TargetRun {
            target: TargetId(0),
            execs: BTreeMap::new(),
            findings: Vec::new(),
            nondeterministic: None,
        };
        let mut base_check = job(Engine::Edge, Slice::Capped, Duration::ZERO);
        base_check.phase = Phase::BaseCheck {
            finding: raw(Kind::Timeout),
            at: ReplayAt::Seq {
                seq: 3,
                edge_execs: Some(9),
            },
        };
        assert!(cut_short(base_check, true, run).is_none());
        assert!(
            matches!(&run.findings[0].base, Some(BaseOutcome::Unknown(why)) if why.starts_with(CUT_SHORT)),
            "{:?}",
            run.findings[0].base
        );
        let mut record = job(Engine::Proptest, Slice::Capped, Duration::ZERO);
        record.phase = Phase::Record {
            crash: raw(Kind::Abort),
            edge_execs: None,
        };
        assert!(cut_short(record, false, run).is_none());
        assert!(run.findings[1].message.contains(CUT_SHORT));
        assert!(run.findings[1].base.is_none(), "no base to ask");
        let mut minimize = job(Engine::Libfuzzer, Slice::Capped, Duration::ZERO);
        minimize.phase = Phase::Minimize {
            finding: raw(Kind::Panic),
            artifact: PathBuf::from("crash-1"),
        };
        let next = cut_short(minimize, true, run).expect("the input is still decoded");
        assert!(
            matches!(&next.phase, Phase::Decode { input, .. } if input == Path::new("crash-1"))
        );
        assert_eq!(run.findings.len(), 2);
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
