//! Runs the harness: one process per target under its share of the budget, on all cores; a hang or crash ends only its own process, its input is recovered, and the base version is tried on it.

use std::collections::{BTreeMap, VecDeque};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Exit codes the harness runtime uses after reporting a hang or an out-of-memory input itself.
const EXIT_TIMEOUT: i32 = 70;
const EXIT_OOM: i32 = 71;

/// What every harness process shares.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub binary: PathBuf,
    /// The directory the harness runs in (the package's scratch copy), for code that reads files.
    pub workdir: PathBuf,
    /// Where results and logs of each process go.
    pub scratch: PathBuf,
    pub timeout: Duration,
    pub jobs: usize,
    pub seed: u64,
    pub malloc_limit_mb: u64,
    pub strict_floats: bool,
}

/// One process to run: a target, for `budget`, with the given engines and seed.
#[derive(Debug, Clone)]
pub struct Job {
    pub target: usize,
    pub budget: Duration,
    pub engines: Vec<String>,
    /// Which of the target's processes this is: each gets its own seed and files.
    pub worker: usize,
    /// The target calls a base version too, so inputs that end the process are tried on it.
    pub has_base: bool,
    phase: Phase,
}

/// Why a process runs: the run itself, or a replay of it that completes a finding.
#[derive(Debug, Clone)]
enum Phase {
    Run,
    /// The run crashed: replay it writing each input down, to learn the one that crashed.
    Record {
        crash: RawFinding,
        edge_execs: Option<u64>,
    },
    /// Replay up to the input of a finding that ended the process, and call the base there.
    BaseCheck {
        finding: RawFinding,
        seq: u64,
        edge_execs: Option<u64>,
    },
}

/// The processes for `targets` within `budget` of wall time on `jobs` cores. The edge engine
/// runs first for every target, each in a short process of its own (it is deterministic and
/// usually done in milliseconds), so the cheap findings of all targets come early. The random
/// engines then share the rest: when there are fewer targets than jobs, a target gets several
/// processes with different seeds, so that every core works.
pub fn plan_jobs(
    targets: &[(usize, bool)],
    engines: &[String],
    jobs: usize,
    budget: Duration,
) -> Vec<Job> {
    let jobs = jobs.max(1);
    let n = targets.len().max(1);
    let rounds = n.div_ceil(jobs) as u32;
    let has_edge = engines.iter().any(|e| e == "edge");
    let random: Vec<String> = engines
        .iter()
        .filter(|e| e.as_str() != "edge")
        .cloned()
        .collect();
    let edge_share = match (has_edge, random.is_empty()) {
        (false, _) => Duration::ZERO,
        (true, true) => budget,
        (true, false) => budget / 10,
    };
    let edge_budget = (edge_share / rounds).max(Duration::from_millis(100));
    let random_budget =
        (budget.saturating_sub(edge_share) / rounds).max(Duration::from_millis(200));
    let workers = (jobs / n).max(1);
    let mut out = Vec::new();
    let job = |target, has_base, engines: Vec<String>, budget, worker| Job {
        target,
        budget,
        engines,
        worker,
        has_base,
        phase: Phase::Run,
    };
    if has_edge {
        for &(t, has_base) in targets {
            out.push(job(t, has_base, vec!["edge".to_string()], edge_budget, 0));
        }
    }
    if !random.is_empty() {
        for &(t, has_base) in targets {
            for w in 1..=workers {
                out.push(job(t, has_base, random.clone(), random_budget, w));
            }
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
    /// It ended the process too: `timeout`, `oom` or `crash`.
    Ended(String),
}

/// A finding as the harness reported it, before triage.
#[derive(Debug, Clone)]
pub struct RawFinding {
    pub engine: String,
    /// `panic` for caught panics, `divergence` when head and base differ; `timeout`, `oom` and
    /// `crash` for what ended the process.
    pub kind: String,
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

/// Everything one target's processes (and their replays) gave.
#[derive(Debug, Clone, Default)]
pub struct TargetRun {
    pub target: usize,
    /// Inputs tried per engine.
    pub execs: BTreeMap<String, u64>,
    pub findings: Vec<RawFinding>,
}

struct Running {
    job: Job,
    child: Child,
    started: Instant,
    results: PathBuf,
    stderr: PathBuf,
    record: Option<PathBuf>,
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
    let mut outstanding: BTreeMap<usize, usize> = BTreeMap::new();
    for job in &jobs {
        *outstanding.entry(job.target).or_default() += 1;
    }
    let mut queue: VecDeque<Job> = jobs.into();
    let mut running: Vec<Running> = Vec::new();
    let mut runs: BTreeMap<usize, TargetRun> = BTreeMap::new();
    while !queue.is_empty() || !running.is_empty() {
        while running.len() < spec.jobs.max(1) {
            let Some(job) = queue.pop_front() else { break };
            running.push(spawn(spec, job)?);
        }
        std::thread::sleep(Duration::from_millis(10));
        let mut i = 0;
        while i < running.len() {
            let r = &mut running[i];
            let hard_deadline = r.job.budget + spec.timeout * 2 + Duration::from_secs(3);
            let status = match r.child.try_wait() {
                Ok(Some(status)) => Some(status),
                Ok(None) if r.started.elapsed() > hard_deadline => {
                    kill_group(&mut r.child);
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
            let target = done.job.target;
            let run = runs.entry(target).or_insert_with(|| TargetRun {
                target,
                ..Default::default()
            });
            if let Some(next) = finish(done, status, run, t0) {
                queue.push_back(next);
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

fn spawn(spec: &RunSpec, job: Job) -> Result<Running> {
    let tag = match job.phase {
        Phase::Run => "run",
        Phase::Record { .. } => "record",
        Phase::BaseCheck { .. } => "base",
    };
    let stem = format!("t{}.w{}", job.target, job.worker);
    let results = spec.scratch.join(format!("{stem}.{tag}.jsonl"));
    let stderr = spec.scratch.join(format!("{stem}.{tag}.stderr"));
    let record = matches!(job.phase, Phase::Record { .. })
        .then(|| spec.scratch.join(format!("{stem}.inflight.json")));
    for p in [Some(&results), Some(&stderr), record.as_ref()]
        .into_iter()
        .flatten()
    {
        let _ = std::fs::remove_file(p);
    }
    let (base_at, edge_execs) = match &job.phase {
        Phase::Run => (None, None),
        Phase::Record { edge_execs, .. } => (None, *edge_execs),
        Phase::BaseCheck {
            seq, edge_execs, ..
        } => (Some(*seq), *edge_execs),
    };
    let options = serde_json::json!({
        "target": format!("t{}", job.target),
        "engines": job.engines,
        "budget_ms": job.budget.as_millis() as u64,
        "timeout_ms": spec.timeout.as_millis() as u64,
        "seed": spec.seed.wrapping_add(job.worker as u64 * 0x9E37_79B9),
        "results": results,
        "record": record,
        "base_at": base_at,
        "edge_execs": edge_execs,
        "malloc_limit_mb": spec.malloc_limit_mb,
        "strict_floats": spec.strict_floats,
    });
    let err_file = std::fs::File::create(&stderr)
        .map_err(|e| Error::io(format!("creating {}", stderr.display()), e))?;
    let child = Command::new(&spec.binary)
        .arg(options.to_string())
        .current_dir(&spec.workdir)
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err_file)
        // Its own process group, so a hung target's children die with it.
        .process_group(0)
        .spawn()
        .map_err(|source| Error::Spawn {
            program: spec.binary.display().to_string(),
            source,
        })?;
    Ok(Running {
        job,
        child,
        started: Instant::now(),
        results,
        stderr,
        record,
    })
}

fn kill_group(child: &mut Child) {
    // SAFETY: kill(2) with a negative pid signals the process group we created at spawn.
    unsafe {
        libc::kill(-(child.id() as i32), libc::SIGKILL);
    }
    let _ = child.kill();
}

/// How a process ended, as the runtime signals it.
fn ended(status: ExitStatus) -> Option<&'static str> {
    match status.code() {
        Some(0) => None,
        Some(EXIT_TIMEOUT) => Some("timeout"),
        Some(EXIT_OOM) => Some("oom"),
        _ => Some("crash"),
    }
}

/// Reads what a finished process reported, and returns the replay to run next, if a finding
/// needs one; otherwise this process's part of the target's run is complete.
fn finish(done: Running, status: ExitStatus, run: &mut TargetRun, t0: Instant) -> Option<Job> {
    let offset = (done.started - t0).as_millis() as u64;
    let (findings, execs, base_check) = read_results(&done.results, offset);
    let job = done.job;
    let replay = |phase: Phase| Job {
        budget: done.started.elapsed() * 3 + Duration::from_secs(2),
        phase,
        ..job.clone()
    };
    match job.phase.clone() {
        Phase::Record {
            mut crash,
            edge_execs,
        } => {
            // The replay ran the same inputs in the same order, writing each before the call.
            let recorded = (ended(status) == Some("crash"))
                .then(|| {
                    done.record
                        .as_ref()
                        .and_then(|p| std::fs::read_to_string(p).ok())
                })
                .flatten()
                .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok());
            match recorded {
                Some(v) => {
                    crash.args = v
                        .get("args")
                        .and_then(|a| serde_json::from_value(a.clone()).ok());
                    crash.seq = v.get("seq").and_then(|s| s.as_u64());
                }
                None => crash
                    .message
                    .push_str(" (the replay did not crash again, so the input is unknown)"),
            }
            match crash.seq {
                Some(seq) if job.has_base => Some(replay(Phase::BaseCheck {
                    finding: crash,
                    seq,
                    edge_execs,
                })),
                _ => {
                    run.findings.push(crash);
                    None
                }
            }
        }
        Phase::BaseCheck { mut finding, .. } => {
            finding.base = match (ended(status), base_check) {
                (None, Some(b)) => b,
                (Some(kind), _) => Some(BaseOutcome::Ended(kind.to_string())),
                (None, None) => None,
            };
            run.findings.push(finding);
            None
        }
        Phase::Run => {
            let edge_execs = execs.get("edge").copied();
            for (engine, n) in execs {
                *run.execs.entry(engine).or_default() += n;
            }
            let mut next = None;
            for f in findings {
                let ends_process = matches!(f.kind.as_str(), "timeout" | "oom");
                match (ends_process, f.seq) {
                    (true, Some(seq)) if job.has_base => {
                        next = Some(replay(Phase::BaseCheck {
                            finding: f,
                            seq,
                            edge_execs,
                        }))
                    }
                    _ => run.findings.push(f),
                }
            }
            if next.is_some() || ended(status) != Some("crash") {
                return next;
            }
            let stderr = std::fs::read_to_string(&done.stderr).unwrap_or_default();
            let crash = RawFinding {
                engine: run
                    .execs
                    .keys()
                    .last()
                    .cloned()
                    .unwrap_or_else(|| "edge".into()),
                kind: crash_kind(&stderr).to_string(),
                message: crash_message(status, &stderr),
                location: None,
                args: None,
                elapsed_ms: offset + done.started.elapsed().as_millis() as u64,
                seq: None,
                base: None,
                head_value: None,
            };
            Some(replay(Phase::Record { crash, edge_execs }))
        }
    }
}

type Results = (
    Vec<RawFinding>,
    BTreeMap<String, u64>,
    Option<Option<BaseOutcome>>,
);

/// Findings, per-engine execution counts and a base check's answer, from a results file.
/// Findings the base version caused by hanging (the head returned) are not the head's and are
/// left out.
fn read_results(path: &Path, offset_ms: u64) -> Results {
    let mut findings = Vec::new();
    let mut execs = BTreeMap::new();
    let mut base_check = None;
    let text = std::fs::read_to_string(path).unwrap_or_default();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let s = |k: &str| {
            v.get(k)
                .and_then(|x| x.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let engine = s("engine");
        match v.get("event").and_then(|e| e.as_str()) {
            Some("stats") => {
                *execs.entry(engine).or_default() +=
                    v.get("execs").and_then(|x| x.as_u64()).unwrap_or(0);
            }
            Some("base_check") => base_check = Some(v.get("base").and_then(base_outcome)),
            Some("finding") if s("side") == "base" => {}
            Some("finding") => {
                let args = v
                    .get("args")
                    .and_then(|a| serde_json::from_value::<Vec<String>>(a.clone()).ok());
                let head_value = v
                    .get("head_outcome")
                    .and_then(|h| h.get("returned"))
                    .and_then(|r| r.as_str())
                    .map(str::to_string);
                findings.push(RawFinding {
                    engine,
                    kind: s("kind"),
                    message: s("message"),
                    location: location(&v),
                    args,
                    elapsed_ms: offset_ms
                        + v.get("elapsed_ms").and_then(|x| x.as_u64()).unwrap_or(0),
                    seq: v.get("seq").and_then(|x| x.as_u64()),
                    base: v.get("base").and_then(base_outcome),
                    head_value,
                });
            }
            _ => {}
        }
    }
    (findings, execs, base_check)
}

fn location(v: &serde_json::Value) -> Option<(String, u32, u32)> {
    let file = v
        .get("file")
        .and_then(|f| f.as_str())
        .filter(|f| !f.is_empty())?;
    let n = |k: &str| v.get(k).and_then(|x| x.as_u64()).unwrap_or(0) as u32;
    Some((file.to_string(), n("line"), n("column")))
}

/// `{"returned": "…"}` or `{"panicked": {…}}` as the runtime writes them.
fn base_outcome(v: &serde_json::Value) -> Option<BaseOutcome> {
    if let Some(r) = v.get("returned") {
        return Some(BaseOutcome::Returned(r.as_str().map(str::to_string)));
    }
    let p = v.get("panicked")?;
    Some(BaseOutcome::Panicked {
        message: p
            .get("message")
            .and_then(|m| m.as_str())
            .unwrap_or_default()
            .to_string(),
        location: location(p),
    })
}

/// What killed the process, from the runtime's last words.
fn crash_kind(stderr: &str) -> &'static str {
    if stderr.contains("memory allocation of") {
        "oom"
    } else {
        "crash"
    }
}

fn crash_message(status: ExitStatus, stderr: &str) -> String {
    let last_words: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .rev()
        .take(3)
        .collect();
    let last_words: Vec<&str> = last_words.into_iter().rev().collect();
    let how = match (status.signal(), status.code()) {
        (Some(sig), _) => format!("killed by signal {sig} ({})", signal_name(sig)),
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

    #[test]
    fn results_lines_become_findings_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.jsonl");
        std::fs::write(
            &p,
            concat!(
                r#"{"event":"finding","engine":"edge","kind":"panic","side":"head","message":"boom","file":"src/lib.rs","line":3,"column":9,"args":["1"],"elapsed_ms":5,"seq":7,"base":{"returned":"Some(1)"}}"#,
                "\n",
                r#"{"event":"finding","engine":"edge","kind":"timeout","side":"base","args":["2"],"seq":9}"#,
                "\n",
                r#"{"event":"stats","engine":"edge","execs":10}"#,
                "\nnot json\n"
            ),
        )
        .unwrap();
        let (f, e, b) = read_results(&p, 100);
        assert_eq!(f.len(), 1, "the base's hang is not a finding of the head");
        assert_eq!(f[0].location, Some(("src/lib.rs".into(), 3, 9)));
        assert_eq!(f[0].elapsed_ms, 105);
        assert_eq!(f[0].seq, Some(7));
        assert_eq!(
            f[0].base,
            Some(BaseOutcome::Returned(Some("Some(1)".into())))
        );
        assert_eq!(e["edge"], 10);
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
        assert_eq!(crash_kind("memory allocation of 99999 bytes failed"), "oom");
    }

    #[test]
    fn edge_first_then_random_engines_on_every_core() {
        let engines = vec!["edge".to_string(), "proptest".to_string()];
        let jobs = plan_jobs(&[(0, false)], &engines, 2, Duration::from_secs(10));
        assert_eq!(
            jobs.len(),
            3,
            "one edge process, then a random one per core"
        );
        assert_eq!(jobs[0].engines, vec!["edge".to_string()]);
        assert_eq!(jobs[0].budget, Duration::from_secs(1));
        assert_eq!(jobs[1].engines, vec!["proptest".to_string()]);
        assert_eq!(jobs[1].budget, Duration::from_secs(9));
        let three = plan_jobs(
            &[(0, false), (1, true), (2, true)],
            &engines,
            2,
            Duration::from_secs(10),
        );
        assert_eq!(three.len(), 6);
        assert!(
            three[..3].iter().all(|j| j.engines == ["edge"]),
            "edge first for every target"
        );
        assert_eq!(three[3].budget, Duration::from_millis(4500));
    }
}
