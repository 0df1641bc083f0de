//! The tool's cache on this machine: libFuzzer's C++ runtime built once per version and compiler, and the cargo target dir the harness dependencies are compiled in once.
//!
//! Both would otherwise be rebuilt for every workspace: libFuzzer's C++ is most of a cold
//! harness build, and proptest, serde_json and arbitrary are the rest. The cache lives in
//! `$CARGO_EDGECHECK_CACHE_DIR`, else the platform's cache dir (`$XDG_CACHE_HOME` or
//! `~/.cache` on Linux) under `cargo-edgecheck`. Removing it is always safe: it is rebuilt.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

/// Overrides where the cache lives.
pub const CACHE_DIR_ENV: &str = "CARGO_EDGECHECK_CACHE_DIR";

/// The environment variables the `cc` crate reads to pick and drive the C++ compiler for
/// `target` (in the order it reads them), which the archive therefore depends on.
fn compiler_env(target: &str) -> Vec<String> {
    let underscored = target.replace('-', "_");
    let mut vars = Vec::new();
    for base in ["CXX", "CXXFLAGS", "CRATE_CXXFLAGS", "AR", "ARFLAGS"] {
        vars.push(format!("{base}_{target}"));
        vars.push(format!("{base}_{underscored}"));
        vars.push(format!("TARGET_{base}"));
        vars.push(base.to_string());
    }
    vars
}

/// The cache dir of this machine, when one can be found.
pub fn dir() -> Option<PathBuf> {
    match std::env::var_os(CACHE_DIR_ENV).filter(|d| !d.is_empty()) {
        Some(d) => Some(PathBuf::from(d)),
        None => dirs::cache_dir().map(|d| d.join("cargo-edgecheck")),
    }
}

/// The cargo target dir shared by the harness builds of every workspace on this machine.
pub fn shared_target_dir(cache: &Path) -> PathBuf {
    cache.join("target")
}

/// libFuzzer's static archive for one libfuzzer-sys version, host and C++ compiler.
#[derive(Debug, Clone)]
pub struct LibFuzzerArchive {
    /// Where it is, or goes once built.
    pub path: PathBuf,
}

impl LibFuzzerArchive {
    /// The archive libfuzzer-sys `version` builds for `target` with the C++ compiler the
    /// environment selects. The key hashes everything the build depends on: the version, the
    /// target, the compiler's environment and the compiler's own `--version`.
    pub fn for_version(cache: &Path, version: &str, target: &str) -> Self {
        let mut key = format!("libfuzzer-sys {version}\ntarget {target}\n");
        for var in compiler_env(target) {
            if let Ok(value) = std::env::var(&var) {
                key.push_str(&format!("{var}={value}\n"));
            }
        }
        // The compiler `cc` picks: the first of its variables that is set, else `c++`.
        let compiler = compiler_env(target)
            .into_iter()
            .take(4)
            .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| "c++".to_string());
        let version_text = compiler
            .split_whitespace()
            .next()
            .and_then(|program| Command::new(program).arg("--version").output().ok())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        key.push_str(&version_text);
        let hash = crate::ids::stable_id(&key);
        LibFuzzerArchive {
            path: cache
                .join("libfuzzer")
                .join(format!("{version}-{}", &hash[..12]))
                .join("libfuzzer.a"),
        }
    }

    pub fn exists(&self) -> bool {
        self.path.is_file()
    }

    /// Copies the archive a build made into the cache. Written under a name of its own and
    /// renamed, so concurrent runs never see half an archive; a run that loses the race just
    /// replaces an identical file.
    pub fn store(&self, built: &Path) -> Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating the cache dir {}", dir.display()), e))?;
        let partial = dir.join(format!("libfuzzer.a.{}.partial", std::process::id()));
        std::fs::copy(built, &partial)
            .and_then(|_| std::fs::rename(&partial, &self.path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&partial);
                Error::io(format!("storing libFuzzer in {}", self.path.display()), e)
            })
    }

    /// The environment that makes libfuzzer-sys link this archive instead of compiling its
    /// C++: `CUSTOM_LIBFUZZER_PATH`, and the C++ standard library the compiler's platform uses
    /// (what `cc` would have linked).
    pub fn link_env(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        let mut env = vec![("CUSTOM_LIBFUZZER_PATH", self.path.clone().into_os_string())];
        if cfg!(target_vendor = "apple") {
            env.push(("CUSTOM_LIBFUZZER_STD_CXX", "c++".into()));
        }
        env
    }
}

/// The libfuzzer-sys version a harness's `Cargo.lock` pins, if it pins one.
pub fn locked_version(lock: &str, package: &str) -> Option<String> {
    let doc: toml_edit::DocumentMut = lock.parse().ok()?;
    let version = doc
        .get("package")?
        .as_array_of_tables()?
        .iter()
        .find(|p| p.get("name").and_then(|n| n.as_str()) == Some(package))
        .and_then(|p| p.get("version")?.as_str().map(str::to_string));
    version
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_locked_version_is_read_from_the_lock_file() {
        let lock = r#"
version = 4

[[package]]
name = "arbitrary"
version = "1.5.0"

[[package]]
name = "libfuzzer-sys"
version = "0.4.13"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;
        assert_eq!(
            locked_version(lock, "libfuzzer-sys").as_deref(),
            Some("0.4.13")
        );
        assert_eq!(locked_version(lock, "proptest"), None);
        assert_eq!(locked_version("not toml [", "libfuzzer-sys"), None);
    }

    #[test]
    fn the_archive_is_keyed_by_version_and_target() {
        let cache = Path::new("/cache");
        let a = LibFuzzerArchive::for_version(cache, "0.4.13", "x86_64-unknown-linux-gnu");
        let b = LibFuzzerArchive::for_version(cache, "0.4.12", "x86_64-unknown-linux-gnu");
        let c = LibFuzzerArchive::for_version(cache, "0.4.13", "aarch64-unknown-linux-gnu");
        let again = LibFuzzerArchive::for_version(cache, "0.4.13", "x86_64-unknown-linux-gnu");
        assert_eq!(a.path, again.path);
        assert_ne!(a.path, b.path);
        assert_ne!(a.path, c.path);
        assert!(a.path.starts_with("/cache/libfuzzer"));
    }

    #[test]
    fn a_stored_archive_replaces_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let built = dir.path().join("built.a");
        std::fs::write(&built, b"!<arch>\n").unwrap();
        let archive = LibFuzzerArchive {
            path: dir.path().join("cache/libfuzzer/k/libfuzzer.a"),
        };
        assert!(!archive.exists());
        archive.store(&built).unwrap();
        archive.store(&built).unwrap();
        assert!(archive.exists());
        let left: Vec<_> = std::fs::read_dir(archive.path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("libfuzzer.a")]);
    }
}
