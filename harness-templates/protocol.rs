//! The harness protocol: the options cargo-edgecheck hands a harness process (one JSON object,
//! as the first argument or in `EDGECHECK_HARNESS_OPTS`) and what the process writes back (one
//! JSON object per line: events in the results file, the input in flight in the record file).
//!
//! The same file is compiled into the tool (`src/protocol.rs`) and into every harness, so the
//! two sides agree by construction; an unknown key is an error, never a silent default.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A way of producing inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// Deterministic boundary values and the literals of the changed code.
    Edge,
    /// Random inputs biased toward edge values, with shrinking.
    Proptest,
    /// Coverage-guided fuzzing with libFuzzer (an instrumented second build of the harness).
    Libfuzzer,
}

impl Engine {
    pub const ALL: [Engine; 3] = [Engine::Edge, Engine::Proptest, Engine::Libfuzzer];

    /// The name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Edge => "edge",
            Engine::Proptest => "proptest",
            Engine::Libfuzzer => "libfuzzer",
        }
    }
}

/// Which version of the function: after the change (`head`) or before it (`base`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    #[default]
    Head,
    Base,
}

/// What a replay of one input from a file does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplaySide {
    /// Both versions, as in a run.
    #[default]
    Head,
    /// The base only, reporting what it did.
    Base,
    /// No call: only the arguments, rendered.
    Render,
}

/// How a call went wrong, as the harness sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A panic was caught.
    Panic,
    /// Head and base returned different values.
    Divergence,
    /// One call ran past the per-input timeout.
    Timeout,
    /// One call went past the memory limit.
    Oom,
    /// The process ended in a way the runtime could not tell apart (a memory error found by
    /// AddressSanitizer, libFuzzer's "deadly signal" before the replay says which).
    Crash,
    /// The code called `process::exit` (with any status, 0 included).
    Exit,
    /// The process aborted: `process::abort`, a stack overflow, a panic while panicking.
    Abort,
    /// A signal other than SIGABRT ended the process (SIGSEGV, SIGBUS, SIGILL, SIGKILL, ...).
    Signal,
}

impl Kind {
    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Panic => "panic",
            Kind::Divergence => "divergence",
            Kind::Timeout => "timeout",
            Kind::Oom => "oom",
            Kind::Crash => "crash",
            Kind::Exit => "exit",
            Kind::Abort => "abort",
            Kind::Signal => "signal",
        }
    }
}

/// Exit status of a harness process that reported a hang itself.
pub const EXIT_TIMEOUT: i32 = 70;
/// Exit status of a harness process that reported an out-of-memory input itself.
pub const EXIT_OOM: i32 = 71;
/// The exit status libFuzzer is told to use for its own timeouts (the runtime's come first).
pub const EXIT_FUZZER_TIMEOUT: i32 = 72;
/// The harness could not start (bad options, an unwritable results file): the tool's fault,
/// not the code under test's. Its stderr says why, on a line starting `edgecheck-harness:`.
pub const EXIT_HARNESS_ERROR: i32 = 73;
/// The exit status libFuzzer is told to use when it stops at a crash.
pub const EXIT_FUZZER_CRASH: i32 = 77;

/// The options of one harness process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// The generated target to run (`t3`).
    pub target: String,
    pub engines: Vec<Engine>,
    pub budget_ms: u64,
    pub timeout_ms: u64,
    pub seed: u64,
    /// Where events go, one per line.
    pub results: PathBuf,
    pub malloc_limit_mb: usize,
    /// Floats compare by bits, so `NaN` equals `NaN` and `-0.0` differs from `0.0`.
    pub strict_floats: bool,
    /// Where the bytes of an input in flight go when it hangs or runs out of memory.
    pub input_dump: Option<PathBuf>,
    /// libFuzzer: findings already known (their keys), not to stop for again.
    #[serde(default)]
    pub known: Vec<String>,
    /// libFuzzer: where to write the seed inputs and the dictionary before fuzzing.
    pub seeds_dir: Option<PathBuf>,
    pub dict: Option<PathBuf>,
    /// Replay after a crash: write every input here ([`Recorded`]) before calling.
    pub record: Option<PathBuf>,
    /// In a replay: how many inputs the edge engine ran in the original run.
    pub edge_execs: Option<u64>,
    /// Replay to check the base: run the same inputs, and at this input call the base version
    /// only, report what it did and stop.
    pub base_at: Option<u64>,
    /// Run one input read from this file instead of the engines.
    pub replay_input: Option<PathBuf>,
    #[serde(default)]
    pub replay_side: ReplaySide,
    /// libFuzzer crash minimisation: only this finding counts as a crash.
    pub chase: Option<String>,
}

/// A caught panic: its message and where it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Panic {
    pub message: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
    /// Where the panic happened when that is std or a dependency (`file` is then the user's
    /// line that called into it).
    pub origin: Option<String>,
}

/// What one call of one version did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It returned; the observation of its result, when the result is observable.
    Returned(Option<String>),
    Panicked(Panic),
}

/// A failure found on one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub engine: Engine,
    pub kind: Kind,
    /// The version that failed.
    pub side: Side,
    pub message: String,
    /// The caught panic, for [`Kind::Panic`].
    pub panic: Option<Panic>,
    /// The arguments as Rust source, when they could be rendered.
    pub args: Option<Vec<String>>,
    /// The input's position in the process's sequence, for replays.
    pub seq: Option<u64>,
    /// Milliseconds since the process started.
    pub elapsed_ms: u64,
    /// The bytes of the libFuzzer input in flight, written to this file.
    pub input_file: Option<PathBuf>,
    /// What the base did on the same input, when it was called.
    pub base: Option<Outcome>,
    /// What the head did (for a divergence, the value it returned).
    pub head: Option<Outcome>,
    /// The harness's name for the failure (where and how), to chase it while minimising.
    pub key: Option<String>,
}

/// One line of the results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    Finding(Box<Finding>),
    /// How many inputs an engine ran.
    Stats {
        engine: Engine,
        execs: u64,
    },
    /// What the base did at the input a base-check replay stopped at.
    BaseCheck {
        seq: u64,
        base: Option<Outcome>,
        /// The input the base was called on, rendered: the tool checks it is the finding's.
        #[serde(default)]
        args: Option<Vec<String>>,
    },
    /// The arguments decoded from a replayed input file.
    Decoded {
        args: Vec<String>,
    },
    /// A version returned different values when called again on the same input (beyond the
    /// order of a sequence): results are no longer compared for this target.
    Nondeterministic {
        side: Side,
        args: Vec<String>,
    },
}

/// The record file of a crash replay: the input about to be called, rewritten before each call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    pub seq: u64,
    pub args: Vec<String>,
}
