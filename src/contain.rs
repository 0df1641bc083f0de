//! Contains the code under test: every harness process runs under a small supervisor (this binary again) that confines it with Landlock, and kills everything it started when it ends or the tool dies.
//!
//! The code a run executes is unreviewed by design. The supervisor sits between the tool and
//! the harness so that:
//! - writes go only to the run's own directories and the temp dir, and TCP is refused
//!   (Landlock, unprivileged, Linux ≥ 5.13; what the kernel lacks is left out, best effort);
//! - no process the harness starts outlives it: the supervisor is a *child subreaper*, so
//!   every orphaned descendant (a daemonised `sleep`, a double fork) becomes its child, and it
//!   kills them all when the harness ends, when the tool asks, or when the tool dies
//!   (`PR_SET_PDEATHSIG`, SIGKILL of the tool included);
//! - the harness's end (exit status or signal) reaches the tool unchanged.
//!
//! Elsewhere than Linux the harness runs as a plain child: there is nothing to confine with.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

/// Set on the supervisor's environment: the [`Containment`] it applies, as JSON.
const CONTAIN_ENV: &str = "EDGECHECK_CONTAIN";

/// The supervisor's exit status when it could not confine or start the harness (it says why
/// on stderr, in a line starting with [`FAILURE_PREFIX`]).
pub const EXIT_CONTAIN_FAILED: i32 = 125;
pub const FAILURE_PREFIX: &str = "edgecheck-contain:";

/// How harness processes are confined.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Containment {
    /// Confine with Landlock (`false` with `--no-sandbox`).
    pub sandbox: bool,
    /// Where the code under test may write (besides the temp dir and `/dev`).
    pub writable: Vec<PathBuf>,
    /// The supervisor's program: this binary (`None` runs the program as a plain child, as
    /// the library's unit tests do, whose binary is no supervisor).
    #[serde(skip)]
    pub supervisor: Option<PathBuf>,
}

impl Containment {
    /// Harness processes under this binary as supervisor, confined unless `sandbox` is off.
    pub fn new(sandbox: bool, writable: Vec<PathBuf>) -> Containment {
        Containment {
            sandbox,
            writable,
            supervisor: std::env::current_exe().ok(),
        }
    }

    /// The same, also letting the code under test write beneath `dir`.
    pub fn writing_to(&self, dir: &Path) -> Containment {
        let mut c = self.clone();
        c.writable.push(dir.to_path_buf());
        c
    }
}

/// Whether the Landlock sandbox holds, as the report says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SandboxStatus {
    /// Every restriction asked for holds.
    Active,
    /// The kernel's Landlock lacks some of them (older ABI): what holds is said.
    Partial,
    /// `--no-sandbox`.
    Off,
    /// The kernel has no Landlock, or the probe failed: why.
    Unavailable(String),
}

impl SandboxStatus {
    /// One line for the report.
    pub fn describe(&self) -> String {
        match self {
            SandboxStatus::Active => "active: Landlock lets the code under test write only to the run's directories, the temp dir and /dev, and refuses TCP".into(),
            SandboxStatus::Partial => "partly active: this kernel's Landlock enforces only some restrictions (file writes are confined; TCP, truncation or device ioctls may not be)".into(),
            SandboxStatus::Off => "off (--no-sandbox): the code under test may write anywhere you can".into(),
            SandboxStatus::Unavailable(why) => format!("unavailable ({why}): the code under test may write anywhere you can"),
        }
    }

    /// `true` when Landlock confines at least file writes.
    pub fn active(&self) -> bool {
        matches!(self, SandboxStatus::Active | SandboxStatus::Partial)
    }
}

/// What the supervisor is asked to do, besides confining itself.
#[derive(Debug, Serialize, Deserialize)]
struct Order {
    containment: Containment,
    /// The tool's pid: if it is gone already, the supervisor does not start the harness.
    tool: u32,
    /// Only confine, print the [`SandboxStatus`] and exit.
    probe: bool,
}

/// The command that runs `program` contained; add its arguments, environment and stdio as
/// for the program itself. The caller puts it in a process group of its own and stops it
/// with [`stop`].
pub fn command(containment: &Containment, program: &Path) -> Command {
    let mut cmd = match &containment.supervisor {
        Some(supervisor) if cfg!(target_os = "linux") => {
            let mut cmd = Command::new(supervisor);
            cmd.arg(program)
                .env(CONTAIN_ENV, order_json(containment, false));
            cmd
        }
        _ => Command::new(program),
    };
    crate::child::die_with_this_process(&mut cmd);
    cmd
}

/// Whether the sandbox holds on this machine: a supervisor confines itself and says.
pub fn probe(containment: &Containment) -> SandboxStatus {
    if !containment.sandbox {
        return SandboxStatus::Off;
    }
    if !cfg!(target_os = "linux") {
        return SandboxStatus::Unavailable("Landlock is Linux's".into());
    }
    let Some(exe) = &containment.supervisor else {
        return SandboxStatus::Unavailable("no supervisor".into());
    };
    let out = Command::new(exe)
        .env(CONTAIN_ENV, order_json(containment, true))
        .stdin(std::process::Stdio::null())
        .output();
    match out {
        Ok(out) if out.status.success() => match String::from_utf8_lossy(&out.stdout).trim() {
            "active" => SandboxStatus::Active,
            "partial" => SandboxStatus::Partial,
            other => SandboxStatus::Unavailable(other.to_string()),
        },
        Ok(out) => SandboxStatus::Unavailable(
            String::from_utf8_lossy(&out.stderr)
                .trim()
                .trim_start_matches(FAILURE_PREFIX)
                .trim()
                .to_string(),
        ),
        Err(e) => SandboxStatus::Unavailable(format!("the probe did not start: {e}")),
    }
}

/// Asks a supervisor started by [`command`] to kill everything under it and end, then makes
/// sure it has ended (SIGKILL to its process group after a grace period). A plain child in a
/// process group of its own gets the SIGTERM, then the SIGKILL, with its group.
pub fn stop(child: &mut std::process::Child) {
    let pid = child.id() as libc::pid_t;
    // SAFETY: kill(2) on the supervisor we started, then on the process group it leads.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let until = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while std::time::Instant::now() < until {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // SAFETY: as above.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn order_json(containment: &Containment, probe: bool) -> String {
    serde_json::to_string(&Order {
        containment: containment.clone(),
        tool: std::process::id(),
        probe,
    })
    .unwrap_or_default()
}

/// When this process is a supervisor (its environment says so): confines itself, runs the
/// harness named by its first argument with the rest, and returns the status to exit with.
/// `main` calls this first.
pub fn supervisor_mode() -> Option<i32> {
    let order = std::env::var(CONTAIN_ENV).ok()?;
    #[cfg(target_os = "linux")]
    {
        let order: Order = match serde_json::from_str(&order) {
            Ok(o) => o,
            Err(e) => return Some(fail(&format!("bad order from the tool: {e}"))),
        };
        Some(supervise::run(&order))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = order;
        Some(fail("containment is only built on Linux"))
    }
}

fn fail(why: &str) -> i32 {
    eprintln!("{FAILURE_PREFIX} {why}");
    EXIT_CONTAIN_FAILED
}

#[cfg(target_os = "linux")]
mod supervise {
    use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
    use std::path::PathBuf;
    use std::process::Command;
    use std::time::Duration;

    use landlock::{
        Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus, ABI,
    };

    use super::{fail, Order, CONTAIN_ENV};

    /// How often the supervisor looks whether the tool is still there, between signals.
    const POLL: Duration = Duration::from_millis(200);
    /// How long the clean-up waits for the processes it killed.
    const KILL_PATIENCE: Duration = Duration::from_secs(5);

    pub(super) fn run(order: &Order) -> i32 {
        // SAFETY: prctl/setrlimit/sigprocmask on this (single-threaded) process.
        unsafe {
            // Tell us when the tool dies, with a signal we can act on.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            if libc::getppid() as u32 != order.tool {
                return fail("the tool is gone");
            }
            // Orphans of the harness become ours, so none escapes the clean-up.
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1);
            // A crashing harness writes no core file (to its working dir, or a system
            // handler), which can take seconds and gigabytes.
            let no_core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            block(&stop_signals());
        }
        let status = if order.containment.sandbox {
            match confine(&order.containment.writable) {
                Ok(s) => s,
                Err(e) => return fail(&format!("cannot set up the Landlock sandbox: {e}")),
            }
        } else {
            "off".to_string()
        };
        if order.probe {
            println!("{status}");
            return 0;
        }
        let mut args = std::env::args_os().skip(1);
        let Some(program) = args.next() else {
            return fail("no program to run");
        };
        let mut cmd = Command::new(&program);
        cmd.args(args).env_remove(CONTAIN_ENV).process_group(0);
        crate::child::die_with_this_process(&mut cmd);
        let harness = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                return fail(&format!(
                    "cannot run {}: {e}",
                    PathBuf::from(program).display()
                ))
            }
        };
        // Reaped by waitpid below, with the orphans, not through `Child`.
        let pid = harness.id() as libc::pid_t;
        drop(harness);
        let ended = wait_for(pid, order.tool);
        kill_everything(pid);
        match ended {
            Some(status) => forward(status),
            // Asked to stop, or the tool is gone.
            None => 128 + libc::SIGTERM,
        }
    }

    /// Confines this process (and so the harness it starts) with Landlock: file writes only
    /// beneath `writable`, the temp dir and `/dev`; no TCP bind or connect. Best effort: what
    /// the kernel's Landlock cannot enforce is left out, and said in the status.
    fn confine(writable: &[PathBuf]) -> Result<String, landlock::RulesetError> {
        let abi = ABI::V5;
        let mut allowed: Vec<PathBuf> = writable.to_vec();
        allowed.push(std::env::temp_dir());
        allowed.push(PathBuf::from("/dev"));
        let status = Ruleset::default()
            .handle_access(AccessFs::from_write(abi))?
            .handle_access(AccessNet::from_all(abi))?
            .create()?
            .add_rules(landlock::path_beneath_rules(
                allowed.iter().filter(|p| p.exists()),
                AccessFs::from_write(abi),
            ))?
            .restrict_self()?;
        Ok(match status.ruleset {
            RulesetStatus::FullyEnforced => "active",
            RulesetStatus::PartiallyEnforced => "partial",
            RulesetStatus::NotEnforced => "the kernel has no Landlock",
        }
        .to_string())
    }

    fn stop_signals() -> libc::sigset_t {
        // SAFETY: sigset_t is plain data, filled by sigemptyset/sigaddset.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGCHLD] {
                libc::sigaddset(&mut set, sig);
            }
            set
        }
    }

    /// Blocks `set`, so the signals wait for `sigtimedwait` (the harness starts with an empty
    /// mask: std resets it between fork and exec).
    unsafe fn block(set: &libc::sigset_t) {
        libc::sigprocmask(libc::SIG_BLOCK, set, std::ptr::null_mut());
    }

    /// Waits for the harness to end; `None` when asked to stop first, or the tool died.
    fn wait_for(pid: libc::pid_t, tool: u32) -> Option<std::process::ExitStatus> {
        let set = stop_signals();
        let timeout = libc::timespec {
            tv_sec: 0,
            tv_nsec: POLL.as_nanos() as libc::c_long,
        };
        loop {
            // Reap what has ended: the harness, or an orphan of it that came to us.
            loop {
                let mut status = 0;
                // SAFETY: waitpid on our own children.
                let reaped = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
                if reaped == pid {
                    return Some(std::process::ExitStatus::from_raw(status));
                }
                if reaped <= 0 {
                    break;
                }
            }
            // SAFETY: getppid has no preconditions.
            if unsafe { libc::getppid() } as u32 != tool {
                return None;
            }
            // SAFETY: sigtimedwait on signals this thread blocked.
            let sig = unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &timeout) };
            if matches!(sig, libc::SIGTERM | libc::SIGINT | libc::SIGHUP) {
                return None;
            }
        }
    }

    /// Kills the harness's process group, then every process left under this one (orphans
    /// come to us as the subreaper), until the group is empty and no child is left, or
    /// [`KILL_PATIENCE`] has passed (a process stuck in the kernel cannot be waited for).
    fn kill_everything(harness: libc::pid_t) {
        let until = std::time::Instant::now() + KILL_PATIENCE;
        let mut status = 0;
        // SAFETY: kill(2) of the harness's group and of our own children, waitpid on them.
        unsafe {
            while std::time::Instant::now() < until {
                // Again each round: a fork in flight adds a member.
                libc::kill(-harness, libc::SIGKILL);
                for child in children() {
                    libc::kill(child, libc::SIGKILL);
                }
                match libc::waitpid(-1, &mut status, libc::WNOHANG) {
                    reaped if reaped > 0 => continue,
                    // Children left, still dying.
                    0 => {}
                    // No child: done once no member of the group is left either (a member
                    // still exiting would hand its orphans to us).
                    _ if libc::kill(-harness, 0) != 0 => return,
                    _ => {}
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    /// This process's children, from `/proc` (empty when the kernel does not list them:
    /// the harness's process group has been killed all the same).
    fn children() -> Vec<libc::pid_t> {
        let pid = std::process::id();
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    }

    /// Ends this process the way the harness ended: its exit status, or its signal.
    fn forward(status: std::process::ExitStatus) -> i32 {
        if let Some(code) = status.code() {
            return code;
        }
        let sig = status.signal().unwrap_or(libc::SIGKILL);
        // SAFETY: restore the default action of `sig`, unblock it and raise it on ourselves,
        // so the tool sees the harness's signal (no core file: RLIMIT_CORE is 0).
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, sig);
            libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::raise(sig);
        }
        128 + sig
    }
}
