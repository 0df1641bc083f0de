//! Calling a target on one input (head, then base) and the edge and proptest engines.

use super::*;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fs::OpenOptions;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use crate::protocol::{Engine, Event, Finding, Kind, Outcome, Recorded, Side};

/// One generated target: how to render an input, and how to call each version on it. A call
/// returns the observation of its result when `observe` is set (only needed to compare).
#[derive(Clone, Copy)]
pub struct Target<A> {
    pub render: fn(&A) -> Vec<String>,
    pub head: fn(&A, bool) -> Option<String>,
    pub base: Option<fn(&A, bool) -> Option<String>>,
}

/// Calls one version on one input, catching a panic; the input is visible to the watchdog and
/// the allocation limit while the call runs.
pub(crate) fn call_side<A: Gen>(
    a: &A,
    t: &Target<A>,
    side: Side,
    seq: u64,
    observe: bool,
) -> Outcome {
    let f = if side == Side::Base {
        t.base.expect("base is called only when there is one")
    } else {
        t.head
    };
    let render = t.render;
    let renderer = move || render(a);
    let renderer_ref: &(dyn Fn() -> Vec<String> + Sync + '_) = &renderer;
    {
        let mut cur = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
        *cur = Some(InFlight {
            // SAFETY (lifetime erasure): cleared below, before `renderer` goes out of scope.
            render: unsafe {
                std::mem::transmute::<&(dyn Fn() -> Vec<String> + Sync + '_), *const Renderer>(
                    renderer_ref,
                )
            },
            started: Instant::now(),
            seq,
            side,
        });
    }
    LAST_PANIC.with(|p| p.borrow_mut().take());
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| f(a, observe)));
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = None;
    match outcome {
        Ok(v) => Outcome::Returned(v),
        Err(payload) => {
            let caught = LAST_PANIC.with(|p| p.borrow_mut().take());
            // No capture: the code under test replaced the panic hook (`panic::set_hook`). The
            // payload still has the message; the location went with the hook.
            let caught = caught.unwrap_or_else(|| Caught {
                message: payload_message(&*payload),
                file: String::new(),
                line: 0,
                column: 0,
                origin: None,
            });
            drop(payload);
            Outcome::Panicked(caught)
        }
    }
}

/// What an input revealed, if anything: a head panic (with what the base did), or a divergence.
#[derive(Clone, Debug)]
pub(crate) struct Hit {
    /// Deduplication key: the head panic's location, or `divergence`.
    pub(crate) key: String,
    pub(crate) head: Outcome,
    pub(crate) base: Option<Outcome>,
}

/// Runs head (and base, when there is one) on one input.
/// A crate type's constructor refused the generated arguments (the tool's `REJECT_MESSAGE`):
/// the input is passed over, not a finding.
pub(crate) const REJECTED: &str = "edgecheck: input rejected by the type's constructor";

pub(crate) fn exec<A: Gen>(a: &A, t: &Target<A>, opts: &Opts) -> Option<Hit> {
    EXECS.fetch_add(1, Ordering::Relaxed);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    if let Some(path) = &opts.record {
        let line = serde_json::to_string(&Recorded {
            seq,
            args: (t.render)(a),
        })
        .unwrap_or_default();
        let _ = std::fs::write(path, line);
    }
    if opts.base_at == Some(seq) {
        let base = t.base.map(|_| call_side(a, t, Side::Base, seq, false));
        emit(&Event::BaseCheck {
            seq,
            base,
            args: Some((t.render)(a)),
        });
        std::process::exit(0);
    }
    let compare = t.base.is_some() && !RESULTS_UNCOMPARABLE.load(Ordering::Relaxed);
    let head = call_side(a, t, Side::Head, seq, compare);
    let base = t.base.map(|_| call_side(a, t, Side::Base, seq, compare));
    match (&head, &base) {
        (Outcome::Panicked(c), _) if c.message == REJECTED => None,
        (_, Some(Outcome::Panicked(c))) if c.message == REJECTED => None,
        (Outcome::Panicked(c), _) => Some(Hit {
            key: c.key(),
            head,
            base,
        }),
        (Outcome::Returned(Some(h)), Some(Outcome::Returned(Some(b))))
            if h != b && diverges(a, t, seq, h, b) =>
        {
            Some(Hit {
                key: "divergence".into(),
                head,
                base,
            })
        }
        _ => None,
    }
}

/// Set when a version's result is not a function of its input: results are then not
/// compared (panics still are).
pub(crate) static RESULTS_UNCOMPARABLE: AtomicBool = AtomicBool::new(false);
/// Set when results vary only in the order of their sequences: they compare order-free.
pub(crate) static ORDER_FREE: AtomicBool = AtomicBool::new(false);
/// Set once a divergence was confirmed with many calls: later ones need fewer.
static DIVERGENCE_CONFIRMED: AtomicBool = AtomicBool::new(false);

/// Whether head's `h` and base's `b` on input `a` are a divergence, not nondeterminism: each
/// version is called again on the same input (several times the first time, as a map of two
/// keys keeps its order by chance half the time). A version that disagrees with itself only in
/// the order of its sequences (a `Vec` built from a `HashMap`) is compared order-free from then
/// on; one that disagrees otherwise stops the comparison of results for the target.
fn diverges<A: Gen>(a: &A, t: &Target<A>, seq: u64, h: &str, b: &str) -> bool {
    if ORDER_FREE.load(Ordering::Relaxed) && order_free(h) == order_free(b) {
        return false;
    }
    let again = if DIVERGENCE_CONFIRMED.load(Ordering::Relaxed) {
        1
    } else {
        8
    };
    let mut varies = None;
    let mut order_only = true;
    for _ in 0..again {
        for (side, first) in [(Side::Head, h), (Side::Base, b)] {
            if let Outcome::Returned(Some(v)) = call_side(a, t, side, seq, true) {
                if v != first {
                    varies.get_or_insert(side);
                    order_only &= order_free(&v) == order_free(first);
                }
            }
        }
    }
    match varies {
        None => {
            DIVERGENCE_CONFIRMED.store(true, Ordering::Relaxed);
            true
        }
        Some(_) if order_only => {
            ORDER_FREE.store(true, Ordering::Relaxed);
            order_free(h) != order_free(b)
        }
        Some(side) => {
            if !RESULTS_UNCOMPARABLE.swap(true, Ordering::Relaxed) {
                emit(&Event::Nondeterministic {
                    side,
                    args: (t.render)(a),
                });
            }
            false
        }
    }
}

pub(crate) fn emit_hit<A: Gen>(engine: Engine, hit: &Hit, a: &A, t: &Target<A>, seq: u64) {
    let (kind, message, panic) = match &hit.head {
        Outcome::Panicked(c) => (Kind::Panic, c.message.clone(), Some(c.clone())),
        Outcome::Returned(_) => (Kind::Divergence, String::new(), None),
    };
    emit(&Event::Finding(Box::new(Finding {
        engine,
        kind,
        side: Side::Head,
        message,
        panic,
        args: Some((t.render)(a)),
        seq: Some(seq),
        elapsed_ms: elapsed_ms(),
        input_file: None,
        base: hit.base.clone(),
        head: Some(hit.head.clone()),
        key: Some(hit.key.clone()),
    })));
}

/// How many inputs `engine` ran.
pub(crate) fn emit_stats(engine: Engine) {
    emit(&Event::Stats {
        engine,
        execs: EXECS.load(Ordering::Relaxed),
    });
}

pub(crate) fn set_engine(engine: Engine) {
    *ENGINE.lock().unwrap_or_else(|e| e.into_inner()) = engine;
}

/// Runs the selected engines on one target within its budget.
pub fn run<A: Gen>(opts: &Opts, lits: &Lits, target: Target<A>) {
    START.get_or_init(Instant::now);
    // Created here, to fail early; `emit` opens it again for each event.
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(&opts.results)
        .unwrap_or_else(|e| {
            eprintln!(
                "edgecheck-harness: cannot open {}: {e}",
                opts.results.display()
            );
            std::process::exit(crate::protocol::EXIT_HARNESS_ERROR)
        });
    let _ = RESULTS.set(Mutex::new(opts.results.clone()));
    install_panic_hook();
    LIMIT_BYTES.store(opts.malloc_limit_mb << 20, Ordering::Relaxed);
    start_watchdog(opts.timeout);
    if let Some(path) = &opts.input_dump {
        let _ = INPUT_DUMP.set(path.clone());
    }
    let has = |e: Engine| opts.engines.contains(&e);
    if let Some(path) = &opts.replay_input {
        set_engine(Engine::Libfuzzer);
        return replay_bytes(opts, &target, path);
    }
    if has(Engine::Libfuzzer) {
        return run_libfuzzer(opts, lits, target);
    }
    let deadline = Instant::now() + opts.budget;
    let mut known: HashSet<String> = HashSet::new();
    // The tool runs the edge engine in a process of its own, so it has the whole budget.
    if has(Engine::Edge) {
        set_engine(Engine::Edge);
        run_edge(opts, lits, &target, deadline, &mut known);
    }
    if has(Engine::Proptest) && known.len() < MAX_FINDINGS {
        set_engine(Engine::Proptest);
        EXECS.store(0, Ordering::Relaxed);
        run_proptest(opts, lits, &target, deadline, &mut known);
    }
}

pub(crate) fn run_edge<A: Gen>(
    opts: &Opts,
    lits: &Lits,
    t: &Target<A>,
    deadline: Instant,
    known: &mut HashSet<String>,
) {
    EXECS.store(0, Ordering::Relaxed);
    let inputs = A::edges_capped(lits, TOP_EDGE_CAP);
    for (i, a) in inputs.iter().enumerate() {
        // A replay runs exactly the inputs of the original run; a run stops at its deadline.
        match opts.edge_execs {
            Some(n) if i as u64 >= n => break,
            None if i % 64 == 0 && Instant::now() > deadline => break,
            _ => {}
        }
        let seq = SEQ.load(Ordering::Relaxed);
        if let Some(hit) = exec(a, t, opts) {
            if known.insert(hit.key.clone()) {
                emit_hit(Engine::Edge, &hit, a, t, seq);
                if known.len() >= MAX_FINDINGS {
                    break;
                }
            }
        }
    }
    emit_stats(Engine::Edge);
}

pub(crate) fn run_proptest<A: Gen>(
    opts: &Opts,
    lits: &Lits,
    t: &Target<A>,
    deadline: Instant,
    known: &mut HashSet<String>,
) {
    let strategy = A::strategy(lits);
    let mut batch: u64 = 0;
    while Instant::now() < deadline && known.len() < MAX_FINDINGS {
        // Shrinking ends with the process's time too (0 would be no limit): the tool stops a
        // process past its time, and an input shrunk less is better than none.
        let left_ms = deadline
            .saturating_duration_since(Instant::now())
            .as_millis();
        let config = Config {
            cases: 256,
            failure_persistence: None,
            max_shrink_iters: 4096,
            max_shrink_time: left_ms.clamp(1, 3000) as u32,
            max_global_rejects: 1 << 20,
            verbose: 0,
            ..Config::default()
        };
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&opts.seed.to_le_bytes());
        seed[8..16].copy_from_slice(&batch.to_le_bytes());
        batch += 1;
        let mut runner =
            TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
        // The first new hit of a batch is the one shrinking follows; other hits met while
        // shrinking count as passes so that the minimal input keeps the same bug.
        let chased: RefCell<Option<String>> = RefCell::new(None);
        let known_now = known.clone();
        let result = runner.run(&strategy, |a| {
            if Instant::now() > deadline && chased.borrow().is_none() {
                return Ok(());
            }
            match exec(&a, t, opts) {
                None => Ok(()),
                Some(h) if known_now.contains(&h.key) => Ok(()),
                Some(h) => {
                    let mut chased = chased.borrow_mut();
                    match &*chased {
                        None => {
                            *chased = Some(h.key.clone());
                            Err(TestCaseError::fail(h.key))
                        }
                        Some(k) if *k == h.key => Err(TestCaseError::fail(h.key)),
                        Some(_) => Ok(()),
                    }
                }
            }
        });
        if let Err(TestError::Fail(_, minimal)) = result {
            let seq = SEQ.load(Ordering::Relaxed);
            match exec(&minimal, t, opts) {
                Some(hit) if known.insert(hit.key.clone()) => {
                    emit_hit(Engine::Proptest, &hit, &minimal, t, seq)
                }
                Some(_) => {}
                // Flaky: the minimal input passed on replay; remember the key anyway.
                None => {
                    if let Some(k) = chased.into_inner() {
                        known.insert(k);
                    }
                }
            }
        }
    }
    emit_stats(Engine::Proptest);
}
