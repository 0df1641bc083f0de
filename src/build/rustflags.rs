//! The rustflags the user's own `cargo build` would use, read the way cargo reads them, so the
//! harness build adds the tool's flags to them instead of replacing them.
//!
//! Cargo takes extra compiler flags from the first of these that is set: `CARGO_ENCODED_RUSTFLAGS`,
//! `RUSTFLAGS`, the `target.<triple>.rustflags` and matching `target.'cfg(…)'.rustflags` of its
//! configuration (joined), `build.rustflags` (also `CARGO_BUILD_RUSTFLAGS`). The harness build
//! has to set `RUSTFLAGS` itself, which would hide all of them: a crate whose
//! `.cargo/config.toml` passes a `--cfg` it needs would no longer build.
//!
//! Configuration files are found as cargo finds them: `.cargo/config.toml` (or `.cargo/config`)
//! in the directory the build runs from and each of its parents, then `$CARGO_HOME/config.toml`;
//! array values of several files are joined.

use std::path::{Path, PathBuf};

/// The flags, one per element, that cargo would pass to rustc for the host target when run from
/// `cwd`. `cfgs` are the host's `rustc --print cfg` lines, for `target.'cfg(…)'` tables.
pub fn user_rustflags(cwd: &Path, host: &str, cfgs: &[String]) -> Vec<String> {
    user_rustflags_with(cwd, host, cfgs, &|k| std::env::var(k).ok())
}

fn user_rustflags_with(
    cwd: &Path,
    host: &str,
    cfgs: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    if let Some(encoded) = env("CARGO_ENCODED_RUSTFLAGS") {
        return encoded
            .split('\x1f')
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect();
    }
    if let Some(flags) = env("RUSTFLAGS") {
        return split_flags(&flags);
    }
    let configs: Vec<toml_edit::DocumentMut> = config_files(cwd, env)
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|t| t.parse().ok())
        .collect();
    let triple_env = format!(
        "CARGO_TARGET_{}_RUSTFLAGS",
        host.to_uppercase().replace(['-', '.'], "_")
    );
    let mut target_flags: Vec<String> = env(&triple_env)
        .map(|f| split_flags(&f))
        .unwrap_or_default();
    let mut any_target = !target_flags.is_empty();
    for doc in &configs {
        let Some(targets) = doc.get("target").and_then(|t| t.as_table_like()) else {
            continue;
        };
        for (key, table) in targets.iter() {
            let applies = key == host
                || key
                    .strip_prefix("cfg(")
                    .and_then(|k| k.strip_suffix(')'))
                    .is_some_and(|pred| cfg_holds(pred, cfgs));
            if let Some(flags) = applies
                .then(|| table.get("rustflags"))
                .flatten()
                .and_then(flags_value)
            {
                any_target = true;
                target_flags.extend(flags);
            }
        }
    }
    if any_target {
        return target_flags;
    }
    if let Some(flags) = env("CARGO_BUILD_RUSTFLAGS") {
        return split_flags(&flags);
    }
    configs
        .iter()
        .filter_map(|doc| doc.get("build")?.get("rustflags").and_then(flags_value))
        .flatten()
        .collect()
}

/// The configuration files cargo reads from `cwd`, most specific first.
fn config_files(cwd: &Path, env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut push_dir = |dir: &Path| {
        for name in ["config.toml", "config"] {
            let p = dir.join(name);
            if p.is_file() {
                if !out.contains(&p) {
                    out.push(p);
                }
                break;
            }
        }
    };
    for dir in cwd.ancestors() {
        push_dir(&dir.join(".cargo"));
    }
    let home = env("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| Path::new(&h).join(".cargo")));
    if let Some(home) = home {
        push_dir(&home);
    }
    out
}

/// A `rustflags` value: a string split at whitespace, or an array of strings.
fn flags_value(item: &toml_edit::Item) -> Option<Vec<String>> {
    if let Some(s) = item.as_str() {
        return Some(split_flags(s));
    }
    let array = item.as_array()?;
    Some(
        array
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
    )
}

fn split_flags(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

/// Whether a cfg predicate written as text holds for the host.
fn cfg_holds(pred: &str, cfgs: &[String]) -> bool {
    syn::parse_str::<syn::Meta>(pred).is_ok_and(|meta| crate::source::cfg_holds(&meta, cfgs))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "x86_64-unknown-linux-gnu";

    fn cfgs() -> Vec<String> {
        ["unix", "target_os=\"linux\"", "target_pointer_width=\"64\""]
            .map(String::from)
            .to_vec()
    }

    fn flags(dir: &Path, env: &[(&str, &str)]) -> Vec<String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let home = dir.join("home");
        user_rustflags_with(&dir.join("ws/crate"), HOST, &cfgs(), &move |k| {
            if k == "CARGO_HOME" {
                return Some(home.display().to_string());
            }
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn build_rustflags_join_across_files_and_env_wins() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::create_dir_all(d.join("ws/crate")).unwrap();
        assert!(flags(d, &[]).is_empty());
        write(
            &d.join("ws/crate/.cargo/config.toml"),
            "[build]\nrustflags = [\"--cfg\", \"needed\"]\n",
        );
        write(
            &d.join("ws/.cargo/config"),
            "[build]\nrustflags = \"-Copt-level=1\"\n",
        );
        write(&d.join("home/config.toml"), "[net]\noffline = false\n");
        assert_eq!(flags(d, &[]), ["--cfg", "needed", "-Copt-level=1"]);
        assert_eq!(flags(d, &[("RUSTFLAGS", "--cfg  env")]), ["--cfg", "env"]);
        assert_eq!(
            flags(d, &[("CARGO_ENCODED_RUSTFLAGS", "--cfg\x1fa b")]),
            ["--cfg", "a b"]
        );
    }

    #[test]
    fn target_tables_shadow_build_rustflags() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(
            &d.join("ws/.cargo/config.toml"),
            "[build]\nrustflags = [\"--cfg\", \"b\"]\n[target.'cfg(all(unix, not(windows)))']\nrustflags = [\"--cfg\", \"u\"]\n[target.'cfg(windows)']\nrustflags = [\"--cfg\", \"w\"]\n",
        );
        std::fs::create_dir_all(d.join("ws/crate")).unwrap();
        assert_eq!(flags(d, &[]), ["--cfg", "u"]);
        write(
            &d.join("ws/crate/.cargo/config.toml"),
            &format!("[target.{HOST}]\nrustflags = [\"--cfg\", \"h\"]\n"),
        );
        assert_eq!(flags(d, &[]), ["--cfg", "h", "--cfg", "u"]);
    }
}
