//! The commands that stop before building: `list` (what a run would test) and `emit` (committable harnesses).

use std::path::Path;

use super::change::{find_change, select_functions};
use super::load_workspace;
use crate::cli::{Cli, EmitArgs, Format, ListArgs};
use crate::emit;
use crate::error::{Error, Result};
use crate::git;
use crate::plan::{self, Plan};
use crate::report;
use crate::select;
use crate::triage::PathMap;
use crate::types;

/// `cargo edgecheck emit`: writes committable harnesses for the selected functions and says
/// which could not have one, and why.
pub(super) fn emit_harnesses(cli: &Cli, args: &EmitArgs) -> Result<()> {
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
pub(super) fn list_functions(cli: &Cli, args: &ListArgs) -> Result<()> {
    let cwd = std::env::current_dir().map_err(|e| Error::io("reading the current directory", e))?;
    let ws = load_workspace(cli, &cwd)?;
    let (report_root, listed) = if args.all {
        let root = git::repo_root(&ws.root).unwrap_or_else(|_| ws.root.clone());
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
