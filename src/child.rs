//! Child processes (cargo, the harness) that die with the tool, however it ends, and a
//! watchdog that ends them all when the run's time limit passes.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Makes the child die when this process does, however it ends (SIGKILL from a CI runner's
/// timeout included), where the kernel offers it: Linux's `PR_SET_PDEATHSIG`. The signal
/// follows the thread that spawned the child: spawn from a thread that waits for the child.
pub fn die_with_this_process(command: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt as _;
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: between fork and exec, only async-signal-safe calls (prctl, getppid, _exit).
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The tool may have died before the prctl took effect.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}

/// How often a fired watchdog kills again what was started since.
const REKILL_EVERY: Duration = Duration::from_millis(20);

/// Ends every process this one started, and theirs, once a deadline has passed (`--time-limit`):
/// from then on, and until it is dropped, it kills them again every [`REKILL_EVERY`], so a
/// cargo or git the work starts next dies at once and the work returns quickly. When it is
/// still armed `grace` after the deadline (the work is busy in this process and did not
/// notice), `overrun` runs on its thread (it should end the process).
pub struct Watchdog {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct Shared {
    armed: Mutex<bool>,
    wake: Condvar,
    fired: AtomicBool,
}

impl Watchdog {
    pub fn arm(
        deadline: Instant,
        grace: Duration,
        overrun: impl FnOnce() + Send + 'static,
    ) -> Watchdog {
        let shared = Arc::new(Shared {
            armed: Mutex::new(true),
            wake: Condvar::new(),
            fired: AtomicBool::new(false),
        });
        let watch = Arc::clone(&shared);
        let thread = std::thread::spawn(move || {
            let mut armed = watch.armed.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if !*armed {
                    return;
                }
                let now = Instant::now();
                if now < deadline {
                    armed = watch
                        .wake
                        .wait_timeout(armed, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                    continue;
                }
                watch.fired.store(true, Ordering::SeqCst);
                kill_descendants();
                if now >= deadline + grace {
                    drop(armed);
                    overrun();
                    return;
                }
                armed = watch
                    .wake
                    .wait_timeout(armed, REKILL_EVERY)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        });
        Watchdog {
            shared,
            thread: Some(thread),
        }
    }

    /// Whether the deadline has passed (and the processes started until now were killed).
    pub fn fired(&self) -> bool {
        self.flag().load(Ordering::SeqCst)
    }

    /// Set once the deadline has passed, for work that checks it as it goes.
    pub fn flag(&self) -> &AtomicBool {
        &self.shared.fired
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        *self.shared.armed.lock().unwrap_or_else(|e| e.into_inner()) = false;
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Kills (SIGKILL) every process descended from this one, from `/proc`: cargo and the rustc
/// processes it started, which are not in a process group of the tool's own.
pub fn kill_descendants() {
    #[cfg(target_os = "linux")]
    {
        let me = std::process::id() as libc::pid_t;
        for pid in descendants(me, &parents()) {
            // SAFETY: kill(2) of a process this one started (or one of theirs).
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

/// Each process's parent, from `/proc/<pid>/stat` (the field after the command's closing
/// parenthesis and the state).
fn parents() -> BTreeMap<libc::pid_t, libc::pid_t> {
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok());
        if let Some(ppid) = ppid {
            out.insert(pid, ppid);
        }
    }
    out
}

/// The processes under `root` in `parents`, parents before their children.
fn descendants(
    root: libc::pid_t,
    parents: &BTreeMap<libc::pid_t, libc::pid_t>,
) -> Vec<libc::pid_t> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parents.iter().filter(|(_, pp)| **pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out.remove(0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descendants_are_found_through_every_generation() {
        let parents = BTreeMap::from([(10, 1), (11, 10), (12, 11), (13, 1), (14, 10)]);
        assert_eq!(descendants(10, &parents), vec![11, 14, 12]);
        assert!(descendants(12, &parents).is_empty());
    }

    #[test]
    fn a_watchdog_kills_the_processes_started_before_and_after_its_deadline() {
        const INSIDE: &str = "EDGECHECK_WATCHDOG_TEST";
        if std::env::var_os(INSIDE).is_none() {
            // In a process of its own: the watchdog kills every process this one started,
            // the other tests' too.
            let name = "child::tests::a_watchdog_kills_the_processes_started_before_and_after_its_deadline";
            let out = Command::new(std::env::current_exe().unwrap())
                .args(["--exact", name, "--test-threads=1"])
                .env(INSIDE, "1")
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && stdout.contains("1 passed"),
                "{stdout}"
            );
            return;
        }
        let mut first = Command::new("sleep").arg("30").spawn().unwrap();
        let watchdog = Watchdog::arm(
            Instant::now() + Duration::from_millis(100),
            Duration::from_secs(600),
            || {},
        );
        assert!(!watchdog.fired());
        let status = first.wait().unwrap();
        assert!(!status.success() && watchdog.fired());
        let mut late = Command::new("sleep").arg("30").spawn().unwrap();
        assert!(
            !late.wait().unwrap().success(),
            "started after the deadline"
        );
        drop(watchdog);
        let mut after = Command::new("true").spawn().unwrap();
        assert!(
            after.wait().unwrap().success(),
            "a dropped watchdog kills nothing"
        );
    }
}
