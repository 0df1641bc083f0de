//! Runtime of a generated edgecheck harness: typed input generation (edge values and proptest
//! strategies), the engines, panic capture, the per-input watchdog and the report lines the
//! tool reads back. Copied verbatim into every harness; the per-target code lives in `targets/`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::hash::Hash;
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use proptest::strategy::{BoxedStrategy, Just, Strategy};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

/// Literal values mined from the changed function's body, the functions it calls, the constants
/// it names and the arguments the crate's tests and examples pass it.
pub struct Lits {
    pub ints: &'static [i128],
    pub floats: &'static [f64],
    pub strs: &'static [&'static str],
    pub bytes: &'static [&'static [u8]],
    pub chars: &'static [char],
    /// Lengths the code compares a `.len()` against.
    pub lens: &'static [usize],
}

/// Longest length from a `.len()` comparison that inputs are built for.
const MAX_LEN_EDGE: usize = 4096;

/// String literals whose affixed variants come before the vocabulary strings.
const AFFIXED_FIRST: usize = 24;
/// Edge values a proptest strategy mixes in (the rest of its inputs are random).
const STRATEGY_EDGE_CAP: usize = 1024;

/// How many top-level argument combinations the edge engine tries at most.
const TOP_EDGE_CAP: usize = 60_000;
/// How many edge values a type nested inside another contributes.
const NESTED_EDGE_CAP: usize = 48;
/// Distinct findings per target after which the engines stop looking.
const MAX_FINDINGS: usize = 8;

/// A type the harness can generate: deterministic edge values, a random strategy biased toward
/// those edges, and Rust source that rebuilds a value (for reports and regression tests).
pub trait Gen: Bytes + Clone + std::fmt::Debug + Sync + 'static {
    /// Edge values, simplest first, at most about `cap` of them.
    fn edges_capped(l: &Lits, cap: usize) -> Vec<Self>;
    fn edges(l: &Lits) -> Vec<Self> {
        Self::edges_capped(l, NESTED_EDGE_CAP)
    }
    fn strategy(l: &Lits) -> BoxedStrategy<Self>;
    /// A Rust expression of this (owned) type that evaluates to `self`.
    fn src(&self) -> String;
    /// Extra whole sequences to try for `Vec<Self>`/`&[Self]` (byte strings for `u8`).
    fn seq_lits(_l: &Lits) -> Vec<Vec<Self>> {
        Vec::new()
    }
}

fn push_unique<T: PartialEq>(out: &mut Vec<T>, v: T) {
    if !out.contains(&v) {
        out.push(v);
    }
}

/// Union of the edge values (weight 1) and a broader strategy (weight 2).
fn biased<T: Clone + std::fmt::Debug + 'static>(edges: Vec<T>, broad: BoxedStrategy<T>) -> BoxedStrategy<T> {
    if edges.is_empty() {
        return broad;
    }
    proptest::prop_oneof![1 => proptest::sample::select(edges), 2 => broad].boxed()
}

macro_rules! gen_int {
    ($($t:ident),*) => {$(
        impl Gen for $t {
            fn edges_capped(l: &Lits, cap: usize) -> Vec<Self> {
                let mut out: Vec<$t> = Vec::new();
                for v in [0i128, 1, -1] {
                    if let Ok(v) = <$t>::try_from(v) { push_unique(&mut out, v); }
                }
                push_unique(&mut out, <$t>::MAX);
                push_unique(&mut out, <$t>::MIN);
                for lit in l.ints {
                    for v in [*lit, lit.wrapping_sub(1), lit.wrapping_add(1)] {
                        if let Ok(v) = <$t>::try_from(v) { push_unique(&mut out, v); }
                    }
                }
                push_unique(&mut out, <$t>::MAX - 1);
                push_unique(&mut out, <$t>::MIN + 1);
                let more: [i128; 30] = [
                    2, -2, 3, 4, 5, 7, 8, 10, 16, 31, 32, 63, 64, 100, 127, 128, 255, 256, 1000,
                    1024, 4096, 65535, 65536, i32::MAX as i128, i32::MIN as i128,
                    u32::MAX as i128, 1 << 32, i64::MAX as i128, i64::MIN as i128, u64::MAX as i128,
                ];
                for v in more {
                    if let Ok(v) = <$t>::try_from(v) { push_unique(&mut out, v); }
                }
                // Values whose double, or whose square, just overflows.
                let half = <$t>::MAX / 2;
                push_unique(&mut out, half);
                push_unique(&mut out, half + 1);
                push_unique(&mut out, ((<$t>::MAX as f64).sqrt() as $t).saturating_add(1));
                out.truncate(cap.max(4));
                out
            }
            fn strategy(l: &Lits) -> BoxedStrategy<Self> {
                let small = (-16i32..=300).prop_filter_map("in range", |v| <$t>::try_from(v).ok());
                let broad = proptest::prop_oneof![1 => small, 3 => proptest::arbitrary::any::<$t>()].boxed();
                biased(Self::edges(l), broad)
            }
            fn src(&self) -> String {
                if *self == <$t>::MAX {
                    format!("{}::MAX", stringify!($t))
                } else if *self == <$t>::MIN && <$t>::MIN != 0 {
                    format!("{}::MIN", stringify!($t))
                } else {
                    format!("{}", self)
                }
            }
        }
    )*};
}
gen_int!(i8, i16, i32, i64, i128, isize, u16, u32, u64, u128, usize);

impl Gen for u8 {
    fn edges_capped(l: &Lits, cap: usize) -> Vec<Self> {
        let mut out: Vec<u8> = vec![0, 1, u8::MAX];
        for lit in l.ints {
            for v in [*lit, lit.wrapping_sub(1), lit.wrapping_add(1)] {
                if let Ok(v) = u8::try_from(v) {
                    push_unique(&mut out, v);
                }
            }
        }
        for v in [254u8, 2, 3, 7, 8, 10, 16, 31, 32, 48, 57, 65, 90, 97, 122, 127, 128, 0xC3, 0xF0] {
            push_unique(&mut out, v);
        }
        out.truncate(cap.max(4));
        out
    }
    fn strategy(l: &Lits) -> BoxedStrategy<Self> {
        biased(Self::edges(l), proptest::arbitrary::any::<u8>().boxed())
    }
    fn src(&self) -> String {
        format!("{}", self)
    }
    fn seq_lits(l: &Lits) -> Vec<Vec<Self>> {
        let mut out: Vec<Vec<u8>> = Vec::new();
        let seeds: Vec<Vec<u8>> = l
            .bytes
            .iter()
            .map(|b| b.to_vec())
            .chain(l.strs.iter().map(|s| s.as_bytes().to_vec()))
            .collect();
        for b in &seeds {
            push_unique(&mut out, b.clone());
            for extra in 1..=3usize {
                let mut longer = b.clone();
                longer.extend(std::iter::repeat(0u8).take(extra));
                push_unique(&mut out, longer);
            }
            let mut high = b.clone();
            high.extend([0xFF, 0xFF, 0xFF, 0xFF]);
            push_unique(&mut out, high);
            for k in 1..b.len() {
                push_unique(&mut out, b[..k].to_vec());
            }
        }
        // Lengths the code checks: exactly, one under, one over; a literal padded to them.
        for &n in l.lens.iter().filter(|n| **n <= MAX_LEN_EDGE).take(8) {
            for len in [n, n.saturating_sub(1), n + 1] {
                push_unique(&mut out, vec![0u8; len]);
            }
            for b in seeds.iter().filter(|b| b.len() < n).take(4) {
                let mut padded = b.clone();
                padded.resize(n, 0);
                push_unique(&mut out, padded);
            }
        }
        out
    }
}

macro_rules! gen_float {
    ($($t:ident),*) => {$(
        impl Gen for $t {
            fn edges_capped(l: &Lits, cap: usize) -> Vec<Self> {
                let mut out: Vec<$t> = Vec::new();
                let mut add = |v: $t| if !out.iter().any(|o: &$t| o.to_bits() == v.to_bits()) { out.push(v) };
                for v in [0.0, 1.0, -1.0, <$t>::NAN, <$t>::INFINITY, <$t>::NEG_INFINITY, -0.0] { add(v); }
                for lit in l.floats { add(*lit as $t); }
                for lit in l.ints { add(*lit as $t); }
                for v in [0.5, 2.0, -0.5, <$t>::MIN_POSITIVE, <$t>::MIN_POSITIVE / 2.0, <$t>::MAX, <$t>::MIN,
                          <$t>::EPSILON, 1.0 + <$t>::EPSILON, 100.0, 1e10, -1e10, 0.1, 255.0, 256.0] {
                    add(v);
                }
                out.truncate(cap.max(4));
                out
            }
            fn strategy(l: &Lits) -> BoxedStrategy<Self> {
                let broad = proptest::prop_oneof![
                    3 => proptest::arbitrary::any::<$t>(),
                    1 => (-1000i32..1000).prop_map(|v| v as $t),
                ].boxed();
                biased(Self::edges(l), broad)
            }
            fn src(&self) -> String {
                let t = stringify!($t);
                if self.is_nan() {
                    format!("{}::NAN", t)
                } else if self.is_infinite() {
                    format!("{}::{}", t, if *self > 0.0 { "INFINITY" } else { "NEG_INFINITY" })
                } else if *self == <$t>::MAX {
                    format!("{}::MAX", t)
                } else if *self == <$t>::MIN {
                    format!("{}::MIN", t)
                } else {
                    format!("{:?}", self)
                }
            }
        }
    )*};
}
gen_float!(f32, f64);

impl Gen for bool {
    fn edges_capped(_l: &Lits, _cap: usize) -> Vec<Self> {
        vec![false, true]
    }
    fn strategy(_l: &Lits) -> BoxedStrategy<Self> {
        proptest::arbitrary::any::<bool>().boxed()
    }
    fn src(&self) -> String {
        format!("{}", self)
    }
}

impl Gen for () {
    fn edges_capped(_l: &Lits, _cap: usize) -> Vec<Self> {
        vec![()]
    }
    fn strategy(_l: &Lits) -> BoxedStrategy<Self> {
        Just(()).boxed()
    }
    fn src(&self) -> String {
        "()".to_string()
    }
}

/// Characters that break code written for ASCII: multi-byte, 4-byte, combining, whitespace,
/// control, and the case-mapping oddities.
const EDGE_CHARS: &[char] = &[
    'a', ' ', 'é', '😀', '\0', 'Z', '0', '€', '\n', 'ß', 'İ', '\u{301}', '\t', '9', '\u{7f}', '\u{80}',
    '\u{10FFFF}', '\u{FEFF}', 'ǅ', '-', '#', '=', ':', '/', '\\', '"', '.', ',',
];

impl Gen for char {
    fn edges_capped(l: &Lits, cap: usize) -> Vec<Self> {
        let mut out: Vec<char> = Vec::new();
        for c in l.chars.iter().chain(EDGE_CHARS) {
            push_unique(&mut out, *c);
        }
        out.truncate(cap.max(4));
        out
    }
    fn strategy(l: &Lits) -> BoxedStrategy<Self> {
        let broad = proptest::prop_oneof![
            2 => proptest::char::range('a', 'z'),
            1 => proptest::char::range(' ', '~'),
            1 => proptest::arbitrary::any::<char>(),
        ]
        .boxed();
        biased(Self::edges(l), broad)
    }
    fn src(&self) -> String {
        format!("{:?}", self)
    }
}

/// Char boundaries of `s`, so prefixes of literals stay valid strings.
fn prefixes(s: &str) -> impl Iterator<Item = &str> {
    s.char_indices().skip(1).map(move |(i, _)| &s[..i])
}

impl Gen for String {
    fn edges_capped(l: &Lits, cap: usize) -> Vec<Self> {
        let mut out: Vec<String> = Vec::new();
        for s in ["", "a", " ", "é", "😀", "ab", "a b", "é😀", " a ", "\n", "0", "-1", "abc", "ß", "İ"] {
            push_unique(&mut out, s.to_string());
        }
        // Every literal as it is first; the variants of the first ones (the target's own come
        // first) before the vocabulary, of the rest after it.
        for lit in l.strs {
            push_unique(&mut out, lit.to_string());
        }
        let affixed = |out: &mut Vec<String>, lits: &[&str]| {
            for lit in lits {
                push_unique(out, format!("{lit}a"));
                push_unique(out, format!("a{lit}"));
                push_unique(out, format!("{lit}é"));
                push_unique(out, format!("é{lit}"));
                push_unique(out, format!(" {lit} "));
                push_unique(out, format!("{lit}{lit}"));
                for p in prefixes(lit) {
                    push_unique(out, p.to_string());
                }
            }
        };
        let (first, rest) = l.strs.split_at(l.strs.len().min(AFFIXED_FIRST));
        affixed(&mut out, first);
        for c in l.chars {
            push_unique(&mut out, c.to_string());
            push_unique(&mut out, format!("{c}a"));
            push_unique(&mut out, format!("a{c}"));
        }
        for s in [
            "a\u{301}", "\t\t", "Aé", "x😀y", "  ", "\r\n", "65536", "4294967296", "-0", "+1",
            "99999999999999999999", "1.5", "NaN", "a=b", "=", "#", "a:b", ":", "/", "ÿ", "日本語",
        ] {
            push_unique(&mut out, s.to_string());
        }
        for v in vocabulary_strings(l) {
            push_unique(&mut out, v);
        }
        affixed(&mut out, rest);
        push_unique(&mut out, "a".repeat(257));
        push_unique(&mut out, "é".repeat(100));
        out.truncate(cap.max(8));
        out
    }
    fn strategy(l: &Lits) -> BoxedStrategy<Self> {
        let chars = char::strategy(l);
        let built = proptest::collection::vec(chars, 0..24).prop_map(|cs| cs.into_iter().collect::<String>());
        let lits: Vec<String> = l.strs.iter().map(|s| s.to_string()).collect();
        let broad = if lits.is_empty() {
            built.boxed()
        } else {
            let around = (proptest::sample::select(lits), built.clone(), built.clone())
                .prop_map(|(lit, pre, post)| format!("{pre}{lit}{post}"));
            proptest::prop_oneof![2 => built, 1 => around].boxed()
        };
        biased(Self::edges_capped(l, STRATEGY_EDGE_CAP), broad)
    }
    fn src(&self) -> String {
        format!("String::from({:?})", self)
    }
}

/// Numbers written after a keyword (`size=`, `max-age:`): zero, minus one, and the values that
/// overflow the common integer types.
const NUMBER_TAILS: &[&str] = &[
    "0", "-1", "255", "256", "65536", "2147483647", "2147483648", "-2147483649", "4294967295",
    "-4294967295", "4294967296", "9223372036854775808", "18446744073709551615",
    "18446744073709551616", "99999999999999999999",
];

/// Strings built from the crate's own vocabulary: a literal's numbers at their bounds, a keyword
/// followed by a number near a type bound (also divided by one of the code's constants), the
/// lengths the code compares against (with a literal as prefix, and a two-byte character across
/// the boundary or across an offset the code uses), and literals with such a character across
/// those offsets.
fn vocabulary_strings(l: &Lits) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for lit in l.strs.iter().take(32) {
        for v in digit_variants(lit) {
            push_unique(&mut out, v);
        }
    }
    let mut tails: Vec<String> = NUMBER_TAILS.iter().map(|s| s.to_string()).collect();
    for c in l.ints.iter().filter(|c| (2..=1_000_000).contains(*c)).take(6) {
        for bound in [u16::MAX as i128, i32::MAX as i128, u32::MAX as i128, i64::MAX as i128, u64::MAX as i128] {
            tails.push((bound / c + 1).to_string());
        }
    }
    // Alone too: the whole input may be the number.
    let keywords: Vec<&str> = l.strs.iter().copied().filter(|s| !s.is_empty() && s.len() <= 32).take(16).collect();
    for lit in std::iter::once("").chain(keywords.iter().copied()) {
        for t in &tails {
            push_unique(&mut out, format!("{lit}{t}"));
        }
    }
    // A number followed by a unit the code knows (`18446744073709551615s`), and a number with a
    // separator the code looks for between two numbers (`1e-4294967295`, `1:4294967296`).
    for unit in keywords.iter().filter(|s| s.len() <= 8 && !s.bytes().any(|b| b.is_ascii_digit())) {
        for t in &tails {
            push_unique(&mut out, format!("{t}{unit}"));
        }
    }
    for c in l.chars.iter().filter(|c| c.is_ascii_graphic() && !c.is_ascii_digit()).take(8) {
        for t in &tails {
            push_unique(&mut out, format!("1{c}{t}"));
            push_unique(&mut out, format!("{t}{c}1"));
        }
    }
    let offsets: Vec<usize> = l.ints.iter().filter(|k| (1..=MAX_LEN_EDGE as i128).contains(*k)).take(8).map(|k| *k as usize).collect();
    let prefixes: Vec<&str> = std::iter::once("").chain(l.strs.iter().copied().filter(|s| s.len() <= 16).take(6)).collect();
    for &n in l.lens.iter().filter(|n| **n <= MAX_LEN_EDGE).take(8) {
        for p in prefixes.iter().filter(|p| p.len() <= n) {
            let rest = n - p.len();
            let fill = |k: usize, c: char| format!("{p}{}", c.to_string().repeat(k));
            push_unique(&mut out, fill(rest, 'a'));
            push_unique(&mut out, fill(rest, '0'));
            push_unique(&mut out, fill(rest + 1, 'a'));
            if rest >= 1 {
                push_unique(&mut out, fill(rest - 1, 'a'));
                push_unique(&mut out, format!("{}é", fill(rest - 1, 'a')));
            }
            if rest >= 2 {
                push_unique(&mut out, format!("{}é", fill(rest - 2, 'a')));
            }
            let full = fill(rest, 'a');
            for &k in &offsets {
                if let Some(s) = straddle(&full, k) {
                    push_unique(&mut out, s);
                }
            }
        }
    }
    for lit in l.strs.iter().filter(|s| s.len() >= 2).take(16) {
        for &k in &offsets {
            if let Some(s) = straddle(lit, k) {
                push_unique(&mut out, s);
            }
        }
    }
    out
}

/// `s` with its two ASCII bytes around offset `k` replaced by `é`: the same length, with byte
/// `k` inside a character.
fn straddle(s: &str, k: usize) -> Option<String> {
    let b = s.as_bytes();
    if k == 0 || k >= b.len() || !b[k - 1].is_ascii() || !b[k].is_ascii() {
        return None;
    }
    Some(format!("{}é{}", &s[..k - 1], &s[k + 1..]))
}

/// `s` with each of its first runs of digits written as zeros, as nines, one digit longer, as a
/// single zero, and as the bounds of the integer types: a formatted number at its bounds.
fn digit_variants(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            runs.push((start, i));
        } else {
            i += 1;
        }
    }
    let mut out = Vec::new();
    for (a, z) in runs.into_iter().take(4) {
        let n = z - a;
        let bounds = ["255", "65536", "2147483648", "4294967295", "4294967296", "18446744073709551616"];
        let written = ["0".repeat(n), "9".repeat(n), "9".repeat(n + 1), "0".to_string()];
        for digits in written.into_iter().chain(bounds.iter().map(|b| b.to_string())) {
            out.push(format!("{}{digits}{}", &s[..a], &s[z..]));
        }
    }
    out
}

impl<T: Gen> Gen for Vec<T> {
    fn edges_capped(l: &Lits, cap: usize) -> Vec<Self> {
        let e = T::edges(l);
        let mut out: Vec<Vec<T>> = vec![Vec::new()];
        let seqs = T::seq_lits(l);
        out.extend(seqs.iter().take(cap / 2).cloned());
        out.extend(e.iter().take(12).map(|a| vec![a.clone()]));
        for a in e.iter().take(4) {
            for b in e.iter().take(4) {
                out.push(vec![a.clone(), b.clone()]);
            }
        }
        for a in e.iter().take(3) {
            out.push(vec![a.clone(); 3]);
        }
        for n in [3usize, 5, 16] {
            if e.len() >= n {
                let v: Vec<T> = e[..n].to_vec();
                let mut r = v.clone();
                r.reverse();
                out.push(v);
                out.push(r);
            }
        }
        if let Some(a) = e.get(1).or(e.first()) {
            out.push(vec![a.clone(); 257]);
            for &n in l.lens.iter().filter(|n| **n <= MAX_LEN_EDGE).take(6) {
                for len in [n, n.saturating_sub(1), n + 1] {
                    out.push(vec![a.clone(); len]);
                }
            }
        }
        out.truncate(cap.max(8));
        out
    }
    fn strategy(l: &Lits) -> BoxedStrategy<Self> {
        let broad = proptest::collection::vec(T::strategy(l), 0..24).boxed();
        biased(Self::edges_capped(l, STRATEGY_EDGE_CAP), broad)
    }
    fn src(&self) -> String {
        format!("vec![{}]", join_src(self.iter()))
    }
}

fn join_src<'a, T: Gen>(items: impl Iterator<Item = &'a T>) -> String {
    items.map(|v| v.src()).collect::<Vec<_>>().join(", ")
}

impl<T: Gen, const N: usize> Gen for [T; N] {
    fn edges_capped(l: &Lits, cap: usize) -> Vec<Self> {
        let e = T::edges(l);
        if e.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<[T; N]> = e.iter().take(cap.max(2)).map(|a| std::array::from_fn(|_| a.clone())).collect();
        out.push(std::array::from_fn(|i| e[i % e.len()].clone()));
        out.push(std::array::from_fn(|i| e[(e.len() - 1) - (i % e.len())].clone()));
        out
    }
    fn strategy(l: &Lits) -> BoxedStrategy<Self> {
        let broad = proptest::collection::vec(T::strategy(l), N..=N)
            .prop_map(|v| match <[T; N]>::try_from(v) {
                Ok(a) => a,
                Err(_) => unreachable!("the strategy makes exactly N elements"),
            })
            .boxed();
        biased(Self::edges(l), broad)
    }
    fn src(&self) -> String {
        format!("[{}]", join_src(self.iter()))
    }
}

impl<T: Gen> Gen for Option<T> {
    fn edges_capped(l: &Lits, cap: usize) -> Vec<Self> {
        let mut out = vec![None];
        out.extend(T::edges_capped(l, cap.saturating_sub(1)).into_iter().map(Some));
        out
    }
    fn strategy(l: &Lits) -> BoxedStrategy<Self> {
        proptest::prop_oneof![1 => Just(None), 4 => T::strategy(l).prop_map(Some)].boxed()
    }
    fn src(&self) -> String {
        match self {
            None => "None".to_string(),
            Some(v) => format!("Some({})", v.src()),
        }
    }
}

impl<T: Gen, E: Gen> Gen for Result<T, E> {
    fn edges_capped(l: &Lits, cap: usize) -> Vec<Self> {
        let mut out: Vec<Self> = T::edges_capped(l, cap / 2).into_iter().map(Ok).collect();
        out.extend(E::edges_capped(l, cap / 2).into_iter().map(Err));
        out
    }
    fn strategy(l: &Lits) -> BoxedStrategy<Self> {
        proptest::prop_oneof![3 => T::strategy(l).prop_map(Ok), 1 => E::strategy(l).prop_map(Err)].boxed()
    }
    fn src(&self) -> String {
        match self {
            Ok(v) => format!("Ok({})", v.src()),
            Err(e) => format!("Err({})", e.src()),
        }
    }
}

impl<T: Gen> Gen for Box<T> {
    fn edges_capped(l: &Lits, cap: usize) -> Vec<Self> {
        T::edges_capped(l, cap).into_iter().map(Box::new).collect()
    }
    fn strategy(l: &Lits) -> BoxedStrategy<Self> {
        T::strategy(l).prop_map(Box::new).boxed()
    }
    fn src(&self) -> String {
        format!("Box::new({})", (**self).src())
    }
}

macro_rules! gen_map {
    ($map:ident, $ctor:path, $path:literal, $($bound:path),*) => {
        impl<K: Gen $(+ $bound)*, V: Gen> Gen for $map<K, V> {
            fn edges_capped(l: &Lits, cap: usize) -> Vec<Self> {
                let ks = K::edges(l);
                let vs = V::edges(l);
                let mut out = vec![$map::new()];
                for k in ks.iter().take(6) {
                    for v in vs.iter().take(3) {
                        out.push([(k.clone(), v.clone())].into_iter().collect());
                    }
                }
                if let (Some(v), true) = (vs.first(), ks.len() >= 2) {
                    out.push(ks.iter().take(8).map(|k| (k.clone(), v.clone())).collect());
                }
                out.truncate(cap.max(4));
                out
            }
            fn strategy(l: &Lits) -> BoxedStrategy<Self> {
                $ctor(K::strategy(l), V::strategy(l), 0..10).boxed()
            }
            fn src(&self) -> String {
                if self.is_empty() {
                    return format!("{}::new()", $path);
                }
                let entries: Vec<String> = self.iter().map(|(k, v)| format!("({}, {})", k.src(), v.src())).collect();
                format!("{}::from([{}])", $path, entries.join(", "))
            }
        }
    };
}
gen_map!(HashMap, proptest::collection::hash_map, "std::collections::HashMap", Hash, Eq);
gen_map!(BTreeMap, proptest::collection::btree_map, "std::collections::BTreeMap", Ord);

macro_rules! gen_set {
    ($set:ident, $ctor:path, $path:literal, $($bound:path),*) => {
        impl<K: Gen $(+ $bound)*> Gen for $set<K> {
            fn edges_capped(l: &Lits, cap: usize) -> Vec<Self> {
                let ks = K::edges(l);
                let mut out = vec![$set::new()];
                out.extend(ks.iter().take(10).map(|k| [k.clone()].into_iter().collect()));
                for n in [2usize, 3, 8] {
                    if ks.len() >= n {
                        out.push(ks.iter().take(n).cloned().collect());
                    }
                }
                out.truncate(cap.max(4));
                out
            }
            fn strategy(l: &Lits) -> BoxedStrategy<Self> {
                $ctor(K::strategy(l), 0..10).boxed()
            }
            fn src(&self) -> String {
                if self.is_empty() {
                    return format!("{}::new()", $path);
                }
                format!("{}::from([{}])", $path, join_src(self.iter()))
            }
        }
    };
}
gen_set!(HashSet, proptest::collection::hash_set, "std::collections::HashSet", Hash, Eq);
gen_set!(BTreeSet, proptest::collection::btree_set, "std::collections::BTreeSet", Ord);

/// Index tuples over lists of the given lengths, simplest first: every combination of the first
/// `k` values of each list comes before any that uses a later value, for growing `k`.
pub fn cube_order(lens: &[usize], cap: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    if lens.iter().any(|&n| n == 0) {
        return out;
    }
    let max_len = lens.iter().copied().max().unwrap_or(0);
    for level in 0..max_len {
        let mut idx = vec![0usize; lens.len()];
        loop {
            if idx.iter().any(|&i| i == level) {
                out.push(idx.clone());
                if out.len() >= cap {
                    return out;
                }
            }
            // Next index tuple in the (level+1)-cube clipped to each list's length.
            let mut pos = 0;
            loop {
                if pos == idx.len() {
                    break;
                }
                let limit = (level + 1).min(lens[pos]);
                idx[pos] += 1;
                if idx[pos] < limit {
                    break;
                }
                idx[pos] = 0;
                pos += 1;
            }
            if pos == idx.len() {
                break;
            }
        }
    }
    out
}

macro_rules! gen_tuple {
    ($(($($name:ident $idx:tt),+)),*) => {$(
        impl<$($name: Gen),+> Gen for ($($name,)+) {
            fn edges_capped(l: &Lits, cap: usize) -> Vec<Self> {
                // At the top, each argument's list gets about the k-th root of the cap (all of it
                // for one argument), so every vocabulary value of a lone `&str` is tried.
                let arity = [$($idx),+].len() as i32;
                let each = if cap >= TOP_EDGE_CAP {
                    ((cap as f64).powf(1.0 / f64::from(arity)) as usize).max(96)
                } else {
                    NESTED_EDGE_CAP
                };
                let lists = ($($name::edges_capped(l, each),)+);
                let lens = [$(lists.$idx.len()),+];
                cube_order(&lens, cap).into_iter().map(|ix| ($(lists.$idx[ix[$idx]].clone(),)+)).collect()
            }
            fn strategy(l: &Lits) -> BoxedStrategy<Self> {
                ($($name::strategy(l),)+).boxed()
            }
            fn src(&self) -> String {
                let parts: Vec<String> = vec![$(self.$idx.src()),+];
                if parts.len() == 1 { format!("({},)", parts[0]) } else { format!("({})", parts.join(", ")) }
            }
        }
    )*};
}
gen_tuple!(
    (A 0),
    (A 0, B 1),
    (A 0, B 1, C 2),
    (A 0, B 1, C 2, D 3),
    (A 0, B 1, C 2, D 3, E 4),
    (A 0, B 1, C 2, D 3, E 4, F 5),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
);

// ---------------------------------------------------------------------------------------------
// Fuzzer bytes: the libFuzzer engine reads every input from bytes through
// `arbitrary::Unstructured`, and the edge values are written back as seed inputs, so decoding
// and encoding must agree exactly. The last value of an input takes the rest of the bytes
// (as `arbitrary_take_rest` does), so that a mutation of a `&[u8]` or `&str` argument is a
// mutation of the input itself; earlier values carry their length.

use arbitrary::Unstructured;

/// A value that can be read from, and written as, fuzzer bytes. Reading never fails: missing
/// bytes read as zeros.
pub trait Bytes: Sized {
    fn decode(u: &mut Unstructured, last: bool) -> Self;
    fn encode(&self, out: &mut Vec<u8>, last: bool);
    /// Up to `n` values, as many as the bytes give, in an exact allocation (so that
    /// AddressSanitizer sees a read one past the end). Bytes override it with one copy.
    fn decode_many(u: &mut Unstructured, n: usize) -> Vec<Self> {
        let mut v = Vec::new();
        while v.len() < n && !u.is_empty() {
            v.push(Self::decode(u, false));
        }
        v.shrink_to_fit();
        v
    }
}

/// Most elements a decoded collection gets, so that short inputs cannot ask for huge ones.
const MAX_DECODED_LEN: usize = 4096;

fn fill<const N: usize>(u: &mut Unstructured) -> [u8; N] {
    let mut b = [0u8; N];
    let _ = u.fill_buffer(&mut b);
    b
}

fn decode_len(u: &mut Unstructured) -> usize {
    u16::from_le_bytes(fill(u)) as usize % (MAX_DECODED_LEN + 1)
}

fn encode_len(n: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(&(n.min(MAX_DECODED_LEN) as u16).to_le_bytes());
}

macro_rules! bytes_num {
    ($($t:ty),*) => {$(impl Bytes for $t {
        fn decode(u: &mut Unstructured, _last: bool) -> Self {
            <$t>::from_le_bytes(fill(u))
        }
        fn encode(&self, out: &mut Vec<u8>, _last: bool) {
            out.extend_from_slice(&self.to_le_bytes());
        }
    })*};
}
bytes_num!(i8, i16, i32, i64, i128, isize, u16, u32, u64, u128, usize, f32, f64);

impl Bytes for u8 {
    fn decode(u: &mut Unstructured, _last: bool) -> Self {
        fill::<1>(u)[0]
    }
    fn encode(&self, out: &mut Vec<u8>, _last: bool) {
        out.push(*self);
    }
    fn decode_many(u: &mut Unstructured, n: usize) -> Vec<Self> {
        let n = n.min(u.len());
        u.bytes(n).map(<[u8]>::to_vec).unwrap_or_default()
    }
}

impl Bytes for bool {
    fn decode(u: &mut Unstructured, _last: bool) -> Self {
        fill::<1>(u)[0] & 1 == 1
    }
    fn encode(&self, out: &mut Vec<u8>, _last: bool) {
        out.push(u8::from(*self));
    }
}

impl Bytes for () {
    fn decode(_u: &mut Unstructured, _last: bool) -> Self {}
    fn encode(&self, _out: &mut Vec<u8>, _last: bool) {}
}

impl Bytes for char {
    fn decode(u: &mut Unstructured, _last: bool) -> Self {
        let v = u32::from_le_bytes(fill(u));
        char::from_u32(v).or_else(|| char::from_u32(v % 0xD800)).unwrap_or('\0')
    }
    fn encode(&self, out: &mut Vec<u8>, _last: bool) {
        out.extend_from_slice(&(*self as u32).to_le_bytes());
    }
}

impl Bytes for String {
    fn decode(u: &mut Unstructured, last: bool) -> Self {
        let n = if last { u.len() } else { decode_len(u).min(u.len()) };
        let bytes = u.bytes(n).unwrap_or_default();
        String::from_utf8_lossy(bytes).into_owned()
    }
    fn encode(&self, out: &mut Vec<u8>, last: bool) {
        if !last {
            encode_len(self.len(), out);
        }
        out.extend_from_slice(self.as_bytes());
    }
}

impl<T: Bytes> Bytes for Vec<T> {
    fn decode(u: &mut Unstructured, last: bool) -> Self {
        let n = if last { MAX_DECODED_LEN } else { decode_len(u) };
        T::decode_many(u, n)
    }
    fn encode(&self, out: &mut Vec<u8>, last: bool) {
        if !last {
            encode_len(self.len(), out);
        }
        for x in self {
            x.encode(out, false);
        }
    }
}

impl<T: Bytes, const N: usize> Bytes for [T; N] {
    fn decode(u: &mut Unstructured, _last: bool) -> Self {
        std::array::from_fn(|_| T::decode(u, false))
    }
    fn encode(&self, out: &mut Vec<u8>, _last: bool) {
        for x in self {
            x.encode(out, false);
        }
    }
}

impl<T: Bytes> Bytes for Option<T> {
    fn decode(u: &mut Unstructured, last: bool) -> Self {
        (fill::<1>(u)[0] & 1 == 1).then(|| T::decode(u, last))
    }
    fn encode(&self, out: &mut Vec<u8>, last: bool) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.encode(out, last);
            }
        }
    }
}

impl<T: Bytes, E: Bytes> Bytes for Result<T, E> {
    fn decode(u: &mut Unstructured, last: bool) -> Self {
        if fill::<1>(u)[0] & 1 == 0 { Ok(T::decode(u, last)) } else { Err(E::decode(u, last)) }
    }
    fn encode(&self, out: &mut Vec<u8>, last: bool) {
        match self {
            Ok(v) => {
                out.push(0);
                v.encode(out, last);
            }
            Err(e) => {
                out.push(1);
                e.encode(out, last);
            }
        }
    }
}

impl<T: Bytes> Bytes for Box<T> {
    fn decode(u: &mut Unstructured, last: bool) -> Self {
        Box::new(T::decode(u, last))
    }
    fn encode(&self, out: &mut Vec<u8>, last: bool) {
        (**self).encode(out, last)
    }
}

macro_rules! bytes_collection {
    ($($coll:ident < $($p:ident),+ >),*) => {$(
        impl<$($p: Bytes + Clone),+> Bytes for $coll<$($p),+> where $coll<$($p),+>: FromIterator<bytes_item!($($p),+)> {
            fn decode(u: &mut Unstructured, _last: bool) -> Self {
                let n = fill::<1>(u)[0] as usize % 17;
                let mut items = Vec::new();
                for _ in 0..n {
                    if u.is_empty() {
                        break;
                    }
                    items.push(<bytes_item!($($p),+)>::decode(u, false));
                }
                items.into_iter().collect()
            }
            fn encode(&self, out: &mut Vec<u8>, _last: bool) {
                let items: Vec<bytes_item!($($p),+)> = bytes_iter!(self, $($p),+);
                out.push(items.len().min(16) as u8);
                for item in items.iter().take(16) {
                    item.encode(out, false);
                }
            }
        }
    )*};
}
macro_rules! bytes_item {
    ($k:ident) => { $k };
    ($k:ident, $v:ident) => { ($k, $v) };
}
macro_rules! bytes_iter {
    ($s:expr, $k:ident) => { $s.iter().cloned().collect() };
    ($s:expr, $k:ident, $v:ident) => { $s.iter().map(|(k, v)| (k.clone(), v.clone())).collect() };
}
bytes_collection!(HashMap<K, V>, BTreeMap<K, V>, HashSet<K>, BTreeSet<K>);

macro_rules! bytes_tuple {
    ($(($($name:ident $idx:tt),+; $lastidx:tt)),*) => {$(
        impl<$($name: Bytes),+> Bytes for ($($name,)+) {
            fn decode(u: &mut Unstructured, last: bool) -> Self {
                ($($name::decode(u, last && $idx == $lastidx),)+)
            }
            fn encode(&self, out: &mut Vec<u8>, last: bool) {
                $(self.$idx.encode(out, last && $idx == $lastidx);)+
            }
        }
    )*};
}
bytes_tuple!(
    (A 0; 0),
    (A 0, B 1; 1),
    (A 0, B 1, C 2; 2),
    (A 0, B 1, C 2, D 3; 3),
    (A 0, B 1, C 2, D 3, E 4; 4),
    (A 0, B 1, C 2, D 3, E 4, F 5; 5),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6; 6),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7; 7)
);

// ---------------------------------------------------------------------------------------------
// Observing results, to compare the changed code with the code before the change.

static STRICT_FLOATS: AtomicBool = AtomicBool::new(false);

/// A canonical text of a value of a std type: equal texts mean equal values, with NaN equal to
/// NaN, -0.0 equal to 0.0 (unless strict), and hash maps and sets independent of their order.
/// Head and base return the same std types, so their texts compare like `PartialEq` would.
pub trait Canon {
    fn canon(&self) -> String;
}

macro_rules! canon_display {
    ($($t:ty),*) => {$(impl Canon for $t { fn canon(&self) -> String { self.to_string() } })*};
}
canon_display!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, bool);

macro_rules! canon_float {
    ($($t:ty),*) => {$(impl Canon for $t {
        fn canon(&self) -> String {
            if self.is_nan() {
                "NaN".to_string()
            } else if *self == 0.0 && !STRICT_FLOATS.load(Ordering::Relaxed) {
                "0.0".to_string()
            } else {
                format!("{:?}", self)
            }
        }
    })*};
}
canon_float!(f32, f64);

macro_rules! canon_debug {
    ($($t:ty),*) => {$(impl Canon for $t { fn canon(&self) -> String { format!("{:?}", self) } })*};
}
canon_debug!(char, str, String, ());

impl<T: Canon + ?Sized> Canon for &T {
    fn canon(&self) -> String {
        (**self).canon()
    }
}
impl<T: Canon + ?Sized> Canon for &mut T {
    fn canon(&self) -> String {
        (**self).canon()
    }
}
impl<T: Canon + ?Sized> Canon for Box<T> {
    fn canon(&self) -> String {
        (**self).canon()
    }
}
impl Canon for std::borrow::Cow<'_, str> {
    fn canon(&self) -> String {
        format!("{:?}", self.as_ref())
    }
}
fn canon_seq<'a, T: Canon + 'a>(items: impl Iterator<Item = &'a T>) -> String {
    format!("[{}]", items.map(|v| v.canon()).collect::<Vec<_>>().join(", "))
}
impl<T: Canon> Canon for [T] {
    fn canon(&self) -> String {
        canon_seq(self.iter())
    }
}
impl<T: Canon> Canon for Vec<T> {
    fn canon(&self) -> String {
        canon_seq(self.iter())
    }
}
impl<T: Canon, const N: usize> Canon for [T; N] {
    fn canon(&self) -> String {
        canon_seq(self.iter())
    }
}
impl<T: Canon> Canon for std::collections::VecDeque<T> {
    fn canon(&self) -> String {
        canon_seq(self.iter())
    }
}
impl<T: Canon> Canon for Option<T> {
    fn canon(&self) -> String {
        match self {
            Some(v) => format!("Some({})", v.canon()),
            None => "None".to_string(),
        }
    }
}
impl<T: Canon, E: Canon> Canon for Result<T, E> {
    fn canon(&self) -> String {
        match self {
            Ok(v) => format!("Ok({})", v.canon()),
            Err(e) => format!("Err({})", e.canon()),
        }
    }
}
fn canon_sorted(mut items: Vec<String>) -> String {
    items.sort();
    format!("{{{}}}", items.join(", "))
}
impl<K: Canon, V: Canon, S> Canon for HashMap<K, V, S> {
    fn canon(&self) -> String {
        canon_sorted(self.iter().map(|(k, v)| format!("{}: {}", k.canon(), v.canon())).collect())
    }
}
impl<K: Canon, V: Canon> Canon for BTreeMap<K, V> {
    fn canon(&self) -> String {
        canon_sorted(self.iter().map(|(k, v)| format!("{}: {}", k.canon(), v.canon())).collect())
    }
}
impl<K: Canon, S> Canon for HashSet<K, S> {
    fn canon(&self) -> String {
        canon_sorted(self.iter().map(|k| k.canon()).collect())
    }
}
impl<K: Canon> Canon for BTreeSet<K> {
    fn canon(&self) -> String {
        canon_sorted(self.iter().map(|k| k.canon()).collect())
    }
}
macro_rules! canon_tuple {
    ($(($($name:ident $idx:tt),+)),*) => {$(
        impl<$($name: Canon),+> Canon for ($($name,)+) {
            fn canon(&self) -> String {
                let parts: Vec<String> = vec![$(self.$idx.canon()),+];
                format!("({})", parts.join(", "))
            }
        }
    )*};
}
canon_tuple!((A 0), (A 0, B 1), (A 0, B 1, C 2), (A 0, B 1, C 2, D 3), (A 0, B 1, C 2, D 3, E 4), (A 0, B 1, C 2, D 3, E 4, F 5));

/// Wraps a value to observe it through the best means its type has: [`Canon`] for std types,
/// else `Debug`, else nothing (then only panics are compared). Chosen at compile time by
/// autoref specialisation: call as `(&&&Obs(&v)).observe()`.
pub struct Obs<'a, T: ?Sized>(pub &'a T);
pub trait ViaCanon {
    fn observe(&self) -> Option<String>;
}
impl<T: Canon + ?Sized> ViaCanon for &&Obs<'_, T> {
    fn observe(&self) -> Option<String> {
        Some(self.0.canon())
    }
}
pub trait ViaDebug {
    fn observe(&self) -> Option<String>;
}
impl<T: std::fmt::Debug + ?Sized> ViaDebug for &Obs<'_, T> {
    fn observe(&self) -> Option<String> {
        Some(format!("{:?}", self.0))
    }
}
pub trait ViaNothing {
    fn observe(&self) -> Option<String>;
}
impl<T: ?Sized> ViaNothing for Obs<'_, T> {
    fn observe(&self) -> Option<String> {
        None
    }
}

/// The observations of a call (its result, then each `&mut` argument after it) as one text.
pub fn join_obs(parts: Vec<Option<String>>) -> Option<String> {
    if parts.iter().all(Option::is_none) {
        return None;
    }
    let shown: Vec<String> = parts.into_iter().map(|p| p.unwrap_or_else(|| "_".to_string())).collect();
    Some(if shown.len() == 1 { shown.into_iter().next().unwrap_or_default() } else { shown.join("; then the `&mut` argument is ") })
}

// ---------------------------------------------------------------------------------------------
// Options, report lines, panic capture.

/// What the tool asked this process to do: JSON in `EDGECHECK_HARNESS_OPTS` (so that
/// libFuzzer, which re-runs this binary with its own flags to minimise a crash, passes it on),
/// or as the first argument.
#[derive(Clone)]
pub struct Opts {
    pub target: String,
    pub engines: Vec<String>,
    pub budget: Duration,
    pub timeout: Duration,
    pub seed: u64,
    pub results: PathBuf,
    /// Replay mode after a crash: write every input here before calling.
    pub record: Option<PathBuf>,
    /// Replay mode to check the base: run the same inputs, and at this input call the base
    /// version only, report what it did and stop.
    pub base_at: Option<u64>,
    /// In a replay: how many inputs the edge engine ran in the original run.
    pub edge_execs: Option<u64>,
    pub malloc_limit_mb: usize,
    /// libFuzzer: where to write the seed inputs and the dictionary before fuzzing.
    pub seeds_dir: Option<PathBuf>,
    pub dict: Option<PathBuf>,
    /// libFuzzer: findings already known (their keys), not to stop for again.
    pub known: Vec<String>,
    /// libFuzzer crash minimisation: only this finding counts as a crash.
    pub chase: Option<String>,
    /// Where the bytes of an input in flight go when it hangs or runs out of memory.
    pub input_dump: Option<PathBuf>,
    /// Run one input read from this file instead of the engines: `head` (both versions, as in
    /// a run), `base` (the base only) or `render` (no call, only the arguments).
    pub replay_input: Option<PathBuf>,
    pub replay_side: String,
    /// The flags to hand to libFuzzer (the process's own arguments when options come from the
    /// environment).
    pub fuzzer_args: Vec<String>,
}

impl Opts {
    pub fn from_args() -> Opts {
        let args: Vec<String> = std::env::args().collect();
        let (json, fuzzer_args) = match std::env::var("EDGECHECK_HARNESS_OPTS") {
            Ok(json) => (json, args.clone()),
            Err(_) => (
                args.get(1).cloned().unwrap_or_else(|| {
                    eprintln!("usage: edgecheck-harness '<json options>' (this binary is run by cargo-edgecheck)");
                    std::process::exit(2)
                }),
                Vec::new(),
            ),
        };
        let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| {
            eprintln!("edgecheck-harness: bad options: {e}");
            std::process::exit(2)
        });
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let n = |k: &str| v.get(k).and_then(|x| x.as_u64());
        let list = |k: &str| -> Vec<String> {
            v.get(k)
                .and_then(|e| e.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        STRICT_FLOATS.store(v.get("strict_floats").and_then(|x| x.as_bool()).unwrap_or(false), Ordering::Relaxed);
        let engines = list("engines");
        Opts {
            target: s("target").unwrap_or_default(),
            engines: if engines.is_empty() { vec!["edge".into(), "proptest".into()] } else { engines },
            budget: Duration::from_millis(n("budget_ms").unwrap_or(10_000)),
            timeout: Duration::from_millis(n("timeout_ms").unwrap_or(1_000)),
            seed: n("seed").unwrap_or(0),
            results: PathBuf::from(s("results").unwrap_or_else(|| "edgecheck-results.jsonl".into())),
            record: s("record").map(PathBuf::from),
            base_at: n("base_at"),
            edge_execs: n("edge_execs"),
            malloc_limit_mb: n("malloc_limit_mb").unwrap_or(2048) as usize,
            seeds_dir: s("seeds_dir").map(PathBuf::from),
            dict: s("dict").map(PathBuf::from),
            known: list("known"),
            chase: s("chase"),
            input_dump: s("input_dump").map(PathBuf::from),
            replay_input: s("replay_input").map(PathBuf::from),
            replay_side: s("replay_side").unwrap_or_else(|| "head".into()),
            fuzzer_args,
        }
    }
}

static START: OnceLock<Instant> = OnceLock::new();
static RESULTS: OnceLock<Mutex<File>> = OnceLock::new();
/// Inputs tried by the current engine.
static EXECS: AtomicU64 = AtomicU64::new(0);
/// Inputs tried by the process, across engines: the replay position of every input.
static SEQ: AtomicU64 = AtomicU64::new(0);
static ENGINE: Mutex<&'static str> = Mutex::new("edge");

fn elapsed_ms() -> u64 {
    START.get().map(|s| s.elapsed().as_millis() as u64).unwrap_or(0)
}

/// Appends one JSON line to the results file, which the tool reads when the process ends.
fn emit(v: serde_json::Value) {
    if let Some(f) = RESULTS.get() {
        let mut f = f.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(f, "{v}");
        let _ = f.flush();
    }
}

/// A captured panic: message and source location.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Caught {
    pub message: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
    /// Where the panic happened when that is std or a dependency (`file` is then the user's
    /// line that called into it).
    pub origin: Option<String>,
}

impl Caught {
    /// Where and how it failed: an overflow and a panic at the same place are different bugs.
    fn key(&self) -> String {
        let overflow = self.message.starts_with("attempt to") && self.message.ends_with("with overflow");
        format!("{}:{}:{}:{}", self.file, self.line, self.column, if overflow { "overflow" } else { "panic" })
    }
    fn json(&self) -> serde_json::Value {
        serde_json::json!({"message": self.message, "file": self.file, "line": self.line, "column": self.column, "origin": self.origin})
    }
}

thread_local! {
    static LAST_PANIC: RefCell<Option<Caught>> = const { RefCell::new(None) };
}

/// A quiet hook: remember what panicked where, print nothing, capture no backtrace.
fn install_panic_hook() {
    panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            s.to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "Box<dyn Any>".to_string()
        };
        let (file, line, column) = info
            .location()
            .map(|l| (l.file().to_string(), l.line(), l.column()))
            .unwrap_or_default();
        let caught = match is_foreign(&file).then(|| calling_frame(&file, line, column)).flatten() {
            // A panic inside std or a dependency (an overflow in `Iterator::sum`, `clamp`'s
            // assertion) is shown at the user's line that led there, and where it happened.
            Some((user_file, user_line, user_column)) => Caught {
                message,
                origin: Some(format!("{file}:{line}:{column}")),
                file: user_file,
                line: user_line,
                column: user_column,
            },
            None => Caught { message, file, line, column, origin: None },
        };
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(caught));
    }));
}

/// Code that is not the user's: the standard library and registry dependencies.
fn is_foreign(file: &str) -> bool {
    file.starts_with("/rustc/") || file.starts_with("library/") || file.contains("/.cargo/registry/") || file.contains("/.cargo/git/")
}

type Frame = (String, u32, u32);
static CALLING_FRAMES: Mutex<Option<HashMap<Frame, Option<Frame>>>> = Mutex::new(None);

/// The innermost frame of the current backtrace in the user's code, remembered per foreign
/// location: symbolising a backtrace is slow, and shrinking meets the same panic many times.
fn calling_frame(file: &str, line: u32, column: u32) -> Option<Frame> {
    let key = (file.to_string(), line, column);
    let mut cache = CALLING_FRAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = cache.get_or_insert_with(HashMap::new).get(&key) {
        return found.clone();
    }
    let trace = std::backtrace::Backtrace::force_capture().to_string();
    let found = trace.lines().filter_map(|l| l.trim_start().strip_prefix("at ")).find_map(|at| {
        let mut parts = at.rsplitn(3, ':');
        let column = parts.next()?.parse().ok()?;
        let line = parts.next()?.parse().ok()?;
        let path = parts.next()?;
        let ours = path.contains("/harness/src/") || is_foreign(path) || !path.ends_with(".rs");
        (!ours).then(|| (path.to_string(), line, column))
    });
    cache.get_or_insert_with(HashMap::new).insert(key, found.clone());
    found
}

// ---------------------------------------------------------------------------------------------
// The input in flight, for the watchdog (hangs) and the allocation limit (huge allocations).

type Renderer = dyn Fn() -> Vec<String> + Sync;

struct InFlight {
    render: *const Renderer,
    started: Instant,
    seq: u64,
    /// `head` or `base`: which version is running.
    side: &'static str,
}
// The pointer is only dereferenced while the call it belongs to is running, under CURRENT's lock.
unsafe impl Send for InFlight {}

static CURRENT: Mutex<Option<InFlight>> = Mutex::new(None);
/// Where the libFuzzer input in flight is written if it hangs or runs out of memory.
static INPUT_DUMP: OnceLock<PathBuf> = OnceLock::new();

/// Writes the bytes of the libFuzzer input in flight to the dump file, so the tool can replay
/// them on the base; `None` outside libFuzzer.
fn dump_fuzz_input() -> Option<String> {
    let (ptr, len) = (FUZZ_PTR.load(Ordering::Relaxed), FUZZ_LEN.load(Ordering::Relaxed));
    let path = INPUT_DUMP.get()?;
    if ptr == 0 {
        return None;
    }
    // SAFETY: set by the fuzzer callback for the input it is running, which stays alive (the
    // callback is blocked in the call) while the watchdog or the allocator reports it.
    let bytes = unsafe { std::slice::from_raw_parts(ptr as *const u8, len) };
    std::fs::write(path, bytes).ok()?;
    Some(path.display().to_string())
}
static REPORTING: AtomicBool = AtomicBool::new(false);

/// Renders the input in flight and reports it as a finding of `kind`; then the process ends.
fn report_in_flight_and_exit(kind: &str, message: String, code: i32) -> ! {
    REPORTING.store(true, Ordering::SeqCst);
    let (args, seq, side) = {
        let cur = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: the renderer lives on the caller's stack until the call returns, and the
        // caller clears CURRENT (taking this lock) before that.
        match cur.as_ref() {
            Some(c) => (Some(unsafe { (*c.render)() }), Some(c.seq), c.side),
            None => (None, None, "head"),
        }
    };
    let engine = *ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    let input_file = dump_fuzz_input();
    emit(serde_json::json!({
        "event": "finding", "engine": engine, "kind": kind, "message": message, "side": side,
        "args": args, "seq": seq, "elapsed_ms": elapsed_ms(), "input_file": input_file,
    }));
    emit(serde_json::json!({"event": "stats", "engine": engine, "execs": EXECS.load(Ordering::Relaxed)}));
    std::process::exit(code)
}

/// Watches the call in flight; one that runs past the per-input timeout is a hang.
fn start_watchdog(timeout: Duration) {
    let tick = (timeout / 10).clamp(Duration::from_millis(5), Duration::from_millis(100));
    std::thread::spawn(move || loop {
        std::thread::sleep(tick);
        let late = {
            let cur = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
            cur.as_ref().is_some_and(|c| c.started.elapsed() > timeout)
        };
        if late {
            report_in_flight_and_exit(
                "timeout",
                format!("the call did not return within {} ms", timeout.as_millis()),
                70,
            );
        }
    });
}

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static LIMIT_BYTES: AtomicUsize = AtomicUsize::new(0);

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
                "oom",
                format!(
                    "allocation of {size} bytes with {live} bytes live exceeds the memory limit of {} MiB",
                    limit >> 20
                ),
                71,
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

// ---------------------------------------------------------------------------------------------
// Calling the target.

/// One generated target: how to render an input, and how to call each version on it. A call
/// returns the observation of its result when `observe` is set (only needed to compare).
#[derive(Clone, Copy)]
pub struct Target<A> {
    pub render: fn(&A) -> Vec<String>,
    pub head: fn(&A, bool) -> Option<String>,
    pub base: Option<fn(&A, bool) -> Option<String>>,
}

/// What one version did with an input.
#[derive(Clone, Debug)]
enum Seen {
    Returned(Option<String>),
    Panicked(Caught),
}

impl Seen {
    fn json(&self) -> serde_json::Value {
        match self {
            Seen::Returned(v) => serde_json::json!({"returned": v}),
            Seen::Panicked(c) => serde_json::json!({"panicked": c.json()}),
        }
    }
}

/// Calls one version on one input, catching a panic; the input is visible to the watchdog and
/// the allocation limit while the call runs.
fn call_side<A: Gen>(a: &A, t: &Target<A>, side: &'static str, seq: u64, observe: bool) -> Seen {
    let f = if side == "base" { t.base.expect("base is called only when there is one") } else { t.head };
    let render = t.render;
    let renderer = move || render(a);
    let renderer_ref: &(dyn Fn() -> Vec<String> + Sync + '_) = &renderer;
    {
        let mut cur = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
        *cur = Some(InFlight {
            // SAFETY (lifetime erasure): cleared below, before `renderer` goes out of scope.
            render: unsafe {
                std::mem::transmute::<&(dyn Fn() -> Vec<String> + Sync + '_), *const Renderer>(renderer_ref)
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
        Ok(v) => Seen::Returned(v),
        Err(payload) => {
            let caught = LAST_PANIC.with(|p| p.borrow_mut().take());
            drop(payload);
            Seen::Panicked(caught.unwrap_or_else(|| Caught {
                message: "panicked (no message)".into(),
                file: String::new(),
                line: 0,
                column: 0,
                origin: None,
            }))
        }
    }
}

/// What an input revealed, if anything: a head panic (with what the base did), or a divergence.
#[derive(Clone, Debug)]
struct Hit {
    /// Deduplication key: the head panic's location, or `divergence`.
    key: String,
    head: Seen,
    base: Option<Seen>,
}

/// Runs head (and base, when there is one) on one input.
/// A crate type's constructor refused the generated arguments (the tool's `REJECT_MESSAGE`):
/// the input is passed over, not a finding.
const REJECTED: &str = "edgecheck: input rejected by the type's constructor";

fn exec<A: Gen>(a: &A, t: &Target<A>, opts: &Opts) -> Option<Hit> {
    EXECS.fetch_add(1, Ordering::Relaxed);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    if let Some(path) = &opts.record {
        let line = serde_json::json!({"seq": seq, "args": (t.render)(a)}).to_string();
        let _ = std::fs::write(path, line);
    }
    if opts.base_at == Some(seq) {
        let base = t.base.map(|_| call_side(a, t, "base", seq, false));
        emit(serde_json::json!({"event": "base_check", "seq": seq, "base": base.map(|b| b.json())}));
        std::process::exit(0);
    }
    let compare = t.base.is_some();
    let head = call_side(a, t, "head", seq, compare);
    let base = if compare { Some(call_side(a, t, "base", seq, true)) } else { None };
    match (&head, &base) {
        (Seen::Panicked(c), _) if c.message == REJECTED => None,
        (_, Some(Seen::Panicked(c))) if c.message == REJECTED => None,
        (Seen::Panicked(c), _) => Some(Hit { key: c.key(), head, base }),
        (Seen::Returned(Some(h)), Some(Seen::Returned(Some(b)))) if h != b => {
            Some(Hit { key: "divergence".into(), head, base })
        }
        _ => None,
    }
}

fn emit_hit<A: Gen>(engine: &str, hit: &Hit, a: &A, t: &Target<A>, seq: u64) {
    let (kind, head) = match &hit.head {
        Seen::Panicked(c) => ("panic", c.json()),
        Seen::Returned(v) => ("divergence", serde_json::json!({"returned": v})),
    };
    let mut line = serde_json::json!({
        "event": "finding", "engine": engine, "kind": kind, "side": "head", "args": (t.render)(a),
        "seq": seq, "elapsed_ms": elapsed_ms(), "base": hit.base.as_ref().map(|b| b.json()), "key": hit.key,
        "head_outcome": head,
    });
    if let Seen::Panicked(c) = &hit.head {
        line["message"] = c.message.clone().into();
        line["file"] = c.file.clone().into();
        line["line"] = c.line.into();
        line["column"] = c.column.into();
        line["origin"] = c.origin.clone().into();
    }
    emit(line);
}

fn set_engine(name: &'static str) {
    *ENGINE.lock().unwrap_or_else(|e| e.into_inner()) = name;
}

/// Runs the selected engines on one target within its budget.
pub fn run<A: Gen>(opts: &Opts, lits: &Lits, target: Target<A>) {
    START.get_or_init(Instant::now);
    let file = OpenOptions::new().create(true).append(true).open(&opts.results).unwrap_or_else(|e| {
        eprintln!("edgecheck-harness: cannot open {}: {e}", opts.results.display());
        std::process::exit(2)
    });
    let _ = RESULTS.set(Mutex::new(file));
    install_panic_hook();
    LIMIT_BYTES.store(opts.malloc_limit_mb << 20, Ordering::Relaxed);
    start_watchdog(opts.timeout);
    if let Some(path) = &opts.input_dump {
        let _ = INPUT_DUMP.set(path.clone());
    }
    let has = |e: &str| opts.engines.iter().any(|x| x == e);
    if let Some(path) = &opts.replay_input {
        set_engine("libfuzzer");
        return replay_bytes(opts, &target, path);
    }
    if has("libfuzzer") {
        return run_libfuzzer(opts, lits, target);
    }
    let deadline = Instant::now() + opts.budget;
    let mut known: HashSet<String> = HashSet::new();
    if has("edge") {
        set_engine("edge");
        // The edge engine gets at most 40% of the budget: it is usually done long before.
        let edge_deadline = Instant::now() + opts.budget.mul_f32(if has("proptest") { 0.4 } else { 1.0 });
        run_edge(opts, lits, &target, edge_deadline, &mut known);
    }
    if has("proptest") && known.len() < MAX_FINDINGS {
        set_engine("proptest");
        EXECS.store(0, Ordering::Relaxed);
        run_proptest(opts, lits, &target, deadline, &mut known);
    }
}

fn run_edge<A: Gen>(opts: &Opts, lits: &Lits, t: &Target<A>, deadline: Instant, known: &mut HashSet<String>) {
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
                emit_hit("edge", &hit, a, t, seq);
                if known.len() >= MAX_FINDINGS {
                    break;
                }
            }
        }
    }
    emit(serde_json::json!({"event": "stats", "engine": "edge", "execs": EXECS.load(Ordering::Relaxed)}));
}

fn run_proptest<A: Gen>(opts: &Opts, lits: &Lits, t: &Target<A>, deadline: Instant, known: &mut HashSet<String>) {
    let strategy = A::strategy(lits);
    let mut batch: u64 = 0;
    while Instant::now() < deadline && known.len() < MAX_FINDINGS {
        let mut config = Config::default();
        config.cases = 256;
        config.failure_persistence = None;
        config.max_shrink_iters = 4096;
        config.max_shrink_time = 3000;
        config.max_global_rejects = 1 << 20;
        config.verbose = 0;
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&opts.seed.to_le_bytes());
        seed[8..16].copy_from_slice(&batch.to_le_bytes());
        batch += 1;
        let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
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
                Some(hit) if known.insert(hit.key.clone()) => emit_hit("proptest", &hit, &minimal, t, seq),
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
    emit(serde_json::json!({"event": "stats", "engine": "proptest", "execs": EXECS.load(Ordering::Relaxed)}));
}

// ---------------------------------------------------------------------------------------------
// The libFuzzer engine: coverage-guided inputs decoded from libFuzzer's bytes.

/// Runs one input read from a file: after libFuzzer found (and minimised) it, to show it as
/// arguments and to try it on each version.
fn replay_bytes<A: Gen>(opts: &Opts, t: &Target<A>, path: &std::path::Path) {
    let data = std::fs::read(path).unwrap_or_default();
    let a = A::decode(&mut Unstructured::new(&data), true);
    match opts.replay_side.as_str() {
        "render" => emit(serde_json::json!({"event": "decoded", "args": (t.render)(&a)})),
        "base" => {
            emit(serde_json::json!({"event": "decoded", "args": (t.render)(&a)}));
            let base = t.base.map(|_| call_side(&a, t, "base", 0, false));
            emit(serde_json::json!({"event": "base_check", "seq": 0, "base": base.map(|b| b.json())}));
        }
        _ => match exec(&a, t, opts) {
            Some(hit) => emit_hit("libfuzzer", &hit, &a, t, 0),
            None => emit(serde_json::json!({"event": "decoded", "args": (t.render)(&a)})),
        },
    }
}

/// The input libFuzzer is running, for the watchdog and the allocation limit to dump.
static FUZZ_PTR: AtomicUsize = AtomicUsize::new(0);
static FUZZ_LEN: AtomicUsize = AtomicUsize::new(0);

/// Writes the edge values as seed inputs, and the mined literals as a libFuzzer dictionary.
fn write_seeds_and_dict<A: Gen>(opts: &Opts, lits: &Lits) {
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
        let text: String = std::iter::once("# literals of the changed code, mined by cargo-edgecheck\n".to_string())
            .chain(entries
            .iter()
            .filter(|e| !e.is_empty())
            .map(|e| format!("\"{}\"\n", e.iter().map(|b| format!("\\x{b:02x}")).collect::<String>())))
            .collect();
        let _ = std::fs::write(path, text);
    }
}

#[cfg(feature = "libfuzzer")]
fn run_libfuzzer<A: Gen>(opts: &Opts, lits: &Lits, t: Target<A>) {
    set_engine("libfuzzer");
    // libFuzzer re-runs this binary to minimise a crash; those runs need no new seeds.
    if !opts.fuzzer_args.iter().any(|a| a.starts_with("-minimize_crash_internal_step")) {
        write_seeds_and_dict::<A>(opts, lits);
    }
    let known: HashSet<String> = opts.known.iter().cloned().collect();
    let o = opts.clone();
    let one = move |data: &[u8]| {
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
                    emit_hit("libfuzzer", &hit, &a, &t, seq);
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
fn run_libfuzzer<A: Gen>(_opts: &Opts, _lits: &Lits, _t: Target<A>) {
    eprintln!("edgecheck-harness: this build has no libFuzzer engine");
    std::process::exit(2)
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
        let owned: Vec<CString> = args.iter().map(|a| CString::new(a.as_str()).unwrap_or_default()).collect();
        let mut ptrs: Vec<*mut c_char> = owned.iter().map(|c| c.as_ptr() as *mut c_char).collect();
        ptrs.push(std::ptr::null_mut());
        let mut argc = args.len() as c_int;
        let mut argv = ptrs.as_mut_ptr();
        // SAFETY: argv points at NUL-terminated strings that outlive the call.
        unsafe { LLVMFuzzerRunDriver(&mut argc, &mut argv, callback) }
    }
}
