//! Who a harness build error belongs to: a target (its head or base side), or the crate itself.

use std::collections::BTreeSet;
use std::path::Path;

use crate::build;
use crate::error::Error;
use crate::generate;
use crate::ids::TargetId;
use crate::plan::Plan;
use crate::shadow;
use crate::target::Target;
use crate::workspace;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Head,
    Base,
}

/// Who build errors belong to.
pub(super) enum Blame {
    /// Targets (or only their base side) to drop, with the reason.
    Targets(Vec<(TargetId, Side, String)>),
    /// An error in the user's own code at the head: the crate does not build.
    Unexplained,
}

/// Pins build errors on targets: errors in a target's generated module or injected wrapper drop
/// that target (only its base side when the base's code is at fault, or first when it has
/// one); any error in the base copy outside injected code drops every base side. Errors
/// anywhere else mean the crate itself does not build.
pub(super) fn blame(
    errors: &[build::Diag],
    spans: &[shadow::InjectedSpan],
    harness_dir: &Path,
    base_root: &Path,
    callable: &[TargetId],
    selected: &[Target],
) -> Blame {
    let mut out: Vec<(TargetId, Side, String)> = Vec::new();
    for e in errors {
        let first_line = build::strip_ansi(&e.rendered)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        let Some(file) = &e.file else {
            return Blame::Unexplained;
        };
        let in_base = file.starts_with(base_root);
        if let Some(t) = file
            .strip_prefix(harness_dir)
            .ok()
            .and_then(TargetId::of_module_file)
        {
            let (side, reason) = blame_generated_module(t, &first_line, selected);
            out.push((t, side, reason));
            continue;
        }
        let hit = spans.iter().find(|s| {
            &s.file == file && s.line == e.line && s.columns.0 <= e.column && e.column < s.columns.1
        });
        let side = if in_base { Side::Base } else { Side::Head };
        match hit {
            Some(s) if s.target.is_some() => {
                let t = s.target.unwrap_or(TargetId(0));
                // A method behind a `#[cfg]` is missing from its type in this configuration.
                let cfgs = selected
                    .get(t.0)
                    .map(|s| s.func.cfg_attrs.join(" "))
                    .unwrap_or_default();
                let missing = selected.get(t.0).is_some_and(|s| {
                    first_line.contains(&format!("`{}`", s.func.name))
                        && (first_line.contains("no function or associated item named")
                            || first_line.contains("cannot find function"))
                });
                // A type it takes, declared behind a `#[cfg]` the configuration leaves out.
                let type_compiled_out = first_line.contains("cannot find type")
                    && first_line.contains("in module `super`");
                let reason = if generalised(selected, t) && in_base {
                    generalised_reason(&first_line)
                } else if missing && !cfgs.is_empty() {
                    compiled_out_reason(&cfgs)
                } else if type_compiled_out {
                    let ty = first_line.split('`').nth(1).unwrap_or("a type it takes");
                    format!("not compiled in this configuration: `{ty}`, which it takes, is behind a `#[cfg]`")
                } else {
                    format!("the generated entry point does not compile: {first_line}")
                };
                out.push((t, side, reason));
            }
            _ if in_base => {
                for &t in callable.iter().filter(|&&t| selected[t].base.is_ok()) {
                    out.push((
                        t,
                        Side::Base,
                        format!("the code before the change does not build ({first_line})"),
                    ));
                }
            }
            Some(s) if s.child.is_some() => {
                // A child module's entry module is missing: the module is not compiled (a
                // `#[cfg]` on it, or a cfg macro around its declaration). Everything reached
                // through it goes, with that reason.
                let child = s.child.clone().unwrap_or_default();
                for &t in callable {
                    let through = |m: &[String]| m.starts_with(&child);
                    let mut adts = Vec::new();
                    if let Plan::Call(plan) = &selected[t].plan {
                        plan.args.iter().for_each(|a| a.ty.collect_adts(&mut adts));
                    }
                    if through(&selected[t].func.module) || adts.iter().any(|d| through(&d.module))
                    {
                        out.push((
                            t,
                            side,
                            format!(
                                "not compiled in this configuration: module `{}` is left out (a `#[cfg]` on it or a cfg macro around its declaration); enable the features it needs with `--features`",
                                child.join("::")
                            ),
                        ));
                    }
                }
            }
            Some(s) => {
                // The module plumbing failed: every target reached through that file goes.
                for &t in callable {
                    if spans
                        .iter()
                        .any(|x| x.target == Some(t) && x.file == s.file)
                    {
                        out.push((
                            t,
                            Side::Head,
                            format!("the generated entry point does not compile: {first_line}"),
                        ));
                    }
                }
            }
            None => return Blame::Unexplained,
        }
    }
    if out.is_empty() {
        return Blame::Unexplained;
    }
    Blame::Targets(out)
}

/// Whether target `t`'s base is called with the head's arguments after a signature change.
fn generalised(selected: &[Target], t: TargetId) -> bool {
    selected
        .get(t.0)
        .and_then(|s| s.base.as_ref().ok())
        .is_some_and(|b| b.generalised)
}

/// Why a base called with the head's arguments after a signature change is not compared.
fn generalised_reason(first_line: &str) -> String {
    format!("its signature changed, and the code before the change does not take the same arguments ({first_line})")
}

/// An error in target `t`'s generated module: which side of it to drop, and why.
fn blame_generated_module(t: TargetId, first_line: &str, selected: &[Target]) -> (Side, String) {
    // A generated module that fails with a base side may fail because of it: drop that first.
    let side = if selected.get(t.0).is_some_and(|s| s.base.is_ok()) {
        Side::Base
    } else {
        Side::Head
    };
    // The entry point, or the entry module of a module on its path (`m_<name>`), is
    // missing when a `#[cfg]` compiles the function out.
    let compiled_out = (first_line.contains("cannot find")
        || first_line.contains("could not find"))
        && (first_line.contains(generate::ENTRY_MODULE) || first_line.contains("`m_"));
    let reason = if generalised(selected, t) && side == Side::Base && !compiled_out {
        generalised_reason(first_line)
    } else if compiled_out {
        let cfgs = selected
            .get(t.0)
            .map(|s| s.func.cfg_attrs.join(" "))
            .unwrap_or_default();
        compiled_out_reason(&cfgs)
    } else {
        format!("the generated harness does not compile: {first_line}")
    };
    let head_missing = compiled_out && !first_line.contains("edgecheck_b");
    (if head_missing { Side::Head } else { side }, reason)
}

/// A harness build error no target explains: the user's library is built alone to tell whether
/// the crate itself does not build, or the generated code (the tool's fault) does not.
pub(super) fn unexplained_build_failure(
    ws: &workspace::Workspace,
    selected: &[Target],
    callable: &[TargetId],
    jobs: usize,
    errors: &[build::Diag],
    stderr: &str,
) -> Error {
    let packages: BTreeSet<usize> = callable.iter().map(|&i| selected[i].package).collect();
    for p in packages {
        let pkg = &ws.packages[p];
        let rel = pkg.dir.strip_prefix(&ws.root).unwrap_or(Path::new(""));
        let manifest = ws.work.join("head").join(rel).join("Cargo.toml");
        match build::build_library(&manifest, &ws.scratch.join("target-lib"), jobs, &ws.root) {
            Ok(build::Outcome::Failed { errors, stderr }) => {
                return build_failure(&errors, &stderr)
            }
            Ok(build::Outcome::Built { .. }) => {}
            Err(e) => return e,
        }
    }
    let shown = match build_failure(errors, stderr) {
        Error::CrateBuild(text) | Error::Cargo(text) => text,
        other => other.to_string(),
    };
    Error::HarnessBuild(shown)
}

/// Why a function is not in the build, from the `#[cfg]` attributes on it (`cfgs`, source text;
/// empty when the condition is on a module it is in), with what would bring it in.
fn compiled_out_reason(cfgs: &str) -> String {
    let (on, fix) = match cfgs {
        "" => (
            "it or a module it is in is behind a `#[cfg]`".to_string(),
            "enable the features it needs with `--features`, or set the cfg it needs in RUSTFLAGS",
        ),
        c if c.contains("not(feature") => (
            format!("it is behind `{c}`"),
            "it is left out while that feature is on: try `--no-default-features` with the features it does not exclude",
        ),
        c if c.contains("feature") => (
            format!("it is behind `{c}`"),
            "enable the features it needs with `--features`",
        ),
        c => (
            format!("it is behind `{c}`"),
            "it needs another target or a `--cfg` in RUSTFLAGS",
        ),
    };
    format!("not compiled in this configuration: {on}; {fix}")
}

/// The user's build errors, as the compiler printed them (first few), or cargo's own failure.
pub(super) fn build_failure(errors: &[build::Diag], stderr: &str) -> Error {
    if errors.is_empty() {
        let tail: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .rev()
            .take(12)
            .collect();
        return Error::Cargo(tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
    }
    let shown: Vec<String> = errors
        .iter()
        .take(3)
        .map(|e| build::strip_ansi(&e.rendered).trim_end().to_string())
        .collect();
    Error::CrateBuild(shown.join("\n"))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::base::NoBase;
    use crate::shadow::InjectedSpan;
    use crate::source::{CrateSource, Edition};

    /// The functions of a one-file crate, selected as a run would select them, with a base side
    /// for those named in `with_base`.
    fn selected(lib: &str, with_base: &[&str]) -> (tempfile::TempDir, Vec<Target>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), lib).unwrap();
        let src = CrateSource {
            name: "demo".into(),
            root_file: dir.path().join("src/lib.rs"),
            edition: Edition::E2021,
            built: None,
        };
        let modules = crate::select::scan_modules(&src);
        let types = crate::types::CrateTypes::collect(&modules);
        let selected = crate::select::all_functions(&src, &modules)
            .into_iter()
            .enumerate()
            .map(|(i, func)| {
                let plan = crate::plan::plan(&func, &types);
                let base = match (with_base.contains(&func.name.as_str()), &plan) {
                    (true, Plan::Call(p)) => Ok(crate::base::BaseSide {
                        func: func.clone(),
                        plan: (**p).clone(),
                        compare_result: true,
                        generalised: false,
                    }),
                    _ => Err(NoBase::NoRevision),
                };
                Target {
                    id: TargetId(i),
                    package: 0,
                    func,
                    plan,
                    base,
                    origin: crate::target::Origin::Changed,
                }
            })
            .collect();
        (dir, selected)
    }

    fn error(file: &Path, line: usize, column: usize, first_line: &str) -> build::Diag {
        build::Diag {
            file: Some(file.to_path_buf()),
            line,
            column,
            rendered: format!("{first_line}\n  --> somewhere\n"),
            macro_sites: Vec::new(),
        }
    }

    const LIB: &str =
        "pub fn a(x: u8) -> u8 { x }\n#[cfg(feature = \"extra\")]\npub fn b(x: u8) -> u8 { x }\n";
    const HARNESS: &str = "/scratch/harness";
    const BASE: &str = "/scratch/base";
    const HEAD_LIB: &str = "/scratch/head/src/lib.rs";

    fn span(target: Option<TargetId>, columns: (usize, usize)) -> InjectedSpan {
        InjectedSpan {
            file: PathBuf::from(HEAD_LIB),
            line: 4,
            columns,
            target,
            child: None,
        }
    }

    fn targets(blamed: Blame) -> Vec<(TargetId, Side, String)> {
        match blamed {
            Blame::Targets(t) => t,
            Blame::Unexplained => panic!("the errors were not pinned on a target"),
        }
    }

    #[test]
    fn an_error_in_a_generated_module_drops_its_base_side_first() {
        let (_dir, selected) = selected(LIB, &["a"]);
        let file = Path::new(HARNESS).join(TargetId(0).module_file());
        let errors = [error(&file, 9, 5, "error[E0308]: mismatched types")];
        let blamed = targets(blame(
            &errors,
            &[],
            Path::new(HARNESS),
            Path::new(BASE),
            &[TargetId(0), TargetId(1)],
            &selected,
        ));
        assert_eq!(blamed.len(), 1);
        assert_eq!((blamed[0].0, blamed[0].1), (TargetId(0), Side::Base));
        assert!(blamed[0].2.contains("mismatched types"), "{}", blamed[0].2);
    }

    #[test]
    fn a_missing_entry_point_of_a_cfgd_function_is_compiled_out() {
        let (_dir, selected) = selected(LIB, &[]);
        let file = Path::new(HARNESS).join(TargetId(1).module_file());
        let message = format!(
            "error[E0425]: cannot find function `f1` in module `{}`",
            generate::ENTRY_MODULE
        );
        let blamed = targets(blame(
            &[error(&file, 3, 1, &message)],
            &[],
            Path::new(HARNESS),
            Path::new(BASE),
            &[TargetId(0), TargetId(1)],
            &selected,
        ));
        assert_eq!((blamed[0].0, blamed[0].1), (TargetId(1), Side::Head));
        assert!(
            blamed[0]
                .2
                .starts_with("not compiled in this configuration")
                && blamed[0].2.contains("feature = \"extra\""),
            "{}",
            blamed[0].2
        );
    }

    #[test]
    fn an_error_inside_an_injected_wrapper_is_that_targets() {
        let (_dir, selected) = selected(LIB, &[]);
        let spans = [
            span(None, (1, 40)),
            span(Some(TargetId(0)), (40, 90)),
            span(Some(TargetId(1)), (90, 140)),
        ];
        let errors = [error(
            Path::new(HEAD_LIB),
            4,
            95,
            "error[E0277]: the trait bound `i32: Foo` is not satisfied",
        )];
        let blamed = targets(blame(
            &errors,
            &spans,
            Path::new(HARNESS),
            Path::new(BASE),
            &[TargetId(0), TargetId(1)],
            &selected,
        ));
        assert_eq!((blamed[0].0, blamed[0].1), (TargetId(1), Side::Head));
        assert!(blamed[0]
            .2
            .starts_with("the generated entry point does not compile"));
    }

    #[test]
    fn an_error_in_the_users_code_is_unexplained() {
        let (_dir, selected) = selected(LIB, &[]);
        // Line 1 of the user's file: no injected code there.
        let errors = [error(
            Path::new(HEAD_LIB),
            1,
            20,
            "error[E0308]: mismatched types",
        )];
        let blamed = blame(
            &errors,
            &[span(Some(TargetId(0)), (40, 90))],
            Path::new(HARNESS),
            Path::new(BASE),
            &[TargetId(0), TargetId(1)],
            &selected,
        );
        assert!(matches!(blamed, Blame::Unexplained));
        // Nor is an error without a file (a linker error).
        let no_file = build::Diag {
            file: None,
            line: 0,
            column: 0,
            rendered: "error: linking with `cc` failed".into(),
            macro_sites: Vec::new(),
        };
        let blamed = blame(
            &[no_file],
            &[],
            Path::new(HARNESS),
            Path::new(BASE),
            &[TargetId(0)],
            &selected,
        );
        assert!(matches!(blamed, Blame::Unexplained));
    }

    #[test]
    fn an_error_in_the_base_copy_drops_every_base_side() {
        let (_dir, selected) = selected(LIB, &["a", "b"]);
        let errors = [error(
            &Path::new(BASE).join("src/lib.rs"),
            1,
            3,
            "error: expected item",
        )];
        let blamed = targets(blame(
            &errors,
            &[],
            Path::new(HARNESS),
            Path::new(BASE),
            &[TargetId(0), TargetId(1)],
            &selected,
        ));
        assert_eq!(blamed.len(), 2);
        assert!(blamed.iter().all(|(_, side, why)| *side == Side::Base
            && why.starts_with("the code before the change does not build")));
    }

    #[test]
    fn reasons_say_what_would_bring_a_function_in() {
        assert!(compiled_out_reason("#[cfg(feature = \"x\")]").ends_with("`--features`"));
        assert!(
            compiled_out_reason("#[cfg(not(feature = \"x\"))]").contains("--no-default-features")
        );
        assert!(compiled_out_reason("#[cfg(windows)]").contains("another target"));
        assert!(compiled_out_reason("").contains("a module it is in"));
    }
}
