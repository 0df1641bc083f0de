//! The harness runtime, compiled here as it is copied into every harness: the libFuzzer engine
//! reads inputs from bytes and is seeded with the edge values written as bytes, so decoding what
//! was encoded must give the same value back, for every type the harness generates.

// As in the harness's `main.rs`; `libfuzzer` is a feature of the harness, not of this crate.
#![allow(dead_code, unused_imports, irrefutable_let_patterns, unexpected_cfgs)]

#[path = "../harness-templates/protocol.rs"]
mod protocol;

// The runtime's root module (`harness-templates/runtime.rs`) declares these same modules; they
// are declared here so their files resolve from this test.
#[path = "../harness-templates/runtime"]
mod runtime {
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
}

use std::collections::{BTreeMap, BTreeSet, HashMap};

use runtime::{Bytes, Gen, Lits, Unstructured};

/// A vocabulary like the tool mines from a crate: literals, lengths, a multi-byte string.
static LITS: Lits = Lits {
    ints: &[0, 7, 255, 4096, -40],
    floats: &[1.5, -0.25],
    strs: &["key=", "é", "Content-Length: "],
    bytes: &[b"GIF89a", b""],
    chars: &['é', '\u{10FFFF}'],
    lens: &[3, 60],
};

/// Every edge value of `T` read back from its bytes, as the last value of an input (taking the
/// rest) and as an earlier one (carrying its length), is the value written.
fn round_trips<T: Gen + PartialEq>(same: impl Fn(&T, &T) -> bool) -> usize {
    let edges = T::edges_capped(&LITS, 2000);
    assert!(
        !edges.is_empty(),
        "{} has edge values",
        std::any::type_name::<T>()
    );
    for v in &edges {
        for last in [true, false] {
            let mut bytes = Vec::new();
            v.encode(&mut bytes, last);
            let back = T::decode(&mut Unstructured::new(&bytes), last);
            assert!(
                same(v, &back),
                "{} (last: {last}): {v:?} was written as {bytes:?} and read back as {back:?}",
                std::any::type_name::<T>()
            );
        }
    }
    edges.len()
}

fn eq<T: PartialEq>(a: &T, b: &T) -> bool {
    a == b
}

#[test]
fn scalars_read_back_as_written() {
    round_trips::<u8>(eq);
    round_trips::<i32>(eq);
    round_trips::<u64>(eq);
    round_trips::<i128>(eq);
    round_trips::<usize>(eq);
    round_trips::<bool>(eq);
    round_trips::<char>(eq);
    round_trips::<()>(eq);
    // NaN is not equal to itself: floats compare by their bits.
    round_trips::<f64>(|a, b| a.to_bits() == b.to_bits());
    round_trips::<f32>(|a, b| a.to_bits() == b.to_bits());
}

#[test]
fn text_and_collections_read_back_as_written() {
    let strings = round_trips::<String>(eq);
    assert!(strings > 20, "strings include the vocabulary's variants");
    round_trips::<Vec<u8>>(eq);
    round_trips::<Vec<String>>(eq);
    round_trips::<Option<u32>>(eq);
    round_trips::<Result<u8, String>>(eq);
    round_trips::<Box<u16>>(eq);
    round_trips::<[u8; 3]>(eq);
    round_trips::<BTreeMap<String, u32>>(eq);
    round_trips::<BTreeSet<i8>>(eq);
    round_trips::<HashMap<u8, bool>>(eq);
}

#[test]
fn tuples_of_arguments_read_back_as_written() {
    round_trips::<(u8, String)>(eq);
    round_trips::<(String, usize, bool)>(eq);
    round_trips::<(Vec<u8>, Option<char>)>(eq);
}

#[test]
fn short_inputs_read_as_zeros_never_fail() {
    for bytes in [&b""[..], &[0xff], &[1, 2]] {
        let _ = <(String, u64, Vec<u8>)>::decode(&mut Unstructured::new(bytes), true);
        let _ = <char>::decode(&mut Unstructured::new(bytes), false);
    }
}

#[test]
fn this_test_compiles_every_module_of_the_runtime() {
    let root = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/harness-templates/runtime.rs"
    ))
    .unwrap();
    let declared: Vec<&str> = root
        .lines()
        .filter_map(|l| l.strip_prefix("mod ")?.strip_suffix(';'))
        .collect();
    assert_eq!(
        declared,
        ["bytes", "engines", "fuzzing", "gen", "inflight", "observe", "report"]
    );
}
