//! Ids that stay the same across runs, machines and versions of the tool: FNV-1a of a string,
//! unlike `DefaultHasher`, whose output may change with the compiler.

/// The 64-bit FNV-1a hash of `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// [`fnv1a`] of `s` as 16 hex digits: finding ids and scratch dir names.
pub fn stable_id(s: &str) -> String {
    format!("{:016x}", fnv1a(s.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pinned values: ids are promised stable across versions, so a change to the hash shows here.
    #[test]
    fn ids_are_the_published_fnv1a_values() {
        assert_eq!(stable_id(""), "cbf29ce484222325");
        assert_eq!(stable_id("a"), "af63dc4c8601ec8c");
        assert_eq!(stable_id("foobar"), "85944171f73967e8");
        assert_ne!(stable_id("a"), stable_id("b"));
    }
}
