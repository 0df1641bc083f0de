//! A fixture for the snapshot tests, in the 2015 edition: trait impls (called through the
//! trait, `FromStr` and `Display` included), generic impls and bounds met by the crate's own
//! types, `Default` constructors, and 2015 spellings (`async` as a name, bare trait objects).

use std::fmt;
use std::str::FromStr;

/// A weight in grams.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grams(pub u32);

impl FromStr for Grams {
    type Err = String;

    fn from_str(s: &str) -> Result<Grams, String> {
        let n: u32 = s.trim_end_matches('g').parse().map_err(|e| format!("{}", e))?;
        Ok(Grams(n))
    }
}

impl fmt::Display for Grams {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}g", self.0)
    }
}

/// Something with a weight.
pub trait Weigh {
    fn grams(&self) -> u32;
}

impl Weigh for Grams {
    fn grams(&self) -> u32 {
        self.0
    }
}

/// The total weight of `items`: the bound is met by the crate's own `Grams`.
pub fn total<T: Weigh>(items: &[T]) -> u32 {
    items.iter().map(|i| i.grams()).sum()
}

/// A bounded queue, generic over its items.
#[derive(Debug, Default)]
pub struct Queue<T> {
    items: Vec<T>,
    cap: usize,
}

impl<T: Clone> Queue<T> {
    pub fn with_capacity(cap: usize) -> Queue<T> {
        Queue {
            items: Vec::new(),
            cap: cap,
        }
    }

    pub fn push(&mut self, v: T) -> bool {
        if self.items.len() >= self.cap {
            return false;
        }
        self.items.push(v);
        true
    }

    /// The oldest item.
    pub fn front(&self) -> Option<T> {
        self.items.first().cloned()
    }
}

/// Settings with defaults.
#[derive(Debug, Default)]
pub struct Config {
    pub retries: u8,
    pub name: String,
}

impl Config {
    /// How long to wait before retry `n`.
    pub fn backoff(&self, n: u8) -> u64 {
        1u64 << n.min(self.retries)
    }
}

/// `async` is a plain name in the 2015 edition.
pub fn async(x: u8) -> u8 {
    x.wrapping_add(1)
}

/// A bare trait object, as the 2015 edition writes it.
pub fn apply(f: &Fn(u8) -> u8, x: u8) -> u8 {
    f(x)
}
