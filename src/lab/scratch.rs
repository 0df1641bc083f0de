//! Writes the scratch copies with their entry modules and the harness crate, for the targets that are built.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::base::{self, BaseTree};
use crate::error::Result;
use crate::generate;
use crate::ids::TargetId;
use crate::plan::Plan;
use crate::select::Module;
use crate::shadow;
use crate::target::Target;
use crate::workspace;

/// The harness's name for package `p` of the head copy is this prefix and `p`.
const HEAD_ALIAS_PREFIX: &str = "edgecheck_p";

fn head_alias(p: usize) -> String {
    format!("{HEAD_ALIAS_PREFIX}{p}")
}

fn base_alias(p: usize) -> String {
    format!("edgecheck_b{p}")
}

/// The scratch copies and the harness crate for a build, in memory: files relative to each
/// tree's root.
pub(super) struct Scratch {
    pub head: BTreeMap<PathBuf, Vec<u8>>,
    pub base: Option<BTreeMap<PathBuf, Vec<u8>>>,
    pub harness: BTreeMap<PathBuf, Vec<u8>>,
    /// Where injected code landed in the copies.
    pub spans: Vec<shadow::InjectedSpan>,
}

/// Writes the scratch copies (head, and base when there is one) with entry modules for
/// `callable`, and the harness crate. Returns where injected code landed.
pub(super) fn write_scratch(
    ws: &workspace::Workspace,
    head_files: &BTreeMap<PathBuf, Vec<u8>>,
    modules: &[Vec<Module>],
    base_tree: Option<&BaseTree>,
    selected: &[Target],
    callable: &[TargetId],
) -> Result<Vec<shadow::InjectedSpan>> {
    let mut scratch = render_scratch(ws, head_files, modules, base_tree, selected, callable)?;
    shadow::sync_tree(&ws.work.join("head"), &scratch.head)?;
    if let Some(base) = &scratch.base {
        shadow::sync_tree(&ws.work.join("base"), base)?;
    }
    // Keep the harness's lock file; start it from the workspace's so the user's dependency
    // versions are the ones tested.
    let harness_dir = ws.work.join("harness");
    let lock = std::fs::read(harness_dir.join("Cargo.lock"))
        .or_else(|_| std::fs::read(ws.root.join("Cargo.lock")));
    if let Ok(lock) = lock {
        scratch.harness.insert(PathBuf::from("Cargo.lock"), lock);
    }
    shadow::sync_tree(&harness_dir, &scratch.harness)?;
    Ok(scratch.spans)
}

/// The scratch copies with entry modules for `callable`, and the harness crate, without
/// writing anything.
pub(super) fn render_scratch(
    ws: &workspace::Workspace,
    head_files: &BTreeMap<PathBuf, Vec<u8>>,
    modules: &[Vec<Module>],
    base_tree: Option<&BaseTree>,
    selected: &[Target],
    callable: &[TargetId],
) -> Result<Scratch> {
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
        let exposed: Vec<generate::Exposed> = in_package()
            .filter_map(|i| match &selected[i].plan {
                Plan::Call(plan) => Some(generate::Exposed {
                    id: i,
                    func: &selected[i].func,
                    plan,
                }),
                Plan::Skip(_) => None,
            })
            .collect();
        spans.extend(shadow::splice(
            &mut files,
            &head_root,
            generate::entry_modules(&ws.root, &modules[p], &exposed)?,
        )?);
        let (features, default_features) = ws.features.for_package(pkg);
        deps.push(generate::HarnessDep {
            alias: head_alias(p),
            package: pkg.name.clone(),
            path: head_root.join(rel),
            features: features.clone(),
            default_features,
        });
        let base_exposed: Vec<generate::Exposed> = in_package()
            .filter_map(|i| {
                selected[i].base.as_ref().ok().map(|b| generate::Exposed {
                    id: i,
                    func: &b.func,
                    plan: &b.plan,
                })
            })
            .collect();
        if let (Some(tree), Some(bf)) = (base_tree, base_files.as_mut()) {
            if !base_exposed.is_empty() {
                spans.extend(shadow::splice(
                    bf,
                    &base_root,
                    generate::entry_modules(
                        &ws.work.join("base-src"),
                        &tree.modules[p],
                        &base_exposed,
                    )?,
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
    let aliases: Vec<(String, String)> = (0..ws.packages.len())
        .map(|p| (head_alias(p), base_alias(p)))
        .collect();
    let targets: Vec<generate::TargetCode> = callable
        .iter()
        .filter_map(|&i| match &selected[i].plan {
            Plan::Call(plan) => Some(generate::TargetCode {
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
    Ok(Scratch {
        head: files,
        base: base_files,
        harness: generate::render(&ws.harness_name, &deps, &targets),
        spans,
    })
}
