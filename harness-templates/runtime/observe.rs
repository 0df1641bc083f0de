//! Observing results (`Canon`, `Obs`), to compare the changed code with the code before the change.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) static STRICT_FLOATS: AtomicBool = AtomicBool::new(false);

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
pub(crate) fn canon_seq<'a, T: Canon + 'a>(items: impl Iterator<Item = &'a T>) -> String {
    format!(
        "[{}]",
        items.map(|v| v.canon()).collect::<Vec<_>>().join(", ")
    )
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
pub(crate) fn canon_sorted(mut items: Vec<String>) -> String {
    items.sort();
    format!("{{{}}}", items.join(", "))
}
impl<K: Canon, V: Canon, S> Canon for HashMap<K, V, S> {
    fn canon(&self) -> String {
        canon_sorted(
            self.iter()
                .map(|(k, v)| format!("{}: {}", k.canon(), v.canon()))
                .collect(),
        )
    }
}
impl<K: Canon, V: Canon> Canon for BTreeMap<K, V> {
    fn canon(&self) -> String {
        canon_sorted(
            self.iter()
                .map(|(k, v)| format!("{}: {}", k.canon(), v.canon()))
                .collect(),
        )
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
    let shown: Vec<String> = parts
        .into_iter()
        .map(|p| p.unwrap_or_else(|| "_".to_string()))
        .collect();
    Some(if shown.len() == 1 {
        shown.into_iter().next().unwrap_or_default()
    } else {
        shown.join("; then the `&mut` argument is ")
    })
}

/// `text` (a canonical observation) with the items of every `[…]` sequence in it sorted, so
/// two results that differ only in the order of their sequences have the same order-free text.
pub(crate) fn order_free(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut pos = 0;
    let mut out = String::new();
    while pos < chars.len() {
        out.push_str(&order_free_item(&chars, &mut pos, &[]));
        if pos < chars.len() {
            // A closing bracket without its opening one: keep it as it is.
            out.push(chars[pos]);
            pos += 1;
        }
    }
    out
}

/// Reads from `pos` up to one of `stops` at this nesting level (or the end), sorting the items
/// of the sequences inside.
fn order_free_item(chars: &[char], pos: &mut usize, stops: &[char]) -> String {
    let mut out = String::new();
    while *pos < chars.len() {
        let c = chars[*pos];
        if stops.contains(&c) {
            break;
        }
        *pos += 1;
        match c {
            '"' | '\'' => {
                // A string or char literal: copied as is, escapes included.
                out.push(c);
                while *pos < chars.len() {
                    let d = chars[*pos];
                    *pos += 1;
                    out.push(d);
                    if d == '\\' && *pos < chars.len() {
                        out.push(chars[*pos]);
                        *pos += 1;
                    } else if d == c {
                        break;
                    }
                }
            }
            '[' => {
                let mut items = Vec::new();
                loop {
                    let item = order_free_item(chars, pos, &[',', ']']);
                    items.push(item.trim().to_string());
                    match chars.get(*pos) {
                        Some(',') => *pos += 1,
                        Some(']') => {
                            *pos += 1;
                            break;
                        }
                        _ => break,
                    }
                }
                items.retain(|i| !i.is_empty());
                items.sort();
                out.push('[');
                out.push_str(&items.join(", "));
                out.push(']');
            }
            '(' | '{' => {
                let close = if c == '(' { ')' } else { '}' };
                out.push(c);
                out.push_str(&order_free_item(chars, pos, &[close]));
                if *pos < chars.len() {
                    out.push(chars[*pos]);
                    *pos += 1;
                }
            }
            _ => out.push(c),
        }
    }
    out
}
