//! Runs the harness: one process per target under its share of the budget, on all cores; a hang or crash ends only its own process, and its input is recovered.

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
}

/// One process to run: a target, for `budget`, with the given engines and seed.
#[derive(Debug, Clone)]
pub struct Job {
    pub target: usize,
    pub budget: Duration,
    pub engines: Vec<String>,
    /// Which of the target's processes this is: each gets its own seed and files.
    pub worker: usize,
}

/// The processes for `targets`, each running for `budget`. When there are fewer targets than
/// jobs, a target gets several processes: the first runs every engine, the others only the
/// random ones with other seeds, so that every core works.
pub fn plan_jobs(targets: &[usize], engines: &[String], jobs: usize, budget: Duration) -> Vec<Job> {
    let workers = (jobs / targets.len().max(1)).max(1);
    let random: Vec<String> = engines.iter().filter(|e| e.as_str() != "edge").cloned().collect();
    let mut out = Vec::new();
    for &target in targets {
        out.push(Job { target, budget, engines: engines.to_vec(), worker: 0 });
        for worker in 1..workers {
            if !random.is_empty() {
                out.push(Job { target, budget, engines: random.clone(), worker });
            }
        }
    }
    out
}

/// A finding as the harness reported it, before triage.
#[derive(Debug, Clone)]
pub struct RawFinding {
    pub engine: String,
    /// `panic` for caught panics; `timeout`, `oom` and `crash` for what ended the process.
    pub kind: String,
    pub message: String,
    pub location: Option<(String, u32, u32)>,
    /// The arguments as Rust source, when known.
    pub args: Option<Vec<String>>,
    /// Milliseconds since the start of the run stage.
    pub elapsed_ms: u64,
}

/// Everything one target's process (and its replay, after a crash) gave.
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
    /// Set for a replay after a crash: the crash to complete with the recorded input.
    replay_of: Option<RawFinding>,
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
    let mut queue: VecDeque<(Job, Option<RawFinding>)> =
        jobs.into_iter().map(|j| (j, None)).collect();
    let mut running: Vec<Running> = Vec::new();
    let mut runs: BTreeMap<usize, TargetRun> = BTreeMap::new();
    let mut outstanding: BTreeMap<usize, usize> = BTreeMap::new();
    for (job, _) in &queue {
        *outstanding.entry(job.target).or_default() += 1;
    }
    while !queue.is_empty() || !running.is_empty() {
        while running.len() < spec.jobs.max(1) {
            let Some((job, replay_of)) = queue.pop_front() else {
                break;
            };
            running.push(spawn(spec, job, replay_of)?);
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
            let run = runs.entry(done.job.target).or_insert_with(|| TargetRun {
                target: done.job.target,
                ..Default::default()
            });
            let target = done.job.target;
            if let Some(replay) = finish(done, status, run, t0) {
                queue.push_back(replay);
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

fn spawn(spec: &RunSpec, job: Job, replay_of: Option<RawFinding>) -> Result<Running> {
    let tag = if replay_of.is_some() { "replay" } else { "run" };
    let results = spec.scratch.join(format!("t{}.{tag}.jsonl", job.target));
    let stderr = spec.scratch.join(format!("t{}.{tag}.stderr", job.target));
    let record = replay_of
        .as_ref()
        .map(|_| spec.scratch.join(format!("t{}.inflight.json", job.target)));
    for p in [Some(&results), Some(&stderr), record.as_ref()]
        .into_iter()
        .flatten()
    {
        let _ = std::fs::remove_file(p);
    }
    let options = serde_json::json!({
        "target": format!("t{}", job.target),
        "engines": job.engines,
        "budget_ms": job.budget.as_millis() as u64,
        "timeout_ms": spec.timeout.as_millis() as u64,
        "seed": spec.seed.wrapping_add(job.worker as u64 * 0x9E37_79B9),
        "results": results,
        "record": record,
        "malloc_limit_mb": spec.malloc_limit_mb,
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
        replay_of,
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

/// Reads what a finished process reported. A crash queues a replay that records inputs, which
/// is returned; otherwise the target's run is complete.
fn finish(
    done: Running,
    status: ExitStatus,
    run: &mut TargetRun,
    t0: Instant,
) -> Option<(Job, Option<RawFinding>)> {
    let offset = (done.started - t0).as_millis() as u64;
    let (findings, execs) = read_results(&done.results, offset);
    if let Some(mut crash) = done.replay_of {
        // The replay ran the same inputs in the same order, writing each before the call.
        let crashed_again =
            !status.success() && !matches!(status.code(), Some(EXIT_TIMEOUT | EXIT_OOM));
        if crashed_again {
            crash.args = done
                .record
                .as_ref()
                .and_then(|p| std::fs::read_to_string(p).ok())
                .and_then(|s| serde_json::from_str::<Vec<String>>(&s).ok());
        } else {
            crash
                .message
                .push_str(" (the replay did not crash again, so the input is unknown)");
        }
        run.findings.push(crash);
        return None;
    }
    for (engine, n) in execs {
        *run.execs.entry(engine).or_default() += n;
    }
    run.findings.extend(findings);
    if status.success() || matches!(status.code(), Some(EXIT_TIMEOUT | EXIT_OOM)) {
        return None;
    }
    let stderr = std::fs::read_to_string(&done.stderr).unwrap_or_default();
    let elapsed = done.started.elapsed();
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
        elapsed_ms: offset + elapsed.as_millis() as u64,
    };
    // Recording every input slows the replay down: give it room to reach the same input.
    let replay = Job { budget: elapsed * 3 + Duration::from_secs(2), ..done.job };
    Some((replay, Some(crash)))
}

/// Findings and per-engine execution counts from a results file.
fn read_results(path: &Path, offset_ms: u64) -> (Vec<RawFinding>, BTreeMap<String, u64>) {
    let mut findings = Vec::new();
    let mut execs = BTreeMap::new();
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
            Some("finding") => {
                let location = v
                    .get("file")
                    .and_then(|f| f.as_str())
                    .filter(|f| !f.is_empty())
                    .map(|f| {
                        let n = |k: &str| v.get(k).and_then(|x| x.as_u64()).unwrap_or(0) as u32;
                        (f.to_string(), n("line"), n("column"))
                    });
                let args = v
                    .get("args")
                    .and_then(|a| serde_json::from_value::<Vec<String>>(a.clone()).ok());
                findings.push(RawFinding {
                    engine,
                    kind: s("kind"),
                    message: s("message"),
                    location,
                    args,
                    elapsed_ms: offset_ms
                        + v.get("elapsed_ms").and_then(|x| x.as_u64()).unwrap_or(0),
                });
            }
            _ => {}
        }
    }
    (findings, execs)
}

/// What killed the process, from the runtime's last words.
fn crash_kind(stderr: &str) -> &'static str {
    if stderr.contains("memory allocation of")
        || stderr.contains("capacity overflow") && stderr.contains("abort")
    {
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
                r#"{"event":"finding","engine":"edge","kind":"panic","message":"boom","file":"src/lib.rs","line":3,"column":9,"args":["1"],"elapsed_ms":5}"#,
                "\n",
                r#"{"event":"stats","engine":"edge","execs":10}"#,
                "\nnot json\n"
            ),
        )
        .unwrap();
        let (f, e) = read_results(&p, 100);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].location, Some(("src/lib.rs".into(), 3, 9)));
        assert_eq!(f[0].elapsed_ms, 105);
        assert_eq!(e["edge"], 10);
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
}
