//! Runs the pipeline: each command (`cargo edgecheck`, `list`, `emit`) as the stages in order,
//! workspace → diff → select → plan → base → shadow → generate → build → run → triage → report.

mod blame;
mod change;
mod commands;
mod prove;
mod scratch;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::base::{self, BaseSource, BaseTree, NoBase};
use crate::build;
use crate::cli::{Cli, ColorChoice, Command, ExportEngine, FailOn, Format, Sanitizer};
use crate::config;
use crate::contain::{self, Containment, SandboxStatus};
use crate::diff;
use crate::error::{exit_code, Error, Result};
use crate::ids::TargetId;
use crate::plan::Plan;
use crate::protocol::Engine;
use crate::provenance;
use crate::report::{self, FunctionReport, Progress, Report, Status, Timing};
use crate::run;
use crate::select::Module;
use crate::shadow;
use crate::target::Target;
use crate::triage::{self, PathMap};
use crate::types;
use crate::workspace;

use blame::{blame, build_failure, unexplained_build_failure, Blame, Side};
use change::{check_unparsed_changes, find_change, select_functions, Selection};
pub use commands::generated_code;
use commands::{emit_harnesses, export_clusterfuzzlite, list_functions};
use prove::prove_findings;
use scratch::write_scratch;

/// Runs the command `cli` names. Returns the exit status of a run that ended normally:
/// [`exit_code::FINDINGS`] when a finding meets `--fail-on`, else [`exit_code::OK`].
pub fn dispatch(cli: &Cli) -> Result<u8> {
    match &cli.command {
        Some(Command::Emit(args)) => emit_harnesses(cli, args).map(|()| exit_code::OK),
        Some(Command::List(args)) => list_functions(cli, args).map(|()| exit_code::OK),
        Some(Command::Export(args)) => match &args.engine {
            ExportEngine::ClusterFuzzLite(a) => {
                export_clusterfuzzlite(cli, a).map(|()| exit_code::OK)
            }
        },
        Some(Command::Merge(args)) => {
            check_outputs(cli)?;
            let (report, fail_on) = merge_reports(cli, &args.reports)?;
            write_report(cli, &report)?;
            Ok(exit_status(&report, fail_on))
        }
        None => {
            let t_start = Instant::now();
            check_outputs(cli)?;
            let progress = Progress::new(cli.quiet);
            let outcome = run(cli, &progress, t_start);
            progress.finish();
            let (report, fail_on) = outcome?;
            write_report(cli, &report)?;
            Ok(exit_status(&report, fail_on))
        }
    }
}

/// [`exit_code::FINDINGS`] when a finding meets `fail_on`, else [`exit_code::OK`].
fn exit_status(report: &Report, fail_on: FailOn) -> u8 {
    let failing = report.findings.iter().any(|f| match fail_on {
        FailOn::Introduced => f.introduced,
        FailOn::Any => true,
        FailOn::Never => false,
    });
    match failing {
        true => exit_code::FINDINGS,
        false => exit_code::OK,
    }
}

/// `cargo edgecheck merge`: the shard reports read back and combined, and which findings fail
/// the merged run (`--fail-on` when given, else the shards' setting).
fn merge_reports(cli: &Cli, paths: &[PathBuf]) -> Result<(Report, FailOn)> {
    let mut reports = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("reading the report {}", path.display()), e))?;
        let report: Report = serde_json::from_str(&text).map_err(|e| {
            Error::Usage(format!(
                "{} is not a JSON report of cargo edgecheck (`--format json`): {e}",
                path.display()
            ))
        })?;
        reports.push(report);
    }
    let merged = report::merge(reports).map_err(Error::Usage)?;
    let fail_on = match cli.given.iter().any(|g| g == "fail_on") {
        true => cli.fail_on,
        false => <FailOn as clap::ValueEnum>::from_str(&merged.settings.fail_on, false)
            .unwrap_or(cli.fail_on),
    };
    Ok((merged, fail_on))
}

/// Most callers tested for one changed helper.
const MAX_CALLERS: usize = 3;

/// Which lines changed, where reports point, and where the base comes from.
struct Change {
    changes: Option<diff::ChangeSet>,
    report_root: PathBuf,
    base: Option<BaseSource>,
    /// With `--ai-only`: the AI-assisted commits, and the whole change (`changes` is then the
    /// part of it those commits wrote).
    ai: Option<AiScope>,
}

/// What `--ai-only` keeps of the change.
struct AiScope {
    commits: Vec<provenance::AiCommit>,
    uncommitted: bool,
    whole: diff::ChangeSet,
}

/// The workspace, and the command line with the workspace's configuration applied under it.
fn load_workspace(cli: &Cli, cwd: &Path) -> Result<(workspace::Workspace, Cli)> {
    let ws = workspace::load(
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
    )?;
    let settled = config::settle(cli, &ws)?;
    Ok((ws, settled))
}

/// Everything a run has once the harness is built.
struct Built {
    ws: workspace::Workspace,
    /// The command line with the configuration applied under it.
    cli: Cli,
    change: Change,
    left_out: Vec<String>,
    notes: Vec<FunctionReport>,
    paths: PathMap,
    head: Sources,
    base_tree: Option<BaseTree>,
    harness: Harness,
    selected: Vec<Target>,
    build_ms: u64,
    /// Holds the scratch dir for this run to its end.
    _lock: std::fs::File,
}

/// Runs the whole pipeline and returns the report, and which findings fail the run (the
/// configuration may say). `t_start`: when the tool started, which `--time-limit` counts from.
fn run(cli: &Cli, progress: &Progress, t_start: Instant) -> Result<(Report, FailOn)> {
    // Up to the end of the build, `--time-limit` is kept by a watchdog that kills the build.
    let mut watch = time_limit_watchdog(t_start, cli.time_limit, true);
    let built = build_stage(cli, progress, t_start, &mut watch);
    if let Some(limit) = watch
        .as_ref()
        .filter(|w| w.fired())
        .and(cli_limit(&built, cli))
    {
        return Err(Error::TimeLimit {
            limit,
            elapsed: t_start.elapsed(),
        });
    }
    drop(watch);
    let Built {
        ws,
        cli,
        change,
        left_out,
        notes,
        paths,
        head,
        base_tree,
        harness,
        selected,
        build_ms,
        _lock,
    } = built?;
    let cli = &cli;
    let t_build_end = Instant::now();
    let budget = PostBuild::new(cli, t_start, t_build_end);

    let t_run = Instant::now();
    let ran = run_targets(cli, &ws, &selected, &harness, &budget, progress)?;
    let run_ms = t_run.elapsed().as_millis() as u64;

    let (functions, found) = triage_all(
        &selected,
        &harness.dropped,
        &ran.runs,
        &ran.cuts,
        &paths,
        &change,
    );
    let (found_by, mut findings): (Vec<TargetId>, Vec<triage::Finding>) = found.into_iter().unzip();
    if ran.sandbox.as_ref().is_some_and(SandboxStatus::active) {
        explain_sandbox_refusals(&mut findings);
    }
    let mut verify_ms = None;
    if cli.verify && !findings.is_empty() {
        // A build, outside the budget; inside `--time-limit`, which stops it.
        let t_verify = Instant::now();
        let watch = time_limit_watchdog(t_start, cli.time_limit, false);
        let proved = prove_findings(
            cli,
            &ws,
            &head,
            base_tree.as_ref(),
            &selected,
            &found_by,
            &mut findings,
            watch.as_ref().map(|w| w.flag()),
            progress,
        );
        match (proved, watch.as_ref().is_some_and(|w| w.fired())) {
            (Err(_), true) => {
                for f in &mut findings {
                    f.verified = Some(false);
                    f.verification = Some(crate::verify::TIME_UP.into());
                }
            }
            (proved, _) => proved?,
        }
        verify_ms = Some(t_verify.elapsed().as_millis() as u64);
    }
    let after_build = t_build_end
        .elapsed()
        .saturating_sub(std::time::Duration::from_millis(verify_ms.unwrap_or(0)));
    let after_build_ms = after_build.as_millis() as u64;
    let slots = harness.jobs as u64;
    let (engines_ms, follow_ups_ms) = (
        ran.spent.engines.as_millis() as u64,
        ran.spent.follow_ups.as_millis() as u64,
    );
    if cli.verbose > 0 {
        progress.println(format!(
            "edgecheck: the budget of {}: {:.2}s after the build; process time on {slots} core(s): engines {:.2}s, follow-ups {:.2}s",
            humantime::format_duration(budget.budget),
            after_build.as_secs_f64(),
            ran.spent.engines.as_secs_f64(),
            ran.spent.follow_ups.as_secs_f64(),
        ));
    }
    let report = Report {
        schema: report::SCHEMA.into(),
        base: change.changes.as_ref().and_then(|c| c.base.clone()),
        head: "working tree".into(),
        ai: change.ai.map(|ai| report::AiReport {
            uncommitted: ai.uncommitted,
            commits: ai.commits,
            left_out,
        }),
        settings: report::Settings {
            budget_ms: cli.budget.as_millis() as u64,
            timeout_ms: cli.timeout.as_millis() as u64,
            engines: cli.engines.clone(),
            fail_on: cli.fail_on.name().to_string(),
            shard: cli.shard.map(|s| s.to_string()),
            sandbox: ran.sandbox.map(|s| s.describe()),
            time_limit_ms: cli.time_limit.map(|d| d.as_millis() as u64),
        },
        functions: functions.into_iter().chain(notes).collect(),
        findings,
        timing: Timing {
            build_ms,
            run_ms,
            total_ms: t_start.elapsed().as_millis() as u64,
            build_end_ms: (t_build_end - t_start).as_millis() as u64,
            budget_ms: budget.budget.as_millis() as u64,
            after_build_ms,
            jobs: slots,
            engines_ms,
            follow_ups_ms,
            idle_ms: (slots * after_build_ms).saturating_sub(engines_ms + follow_ups_ms),
            verify_ms,
        },
    };
    Ok((report, cli.fail_on))
}

/// The time limit that applies: the configuration's once it was read, else the command line's.
fn cli_limit(built: &Result<Built>, cli: &Cli) -> Option<std::time::Duration> {
    match built {
        Ok(b) => b.cli.time_limit,
        Err(_) => cli.time_limit,
    }
}

/// With `limit`, a watchdog that kills every process the tool started once `limit` has
/// passed since `t_start`. `hard`: when the work has not returned a few seconds later, it ends
/// the tool with the time limit's error and exit status (before the build; `--verify` returns
/// once its processes are killed).
fn time_limit_watchdog(
    t_start: Instant,
    limit: Option<std::time::Duration>,
    hard: bool,
) -> Option<crate::child::Watchdog> {
    let limit = limit?;
    let grace = std::time::Duration::from_secs(3);
    Some(crate::child::Watchdog::arm(
        t_start + limit,
        grace,
        move || {
            if hard {
                let e = Error::TimeLimit {
                    limit,
                    elapsed: t_start.elapsed(),
                };
                eprintln!("{} {e}", console::style("error:").red().bold().for_stderr());
                std::process::exit(e.exit_code().into());
            }
        },
    ))
}

/// The stages up to the built harness: the workspace, the change, the selection, the base
/// and the build. `watch` keeps `--time-limit`, armed again when the configuration sets it.
fn build_stage(
    cli: &Cli,
    progress: &Progress,
    t_start: Instant,
    watch: &mut Option<crate::child::Watchdog>,
) -> Result<Built> {
    let cwd = std::env::current_dir().map_err(|e| Error::io("reading the current directory", e))?;
    progress.step("reading the workspace");
    let (ws, cli) = load_workspace(cli, &cwd)?;
    if watch.is_none() && cli.time_limit.is_some() {
        *watch = time_limit_watchdog(t_start, cli.time_limit, true);
    }
    let cli_ref = &cli;
    let lock = lock_work_dir(&ws.work, progress)?;
    progress.step("finding the changed functions");
    let change = find_change(cli_ref, &ws, &cwd)?;
    let Selection {
        modules,
        types,
        targets: selected,
        notes,
        left_out,
    } = select_functions(cli_ref, &ws, &change)?;

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
    let head = Sources {
        files: shadow::workspace_files(&ws.root)?,
        modules,
        types,
    };
    // A changed file syn cannot read is a syntax error only if rustc says so too.
    check_unparsed_changes(&ws, &change, &head.modules, &head.files, progress)?;
    let (base_tree, selected) = read_base(&ws, &change, &head, selected, progress)?;

    let t_build = Instant::now();
    let (harness, selected) =
        build_harness(cli_ref, &ws, &head, base_tree.as_ref(), selected, progress)?;
    let build_ms = t_build.elapsed().as_millis() as u64;
    Ok(Built {
        ws,
        cli,
        change,
        left_out,
        notes,
        paths,
        head,
        base_tree,
        harness,
        selected,
        build_ms,
        _lock: lock,
    })
}

/// The budget after the build: `--budget`, or what `--time-limit` leaves when that is less.
struct PostBuild {
    start: Instant,
    budget: std::time::Duration,
    /// The time limit, when it cut the budget.
    cut_by: Option<std::time::Duration>,
}

impl PostBuild {
    fn new(cli: &Cli, t_start: Instant, t_build_end: Instant) -> PostBuild {
        let mut out = PostBuild {
            start: t_build_end,
            budget: cli.budget,
            cut_by: None,
        };
        if let Some(limit) = cli.time_limit {
            // Left after the build, less the budget's own tolerance, so that the run ends
            // within the limit even at its latest.
            let left = (t_start + limit).saturating_duration_since(t_build_end);
            let left = left.saturating_sub((left / 20).min(std::time::Duration::from_secs(1)));
            if left < out.budget {
                out.budget = left;
                out.cut_by = Some(limit);
            }
        }
        out
    }

    /// `the budget (5s)`, and where it came from when `--time-limit` cut it.
    fn text(&self) -> String {
        match self.cut_by {
            None => format!("the budget ({})", seconds(self.budget)),
            Some(limit) => format!(
                "the budget ({}, what --time-limit {} left after the build)",
                seconds(self.budget),
                humantime::format_duration(limit)
            ),
        }
    }
}

/// A duration as a person reads it in a reason: `5s`, `1.56s`, `0.13s`.
fn seconds(d: std::time::Duration) -> String {
    let text = format!("{:.2}", d.as_secs_f64());
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}s")
}

/// The workspace at the head (the working tree): its files, and per package its scanned
/// modules and types.
struct Sources {
    files: BTreeMap<PathBuf, Vec<u8>>,
    modules: Vec<Vec<Module>>,
    types: Vec<types::CrateTypes>,
}

/// The code before the change (`None` when there is no base or nothing to call), and the
/// targets with their counterparts in it.
fn read_base(
    ws: &workspace::Workspace,
    change: &Change,
    head: &Sources,
    selected: Vec<Target>,
    progress: &Progress,
) -> Result<(Option<BaseTree>, Vec<Target>)> {
    let Some(source) = &change.base else {
        return Ok((None, selected));
    };
    if !selected.iter().any(Target::is_callable) {
        return Ok((None, selected));
    }
    progress.step("reading the code before the change");
    let wanted: Vec<base::Wanted> = selected
        .iter()
        .map(|s| (s.package, &s.func, &s.plan))
        .collect();
    let (tree, sides) = base::prepare(ws, source, &head.files, &head.types, &wanted)?;
    let selected = selected
        .into_iter()
        .zip(sides)
        .map(|(t, base)| Target { base, ..t })
        .collect();
    Ok((tree, selected))
}

/// The built harness binaries, the engines they serve, and the targets dropped because their
/// generated code does not compile (with the reason).
struct Harness {
    plain: Option<PathBuf>,
    fuzz: Option<PathBuf>,
    engines: Vec<Engine>,
    dropped: BTreeMap<TargetId, String>,
    jobs: usize,
}

impl Harness {
    /// The targets that were built and can be run, in order.
    fn callable(&self, selected: &[Target]) -> Vec<TargetId> {
        callable(selected, &self.dropped)
    }

    fn built(&self) -> bool {
        self.plain.is_some() || self.fuzz.is_some()
    }
}

/// The selected functions with a plan to call them that are not dropped.
fn callable(selected: &[Target], dropped: &BTreeMap<TargetId, String>) -> Vec<TargetId> {
    selected
        .iter()
        .filter(|t| t.is_callable() && !dropped.contains_key(&t.id))
        .map(|t| t.id)
        .collect()
}

/// How the harness is built for this run: cargo jobs, the sanitizer, and the crates libFuzzer's
/// coverage instruments.
struct BuildSettings {
    jobs: usize,
    asan: bool,
    instrumented: Vec<String>,
}

impl BuildSettings {
    fn spec(&self, ws: &workspace::Workspace, fuzz: bool) -> build::BuildSpec {
        // AddressSanitizer builds with nightly, in a target dir of its own so the stable
        // builds' cache is not thrown away each time.
        let target_dir = match fuzz && self.asan {
            true => ws.build_dir.with_file_name("target-asan"),
            false => ws.build_dir.clone(),
        };
        build::BuildSpec {
            name: ws.harness_name.clone(),
            harness_dir: ws.work.join("harness"),
            target_dir,
            jobs: self.jobs,
            fuzz,
            instrumented: self.instrumented.clone(),
            asan: self.asan,
            config_dir: ws.root.clone(),
            cache: ws.cache.clone(),
        }
    }
}

/// Shadow, generate and build: a target that does not compile is dropped (or only its base
/// side) and the rest rebuilt; then the libFuzzer flavour of the same code. Returns the
/// harness and the targets, with the base sides that do not build taken off.
fn build_harness(
    cli: &Cli,
    ws: &workspace::Workspace,
    head: &Sources,
    base_tree: Option<&BaseTree>,
    mut selected: Vec<Target>,
    progress: &Progress,
) -> Result<(Harness, Vec<Target>)> {
    let jobs = cli.jobs.unwrap_or_else(cli_jobs_default).max(1);
    let mut engines: Vec<Engine> = cli.engines.clone();
    engines.dedup();
    let fuzz_only = engines.iter().all(|e| *e == Engine::Libfuzzer);
    let asan = cli.sanitizer == Sanitizer::Address && engines.contains(&Engine::Libfuzzer);
    if asan {
        build::check_nightly()?;
    }
    let settings = BuildSettings {
        jobs,
        asan,
        // The libraries under test, head and base.
        instrumented: ws
            .packages
            .iter()
            .filter_map(|p| p.lib.as_ref().map(|l| (p, l)))
            .flat_map(|(p, l)| {
                [
                    l.name.clone(),
                    base::base_package_name(&p.name).replace('-', "_"),
                ]
            })
            .collect(),
    };
    let mut dropped = BTreeMap::new();
    // One binary serves every engine when libFuzzer is among them: a second, plain flavour
    // would cost a whole second build of the dependencies, and the coverage counters, which
    // only the user's crates carry, cost proptest about 3% of its speed (benches/fuzz_speed.py
    // measures both). AddressSanitizer's flavour is a nightly build that would slow the other
    // engines down, so with it the plain harness comes first. The first build is the one
    // that pins errors on targets.
    let fuzz_first = engines.contains(&Engine::Libfuzzer) && (!asan || fuzz_only);
    let mut build = |fuzz: bool, dropped: &mut BTreeMap<TargetId, String>| {
        build_until_clean(
            ws,
            head,
            base_tree,
            &mut selected,
            &settings.spec(ws, fuzz),
            dropped,
            progress,
        )
    };
    let (plain, mut fuzz) = match build(fuzz_first, &mut dropped) {
        Ok(binary) if fuzz_first => (binary.clone().filter(|_| !fuzz_only), binary),
        Ok(binary) => (binary, None),
        // The libFuzzer flavour can fail where the plain one builds (no C++ compiler for
        // libFuzzer's runtime): the other engines still run, on the plain harness.
        Err(Error::HarnessBuild(why)) if fuzz_first && !fuzz_only => {
            progress.println(libfuzzer_off(&why));
            (build(false, &mut dropped)?, None)
        }
        Err(e) => return Err(e),
    };
    if plain.is_some() && fuzz.is_none() && asan && !fuzz_only {
        progress.step("building the libFuzzer harness");
        let step =
            |name: &str| progress.step(format!("building the libFuzzer harness: compiled {name}"));
        match build::build(&settings.spec(ws, true), &step)? {
            build::Outcome::Built { binary } => fuzz = Some(binary),
            build::Outcome::Failed { errors, stderr } => {
                progress.println(libfuzzer_off(&build_failure(&errors, &stderr).to_string()));
            }
        }
    }
    if fuzz.is_none() {
        engines.retain(|e| *e != Engine::Libfuzzer);
    }
    let harness = Harness {
        plain,
        fuzz,
        engines,
        dropped,
        jobs,
    };
    Ok((harness, selected))
}

/// The warning that the libFuzzer engine is off because its flavour did not build: why, in
/// at most three lines. The other engines still run.
fn libfuzzer_off(why: &str) -> String {
    format!(
        "warning: the libFuzzer engine is off for this run: {}",
        why.lines().take(3).collect::<Vec<_>>().join(" ")
    )
}

/// Writes the scratch copies and the harness for the callable targets and builds it with
/// `spec`; each build error is pinned on a target, which is dropped (or loses its base side),
/// and the rest is built again. `None` when no target is left.
fn build_until_clean(
    ws: &workspace::Workspace,
    head: &Sources,
    base_tree: Option<&BaseTree>,
    selected: &mut [Target],
    spec: &build::BuildSpec,
    dropped: &mut BTreeMap<TargetId, String>,
    progress: &Progress,
) -> Result<Option<PathBuf>> {
    loop {
        let callable = callable(selected, dropped);
        if callable.is_empty() {
            return Ok(None);
        }
        progress.step(format!(
            "building the harness for {} function(s)",
            callable.len()
        ));
        let spans = write_scratch(
            ws,
            &head.files,
            &head.modules,
            base_tree,
            selected,
            &callable,
        )?;
        let step = |name: &str| progress.step(format!("building the harness: compiled {name}"));
        let (errors, stderr) = match build::build(spec, &step)? {
            build::Outcome::Built { binary } => return Ok(Some(binary)),
            build::Outcome::Failed { errors, stderr } => (errors, stderr),
        };
        let blamed = blame(
            &errors,
            &spans,
            &spec.harness_dir,
            &ws.work.join("base"),
            &callable,
            selected,
        );
        let Blame::Targets(list) = blamed else {
            return Err(unexplained_build_failure(
                ws, selected, &callable, spec.jobs, &errors, &stderr,
            ));
        };
        for (t, side, why) in list {
            match side {
                Side::Base => selected[t].base = Err(NoBase::DoesNotBuild(why)),
                Side::Head => {
                    dropped.insert(t, why);
                }
            }
        }
    }
}

/// What the run stage gave.
struct Ran {
    runs: BTreeMap<TargetId, run::TargetRun>,
    sandbox: Option<SandboxStatus>,
    /// What the budget left out, per target.
    cuts: BTreeMap<TargetId, Cut>,
    spent: Spent,
}

/// The harness processes' time.
#[derive(Default)]
struct Spent {
    engines: std::time::Duration,
    follow_ups: std::time::Duration,
}

/// The engines the budget could not give a target, and why.
#[derive(Debug, Clone)]
struct Cut {
    engines: Vec<Engine>,
    why: String,
}

impl Cut {
    /// The report's `not_fuzzed`: `proptest, libfuzzer: <why>`.
    fn text(&self) -> String {
        let names: Vec<&str> = self.engines.iter().map(|e| e.name()).collect();
        format!("{}: {}", names.join(", "), self.why)
    }
}

/// Runs every built target within the budget, on all cores, in the order of the change (by
/// file, then line; a changed helper's callers right after it): when the budget cannot serve
/// every target at the engines' least useful time, the first ones are served.
fn run_targets(
    cli: &Cli,
    ws: &workspace::Workspace,
    selected: &[Target],
    harness: &Harness,
    budget: &PostBuild,
    progress: &Progress,
) -> Result<Ran> {
    let mut ran = Ran {
        runs: BTreeMap::new(),
        sandbox: None,
        cuts: BTreeMap::new(),
        spent: Spent::default(),
    };
    if !harness.built() {
        return Ok(ran);
    }
    let callable = harness.callable(selected);
    let containment = Containment::new(
        !cli.no_sandbox,
        vec![ws.work.join("runs"), ws.scratch.join("corpus")],
    );
    let sandbox = contain::probe(&containment);
    if !sandbox.active() || cli.verbose > 0 {
        progress.println(format!("edgecheck: sandbox {}", sandbox.describe()));
    }
    ran.sandbox = Some(sandbox);
    let spec = run::RunSpec {
        binary: harness.plain.clone(),
        fuzz_binary: harness.fuzz.clone(),
        corpus_root: ws.scratch.join("corpus"),
        scratch: ws.work.join("runs"),
        timeout: cli.timeout,
        jobs: harness.jobs,
        seed: cli.seed,
        malloc_limit_mb: cli.memory_limit,
        strict_floats: cli.strict_floats,
        containment,
        log: cli.verbose > 1,
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
    let window = run::Window::new(budget.start, budget.budget, targets.len());
    let schedule = run::plan_jobs(
        &targets,
        &harness.engines,
        harness.jobs,
        window.engines_end.saturating_duration_since(Instant::now()),
    );
    ran.cuts = planned_cuts(&targets, &harness.engines, &schedule, budget);
    let served = schedule.edge.max(schedule.random);
    progress.start_targets(served as u64, budget.budget);
    let mut on_done = |r: &run::TargetRun| progress.target_done(r.findings.len());
    let outcome = run::run_all(&spec, schedule.jobs, window, &mut on_done)?;
    for (t, engines) in outcome.cut {
        let why = format!(
            "{} ran out before their turn (the follow-ups of findings took the time); raise --budget or narrow with --function",
            budget.text()
        );
        match ran.cuts.get_mut(&t) {
            Some(cut) => {
                cut.engines.extend(engines);
                cut.why = format!("{}; then {why}", cut.why);
            }
            None => {
                ran.cuts.insert(t, Cut { engines, why });
            }
        }
    }
    ran.spent = Spent {
        engines: outcome.engines,
        follow_ups: outcome.follow_ups,
    };
    ran.runs = outcome.runs.into_iter().map(|r| (r.target, r)).collect();
    Ok(ran)
}

/// The engines the plan gives no time to, per target, with the reason.
fn planned_cuts(
    targets: &[run::TargetInfo],
    engines: &[Engine],
    schedule: &run::Schedule,
    budget: &PostBuild,
) -> BTreeMap<TargetId, Cut> {
    let (edge_need, random_need) = run::per_function(engines);
    let random: Vec<Engine> = engines
        .iter()
        .copied()
        .filter(|e| *e != Engine::Edge)
        .collect();
    let has_edge = engines.contains(&Engine::Edge);
    let n = targets.len();
    let advice = "raise --budget or narrow with --function";
    let none = match has_edge {
        true => format!(
            "{} serves {} of {n} functions at the least of {} per function; {advice}",
            budget.text(),
            schedule.edge,
            seconds(edge_need),
        ),
        false => format!(
            "{} serves {} of {n} functions at the least of {} per function; {advice}",
            budget.text(),
            schedule.random,
            seconds(random_need),
        ),
    };
    let some = format!(
        "{} gives them to {} of {n} functions at the least of {} per function; {advice}",
        budget.text(),
        schedule.random,
        seconds(random_need),
    );
    let mut out = BTreeMap::new();
    for (i, t) in targets.iter().enumerate() {
        let edge = has_edge && i < schedule.edge;
        let cut = match (edge, i < schedule.random) {
            (false, false) => Cut {
                engines: engines.to_vec(),
                why: none.clone(),
            },
            (true, false) if !random.is_empty() => Cut {
                engines: random.clone(),
                why: some.clone(),
            },
            _ => continue,
        };
        out.insert(t.id, cut);
    }
    out
}

/// Each selected function's entry in the report, and the findings, triaged, each with the
/// target whose run found it: introduced findings first, then the rest, each group in the
/// order found.
fn triage_all(
    selected: &[Target],
    dropped: &BTreeMap<TargetId, String>,
    runs: &BTreeMap<TargetId, run::TargetRun>,
    cuts: &BTreeMap<TargetId, Cut>,
    paths: &PathMap,
    change: &Change,
) -> (Vec<FunctionReport>, Vec<(TargetId, triage::Finding)>) {
    let mut findings = Vec::new();
    let mut functions = Vec::new();
    let tested_callers = |h: TargetId| -> Vec<String> {
        selected
            .iter()
            .filter(|c| {
                c.caller_of() == Some(h) && runs.contains_key(&c.id) && !dropped.contains_key(&c.id)
            })
            .map(|c| c.func.display_path.clone())
            .collect()
    };
    for s in selected {
        let i = s.id;
        let through = tested_callers(i);
        let (status, reason, engines) = match (&s.plan, dropped.get(&i), runs.get(&i)) {
            (Plan::Skip(why), _, _) if !through.is_empty() => (
                Status::Tested,
                Some(format!("{why}; tested through its callers")),
                BTreeMap::new(),
            ),
            (Plan::Skip(why), _, _) => (Status::Skipped, Some(why.to_string()), BTreeMap::new()),
            (_, Some(why), _) => (Status::Skipped, Some(why.clone()), BTreeMap::new()),
            (_, None, Some(r)) => {
                let no_base = s.base.as_ref().err().map(NoBase::to_string);
                let shape = triage::CallShape::of(&s.plan);
                let mut found =
                    triage::triage(&s.func, &shape, &r.findings, paths, no_base.as_deref());
                if let Some(h) = s.caller_of() {
                    let helper = &selected[h].func;
                    let file = paths.report_path(&helper.file);
                    triage::attribute_to_helper(&mut found, &s.func, helper, &file);
                }
                findings.extend(found.into_iter().map(|f| (i, f)));
                let execs = r.execs.iter().map(|(e, n)| (e.name().to_string(), *n));
                (Status::Tested, None, execs.collect())
            }
            (_, None, None) => match cuts.get(&i) {
                Some(cut) => (
                    Status::Skipped,
                    Some(format!("not fuzzed: {}", cut.why)),
                    BTreeMap::new(),
                ),
                None => (
                    Status::Skipped,
                    Some("not run".to_string()),
                    BTreeMap::new(),
                ),
            },
        };
        functions.push(FunctionReport {
            function: s.func.display_path.clone(),
            file: paths.report_path(&s.func.file),
            line: s.func.line,
            end_line: s.func.end_line,
            status,
            reason,
            base: match (&s.base, status) {
                (Ok(_), Status::Tested) => Some(match runs.get(&i).and_then(|r| r.nondeterministic.as_ref()) {
                    Some((side, args)) => format!(
                        "compared with the code before the change for panics only: {} returned different values when called twice on {}({}), so results are not compared",
                        match side {
                            crate::protocol::Side::Head => "the changed code",
                            crate::protocol::Side::Base => "the code before the change",
                        },
                        triage::call_name(&s.func),
                        args.join(", ")
                    ),
                    None => "compared with the code before the change".into(),
                }),
                (Err(why), Status::Tested) if change.base.is_some() && !engines.is_empty() => {
                    Some(why.to_string())
                }
                _ => None,
            },
            engines,
            caller_of: s.caller_of().map(|h| selected[h].func.display_path.clone()),
            tested_through: through,
            not_fuzzed: cuts.get(&i).map(Cut::text),
        });
    }
    findings.sort_by_key(|(_, f)| (!f.introduced, f.elapsed_ms));
    (functions, findings)
}

/// A finding that is a write (or connection) the sandbox refused says so: the code may work
/// where it runs for real, and `--no-sandbox` tells.
fn explain_sandbox_refusals(findings: &mut [triage::Finding]) {
    for f in findings {
        if f.message.contains("PermissionDenied") || f.message.contains("Permission denied") {
            f.message.push_str(
                " (the sandbox refused it: the code under test may write only to the run's directories and the temp dir; rerun with --no-sandbox if it must write there)",
            );
        }
    }
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

/// Where the report goes, checked before any work starts: one format to `--output` or standard
/// output, or one file per format in `--output-dir` (`github` always to standard output).
fn check_outputs(cli: &Cli) -> Result<()> {
    let to_files = cli
        .format
        .iter()
        .filter(|f| f.file_name().is_some())
        .count();
    if to_files > 1 && cli.output_dir.is_none() {
        return Err(Error::Usage(
            "more than one report format needs `--output-dir DIR`, where each goes to a file of its own".into(),
        ));
    }
    if let Some(dir) = &cli.output_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating the output dir {}", dir.display()), e))?;
        probe_writable(dir)?;
    }
    if let Some(file) = &cli.output {
        if file.is_dir() {
            return Err(Error::Usage(format!(
                "`--output {}` is a directory: name a file, or use `--output-dir`",
                file.display()
            )));
        }
        let parent = match file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !parent.is_dir() {
            return Err(Error::Usage(format!(
                "`--output {}`: the directory {} does not exist; create it first",
                file.display(),
                parent.display()
            )));
        }
        probe_writable(&parent)?;
    }
    Ok(())
}

/// Whether a file can be written in `dir`, found out before a long run rather than after it.
fn probe_writable(dir: &Path) -> Result<()> {
    let probe = dir.join(format!(".edgecheck-probe-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| {
            Error::io(
                format!("the report cannot be written in {}", dir.display()),
                e,
            )
        })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Writes the report in every format the user asked for, where they asked.
fn write_report(cli: &Cli, report: &Report) -> Result<()> {
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).map_err(|e| Error::io(format!("writing {}", path.display()), e))
    };
    let mut formats = cli.format.clone();
    formats.dedup();
    for format in formats {
        let plain = cli.output.is_some() || cli.output_dir.is_some();
        let text = match format {
            Format::Json => report.to_json(),
            Format::Markdown => report::to_markdown(report),
            Format::Github => report::to_github(report),
            Format::Junit => report::to_junit(report),
            Format::Sarif => report::to_sarif(report),
            Format::Human if plain => console::strip_ansi_codes(&report.to_human()).into_owned(),
            Format::Human => {
                match cli.color {
                    ColorChoice::Never => console::set_colors_enabled(false),
                    ColorChoice::Always => console::set_colors_enabled(true),
                    ColorChoice::Auto => {}
                }
                report.to_human()
            }
        };
        match (format.file_name(), &cli.output_dir, &cli.output) {
            (Some(name), Some(dir), _) => write(&dir.join(name), &text)?,
            (Some(_), None, Some(path)) => write(path, &text)?,
            _ => print!("{text}"),
        }
        // In a GitHub Actions job, the annotations come with the review comment as the step's
        // summary.
        if format == Format::Github {
            if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY") {
                use std::io::Write as _;
                let path = PathBuf::from(summary);
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .and_then(|mut f| f.write_all(report::to_markdown(report).as_bytes()))
                    .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
            }
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
