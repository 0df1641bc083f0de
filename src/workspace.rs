//! The user's workspace from `cargo metadata`: its root, its target dir, and the library crates to test.

use std::path::{Path, PathBuf};

use cargo_metadata::{MetadataCommand, TargetKind};

use crate::error::{Error, Result};
use crate::source::CrateSource;

/// The part of the user's workspace this run works on.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The workspace root directory.
    pub root: PathBuf,
    /// Where everything generated goes: `<target-dir>/edgecheck`. The cargo target dir of the
    /// harness builds sits directly in it, shared by every workspace that uses this target dir;
    /// the rest lives in `work`.
    pub scratch: PathBuf,
    /// The cargo target dir of the harness builds: the machine cache's shared one when the
    /// user did not choose a target dir, so the harness's dependencies are compiled once per
    /// machine; else `<scratch>/target`, shared by the workspaces that use this target dir.
    pub build_dir: PathBuf,
    /// The machine cache (libFuzzer's runtime, the shared build dir), when there is one.
    pub cache: Option<PathBuf>,
    /// This workspace's own part of the scratch dir (copies, harness crate, run files), so runs
    /// on several workspaces sharing a target dir do not meet.
    pub work: PathBuf,
    /// The harness package name, unique to this workspace.
    pub harness_name: String,
    /// The packages selected for testing.
    pub packages: Vec<Package>,
    /// The features they are built with.
    pub features: Features,
    /// `[workspace.metadata]` of the root manifest, where the team's configuration may live.
    pub metadata: serde_json::Value,
}

/// One package of the workspace.
#[derive(Debug, Clone)]
pub struct Package {
    pub name: String,
    /// Directory holding the package's Cargo.toml.
    pub dir: PathBuf,
    /// The library target, which is what the harness links against; `None` for a binary-only package.
    pub lib: Option<CrateSource>,
    /// It has a build script (which may generate source files).
    pub build_script: bool,
    /// Its library is a proc-macro crate, which only the compiler can call.
    pub proc_macro: bool,
    /// The features the package declares, for `--all-features`.
    pub features: Vec<String>,
    /// Names of its dev-dependencies, so `emit` can say which ones its tests still need.
    pub dev_dependencies: Vec<String>,
    /// Its `Cargo.toml`, and its `[package.metadata]` there.
    pub manifest: PathBuf,
    pub metadata: serde_json::Value,
}

/// The features to build the packages under test with, as cargo's flags of the same names say.
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub features: Vec<String>,
    pub all_features: bool,
    pub no_default_features: bool,
}

impl Features {
    /// The features to enable on `package`, and whether its default features stay on.
    pub fn for_package(&self, package: &Package) -> (Vec<String>, bool) {
        let mut list: Vec<String> = if self.all_features {
            package.features.clone()
        } else {
            self.features
                .iter()
                .flat_map(|f| f.split([',', ' ']))
                .filter(|f| !f.is_empty())
                .map(str::to_string)
                .collect()
        };
        list.sort();
        list.dedup();
        (list, !self.no_default_features)
    }
}

/// What the user asked for on the command line about the workspace.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceArgs {
    pub manifest_path: Option<PathBuf>,
    pub packages: Vec<String>,
    pub workspace: bool,
    pub target_dir: Option<PathBuf>,
    pub features: Features,
}

/// Reads the workspace with `cargo metadata` and picks the packages to test: those named with
/// `-p`; all members with `--workspace`; else the package whose directory holds the current
/// directory, or every member when run at the root of a workspace.
pub fn load(args: &WorkspaceArgs, cwd: &Path) -> Result<Workspace> {
    let mut cmd = MetadataCommand::new();
    cmd.no_deps().current_dir(cwd);
    if let Some(m) = &args.manifest_path {
        let m = if m.is_absolute() {
            m.clone()
        } else {
            cwd.join(m)
        };
        if !m.is_file() {
            return Err(Error::ManifestNotFound(m));
        }
        cmd.manifest_path(m);
    } else if find_manifest(cwd).is_none() {
        return Err(Error::ManifestNotFound(cwd.join("Cargo.toml")));
    }
    let meta = cmd.exec().map_err(|e| Error::Metadata(metadata_error(e)))?;
    let root = meta.workspace_root.clone().into_std_path_buf();
    // The user chose a target dir with `--target-dir`, `CARGO_TARGET_DIR` or their cargo
    // configuration: the harness builds stay in it, as they asked.
    let chose_target_dir = args.target_dir.is_some()
        || meta.target_directory.as_std_path() != meta.workspace_root.join("target").as_std_path();
    let target_dir = match &args.target_dir {
        Some(t) if t.is_absolute() => t.clone(),
        Some(t) => cwd.join(t),
        None => meta.target_directory.clone().into_std_path_buf(),
    };
    let members: Vec<Package> = meta
        .workspace_packages()
        .into_iter()
        .map(to_package)
        .collect();
    for name in &args.packages {
        if !members.iter().any(|p| &p.name == name) {
            return Err(Error::UnknownPackage(name.clone()));
        }
    }
    let here = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    let manifest_dir = args
        .manifest_path
        .as_ref()
        .and_then(|m| cwd.join(m).parent().map(Path::to_path_buf));
    let anchor = manifest_dir
        .and_then(|d| d.canonicalize().ok())
        .unwrap_or(here);
    let chosen = |p: &Package| -> bool {
        if !args.packages.is_empty() {
            return args.packages.contains(&p.name);
        }
        if args.workspace {
            return true;
        }
        let canonical_root = root.canonicalize().unwrap_or_else(|_| root.clone());
        if anchor == canonical_root {
            return true;
        }
        let dir = p.dir.canonicalize().unwrap_or_else(|_| p.dir.clone());
        anchor.starts_with(&dir)
    };
    let (packages, _): (Vec<Package>, Vec<Package>) = members.into_iter().partition(|p| chosen(p));
    let scratch = target_dir.join("edgecheck");
    let cache = crate::cache::dir();
    let build_dir = match (&cache, chose_target_dir) {
        (Some(cache), false) => crate::cache::shared_target_dir(cache),
        _ => scratch.join("target"),
    };
    let key = crate::ids::stable_id(&root.to_string_lossy());
    let harness_name = format!("edgecheck-harness-{}", &key[..8]);
    Ok(Workspace {
        root,
        work: scratch.join(format!("ws-{}", &key[..8])),
        scratch,
        build_dir,
        cache,
        harness_name,
        packages,
        features: args.features.clone(),
        metadata: meta.workspace_metadata.clone(),
    })
}

fn to_package(p: &cargo_metadata::Package) -> Package {
    let dir = p
        .manifest_path
        .parent()
        .map(|d| d.as_std_path().to_path_buf())
        .unwrap_or_default();
    let lib = p
        .targets
        .iter()
        .find(|t| {
            t.kind
                .iter()
                .any(|k| matches!(k, TargetKind::Lib | TargetKind::RLib))
        })
        .map(|t| CrateSource {
            name: t.name.replace('-', "_"),
            root_file: t.src_path.clone().into_std_path_buf(),
            edition: t.edition,
            built: None,
        });
    let proc_macro = p
        .targets
        .iter()
        .any(|t| t.kind.iter().any(|k| matches!(k, TargetKind::ProcMacro)));
    let build_script = p
        .targets
        .iter()
        .any(|t| t.kind.iter().any(|k| matches!(k, TargetKind::CustomBuild)));
    Package {
        name: p.name.to_string(),
        dir,
        lib,
        build_script,
        proc_macro,
        features: p.features.keys().cloned().collect(),
        dev_dependencies: p
            .dependencies
            .iter()
            .filter(|d| d.kind == cargo_metadata::DependencyKind::Development)
            .map(|d| d.name.clone())
            .collect(),
        manifest: p.manifest_path.clone().into_std_path_buf(),
        metadata: p.metadata.clone(),
    }
}

/// The nearest Cargo.toml at or above `dir`.
fn find_manifest(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join("Cargo.toml"))
        .find(|m| m.is_file())
}

/// Cargo's own message, without the command line noise around it.
fn metadata_error(e: cargo_metadata::Error) -> String {
    match e {
        cargo_metadata::Error::CargoMetadata { stderr } => stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}
