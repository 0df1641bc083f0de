//! `--verify`: where each finding's regression test goes in the scratch copies of the head and
//! the base, and the copies' files, for [`crate::verify`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::base::{self, BaseTree};
use crate::cli::Cli;
use crate::contain::Containment;
use crate::error::Result;
use crate::ids::TargetId;
use crate::report::Progress;
use crate::select::{ChangedFn, Module};
use crate::shadow;
use crate::target::Target;
use crate::triage::Finding;
use crate::verify::{self, CopyPackage, CopySpec, Place, Proof, VerifySpec};
use crate::workspace::Workspace;

use super::Sources;

/// Marks every finding verified or not. `targets[i]` is the target whose run found
/// `findings[i]`: its function is the one the regression test calls.
#[allow(clippy::too_many_arguments)]
pub(super) fn prove_findings(
    cli: &Cli,
    ws: &Workspace,
    head: &Sources,
    base_tree: Option<&BaseTree>,
    selected: &[Target],
    targets: &[TargetId],
    findings: &mut [Finding],
    time_up: Option<&AtomicBool>,
    progress: &Progress,
) -> Result<()> {
    progress.end_targets();
    progress.step(format!(
        "verifying {} finding{}",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" }
    ));
    let mut head_files = head.files.clone();
    shadow::rewrite_manifests(&mut head_files, &ws.root)?;
    with_lock_file(&mut head_files, ws);
    let mut base_files = base_tree.map(|b| b.files.clone());
    if let Some(files) = base_files.as_mut() {
        with_lock_file(files, ws);
    }
    let lib_root = |p: &crate::workspace::Package| {
        p.lib
            .as_ref()
            .map(|l| relative(&l.root_file, &ws.root))
            .unwrap_or_default()
    };
    let features = |p: &crate::workspace::Package| ws.features.for_package(p).0;
    let head_packages = ws
        .packages
        .iter()
        .map(|p| CopyPackage {
            name: p.name.clone(),
            lib_root: lib_root(p),
            features: features(p),
        })
        .collect();
    let base_packages = ws
        .packages
        .iter()
        .map(|p| CopyPackage {
            name: base::base_package_name(&p.name),
            lib_root: lib_root(p),
            features: features(p),
        })
        .collect();
    let base_src = ws.work.join("base-src");
    let proofs: Vec<Proof> = findings
        .iter()
        .zip(targets)
        .map(|(f, &t)| {
            let target = &selected[t];
            if f.regression_test.contains("/* input not recovered */") {
                return Proof::Impossible(
                    "its input was not recovered, so there is no test".into(),
                );
            }
            let Some(head_place) = place(&head.modules[target.package], &target.func, &ws.root)
                .map(|p| Place {
                    package: target.package,
                    ..p
                })
            else {
                return Proof::Impossible(format!(
                    "the module of `{}` was not found in the scratch copy",
                    target.func.display_path
                ));
            };
            // Only an introduced finding claims the base behaves: where there is no counterpart
            // (a new function, a changed signature) there is nothing to run the test on.
            let base_place = match (f.introduced, &target.base, base_tree) {
                (true, Ok(side), Some(tree)) => {
                    place(&tree.modules[target.package], &side.func, &base_src).map(|p| Place {
                        package: target.package,
                        ..p
                    })
                }
                _ => None,
            };
            Proof::Run {
                head: head_place,
                base: base_place,
            }
        })
        .collect();
    let spec = VerifySpec {
        head: CopySpec {
            root: ws.work.join("verify/head"),
            files: &head_files,
            packages: head_packages,
        },
        base: base_files.as_ref().map(|files| CopySpec {
            root: ws.work.join("verify/base"),
            files,
            packages: base_packages,
        }),
        target_dir: ws.scratch.join("target-verify"),
        runs_dir: ws.work.join("verify/runs"),
        config_dir: ws.root.clone(),
        all_features: ws.features.all_features,
        no_default_features: ws.features.no_default_features,
        jobs: cli.jobs.unwrap_or_else(super::cli_jobs_default).max(1),
        timeout: cli.timeout,
        memory_limit_mib: cli.memory_limit,
        // The tests run the code under test: as contained as the harness.
        containment: Containment::new(!cli.no_sandbox, Vec::new()),
        time_up,
    };
    verify::verify(&spec, findings, &proofs, &|msg| progress.step(msg))
}

/// Where a test calling `func` goes: the module that defines it (for a method, the module of
/// its impl), found among `modules` scanned under `root`. The package is filled in by the caller.
fn place(modules: &[Module], func: &ChangedFn, root: &Path) -> Option<Place> {
    let m = modules
        .iter()
        .filter(|m| m.path == func.module && !m.is_test)
        .find(|m| m.file == func.file)
        .or_else(|| modules.iter().find(|m| m.path == func.module && !m.is_test))?;
    // An `include!`d file's items belong to the module that includes it.
    let file = m.included_in.as_ref().unwrap_or(&m.file);
    Some(Place {
        package: 0,
        file: relative(file, root),
        inline_close: m.inline_close,
        module: m.path.clone(),
    })
}

fn relative(p: &Path, root: &Path) -> PathBuf {
    p.strip_prefix(root).unwrap_or(p).to_path_buf()
}

/// The workspace's lock file in a copy that has none (it is often not committed), so the tests
/// build with the dependency versions the user's own build uses.
fn with_lock_file(files: &mut BTreeMap<PathBuf, Vec<u8>>, ws: &Workspace) {
    if let std::collections::btree_map::Entry::Vacant(slot) = files.entry("Cargo.lock".into()) {
        if let Ok(lock) = std::fs::read(ws.root.join("Cargo.lock")) {
            slot.insert(lock);
        }
    }
}
