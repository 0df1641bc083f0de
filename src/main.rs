//! `cargo edgecheck`: finds the edge cases a code change missed. This file wires the stages of
//! the pipeline together (see the README's "How it works"): workspace → diff → select → plan →
//! base → shadow → generate → build → run → triage → report.

mod base;
mod build;
mod cli;
mod diff;
mod emit;
mod error;
mod generate;
mod plan;
mod report;
mod run;
mod select;
mod shadow;
mod source;
mod triage;
mod types;
mod vocab;
mod workspace;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use crate::base::{BaseSide, BaseSource, BaseTree};
use crate::cli::{Cli, ColorChoice, Command, EmitArgs, FailOn, Format, ListArgs, Sanitizer};
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::report::{FunctionReport, Progress, Report, Timing};
use crate::select::{ChangedFn, FnKind, Module};
use crate::triage::PathMap;

fn main() -> ExitCode {
    if let Some(code) = build::rustc_wrapper_mode() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let cli = Cli::parse_from(cli::args_from_env());
    match cli.color {
        ColorChoice::Always => console::set_colors_enabled_stderr(true),
        ColorChoice::Never => console::set_colors_enabled_stderr(false),
        ColorChoice::Auto => {}
    }
    let done = match &cli.command {
        Some(Command::Emit(args)) => Some(emit_harnesses(&cli, args)),
        Some(Command::List(args)) => Some(list_functions(&cli, args)),
        None => None,
    };
    if let Some(done) = done {
        return match done {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e),
        };
    }
    let progress = Progress::new(cli.quiet);
    let outcome = run(&cli, &progress);
    progress.finish();
    match outcome.and_then(|report| write_report(&cli, &report).map(|()| report)) {
        Ok(report) => {
            let failing = report.findings.iter().any(|f| match cli.fail_on {
                FailOn::Introduced => f.introduced,
                FailOn::Any => true,
                FailOn::Never => false,
            });
            ExitCode::from(u8::from(failing))
        }
        Err(e) => fail(&e),
    }
}

/// Prints an error that stops the run and gives its exit status, 2.
fn fail(e: &Error) -> ExitCode {
    eprintln!("{} {e}", console::style("error:").red().bold().for_stderr());
    ExitCode::from(2)
}

/// Writes the report where and how the user asked.
fn write_report(cli: &Cli, report: &Report) -> Result<()> {
    let to_file = cli.output.is_some();
    let text = match cli.format {
        Format::Json => report.to_json(),
        Format::Human if to_file => console::strip_ansi_codes(&report.to_human()).into_owned(),
        Format::Human => {
            match cli.color {
                ColorChoice::Never => console::set_colors_enabled(false),
                ColorChoice::Always => console::set_colors_enabled(true),
                ColorChoice::Auto => {}
            }
            report.to_human()
        }
    };
    match &cli.output {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e)),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// A selected function with its plan and its counterpart before the change.
struct Selected {
    package: usize,
    func: ChangedFn,
    plan: Plan,
    /// The counterpart, or why there is none to compare with.
    base: std::result::Result<BaseSide, String>,
    /// For a function that did not change but calls a changed helper: that helper's index.
    caller_of: Option<usize>,
}

/// Most callers tested for one changed helper.
const MAX_CALLERS: usize = 3;

/// Which lines changed, where reports point, and where the base comes from.
struct Change {
    changes: Option<diff::ChangeSet>,
    report_root: PathBuf,
    base: Option<BaseSource>,
}

fn load_workspace(cli: &Cli, cwd: &Path) -> Result<workspace::Workspace> {
    workspace::load(
        &workspace::WorkspaceArgs {
            manifest_path: cli.manifest_path.clone(),
            packages: cli.packages.clone(),
            workspace: cli.workspace,
            target_dir: cli.target_dir.clone(),
            features: workspace::Features {
                features: cli.features.clone(),
                all_features: cli.all_features,
                no_default_features: cli.no_default_features,
            },
        },
        cwd,
    )
}

/// `cargo edgecheck emit`: writes committable harnesses for the selected functions and says
/// which could not have one, and why.
fn emit_harnesses(cli: &Cli, args: &EmitArgs) -> Result<()> {
    let cwd = std::env::current_dir().map_err(|e| Error::io("reading the current directory", e))?;
    let ws = load_workspace(cli, &cwd)?;
    let change = find_change(cli, &ws, &cwd)?;
    let (_, selected, _) = select_functions(cli, &ws, &change)?;
    let out = if args.out.is_absolute() {
        args.out.clone()
    } else {
        cwd.join(&args.out)
    };
    let mut skipped = Vec::new();
    let mut lines = Vec::new();
    for (p, package) in ws.packages.iter().enumerate() {
        let Some(lib) = &package.lib else { continue };
        let mut fns = Vec::new();
        for s in selected.iter().filter(|s| s.package == p) {
            match emit::emittable(&s.func, &s.plan) {
                Ok(plan) => fns.push(emit::Emittable {
                    func: &s.func,
                    plan,
                }),
                Err(why) => skipped.push((s.func.display_path.clone(), why)),
            }
        }
        if fns.is_empty() {
            continue;
        }
        let dir = match ws.packages.len() {
            1 => out.clone(),
            _ => out.join(&package.name),
        };
        let written = emit::write_package(
            &emit::PackageEmit {
                package,
                crate_name: &lib.name,
                out: dir.clone(),
                features: ws.features.for_package(package),
                cases: args.cases,
                force: args.force,
            },
            &fns,
        )?;
        let show = |p: &Path| match PathMap::relative(&cwd, p) {
            s if s.is_empty() => ".".to_string(),
            s => s,
        };
        lines.push(format!(
            "wrote {} property test(s) to {} and {} cargo-fuzz target(s) to {}",
            written.tests.len(),
            show(&dir.join(emit::TESTS_FILE)),
            written.fuzz_targets.len(),
            show(&dir.join("fuzz")),
        ));
        if written.needs_proptest {
            lines.push(format!(
                "  {} has no proptest dev-dependency yet: `cargo add --dev proptest --package {}`",
                package.name, package.name
            ));
        }
        lines.push("  run the properties: `cargo test --test edgecheck`".to_string());
        if let Some(first) = written.fuzz_targets.first() {
            lines.push(format!(
                "  fuzz one target (stable Rust): `cargo fuzz run -s none {first}` in {}",
                show(&dir)
            ));
        }
    }
    for (function, why) in &skipped {
        lines.push(format!("skipped {function}: {why}"));
    }
    if lines.iter().all(|l| l.starts_with("skipped")) {
        let why = if skipped.is_empty() {
            "no changed function was found".to_string()
        } else {
            lines.join("\n")
        };
        return Err(Error::Usage(format!("nothing to emit: {why}")));
    }
    println!("{}", lines.join("\n"));
    Ok(())
}

/// `cargo edgecheck list`: the functions a run would test, each with its plan, without building.
fn list_functions(cli: &Cli, args: &ListArgs) -> Result<()> {
    let cwd = std::env::current_dir().map_err(|e| Error::io("reading the current directory", e))?;
    let ws = load_workspace(cli, &cwd)?;
    let (report_root, listed) = if args.all {
        let root = diff::repo_root(&ws.root).unwrap_or_else(|_| ws.root.clone());
        let mut listed = Vec::new();
        for pkg in &ws.packages {
            let Some(lib) = &pkg.lib else { continue };
            let modules = select::scan_modules(lib);
            let types = types::CrateTypes::collect(&modules, lib.edition);
            for func in select::all_functions(lib, &modules) {
                let plan = plan::plan(&func, &types);
                let public = select::public_api(&modules, &func);
                listed.push((func, plan, public));
            }
        }
        (root, listed)
    } else {
        let change = find_change(cli, &ws, &cwd)?;
        let (modules, selected, _) = select_functions(cli, &ws, &change)?;
        let listed = selected
            .into_iter()
            .map(|s| {
                let public = select::public_api(&modules[s.package], &s.func);
                (s.func, s.plan, public)
            })
            .collect();
        (change.report_root, listed)
    };
    let entries: Vec<report::ListedFunction> = listed
        .iter()
        .map(|(func, plan, public)| report::ListedFunction {
            function: func.display_path.clone(),
            file: PathMap::relative(&report_root, &func.file),
            line: func.line,
            public: *public,
            status: match plan {
                Plan::Call(_) => "testable",
                Plan::Skip(_) => "skipped",
            },
            reason: match plan {
                Plan::Call(_) => None,
                Plan::Skip(why) => Some(why.clone()),
            },
        })
        .collect();
    let text = match cli.format {
        Format::Json => report::list_json(&entries),
        Format::Human => report::list_human(&entries),
    };
    match &cli.output {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e)),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Runs the whole pipeline and returns the report.
fn run(cli: &Cli, progress: &Progress) -> Result<Report> {
    let t_start = Instant::now();
    let cwd = std::env::current_dir().map_err(|e| Error::io("reading the current directory", e))?;
    progress.step("reading the workspace");
    let ws = load_workspace(cli, &cwd)?;
    let _lock = lock_work_dir(&ws.work, progress)?;
    progress.step("finding the changed functions");
    let change = find_change(cli, &ws, &cwd)?;
    let (modules, mut selected, notes) = select_functions(cli, &ws, &change)?;
    let paths = PathMap {
        copy_root: ws.work.join("head"),
        ws_root: ws.root.clone(),
        report_root: change.report_root.clone(),
        package_dirs: ws.packages.iter().map(|p| p.dir.clone()).collect(),
    };
    if cli.verbose > 0 {
        progress.println(format!(
            "edgecheck: {} changed function(s); scratch dir {}",
            selected.len(),
            ws.work.display()
        ));
    }

    let head_files = shadow::workspace_files(&ws.root)?;
    // A changed file syn cannot read is a syntax error only if rustc says so too.
    check_unparsed_changes(&ws, &change, &modules, &head_files, progress)?;

    // The code before the change, and each function's counterpart in it.
    let mut base_tree = None;
    if let Some(source) = &change.base {
        if selected.iter().any(|s| matches!(s.plan, Plan::Call(_))) {
            progress.step("reading the code before the change");
            let wanted: Vec<base::Wanted> = selected
                .iter()
                .map(|s| (s.package, &s.func, &s.plan))
                .collect();
            let head_types: Vec<types::CrateTypes> = modules
                .iter()
                .zip(&ws.packages)
                .map(|(m, pkg)| match &pkg.lib {
                    Some(lib) => types::CrateTypes::collect(m, lib.edition),
                    None => types::CrateTypes::default(),
                })
                .collect();
            let (tree, sides) = base::prepare(&ws, source, &head_files, &head_types, &wanted)?;
            base_tree = tree;
            for (s, side) in selected.iter_mut().zip(sides) {
                s.base = side;
            }
        }
    }

    // Shadow, generate and build; a target that does not compile is dropped and the rest rebuilt.
    let t_build = Instant::now();
    let jobs = cli
        .jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        })
        .max(1);
    let mut dropped: BTreeMap<usize, String> = BTreeMap::new();
    let mut engines: Vec<String> = cli.engines.iter().map(|e| e.name().to_string()).collect();
    engines.dedup();
    // The first build is the one that pins errors on targets: the plain harness, unless
    // libFuzzer is the only engine; the libFuzzer flavour of the same code follows.
    let fuzz_only = engines.iter().all(|e| e == "libfuzzer");
    // AddressSanitizer builds with nightly, in a target dir of its own so the stable builds'
    // cache is not thrown away each time.
    let asan = cli.sanitizer == Sanitizer::Address && engines.iter().any(|e| e == "libfuzzer");
    if asan {
        build::check_nightly()?;
    }
    let fuzz_target_dir = if asan {
        ws.scratch.join("target-asan")
    } else {
        ws.scratch.join("target")
    };
    // The crates libFuzzer's coverage instruments: the libraries under test, head and base.
    let instrumented: Vec<String> = ws
        .packages
        .iter()
        .filter_map(|p| p.lib.as_ref().map(|l| (p, l)))
        .flat_map(|(p, l)| {
            [
                l.name.clone(),
                base::base_package_name(&p.name).replace('-', "_"),
            ]
        })
        .collect();
    let binary = loop {
        let callable: Vec<usize> = (0..selected.len())
            .filter(|i| matches!(selected[*i].plan, Plan::Call(_)) && !dropped.contains_key(i))
            .collect();
        if callable.is_empty() {
            break None;
        }
        progress.step(format!(
            "building the harness for {} function(s)",
            callable.len()
        ));
        let spans = write_scratch(
            &ws,
            &head_files,
            &modules,
            base_tree.as_ref(),
            &selected,
            &callable,
        )?;
        let spec = build::BuildSpec {
            name: ws.harness_name.clone(),
            harness_dir: ws.work.join("harness"),
            target_dir: if fuzz_only {
                fuzz_target_dir.clone()
            } else {
                ws.scratch.join("target")
            },
            jobs,
            fuzz: fuzz_only,
            instrumented: instrumented.clone(),
            asan,
            config_dir: ws.root.clone(),
        };
        let step = |name: &str| progress.step(format!("building the harness: compiled {name}"));
        match build::build(&spec, &step)? {
            build::Outcome::Built { binary } => break Some(binary),
            build::Outcome::Failed { errors, stderr } => {
                let blamed = blame(
                    &errors,
                    &spans,
                    &spec.harness_dir,
                    &ws.work.join("base"),
                    &callable,
                    &selected,
                );
                match blamed {
                    Blame::Unexplained => {
                        return Err(unexplained_build_failure(
                            &ws, &selected, &callable, jobs, &errors, &stderr,
                        ))
                    }
                    Blame::Targets(list) => {
                        for (t, side, why) in list {
                            match side {
                                Side::Base => {
                                    selected[t].base = Err(format!("no comparable base: {why}"))
                                }
                                Side::Head => {
                                    dropped.insert(t, why);
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let (plain_binary, mut fuzz_binary) = if fuzz_only {
        (None, binary.clone())
    } else {
        (binary.clone(), None)
    };
    if binary.is_some() && !fuzz_only && engines.iter().any(|e| e == "libfuzzer") {
        progress.step("building the libFuzzer harness");
        let spec = build::BuildSpec {
            name: ws.harness_name.clone(),
            harness_dir: ws.work.join("harness"),
            target_dir: fuzz_target_dir.clone(),
            jobs,
            fuzz: true,
            instrumented: instrumented.clone(),
            asan,
            config_dir: ws.root.clone(),
        };
        let step =
            |name: &str| progress.step(format!("building the libFuzzer harness: compiled {name}"));
        match build::build(&spec, &step)? {
            build::Outcome::Built { binary } => fuzz_binary = Some(binary),
            build::Outcome::Failed { errors, stderr } => {
                // The other engines still run: say why this one does not.
                let why = build_failure(&errors, &stderr).to_string();
                progress.println(format!(
                    "warning: the libFuzzer engine is off for this run: {}",
                    why.lines().take(3).collect::<Vec<_>>().join(" ")
                ));
            }
        }
    }
    if fuzz_binary.is_none() {
        engines.retain(|e| e != "libfuzzer");
    }
    let build_ms = t_build.elapsed().as_millis() as u64;

    // Run every target within its share of the budget.
    let t_run = Instant::now();
    let callable: Vec<usize> = (0..selected.len())
        .filter(|i| matches!(selected[*i].plan, Plan::Call(_)) && !dropped.contains_key(i))
        .collect();
    let mut runs: BTreeMap<usize, run::TargetRun> = BTreeMap::new();
    if binary.is_some() {
        let spec = run::RunSpec {
            binary: plain_binary,
            fuzz_binary,
            corpus_root: ws.scratch.join("corpus"),
            workdir: paths.copy_root.clone(),
            scratch: ws.work.join("runs"),
            timeout: cli.timeout,
            jobs,
            seed: cli.seed,
            malloc_limit_mb: cli.memory_limit,
            strict_floats: cli.strict_floats,
        };
        let targets: Vec<run::TargetInfo> = callable
            .iter()
            .map(|&t| {
                let l = &selected[t].func.literals;
                run::TargetInfo {
                    id: t,
                    has_base: selected[t].base.is_ok(),
                    name: selected[t].func.display_path.clone(),
                    has_literals: !(l.ints.is_empty() && l.strs.is_empty() && l.bytes.is_empty()),
                }
            })
            .collect();
        let run_jobs = run::plan_jobs(&targets, &engines, jobs, cli.budget);
        progress.start_targets(callable.len() as u64, cli.budget);
        let mut on_done = |_: &run::TargetRun| progress.target_done();
        for r in run::run_all(&spec, run_jobs, &mut on_done)? {
            runs.insert(r.target, r);
        }
    }
    let run_ms = t_run.elapsed().as_millis() as u64;

    // Triage and report.
    let mut findings = Vec::new();
    let mut functions = Vec::new();
    let tested_callers = |h: usize| -> Vec<String> {
        selected
            .iter()
            .enumerate()
            .filter(|(c, s)| {
                s.caller_of == Some(h) && runs.contains_key(c) && !dropped.contains_key(c)
            })
            .map(|(_, s)| s.func.display_path.clone())
            .collect()
    };
    for (i, s) in selected.iter().enumerate() {
        let through = tested_callers(i);
        let (status, reason, engines) = match (&s.plan, dropped.get(&i), runs.get(&i)) {
            (Plan::Skip(why), _, _) if !through.is_empty() => (
                "tested",
                Some(format!("{why}; tested through its callers")),
                BTreeMap::new(),
            ),
            (Plan::Skip(why), _, _) => ("skipped", Some(why.clone()), BTreeMap::new()),
            (_, Some(why), _) => ("skipped", Some(why.clone()), BTreeMap::new()),
            (_, None, Some(r)) => {
                let no_base = s.base.as_ref().err().map(String::as_str);
                let mut found = triage::triage(&s.func, &r.findings, &paths, no_base);
                if let Some(h) = s.caller_of {
                    let helper = &selected[h].func;
                    let file = paths.report_path(&helper.file);
                    triage::attribute_to_helper(&mut found, &s.func, helper, &file);
                }
                findings.extend(found);
                ("tested", None, r.execs.clone())
            }
            (_, None, None) => ("skipped", Some("not run".to_string()), BTreeMap::new()),
        };
        functions.push(FunctionReport {
            function: s.func.display_path.clone(),
            file: paths.report_path(&s.func.file),
            line: s.func.line,
            end_line: s.func.end_line,
            status,
            reason,
            base: match (&s.base, status) {
                (Ok(_), "tested") => Some("compared with the code before the change".into()),
                (Err(why), "tested") if change.base.is_some() && !engines.is_empty() => {
                    Some(why.clone())
                }
                _ => None,
            },
            engines,
            caller_of: s.caller_of.map(|h| selected[h].func.display_path.clone()),
            tested_through: through,
        });
    }
    functions.extend(notes);
    // Introduced findings first; then the rest, each group in the order found.
    findings.sort_by_key(|f| (!f.introduced, f.elapsed_ms));
    Ok(Report {
        schema: report::SCHEMA,
        base: change.changes.as_ref().and_then(|c| c.base.clone()),
        head: "working tree".into(),
        functions,
        findings,
        timing: Timing {
            build_ms,
            run_ms,
            total_ms: t_start.elapsed().as_millis() as u64,
        },
    })
}

/// Holds this workspace's scratch dir for the run: a second run on the same workspace waits
/// instead of overwriting the first one's copies and harness.
fn lock_work_dir(work: &Path, progress: &Progress) -> Result<std::fs::File> {
    std::fs::create_dir_all(work)
        .map_err(|e| Error::io(format!("creating {}", work.display()), e))?;
    let path = work.join(".lock");
    let file = std::fs::File::create(&path)
        .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
    if file.try_lock().is_err() {
        progress.step(format!(
            "waiting for another cargo-edgecheck run to finish with {}",
            work.display()
        ));
        file.lock()
            .map_err(|e| Error::io(format!("locking {}", path.display()), e))?;
    }
    Ok(file)
}

/// The change to test: from `--function` (no diff; a base only with an explicit `--base`), a
/// diff file, or git.
fn find_change(cli: &Cli, ws: &workspace::Workspace, cwd: &Path) -> Result<Change> {
    if let Some(diff_file) = &cli.diff {
        let file = if diff_file.is_absolute() {
            diff_file.clone()
        } else {
            cwd.join(diff_file)
        };
        let changes = diff::changes_from_diff_file(&file)?;
        let root = diff_root(&changes, &ws.root);
        let base = Some(BaseSource::Diff {
            file,
            root: root.clone(),
        });
        return Ok(Change {
            changes: Some(changes),
            report_root: root,
            base,
        });
    }
    if !cli.functions.is_empty() {
        let repo = diff::repo_root(&ws.root).ok();
        let base = match (&repo, &cli.base) {
            (Some(repo), Some(rev)) => Some(BaseSource::Commit {
                repo: repo.clone(),
                sha: diff::resolve_base(repo, Some(rev))?,
            }),
            _ => None,
        };
        return Ok(Change {
            changes: None,
            report_root: repo.unwrap_or_else(|| ws.root.clone()),
            base,
        });
    }
    let repo = diff::repo_root(&ws.root)?;
    let sha = diff::resolve_base(&repo, cli.base.as_deref())?;
    let changes = diff::changes_from_git(&repo, &sha)?;
    Ok(Change {
        changes: Some(changes),
        report_root: repo.clone(),
        base: Some(BaseSource::Commit { repo, sha }),
    })
}

/// The scanned modules per package, the selected functions, and notes on packages that cannot
/// be tested.
type Selection = (Vec<Vec<Module>>, Vec<Selected>, Vec<FunctionReport>);

/// For a `--function` pattern that named nothing: the closest names, and the files that could
/// not be read.
type Unmatched = (Vec<String>, Vec<String>);

/// The changed (or named) functions of every selected package, with their plans; and notes for
/// changed packages that cannot be tested at all.
fn select_functions(cli: &Cli, ws: &workspace::Workspace, change: &Change) -> Result<Selection> {
    let mut modules_per_package = Vec::new();
    let mut selected = Vec::new();
    let mut notes = Vec::new();
    // `--function` patterns that named nothing in some package: closest names, unread files.
    let mut unmatched: BTreeMap<String, Unmatched> = BTreeMap::new();
    let mut hit: BTreeSet<String> = BTreeSet::new();
    for (i, pkg) in ws.packages.iter().enumerate() {
        let Some(lib) = &pkg.lib else {
            modules_per_package.push(Vec::new());
            // Named functions (`--function`) may be in it as well as changed ones.
            let touched = change.changes.as_ref().is_none_or(|ch| {
                ch.files
                    .keys()
                    .any(|f| change.report_root.join(f).starts_with(&pkg.dir))
            });
            if touched {
                notes.push(FunctionReport::skipped(
                    pkg.name.clone(),
                    PathMap::relative(&change.report_root, &pkg.dir),
                    0,
                    if pkg.proc_macro {
                        "proc-macro crate: its functions run inside the compiler and cannot be linked into a harness".into()
                    } else {
                        "binary-only package: only library crates can be linked into a harness"
                            .into()
                    },
                ));
            }
            continue;
        };
        let mut modules = select::scan_modules(lib);
        // Files the build script makes (in OUT_DIR, or written into the source tree) are read
        // where a build of a copy puts them.
        let built_lib;
        let lib = match pkg.build_script && modules.iter().any(|m| m.needs_build) {
            true => match run_build_script(ws, pkg)? {
                Some(built) => {
                    built_lib = select::CrateSource {
                        built: Some(built),
                        ..lib.clone()
                    };
                    modules = select::scan_modules(&built_lib);
                    &built_lib
                }
                None => lib,
            },
            false => lib,
        };
        let funcs = match &change.changes {
            Some(ch) => {
                // A changed file syn cannot read: its functions are listed as not tested.
                for (file, why) in select::unparsed_changed(&modules, ch, &change.report_root)? {
                    let rel = PathMap::relative(&change.report_root, &file);
                    notes.push(FunctionReport::skipped(
                        format!("{} (functions in {rel})", lib.name),
                        rel,
                        why.line,
                        format!("its file could not be parsed: {why}"),
                    ));
                }
                select::select_changed(lib, &modules, ch, &change.report_root)?
            }
            None => {
                let named = select::select_by_path(lib, &modules, &cli.functions)?;
                hit.extend(
                    cli.functions
                        .iter()
                        .filter(|p| !named.unmatched.iter().any(|(u, _)| u == *p))
                        .cloned(),
                );
                for (pattern, closest) in named.unmatched {
                    let entry = unmatched.entry(pattern).or_default();
                    entry.0.extend(closest);
                    entry.1.extend(select::unparsed_files(&modules));
                }
                named.functions
            }
        };
        let types = types::CrateTypes::collect(&modules, lib.edition);
        let all = select::all_functions(lib, &modules);
        // Each target is seeded with what the crate itself says about its inputs.
        let vocabulary = vocab::Vocabulary::collect(lib, &modules, &all, &pkg.dir);
        let funcs: Vec<ChangedFn> = funcs
            .into_iter()
            .map(|mut f| {
                f.literals = vocabulary.literals_for(&f);
                f
            })
            .collect();
        let first = selected.len();
        for func in funcs {
            let plan = plan::plan(&func, &types);
            let base = Err("no comparable base: no base revision".to_string());
            selected.push(Selected {
                package: i,
                func,
                plan,
                base,
                caller_of: None,
            });
        }
        // A helper that cannot be called directly, or is private (its callers may guarantee
        // what random inputs break), is also tested through the functions that call it.
        let helpers: Vec<usize> = (first..selected.len())
            .filter(|&h| {
                let s = &selected[h];
                matches!(s.plan, Plan::Skip(_)) || !s.func.is_pub
            })
            .collect();
        if !helpers.is_empty() {
            for h in helpers {
                let helper = selected[h].func.clone();
                let mut callers: Vec<&ChangedFn> = all
                    .iter()
                    .filter(|c| {
                        // A method is called as a method, a free function as one.
                        let name = helper.name.trim_start_matches("r#").to_string();
                        let calls = match helper.kind {
                            FnKind::Free => &c.called.free,
                            _ => &c.called.methods,
                        };
                        calls.contains(&name) && c.skip.is_none()
                    })
                    .filter(|c| {
                        !selected
                            .iter()
                            .any(|s| s.func.display_path == c.display_path)
                    })
                    .collect();
                // Public callers first: they see only inputs the crate's users can give.
                callers.sort_by_key(|c| (!c.is_pub, c.display_path.clone()));
                let planned = callers
                    .into_iter()
                    .map(|c| {
                        let mut c = c.clone();
                        c.literals = vocabulary.literals_for(&c);
                        let plan = plan::plan(&c, &types);
                        (c, plan)
                    })
                    .filter(|(_, p)| matches!(p, Plan::Call(_)))
                    .take(MAX_CALLERS)
                    .collect::<Vec<_>>();
                for (func, plan) in planned {
                    selected.push(Selected {
                        package: i,
                        func,
                        plan,
                        base: Err("no comparable base: no base revision".to_string()),
                        caller_of: Some(h),
                    });
                }
            }
        }
        modules_per_package.push(modules);
    }
    // A pattern counts as matched when it named something in any package.
    let missing: Vec<(String, Unmatched)> = unmatched
        .into_iter()
        .filter(|(p, _)| !hit.contains(p))
        .collect();
    if change.changes.is_none() && selected.is_empty() && notes.is_empty() {
        let (pattern, (closest, unparsed)) = missing.into_iter().next().unwrap_or_default();
        return Err(Error::NoSuchFunction {
            pattern,
            closest,
            unparsed,
        });
    }
    // The others go on: a pattern that names nothing is listed with the closest names.
    for (pattern, (closest, _)) in missing {
        let hint = match closest.is_empty() {
            true => String::new(),
            false => format!(" (closest: {})", closest.join(", ")),
        };
        notes.push(FunctionReport::skipped(
            pattern.clone(),
            String::new(),
            0,
            format!("no function matches `{pattern}`{hint}"),
        ));
    }
    Ok((modules_per_package, selected, notes))
}

/// The directory a `--diff` file's paths are relative to: the workspace root when its files are
/// there, else the repository root.
fn diff_root(changes: &diff::ChangeSet, ws_root: &Path) -> PathBuf {
    let found_in = |root: &Path| changes.files.keys().any(|f| root.join(f).is_file());
    if found_in(ws_root) {
        return ws_root.to_path_buf();
    }
    diff::repo_root(ws_root)
        .ok()
        .filter(|r| found_in(r))
        .unwrap_or_else(|| ws_root.to_path_buf())
}

/// The harness's name for package `p` of the head copy is this prefix and `p`.
const HEAD_ALIAS_PREFIX: &str = "edgecheck_p";

fn head_alias(p: usize) -> String {
    format!("{HEAD_ALIAS_PREFIX}{p}")
}

fn base_alias(p: usize) -> String {
    format!("edgecheck_b{p}")
}

/// Writes the scratch copies (head, and base when there is one) with entry modules for
/// `callable`, and the harness crate. Returns where injected code landed.
fn write_scratch(
    ws: &workspace::Workspace,
    head_files: &BTreeMap<PathBuf, Vec<u8>>,
    modules: &[Vec<Module>],
    base_tree: Option<&BaseTree>,
    selected: &[Selected],
    callable: &[usize],
) -> Result<Vec<shadow::InjectedSpan>> {
    let head_root = ws.work.join("head");
    let base_root = ws.work.join("base");
    let mut files = head_files.clone();
    shadow::rewrite_manifests(&mut files, &ws.root)?;
    shadow::strip_exports(&mut files);
    let mut base_files = base_tree.map(|b| {
        let mut f = b.files.clone();
        shadow::strip_exports(&mut f);
        f
    });
    let mut spans = Vec::new();
    let mut deps = Vec::new();
    let packages: BTreeSet<usize> = callable.iter().map(|&i| selected[i].package).collect();
    for &p in &packages {
        let pkg = &ws.packages[p];
        let rel = pkg.dir.strip_prefix(&ws.root).unwrap_or(Path::new(""));
        let in_package = || {
            callable
                .iter()
                .copied()
                .filter(move |&i| selected[i].package == p)
        };
        let exposed: Vec<shadow::Exposed> = in_package()
            .filter_map(|i| match &selected[i].plan {
                Plan::Call(plan) => Some(shadow::Exposed {
                    id: i,
                    func: &selected[i].func,
                    plan,
                }),
                Plan::Skip(_) => None,
            })
            .collect();
        spans.extend(shadow::inject(
            &mut files,
            &ws.root,
            &head_root,
            &modules[p],
            &exposed,
        )?);
        let (features, default_features) = ws.features.for_package(pkg);
        deps.push(generate::HarnessDep {
            alias: head_alias(p),
            package: pkg.name.clone(),
            path: head_root.join(rel),
            features: features.clone(),
            default_features,
        });
        let base_exposed: Vec<shadow::Exposed> = in_package()
            .filter_map(|i| {
                selected[i].base.as_ref().ok().map(|b| shadow::Exposed {
                    id: i,
                    func: &b.func,
                    plan: &b.plan,
                })
            })
            .collect();
        if let (Some(tree), Some(bf)) = (base_tree, base_files.as_mut()) {
            if !base_exposed.is_empty() {
                spans.extend(shadow::inject(
                    bf,
                    &ws.work.join("base-src"),
                    &base_root,
                    &tree.modules[p],
                    &base_exposed,
                )?);
                deps.push(generate::HarnessDep {
                    alias: base_alias(p),
                    package: base::base_package_name(&pkg.name),
                    path: base_root.join(rel),
                    features: features.clone(),
                    default_features,
                });
            }
        }
    }
    shadow::sync_tree(&head_root, &files)?;
    if let Some(bf) = &base_files {
        shadow::sync_tree(&base_root, bf)?;
    }

    let aliases: Vec<(String, String)> = (0..ws.packages.len())
        .map(|p| (head_alias(p), base_alias(p)))
        .collect();
    let targets: Vec<generate::Target> = callable
        .iter()
        .filter_map(|&i| match &selected[i].plan {
            Plan::Call(plan) => Some(generate::Target {
                id: i,
                dep_alias: &aliases[selected[i].package].0,
                base_alias: selected[i]
                    .base
                    .is_ok()
                    .then(|| aliases[selected[i].package].1.as_str()),
                func: &selected[i].func,
                plan,
                compare_result: selected[i].base.as_ref().map_or(true, |b| b.compare_result),
            }),
            Plan::Skip(_) => None,
        })
        .collect();
    let harness_dir = ws.work.join("harness");
    let mut harness_files = generate::render(&ws.harness_name, &deps, &targets);
    // Keep the harness's lock file; start it from the workspace's so the user's dependency
    // versions are the ones tested.
    let lock = std::fs::read(harness_dir.join("Cargo.lock"))
        .or_else(|_| std::fs::read(ws.root.join("Cargo.lock")));
    if let Ok(lock) = lock {
        harness_files.insert(PathBuf::from("Cargo.lock"), lock);
    }
    shadow::sync_tree(&harness_dir, &harness_files)?;
    Ok(spans)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Head,
    Base,
}

/// Who build errors belong to.
enum Blame {
    /// Targets (or only their base side) to drop, with the reason.
    Targets(Vec<(usize, Side, String)>),
    /// An error in the user's own code at the head: the crate does not build.
    Unexplained,
}

/// Pins build errors on targets: errors in a target's generated module or injected wrapper drop
/// that target (only its base side when the base's code is at fault, or first when it has
/// one); any error in the base copy outside injected code drops every base side. Errors
/// anywhere else mean the crate itself does not build.
fn blame(
    errors: &[build::Diag],
    spans: &[shadow::InjectedSpan],
    harness_dir: &Path,
    base_root: &Path,
    callable: &[usize],
    selected: &[Selected],
) -> Blame {
    let mut out: Vec<(usize, Side, String)> = Vec::new();
    for e in errors {
        let first_line = build::strip_ansi(&e.rendered)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        let Some(file) = &e.file else {
            return Blame::Unexplained;
        };
        let in_base = file.starts_with(base_root);
        if let Some(t) = file
            .strip_prefix(harness_dir)
            .ok()
            .and_then(generate::target_of_file)
        {
            // A generated module that fails with a base side may fail because of it: drop that first.
            let side = if selected.get(t).is_some_and(|s| s.base.is_ok()) {
                Side::Base
            } else {
                Side::Head
            };
            // The entry point, or the entry module of a module on its path (`m_<name>`), is
            // missing when a `#[cfg]` compiles the function out.
            let compiled_out = (first_line.contains("cannot find")
                || first_line.contains("could not find"))
                && (first_line.contains(shadow::ENTRY_MODULE) || first_line.contains("`m_"));
            let reason = if compiled_out {
                let cfgs = selected
                    .get(t)
                    .map(|s| s.func.cfg_attrs.join(" "))
                    .unwrap_or_default();
                compiled_out_reason(&cfgs)
            } else {
                format!("the generated harness does not compile: {first_line}")
            };
            let head_missing = compiled_out && !first_line.contains("edgecheck_b");
            out.push((t, if head_missing { Side::Head } else { side }, reason));
            continue;
        }
        let hit = spans.iter().find(|s| {
            &s.file == file && s.line == e.line && s.columns.0 <= e.column && e.column < s.columns.1
        });
        let side = if in_base { Side::Base } else { Side::Head };
        match hit {
            Some(s) if s.target.is_some() => {
                let t = s.target.unwrap_or_default();
                // A method behind a `#[cfg]` is missing from its type in this configuration.
                let cfgs = selected
                    .get(t)
                    .map(|s| s.func.cfg_attrs.join(" "))
                    .unwrap_or_default();
                let missing = selected.get(t).is_some_and(|s| {
                    first_line.contains(&format!("`{}`", s.func.name))
                        && (first_line.contains("no function or associated item named")
                            || first_line.contains("cannot find function"))
                });
                // A type it takes, declared behind a `#[cfg]` the configuration leaves out.
                let type_compiled_out = first_line.contains("cannot find type")
                    && first_line.contains("in module `super`");
                let reason = if missing && !cfgs.is_empty() {
                    compiled_out_reason(&cfgs)
                } else if type_compiled_out {
                    let ty = first_line.split('`').nth(1).unwrap_or("a type it takes");
                    format!("not compiled in this configuration: `{ty}`, which it takes, is behind a `#[cfg]`")
                } else {
                    format!("the generated entry point does not compile: {first_line}")
                };
                out.push((t, side, reason));
            }
            _ if in_base => {
                for &t in callable.iter().filter(|&&t| selected[t].base.is_ok()) {
                    out.push((
                        t,
                        Side::Base,
                        format!("the code before the change does not build ({first_line})"),
                    ));
                }
            }
            Some(s) if s.child.is_some() => {
                // A child module's entry module is missing: the module is not compiled (a
                // `#[cfg]` on it, or a cfg macro around its declaration). Everything reached
                // through it goes, with that reason.
                let child = s.child.clone().unwrap_or_default();
                for &t in callable {
                    let through = |m: &[String]| m.starts_with(&child);
                    let mut adts = Vec::new();
                    if let Plan::Call(plan) = &selected[t].plan {
                        plan.args.iter().for_each(|a| a.ty.collect_adts(&mut adts));
                    }
                    if through(&selected[t].func.module) || adts.iter().any(|d| through(&d.module))
                    {
                        out.push((
                            t,
                            side,
                            format!(
                                "not compiled in this configuration: module `{}` is left out (a `#[cfg]` on it or a cfg macro around its declaration); enable the features it needs with `--features`",
                                child.join("::")
                            ),
                        ));
                    }
                }
            }
            Some(s) => {
                // The module plumbing failed: every target reached through that file goes.
                for &t in callable {
                    if spans
                        .iter()
                        .any(|x| x.target == Some(t) && x.file == s.file)
                    {
                        out.push((
                            t,
                            Side::Head,
                            format!("the generated entry point does not compile: {first_line}"),
                        ));
                    }
                }
            }
            None => return Blame::Unexplained,
        }
    }
    if out.is_empty() {
        return Blame::Unexplained;
    }
    Blame::Targets(out)
}

/// Runs the build script of `pkg` in a copy of the workspace (`cargo check --lib`), and says
/// where its output is: its `OUT_DIR`, and the copy, where files it writes into the source tree
/// are. `None` when the check fails or runs no build script of the package.
fn run_build_script(
    ws: &workspace::Workspace,
    pkg: &workspace::Package,
) -> Result<Option<select::BuildOutputs>> {
    let mut files = shadow::workspace_files(&ws.root)?;
    shadow::rewrite_manifests(&mut files, &ws.root)?;
    // A copy of its own: the head copy is rewritten (and generated files removed) later.
    let copy = ws.work.join("built");
    shadow::sync_tree(&copy, &files)?;
    let rel = pkg.dir.strip_prefix(&ws.root).unwrap_or(Path::new(""));
    let copy_dir = match rel.as_os_str().is_empty() {
        true => copy.clone(),
        false => copy.join(rel),
    };
    let (outcome, out_dirs) = build::check_library(
        &copy_dir.join("Cargo.toml"),
        &ws.scratch.join("target-lib"),
        cli_jobs_default(),
        &ws.root,
    )?;
    if matches!(outcome, build::Outcome::Failed { .. }) {
        return Ok(None);
    }
    // The package's own build script: its id names the copy's directory.
    // (`path+file:///…/built/x#name@0.1.0`, or `name 0.1.0 (path+file:///…/built/x)`).
    let dir = copy_dir.display().to_string();
    let out_dir = out_dirs
        .into_iter()
        .find(|(id, _)| id.contains(&format!("{dir}#")) || id.contains(&format!("{dir})")))
        .map(|(_, out)| out);
    Ok(out_dir.map(|out_dir| select::BuildOutputs {
        out_dir,
        package_dir: pkg.dir.clone(),
        copy_dir,
    }))
}

/// When a changed file does not parse with syn, builds the library (a pristine copy, `cargo
/// check`) to learn whether rustc agrees: a real syntax error is an error of the run, with
/// rustc's message; code only syn cannot read just leaves that file's functions untested.
fn check_unparsed_changes(
    ws: &workspace::Workspace,
    change: &Change,
    modules: &[Vec<Module>],
    head_files: &BTreeMap<PathBuf, Vec<u8>>,
    progress: &Progress,
) -> Result<()> {
    let Some(changes) = &change.changes else {
        return Ok(());
    };
    let mut unparsed: Vec<(usize, PathBuf, source::ParseError)> = Vec::new();
    for (p, m) in modules.iter().enumerate() {
        for (file, why) in select::unparsed_changed(m, changes, &change.report_root)? {
            unparsed.push((p, file, why));
        }
    }
    if unparsed.is_empty() {
        return Ok(());
    }
    progress.step("checking a changed file that does not parse with rustc");
    let mut files = head_files.clone();
    shadow::rewrite_manifests(&mut files, &ws.root)?;
    let copy = ws.work.join("head");
    shadow::sync_tree(&copy, &files)?;
    for (p, file, why) in &unparsed {
        let pkg = &ws.packages[*p];
        let rel = pkg.dir.strip_prefix(&ws.root).unwrap_or(Path::new(""));
        let manifest = copy.join(rel).join("Cargo.toml");
        let jobs = cli_jobs_default();
        let build::Outcome::Failed { errors, .. } =
            build::build_library(&manifest, &ws.scratch.join("target-lib"), jobs, &ws.root)?
        else {
            continue;
        };
        let rel_file = file.strip_prefix(&ws.root).unwrap_or(file);
        let in_file = errors
            .iter()
            .find(|e| e.file.as_ref().is_some_and(|f| f.ends_with(rel_file)));
        if let Some(e) = in_file {
            let rustc = build::strip_ansi(&e.rendered)
                .lines()
                .next()
                .unwrap_or_default()
                .to_string();
            return Err(Error::Syntax {
                file: PathMap::relative(&change.report_root, file),
                message: why.to_string(),
                rustc,
            });
        }
    }
    Ok(())
}

/// Cargo build jobs when the command line does not say: every core.
fn cli_jobs_default() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// A harness build error no target explains: the user's library is built alone to tell whether
/// the crate itself does not build, or the generated code (the tool's fault) does not.
fn unexplained_build_failure(
    ws: &workspace::Workspace,
    selected: &[Selected],
    callable: &[usize],
    jobs: usize,
    errors: &[build::Diag],
    stderr: &str,
) -> Error {
    let packages: BTreeSet<usize> = callable.iter().map(|&i| selected[i].package).collect();
    for p in packages {
        let pkg = &ws.packages[p];
        let rel = pkg.dir.strip_prefix(&ws.root).unwrap_or(Path::new(""));
        let manifest = ws.work.join("head").join(rel).join("Cargo.toml");
        match build::build_library(&manifest, &ws.scratch.join("target-lib"), jobs, &ws.root) {
            Ok(build::Outcome::Failed { errors, stderr }) => {
                return build_failure(&errors, &stderr)
            }
            Ok(build::Outcome::Built { .. }) => {}
            Err(e) => return e,
        }
    }
    let shown = match build_failure(errors, stderr) {
        Error::CrateBuild(text) | Error::Cargo(text) => text,
        other => other.to_string(),
    };
    Error::HarnessBuild(shown)
}

/// Why a function is not in the build, from the `#[cfg]` attributes on it (`cfgs`, source text;
/// empty when the condition is on a module it is in), with what would bring it in.
fn compiled_out_reason(cfgs: &str) -> String {
    let (on, fix) = match cfgs {
        "" => (
            "it or a module it is in is behind a `#[cfg]`".to_string(),
            "enable the features it needs with `--features`, or set the cfg it needs in RUSTFLAGS",
        ),
        c if c.contains("not(feature") => (
            format!("it is behind `{c}`"),
            "it is left out while that feature is on: try `--no-default-features` with the features it does not exclude",
        ),
        c if c.contains("feature") => (
            format!("it is behind `{c}`"),
            "enable the features it needs with `--features`",
        ),
        c => (
            format!("it is behind `{c}`"),
            "it needs another target or a `--cfg` in RUSTFLAGS",
        ),
    };
    format!("not compiled in this configuration: {on}; {fix}")
}

/// The user's build errors, as the compiler printed them (first few), or cargo's own failure.
fn build_failure(errors: &[build::Diag], stderr: &str) -> Error {
    if errors.is_empty() {
        let tail: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .rev()
            .take(12)
            .collect();
        return Error::Cargo(tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
    }
    let shown: Vec<String> = errors
        .iter()
        .take(3)
        .map(|e| build::strip_ansi(&e.rendered).trim_end().to_string())
        .collect();
    Error::CrateBuild(shown.join("\n"))
}
