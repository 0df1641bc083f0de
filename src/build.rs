//! Compiles the harness with cargo (release, overflow checks and debug assertions on), reading cargo's JSON messages to pin each error on a file and line.

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cargo_metadata::diagnostic::DiagnosticLevel;
use cargo_metadata::Message;

use crate::error::{Error, Result};

mod libfuzzer;
mod rustflags;

/// The cfg under which injected entry modules exist.
pub const EDGECHECK_CFG: &str = "edgecheck";

/// How to build the harness.
#[derive(Debug, Clone)]
pub struct BuildSpec {
    /// The harness binary's name.
    pub name: String,
    pub harness_dir: PathBuf,
    pub target_dir: PathBuf,
    pub jobs: usize,
    /// Build the libFuzzer flavour: coverage instrumentation, libFuzzer linked in.
    pub fuzz: bool,
    /// The crates that get coverage instrumentation in the libFuzzer flavour: the user's.
    pub instrumented: Vec<String>,
    /// The libFuzzer flavour adds AddressSanitizer, built with the nightly toolchain.
    pub asan: bool,
    /// Where cargo runs, so it reads the user's `.cargo/config.toml` as their own build does:
    /// the workspace root.
    pub config_dir: PathBuf,
    /// The machine's cache, where the libFuzzer flavour finds libFuzzer's C++ already built
    /// (and leaves it, the first time). `None`: libfuzzer-sys compiles it in every target dir.
    pub cache: Option<PathBuf>,
}

/// The toolchain `--sanitizer address` builds with.
const NIGHTLY: &str = "nightly";

/// Checks that a nightly toolchain can be run through rustup, for `--sanitizer address`.
pub fn check_nightly() -> Result<()> {
    let out = Command::new("rustup")
        .args(["run", NIGHTLY, "rustc", "--version"])
        .output();
    match out {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err(Error::Usage(
            "--sanitizer address needs a nightly toolchain through rustup: run `rustup toolchain install nightly`, or drop the option".into(),
        )),
    }
}

/// Set by the libFuzzer build for the rustc wrapper: which crates to instrument.
const WRAPPER_CRATES_ENV: &str = "EDGECHECK_INSTRUMENT_CRATES";
/// Set by the libFuzzer build for the rustc wrapper: which crates to build in one codegen unit.
const WRAPPER_ONE_UNIT_ENV: &str = "EDGECHECK_ONE_UNIT_CRATES";
/// A rustc wrapper the user had, which ours runs in turn.
const WRAPPER_INNER_ENV: &str = "EDGECHECK_INNER_RUSTC_WRAPPER";
/// Set while the tool compiles libFuzzer's C++ beside cargo: the archive libfuzzer-sys links,
/// which the wrapper waits for before compiling that crate.
const WRAPPER_AWAIT_ENV: &str = "EDGECHECK_AWAIT_LIBFUZZER";
/// The file the tool writes when that compile failed, so the wrapper stops waiting.
const WRAPPER_AWAIT_FAILED_ENV: &str = "EDGECHECK_AWAIT_LIBFUZZER_FAILED";

/// Whether a flag is given per crate by the wrapper rather than shared by every crate of the
/// build: the coverage instrumentation, and one codegen unit.
fn is_per_crate_flag(flag: &str) -> bool {
    is_coverage_flag(flag) || is_one_unit_flag(flag)
}

fn is_coverage_flag(flag: &str) -> bool {
    flag.starts_with("-Cpasses=sancov")
        || flag.starts_with("-Cllvm-args=-sanitizer-coverage")
        || flag.starts_with("-Cllvm-args=-simplifycfg")
}

fn is_one_unit_flag(flag: &str) -> bool {
    flag.starts_with("-Ccodegen-units")
}

/// When cargo runs this binary as the rustc wrapper of a libFuzzer build, adds the coverage
/// flags to the user's crates only, and one codegen unit to them and to the harness crate, and
/// runs rustc; returns rustc's exit code. `None` in a normal run.
///
/// Instrumenting only the code under test, not the harness runtime and its dependencies,
/// keeps libFuzzer from scanning thousands of counters after every input, and from taking
/// coverage of the harness's own decoding for progress (measured: 0.32 of a hand-written
/// target's executions per second with everything instrumented). The code executed on every
/// input (the user's and the harness's) is optimised in one unit, as cargo-fuzz builds it;
/// the dependencies keep the profile's 16 units, which a cold build compiles in parallel.
pub fn rustc_wrapper_mode() -> Option<i32> {
    let instrumented = std::env::var(WRAPPER_CRATES_ENV).ok()?;
    let one_unit = std::env::var(WRAPPER_ONE_UNIT_ENV).unwrap_or_default();
    let mut args = std::env::args_os().skip(1);
    let rustc = args.next()?;
    let mut rest: Vec<std::ffi::OsString> = args.collect();
    let name = rest
        .iter()
        .position(|a| a == "--crate-name")
        .and_then(|i| rest.get(i + 1))
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let listed = |list: &str| list.split(',').any(|c| c == name);
    let (coverage, one_unit) = (listed(&instrumented), listed(&one_unit));
    rest.extend(
        FUZZ_RUSTFLAGS
            .iter()
            .filter(|f| (coverage && is_coverage_flag(f)) || (one_unit && is_one_unit_flag(f)))
            .map(Into::into),
    );
    // rustc bundles the archive into libfuzzer-sys's rlib, when it compiles that crate.
    if name == LIBFUZZER_SYS.replace('-', "_") {
        if let Some(code) = await_libfuzzer() {
            return Some(code);
        }
    }
    let mut cmd = match std::env::var_os(WRAPPER_INNER_ENV).filter(|w| !w.is_empty()) {
        Some(inner) => {
            let mut c = Command::new(inner);
            c.arg(rustc);
            c
        }
        None => Command::new(rustc),
    };
    let status = cmd.args(rest).status();
    Some(status.ok().and_then(|s| s.code()).unwrap_or(101))
}

/// Waits, in the wrapper, for the libFuzzer archive the tool is compiling (when it is):
/// `Some(exit code)` when that compile failed, `None` once the archive is there. The tool
/// compiles it in less time than cargo takes to reach libfuzzer-sys's crate (behind its build
/// script and arbitrary), so this rarely waits at all.
fn await_libfuzzer() -> Option<i32> {
    let archive = PathBuf::from(std::env::var_os(WRAPPER_AWAIT_ENV)?);
    let failed = std::env::var_os(WRAPPER_AWAIT_FAILED_ENV).map(PathBuf::from);
    loop {
        if archive.is_file() {
            return None;
        }
        if let Some(why) = failed
            .as_ref()
            .and_then(|f| std::fs::read_to_string(f).ok())
        {
            eprintln!("error: libFuzzer's C++ did not compile: {why}");
            return Some(1);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The sanitizer-coverage flags cargo-fuzz uses with `-s none`, on stable rustc: the
/// instrumentation libFuzzer's guidance needs, plus the options that make fuzzing faster.
const FUZZ_RUSTFLAGS: &[&str] = &[
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-sanitizer-coverage-trace-compares",
    "-Cllvm-args=-sanitizer-coverage-stack-depth",
    "-Cllvm-args=-simplifycfg-branch-fold-threshold=0",
    "-Ccodegen-units=1",
    "-Cdebug-assertions",
    "-Coverflow-checks",
    "--cfg",
    "fuzzing",
];

/// The host's target triple (`rustc -vV`): building for it explicitly keeps the instrumentation
/// flags away from build scripts and proc-macros.
pub fn host_triple() -> Result<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(&rustc)
        .arg("-vV")
        .output()
        .map_err(|source| Error::Spawn {
            program: rustc,
            source,
        })?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_string)
        .ok_or_else(|| Error::Usage("`rustc -vV` did not say the host triple".into()))
}

/// A compiler error, where it points.
#[derive(Debug, Clone)]
pub struct Diag {
    /// Absolute path of the primary span's file, when there is one.
    pub file: Option<PathBuf>,
    pub line: usize,
    /// 1-based char column of the primary span's start.
    pub column: usize,
    /// The error as rustc prints it.
    pub rendered: String,
    /// When the primary span is inside a macro's definition (`assert_eq!` in core): the file
    /// and line of each call site that expanded it, innermost first.
    pub macro_sites: Vec<(PathBuf, usize)>,
}

/// What a build gave.
#[derive(Debug)]
pub enum Outcome {
    Built { binary: PathBuf },
    Failed { errors: Vec<Diag>, stderr: String },
}

/// Runs `cargo build` on the harness. `progress` is told the name of each crate as it is
/// compiled, for the progress line.
pub fn build(spec: &BuildSpec, progress: &dyn Fn(&str)) -> Result<Outcome> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // The user's own flags (environment or `.cargo/config.toml`), then ours.
    let host = host_triple()?;
    let mut rustflags =
        rustflags::user_rustflags(&spec.config_dir, &host, crate::source::host_cfgs());
    // Our cfg, declared so `unexpected_cfgs` stays quiet; lints capped so a crate's
    // `#![deny(warnings)]` cannot reject the injected code.
    rustflags.extend([
        "--cfg".to_string(),
        EDGECHECK_CFG.to_string(),
        format!("--check-cfg=cfg({EDGECHECK_CFG})"),
        "--cap-lints=warn".to_string(),
    ]);
    let mut flavour: Vec<String> = Vec::new();
    let mut wrapper_env: Vec<(&str, std::ffi::OsString)> = Vec::new();
    if spec.fuzz {
        rustflags.extend(
            FUZZ_RUSTFLAGS
                .iter()
                .filter(|f| !is_per_crate_flag(f))
                .map(|f| f.to_string()),
        );
        let me =
            std::env::current_exe().map_err(|e| Error::io("finding this program's path", e))?;
        let inner = std::env::var_os("RUSTC_WRAPPER").unwrap_or_default();
        wrapper_env.push(("RUSTC_WRAPPER", me.into_os_string()));
        wrapper_env.push((WRAPPER_CRATES_ENV, spec.instrumented.join(",").into()));
        let harness_crate = spec.name.replace('-', "_");
        let one_unit = [spec.instrumented.as_slice(), &[harness_crate]].concat();
        wrapper_env.push((WRAPPER_ONE_UNIT_ENV, one_unit.join(",").into()));
        wrapper_env.push((WRAPPER_INNER_ENV, inner));
        flavour.extend([
            "--features".into(),
            "libfuzzer".into(),
            "--target".into(),
            host.clone(),
        ]);
    }
    let libfuzzer = match spec.fuzz {
        true => cached_libfuzzer(spec, &host),
        false => None,
    };
    // A machine without libFuzzer in its cache compiles it now, beside cargo; the wrapper
    // holds libfuzzer-sys's crate (which rustc bundles the archive into) until it is there.
    let mut cxx: Option<std::thread::JoinHandle<std::result::Result<(), String>>> = None;
    if let Some(archive) = libfuzzer.as_ref().filter(|a| !a.exists()) {
        if let Some(sources) = libfuzzer_sources(spec) {
            let compile = libfuzzer::CompileSpec {
                target: host.clone(),
                opt_level: crate::generate::HARNESS_OPT_LEVEL,
                jobs: spec.jobs,
            };
            let (path, failed) = (archive.path.clone(), failed_marker(&archive.path));
            let _ = std::fs::remove_file(&failed);
            wrapper_env.push((WRAPPER_AWAIT_ENV, path.clone().into_os_string()));
            wrapper_env.push((WRAPPER_AWAIT_FAILED_ENV, failed.clone().into_os_string()));
            cxx = Some(std::thread::spawn(move || {
                let compiled = libfuzzer::compile(&sources, &compile, &path);
                if let Err(e) = &compiled {
                    let _ = std::fs::write(&failed, e);
                }
                compiled
            }));
        }
    }
    if let Some(archive) = libfuzzer.as_ref().filter(|a| a.exists() || cxx.is_some()) {
        wrapper_env.extend(archive.link_env());
    }
    let quick = std::fs::read_to_string(spec.harness_dir.join("Cargo.lock"))
        .map(|lock| unoptimised_deps(&lock))
        .unwrap_or_default();
    let mut command = if spec.fuzz && spec.asan {
        // ASan is unstable: this build alone uses nightly, through rustup.
        rustflags.push("-Zsanitizer=address".to_string());
        let mut c = Command::new("rustup");
        c.args(["run", NIGHTLY, "cargo"]);
        c
    } else {
        Command::new(&cargo)
    };
    command
        .args([
            "build",
            "--release",
            "--message-format=json-diagnostic-rendered-ansi",
            "--bin",
            &spec.name,
        ])
        .arg("--manifest-path")
        .arg(spec.harness_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&spec.target_dir)
        .arg("-j")
        .arg(spec.jobs.to_string())
        .args(&flavour)
        .args(quick.iter().flat_map(|package| {
            [
                "--config".to_string(),
                format!("profile.release.package.{package}.opt-level=0"),
            ]
        }))
        .envs(wrapper_env)
        // Encoded (separated by 0x1f), so a flag with a space in it stays one flag.
        .env("CARGO_ENCODED_RUSTFLAGS", rustflags.join("\x1f"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .current_dir(&spec.config_dir);
    let mut run = run_cargo(command, &cargo, &spec.harness_dir, progress)?;
    let cxx_failed = cxx.map(|handle| handle.join().unwrap_or_else(|_| Err("panicked".into())));
    if let Some(Err(e)) = cxx_failed {
        run.errors.push(Diag {
            file: None,
            line: 0,
            column: 0,
            rendered: format!("libFuzzer's C++ did not compile: {e}"),
            macro_sites: Vec::new(),
        });
    }
    if let Some(archive) = libfuzzer.filter(|a| run.success && !a.exists()) {
        // This build compiled libFuzzer's C++: keep it for every later build on the machine.
        // A cache that cannot be written only costs the next build the same time again.
        let built = run
            .out_dirs
            .iter()
            .find(|(id, _)| is_libfuzzer_sys(id))
            .map(|(_, out)| out.join("libfuzzer.a"))
            .filter(|a| a.is_file());
        if let Some(built) = built {
            let _ = archive.store(&built);
        }
    }
    let binary = run
        .artifacts
        .into_iter()
        .find(|(name, _)| name == &spec.name)
        .and_then(|(_, exe)| exe);
    match (run.success, binary) {
        (true, Some(binary)) => Ok(Outcome::Built { binary }),
        _ => Ok(Outcome::Failed {
            errors: run.errors,
            stderr: run.stderr,
        }),
    }
}

/// The package libFuzzer's C++ comes with.
const LIBFUZZER_SYS: &str = "libfuzzer-sys";

/// Packages the harness runtime links but never runs on an input, with the package that needs
/// them: proptest needs regex-syntax only for regex string strategies, which the runtime does
/// not use.
const RUNTIME_ONLY_LINKED: &[(&str, &str)] = &[("regex-syntax", "proptest")];

/// The packages of [`RUNTIME_ONLY_LINKED`] nothing but the runtime's dependency needs in this
/// harness's `Cargo.lock`: compiled without optimisation (regex-syntax: 2 CPU-seconds instead
/// of 9 in a cold build). When the code under test depends on one too, it keeps the profile's.
fn unoptimised_deps(lock: &str) -> Vec<&'static str> {
    let Ok(doc) = lock.parse::<toml_edit::DocumentMut>() else {
        return Vec::new();
    };
    let Some(packages) = doc.get("package").and_then(|p| p.as_array_of_tables()) else {
        return Vec::new();
    };
    let depends_on = |p: &toml_edit::Table, name: &str| {
        p.get("dependencies")
            .and_then(|d| d.as_array())
            .is_some_and(|d| {
                d.iter()
                    .filter_map(|v| v.as_str())
                    .any(|d| d.split(' ').next() == Some(name))
            })
    };
    let name_of = |p: &toml_edit::Table| p.get("name").and_then(|n| n.as_str()).map(str::to_string);
    RUNTIME_ONLY_LINKED
        .iter()
        .filter(|(package, needer)| {
            let dependents: Vec<String> = packages
                .iter()
                .filter(|p| depends_on(p, package))
                .filter_map(name_of)
                .collect();
            !dependents.is_empty() && dependents.iter().all(|d| d == needer)
        })
        .map(|(package, _)| *package)
        .collect()
}

/// Where the tool writes why libFuzzer's C++ did not compile, for the waiting wrapper to stop.
fn failed_marker(archive: &Path) -> PathBuf {
    archive.with_extension(format!("failed.{}", std::process::id()))
}

/// The C++ sources of the libfuzzer-sys package the harness resolves to (from `cargo
/// metadata`, which also fetches it), to compile into the machine cache.
fn libfuzzer_sources(spec: &BuildSpec) -> Option<libfuzzer::Sources> {
    let meta = libfuzzer_metadata(spec)?;
    let package = meta
        .packages
        .iter()
        .find(|p| p.name.as_str() == LIBFUZZER_SYS)?;
    libfuzzer::Sources::of_package(package.manifest_path.as_std_path())
}

/// `cargo metadata` of the harness with the libFuzzer flavour's features: its package list
/// holds only what the features it is given activate.
fn libfuzzer_metadata(spec: &BuildSpec) -> Option<cargo_metadata::Metadata> {
    cargo_metadata::MetadataCommand::new()
        .manifest_path(spec.harness_dir.join("Cargo.toml"))
        .features(cargo_metadata::CargoOpt::SomeFeatures(vec![
            "libfuzzer".into()
        ]))
        .current_dir(&spec.config_dir)
        .exec()
        .ok()
}

/// Whether a cargo package id (`registry+…#libfuzzer-sys@0.4.13`, or the older
/// `libfuzzer-sys 0.4.13 (registry+…)`) is libfuzzer-sys's.
fn is_libfuzzer_sys(package_id: &str) -> bool {
    package_id.contains(&format!("#{LIBFUZZER_SYS}@"))
        || package_id.starts_with(&format!("{LIBFUZZER_SYS} "))
}

/// The machine cache's libFuzzer archive for the libfuzzer-sys version this harness resolves
/// to, built or not; `None` without a cache, or when the user links their own libFuzzer
/// (`CUSTOM_LIBFUZZER_PATH`).
fn cached_libfuzzer(spec: &BuildSpec, host: &str) -> Option<crate::cache::LibFuzzerArchive> {
    let cache = spec.cache.as_ref()?;
    if std::env::var_os("CUSTOM_LIBFUZZER_PATH").is_some() {
        return None;
    }
    let lock = spec.harness_dir.join("Cargo.lock");
    let locked = |text: String| crate::cache::locked_version(&text, LIBFUZZER_SYS);
    let version = std::fs::read_to_string(&lock)
        .ok()
        .and_then(locked)
        .or_else(|| {
            // A lock seeded from the user's has no libfuzzer-sys yet: resolve it (`cargo
            // metadata` writes the lock the build then uses), once per workspace.
            let meta = libfuzzer_metadata(spec)?;
            meta.packages
                .iter()
                .find(|p| p.name.as_str() == LIBFUZZER_SYS)
                .map(|p| p.version.to_string())
        })?;
    Some(crate::cache::LibFuzzerArchive::for_version(
        cache, &version, host,
    ))
}

/// Checks the library of the package at `manifest` alone (`cargo check --lib`, as the user's
/// own build would compile it), without the tool's cfg (so injected code is compiled out): when the harness does
/// not build, this tells whether the user's crate or the generated code is at fault.
pub fn build_library(
    manifest: &Path,
    target_dir: &Path,
    jobs: usize,
    config_dir: &Path,
) -> Result<Outcome> {
    check_library(manifest, target_dir, jobs, config_dir).map(|(outcome, _)| outcome)
}

/// [`build_library`], also giving the `OUT_DIR` of every build script that ran, by package id.
pub fn check_library(
    manifest: &Path,
    target_dir: &Path,
    jobs: usize,
    config_dir: &Path,
) -> Result<(Outcome, Vec<(String, PathBuf)>)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(&cargo);
    command
        .args([
            "check",
            "--lib",
            "--message-format=json-diagnostic-rendered-ansi",
        ])
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .arg("-j")
        .arg(jobs.to_string())
        .env_remove("CARGO_TARGET_DIR");
    command.current_dir(config_dir);
    let dir = manifest.parent().unwrap_or(Path::new("."));
    let run = run_cargo(command, &cargo, dir, &|_| {})?;
    let outcome = match run.success {
        true => Outcome::Built {
            binary: PathBuf::new(),
        },
        false => Outcome::Failed {
            errors: run.errors,
            stderr: run.stderr,
        },
    };
    Ok((outcome, run.out_dirs))
}

/// How to build the unit tests of packages in a scratch copy of the workspace.
#[derive(Debug, Clone)]
pub struct TestBuildSpec {
    /// The copy's root manifest.
    pub manifest: PathBuf,
    /// The packages whose library tests are built, by their names in the copy.
    pub packages: Vec<String>,
    /// Features to enable, as `package/feature`.
    pub features: Vec<String>,
    pub all_features: bool,
    pub no_default_features: bool,
    pub target_dir: PathBuf,
    pub jobs: usize,
    /// Where cargo runs, for the user's `.cargo/config.toml` (the workspace root).
    pub config_dir: PathBuf,
}

/// What `cargo test --no-run` gave.
#[derive(Debug)]
pub enum TestOutcome {
    /// The library test executables, each with its crate root file.
    Built {
        executables: Vec<(PathBuf, PathBuf)>,
    },
    Failed {
        errors: Vec<Diag>,
        stderr: String,
    },
}

/// `cargo test --no-run --lib` of the packages of a scratch copy, with the user's rustflags,
/// lints capped (so a `#![deny(warnings)]` crate still takes a pasted test) and overflow checks
/// and debug assertions on, as in the harness that found the edge cases.
pub fn build_tests(spec: &TestBuildSpec) -> Result<TestOutcome> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let host = host_triple()?;
    let mut rustflags =
        rustflags::user_rustflags(&spec.config_dir, &host, crate::source::host_cfgs());
    rustflags.push("--cap-lints=warn".to_string());
    let mut command = Command::new(&cargo);
    command
        .args([
            "test",
            "--no-run",
            "--lib",
            "--message-format=json-diagnostic-rendered-ansi",
        ])
        .arg("--manifest-path")
        .arg(&spec.manifest)
        .arg("--target-dir")
        .arg(&spec.target_dir)
        .arg("-j")
        .arg(spec.jobs.to_string());
    for p in &spec.packages {
        command.args(["-p", p]);
    }
    if !spec.features.is_empty() {
        command.arg("--features").arg(spec.features.join(","));
    }
    if spec.all_features {
        command.arg("--all-features");
    }
    if spec.no_default_features {
        command.arg("--no-default-features");
    }
    command
        .env("CARGO_ENCODED_RUSTFLAGS", rustflags.join("\x1f"))
        .env("CARGO_PROFILE_TEST_OVERFLOW_CHECKS", "true")
        .env("CARGO_PROFILE_TEST_DEBUG_ASSERTIONS", "true")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .current_dir(&spec.config_dir);
    let dir = spec.manifest.parent().unwrap_or(Path::new("."));
    let run = run_cargo(command, &cargo, dir, &|_| {})?;
    match (run.success, run.test_executables.is_empty()) {
        (true, false) => Ok(TestOutcome::Built {
            executables: run.test_executables,
        }),
        _ => Ok(TestOutcome::Failed {
            errors: run.errors,
            stderr: run.stderr,
        }),
    }
}

/// What one cargo invocation with JSON messages gave.
struct CargoRun {
    success: bool,
    errors: Vec<Diag>,
    stderr: String,
    /// Each compiled target's name and executable.
    artifacts: Vec<(String, Option<PathBuf>)>,
    /// Each test executable built (`cargo test --no-run`), with its target's root source file.
    test_executables: Vec<(PathBuf, PathBuf)>,
    /// Each build script run: its package id and `OUT_DIR`.
    out_dirs: Vec<(String, PathBuf)>,
}

/// Runs a prepared cargo command, reading its JSON messages as they come (`progress` hears each
/// compiled crate's name); relative paths in diagnostics are taken from `base`.
fn run_cargo(
    mut command: Command,
    program: &str,
    base: &Path,
    progress: &dyn Fn(&str),
) -> Result<CargoRun> {
    crate::child::die_with_this_process(&mut command);
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn {
            program: program.to_string(),
            source,
        })?;
    let mut stderr_pipe = child.stderr.take().expect("stderr is piped");
    let stderr_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr_pipe.read_to_string(&mut s);
        s
    });
    let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut errors = Vec::new();
    let mut artifacts = Vec::new();
    let mut test_executables = Vec::new();
    let mut out_dirs = Vec::new();
    for message in Message::parse_stream(stdout).flatten() {
        match message {
            Message::BuildScriptExecuted(b) => {
                out_dirs.push((b.package_id.repr, b.out_dir.into_std_path_buf()));
            }
            Message::CompilerArtifact(a) => {
                progress(&a.target.name);
                if let (true, Some(exe)) = (a.profile.test, &a.executable) {
                    test_executables.push((
                        a.target.src_path.clone().into_std_path_buf(),
                        exe.clone().into_std_path_buf(),
                    ));
                }
                artifacts.push((
                    a.target.name.clone(),
                    a.executable.map(|p| p.into_std_path_buf()),
                ));
            }
            Message::CompilerMessage(m) if m.message.level == DiagnosticLevel::Error => {
                errors.push(diag(&m.message, base));
            }
            _ => {}
        }
    }
    let status = child
        .wait()
        .map_err(|e| Error::io("waiting for cargo", e))?;
    let stderr = stderr_reader.join().unwrap_or_default();
    Ok(CargoRun {
        success: status.success(),
        errors,
        stderr,
        artifacts,
        test_executables,
        out_dirs,
    })
}

fn diag(d: &cargo_metadata::diagnostic::Diagnostic, base: &Path) -> Diag {
    let primary = d.spans.iter().find(|s| s.is_primary).or(d.spans.first());
    let rendered = d.rendered.clone().unwrap_or_else(|| d.message.clone());
    let path = |name: &str| {
        let p = PathBuf::from(name);
        if p.is_absolute() {
            p
        } else {
            base.join(p)
        }
    };
    match primary {
        Some(s) => {
            let mut macro_sites = Vec::new();
            let mut expansion = s.expansion.as_deref();
            while let Some(e) = expansion {
                macro_sites.push((path(&e.span.file_name), e.span.line_start));
                expansion = e.span.expansion.as_deref();
            }
            Diag {
                file: Some(path(&s.file_name)),
                line: s.line_start,
                column: s.column_start,
                rendered,
                macro_sites,
            }
        }
        None => Diag {
            file: None,
            line: 0,
            column: 0,
            rendered,
            macro_sites: Vec::new(),
        },
    }
}

/// Removes ANSI colour codes from compiler output shown in plain-text places.
pub fn strip_ansi(s: &str) -> String {
    console::strip_ansi_codes(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "proptest"
version = "1.12.0"
dependencies = ["rand", "regex-syntax"]

[[package]]
name = "regex-syntax"
version = "0.8.12"
"#;

    #[test]
    fn regex_syntax_only_proptest_needs_is_not_optimised() {
        assert_eq!(unoptimised_deps(LOCK), vec!["regex-syntax"]);
    }

    #[test]
    fn regex_syntax_the_code_under_test_needs_keeps_the_profile() {
        let lock = format!(
            "{LOCK}\n[[package]]\nname = \"regex\"\nversion = \"1.11.0\"\ndependencies = [\"regex-syntax 0.8.12\"]\n"
        );
        assert!(unoptimised_deps(&lock).is_empty());
        assert!(unoptimised_deps("not a lock [").is_empty());
    }
}
