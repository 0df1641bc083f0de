//! A fixture for the snapshot tests of `cargo edgecheck list` and of the generated harness:
//! one function per kind of argument the planner knows, and some it must skip, with the reason.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

/// Scalars and text.
pub fn scalars(a: u8, b: i64, c: f64, d: bool, e: char, s: &str, t: String) -> usize {
    s.len() + t.len() + usize::from(a) + usize::from(d) + e.len_utf8() + (b as usize) + (c as usize)
}

/// Collections.
pub fn collections(
    v: &[u16],
    w: Vec<Option<u8>>,
    m: &BTreeMap<String, u32>,
    h: HashSet<i8>,
    pair: (u8, &str),
    arr: [u8; 4],
) -> usize {
    v.len() + w.len() + m.len() + h.len() + usize::from(pair.0) + arr.len()
}

/// Std wrappers built from generated values.
pub fn wrappers(n: NonZeroU32, d: Duration, p: &Path, c: Cow<'_, str>, r: Result<u8, String>) -> u64 {
    u64::from(n.get()) + d.as_secs() + p.as_os_str().len() as u64 + c.len() as u64 + u64::from(r.is_ok())
}

pub mod geo {
    /// A point with private fields, built from its fields inside the crate.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct Point {
        x: i32,
        y: i32,
    }

    impl Point {
        /// The sum of the coordinates.
        pub fn sum(&self) -> i32 {
            self.x.wrapping_add(self.y)
        }
    }

    /// A private helper, reached through the entry module.
    fn double(v: i32) -> i32 {
        v.wrapping_mul(2)
    }

    /// Uses the helper.
    pub fn doubled(p: Point) -> i32 {
        double(p.sum())
    }
}

/// One step of a walk: an enum with every shape of variant.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    Left(u8),
    Right { by: u8 },
    Stay,
}

/// The position after `steps`.
pub fn walk(steps: &[Step]) -> i64 {
    steps
        .iter()
        .map(|s| match s {
            Step::Left(n) => -i64::from(*n),
            Step::Right { by } => i64::from(*by),
            Step::Stay => 0,
        })
        .sum()
}

/// A quantity only its constructor makes.
#[derive(Debug)]
pub struct Amount(u64);

impl Amount {
    /// Parses cents; refuses what is not a number.
    pub fn parse(s: &str) -> Result<Amount, String> {
        s.parse().map(Amount).map_err(|e| format!("{e}"))
    }

    /// In whole units.
    pub fn units(&self) -> u64 {
        self.0 / 100
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// A stack whose states are reached by calling its methods.
#[derive(Debug, Default)]
pub struct Stack {
    items: Vec<u8>,
}

impl Stack {
    pub fn new() -> Stack {
        Stack::default()
    }

    pub fn push(&mut self, v: u8) {
        self.items.push(v);
    }

    /// The top item.
    pub fn peek(&self) -> Option<u8> {
        self.items.last().copied()
    }
}

/// A generic function, instantiated by its bounds.
pub fn largest<T: Ord + Copy>(items: &[T]) -> Option<T> {
    items.iter().copied().max()
}

/// A closure argument.
pub fn apply(f: impl Fn(u8) -> u8, x: u8) -> u8 {
    f(x)
}

/// A returned iterator, drained.
pub fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

/// Unsafe: skipped.
///
/// # Safety
/// `p` must be valid.
pub unsafe fn read(p: *const u8) -> u8 {
    *p
}

/// A list that holds itself: skipped.
pub struct Chain {
    pub next: Option<Box<Chain>>,
}

/// How long the chain is.
pub fn chain_len(c: &Chain) -> usize {
    1 + c.next.as_ref().map_or(0, |n| chain_len(n))
}

/// Two modules of one name, one per platform: each keeps its own items.
#[cfg(unix)]
mod imp {
    pub struct Handle {
        pub fd: i32,
    }

    pub fn open(h: Handle) -> i32 {
        h.fd
    }
}

#[cfg(not(unix))]
mod imp {
    pub struct Raw(pub u64);

    pub fn open(r: Raw) -> u64 {
        r.0
    }
}
