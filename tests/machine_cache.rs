//! The machine cache: libFuzzer's C++ is compiled once, kept in the cache, and linked from
//! there by every later harness build instead of being compiled again.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// The entries of `dir` (none when it does not exist).
fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|it| it.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

/// Two crates fuzzed with libFuzzer, one after the other: the cache then holds libFuzzer's
/// archive, and the libfuzzer-sys build of the last harness linked that archive (its build
/// script was pointed at the cache through `CUSTOM_LIBFUZZER_PATH`) rather than compiling the
/// C++ into the target dir.
#[test]
fn libfuzzer_is_compiled_once_and_linked_from_the_machine_cache() {
    for name in ["cache_one", "cache_two"] {
        let repo = changed_crate(
            name,
            "/// `x` plus one, saturating.\npub fn bump(x: u32) -> u32 {\n    x.saturating_add(1)\n}\n",
            "/// `x` plus one, saturating.\npub fn bump(x: u32) -> u32 {\n    x.checked_add(1).unwrap_or(u32::MAX)\n}\n",
            true,
        );
        let run = edgecheck(
            repo.path(),
            &[
                "--base",
                "HEAD~1",
                "--budget",
                "1s",
                "--engines",
                "libfuzzer",
            ],
        );
        run.assert_code(0);
    }
    let cache = machine_cache_dir();
    let archives: Vec<PathBuf> = entries(&cache.join("libfuzzer"))
        .into_iter()
        .map(|d| d.join("libfuzzer.a"))
        .filter(|a| a.is_file())
        .collect();
    assert!(
        !archives.is_empty(),
        "no libfuzzer.a under {}",
        cache.display()
    );
    // libfuzzer-sys's build script says where the archive it links is. Harnesses build in
    // `edgecheck/target` of the target dir they are given, for the host triple.
    let harness_target = shared_target_dir().join("edgecheck").join("target");
    let outputs: Vec<String> = entries(&harness_target)
        .into_iter()
        .flat_map(|triple| entries(&triple.join("release").join("build")))
        .filter(|d| {
            d.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("libfuzzer-sys-"))
        })
        .filter_map(|d| std::fs::read_to_string(d.join("output")).ok())
        .collect();
    let linked_from_cache = outputs.iter().any(|out| {
        archives.iter().any(|a| {
            let dir = a.parent().expect("the archive is in a directory");
            out.contains(&format!("rustc-link-search=native={}", dir.display()))
        })
    });
    assert!(
        linked_from_cache,
        "libfuzzer-sys did not link the cached archive ({archives:?}); its build script said:\n{}",
        outputs.join("\n---\n")
    );
}
