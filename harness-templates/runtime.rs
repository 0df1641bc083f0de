//! Runtime of a generated edgecheck harness: typed input generation (edge values and proptest
//! strategies), the engines, panic capture, the per-input watchdog and the report lines the
//! tool reads back. Copied verbatim into every harness; the per-target code lives in `targets/`.
//!
//! One module per job: `gen` (edge values and strategies), `bytes` (fuzzer bytes), `observe`
//! (results to compare), `report` (options, events, panic capture), `inflight` (watchdog and
//! memory limit), `engines` (calling a target; the edge and proptest engines) and `fuzzing`
//! (the libFuzzer engine). Everything is re-exported here, as the generated code names it.

mod bytes;
mod engines;
mod fuzzing;
mod gen;
mod inflight;
mod observe;
mod report;

pub(crate) use bytes::*;
pub(crate) use engines::*;
pub(crate) use fuzzing::*;
pub(crate) use gen::*;
pub(crate) use inflight::*;
pub(crate) use observe::*;
pub(crate) use report::*;
