//! `cargo edgecheck export clusterfuzzlite`: the files it writes are what ClusterFuzzLite's Rust
//! documentation asks for, `build.sh` passes `bash -n` and shellcheck, and run as
//! ClusterFuzzLite's builder would (with `cargo fuzz build -s none`, since the builder's
//! nightly toolchain and AddressSanitizer are not here) it builds every target it names and
//! leaves each binary in `$OUT`. Bad input is refused before anything is written.
//!
//! Not run here: the Docker image build and ClusterFuzzLite's actions, since Docker images
//! cannot be pulled on this machine.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const TEXTUAL: &str = r#"/// How many characters of `s` fit in `max`.
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

const NUMBERS: &str = r#"/// Twice `x`, saturating.
pub fn double(x: i64) -> i64 {
    x.saturating_mul(2)
}
"#;

fn member(name: &str) -> String {
    format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
}

/// A workspace repository: a virtual root with two member packages under `crates/`, as
/// ClusterFuzzLite sees a repository it checks out.
fn workspace_repo() -> tempfile::TempDir {
    repo_with(
        "cfl",
        &[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n",
            ),
            ("crates/textual/Cargo.toml", &member("textual")),
            ("crates/textual/src/lib.rs", TEXTUAL),
            ("crates/numbers/Cargo.toml", &member("numbers")),
            ("crates/numbers/src/lib.rs", NUMBERS),
        ],
    )
}

const SELECTION: [&str; 10] = [
    "--workspace",
    "--function",
    "textual::fitting_chars",
    "--function",
    "textual::math::midpoint",
    "--function",
    "textual::private_helper",
    "--function",
    "numbers::double",
    "-q",
];

fn export(dir: &Path, out: &str, more: &[&str]) -> Run {
    let mut args = vec!["export", "clusterfuzzlite", "--out", out];
    args.extend(SELECTION);
    args.extend(more);
    edgecheck_raw(dir, &args)
}

/// The `build_targets DIR TARGET…` lines of `build.sh`: each directory (relative to the
/// repository, which the script finds at `$SRC/<name>`) with the targets it builds there.
fn build_lines(script: &str, name: &str) -> Vec<(String, Vec<String>)> {
    let prefix = format!("build_targets \"$SRC/{name}");
    script
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|rest| {
            let (dir, targets) = rest.split_once('"').expect("a closing quote");
            let dir = dir.strip_prefix('/').unwrap_or(".").to_string();
            let targets = targets.split_whitespace().map(str::to_string).collect();
            (dir, targets)
        })
        .collect()
}

/// A program on PATH, as an absolute path.
fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

#[test]
fn exported_files_lint_and_build_sh_builds_every_target_it_names() {
    let repo = workspace_repo();
    let dir = repo.path();
    let run = export(dir, ".", &[]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout
            .contains("skipped textual::private_helper: not exported"),
        "the private function is named with the reason:\n{run}"
    );

    // The documented layout: .clusterfuzzlite/ at the root, a cargo-fuzz crate in each package.
    let cfl = dir.join(".clusterfuzzlite");
    for file in [
        "crates/textual/fuzz/Cargo.toml",
        "crates/textual/fuzz/fuzz_targets/fitting_chars.rs",
        "crates/textual/fuzz/fuzz_targets/math_midpoint.rs",
        "crates/textual/fuzz/fuzz_targets/uses_helper.rs",
        "crates/numbers/fuzz/Cargo.toml",
        "crates/numbers/fuzz/fuzz_targets/double.rs",
    ] {
        assert!(dir.join(file).is_file(), "{file} was not written:\n{run}");
    }
    assert!(
        !dir.join("tests").exists() && !dir.join("crates/textual/tests").exists(),
        "export writes the fuzz targets only, no property file"
    );
    let project = std::fs::read_to_string(cfl.join("project.yaml")).unwrap();
    assert!(project.lines().any(|l| l == "language: rust"), "{project}");
    let dockerfile = std::fs::read_to_string(cfl.join("Dockerfile")).unwrap();
    let instructions: Vec<&str> = dockerfile
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    // The name under $SRC is the first package's.
    let name = "numbers";
    assert_eq!(
        instructions,
        [
            "FROM gcr.io/oss-fuzz-base/base-builder-rust",
            &format!("COPY . $SRC/{name}"),
            &format!("WORKDIR $SRC/{name}"),
            "COPY .clusterfuzzlite/build.sh $SRC/",
        ],
        "{dockerfile}"
    );

    let build_sh = cfl.join("build.sh");
    let script = std::fs::read_to_string(&build_sh).unwrap();
    assert!(script.starts_with("#!/bin/bash\n") && script.contains("\nset -eu\n"));
    assert!(script.contains("cargo fuzz build -O"), "{script}");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&build_sh).unwrap().permissions().mode();
        assert!(mode & 0o111 != 0, "build.sh is executable");
    }
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(&build_sh)
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    match Command::new("shellcheck").arg(&build_sh).output() {
        Ok(out) => assert!(
            out.status.success(),
            "shellcheck found problems in build.sh:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => eprintln!(
            "NOTE: shellcheck is not installed (`.ci/install-consumers` installs it); build.sh was not checked with it"
        ),
    }
    let lines = build_lines(&script, name);
    assert_eq!(
        lines,
        [
            ("crates/numbers".to_string(), vec!["double".to_string()]),
            (
                "crates/textual".to_string(),
                // `uses_helper` calls the private helper, so it is fuzzed in its place.
                vec![
                    "fitting_chars".to_string(),
                    "math_midpoint".to_string(),
                    "uses_helper".to_string()
                ]
            ),
        ],
        "{script}"
    );

    // build.sh as ClusterFuzzLite's builder runs it: the repository at $SRC/<name>, an empty
    // $OUT, `cargo fuzz` on PATH. A `cargo` in front of the real one adds `-s none` to each
    // `cargo fuzz build` (the builder's nightly toolchain and AddressSanitizer are not here);
    // the rest of the script runs as written.
    let scratch = tempfile::tempdir().unwrap();
    let src = scratch.path().join("src");
    let out = scratch.path().join("out");
    let shim = scratch.path().join("bin");
    for d in [&src, &out, &shim] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::os::unix::fs::symlink(dir, src.join(name)).unwrap();
    let real_cargo = which("cargo").expect("cargo is on PATH");
    let fuzz = match cargo_fuzz_program() {
        p if p == Path::new("cargo") => real_cargo.clone(),
        p => p,
    };
    write(
        &shim,
        "cargo",
        "#!/bin/sh\n\
         if [ \"$1\" = fuzz ] && [ \"$2\" = build ]; then\n\
         \x20   shift 2\n\
         \x20   exec \"$EDGECHECK_CARGO_FUZZ\" fuzz build -s none \"$@\"\n\
         fi\n\
         exec \"$EDGECHECK_REAL_CARGO\" \"$@\"\n",
    );
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(shim.join("cargo"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
    }
    let path = std::env::join_paths(
        std::iter::once(shim.clone())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let built = Command::new("bash")
        .arg(&build_sh)
        .current_dir(src.join(name))
        .env("PATH", path)
        .env("SRC", &src)
        .env("OUT", &out)
        .env("CARGO_TARGET_DIR", cargo_fuzz_target_dir())
        .env("EDGECHECK_REAL_CARGO", &real_cargo)
        .env("EDGECHECK_CARGO_FUZZ", &fuzz)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("bash runs");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&built.stdout),
        String::from_utf8_lossy(&built.stderr)
    );
    assert!(built.status.success(), "build.sh failed:\n{log}");
    for (_, targets) in &lines {
        for target in targets {
            assert!(
                out.join(target).is_file(),
                "build.sh left no {target} in $OUT:\n{log}"
            );
        }
    }

    // The binaries are libFuzzer targets; `--debug-assertions` keeps the overflow checks that
    // `-O` alone would turn off, so the overflow in `midpoint` is a crash.
    let fuzz_binary = |target: &str, runs: &str| {
        let o = Command::new(out.join(target))
            .args([runs, "-max_total_time=120"])
            .current_dir(scratch.path())
            .output()
            .unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (ok, text) = fuzz_binary("fitting_chars", "-runs=2000");
    assert!(ok && text.contains("Done 2000 runs"), "{text}");
    let (ok, text) = fuzz_binary("math_midpoint", "-runs=10000000");
    assert!(
        !ok && text.contains("attempt to add with overflow"),
        "{text}"
    );

    // A second export, of another function, rewrites its own files, and build.sh still names
    // the targets of the first.
    let again = edgecheck_raw(
        dir,
        &[
            "export",
            "clusterfuzzlite",
            "--out",
            ".",
            "-p",
            "textual",
            "--function",
            "textual::fitting_chars",
        ],
    );
    assert_eq!(again.code, 0, "{again}");
    let script = std::fs::read_to_string(&build_sh).unwrap();
    assert_eq!(build_lines(&script, "textual"), lines, "{script}");
}

#[test]
fn export_refuses_bad_input_before_writing_anything() {
    let repo = workspace_repo();
    let dir = repo.path();
    let before = tree_snapshot(dir);

    export(dir, "missing/deeper", &[]).assert_error(&["missing/deeper", "nor does its parent"]);
    export(dir, "absent", &[]).assert_error(&["absent", "does not exist"]);
    export(dir, "Cargo.toml", &[]).assert_error(&["Cargo.toml", "is a file"]);
    export(dir, "crates/textual", &[]).assert_error(&["numbers", "is not inside --out"]);
    edgecheck_raw(
        dir,
        &[
            "export",
            "clusterfuzzlite",
            "--out",
            ".",
            "--function",
            "textual::lonely",
        ],
    )
    .assert_error(&["nothing to export", "lonely", "not exported"]);
    assert_tree_unchanged(dir, &before);

    // A build.sh of the user's is not replaced, and nothing else is written either.
    write(dir, ".clusterfuzzlite/build.sh", "#!/bin/sh\necho mine\n");
    export(dir, ".", &[]).assert_error(&[
        ".clusterfuzzlite/build.sh",
        "not written by cargo edgecheck",
        "--force",
    ]);
    assert!(!dir.join("crates/textual/fuzz").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join(".clusterfuzzlite/build.sh")).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    let forced = export(dir, ".", &["--force"]);
    assert_eq!(forced.code, 0, "{forced}");
    assert!(
        std::fs::read_to_string(dir.join(".clusterfuzzlite/build.sh"))
            .unwrap()
            .contains("Generated by cargo-edgecheck")
    );
}
