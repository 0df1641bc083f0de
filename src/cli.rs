//! The command line: `cargo edgecheck [OPTIONS]`, parsed with clap.

pub use crate::protocol::Engine;
use std::path::PathBuf;

use crate::ids::Shard;
use std::time::Duration;

use clap::builder::RangedU64ValueParser;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Finds the edge cases a code change missed";

const LONG_ABOUT: &str = "\
Finds the edge cases a code change missed.

Takes the functions that changed since the base revision (committed and uncommitted changes),
generates property tests for them, runs them within a time budget, and reports every input on
which the new code panics, overflows, hangs or runs out of memory, with the smallest input found
and a regression test to paste. Generated code lives under <target-dir>/edgecheck; the crate's
own files are only read.

Exit status: 0 when nothing was found, 1 when there are findings, 2 on a usage or environment
error (not a git repository, unknown base, manifest not found, the crate does not build), 3 when
--time-limit ran out before the harness was built.";

/// `cargo edgecheck` options.
#[derive(Debug, Clone, Parser)]
#[command(name = "cargo-edgecheck", bin_name = "cargo edgecheck", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Path to Cargo.toml of the crate or workspace to check.
    #[arg(long, value_name = "PATH", global = true)]
    pub manifest_path: Option<PathBuf>,

    /// Package to check (repeatable); by default the package in the current directory, or every
    /// member at a workspace root.
    #[arg(short = 'p', long = "package", value_name = "SPEC", global = true)]
    pub packages: Vec<String>,

    /// Check every member of the workspace.
    #[arg(long, global = true)]
    pub workspace: bool,

    /// Features to enable on the packages under test (comma or space separated, repeatable).
    #[arg(short = 'F', long, value_name = "FEATURES", global = true)]
    pub features: Vec<String>,

    /// Enable every feature of the packages under test.
    #[arg(long, global = true)]
    pub all_features: bool,

    /// Do not enable the packages' default features.
    #[arg(long, global = true)]
    pub no_default_features: bool,

    /// Revision to compare against [default: merge-base of HEAD with origin/HEAD, else main or
    /// master, else HEAD].
    #[arg(long, value_name = "REV", global = true)]
    pub base: Option<String>,

    /// Read the change from a unified diff file instead of git.
    #[arg(long, value_name = "FILE", conflicts_with = "base", global = true)]
    pub diff: Option<PathBuf>,

    /// Test this function instead of the changed ones (repeatable). A Rust path as rustc or the
    /// docs print it: `text::truncate`, `mycrate::text::truncate`, `Stack::pop_n`,
    /// `<Amount as FromStr>::from_str`; a re-export path names the function it re-exports.
    #[arg(long = "function", value_name = "PATH", global = true, value_parser = crate::select::validate_pattern)]
    pub functions: Vec<String>,

    /// Test only what AI-assisted commits wrote: of the changed functions, those a commit in
    /// `base..HEAD` touched whose message or identity marks it as AI-assisted (an
    /// `Assisted-by:` or `Generated-by:` trailer, a `Co-authored-by:` naming an assistant,
    /// `Made-with: Cursor`, Claude Code's footer, an agent bot as author), or every commit when
    /// the pull request carries the `--ai-label`. Changes not committed yet count only with
    /// `--ai-only=include-uncommitted`, since nothing marks them. No such commit: exit 0.
    #[arg(
        long,
        value_enum,
        value_name = "WHICH",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "committed",
        conflicts_with_all = ["diff", "functions"],
        global = true
    )]
    pub ai_only: Option<AiOnly>,

    /// With `--ai-only`: the pull-request label that marks every commit of the pull request as
    /// AI-assisted, read from the GitHub Actions event file (`GITHUB_EVENT_PATH`)
    /// [default: ai-assisted].
    #[arg(long, value_name = "NAME", global = true)]
    pub ai_label: Option<String>,

    /// Leave out the functions whose path (`mycrate::generated::*`) or file (`src/legacy/**`,
    /// relative to the workspace root) matches this glob (repeatable; adds to the `exclude` of
    /// the configuration).
    #[arg(long, value_name = "GLOB", global = true)]
    pub exclude: Vec<String>,

    /// Patterns from the configuration (`ai-patterns`) that mark a commit as AI-assisted.
    #[arg(skip)]
    pub ai_patterns: Vec<String>,

    /// The settings the command line gave (by clap id), which the configuration does not
    /// override.
    #[arg(skip)]
    pub given: Vec<String>,

    /// Test only part K of N of the selected functions (a stable hash of each function's path
    /// decides its part; a changed helper's callers go with it), for N CI jobs that each run
    /// with the whole `--budget`; `cargo edgecheck merge` combines their reports.
    #[arg(long, value_name = "K/N", value_parser = Shard::parse, global = true)]
    pub shard: Option<Shard>,

    /// Wall time of everything after the build: the engines and their follow-ups (recording,
    /// base checks, minimisation), triage and the report; the run ends within it plus 5% (at
    /// most a second), however many functions or findings. `--verify` is a build and comes on
    /// top. Functions are served in the order of the change; those the budget cannot give a
    /// useful minimum are listed as not fuzzed, with the reason. `30s`, `2m` (at most a week).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_budget)]
    pub budget: Duration,

    /// Wall time of the whole run, builds and `--verify` included, for a CI step with a hard
    /// cap: after the build the budget is cut to what is left; a build that runs past the limit
    /// is stopped and the run fails with exit status 3; `--verify` stops at the limit, leaving
    /// the findings it did not prove unverified. Same format as `--budget`.
    #[arg(long, value_name = "DURATION", value_parser = parse_budget)]
    pub time_limit: Option<Duration>,

    /// Time one input may take before it counts as a hang (at most an hour).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_timeout)]
    pub timeout: Duration,

    /// Functions tested at once, and cargo build jobs, 1 to 1024 [default: number of cores].
    #[arg(short = 'j', long, value_name = "N", value_parser = RangedU64ValueParser::<usize>::new().range(1..=1024))]
    pub jobs: Option<usize>,

    /// Engines to run, in order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "edge,proptest,libfuzzer"
    )]
    pub engines: Vec<Engine>,

    /// Sanitizer for the libFuzzer engine's build: `address` adds AddressSanitizer, which
    /// catches out-of-bounds and use-after-free in `unsafe` code. Needs a nightly toolchain
    /// (`rustup toolchain install nightly`); the other engines stay on the default toolchain.
    #[arg(long, value_enum, value_name = "SANITIZER", default_value = "none")]
    pub sanitizer: Sanitizer,

    /// Seed of the random engines; the same seed replays the same inputs.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,

    /// Memory a single input may use before it counts as out-of-memory, in MiB (64 to
    /// 1048576).
    #[arg(long, value_name = "MIB", default_value_t = 2048, value_parser = RangedU64ValueParser::<u64>::new().range(64..=1 << 20))]
    pub memory_limit: u64,

    /// Which findings make the exit status 1: those the change introduced, any, or none.
    #[arg(
        long,
        value_enum,
        value_name = "WHICH",
        default_value = "introduced",
        global = true
    )]
    pub fail_on: FailOn,

    /// Count -0.0 and 0.0 as different results when comparing with the code before the change.
    #[arg(long)]
    pub strict_floats: bool,

    /// Run the code under test unconfined. By default each harness process is confined with
    /// Landlock (Linux 5.13 and later): it may write only to the run's directories, the temp
    /// dir and /dev, and may not open TCP connections. Use this for a function that must
    /// write elsewhere; the report says whether the sandbox was active.
    #[arg(long)]
    pub no_sandbox: bool,

    /// Prove each finding: paste its regression test next to the function in a scratch copy,
    /// build it with `cargo test`, and check that it fails on the code after the change and,
    /// for an introduced finding, passes on the code before it. The report marks each finding
    /// verified or not, with the reason; no finding is dropped.
    #[arg(long)]
    pub verify: bool,

    /// Report formats, comma-separated: `human`, `json`, `markdown` (a review comment),
    /// `junit`, `sarif` (code scanning), `github` (workflow-command annotations, always on
    /// standard output). More than one (besides `github`) needs `--output-dir`.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "human",
        global = true
    )]
    pub format: Vec<Format>,

    /// Write the report to this file instead of standard output.
    #[arg(
        short,
        long,
        value_name = "FILE",
        conflicts_with = "output_dir",
        global = true
    )]
    pub output: Option<PathBuf>,

    /// Write one file per format here: `edgecheck.txt`, `edgecheck.json`, `edgecheck.md`,
    /// `edgecheck.junit.xml`, `edgecheck.sarif`.
    #[arg(long, value_name = "DIR", global = true)]
    pub output_dir: Option<PathBuf>,

    /// Directory for all generated code and builds [default: the workspace's target dir].
    #[arg(long, value_name = "DIR", global = true)]
    pub target_dir: Option<PathBuf>,

    /// Print no progress.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Say more about each stage (repeat for more).
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,

    /// When to use colours.
    #[arg(
        long,
        value_enum,
        value_name = "WHEN",
        default_value = "auto",
        global = true
    )]
    pub color: ColorChoice,
}

/// Subcommands; without one, `cargo edgecheck` tests the change.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Write committable harnesses for the selected public functions: a proptest test file
    /// (`tests/edgecheck.rs`, runs under `cargo test`) and cargo-fuzz targets
    /// (`fuzz/fuzz_targets/<name>.rs`, run with `cargo fuzz run -s none <name>`).
    Emit(EmitArgs),
    /// List the functions a run would test, how each argument would be generated, and the
    /// reason for each function it cannot test, without building anything: the changed ones,
    /// those `--function` names, or with `--all` every function of the selected packages.
    /// `--format json` prints them as JSON (schema `edgecheck-list/1`).
    List(ListArgs),
    /// Combine the JSON reports of `--shard` runs (`edgecheck.json` of each) into one report,
    /// written in every `--format` asked for (`--output-dir` for more than one). Exits 1 when
    /// the combined findings meet `--fail-on` (by default the shards' own setting).
    Merge(MergeArgs),
    /// Hand the selected public functions to another fuzzing engine, to keep fuzzing them
    /// after the run's budget is spent: writes that engine's configuration and the cargo-fuzz
    /// targets (as `emit` does) for the functions the selection options pick.
    Export(ExportArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub engine: ExportEngine,
}

/// The engines `export` writes for.
#[derive(Debug, Clone, Subcommand)]
pub enum ExportEngine {
    /// ClusterFuzzLite (google/clusterfuzzlite, on GitHub Actions or any CI): writes
    /// `DIR/.clusterfuzzlite/` (`project.yaml`, `Dockerfile` on the OSS-Fuzz Rust builder,
    /// `build.sh`) and a cargo-fuzz target per function in each package's `fuzz/`, so the
    /// functions keep being fuzzed in its code-change and batch modes, with its corpus and
    /// crash management.
    #[command(name = "clusterfuzzlite")]
    ClusterFuzzLite(ClusterFuzzLiteArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ClusterFuzzLiteArgs {
    /// The repository root: ClusterFuzzLite builds its Docker image from this directory, so
    /// it must exist and contain the selected packages. `.clusterfuzzlite/` is written here,
    /// the fuzz targets in each package's `fuzz/` directory.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Replace files that exist and were not written by cargo edgecheck.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// The JSON reports to combine.
    #[arg(value_name = "REPORT", required = true)]
    pub reports: Vec<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Every function of the packages, not only the changed or named ones.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Clone, Args)]
pub struct EmitArgs {
    /// Directory to write into: the package's own directory puts the files where cargo and
    /// cargo-fuzz look for them. With several packages, each gets a subdirectory named after it.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Replace files that exist and were not written by cargo edgecheck.
    #[arg(long)]
    pub force: bool,

    /// Cases each property test runs under `cargo test`.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub cases: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For a person at a terminal.
    Human,
    /// The report model (schema `edgecheck-report/1`).
    Json,
    /// A pull-request review comment (GitHub-flavoured Markdown).
    Markdown,
    /// GitHub Actions workflow commands: one annotation per finding, on standard output.
    Github,
    /// JUnit XML, for CI test-report views: a test case per function.
    Junit,
    /// SARIF 2.1.0, for GitHub code scanning alerts.
    Sarif,
}

impl Format {
    /// The file a format is written to in `--output-dir`; `None` for one that goes to standard
    /// output.
    pub fn file_name(self) -> Option<&'static str> {
        match self {
            Format::Human => Some("edgecheck.txt"),
            Format::Json => Some("edgecheck.json"),
            Format::Markdown => Some("edgecheck.md"),
            Format::Junit => Some("edgecheck.junit.xml"),
            Format::Sarif => Some("edgecheck.sarif"),
            Format::Github => None,
        }
    }
}

/// Which changes `--ai-only` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AiOnly {
    /// Lines AI-assisted commits wrote.
    Committed,
    /// Those, and every change not committed yet.
    IncludeUncommitted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Sanitizer {
    /// Coverage instrumentation only (stable Rust).
    None,
    /// AddressSanitizer (nightly Rust).
    Address,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Findings the change introduced (the code before it did not fail the same way).
    Introduced,
    /// Every finding, pre-existing ones too.
    Any,
    /// None: exit 0 whatever is found (errors still exit 2).
    Never,
}

impl FailOn {
    /// The name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            FailOn::Introduced => "introduced",
            FailOn::Any => "any",
            FailOn::Never => "never",
        }
    }
}

/// `--engines` takes the harness protocol's engines by name.
impl ValueEnum for Engine {
    fn value_variants<'a>() -> &'a [Self] {
        &Engine::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let help = match self {
            Engine::Edge => "Deterministic boundary values and the literals of the changed code",
            Engine::Proptest => "Random inputs biased toward edge values, with shrinking",
            Engine::Libfuzzer => {
                "Coverage-guided fuzzing with libFuzzer (an instrumented second build of the harness)"
            }
        };
        Some(clap::builder::PossibleValue::new(self.name()).help(help))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The longest `--budget`: past it, a typo (`99999h`) would fuzz for years.
pub const MAX_BUDGET: Duration = Duration::from_secs(7 * 24 * 3600);

/// The longest `--timeout`.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// A `--budget`: more than zero, at most [`MAX_BUDGET`].
pub fn parse_budget(s: &str) -> Result<Duration, String> {
    parse_duration(s, MAX_BUDGET, "a week (168h)")
}

/// A `--timeout`: more than zero, at most [`MAX_TIMEOUT`].
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    parse_duration(s, MAX_TIMEOUT, "an hour")
}

fn parse_duration(s: &str, max: Duration, max_text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("{e} (write e.g. `30s`, `2m`, `500ms`)"))?;
    if d.is_zero() {
        return Err("must be more than zero".into());
    }
    if d > max {
        return Err(format!("must be at most {max_text}"));
    }
    Ok(d)
}

impl Cli {
    /// Parses `args`, noting which of the settings a configuration may also hold the command
    /// line gave.
    pub fn parse_args(args: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cli::command().try_get_matches_from(args)?;
        let mut cli = Cli::from_arg_matches(&matches)?;
        cli.given = ["budget", "time_limit", "timeout", "engines", "fail_on"]
            .into_iter()
            .filter(|id| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine))
            .map(str::to_string)
            .collect();
        Ok(cli)
    }
}

/// The arguments without the `edgecheck` that cargo inserts when run as `cargo edgecheck`.
pub fn args_from_env() -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).map(|a| a == "edgecheck").unwrap_or(false) {
        args.remove(1);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn durations_and_defaults() {
        let cli = Cli::try_parse_from(["cargo-edgecheck", "--budget", "2m", "--engines", "edge"])
            .unwrap();
        assert_eq!(cli.budget, Duration::from_secs(120));
        assert_eq!(cli.timeout, Duration::from_secs(1));
        assert_eq!(cli.engines, vec![Engine::Edge]);
        let all = Cli::try_parse_from(["cargo-edgecheck"]).unwrap();
        assert_eq!(
            all.engines,
            vec![Engine::Edge, Engine::Proptest, Engine::Libfuzzer]
        );
        assert!(Cli::try_parse_from(["cargo-edgecheck", "--budget", "soon"]).is_err());
        assert!(Cli::try_parse_from(["cargo-edgecheck", "--base", "x", "--diff", "y"]).is_err());
        let emit = Cli::try_parse_from([
            "cargo-edgecheck",
            "emit",
            "--out",
            "o",
            "--function",
            "text::truncate",
        ])
        .unwrap();
        assert!(matches!(emit.command, Some(Command::Emit(ref a)) if a.out == Path::new("o")));
        assert_eq!(emit.functions, vec!["text::truncate"]);
        let export = Cli::try_parse_from([
            "cargo-edgecheck",
            "export",
            "clusterfuzzlite",
            "--out",
            ".",
            "-p",
            "demo",
        ])
        .unwrap();
        assert!(matches!(
            export.command,
            Some(Command::Export(ExportArgs { engine: ExportEngine::ClusterFuzzLite(ref a) })) if a.out == Path::new(".")
        ));
        assert_eq!(export.packages, vec!["demo"]);
        assert!(Cli::try_parse_from(["cargo-edgecheck", "export", "--out", "."]).is_err());
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
