//! The team's defaults from `[workspace.metadata.edgecheck]` and `[package.metadata.edgecheck]`
//! in Cargo.toml, applied under the command line (a flag given there wins).

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::cli::{Cli, FailOn};
use crate::error::{Error, Result};
use crate::protocol::Engine;
use crate::workspace::Workspace;

/// One `edgecheck` table as written; every key optional, an unknown key refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Table {
    budget: Option<String>,
    time_limit: Option<String>,
    timeout: Option<String>,
    engines: Option<Vec<String>>,
    fail_on: Option<String>,
    /// Globs over function paths (`mycrate::generated::*`) or files (`src/generated/**`).
    #[serde(default)]
    exclude: Vec<String>,
    /// Regular expressions marking a commit as AI-assisted, besides the built-in ones.
    #[serde(default)]
    ai_patterns: Vec<String>,
    ai_label: Option<String>,
    /// Prove every finding, as `--verify` does.
    verify: Option<bool>,
}

/// The keys a table may have, for the error about one it may not.
const KEYS: &str =
    "budget, time-limit, timeout, engines, fail-on, exclude, ai-patterns, ai-label, verify";

/// Where a table was read from, for errors: `[package.metadata.edgecheck] in /x/Cargo.toml`.
struct Origin {
    table: &'static str,
    manifest: PathBuf,
}

impl Origin {
    fn error(&self, key: &str, why: impl std::fmt::Display) -> Error {
        Error::Config(format!(
            "`{key}` in [{}] of {}: {why}",
            self.table,
            self.manifest.display()
        ))
    }
}

/// Applies the workspace's table, then each selected package's on top of it, to the settings
/// the command line left at their defaults (`cli.given` says which it set), and adds their
/// excludes and AI patterns. Returns the settled command line.
pub fn settle(cli: &Cli, ws: &Workspace) -> Result<Cli> {
    let mut settled = cli.clone();
    let mut tables = vec![(
        ws.metadata.get("edgecheck"),
        Origin {
            table: "workspace.metadata.edgecheck",
            manifest: ws.root.join("Cargo.toml"),
        },
    )];
    for p in &ws.packages {
        tables.push((
            p.metadata.get("edgecheck"),
            Origin {
                table: "package.metadata.edgecheck",
                manifest: p.manifest.clone(),
            },
        ));
    }
    for (value, origin) in tables {
        let Some(value) = value else { continue };
        let table: Table = serde_json::from_value(value.clone()).map_err(|e| {
            let why = e.to_string();
            match why.strip_prefix("unknown field ") {
                Some(rest) => Error::Config(format!(
                    "unknown key {} in [{}] of {} (the keys are: {KEYS})",
                    rest.split(',').next().unwrap_or(rest),
                    origin.table,
                    origin.manifest.display()
                )),
                None => Error::Config(format!(
                    "[{}] of {}: {why}",
                    origin.table,
                    origin.manifest.display()
                )),
            }
        })?;
        apply(&mut settled, table, &origin)?;
    }
    Ok(settled)
}

fn apply(cli: &mut Cli, table: Table, origin: &Origin) -> Result<()> {
    let given = |id: &str| cli.given.iter().any(|g| g == id);
    if let Some(text) = table.budget {
        let d = crate::cli::parse_budget(&text)
            .map_err(|e| origin.error("budget", format!("`{text}`: {e}")))?;
        if !given("budget") {
            cli.budget = d;
        }
    }
    if let Some(text) = table.time_limit {
        let d = crate::cli::parse_budget(&text)
            .map_err(|e| origin.error("time-limit", format!("`{text}`: {e}")))?;
        if !given("time_limit") {
            cli.time_limit = Some(d);
        }
    }
    if let Some(text) = table.timeout {
        let d = crate::cli::parse_timeout(&text)
            .map_err(|e| origin.error("timeout", format!("`{text}`: {e}")))?;
        if !given("timeout") {
            cli.timeout = d;
        }
    }
    if let Some(names) = table.engines {
        let engines = names
            .iter()
            .map(|n| {
                Engine::ALL
                    .iter()
                    .copied()
                    .find(|e| e.name() == n)
                    .ok_or_else(|| {
                        let known: Vec<&str> = Engine::ALL.iter().map(|e| e.name()).collect();
                        origin.error(
                            "engines",
                            format!("no engine `{n}` (the engines are: {})", known.join(", ")),
                        )
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        if engines.is_empty() {
            return Err(origin.error("engines", "name at least one engine"));
        }
        if !given("engines") {
            cli.engines = engines;
        }
    }
    if let Some(text) = table.fail_on {
        let fail_on = <FailOn as clap::ValueEnum>::from_str(&text, false).map_err(|_| {
            origin.error(
                "fail-on",
                format!("`{text}` is not one of introduced, any, never"),
            )
        })?;
        if !given("fail_on") {
            cli.fail_on = fail_on;
        }
    }
    for glob in &table.exclude {
        Glob::new(glob).map_err(|e| origin.error("exclude", e))?;
    }
    cli.exclude.extend(table.exclude);
    crate::provenance::AiPatterns::new(&table.ai_patterns)
        .map_err(|e| origin.error("ai-patterns", e))?;
    cli.ai_patterns.extend(table.ai_patterns);
    if cli.ai_label.is_none() {
        cli.ai_label = table.ai_label;
    }
    // `--verify` has no negation on the command line: the configuration can only turn it on.
    cli.verify |= table.verify.unwrap_or(false);
    Ok(())
}

/// The functions and files a run leaves out: globs over function paths and over file paths
/// relative to the workspace root.
#[derive(Debug, Clone)]
pub struct Excluded {
    globs: Vec<String>,
    set: GlobSet,
}

/// Compiles `globs`; a glob that does not compile is a usage error.
pub fn excluded(globs: &[String]) -> Result<Excluded> {
    let mut builder = GlobSetBuilder::new();
    for g in globs {
        let glob = Glob::new(g).map_err(|e| Error::Usage(format!("`--exclude {g}`: {e}")))?;
        builder.add(glob);
    }
    let set = builder
        .build()
        .map_err(|e| Error::Usage(format!("the exclude globs: {e}")))?;
    Ok(Excluded {
        globs: globs.to_vec(),
        set,
    })
}

impl Excluded {
    /// The glob that leaves out the function at `path` declared in `file` (relative to the
    /// workspace root), if one does.
    pub fn matching(&self, path: &str, file: &Path) -> Option<&str> {
        let hits = self.set.matches(path);
        let hits = if hits.is_empty() {
            self.set.matches(file)
        } else {
            hits
        };
        hits.first().map(|&i| self.globs[i].as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_function_paths_and_files() {
        let ex = excluded(&["demo::generated::*".into(), "src/legacy/**".into()]).unwrap();
        assert_eq!(
            ex.matching("demo::generated::parse", Path::new("src/gen.rs")),
            Some("demo::generated::*")
        );
        assert_eq!(
            ex.matching("demo::old::f", Path::new("src/legacy/old.rs")),
            Some("src/legacy/**")
        );
        assert_eq!(ex.matching("demo::f", Path::new("src/lib.rs")), None);
        assert!(excluded(&["a[".into()]).is_err());
    }
}
