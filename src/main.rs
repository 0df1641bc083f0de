//! `cargo edgecheck`: finds the edge cases a code change missed. This file wires the stages of
//! the pipeline together (see DESIGN.md in the project root): workspace → diff → select → plan →
//! shadow → generate → build → run → triage → report.

mod build;
mod cli;
mod diff;
mod error;
mod generate;
mod plan;
mod report;
mod run;
mod select;
mod shadow;
mod triage;
mod workspace;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::cli::{Cli, ColorChoice, Format};
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::report::{FunctionReport, Progress, Report, Timing};
use crate::select::{ChangedFn, Module};
use crate::triage::PathMap;

fn main() -> ExitCode {
    let cli = Cli::parse_from(cli::args_from_env());
    match cli.color {
        ColorChoice::Always => console::set_colors_enabled_stderr(true),
        ColorChoice::Never => console::set_colors_enabled_stderr(false),
        ColorChoice::Auto => {}
    }
    let progress = Progress::new(cli.quiet);
    let outcome = run(&cli, &progress);
    progress.finish();
    match outcome {
        Ok(report) => match emit(&cli, &report) {
            Ok(()) => ExitCode::from(if report.findings.iter().any(|f| f.introduced) {
                1
            } else {
                0
            }),
            Err(e) => fail(&e),
        },
        Err(e) => fail(&e),
    }
}

fn fail(e: &Error) -> ExitCode {
    eprintln!("{} {e}", console::style("error:").red().bold().for_stderr());
    ExitCode::from(2)
}

/// Writes the report where and how the user asked.
fn emit(cli: &Cli, report: &Report) -> Result<()> {
    let to_file = cli.output.is_some();
    let text = match cli.format {
        Format::Json => report.to_json(),
        Format::Human if to_file => console::strip_ansi_codes(&report.to_human()).into_owned(),
        Format::Human => {
            if cli.color == ColorChoice::Never {
                console::set_colors_enabled(false);
            } else if cli.color == ColorChoice::Always {
                console::set_colors_enabled(true);
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

/// A selected function with its plan, in the package it belongs to.
struct Selected {
    package: usize,
    func: ChangedFn,
    plan: Plan,
}

/// Runs the whole pipeline and returns the report.
fn run(cli: &Cli, progress: &Progress) -> Result<Report> {
    let t_start = Instant::now();
    let cwd = std::env::current_dir().map_err(|e| Error::io("reading the current directory", e))?;
    progress.step("reading the workspace");
    let ws = workspace::load(
        &workspace::WorkspaceArgs {
            manifest_path: cli.manifest_path.clone(),
            packages: cli.packages.clone(),
            workspace: cli.workspace,
            target_dir: cli.target_dir.clone(),
        },
        &cwd,
    )?;

    // Which lines changed, and what paths in reports are relative to.
    progress.step("finding the changed functions");
    let (changes, report_root) = if !cli.functions.is_empty() {
        (
            None,
            diff::repo_root(&ws.root).unwrap_or_else(|_| ws.root.clone()),
        )
    } else if let Some(diff_file) = &cli.diff {
        let diff_file = if diff_file.is_absolute() {
            diff_file.clone()
        } else {
            cwd.join(diff_file)
        };
        let changes = diff::changes_from_diff_file(&diff_file)?;
        let root = diff_root(&changes, &ws.root);
        (Some(changes), root)
    } else {
        let repo = diff::repo_root(&ws.root)?;
        let base = diff::resolve_base(&repo, cli.base.as_deref())?;
        (Some(diff::changes_from_git(&repo, &base)?), repo)
    };

    let mut modules_per_package: Vec<Vec<Module>> = Vec::new();
    let mut selected: Vec<Selected> = Vec::new();
    let mut notes: Vec<FunctionReport> = Vec::new();
    for (i, pkg) in ws.packages.iter().enumerate() {
        let Some(lib) = &pkg.lib else {
            modules_per_package.push(Vec::new());
            continue;
        };
        let modules = select::scan_modules(lib)?;
        let funcs = match &changes {
            Some(ch) => select::select_changed(lib, &modules, ch, &report_root)?,
            None => match select::select_by_path(lib, &modules, &cli.functions) {
                Ok(f) => f,
                // With several packages, a pattern needs to match in one of them only.
                Err(Error::NoSuchFunction(_)) if ws.packages.len() > 1 => Vec::new(),
                Err(e) => return Err(e),
            },
        };
        for func in funcs {
            let plan = plan::plan(&func);
            selected.push(Selected {
                package: i,
                func,
                plan,
            });
        }
        modules_per_package.push(modules);
    }
    if changes.is_none() && selected.is_empty() {
        return Err(Error::NoSuchFunction(cli.functions.join(", ")));
    }
    let paths = PathMap {
        copy_root: ws.work.join("head"),
        ws_root: ws.root.clone(),
        report_root: report_root.clone(),
    };
    // Binary-only packages with changes cannot be linked into a harness: say so.
    for pkg in ws.packages.iter().filter(|p| p.lib.is_none()) {
        if let Some(ch) = &changes {
            let touched = ch
                .files
                .keys()
                .any(|f| report_root.join(f).starts_with(&pkg.dir));
            if touched {
                notes.push(FunctionReport {
                    function: pkg.name.clone(),
                    file: paths.report_path(&pkg.dir),
                    line: 0,
                    status: "skipped",
                    reason: Some(
                        "binary-only package: only library crates can be linked into a harness"
                            .into(),
                    ),
                    engines: BTreeMap::new(),
                });
            }
        }
    }
    if cli.verbose > 0 {
        progress.println(format!(
            "edgecheck: {} changed function(s); scratch dir {}",
            selected.len(),
            ws.scratch.display()
        ));
    }

    // Shadow, generate and build; a target that does not compile is dropped and the rest rebuilt.
    let mut dropped: BTreeMap<usize, String> = BTreeMap::new();
    let t_build = Instant::now();
    let jobs = cli
        .jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        })
        .max(1);
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
        let spans = write_scratch(&ws, &modules_per_package, &selected, &callable)?;
        let spec = build::BuildSpec {
            name: ws.harness_name.clone(),
            harness_dir: ws.work.join("harness"),
            target_dir: ws.scratch.join("target"),
            jobs,
        };
        let step = |name: &str| progress.step(format!("building the harness: compiled {name}"));
        match build::build(&spec, &step)? {
            build::Outcome::Built { binary } => break Some(binary),
            build::Outcome::Failed { errors, stderr } => {
                let blamed = blame(&errors, &spans, &spec.harness_dir, &callable);
                if blamed.is_empty() {
                    return Err(Error::CrateBuild(build_failure_text(&errors, &stderr)));
                }
                for (target, why) in blamed {
                    dropped.insert(target, why);
                }
            }
        }
    };
    let build_ms = t_build.elapsed().as_millis() as u64;

    // Run every target within its share of the budget.
    let t_run = Instant::now();
    let callable: Vec<usize> = (0..selected.len())
        .filter(|i| matches!(selected[*i].plan, Plan::Call(_)) && !dropped.contains_key(i))
        .collect();
    let mut runs: BTreeMap<usize, run::TargetRun> = BTreeMap::new();
    if let Some(binary) = binary {
        let rounds = callable.len().div_ceil(jobs).max(1) as u32;
        let per_target = (cli.budget / rounds).max(Duration::from_millis(200));
        let spec = run::RunSpec {
            binary,
            workdir: paths.copy_root.clone(),
            scratch: ws.work.join("runs"),
            timeout: cli.timeout,
            jobs,
            seed: cli.seed,
            malloc_limit_mb: cli.memory_limit,
        };
        let engines: Vec<String> = cli.engines.iter().map(|e| e.name().to_string()).collect();
        let run_jobs = run::plan_jobs(&callable, &engines, jobs, per_target);
        progress.start_targets(callable.len() as u64, per_target * rounds);
        let mut on_done = |_: &run::TargetRun| progress.target_done();
        for r in run::run_all(&spec, run_jobs, &mut on_done)? {
            runs.insert(r.target, r);
        }
    }
    let run_ms = t_run.elapsed().as_millis() as u64;

    // Triage and report.
    let mut findings = Vec::new();
    let mut functions = Vec::new();
    for (i, s) in selected.iter().enumerate() {
        let (status, reason, engines) = match (&s.plan, dropped.get(&i), runs.get(&i)) {
            (Plan::Skip(why), _, _) => ("skipped", Some(why.clone()), BTreeMap::new()),
            (_, Some(why), _) => ("skipped", Some(why.clone()), BTreeMap::new()),
            (_, None, Some(r)) => {
                findings.extend(triage::triage(&s.func, &r.findings, &paths));
                ("tested", None, r.execs.clone())
            }
            (_, None, None) => ("skipped", Some("not run".to_string()), BTreeMap::new()),
        };
        functions.push(FunctionReport {
            function: s.func.display_path.clone(),
            file: paths.report_path(&s.func.file),
            line: s.func.line,
            status,
            reason,
            engines,
        });
    }
    functions.extend(notes);
    Ok(Report {
        schema: report::SCHEMA,
        base: changes.as_ref().and_then(|c| c.base.clone()),
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

/// Writes the scratch copy with entry modules for `callable`, and the harness crate.
fn write_scratch(
    ws: &workspace::Workspace,
    modules: &[Vec<Module>],
    selected: &[Selected],
    callable: &[usize],
) -> Result<Vec<shadow::InjectedSpan>> {
    let copy_root = ws.work.join("head");
    let mut files = shadow::workspace_files(&ws.root)?;
    shadow::rewrite_manifests(&mut files, &ws.root)?;
    let mut spans = Vec::new();
    let mut deps = Vec::new();
    let packages: BTreeSet<usize> = callable.iter().map(|&i| selected[i].package).collect();
    for &p in &packages {
        let exposed: Vec<shadow::Exposed> = callable
            .iter()
            .filter(|&&i| selected[i].package == p)
            .filter_map(|&i| match &selected[i].plan {
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
            &copy_root,
            &modules[p],
            &exposed,
        )?);
        let pkg = &ws.packages[p];
        let rel = pkg.dir.strip_prefix(&ws.root).unwrap_or(Path::new(""));
        deps.push(generate::HarnessDep {
            alias: format!("edgecheck_p{p}"),
            package: pkg.name.clone(),
            path: copy_root.join(rel),
        });
    }
    shadow::sync_tree(&copy_root, &files)?;

    let aliases: Vec<String> = (0..ws.packages.len())
        .map(|p| format!("edgecheck_p{p}"))
        .collect();
    let targets: Vec<generate::Target> = callable
        .iter()
        .filter_map(|&i| match &selected[i].plan {
            Plan::Call(plan) => Some(generate::Target {
                id: i,
                dep_alias: &aliases[selected[i].package],
                func: &selected[i].func,
                plan,
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

/// The targets that build errors point at, with the reason to give when dropping them. Errors
/// anywhere else mean the crate itself does not build.
fn blame(
    errors: &[build::Diag],
    spans: &[shadow::InjectedSpan],
    harness_dir: &Path,
    callable: &[usize],
) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut unexplained = false;
    for e in errors {
        let first_line = build::strip_ansi(&e.rendered)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        let why = format!("the generated harness does not compile: {first_line}");
        let Some(file) = &e.file else {
            unexplained = true;
            continue;
        };
        if let Some(t) = file
            .strip_prefix(harness_dir)
            .ok()
            .and_then(generate::target_of_file)
        {
            out.push((t, why));
            continue;
        }
        let hit: Vec<&shadow::InjectedSpan> = spans
            .iter()
            .filter(|s| {
                &s.file == file
                    && s.line == e.line
                    && s.columns.0 <= e.column
                    && e.column < s.columns.1
            })
            .collect();
        match hit.first() {
            Some(s) if s.target.is_some() => out.push((s.target.unwrap_or_default(), why)),
            Some(s) => {
                // The module plumbing failed: every target reached through that file goes.
                for &t in callable {
                    if spans
                        .iter()
                        .any(|x| x.target == Some(t) && x.file == s.file)
                    {
                        out.push((t, why.clone()));
                    }
                }
            }
            None => unexplained = true,
        }
    }
    if unexplained {
        return Vec::new();
    }
    out
}

/// The build errors that are the user's, as the compiler printed them (first few).
fn build_failure_text(errors: &[build::Diag], stderr: &str) -> String {
    if errors.is_empty() {
        let tail: Vec<&str> = stderr.lines().rev().take(12).collect();
        return tail.into_iter().rev().collect::<Vec<_>>().join("\n");
    }
    errors
        .iter()
        .take(3)
        .map(|e| build::strip_ansi(&e.rendered).trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}
