//! Typed errors of the tool, each with what went wrong and what to do, and the exit status.

use std::path::PathBuf;

/// The exit statuses of `cargo edgecheck`.
pub mod exit_code {
    /// The run ended and nothing it found meets `--fail-on`.
    pub const OK: u8 = 0;
    /// The run ended with a finding that meets `--fail-on`.
    pub const FINDINGS: u8 = 1;
    /// The run could not be done: bad input, a crate that does not build, a tool failure.
    pub const ERROR: u8 = 2;
    /// `--time-limit` ran out before the harness was built: nothing was fuzzed.
    pub const TIME_LIMIT: u8 = 3;
}

/// An error that stops the whole run. Every variant prints as one line that says what went
/// wrong and, where the user can act on it, what to do; `main` exits with [`Error::exit_code`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0} is not inside a git repository: run `git init` there, or name the changes with `--diff FILE` or `--function PATH`")]
    NotAGitRepo(PathBuf),
    #[error("unknown base revision `{0}`: give a commit, branch or tag that exists (`git log --oneline` lists them)")]
    UnknownBase(String),
    #[error("{0}: fetch the whole history (`git fetch --unshallow`, or `fetch-depth: 0` in GitHub's actions/checkout) and run again")]
    ShallowClone(String),
    #[error("git failed: `git {args}`: {stderr}")]
    Git { args: String, stderr: String },
    #[error("cannot run `{program}`: {source}; is it installed and on PATH?")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the harness failed to start: {0}; this is a cargo-edgecheck bug: please report it with the command line")]
    Harness(String),
    #[error("cannot contain the code under test: {0}; `--no-sandbox` runs it unconfined")]
    Contain(String),
    #[error("no Cargo.toml at {0}: pass `--manifest-path` to the crate's manifest, or run inside the crate")]
    ManifestNotFound(PathBuf),
    #[error("cargo metadata failed: {0}")]
    Metadata(String),
    #[error(
        "no package named `{0}` in this workspace; `cargo metadata --no-deps` lists the packages"
    )]
    UnknownPackage(String),
    #[error("{file} does not parse as Rust ({message}), and rustc agrees: {rustc}; fix the syntax error and run again")]
    Syntax {
        file: String,
        message: String,
        rustc: String,
    },
    #[error("cannot read the diff file {0}: {1}")]
    DiffFile(PathBuf, String),
    #[error("the crate does not build:\n{0}\nfix the build error (it also fails under `cargo build`) and run again")]
    CrateBuild(String),
    #[error("cargo could not build the generated harness, though the crate builds on its own; this is a bug in cargo-edgecheck (please report it with this output):\n{0}")]
    HarnessBuild(String),
    #[error("cargo failed:\n{0}")]
    Cargo(String),
    #[error("no function matches `{pattern}`{}{}: give its path inside the crate, e.g. `text::truncate`, `Stack::pop` or `<Amount as FromStr>::from_str`", closest_names(closest), unparsed_files(unparsed))]
    NoSuchFunction {
        pattern: String,
        /// The crate's names closest to the pattern.
        closest: Vec<String>,
        /// Files whose functions could not be read, with the reason.
        unparsed: Vec<String>,
    },
    #[error("{0}")]
    Usage(String),
    #[error("the --time-limit of {} ran out after {:.1}s, before the harness was built, so nothing was fuzzed: raise --time-limit, or keep <target-dir>/edgecheck between CI runs so the build is cached", humantime::format_duration(*limit), elapsed.as_secs_f64())]
    TimeLimit {
        limit: std::time::Duration,
        elapsed: std::time::Duration,
    },
    #[error("the configuration: {0}; fix it in Cargo.toml (the README's \"Configuration\" lists the keys)")]
    Config(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The exit status this error ends the run with: [`exit_code::TIME_LIMIT`] for the time
    /// limit, [`exit_code::ERROR`] for every other.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::TimeLimit { .. } => exit_code::TIME_LIMIT,
            _ => exit_code::ERROR,
        }
    }

    /// Wraps an I/O error with what the tool was doing when it happened.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

fn closest_names(names: &[String]) -> String {
    match names {
        [] => String::new(),
        _ => format!(" (closest: {})", names.join(", ")),
    }
}

fn unparsed_files(files: &[String]) -> String {
    match files {
        [] => String::new(),
        _ => format!(
            "; these files could not be read, so their functions are unknown: {}",
            files.join("; ")
        ),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
