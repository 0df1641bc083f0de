//! `cargo edgecheck emit`: the committable harnesses it writes compile and run under plain
//! `cargo test` and under `cargo fuzz run -s none` on stable Rust, and find what they should.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const LIB: &str = r#"/// How many characters of `s` fit in `max`.
pub fn fitting_chars(s: &str, max: usize) -> usize {
    s.chars().count().min(max)
}

pub mod math {
    /// The midpoint of `a` and `b`.
    pub fn midpoint(a: u32, b: u32) -> u32 {
        (a + b) / 2
    }
}

fn private_helper(x: u8) -> u8 {
    x
}

pub fn uses_helper(x: u8) -> u8 {
    private_helper(x)
}

#[allow(dead_code)]
fn lonely(x: u8) -> u8 {
    x
}
"#;

fn emit_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("emit-builds")
}

#[test]
fn emitted_properties_and_fuzz_targets_build_and_run() {
    let manifest = manifest("emitted").replace(
        "[dependencies]\n",
        "[dependencies]\n\n[dev-dependencies]\nproptest = \"1\"\n",
    );
    let repo = repo_with("emitted", &[("Cargo.toml", &manifest), ("src/lib.rs", LIB)]);
    let dir = repo.path();
    let run = edgecheck_raw(
        dir,
        &[
            "emit",
            "--out",
            ".",
            "--function",
            "fitting_chars",
            "--function",
            "math::midpoint",
            "--function",
            "private_helper",
        ],
    );
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout
            .contains("skipped emitted::private_helper: not exported"),
        "the private function is named with the reason:\n{run}"
    );
    for file in [
        "tests/edgecheck.rs",
        "fuzz/Cargo.toml",
        "fuzz/fuzz_targets/fitting_chars.rs",
        "fuzz/fuzz_targets/math_midpoint.rs",
        "fuzz/fuzz_targets/uses_helper.rs",
    ] {
        assert!(dir.join(file).is_file(), "{file} was not written:\n{run}");
    }

    // The property file runs under plain `cargo test`: the correct function passes and the
    // overflow in `midpoint` fails with proptest's smallest input.
    let test = Command::new("cargo")
        .args(["test", "--quiet", "--test", "edgecheck", "--target-dir"])
        .arg(emit_dir().join("tests"))
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("cargo runs");
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr)
    );
    assert!(!test.status.success(), "midpoint overflows:\n{out}");
    assert!(
        out.contains("attempt to add with overflow") && out.contains("minimal failing input"),
        "{out}"
    );
    assert!(
        out.contains("2 passed; 1 failed"),
        "fitting_chars and uses_helper pass, midpoint fails:\n{out}"
    );

    // The fuzz targets build and run under `cargo fuzz run -s none` on stable.
    let fuzz = |target: &str, runs: &str| {
        let out = cargo_fuzz()
            .args(["run", "-s", "none", "--target-dir"])
            .arg(cargo_fuzz_target_dir())
            .args([target, "--", runs, "-max_total_time=120"])
            .current_dir(dir)
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS")
            .output()
            .expect("cargo fuzz runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let (ok, text) = fuzz("fitting_chars", "-runs=5000");
    assert!(ok, "a correct function fuzzes clean:\n{text}");
    assert!(text.contains("Done 5000 runs"), "{text}");
    let (ok, text) = fuzz("math_midpoint", "-runs=10000000");
    assert!(!ok, "libFuzzer finds the overflow:\n{text}");
    assert!(text.contains("attempt to add with overflow"), "{text}");

    // Running emit again rewrites its own files; a file of the user's is not replaced.
    let again = edgecheck_raw(dir, &["emit", "--out", ".", "--function", "fitting_chars"]);
    assert_eq!(again.code, 0, "{again}");
    let fuzz_manifest = std::fs::read_to_string(dir.join("fuzz/Cargo.toml")).unwrap();
    assert!(
        fuzz_manifest.contains("name = \"math_midpoint\""),
        "targets written before stay in fuzz/Cargo.toml:\n{fuzz_manifest}"
    );
    write(dir, "tests/edgecheck.rs", "// my own tests\n");
    let refused = edgecheck_raw(dir, &["emit", "--out", ".", "--function", "fitting_chars"]);
    refused.assert_error(&[
        "tests/edgecheck.rs",
        "not written by cargo edgecheck",
        "--force",
    ]);
    assert_eq!(
        std::fs::read_to_string(dir.join("tests/edgecheck.rs")).unwrap(),
        "// my own tests\n"
    );
}

#[test]
fn emit_with_nothing_public_says_why() {
    let repo = repo_with("hidden", &[("src/lib.rs", LIB)]);
    let run = edgecheck_raw(
        repo.path(),
        &["emit", "--out", "out", "--function", "lonely"],
    );
    run.assert_error(&["nothing to emit", "lonely", "not exported"]);
    assert!(!repo.path().join("out").exists());
}
