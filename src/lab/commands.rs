//! The commands that stop before building: `list` (what a run would test), `emit` (committable harnesses) and `export` (the same fuzz targets handed to another engine).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::change::{find_change, select_functions};
use super::load_workspace;
use super::scratch::render_scratch;
use crate::cli::{Cli, ClusterFuzzLiteArgs, EmitArgs, Format, ListArgs};
use crate::emit;
use crate::error::{Error, Result};
use crate::export;
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

/// The selected functions that can have a committed harness, by package (index into the
/// workspace's packages), and those that cannot, with the reason.
type Emittables<'a> = (
    Vec<(usize, Vec<emit::Emittable<'a>>)>,
    Vec<(String, String)>,
);

fn emittables<'a>(ws: &workspace::Workspace, selected: &'a [Target]) -> Emittables<'a> {
    let mut skipped = Vec::new();
    let mut packages = Vec::new();
    for (p, package) in ws.packages.iter().enumerate() {
        if package.lib.is_none() {
            continue;
        }
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
        if !fns.is_empty() {
            packages.push((p, fns));
        }
    }
    (packages, skipped)
}

/// The error when no selected function can have a harness: each one with the reason.
fn nothing_to(verb: &str, skipped: &[(String, String)]) -> Error {
    let why = match skipped.is_empty() {
        true => "no changed function was found".to_string(),
        false => skipped
            .iter()
            .map(|(function, why)| format!("skipped {function}: {why}"))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    Error::Usage(format!("nothing to {verb}: {why}"))
}

/// `p` as the user sees it: relative to the current directory, `.` for it.
fn shown(cwd: &Path, p: &Path) -> String {
    match PathMap::relative(cwd, p) {
        s if s.is_empty() => ".".to_string(),
        s => s,
    }
}

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
    let (packages, skipped) = emittables(&ws, &selected);
    if packages.is_empty() {
        return Err(nothing_to("emit", &skipped));
    }
    let mut lines = Vec::new();
    for (p, fns) in &packages {
        let package = &ws.packages[*p];
        let lib = package
            .lib
            .as_ref()
            .expect("emittables keeps library packages");
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
                properties: true,
                cases: args.cases,
                force: args.force,
            },
            fns,
        )?;
        lines.push(format!(
            "wrote {} property test(s) to {} and {} cargo-fuzz target(s) to {}",
            written.tests.len(),
            shown(&cwd, &dir.join(emit::TESTS_FILE)),
            written.fuzz_targets.len(),
            shown(&cwd, &dir.join("fuzz")),
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
                shown(&cwd, &dir)
            ));
        }
    }
    for (function, why) in &skipped {
        lines.push(format!("skipped {function}: {why}"));
    }
    println!("{}", lines.join("\n"));
    Ok(())
}

/// `cargo edgecheck export clusterfuzzlite`: the cargo-fuzz targets `emit` writes, each in its
/// package's `fuzz/`, and `.clusterfuzzlite/` under `--out` to build and fuzz them there.
pub(super) fn export_clusterfuzzlite(cli: &Cli, args: &ClusterFuzzLiteArgs) -> Result<()> {
    let cwd = std::env::current_dir().map_err(|e| Error::io("reading the current directory", e))?;
    let out = export::check_out_dir(&cwd.join(&args.out))?;
    let (ws, cli) = load_workspace(cli, &cwd)?;
    let cli = &cli;
    let change = find_change(cli, &ws, &cwd)?;
    let selected = select_functions(cli, &ws, &change)?.targets;
    let (packages, skipped) = emittables(&ws, &selected);
    if packages.is_empty() {
        return Err(nothing_to("export", &skipped));
    }
    // Everything is checked before the first file is written.
    let mut project = export::Project {
        name: ws.packages[packages[0].0].name.clone(),
        crates: Vec::new(),
    };
    for (p, fns) in &packages {
        let package = &ws.packages[*p];
        project.crates.push(export::FuzzCrate {
            package: package.name.clone(),
            dir: export::package_dir(&out, &package.name, &package.dir)?,
            targets: emit::unique_names(fns),
        });
    }
    export::check_files(&out, &project, args.force)?;

    let mut lines = Vec::new();
    let mut try_first = None;
    for ((p, fns), krate) in packages.iter().zip(&mut project.crates) {
        let package = &ws.packages[*p];
        let lib = package
            .lib
            .as_ref()
            .expect("emittables keeps library packages");
        let written = emit::write_package(
            &emit::PackageEmit {
                package,
                crate_name: &lib.name,
                out: package.dir.clone(),
                features: ws.features.for_package(package),
                properties: false,
                cases: 0,
                force: args.force,
            },
            fns,
        )?;
        lines.push(format!(
            "wrote {} cargo-fuzz target(s) to {} ({})",
            written.fuzz_targets.len(),
            shown(&cwd, &package.dir.join("fuzz")),
            written.fuzz_targets.join(", "),
        ));
        if let (None, Some(first)) = (&try_first, written.fuzz_targets.first()) {
            try_first = Some((first.clone(), package.dir.clone()));
        }
        krate.targets = written.manifest_targets;
    }
    for earlier in export::previous_crates(&out) {
        if !project.crates.iter().any(|c| c.dir == earlier.dir) {
            project.crates.push(earlier);
        }
    }
    project.crates.sort_by(|a, b| a.dir.cmp(&b.dir));
    export::write(&out, &project, args.force)?;
    let cfl = out.join(export::CFL_DIR);
    lines.push(format!(
        "wrote {} (project.yaml, Dockerfile, build.sh): build.sh builds {} target(s) with `cargo fuzz build -O` and copies them to $OUT",
        shown(&cwd, &cfl),
        project.crates.iter().map(|c| c.targets.len()).sum::<usize>(),
    ));
    lines.push(
        "  commit them, and run ClusterFuzzLite with google/clusterfuzzlite/actions (build_fuzzers, run_fuzzers; `language: rust`): `mode: code-change` on pull requests, `mode: batch` on a schedule".to_string(),
    );
    if let Some((first, dir)) = try_first {
        lines.push(format!(
            "  fuzz one target here (stable Rust): `cargo fuzz run -s none {first}` in {}",
            shown(&cwd, &dir)
        ));
    }
    for (function, why) in &skipped {
        lines.push(format!("skipped {function}: {why}"));
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
