//! What a run tests: the change (git, a diff file or `--function`), the functions it selects with their plans, and the callers of changed helpers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{cli_jobs_default, AiScope, Change, MAX_CALLERS};
use crate::base::BaseSource;
use crate::build;
use crate::cli::{AiOnly, Cli};
use crate::config;
use crate::diff;
use crate::error::{Error, Result};
use crate::git;
use crate::ids::TargetId;
use crate::plan::{self, Plan};
use crate::provenance;
use crate::report::{FunctionReport, Progress};
use crate::select::{self, ChangedFn, FnKind, Module};
use crate::shadow;
use crate::source;
use crate::target::{Origin, Target};
use crate::triage::PathMap;
use crate::types;
use crate::vocab;
use crate::workspace;

/// The change to test: from `--function` (no diff; a base only with an explicit `--base`), a
/// diff file, or git.
pub(super) fn find_change(cli: &Cli, ws: &workspace::Workspace, cwd: &Path) -> Result<Change> {
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
            ai: None,
        });
    }
    if !cli.functions.is_empty() {
        let repo = git::repo_root(&ws.root).ok();
        let base = match (&repo, &cli.base) {
            (Some(repo), Some(rev)) => Some(BaseSource::Commit {
                repo: repo.clone(),
                sha: git::resolve_base(repo, Some(rev))?,
            }),
            _ => None,
        };
        return Ok(Change {
            changes: None,
            report_root: repo.unwrap_or_else(|| ws.root.clone()),
            base,
            ai: None,
        });
    }
    let repo = git::repo_root(&ws.root)?;
    let sha = git::resolve_base(&repo, cli.base.as_deref())?;
    let changes = diff::changes_from_git(&repo, &sha)?;
    let (changes, ai) = match cli.ai_only {
        Some(which) => {
            let scope = ai_scope(cli, &repo, &sha, changes, which)?;
            let part = provenance::ai_changes(
                &repo,
                &sha,
                &scope.whole,
                &scope.commits,
                scope.uncommitted,
            )?;
            (part, Some(scope))
        }
        None => (changes, None),
    };
    Ok(Change {
        changes: Some(changes),
        report_root: repo.clone(),
        base: Some(BaseSource::Commit { repo, sha }),
        ai,
    })
}

/// The AI-assisted commits in `base..HEAD`: all of them when the pull request carries the
/// label, else those the patterns match.
fn ai_scope(
    cli: &Cli,
    repo: &Path,
    base: &str,
    whole: diff::ChangeSet,
    which: AiOnly,
) -> Result<AiScope> {
    let label = cli.ai_label.as_deref().unwrap_or(DEFAULT_AI_LABEL);
    let labelled = provenance::pull_request_labels()?
        .iter()
        .any(|l| l.eq_ignore_ascii_case(label));
    let patterns = provenance::AiPatterns::new(&cli.ai_patterns)?;
    let commits = provenance::ai_commits(repo, base, &patterns, labelled.then_some(label))?;
    Ok(AiScope {
        commits,
        uncommitted: which == AiOnly::IncludeUncommitted,
        whole,
    })
}

/// The pull-request label that marks every commit of it as AI-assisted, unless configured.
pub(super) const DEFAULT_AI_LABEL: &str = "ai-assisted";

/// What a run tests: the crates as parsed once (modules with their items, and types, per
/// package), the targets, and notes on what cannot be tested at all.
pub(super) struct Selection {
    pub modules: Vec<Vec<Module>>,
    pub types: Vec<types::CrateTypes>,
    pub targets: Vec<Target>,
    pub notes: Vec<FunctionReport>,
    /// With `--ai-only`: the changed functions no AI-assisted commit touched.
    pub left_out: Vec<String>,
}

/// For a `--function` pattern that named nothing: the closest names, and the files that could
/// not be read.
type Unmatched = (Vec<String>, Vec<String>);

/// The changed (or named) functions of every selected package, with their plans; and notes for
/// changed packages that cannot be tested at all.
pub(super) fn select_functions(
    cli: &Cli,
    ws: &workspace::Workspace,
    change: &Change,
) -> Result<Selection> {
    let mut modules_per_package = Vec::new();
    let mut types_per_package = Vec::new();
    let mut selected = Vec::new();
    let mut notes = Vec::new();
    let mut left_out = Vec::new();
    let exclude = config::excluded(&cli.exclude)?;
    let excluded_by = |f: &ChangedFn| {
        let file = f.file.strip_prefix(&ws.root).unwrap_or(&f.file);
        exclude.matching(&f.display_path, file).map(str::to_string)
    };
    // `--function` patterns that named nothing in some package: closest names, unread files.
    let mut unmatched: BTreeMap<String, Unmatched> = BTreeMap::new();
    let mut hit: BTreeSet<String> = BTreeSet::new();
    for (i, pkg) in ws.packages.iter().enumerate() {
        let Some(lib) = &pkg.lib else {
            modules_per_package.push(Vec::new());
            types_per_package.push(types::CrateTypes::default());
            notes.extend(no_library_note(pkg, change));
            continue;
        };
        let mut modules = select::scan_modules(lib);
        // Files the build script makes (in OUT_DIR, or written into the source tree) are read
        // where a build of a copy puts them.
        let built_lib;
        let lib = match pkg.build_script && modules.iter().any(|m| m.needs_build) {
            true => match run_build_script(ws, pkg)? {
                Some(built) => {
                    built_lib = source::CrateSource {
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
                for m in select::changed_macros(&modules, ch, &change.report_root)? {
                    notes.push(FunctionReport::skipped(
                        format!("{}::{}", lib.name, m.path),
                        PathMap::relative(&change.report_root, &m.file),
                        m.line,
                        m.reason(),
                    ));
                }
                let funcs = select::select_changed(lib, &modules, ch, &change.report_root)?;
                match &change.ai {
                    // Of the whole change, only what an AI-assisted commit touched: a later
                    // commit may have taken out what an earlier one wrote.
                    Some(ai) => {
                        let whole =
                            select::select_changed(lib, &modules, &ai.whole, &change.report_root)?;
                        let key = |f: &ChangedFn| (f.file.clone(), f.line, f.display_path.clone());
                        let ours: BTreeSet<_> = funcs.iter().map(key).collect();
                        left_out.extend(
                            whole
                                .iter()
                                .filter(|f| !ours.contains(&key(f)))
                                .map(|f| f.display_path.clone()),
                        );
                        let whole: BTreeSet<_> = whole.iter().map(key).collect();
                        funcs
                            .into_iter()
                            .filter(|f| whole.contains(&key(f)))
                            .collect()
                    }
                    None => funcs,
                }
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
        // What the configuration or `--exclude` leaves out of a change is listed, not tested.
        let funcs = match change.changes {
            Some(_) => {
                let (kept, out): (Vec<_>, Vec<_>) =
                    funcs.into_iter().partition(|f| excluded_by(f).is_none());
                notes.extend(out.iter().map(|f| {
                    FunctionReport::skipped(
                        f.display_path.clone(),
                        PathMap::relative(&change.report_root, &f.file),
                        f.line,
                        format!("excluded by `{}`", excluded_by(f).unwrap_or_default()),
                    )
                }));
                kept
            }
            None => funcs,
        };
        let funcs: Vec<ChangedFn> = match cli.shard {
            Some(shard) => funcs
                .into_iter()
                .filter(|f| shard.contains(&f.display_path))
                .collect(),
            None => funcs,
        };
        let types = types::CrateTypes::collect(&modules);
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
            let id = TargetId(selected.len());
            selected.push(Target::new(id, i, func, plan, Origin::Changed));
        }
        let callers = |c: &ChangedFn| excluded_by(c).is_none();
        add_callers(&mut selected, first, i, &all, &callers, &vocabulary, &types);
        modules_per_package.push(modules);
        types_per_package.push(types);
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
    // With `--shard`, what cannot be tested is listed by the part its path falls in, so the
    // parts together list it once.
    if let Some(shard) = cli.shard {
        notes.retain(|n| shard.contains(&n.function));
        left_out.retain(|f| shard.contains(f));
    }
    Ok(Selection {
        modules: modules_per_package,
        types: types_per_package,
        targets: selected,
        notes,
        left_out,
    })
}

/// A package without a library target that the change touches (or `--function` may name):
/// why its functions cannot be tested.
fn no_library_note(pkg: &workspace::Package, change: &Change) -> Option<FunctionReport> {
    // Named functions (`--function`) may be in it as well as changed ones.
    let touched = change.changes.as_ref().is_none_or(|ch| {
        ch.files
            .keys()
            .any(|f| change.report_root.join(f).starts_with(&pkg.dir))
    });
    let why = match pkg.proc_macro {
        true => "proc-macro crate: its functions run inside the compiler and cannot be linked into a harness",
        false => "binary-only package: only library crates can be linked into a harness",
    };
    touched.then(|| {
        FunctionReport::skipped(
            pkg.name.clone(),
            PathMap::relative(&change.report_root, &pkg.dir),
            0,
            why.into(),
        )
    })
}

/// Adds, for each helper among `selected[first..]` (of package `package`), up to
/// [`MAX_CALLERS`] functions of `all` that call it, are `eligible` and can be called themselves.
fn add_callers(
    selected: &mut Vec<Target>,
    first: usize,
    package: usize,
    all: &[ChangedFn],
    eligible: &dyn Fn(&ChangedFn) -> bool,
    vocabulary: &vocab::Vocabulary,
    types: &types::CrateTypes,
) {
    // A helper that cannot be called directly, or is private (its callers may guarantee
    // what random inputs break), is also tested through the functions that call it.
    let helpers: Vec<usize> = (first..selected.len())
        .filter(|&h| {
            let s = &selected[h];
            matches!(s.plan, Plan::Skip(_)) || !s.func.is_pub
        })
        .collect();
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
                calls.contains(&name) && c.skip.is_none() && eligible(c)
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
                let plan = plan::plan(&c, types);
                (c, plan)
            })
            .filter(|(_, p)| matches!(p, Plan::Call(_)))
            .take(MAX_CALLERS)
            .collect::<Vec<_>>();
        for (func, plan) in planned {
            let id = TargetId(selected.len());
            let origin = Origin::CallerOf(TargetId(h));
            selected.push(Target::new(id, package, func, plan, origin));
        }
    }
}

/// The directory a `--diff` file's paths are relative to: the workspace root when its files are
/// there, else the repository root.
pub(super) fn diff_root(changes: &diff::ChangeSet, ws_root: &Path) -> PathBuf {
    let found_in = |root: &Path| changes.files.keys().any(|f| root.join(f).is_file());
    if found_in(ws_root) {
        return ws_root.to_path_buf();
    }
    git::repo_root(ws_root)
        .ok()
        .filter(|r| found_in(r))
        .unwrap_or_else(|| ws_root.to_path_buf())
}

/// Runs the build script of `pkg` in a copy of the workspace (`cargo check --lib`), and says
/// where its output is: its `OUT_DIR`, and the copy, where files it writes into the source tree
/// are. `None` when the check fails or runs no build script of the package.
pub(super) fn run_build_script(
    ws: &workspace::Workspace,
    pkg: &workspace::Package,
) -> Result<Option<source::BuildOutputs>> {
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
    Ok(out_dir.map(|out_dir| source::BuildOutputs {
        out_dir,
        package_dir: pkg.dir.clone(),
        copy_dir,
    }))
}

/// When a changed file does not parse with syn, builds the library (a pristine copy, `cargo
/// check`) to learn whether rustc agrees: a real syntax error is an error of the run, with
/// rustc's message; code only syn cannot read just leaves that file's functions untested.
pub(super) fn check_unparsed_changes(
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
