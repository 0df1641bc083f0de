//! Fuzzer bytes: decoding and encoding every generated type from and to libFuzzer's bytes, in exact agreement.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

pub(crate) use arbitrary::Unstructured;

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
pub(crate) const MAX_DECODED_LEN: usize = 4096;

pub(crate) fn fill<const N: usize>(u: &mut Unstructured) -> [u8; N] {
    let mut b = [0u8; N];
    let _ = u.fill_buffer(&mut b);
    b
}

pub(crate) fn decode_len(u: &mut Unstructured) -> usize {
    u16::from_le_bytes(fill(u)) as usize % (MAX_DECODED_LEN + 1)
}

pub(crate) fn encode_len(n: usize, out: &mut Vec<u8>) {
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
        char::from_u32(v)
            .or_else(|| char::from_u32(v % 0xD800))
            .unwrap_or('\0')
    }
    fn encode(&self, out: &mut Vec<u8>, _last: bool) {
        out.extend_from_slice(&(*self as u32).to_le_bytes());
    }
}

impl Bytes for String {
    fn decode(u: &mut Unstructured, last: bool) -> Self {
        let n = if last {
            u.len()
        } else {
            decode_len(u).min(u.len())
        };
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
        if fill::<1>(u)[0] & 1 == 0 {
            Ok(T::decode(u, last))
        } else {
            Err(E::decode(u, last))
        }
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
    ($k:ident) => {
        $k
    };
    ($k:ident, $v:ident) => {
        ($k, $v)
    };
}
macro_rules! bytes_iter {
    ($s:expr, $k:ident) => {
        $s.iter().cloned().collect()
    };
    ($s:expr, $k:ident, $v:ident) => {
        $s.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    };
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
