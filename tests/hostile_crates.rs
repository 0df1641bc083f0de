//! Hostile crate shapes and hostile functions: kinds of crates and of `fn`, macros, lints,
//! editions, a registry dependency, many changed functions at once, and functions that hang,
//! exhaust memory or the stack, read stdin, write outside their directory, replace the panic
//! hook or scribble on every file descriptor; and Ctrl-C of the tool. Each asserts the exit
//! status, what the report says, that the user's tree is byte for byte what it was, and, for
//! runs that fuzz, that no process of the run is left 2 s after the tool ends.
//!
//! Several situations share one crate so one harness build covers them.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;

/// Runs the tool in the background on `dir` with `args`, and returns what it did and its
/// scratch dir (under which every copy, build and harness process of the run lies).
fn fuzz(dir: &Path, args: &[&str]) -> (Run, PathBuf) {
    let mut tool = Background::start(dir, args);
    let scratch = tool.scratch_dir();
    (tool.finish(), scratch)
}

/// The `--function`-free change of `lib` at `src/lib.rs` from `before` to `after`, committed,
/// in a crate with `manifest`.
fn crate_with_manifest(manifest: &str, before: &str, after: &str) -> tempfile::TempDir {
    let repo = repo_with(
        "unused",
        &[("Cargo.toml", manifest), ("src/lib.rs", before)],
    );
    write(repo.path(), "src/lib.rs", after);
    commit_all(repo.path(), "the change");
    repo
}

#[test]
fn proc_macro_and_binary_only_crates_are_listed_as_not_testable() {
    let proc_macro = "[package]\nname = \"attrs\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                      [lib]\nproc-macro = true\n\n[workspace]\n";
    let macro_lib = "use proc_macro::TokenStream;\n\n/// Keeps the item.\n#[proc_macro_attribute]\n\
                     pub fn keep(_attr: TokenStream, item: TokenStream) -> TokenStream {\n    item\n}\n";
    let binary =
        "[package]\nname = \"tool\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n";
    let main_before = "fn main() {\n    println!(\"{}\", half(4));\n}\n\n/// Half.\nfn half(x: u8) -> u8 {\n    x / 2\n}\n";
    let cases = [
        (
            crate_with_manifest(
                proc_macro,
                macro_lib,
                &macro_lib.replace("item\n", "{ item }\n"),
            ),
            "attrs",
            "proc-macro crate",
        ),
        (
            {
                let repo = repo_with(
                    "tool",
                    &[("Cargo.toml", binary), ("src/main.rs", main_before)],
                );
                write(
                    repo.path(),
                    "src/main.rs",
                    &main_before.replace("x / 2", "x / (x - 4)"),
                );
                commit_all(repo.path(), "the change");
                repo
            },
            "tool",
            "binary-only package",
        ),
    ];
    for (repo, name, why) in &cases {
        let tree = tree_snapshot(repo.path());
        let listed = list(repo.path(), &["--base", "HEAD~1"]);
        listed.assert_code(0);
        listed.assert_skipped(name, &[why, "harness"]);
        // A run says the same, and builds nothing.
        let run = edgecheck(repo.path(), &["--base", "HEAD~1", "--budget", "2s"]);
        run.assert_code(0);
        run.assert_skipped(name, &[why]);
        assert_tree_unchanged(repo.path(), &tree);
    }
}

const KINDS_BEFORE: &str = r#"//! Every kind of `fn`, behind features and made by macros.

/// Doubled, later.
pub async fn twice(x: u32) -> u32 {
    x.saturating_mul(2)
}

/// The byte `p` points at.
///
/// # Safety
/// `p` must point at a byte.
pub unsafe fn first(p: *const u8) -> u8 {
    *p
}

/// For C callers.
pub extern "C" fn plus(x: u32) -> u32 {
    x.saturating_add(1)
}

/// At compile time too.
pub const fn minus(x: u32) -> u32 {
    x.saturating_sub(1)
}

/// With the `fast` feature (on by default).
#[cfg(feature = "fast")]
pub fn pick(x: u32) -> u32 {
    x.saturating_mul(3)
}

/// Without the `fast` feature.
#[cfg(not(feature = "fast"))]
pub fn pick(x: u32) -> u32 {
    x.saturating_add(x).saturating_add(x)
}

macro_rules! adder {
    ($name:ident, $by:expr) => {
        /// Made by `adder!`.
        pub fn $name(x: u32) -> u32 {
            x.saturating_add($by)
        }
    };
}

adder!(add_one, 1);
adder!(add_two, 2);
"#;

/// Async, unsafe, extern, const and feature-gated functions, and macro-made ones, in one run.
#[test]
fn every_kind_of_fn_is_tested_or_skipped_with_its_reason() {
    let manifest = "[package]\nname = \"kinds\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                    [features]\ndefault = [\"fast\"]\nfast = []\n\n[workspace]\n";
    let after = KINDS_BEFORE
        .replace("x.saturating_mul(2)", "x * 2")
        .replace("*p\n", "*p.add(1)\n")
        .replace("x.saturating_add(1)\n}", "x + 1\n}")
        .replace("x.saturating_sub(1)", "x - 1")
        .replace("x.saturating_mul(3)", "x * 3")
        .replace("x.saturating_add(x).saturating_add(x)", "x + x + x")
        .replace("x.saturating_add($by)", "x + $by")
        .replace("adder!(add_two, 2);", "adder!(add_two, 3);");
    let repo = crate_with_manifest(manifest, KINDS_BEFORE, &after);
    let tree = tree_snapshot(repo.path());
    let (run, scratch) = fuzz(
        repo.path(),
        &["--base", "HEAD~1", "--engines", "edge", "--budget", "3s"],
    );
    run.assert_code(1);
    run.assert_skipped("kinds::twice", &["async"]);
    run.assert_skipped("kinds::first", &["unsafe", "undefined behaviour"]);
    // A panic cannot unwind out of an `extern "C"` fn: the process aborts, as it would in use.
    let aborted = run.finding("kinds::plus", "crash");
    assert_eq!(aborted["input"], "plus(u32::MAX)", "{run}");
    assert!(
        str_of(aborted, "message").contains("non-unwinding panic"),
        "{run}"
    );
    run.finding("kinds::minus", "overflow");
    // Of the two `pick`s, the one compiled is tested; the other is named with what would bring
    // it in.
    let picks: Vec<_> = run
        .functions()
        .into_iter()
        .filter(|f| f["function"] == "kinds::pick")
        .collect();
    assert_eq!(picks.len(), 2, "{run}");
    assert!(
        picks.iter().any(|f| f["status"] == "tested"),
        "the `pick` behind `feature = \"fast\"` was not tested:\n{run}"
    );
    assert!(
        picks.iter().any(|f| f["status"] == "skipped"
            && str_of(f, "reason").contains("not compiled in this configuration")
            && str_of(f, "reason").contains("not(feature = \"fast\")")),
        "the `pick` behind `not(feature = \"fast\")` should be skipped with its cfg:\n{run}"
    );
    run.finding("kinds::pick", "overflow");
    // The macro's functions are not read: the change to the definition and to a call are
    // listed, with why.
    run.assert_skipped(
        "kinds::adder!",
        &["macro_rules! adder", "not tested", "macros unexpanded"],
    );
    let call = run
        .functions()
        .into_iter()
        .find(|f| {
            f["function"] == "kinds::adder!" && f["line"] == line_of(&after, "adder!(add_two")
        })
        .unwrap_or_else(|| panic!("the changed call of `adder!` is not listed:\n{run}"));
    assert!(
        str_of(call, "reason").contains("a call of `adder!`"),
        "{run}"
    );
    assert_tree_unchanged(repo.path(), &tree);
    assert_no_process_left(&scratch);
}

/// A workspace whose members are a 2018-edition crate, a 2024-edition crate with
/// `#![deny(warnings)]` and `#![deny(missing_docs)]`, a `no_std` crate and one with a registry
/// dependency, all changed and run at once.
#[test]
fn a_workspace_of_editions_lints_no_std_and_a_registry_dependency_is_run_at_once() {
    let member = |name: &str, edition: &str, deps: &str| {
        format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"{edition}\"\n\n[dependencies]\n{deps}")
    };
    // `try` is a keyword from 2018 on, `gen` from 2024 on: raw names.
    let old_before = "/// The first byte.\npub fn r#try(v: &[u8]) -> Option<u8> {\n    v.first().copied()\n}\n\n/// Boxed.\npub fn boxed(f: &dyn Fn(u8) -> u8, x: u8) -> u8 {\n    f(x)\n}\n";
    let old_after = old_before.replace("v.first().copied()", "Some(v[0])");
    let new_before = "#![deny(warnings)]\n#![deny(missing_docs)]\n//! Strict.\n\nunsafe extern \"C\" {\n    safe fn abs(x: i32) -> i32;\n}\n\n/// The last byte.\npub fn r#gen(v: &[u8]) -> Option<u8> {\n    v.last().copied()\n}\n\n/// Distance from zero.\n#[unsafe(no_mangle)]\npub extern \"C\" fn strict_distance(x: i32) -> i32 {\n    abs(x)\n}\n";
    let new_after = new_before
        .replace("v.last().copied()", "Some(v[v.len() - 1])")
        .replace("    abs(x)\n", "    if x < 0 { -x } else { x }\n");
    let bare_before = "#![no_std]\n//! No std.\n\n/// The middle byte.\npub fn middle(v: &[u8]) -> Option<u8> {\n    v.get(v.len() / 2).copied()\n}\n";
    let bare_after = bare_before.replace("v.get(v.len() / 2).copied()", "Some(v[v.len() / 2])");
    let dep_before = "/// The number's last digit.\npub fn last_digit(n: u64) -> u8 {\n    let mut buf = itoa::Buffer::new();\n    let s = buf.format(n);\n    s.as_bytes()[s.len() - 1]\n}\n";
    let dep_after = dep_before.replace("s.as_bytes()[s.len() - 1]", "s.as_bytes()[s.len()]");
    let repo = repo_with(
        "unused",
        &[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"old\", \"new\", \"bare\", \"withdep\"]\nresolver = \"2\"\n",
            ),
            ("old/Cargo.toml", &member("old", "2018", "")),
            ("old/src/lib.rs", old_before),
            ("new/Cargo.toml", &member("new", "2024", "")),
            ("new/src/lib.rs", new_before),
            ("bare/Cargo.toml", &member("bare", "2021", "")),
            ("bare/src/lib.rs", bare_before),
            // A version the tool's own lock file has, so the registry cache holds it.
            ("withdep/Cargo.toml", &member("withdep", "2021", "itoa = \"=1.0.19\"\n")),
            ("withdep/src/lib.rs", dep_before),
        ],
    );
    write(repo.path(), "old/src/lib.rs", &old_after);
    write(repo.path(), "new/src/lib.rs", &new_after);
    write(repo.path(), "bare/src/lib.rs", &bare_after);
    write(repo.path(), "withdep/src/lib.rs", &dep_after);
    commit_all(repo.path(), "the change");
    let tree = tree_snapshot(repo.path());
    let (run, scratch) = fuzz(
        repo.path(),
        &[
            "--workspace",
            "--base",
            "HEAD~1",
            "--engines",
            "edge",
            "--budget",
            "3s",
        ],
    );
    run.assert_code(1);
    for (function, words) in [
        ("old::r#try", "index out of bounds"),
        ("new::r#gen", "attempt to subtract with overflow"),
        ("bare::middle", "index out of bounds"),
        ("withdep::last_digit", "index out of bounds"),
    ] {
        run.assert_tested(function);
        let f = run
            .findings()
            .into_iter()
            .find(|f| f["function"] == function)
            .unwrap_or_else(|| panic!("no finding for `{function}`:\n{run}"));
        assert!(
            str_of(f, "message").contains(words),
            "`{function}`: {f}\n{run}"
        );
        assert_eq!(f["introduced"], true, "{run}");
    }
    let aborted = run.finding("new::strict_distance", "crash");
    assert_eq!(aborted["input"], "strict_distance(i32::MIN)", "{run}");
    assert_tree_unchanged(repo.path(), &tree);
    assert_no_process_left(&scratch);
}

#[test]
fn sixty_changed_functions_are_tested_in_one_run() {
    let body = |op: &str| -> String {
        (0..60)
            .map(|i| {
                format!(
                    "/// Adds {i}.\npub fn add_{i:02}(x: u8) -> u8 {{\n    {}\n}}\n",
                    op.replace("N", &i.to_string())
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let repo = changed_crate("many", &body("x.wrapping_add(N)"), &body("x + N + 1"), true);
    let tree = tree_snapshot(repo.path());
    let (run, scratch) = fuzz(
        repo.path(),
        &["--base", "HEAD~1", "--engines", "edge", "--budget", "3s"],
    );
    run.assert_code(1);
    assert_eq!(run.functions().len(), 60, "{run}");
    for i in 0..60 {
        let function = format!("many::add_{i:02}");
        run.assert_tested(&function);
        run.finding(&function, "overflow");
    }
    assert_tree_unchanged(repo.path(), &tree);
    assert_no_process_left(&scratch);
}

/// Functions that attack the process that runs them, in one run: each is a finding of its own
/// kind, or (stdin, a write to an absolute path) a function like any other, and the rest of
/// the run is reported as usual.
#[test]
fn functions_that_hang_exhaust_scribble_or_replace_the_panic_hook_are_reported_and_contained() {
    let outside = tempfile::tempdir().unwrap();
    let before = "/// Identity.\npub fn sleepy(x: u8) -> u8 {\n    x\n}\n\n/// Identity.\npub fn hungry(x: u8) -> u8 {\n    x\n}\n\n/// Identity.\npub fn reader(x: u8) -> u8 {\n    x\n}\n\n/// Identity.\npub fn deep(x: u8) -> u8 {\n    x\n}\n\n/// Identity.\npub fn hooked(x: u8) -> u8 {\n    x\n}\n\n/// Identity.\npub fn scribbler(x: u8) -> u8 {\n    x\n}\n\n/// Identity.\npub fn absolute(x: u8) -> u8 {\n    x\n}\n";
    let after = format!(
        r#"/// Sleeps forever on 7.
pub fn sleepy(x: u8) -> u8 {{
    if x == 7 {{
        loop {{
            std::thread::sleep(std::time::Duration::from_secs(1));
        }}
    }}
    x
}}

/// Allocates without bound on 9.
pub fn hungry(x: u8) -> u8 {{
    if x == 9 {{
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {{
            hoard.push(vec![1u8; 1 << 20]);
        }}
    }}
    x
}}

/// Reads a line from stdin, which must be at its end, not waiting.
pub fn reader(x: u8) -> u8 {{
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    x.wrapping_add(line.len() as u8)
}}

/// Recurses without end on 200, with a frame the optimiser cannot fold away.
pub fn deep(x: u8) -> u8 {{
    if x == 200 {{
        let frame = std::hint::black_box([x; 512]);
        return deep(frame[0]).wrapping_add(frame[511]);
    }}
    x
}}

/// Replaces the panic hook with a silent one, then panics on 100.
pub fn hooked(x: u8) -> u8 {{
    std::panic::set_hook(Box::new(|_| {{}}));
    assert!(x != 100, "hooked at a hundred");
    x
}}

/// Writes garbage, with no line end, to every file descriptor; panics on 3.
pub fn scribbler(x: u8) -> u8 {{
    let garbage = b"\0garbage {{\"event\": ";
    for fd in 0..1024 {{
        // SAFETY: write(2) with a valid buffer; a closed fd is an error, nothing worse.
        unsafe {{ write(fd, garbage.as_ptr(), garbage.len()) }};
    }}
    assert!(x != 3, "scribbled at three");
    x
}}

unsafe extern "C" {{
    fn write(fd: i32, buf: *const u8, count: usize) -> isize;
}}

/// Writes its input to a file named by an absolute path outside the crate.
pub fn absolute(x: u8) -> u8 {{
    let _ = std::fs::write(format!("{{}}/out-{{x}}", {outside:?}), [x]);
    x
}}
"#,
        outside = outside.path().to_str().unwrap()
    );
    let repo = changed_crate("attacks", before, &after, true);
    let tree = tree_snapshot(repo.path());
    let (run, scratch) = fuzz(
        repo.path(),
        &[
            "--base",
            "HEAD~1",
            "--engines",
            "edge,proptest",
            "--budget",
            "3s",
            "--timeout",
            "300ms",
            "--memory-limit",
            "64",
        ],
    );
    run.assert_code(1);
    for function in [
        "sleepy",
        "hungry",
        "reader",
        "hooked",
        "scribbler",
        "absolute",
    ] {
        run.assert_tested(&format!("attacks::{function}"));
    }
    // Its process died before it could count its inputs.
    assert_eq!(run.function("attacks::deep")["status"], "tested", "{run}");
    let timeout = run.finding("attacks::sleepy", "timeout");
    assert_eq!(timeout["input"], "sleepy(7)", "{run}");
    let oom = run.finding("attacks::hungry", "oom");
    assert_eq!(oom["input"], "hungry(9)", "{run}");
    assert!(str_of(oom, "message").contains("memory limit"), "{run}");
    let overflow = run.finding("attacks::deep", "crash");
    assert_eq!(overflow["input"], "deep(200)", "{run}");
    assert!(str_of(overflow, "message").contains("stack"), "{run}");
    // The hook is gone; the panic and its message are still found.
    let hooked = run.finding("attacks::hooked", "panic");
    assert_eq!(hooked["input"], "hooked(100)", "{run}");
    assert!(
        str_of(hooked, "message").contains("hooked at a hundred"),
        "{run}"
    );
    // The garbage reaches stderr and whatever else is open, not what the run reads back.
    let scribbled = run.finding("attacks::scribbler", "panic");
    assert_eq!(scribbled["input"], "scribbler(3)", "{run}");
    assert!(
        str_of(scribbled, "message").contains("scribbled at three"),
        "{run}"
    );
    let edge_inputs = run.function("attacks::scribbler")["engines"]["edge"]
        .as_u64()
        .unwrap_or(0);
    assert!(
        edge_inputs > 1,
        "the edge engine's inputs were lost:\n{run}"
    );
    assert!(
        run.findings_of("attacks::reader", "timeout").is_empty()
            && run.findings_of("attacks::absolute", "panic").is_empty(),
        "{run}"
    );
    assert!(
        outside.path().join("out-0").exists(),
        "the function writing to an absolute path did not run"
    );
    assert_tree_unchanged(repo.path(), &tree);
    assert_no_process_left(&scratch);
}

/// Ctrl-C: SIGINT to the tool's process group, as a terminal sends it.
#[cfg(target_os = "linux")]
fn interrupt(tool: &Background) {
    let group = tool.child.id() as libc::pid_t;
    // SAFETY: kill(2) on the process group the tool leads (started with `process_group(0)`).
    assert_eq!(unsafe { libc::kill(-group, libc::SIGINT) }, 0);
}

/// A crate changed so that its harness is new to the shared target dir: the build takes a while.
fn fresh_crate(name: &str) -> tempfile::TempDir {
    let before = "/// Identity.\npub fn spin(n: u32) -> u32 {\n    n\n}\n";
    let after =
        "/// Identity, the long way.\npub fn spin(n: u32) -> u32 {\n    n.wrapping_mul(3) / 3\n}\n";
    changed_crate(name, before, after, false)
}

#[test]
#[cfg(target_os = "linux")]
fn ctrl_c_mid_build_and_mid_fuzz_ends_the_run_with_nothing_left() {
    let long = ["--base", "HEAD", "--engines", "proptest", "--budget", "10m"];
    for phase in ["building the harness", "fuzzing"] {
        let repo = fresh_crate("interrupted");
        let tree = tree_snapshot(repo.path());
        let mut tool = Background::start_in_own_group(repo.path(), &long);
        let scratch = tool.scratch_dir();
        tool.wait_for(Duration::from_secs(300), |line| {
            line.contains(phase).then_some(())
        });
        if phase == "fuzzing" {
            // The harness processes run under `runs/`.
            let started = Instant::now();
            while processes_under(&scratch.join("runs")).is_empty() {
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "no harness process started"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        } else {
            // Let cargo start its compilers.
            std::thread::sleep(Duration::from_millis(1500));
        }
        interrupt(&tool);
        let started = Instant::now();
        let run = tool.finish();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the tool took {:?} to stop {phase}",
            started.elapsed()
        );
        // 130: killed by SIGINT, as a shell shows it.
        run.assert_code(130);
        assert!(!run.stderr.contains("panicked"), "{run}");
        assert_tree_unchanged(repo.path(), &tree);
        assert_no_process_left(&scratch);
    }
}
