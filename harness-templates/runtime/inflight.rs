//! The input in flight, for the per-input watchdog (hangs) and the allocation limit (huge allocations).

use super::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::protocol::{Event, Finding, Kind, Side};

pub(crate) type Renderer = dyn Fn() -> Vec<String> + Sync;

pub(crate) struct InFlight {
    pub(crate) render: *const Renderer,
    pub(crate) started: Instant,
    pub(crate) seq: u64,
    /// `head` or `base`: which version is running.
    pub(crate) side: Side,
}
// The pointer is only dereferenced while the call it belongs to is running, under CURRENT's lock.
unsafe impl Send for InFlight {}

pub(crate) static CURRENT: Mutex<Option<InFlight>> = Mutex::new(None);
/// Where the libFuzzer input in flight is written if it hangs or runs out of memory.
pub(crate) static INPUT_DUMP: OnceLock<PathBuf> = OnceLock::new();

/// Writes the bytes of the libFuzzer input in flight to the dump file, so the tool can replay
/// them on the base; `None` outside libFuzzer.
pub(crate) fn dump_fuzz_input() -> Option<PathBuf> {
    let (ptr, len) = (
        FUZZ_PTR.load(Ordering::Relaxed),
        FUZZ_LEN.load(Ordering::Relaxed),
    );
    let path = INPUT_DUMP.get()?;
    if ptr == 0 {
        return None;
    }
    // SAFETY: set by the fuzzer callback for the input it is running, which stays alive (the
    // callback is blocked in the call) while the watchdog or the allocator reports it.
    let bytes = unsafe { std::slice::from_raw_parts(ptr as *const u8, len) };
    std::fs::write(path, bytes).ok()?;
    Some(path.clone())
}
pub(crate) static REPORTING: AtomicBool = AtomicBool::new(false);

/// Renders the input in flight and reports it as a finding of `kind`; then the process ends.
pub(crate) fn report_in_flight_and_exit(kind: Kind, message: String, code: i32) -> ! {
    REPORTING.store(true, Ordering::SeqCst);
    let (args, seq, side) = {
        let cur = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: the renderer lives on the caller's stack until the call returns, and the
        // caller clears CURRENT (taking this lock) before that.
        match cur.as_ref() {
            Some(c) => (Some(unsafe { (*c.render)() }), Some(c.seq), c.side),
            None => (None, None, Side::Head),
        }
    };
    let engine = *ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    let input_file = dump_fuzz_input();
    emit(&Event::Finding(Box::new(Finding {
        engine,
        kind,
        side,
        message,
        panic: None,
        args,
        seq,
        elapsed_ms: elapsed_ms(),
        input_file,
        base: None,
        head: None,
        key: None,
    })));
    emit_stats(engine);
    std::process::exit(code)
}

/// Watches the call in flight; one that runs past the per-input timeout is a hang.
pub(crate) fn start_watchdog(timeout: Duration) {
    let tick = (timeout / 10).clamp(Duration::from_millis(5), Duration::from_millis(100));
    std::thread::spawn(move || loop {
        std::thread::sleep(tick);
        let late = {
            let cur = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
            cur.as_ref().is_some_and(|c| c.started.elapsed() > timeout)
        };
        if late {
            report_in_flight_and_exit(
                Kind::Timeout,
                format!("the call did not return within {} ms", timeout.as_millis()),
                crate::protocol::EXIT_TIMEOUT,
            );
        }
    });
}

pub(crate) static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
pub(crate) static LIMIT_BYTES: AtomicUsize = AtomicUsize::new(0);

/// The system allocator with a limit: a single allocation, or all live memory, past the limit
/// is reported as an out-of-memory finding with the input that asked for it.
pub struct LimitAlloc;

impl LimitAlloc {
    fn check(&self, size: usize) {
        let limit = LIMIT_BYTES.load(Ordering::Relaxed);
        if limit == 0 || REPORTING.load(Ordering::Relaxed) {
            return;
        }
        let live = LIVE_BYTES.load(Ordering::Relaxed);
        if size > limit || live.saturating_add(size) > limit {
            report_in_flight_and_exit(
                Kind::Oom,
                format!(
                    "allocation of {size} bytes with {live} bytes live exceeds the memory limit of {} MiB",
                    limit >> 20
                ),
                crate::protocol::EXIT_OOM,
            );
        }
    }
}

unsafe impl GlobalAlloc for LimitAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.check(layout.size());
        let p = System.alloc(layout);
        if !p.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.check(layout.size());
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            self.check(new_size - layout.size());
        }
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}
