//! The libFuzzer engine: coverage-guided inputs decoded from libFuzzer's bytes, and replays of its inputs.

use super::*;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::protocol::{Engine, Event, ReplaySide, Side};

/// Runs one input read from a file: after libFuzzer found (and minimised) it, to show it as
/// arguments and to try it on each version.
pub(crate) fn replay_bytes<A: Gen>(opts: &Opts, t: &Target<A>, path: &std::path::Path) {
    let data = std::fs::read(path).unwrap_or_default();
    let a = A::decode(&mut Unstructured::new(&data), true);
    let decoded = || Event::Decoded {
        args: (t.render)(&a),
    };
    match opts.replay_side {
        ReplaySide::Render => emit(&decoded()),
        ReplaySide::Base => {
            emit(&decoded());
            let base = t.base.map(|_| call_side(&a, t, Side::Base, 0, false));
            emit(&Event::BaseCheck {
                seq: 0,
                base,
                args: None,
            });
        }
        ReplaySide::Head => match exec(&a, t, opts) {
            Some(hit) => emit_hit(Engine::Libfuzzer, &hit, &a, t, 0),
            None => emit(&decoded()),
        },
    }
}

/// The input libFuzzer is running, for the watchdog and the allocation limit to dump.
pub(crate) static FUZZ_PTR: AtomicUsize = AtomicUsize::new(0);
pub(crate) static FUZZ_LEN: AtomicUsize = AtomicUsize::new(0);

/// Writes the edge values as seed inputs, and the mined literals as a libFuzzer dictionary.
pub(crate) fn write_seeds_and_dict<A: Gen>(opts: &Opts, lits: &Lits) {
    if let Some(dir) = &opts.seeds_dir {
        let _ = std::fs::create_dir_all(dir);
        for (i, a) in A::edges_capped(lits, 4000).iter().enumerate() {
            let mut bytes = Vec::new();
            a.encode(&mut bytes, true);
            let _ = std::fs::write(dir.join(format!("edge-{i:05}")), bytes);
        }
    }
    if let Some(path) = &opts.dict {
        let mut entries: Vec<Vec<u8>> = Vec::new();
        entries.extend(lits.strs.iter().map(|s| s.as_bytes().to_vec()));
        entries.extend(lits.bytes.iter().map(|b| b.to_vec()));
        for v in lits.ints {
            for width in [1usize, 2, 4, 8] {
                let bits = (width * 8) as u32;
                if *v >= -(1i128 << (bits - 1)) && *v < (1i128 << bits) {
                    entries.push(v.to_le_bytes()[..width].to_vec());
                }
            }
        }
        // A comment first: libFuzzer refuses an empty dictionary file.
        let text: String = std::iter::once(
            "# literals of the changed code, mined by cargo-edgecheck\n".to_string(),
        )
        .chain(entries.iter().filter(|e| !e.is_empty()).map(|e| {
            format!(
                "\"{}\"\n",
                e.iter().map(|b| format!("\\x{b:02x}")).collect::<String>()
            )
        }))
        .collect();
        let _ = std::fs::write(path, text);
    }
}

#[cfg(feature = "libfuzzer")]
pub(crate) fn run_libfuzzer<A: Gen>(opts: &Opts, lits: &Lits, t: Target<A>) {
    set_engine(Engine::Libfuzzer);
    // libFuzzer re-runs this binary to minimise a crash; those runs need no new seeds.
    let minimizing = opts
        .fuzzer_args
        .iter()
        .any(|a| a.starts_with("-minimize_crash_internal_step"));
    if !minimizing {
        write_seeds_and_dict::<A>(opts, lits);
    }
    // A fuzzing run ends at its budget to the millisecond (libFuzzer's `-max_total_time` is
    // whole seconds, and runs one more): the inputs run are counted, and the corpus is already
    // on disk. `_exit`, since libFuzzer takes an `exit` for the target's.
    let stop_at = match (minimizing, &opts.chase) {
        (false, None) => START.get().map(|s| *s + opts.budget),
        _ => None,
    };
    let known: HashSet<String> = opts.known.iter().cloned().collect();
    let o = opts.clone();
    let one = move |data: &[u8]| {
        if stop_at.is_some_and(|t| Instant::now() >= t) {
            emit_stats(Engine::Libfuzzer);
            extern "C" {
                fn _exit(status: i32) -> !;
            }
            // SAFETY: ends the process at once, as libFuzzer's own time limit would.
            unsafe { _exit(0) }
        }
        FUZZ_PTR.store(data.as_ptr() as usize, Ordering::Relaxed);
        FUZZ_LEN.store(data.len(), Ordering::Relaxed);
        let a = A::decode(&mut Unstructured::new(data), true);
        let seq = SEQ.load(Ordering::Relaxed);
        if let Some(hit) = exec(&a, &t, &o) {
            let wanted = match &o.chase {
                Some(k) => *k == hit.key,
                None => !known.contains(&hit.key),
            };
            if wanted {
                if o.chase.is_none() {
                    emit_hit(Engine::Libfuzzer, &hit, &a, &t, seq);
                }
                // libFuzzer saves an input that ends in a crash, and can minimise it.
                REPORTING.store(true, Ordering::SeqCst);
                std::process::abort();
            }
        }
        FUZZ_PTR.store(0, Ordering::Relaxed);
    };
    let _ = fuzz::ONE.set(Box::new(one));
    std::process::exit(fuzz::drive(&opts.fuzzer_args))
}

#[cfg(not(feature = "libfuzzer"))]
pub(crate) fn run_libfuzzer<A: Gen>(_opts: &Opts, _lits: &Lits, _t: Target<A>) {
    eprintln!("edgecheck-harness: this build has no libFuzzer engine");
    std::process::exit(crate::protocol::EXIT_HARNESS_ERROR)
}

#[cfg(feature = "libfuzzer")]
mod fuzz {
    use std::ffi::CString;
    use std::os::raw::{c_char, c_int};
    use std::sync::OnceLock;

    // Links libFuzzer (built by libfuzzer-sys); this harness drives it with its own callback.
    use libfuzzer_sys as _;

    extern "C" {
        fn LLVMFuzzerRunDriver(
            argc: *mut c_int,
            argv: *mut *mut *mut c_char,
            cb: extern "C" fn(*const u8, usize) -> c_int,
        ) -> c_int;
    }

    /// libfuzzer-sys's `LLVMFuzzerTestOneInput` refers to this; libFuzzer calls `callback` instead.
    #[no_mangle]
    pub extern "C" fn rust_fuzzer_test_input(_bytes: &[u8]) -> i32 {
        0
    }

    pub static ONE: OnceLock<Box<dyn Fn(&[u8]) + Send + Sync>> = OnceLock::new();

    extern "C" fn callback(data: *const u8, size: usize) -> c_int {
        let bytes = if size == 0 || data.is_null() {
            &[][..]
        } else {
            // SAFETY: libFuzzer passes a buffer of `size` bytes, alive during the call.
            unsafe { std::slice::from_raw_parts(data, size) }
        };
        if let Some(f) = ONE.get() {
            f(bytes);
        }
        0
    }

    /// Runs libFuzzer with these arguments (the first is the program name); returns its exit code.
    pub fn drive(args: &[String]) -> i32 {
        let owned: Vec<CString> = args
            .iter()
            .map(|a| CString::new(a.as_str()).unwrap_or_default())
            .collect();
        let mut ptrs: Vec<*mut c_char> = owned.iter().map(|c| c.as_ptr() as *mut c_char).collect();
        ptrs.push(std::ptr::null_mut());
        let mut argc = args.len() as c_int;
        let mut argv = ptrs.as_mut_ptr();
        // SAFETY: argv points at NUL-terminated strings that outlive the call.
        unsafe { LLVMFuzzerRunDriver(&mut argc, &mut argv, callback) }
    }
}
