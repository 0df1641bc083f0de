//! The process's options, the events it writes to the results file, and panic capture.

use super::*;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::panic::{self};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::protocol::{Engine, Event, Options, Panic};

/// The options of this process: the protocol's [`Options`], with durations and libFuzzer's flags.
#[derive(Clone)]
pub struct Opts {
    pub options: Options,
    pub budget: Duration,
    pub timeout: Duration,
    /// The flags to hand to libFuzzer (the process's own arguments when options come from the
    /// environment).
    pub fuzzer_args: Vec<String>,
}

impl std::ops::Deref for Opts {
    type Target = Options;
    fn deref(&self) -> &Options {
        &self.options
    }
}

impl Opts {
    pub fn from_args() -> Opts {
        let args: Vec<String> = std::env::args().collect();
        let (json, fuzzer_args) = match std::env::var("EDGECHECK_HARNESS_OPTS") {
            Ok(json) => (json, args.clone()),
            Err(_) => (
                args.get(1).cloned().unwrap_or_else(|| {
                    eprintln!("usage: edgecheck-harness '<json options>' (this binary is run by cargo-edgecheck)");
                    std::process::exit(crate::protocol::EXIT_HARNESS_ERROR)
                }),
                Vec::new(),
            ),
        };
        let options: Options = serde_json::from_str(&json).unwrap_or_else(|e| {
            eprintln!("edgecheck-harness: bad options: {e}");
            std::process::exit(crate::protocol::EXIT_HARNESS_ERROR)
        });
        STRICT_FLOATS.store(options.strict_floats, Ordering::Relaxed);
        Opts {
            budget: Duration::from_millis(options.budget_ms),
            timeout: Duration::from_millis(options.timeout_ms),
            options,
            fuzzer_args,
        }
    }
}

pub(crate) static START: OnceLock<Instant> = OnceLock::new();
/// The results file, opened for each event and closed after it: the code under test may write
/// to every file descriptor it finds open, and must not find this one.
pub(crate) static RESULTS: OnceLock<Mutex<PathBuf>> = OnceLock::new();
/// Inputs tried by the current engine.
pub(crate) static EXECS: AtomicU64 = AtomicU64::new(0);
/// Inputs tried by the process, across engines: the replay position of every input.
pub(crate) static SEQ: AtomicU64 = AtomicU64::new(0);
pub(crate) static ENGINE: Mutex<Engine> = Mutex::new(Engine::Edge);

pub(crate) fn elapsed_ms() -> u64 {
    START
        .get()
        .map(|s| s.elapsed().as_millis() as u64)
        .unwrap_or(0)
}

/// Appends one JSON line to the results file, which the tool reads when the process ends.
pub(crate) fn emit(event: &Event) {
    if let Some(path) = RESULTS.get() {
        // A leading newline ends any partial line someone else wrote; one write per event.
        let line = format!("\n{}\n", serde_json::to_string(event).unwrap_or_default());
        let path = path.lock().unwrap_or_else(|e| e.into_inner());
        if let Ok(mut f) = OpenOptions::new().append(true).open(&*path) {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// A caught panic (the protocol's [`Panic`]).
pub(crate) type Caught = Panic;

impl Caught {
    /// Where and how it failed: an overflow and a panic at the same place are different bugs.
    pub(crate) fn key(&self) -> String {
        let overflow =
            self.message.starts_with("attempt to") && self.message.ends_with("with overflow");
        format!(
            "{}:{}:{}:{}",
            self.file,
            self.line,
            self.column,
            if overflow { "overflow" } else { "panic" }
        )
    }
}

thread_local! {
    pub(crate) static LAST_PANIC: RefCell<Option<Caught>> = const { RefCell::new(None) };
}

/// A quiet hook: remember what panicked where, print nothing, capture no backtrace.
pub(crate) fn install_panic_hook() {
    panic::set_hook(Box::new(|info| {
        let message = payload_message(info.payload());
        let (file, line, column) = info
            .location()
            .map(|l| (l.file().to_string(), l.line(), l.column()))
            .unwrap_or_default();
        let caught = match is_foreign(&file)
            .then(|| calling_frame(&file, line, column))
            .flatten()
        {
            // A panic inside std or a dependency (an overflow in `Iterator::sum`, `clamp`'s
            // assertion) is shown at the user's line that led there, and where it happened.
            Some((user_file, user_line, user_column)) => Caught {
                message,
                origin: Some(format!("{file}:{line}:{column}")),
                file: user_file,
                line: user_line,
                column: user_column,
            },
            None => Caught {
                message,
                file,
                line,
                column,
                origin: None,
            },
        };
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(caught));
    }));
}

/// A panic's message, from its payload (`panic!` with a literal or with format arguments).
pub(crate) fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_string()
    }
}

/// Code that is not the user's: the standard library and registry dependencies.
pub(crate) fn is_foreign(file: &str) -> bool {
    file.starts_with("/rustc/")
        || file.starts_with("library/")
        || file.contains("/.cargo/registry/")
        || file.contains("/.cargo/git/")
}

pub(crate) type Frame = (String, u32, u32);
pub(crate) static CALLING_FRAMES: Mutex<Option<HashMap<Frame, Option<Frame>>>> = Mutex::new(None);

/// The innermost frame of the current backtrace in the user's code, remembered per foreign
/// location: symbolising a backtrace is slow, and shrinking meets the same panic many times.
pub(crate) fn calling_frame(file: &str, line: u32, column: u32) -> Option<Frame> {
    let key = (file.to_string(), line, column);
    let mut cache = CALLING_FRAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = cache.get_or_insert_with(HashMap::new).get(&key) {
        return found.clone();
    }
    let trace = std::backtrace::Backtrace::force_capture().to_string();
    let found = trace
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("at "))
        .find_map(|at| {
            let mut parts = at.rsplitn(3, ':');
            let column = parts.next()?.parse().ok()?;
            let line = parts.next()?.parse().ok()?;
            let path = parts.next()?;
            let ours = path.contains("/harness/src/") || is_foreign(path) || !path.ends_with(".rs");
            (!ours).then(|| (path.to_string(), line, column))
        });
    cache
        .get_or_insert_with(HashMap::new)
        .insert(key, found.clone());
    found
}
