//! The base side: the workspace as it was before the change (from git objects, or by undoing a diff), and each changed function's counterpart in it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use quote::ToTokens;

use crate::error::Result;
use crate::git;
use crate::plan::{CallPlan, Plan, ResultUse};
use crate::select::{self, ChangedFn, FnKind, Module};
use crate::shadow;
use crate::source::CrateSource;
use crate::types::{declared_differently, CrateTypes};
use crate::workspace::Workspace;

/// Where the code before the change comes from.
#[derive(Debug, Clone)]
pub enum BaseSource {
    /// A commit of the repository at `repo`.
    Commit { repo: PathBuf, sha: String },
    /// The working tree with a diff file undone; `root` is what the diff's paths are relative to.
    Diff { file: PathBuf, root: PathBuf },
}

/// A changed function's counterpart before the change, callable the same way.
#[derive(Debug, Clone)]
pub struct BaseSide {
    pub func: ChangedFn,
    pub plan: CallPlan,
    /// Results are compared: false when a crate type in the result is declared differently
    /// before the change (its values print differently whatever the code does).
    pub compare_result: bool,
    /// The signature changed (a parameter generalised, a lifetime or defaulted generic added):
    /// the base is called with the head's arguments, and the build says whether it takes them.
    pub generalised: bool,
}

/// The base copy of the workspace, ready for injection: manifests rewritten and the packages
/// under test renamed, so that both versions link into one harness.
pub struct BaseTree {
    pub files: BTreeMap<PathBuf, Vec<u8>>,
    /// Modules per package (empty for a package without a base).
    pub modules: Vec<Vec<Module>>,
}

/// The name the base version of a package gets in the scratch copy.
pub fn base_package_name(name: &str) -> String {
    format!("{name}-edgecheck-base")
}

/// A function's counterpart, or why there is none.
pub type Counterpart = std::result::Result<BaseSide, NoBase>;

/// Why a function is not compared with its version before the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoBase {
    /// The run has no base: `--function` without `--base`.
    NoRevision,
    /// The files before the change could not be read.
    Unreadable(String),
    /// The package did not exist before the change.
    NewPackage,
    /// The package's crate root did not exist before the change.
    NewCrateRoot,
    /// The package has no library.
    BinaryOnly,
    /// The function did not exist before the change.
    NewFunction,
    /// It was called differently before the change.
    SignatureChanged,
    /// A type it takes was declared differently before the change.
    TypeChanged,
    /// The function is not tested, so there is nothing to compare.
    NotTested,
    /// The code before the change (or the generated code for it) does not build.
    DoesNotBuild(String),
}

impl std::fmt::Display for NoBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no comparable base: ")?;
        match self {
            NoBase::NoRevision => f.write_str("no base revision"),
            NoBase::Unreadable(e) => write!(f, "the base tree could not be read ({e})"),
            NoBase::NewPackage => f.write_str("the package did not exist before the change"),
            NoBase::NewCrateRoot => f.write_str("the crate root did not exist before the change"),
            NoBase::BinaryOnly => f.write_str("binary-only package"),
            NoBase::NewFunction => f.write_str("a new function"),
            NoBase::SignatureChanged => f.write_str("its signature changed"),
            NoBase::TypeChanged => f.write_str("a type it takes was declared differently"),
            NoBase::NotTested => f.write_str("it is not tested"),
            NoBase::DoesNotBuild(why) => f.write_str(why),
        }
    }
}

/// The functions to find a counterpart for: (package index, function, plan).
pub type Wanted<'a> = (usize, &'a ChangedFn, &'a Plan);

/// Reads the base tree and finds, for every callable function in `wanted`, its counterpart;
/// where there is none, says why ("new function", "signature changed", …).
pub fn prepare(
    ws: &Workspace,
    source: &BaseSource,
    head_files: &BTreeMap<PathBuf, Vec<u8>>,
    head_types: &[CrateTypes],
    wanted: &[Wanted],
) -> Result<(Option<BaseTree>, Vec<Counterpart>)> {
    let no_base = |why: NoBase| wanted.iter().map(|_| Err(why.clone())).collect::<Vec<_>>();
    let files = match read_files(ws, source, head_files) {
        Ok(files) => files,
        Err(e) => return Ok((None, no_base(NoBase::Unreadable(e.to_string())))),
    };
    let mut files = files;
    shadow::rewrite_manifests(&mut files, &ws.root)?;
    // A pristine copy to parse: select reads files from disk.
    let pristine = ws.work.join("base-src");
    shadow::sync_tree(&pristine, &files)?;
    let mut modules = Vec::new();
    let mut package_state: Vec<std::result::Result<CrateSource, NoBase>> = Vec::new();
    for pkg in &ws.packages {
        let rel_dir = pkg
            .dir
            .strip_prefix(&ws.root)
            .unwrap_or(Path::new(""))
            .to_path_buf();
        let state = match &pkg.lib {
            None => Err(NoBase::BinaryOnly),
            Some(lib) => {
                let rel_root = lib
                    .root_file
                    .strip_prefix(&ws.root)
                    .unwrap_or(&lib.root_file);
                if !shadow::rename_package(
                    &mut files,
                    &rel_dir.join("Cargo.toml"),
                    &base_package_name(&pkg.name),
                ) {
                    Err(NoBase::NewPackage)
                } else if !files.contains_key(rel_root) {
                    Err(NoBase::NewCrateRoot)
                } else {
                    Ok(CrateSource {
                        name: lib.name.clone(),
                        root_file: pristine.join(rel_root),
                        edition: lib.edition,
                        built: None,
                    })
                }
            }
        };
        let scanned = match &state {
            Ok(src) => Ok(select::scan_modules(src)),
            Err(why) => Err(why.clone()),
        };
        match scanned {
            Ok(m) => {
                modules.push(m);
                package_state.push(state);
            }
            Err(why) => {
                modules.push(Vec::new());
                package_state.push(Err(why));
            }
        }
    }
    let types: Vec<CrateTypes> = modules
        .iter()
        .zip(&package_state)
        .map(|(m, state)| match state {
            Ok(_) => CrateTypes::collect(m),
            Err(_) => CrateTypes::default(),
        })
        .collect();
    // Every function of each base crate, read once for all the counterparts looked up in it.
    let functions: Vec<Vec<ChangedFn>> = package_state
        .iter()
        .zip(&modules)
        .map(|(state, m)| match state {
            Ok(src) => select::all_functions(src, m),
            Err(_) => Vec::new(),
        })
        .collect();
    let sides = wanted
        .iter()
        .map(|(p, func, plan)| match (&package_state[*p], plan) {
            (Err(why), _) => Err(why.clone()),
            (_, Plan::Skip(_)) => Err(NoBase::NotTested),
            (Ok(_), Plan::Call(head_plan)) => {
                counterpart(&functions[*p], &types[*p], func, head_plan).map(|mut side| {
                    if let (syn::ReturnType::Type(_, ret), Some(head)) =
                        (&head_plan.ret, head_types.get(*p))
                    {
                        side.compare_result =
                            !declared_differently(ret, &func.module, head, &types[*p])
                                && (side.plan.result == ResultUse::ObserveInCrate)
                                    == (head_plan.result == ResultUse::ObserveInCrate);
                    }
                    side
                })
            }
        })
        .collect();
    Ok((Some(BaseTree { files, modules }), sides))
}

fn read_files(
    ws: &Workspace,
    source: &BaseSource,
    head_files: &BTreeMap<PathBuf, Vec<u8>>,
) -> Result<BTreeMap<PathBuf, Vec<u8>>> {
    match source {
        BaseSource::Commit { repo, sha } => {
            let ws_rel = ws.root.strip_prefix(repo).unwrap_or(Path::new(""));
            git::files_at_commit(repo, sha, ws_rel)
        }
        BaseSource::Diff { file, root } => {
            let ws_rel = ws
                .root
                .strip_prefix(root)
                .unwrap_or(Path::new(""))
                .to_path_buf();
            let key = move |p: &Path| p.strip_prefix(&ws_rel).ok().map(Path::to_path_buf);
            crate::diff::undo_diff_file(file, head_files, &key)
        }
    }
}

/// The function at the same path before the change, if it is called the same way.
fn counterpart(
    candidates: &[ChangedFn],
    types: &CrateTypes,
    func: &ChangedFn,
    head_plan: &CallPlan,
) -> Counterpart {
    let same_place = |c: &&ChangedFn| {
        c.module == func.module && c.name == func.name && same_kind(&c.kind, &func.kind)
    };
    let base_fn = candidates
        .iter()
        .find(same_place)
        .ok_or(NoBase::NewFunction)?;
    let base_plan = match crate::plan::plan(base_fn, types) {
        Plan::Call(p) => p,
        Plan::Skip(_) => return Err(NoBase::SignatureChanged),
    };
    if signature(&base_plan) != signature(head_plan) {
        // The old function may still take the new call's values (`&String` generalised to
        // `impl AsRef<str>`, an added lifetime): call it with the head's arguments and let the
        // compiler decide; a build error drops this base side only.
        let same_shape = base_plan.args.len() == head_plan.args.len()
            && without_lifetimes(&base_plan.ret) == without_lifetimes(&head_plan.ret);
        if !same_shape {
            return Err(NoBase::SignatureChanged);
        }
        let mut plan = head_plan.clone();
        plan.callee = base_plan.callee.clone();
        return Ok(BaseSide {
            func: base_fn.clone(),
            plan,
            compare_result: true,
            generalised: true,
        });
    }
    let tys = |p: &CallPlan| p.args.iter().map(|a| a.ty.clone()).collect::<Vec<_>>();
    if tys(&base_plan) != tys(head_plan) {
        return Err(NoBase::TypeChanged);
    }
    Ok(BaseSide {
        func: base_fn.clone(),
        plan: *base_plan,
        compare_result: true,
        generalised: false,
    })
}

fn same_kind(a: &FnKind, b: &FnKind) -> bool {
    let ty = |k: &FnKind| match k {
        FnKind::Free => String::new(),
        FnKind::Inherent { self_ty, .. } => self_ty.to_token_stream().to_string(),
        FnKind::TraitImpl {
            self_ty,
            trait_path,
            ..
        } => {
            format!(
                "{} for {}",
                trait_path.to_token_stream(),
                self_ty.to_token_stream()
            )
        }
    };
    ty(a) == ty(b)
}

/// The tokens of `ret` without its lifetimes: `-> &'a str` and `-> &str` return the same.
fn without_lifetimes(ret: &syn::ReturnType) -> String {
    let mut out = Vec::new();
    let mut tokens = ret.to_token_stream().into_iter().peekable();
    while let Some(t) = tokens.next() {
        match &t {
            // A lifetime is a `'` punct followed by its name.
            proc_macro2::TokenTree::Punct(p) if p.as_char() == '\'' => {
                tokens.next();
            }
            proc_macro2::TokenTree::Group(g) => {
                let inner = syn::ReturnType::Type(
                    Default::default(),
                    Box::new(syn::Type::Verbatim(g.stream())),
                );
                out.push(format!("{:?}{}", g.delimiter(), without_lifetimes(&inner)));
            }
            other => out.push(other.to_string()),
        }
    }
    out.join(" ")
}

/// The argument and return types as written: equal signatures can be called the same way.
fn signature(plan: &CallPlan) -> String {
    let args: Vec<String> = plan
        .args
        .iter()
        .map(|a| a.written.to_token_stream().to_string())
        .collect();
    format!("({}) {}", args.join(", "), plan.ret.to_token_stream())
}
