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

/// One of N parts of a run (`--shard K/N`): the functions whose path hashes to it, so that the
/// parts do not depend on list order and together are the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based.
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Reads `K/N` with 1 ≤ K ≤ N.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}` is not K/N with 1 <= K <= N, e.g. `1/3`");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (u64, u64) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard {
            index: k - 1,
            count: n,
        })
    }

    /// Whether the function (or note) at `path` belongs to this part.
    pub fn contains(self, path: &str) -> bool {
        fnv1a(path.as_bytes()) % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_every_path_into_exactly_one_part() {
        assert!(Shard::parse("0/3").is_err() && Shard::parse("4/3").is_err());
        assert!(Shard::parse("x").is_err() && Shard::parse("1/0").is_err());
        let parts: Vec<Shard> = (1..=3)
            .map(|k| Shard::parse(&format!("{k}/3")).unwrap())
            .collect();
        assert_eq!(parts[1].to_string(), "2/3");
        for i in 0..200 {
            let path = format!("demo::f{i}");
            assert_eq!(parts.iter().filter(|p| p.contains(&path)).count(), 1);
        }
    }

    /// Pinned values: ids are promised stable across versions, so a change to the hash shows here.
    #[test]
    fn ids_are_the_published_fnv1a_values() {
        assert_eq!(stable_id(""), "cbf29ce484222325");
        assert_eq!(stable_id("a"), "af63dc4c8601ec8c");
        assert_eq!(stable_id("foobar"), "85944171f73967e8");
        assert_ne!(stable_id("a"), stable_id("b"));
    }
}

/// A target of the run (a function the harness calls), by its position in the run's list, and
/// every name derived from it, so each format is written once: the harness module `t3` (in
/// `src/targets/t3.rs`), the wrapper `f3` in the entry modules, the constructors `mk3_Rect`,
/// and the files of its processes `t3.w1.*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TargetId(pub usize);

impl TargetId {
    /// The target's name in the harness: its module and the `target` of its options.
    pub fn harness_name(self) -> String {
        format!("t{}", self.0)
    }

    /// The harness source file of the target's module.
    pub fn module_file(self) -> std::path::PathBuf {
        std::path::PathBuf::from(format!("src/targets/{}.rs", self.harness_name()))
    }

    /// The target of a harness source path like `src/targets/t3.rs`, if it is one.
    pub fn of_module_file(path: &std::path::Path) -> Option<TargetId> {
        let name = path.file_name()?.to_str()?;
        if path.parent()?.file_name()? != "targets" {
            return None;
        }
        name.strip_prefix('t')?
            .strip_suffix(".rs")?
            .parse()
            .ok()
            .map(TargetId)
    }

    /// The wrapper injected for the target in its function's module's entry module.
    pub fn wrapper_name(self) -> String {
        format!("f{}", self.0)
    }

    /// The constructor injected for the target of the crate type `ty` (`mks3_Stack` when it is
    /// built by a sequence of its methods); `instance` tells instantiations of a generic type
    /// apart.
    pub fn constructor_name(self, ty: &str, steps: bool, instance: Option<u32>) -> String {
        let steps = if steps { "s" } else { "" };
        let instance = instance.map(|h| format!("_{h:08x}")).unwrap_or_default();
        format!("mk{steps}{}_{ty}{instance}", self.0)
    }

    /// The stem of the files of the target's process `worker`: `t3.w1`.
    pub fn process_stem(self, worker: usize) -> String {
        format!("{}.w{worker}", self.harness_name())
    }
}

impl std::fmt::Display for TargetId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.harness_name())
    }
}

#[cfg(test)]
mod target_id_tests {
    use super::TargetId;
    use std::path::Path;

    #[test]
    fn names_of_a_target() {
        let t = TargetId(3);
        assert_eq!(t.harness_name(), "t3");
        assert_eq!(TargetId::of_module_file(&t.module_file()), Some(t));
        assert_eq!(TargetId::of_module_file(Path::new("src/main.rs")), None);
        assert_eq!(
            TargetId::of_module_file(Path::new("src/targets/x.rs")),
            None
        );
        assert_eq!(t.wrapper_name(), "f3");
        assert_eq!(t.constructor_name("Rect", false, None), "mk3_Rect");
        assert_eq!(
            t.constructor_name("Stack", true, Some(0xab)),
            "mks3_Stack_000000ab"
        );
        assert_eq!(t.process_stem(1), "t3.w1");
    }
}
