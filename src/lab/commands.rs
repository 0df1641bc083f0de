//! The commands that stop before building: `list` (what a run would test) and `emit` (committable harnesses).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::change::{find_change, select_functions};
use super::load_workspace;
use super::scratch::render_scratch;
use crate::cli::{Cli, EmitArgs, Format, ListArgs};
use crate::emit;
use crate::error::{Error, Result};
use crate::git;
use crate::ids::TargetId;
use crate::plan::{self, Plan};
use crate::report;
use crate::select::{self, Module};
use crate::shadow;
use crate::target::{Origin, Target};
use crate::triage::PathMap;
use crate::types;
use crate::vocab;
use crate::workspace;

/// `cargo edgecheck emit`: writes committable harnesses for the selected functions and says
/// which could not have one, and why.
pub(super) fn emit_harnesses(cli: &Cli, args: &EmitArgs) -> Result<()> {
    let cwd = std::env::current_dir().map_err(|e| Error::io("reading the current directory", e))?;
    let (ws, cli) = load_workspace(cli, &cwd)?;
    let cli = &cli;
    let change = find_change(cli, &ws, &cwd)?;
    let selected = select_functions(cli, &ws, &change)?.targets;
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

/// What a run would test, found without building: the changed functions (or those
/// `--function` names, or with `all` every function of the libraries), with their plans.
struct Listing {
    report_root: PathBuf,
    modules: Vec<Vec<Module>>,
    selected: Vec<Target>,
    /// What the selection could not test at all, or left out (unparsed files, excludes).
    notes: Vec<report::FunctionReport>,
}

fn listing(cli: &Cli, ws: &workspace::Workspace, cwd: &Path, all: bool) -> Result<Listing> {
    if !all {
        let change = find_change(cli, ws, cwd)?;
        let selection = select_functions(cli, ws, &change)?;
        return Ok(Listing {
            report_root: change.report_root,
            modules: selection.modules,
            selected: selection.targets,
            notes: selection.notes,
        });
    }
    let mut modules = Vec::new();
    let mut selected = Vec::new();
    for (package, pkg) in ws.packages.iter().enumerate() {
        let Some(lib) = &pkg.lib else {
            modules.push(Vec::new());
            continue;
        };
        let scanned = select::scan_modules(lib);
        let types = types::CrateTypes::collect(&scanned);
        let all = select::all_functions(lib, &scanned);
        let vocabulary = vocab::Vocabulary::collect(lib, &scanned, &all, &pkg.dir);
        for mut func in all.iter().cloned() {
            func.literals = vocabulary.literals_for(&func);
            let plan = plan::plan(&func, &types);
            let id = TargetId(selected.len());
            selected.push(Target::new(id, package, func, plan, Origin::Changed));
        }
        modules.push(scanned);
    }
    Ok(Listing {
        report_root: git::repo_root(&ws.root).unwrap_or_else(|_| ws.root.clone()),
        modules,
        selected,
        notes: Vec::new(),
    })
}

/// `cargo edgecheck list`: the functions a run would test, each with its plan, without building.
pub(super) fn list_functions(cli: &Cli, args: &ListArgs) -> Result<()> {
    let json = match cli.format.as_slice() {
        [Format::Json] => true,
        [Format::Human] => false,
        _ => {
            return Err(Error::Usage(
                "`list` prints one format, `human` or `json`".into(),
            ))
        }
    };
    let cwd = std::env::current_dir().map_err(|e| Error::io("reading the current directory", e))?;
    let (ws, cli) = load_workspace(cli, &cwd)?;
    let cli = &cli;
    let Listing {
        report_root,
        modules,
        selected,
        notes,
    } = listing(cli, &ws, &cwd, args.all)?;
    let listed: Vec<_> = selected
        .into_iter()
        .map(|s| {
            let public = select::public_api(&modules[s.package], &s.func);
            (s.func, s.plan, public)
        })
        .collect();
    let entries: Vec<report::ListedFunction> = listed
        .iter()
        .map(|(func, plan, public)| report::ListedFunction {
            function: func.display_path.clone(),
            file: PathMap::relative(&report_root, &func.file),
            line: func.line,
            public: *public,
            status: match plan {
                Plan::Call(_) => report::ListStatus::Testable,
                Plan::Skip(_) => report::ListStatus::Skipped,
            },
            reason: match plan {
                Plan::Call(_) => None,
                Plan::Skip(why) => Some(why.to_string()),
            },
            arguments: match plan {
                Plan::Call(call) => call.describe(&func.sig),
                Plan::Skip(_) => Vec::new(),
            },
        })
        .chain(notes.into_iter().map(|n| report::ListedFunction {
            function: n.function,
            file: n.file,
            line: n.line,
            public: false,
            status: report::ListStatus::Skipped,
            reason: n.reason,
            arguments: Vec::new(),
        }))
        .collect();
    let text = match json {
        true => report::list_json(&entries),
        false => report::list_human(&entries),
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

/// The code a run would generate for what `cli` selects (every library function with `all`),
/// without building or writing anything: each target module of the harness
/// (`harness/src/targets/t3.rs`) and the lines of the crate's files that the entry modules
/// change (`head/src/lib.rs`), as text. The comparison with the base is left out. For a look
/// at what the tool runs, and for snapshot tests of code generation.
pub fn generated_code(cli: &Cli, all: bool) -> Result<BTreeMap<String, String>> {
    let cwd = std::env::current_dir().map_err(|e| Error::io("reading the current directory", e))?;
    let (ws, cli) = load_workspace(cli, &cwd)?;
    let cli = &cli;
    let listing = listing(cli, &ws, &cwd, all)?;
    let head = shadow::workspace_files(&ws.root)?;
    let callable = super::callable(&listing.selected, &BTreeMap::new());
    let scratch = render_scratch(
        &ws,
        &head,
        &listing.modules,
        None,
        &listing.selected,
        &callable,
    )?;
    let mut out = BTreeMap::new();
    for (path, bytes) in &scratch.harness {
        if path.starts_with("src/targets") {
            let text = String::from_utf8_lossy(bytes).into_owned();
            out.insert(format!("harness/{}", path.display()), text);
        }
    }
    for (path, bytes) in &scratch.head {
        let before = head
            .get(path)
            .map(|b| String::from_utf8_lossy(b).into_owned());
        let after = String::from_utf8_lossy(bytes);
        let before_lines: Vec<&str> = before.as_deref().unwrap_or_default().lines().collect();
        let changed: Vec<String> = after
            .lines()
            .enumerate()
            .filter(|(i, l)| before_lines.get(*i) != Some(l))
            .map(|(i, l)| format!("{}: {l}", i + 1))
            .collect();
        if !changed.is_empty() {
            out.insert(
                format!("head/{}", path.display()),
                changed.join("\n") + "\n",
            );
        }
    }
    Ok(out)
}
