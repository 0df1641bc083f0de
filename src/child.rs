//! Child processes (cargo, the harness) that die with the tool, however it ends.

use std::process::Command;

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
