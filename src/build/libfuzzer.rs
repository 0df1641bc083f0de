//! Compiles libFuzzer's C++ into the machine cache: libfuzzer-sys's own sources, in a few unity translation units, while cargo compiles the harness's Rust.
//!
//! libfuzzer-sys compiles its 26 `.cpp` files one by one in its build script, which every cold
//! harness build waits for, and each file parses the same standard headers again: 31
//! CPU-seconds in all at `-O2` on this project's two-core machine. Including the files into a
//! few translation units (a unity build) parses the headers once per unit: 13 CPU-seconds. The
//! tool compiles them itself, with the `cc` crate and the flags libfuzzer-sys gives it, so the
//! C++ runs beside cargo's Rust from the start of the build instead of after the build scripts
//! it waits behind, and links the result through libfuzzer-sys's `CUSTOM_LIBFUZZER_PATH`.
//!
//! A unit that does not compile (two files with a clashing definition, in some later
//! libFuzzer) is compiled again file by file, as libfuzzer-sys would; the archive is the same
//! library either way.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Files libFuzzer's own CMake build keeps as objects of their own (`RTfuzzer_main`,
/// `RTfuzzer_interceptors`), never part of a unit: an archive member pulled in for something
/// else must not bring `main` (the harness has its own) or the libc interceptors along, and
/// the interceptors redeclare libc functions a unit's other files have declared already.
const OWN_OBJECTS: &[&str] = &["FuzzerMain.cpp", "FuzzerInterceptors.cpp"];

/// libFuzzer's sources as libfuzzer-sys ships them: the `.cpp` files of its `libfuzzer` dir.
#[derive(Debug, Clone)]
pub struct Sources {
    files: Vec<PathBuf>,
}

impl Sources {
    /// The sources of the libfuzzer-sys package whose `Cargo.toml` is `manifest`.
    pub fn of_package(manifest: &Path) -> Option<Sources> {
        let dir = manifest.parent()?.join("libfuzzer");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "cpp"))
            .collect();
        files.sort();
        (!files.is_empty()).then_some(Sources { files })
    }
}

/// Splits `files` (path, text) into at most `units` unity translation units plus the files
/// compiled on their own. Files go largest first to the lightest unit they do not clash with,
/// and a file that clashes with every unit opens one more. Two files clash when one has an
/// internal function (`static`) of a name the other defines: in one unit they would collide,
/// or one would call the other's overload. Functions with external linkage do not clash:
/// two live definitions of one would not link in any build, so libFuzzer's are either
/// declared in a shared header (seen by every file anyway) or platform variants, of which
/// one compiles.
fn plan_units(files: &[(PathBuf, String)], units: usize) -> (Vec<Vec<PathBuf>>, Vec<PathBuf>) {
    let mut alone = Vec::new();
    let mut order: Vec<&(PathBuf, String)> = Vec::new();
    for file in files {
        let name = file.0.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match OWN_OBJECTS.contains(&name) {
            true => alone.push(file.0.clone()),
            false => order.push(file),
        }
    }
    order.sort_by_key(|(path, text)| (std::cmp::Reverse(text.len()), path.clone()));
    let mut planned: Vec<Unit> = Vec::new();
    for (path, text) in order {
        let defs = Definitions::of(text);
        let fits = planned
            .iter()
            .enumerate()
            .filter(|(_, unit)| !unit.defs.clashes_with(&defs))
            .min_by_key(|(i, unit)| (unit.size, *i))
            .map(|(i, _)| i);
        // The first files (the largest) open the units; the rest join the lightest that fits.
        let slot = match fits.filter(|_| planned.len() >= units.max(1)) {
            Some(i) => i,
            None => {
                planned.push(Unit::default());
                planned.len() - 1
            }
        };
        let unit = &mut planned[slot];
        unit.files.push(path.clone());
        unit.size += text.len();
        unit.defs.all.extend(defs.all);
        unit.defs.internal.extend(defs.internal);
    }
    (planned.into_iter().map(|u| u.files).collect(), alone)
}

/// One planned unity translation unit.
#[derive(Default)]
struct Unit {
    files: Vec<PathBuf>,
    size: usize,
    defs: Definitions,
}

/// The functions a C++ file (or unit) defines at namespace level, by name.
#[derive(Default)]
struct Definitions {
    all: BTreeSet<String>,
    /// Those declared `static`.
    internal: BTreeSet<String>,
}

impl Definitions {
    /// libFuzzer is written in LLVM's style, where namespace bodies are not indented: a
    /// definition starts at column 0 with its return type, then the name and `(`. Only used to
    /// keep clashing files apart, so a name read wrongly costs at most one more unit (or, for
    /// a missed one, a unit that does not compile and is redone file by file).
    fn of(text: &str) -> Definitions {
        const NOT_NAMES: &[&str] = &[
            "if", "for", "while", "switch", "return", "sizeof", "defined", "decltype", "alignof",
        ];
        let mut defs = Definitions::default();
        for line in text.lines() {
            let starts_code = line.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
            let Some(paren) = line.find('(').filter(|_| starts_code) else {
                continue;
            };
            let head = &line[..paren];
            // `T x = f(...)`, `using` and `typedef` lines are not definitions.
            if head.contains('=') || head.starts_with("using ") || head.starts_with("typedef ") {
                continue;
            }
            let trimmed = head.trim_end();
            let start = trimmed
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |i| i + 1);
            let name = &trimmed[start..];
            // A definition has a return type before its name.
            if name.is_empty() || start == 0 || NOT_NAMES.contains(&name) {
                continue;
            }
            defs.all.insert(name.to_string());
            if head.starts_with("static ") {
                defs.internal.insert(name.to_string());
            }
        }
        defs
    }

    fn clashes_with(&self, other: &Definitions) -> bool {
        !self.internal.is_disjoint(&other.all) || !other.internal.is_disjoint(&self.all)
    }
}

/// How to compile: the target, and the optimisation libfuzzer-sys would get from the harness
/// profile.
#[derive(Debug, Clone)]
pub struct CompileSpec {
    pub target: String,
    pub opt_level: u32,
    /// Units compiled at once (the build's `--jobs`).
    pub jobs: usize,
}

/// Collects what the compiler wrote to stderr, for the error when it fails.
#[derive(Default)]
struct Stderr(Mutex<Vec<String>>);

impl cc::BuildMessageLogger for Stderr {
    fn log(&self, kind: cc::BuildMessageKind, msg: cc::BuildMessage<'_>, _: &dyn std::any::Any) {
        if matches!(
            kind,
            cc::BuildMessageKind::StderrForwarding | cc::BuildMessageKind::CommandFailed { .. }
        ) {
            if let Ok(mut lines) = self.0.lock() {
                lines.push(msg.to_string());
            }
        }
    }
}

/// Compiles `sources` into the archive `out` (written under a temp name in `out`'s dir, then
/// renamed, so a concurrent run never links half an archive). On failure, the compiler's
/// error.
pub fn compile(sources: &Sources, spec: &CompileSpec, out: &Path) -> Result<(), String> {
    let dir = out.parent().unwrap_or(Path::new("."));
    // Names of this process and call: concurrent runs (and builds) each compile their own.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let own = format!("{}-{call}", std::process::id());
    let work = dir.join(format!("build-{own}"));
    let result = compile_in(sources, spec, &work).and_then(|built| {
        let partial = dir.join(format!("libfuzzer.a.{own}.partial"));
        std::fs::copy(&built, &partial)
            .and_then(|_| std::fs::rename(&partial, out))
            .map_err(|e| {
                let _ = std::fs::remove_file(&partial);
                format!("storing libFuzzer in {}: {e}", out.display())
            })
    });
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// Compiles in the scratch dir `work`; the archive's path.
fn compile_in(sources: &Sources, spec: &CompileSpec, work: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(work).map_err(|e| format!("creating {}: {e}", work.display()))?;
    let texts: Vec<(PathBuf, String)> = sources
        .files
        .iter()
        .map(|p| (p.clone(), std::fs::read_to_string(p).unwrap_or_default()))
        .collect();
    let (units, alone) = plan_units(&texts, spec.jobs);
    let mut files = alone;
    for (i, unit) in units.iter().enumerate() {
        let path = work.join(format!("unity-{i}.cpp"));
        let text: String = unit
            .iter()
            .map(|f| format!("#include \"{}\"\n", f.display()))
            .collect();
        std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        files.push(path);
    }
    let unity = run_cc(&files, spec, &work.join("unity"));
    match unity {
        Ok(archive) => Ok(archive),
        // Some unit clashed: the files one by one, as libfuzzer-sys compiles them.
        Err(_) => run_cc(&sources.files, spec, &work.join("files")),
    }
}

/// `cc` with the settings libfuzzer-sys's build script gives it; the archive's path.
fn run_cc(files: &[PathBuf], spec: &CompileSpec, out_dir: &Path) -> Result<PathBuf, String> {
    let stderr = Arc::new(Stderr::default());
    let mut build = cc::Build::new();
    build
        .files(files)
        .cpp(true)
        .std("c++17")
        .force_frame_pointer(true)
        .warnings(false)
        .target(&spec.target)
        .host(&spec.target)
        .opt_level(spec.opt_level)
        .debug(false)
        .out_dir(out_dir)
        // Not a build script: nothing to tell cargo, and this process's stdout is the report.
        .cargo_metadata(false)
        .cargo_warnings(false)
        .cargo_output(false)
        .inherit_rustflags(false)
        .message_logger(Some(stderr.clone()));
    match build.try_compile("fuzzer") {
        Ok(()) => Ok(out_dir.join("libfuzzer.a")),
        Err(e) => {
            let lines = stderr.0.lock().map(|l| l.join("\n")).unwrap_or_default();
            Err(format!("{e}\n{lines}").trim_end().to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> (PathBuf, String) {
        (PathBuf::from(name), text.to_string())
    }

    #[test]
    fn definitions_at_namespace_level_are_read() {
        let text = "namespace fuzzer {\n\
                    static void WorkerThread(const Command &Cmd,\n\
                    \x20                        int N) {\n\
                    \x20 if (N) return;\n\
                    }\n\
                    int Fuzzer::RunOne(const uint8_t *Data) {\n\
                    size_t N = Count(X);\n\
                    using F = int(int);\n\
                    Foo(1);\n\
                    }\n";
        let defs = Definitions::of(text);
        let all: Vec<&String> = defs.all.iter().collect();
        let internal: Vec<&String> = defs.internal.iter().collect();
        assert_eq!(all, ["RunOne", "WorkerThread"]);
        assert_eq!(internal, ["WorkerThread"]);
    }

    #[test]
    fn clashing_files_go_to_different_units_and_main_stays_alone() {
        let files = vec![
            file(
                "Driver.cpp",
                &format!("static void Worker(int A) {{}}\n{}", "x".repeat(900)),
            ),
            file(
                "Fork.cpp",
                &format!("void Worker(Q *A, Q *B) {{}}\n{}", "x".repeat(800)),
            ),
            file("Loop.cpp", &format!("void Run() {{}}\n{}", "x".repeat(700))),
            file("Util.cpp", "void Sleep(int S) {}\n"),
            file("FuzzerMain.cpp", "int main(int argc, char **argv) {}\n"),
        ];
        let (units, alone) = plan_units(&files, 2);
        assert_eq!(alone, vec![PathBuf::from("FuzzerMain.cpp")]);
        assert_eq!(units.len(), 2);
        let unit_of = |name: &str| units.iter().position(|u| u.contains(&PathBuf::from(name)));
        assert_ne!(unit_of("Driver.cpp"), unit_of("Fork.cpp"));
        assert_eq!(units.iter().map(Vec::len).sum::<usize>(), 4);
    }

    #[test]
    fn a_file_clashing_with_every_unit_opens_another() {
        let files = vec![
            file("A.cpp", "static void F(int) {}\n"),
            file("B.cpp", "static void F(long) {}\n"),
            file("C.cpp", "void F(char) {}\n"),
        ];
        let (units, _) = plan_units(&files, 2);
        assert_eq!(units.len(), 3);
    }

    #[test]
    fn platform_variants_of_one_external_function_share_a_unit() {
        let files = vec![
            file("UtilPosix.cpp", "#if POSIX\nvoid Sleep(int S) {}\n#endif\n"),
            file(
                "UtilWindows.cpp",
                "#if WINDOWS\nvoid Sleep(int S) {}\n#endif\n",
            ),
        ];
        let (units, _) = plan_units(&files, 1);
        assert_eq!(units.len(), 1);
    }
}
