//! Typed input generation: the `Gen` trait, edge values per type (with the vocabulary of the crate: literals, lengths, number tails) and proptest strategies biased toward them.

use super::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::Hash;

use proptest::strategy::{BoxedStrategy, Just, Strategy};

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
pub(crate) const MAX_LEN_EDGE: usize = 4096;

/// String literals whose affixed variants come before the vocabulary strings.
pub(crate) const AFFIXED_FIRST: usize = 24;
/// Edge values a proptest strategy mixes in (the rest of its inputs are random).
pub(crate) const STRATEGY_EDGE_CAP: usize = 1024;

/// How many top-level argument combinations the edge engine tries at most.
pub(crate) const TOP_EDGE_CAP: usize = 60_000;
/// How many edge values a type nested inside another contributes.
pub(crate) const NESTED_EDGE_CAP: usize = 48;
/// Distinct findings per target after which the engines stop looking.
pub(crate) const MAX_FINDINGS: usize = 8;

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

pub(crate) fn push_unique<T: PartialEq>(out: &mut Vec<T>, v: T) {
    if !out.contains(&v) {
        out.push(v);
    }
}

/// Union of the edge values (weight 1) and a broader strategy (weight 2).
pub(crate) fn biased<T: Clone + std::fmt::Debug + 'static>(
    edges: Vec<T>,
    broad: BoxedStrategy<T>,
) -> BoxedStrategy<T> {
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
        for v in [
            254u8, 2, 3, 7, 8, 10, 16, 31, 32, 48, 57, 65, 90, 97, 122, 127, 128, 0xC3, 0xF0,
        ] {
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
                longer.extend(std::iter::repeat_n(0u8, extra));
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
pub(crate) const EDGE_CHARS: &[char] = &[
    'a',
    ' ',
    'é',
    '😀',
    '\0',
    'Z',
    '0',
    '€',
    '\n',
    'ß',
    'İ',
    '\u{301}',
    '\t',
    '9',
    '\u{7f}',
    '\u{80}',
    '\u{10FFFF}',
    '\u{FEFF}',
    'ǅ',
    '-',
    '#',
    '=',
    ':',
    '/',
    '\\',
    '"',
    '.',
    ',',
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
pub(crate) fn prefixes(s: &str) -> impl Iterator<Item = &str> {
    s.char_indices().skip(1).map(move |(i, _)| &s[..i])
}

impl Gen for String {
    fn edges_capped(l: &Lits, cap: usize) -> Vec<Self> {
        let mut out: Vec<String> = Vec::new();
        for s in [
            "", "a", " ", "é", "😀", "ab", "a b", "é😀", " a ", "\n", "0", "-1", "abc", "ß", "İ",
        ] {
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
            "a\u{301}",
            "\t\t",
            "Aé",
            "x😀y",
            "  ",
            "\r\n",
            "65536",
            "4294967296",
            "-0",
            "+1",
            "99999999999999999999",
            "1.5",
            "NaN",
            "a=b",
            "=",
            "#",
            "a:b",
            ":",
            "/",
            "ÿ",
            "日本語",
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
        let built = proptest::collection::vec(chars, 0..24)
            .prop_map(|cs| cs.into_iter().collect::<String>());
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
pub(crate) const NUMBER_TAILS: &[&str] = &[
    "0",
    "-1",
    "255",
    "256",
    "65536",
    "2147483647",
    "2147483648",
    "-2147483649",
    "4294967295",
    "-4294967295",
    "4294967296",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999",
];

/// Strings built from the crate's own vocabulary: a literal's numbers at their bounds, a keyword
/// followed by a number near a type bound (also divided by one of the code's constants), the
/// lengths the code compares against (with a literal as prefix, and a two-byte character across
/// the boundary or across an offset the code uses), and literals with such a character across
/// those offsets.
pub(crate) fn vocabulary_strings(l: &Lits) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for lit in l.strs.iter().take(32) {
        for v in digit_variants(lit) {
            push_unique(&mut out, v);
        }
    }
    let mut tails: Vec<String> = NUMBER_TAILS.iter().map(|s| s.to_string()).collect();
    for c in l
        .ints
        .iter()
        .filter(|c| (2..=1_000_000).contains(*c))
        .take(6)
    {
        for bound in [
            u16::MAX as i128,
            i32::MAX as i128,
            u32::MAX as i128,
            i64::MAX as i128,
            u64::MAX as i128,
        ] {
            tails.push((bound / c + 1).to_string());
        }
    }
    // Alone too: the whole input may be the number.
    let keywords: Vec<&str> = l
        .strs
        .iter()
        .copied()
        .filter(|s| !s.is_empty() && s.len() <= 32)
        .take(16)
        .collect();
    for lit in std::iter::once("").chain(keywords.iter().copied()) {
        for t in &tails {
            push_unique(&mut out, format!("{lit}{t}"));
        }
    }
    // A number followed by a unit the code knows (`18446744073709551615s`), and a number with a
    // separator the code looks for between two numbers (`1e-4294967295`, `1:4294967296`).
    for unit in keywords
        .iter()
        .filter(|s| s.len() <= 8 && !s.bytes().any(|b| b.is_ascii_digit()))
    {
        for t in &tails {
            push_unique(&mut out, format!("{t}{unit}"));
        }
    }
    for c in l
        .chars
        .iter()
        .filter(|c| c.is_ascii_graphic() && !c.is_ascii_digit())
        .take(8)
    {
        for t in &tails {
            push_unique(&mut out, format!("1{c}{t}"));
            push_unique(&mut out, format!("{t}{c}1"));
        }
    }
    let offsets: Vec<usize> = l
        .ints
        .iter()
        .filter(|k| (1..=MAX_LEN_EDGE as i128).contains(*k))
        .take(8)
        .map(|k| *k as usize)
        .collect();
    let prefixes: Vec<&str> = std::iter::once("")
        .chain(l.strs.iter().copied().filter(|s| s.len() <= 16).take(6))
        .collect();
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
pub(crate) fn straddle(s: &str, k: usize) -> Option<String> {
    let b = s.as_bytes();
    if k == 0 || k >= b.len() || !b[k - 1].is_ascii() || !b[k].is_ascii() {
        return None;
    }
    Some(format!("{}é{}", &s[..k - 1], &s[k + 1..]))
}

/// `s` with each of its first runs of digits written as zeros, as nines, one digit longer, as a
/// single zero, and as the bounds of the integer types: a formatted number at its bounds.
pub(crate) fn digit_variants(s: &str) -> Vec<String> {
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
        let bounds = [
            "255",
            "65536",
            "2147483648",
            "4294967295",
            "4294967296",
            "18446744073709551616",
        ];
        let written = [
            "0".repeat(n),
            "9".repeat(n),
            "9".repeat(n + 1),
            "0".to_string(),
        ];
        for digits in written
            .into_iter()
            .chain(bounds.iter().map(|b| b.to_string()))
        {
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

pub(crate) fn join_src<'a, T: Gen>(items: impl Iterator<Item = &'a T>) -> String {
    items.map(|v| v.src()).collect::<Vec<_>>().join(", ")
}

impl<T: Gen, const N: usize> Gen for [T; N] {
    fn edges_capped(l: &Lits, cap: usize) -> Vec<Self> {
        let e = T::edges(l);
        if e.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<[T; N]> = e
            .iter()
            .take(cap.max(2))
            .map(|a| std::array::from_fn(|_| a.clone()))
            .collect();
        out.push(std::array::from_fn(|i| e[i % e.len()].clone()));
        out.push(std::array::from_fn(|i| {
            e[(e.len() - 1) - (i % e.len())].clone()
        }));
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
        out.extend(
            T::edges_capped(l, cap.saturating_sub(1))
                .into_iter()
                .map(Some),
        );
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
        proptest::prop_oneof![3 => T::strategy(l).prop_map(Ok), 1 => E::strategy(l).prop_map(Err)]
            .boxed()
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
gen_map!(
    HashMap,
    proptest::collection::hash_map,
    "std::collections::HashMap",
    Hash,
    Eq
);
gen_map!(
    BTreeMap,
    proptest::collection::btree_map,
    "std::collections::BTreeMap",
    Ord
);

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
gen_set!(
    HashSet,
    proptest::collection::hash_set,
    "std::collections::HashSet",
    Hash,
    Eq
);
gen_set!(
    BTreeSet,
    proptest::collection::btree_set,
    "std::collections::BTreeSet",
    Ord
);

/// Index tuples over lists of the given lengths, simplest first: every combination of the first
/// `k` values of each list comes before any that uses a later value, for growing `k`.
pub fn cube_order(lens: &[usize], cap: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    if lens.contains(&0) {
        return out;
    }
    let max_len = lens.iter().copied().max().unwrap_or(0);
    for level in 0..max_len {
        let mut idx = vec![0usize; lens.len()];
        loop {
            if idx.contains(&level) {
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
