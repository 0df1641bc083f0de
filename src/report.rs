//! The report: JSON (schema `edgecheck-report/1`) or human text, and the progress shown while the tool works.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use console::style;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

mod github;
mod junit;
mod markdown;
mod merge;
mod sarif;

pub use github::to_github;
pub use junit::to_junit;
pub use markdown::to_markdown;
pub use merge::merge;
pub use sarif::to_sarif;

use crate::plan::ArgumentText;
use crate::protocol::Engine;
pub use crate::provenance::AiCommit;
use crate::triage::Finding;

pub const SCHEMA: &str = "edgecheck-report/1";

/// Everything a run found, in the shape of the JSON report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    /// The base commit the changes were taken against, when git gave them.
    pub base: Option<String>,
    pub head: String,
    /// With `--ai-only`: the commits that qualified as AI-assisted, and what was left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ai: Option<AiReport>,
    pub settings: Settings,
    pub functions: Vec<FunctionReport>,
    pub findings: Vec<Finding>,
    pub timing: Timing,
}

/// What `--ai-only` selected.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AiReport {
    /// Whether changes not committed yet counted as AI-assisted.
    pub uncommitted: bool,
    /// The commits in `base..HEAD` that qualified, oldest first, each with the line that made
    /// it qualify.
    pub commits: Vec<AiCommit>,
    /// Changed functions that no AI-assisted commit touched, left out of the run.
    pub left_out: Vec<String>,
}

/// Whether a run tested a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Tested,
    Skipped,
}

/// Whether `list` found a plan to call a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ListStatus {
    Testable,
    Skipped,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FunctionReport {
    pub function: String,
    pub file: String,
    pub line: usize,
    /// The line of the function's closing brace.
    pub end_line: usize,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether the function was compared with its version before the change, or why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// Inputs tried per engine.
    pub engines: BTreeMap<String, u64>,
    /// For a function that did not change but calls a changed helper: that helper.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller_of: Option<String>,
    /// For a changed helper: the callers it was also tested through.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tested_through: Vec<String>,
    /// The engines the budget could not give this function, and why:
    /// `proptest, libfuzzer: the budget (5s) gives them to 3 of 60 functions at the least of
    /// 1.56s per function; …`. A function no engine ran on is also `skipped`, its reason
    /// starting with `not fuzzed:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_fuzzed: Option<String>,
}

impl FunctionReport {
    /// An entry for something the run cannot test at all, with the reason.
    pub fn skipped(function: String, file: String, line: usize, reason: String) -> Self {
        FunctionReport {
            function,
            file,
            line,
            end_line: line,
            status: Status::Skipped,
            reason: Some(reason),
            base: None,
            engines: BTreeMap::new(),
            caller_of: None,
            tested_through: Vec::new(),
            not_fuzzed: None,
        }
    }
}

/// One line of `cargo edgecheck list`.
#[derive(Debug, Clone, Serialize)]
pub struct ListedFunction {
    pub function: String,
    pub file: String,
    pub line: usize,
    /// Other crates can call it by its path.
    pub public: bool,
    pub status: ListStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a testable function: how each argument is generated.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<ArgumentText>,
}

/// The schema tag of `cargo edgecheck list --format json`.
pub const LIST_SCHEMA: &str = "edgecheck-list/1";

/// `cargo edgecheck list --format json`: `{"schema": …, "functions": […]}`.
pub fn list_json(functions: &[ListedFunction]) -> String {
    let doc = serde_json::json!({ "schema": LIST_SCHEMA, "functions": functions });
    let mut text = serde_json::to_string_pretty(&doc).expect("a list serializes");
    text.push('\n');
    text
}

/// `cargo edgecheck list`: one function per line, with where it is and why it cannot be
/// tested when it cannot.
pub fn list_human(functions: &[ListedFunction]) -> String {
    let mut out = String::new();
    for f in functions {
        out.push_str(&format!("{}  ({}:{})", f.function, f.file, f.line));
        if let Some(why) = &f.reason {
            out.push_str(&format!("  skipped: {why}"));
        }
        out.push('\n');
        for a in &f.arguments {
            // The generator, when it says more than the type.
            match a.generator.replace(' ', "") == a.written.replace(' ', "") {
                true => out.push_str(&format!("    {}: {}\n", a.name, a.written)),
                false => out.push_str(&format!(
                    "    {}: {}  as {}\n",
                    a.name, a.written, a.generator
                )),
            }
        }
    }
    let testable = functions.iter().filter(|f| f.reason.is_none()).count();
    out.push_str(&format!(
        "{} function(s), {testable} testable\n",
        functions.len()
    ));
    out
}

/// The settings the run used, after the configuration and the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub budget_ms: u64,
    pub timeout_ms: u64,
    pub engines: Vec<Engine>,
    /// Which findings fail the run: `introduced`, `any` or `never`.
    pub fail_on: String,
    /// With `--shard K/N`: the part of the selection this run tested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Whether the code under test ran confined, and how (absent when nothing ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<String>,
    /// `--time-limit`, when the run had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limit_ms: Option<u64>,
}

/// Where the run's time went. The budget is the wall time after the build: `after_build_ms`
/// stays within `budget_ms` plus 5% (at most a second). Its spending is counted in process
/// time, over the `jobs` cores: `engines_ms + follow_ups_ms + idle_ms = jobs × after_build_ms`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Timing {
    pub build_ms: u64,
    /// The run stage: the engines and their follow-ups.
    pub run_ms: u64,
    pub total_ms: u64,
    /// When the build ended (the budget's start), in milliseconds since the tool started.
    #[serde(default)]
    pub build_end_ms: u64,
    /// The budget the run had after the build: `--budget`, or less when `--time-limit` left
    /// less.
    #[serde(default)]
    pub budget_ms: u64,
    /// Wall time from the end of the build to the report (`--verify` left out).
    #[serde(default)]
    pub after_build_ms: u64,
    /// Harness processes at once (`--jobs`).
    #[serde(default)]
    pub jobs: u64,
    /// The engine processes' wall time, summed: up to `jobs` times the budget.
    #[serde(default)]
    pub engines_ms: u64,
    /// The follow-up processes' wall time, summed: recording the input of a crash, base
    /// checks, libFuzzer's minimisation and decoding, each out of the budget.
    #[serde(default)]
    pub follow_ups_ms: u64,
    /// `jobs × after_build_ms` less the two: time a core ran no harness process (a process's
    /// start, the follow-ups' reserve when nothing needed it, triage and the report).
    #[serde(default)]
    pub idle_ms: u64,
    /// With `--verify`: its wall time (a build, outside the budget).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_ms: Option<u64>,
}

/// How much of the change a run covered.
pub struct Coverage {
    /// Changed (or named) functions, callers of changed helpers left out.
    pub changed: usize,
    /// Of those, the ones tested.
    pub tested: usize,
    /// Inputs run, over every function and engine.
    pub inputs: u64,
}

impl AiReport {
    /// Whether the run had nothing to test because no commit qualified.
    pub fn nothing_qualified(&self) -> bool {
        self.commits.is_empty() && !self.uncommitted
    }

    /// `a1b2c3d Co-authored-by: Claude <…> (Fix the parser)`, one per commit.
    pub fn commit_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .commits
            .iter()
            .map(|c| format!("{} {} ({})", c.short, c.evidence, c.subject))
            .collect();
        if self.uncommitted {
            lines.push("changes not committed yet (`--ai-only=include-uncommitted`)".into());
        }
        lines
    }

    /// The line a run says when no commit qualified.
    pub const NOTHING_QUALIFIED: &'static str = "no AI-assisted commit in the change (no trailer or identity of an assistant, no pull request label): nothing to test";
}

impl Report {
    pub fn coverage(&self) -> Coverage {
        let changed = || self.functions.iter().filter(|f| f.caller_of.is_none());
        Coverage {
            changed: changed().count(),
            tested: changed().filter(|f| f.status == Status::Tested).count(),
            inputs: self.functions.iter().flat_map(|f| f.engines.values()).sum(),
        }
    }

    /// The engines the budget left out, grouped by reason: each `not_fuzzed` text
    /// (`proptest, libfuzzer: the budget (5s) gives them to …`) with the functions it holds
    /// for, in the report's order.
    pub fn budget_cuts(&self) -> Vec<(&str, Vec<&str>)> {
        let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
        for f in &self.functions {
            let Some(why) = f.not_fuzzed.as_deref() else {
                continue;
            };
            match out.iter_mut().find(|(w, _)| *w == why) {
                Some((_, names)) => names.push(&f.function),
                None => out.push((why, vec![&f.function])),
            }
        }
        out
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report serializes") + "\n"
    }

    /// The report for a person: each finding with its input, message, location and test; then
    /// what was tested and what was skipped, and why.
    pub fn to_human(&self) -> String {
        let mut s = String::new();
        if let Some(ai) = &self.ai {
            if ai.nothing_qualified() {
                return format!("{}\n", AiReport::NOTHING_QUALIFIED);
            }
            let _ = writeln!(s, "{}", style("AI-assisted commits:").bold());
            for line in ai.commit_lines() {
                let _ = writeln!(s, "   {line}");
            }
            if !ai.left_out.is_empty() {
                let _ = writeln!(
                    s,
                    "   left out, not changed by an AI-assisted commit: {}",
                    ai.left_out.join(", ")
                );
            }
            s.push('\n');
        }
        let (introduced, others): (Vec<&Finding>, Vec<&Finding>) =
            self.findings.iter().partition(|f| f.introduced);
        for (i, f) in introduced.iter().enumerate() {
            let _ = writeln!(
                s,
                "{} {} in {}  {}",
                style(format!("{}.", i + 1)).bold(),
                style(f.kind_name()).red().bold(),
                style(&f.function).bold(),
                style(format!(
                    "[{} engine, after {:.1}s]",
                    f.engine.name(),
                    f.elapsed_ms as f64 / 1000.0
                ))
                .dim()
            );
            let _ = writeln!(s, "   input:    {}", style(&f.input).cyan());
            let _ = writeln!(s, "   message:  {}", f.message);
            if let Some(l) = &f.location {
                let _ = writeln!(s, "   at:       {}:{}:{}", l.file, l.line, l.column);
            }
            if let Some(origin) = &f.panicked_in {
                let _ = writeln!(s, "   inside:   {origin}");
            }
            if let Some(caller) = &f.through {
                let _ = writeln!(s, "   through:  {caller} (which calls it)");
            }
            if let Some(b) = &f.base {
                let _ = writeln!(s, "   before:   {b}");
            }
            if let Some(proof) = verification_text(f) {
                let _ = writeln!(s, "   proof:    {proof}");
            }
            let _ = writeln!(s, "   regression test:");
            for line in f.regression_test.lines() {
                let _ = writeln!(s, "     {}", style(line).dim());
            }
            s.push('\n');
        }
        if !others.is_empty() {
            let _ = writeln!(
                s,
                "{}",
                style("not introduced by the change (the code before it fails the same way):")
                    .bold()
            );
            for f in &others {
                let proof = verification_text(f)
                    .map(|p| format!(" [{p}]"))
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "   {} {} in {}: {}{proof}  {}",
                    f.label,
                    f.kind_name(),
                    f.function,
                    f.input,
                    style(&f.message).dim()
                );
            }
            s.push('\n');
        }
        let Coverage {
            changed,
            tested,
            inputs: execs,
        } = self.coverage();
        let callers = self
            .functions
            .iter()
            .filter(|f| f.caller_of.is_some() && f.status == Status::Tested)
            .count();
        // Those the budget left out are said below, one line for all that share a reason.
        let skipped: Vec<&FunctionReport> = self
            .functions
            .iter()
            .filter(|f| f.status == Status::Skipped && f.caller_of.is_none())
            .filter(|f| f.not_fuzzed.is_none())
            .collect();
        if !skipped.is_empty() {
            let _ = writeln!(s, "{}", style("skipped:").yellow().bold());
            for f in &skipped {
                let _ = writeln!(
                    s,
                    "   {} ({}:{}): {}",
                    f.function,
                    f.file,
                    f.line,
                    f.reason.as_deref().unwrap_or("no reason given")
                );
            }
            s.push('\n');
        }
        let cuts = self.budget_cuts();
        if !cuts.is_empty() {
            let _ = writeln!(s, "{}", style("left out by the budget:").yellow().bold());
            for (why, names) in &cuts {
                let _ = writeln!(s, "   {why}: {}", some_names(names, 10));
            }
            s.push('\n');
        }
        let verdict = match introduced.len() {
            0 => style("no edge case introduced".to_string()).green().bold(),
            1 => style("1 finding introduced".to_string()).red().bold(),
            n => style(format!("{n} findings introduced")).red().bold(),
        };
        let also = match callers {
            0 => String::new(),
            n => format!(
                " and {n} caller{} of changed helpers",
                if n == 1 { "" } else { "s" }
            ),
        };
        let _ = writeln!(
            s,
            "{verdict}: tested {tested} of {} changed functions{also} with {execs} inputs (build {:.1}s, run {:.1}s)",
            changed,
            self.timing.build_ms as f64 / 1000.0,
            self.timing.run_ms as f64 / 1000.0,
        );
        s
    }
}

/// `a, b, c` for at most `n` names, then `and 47 more`.
pub fn some_names(names: &[&str], n: usize) -> String {
    let mut text = names.iter().take(n).copied().collect::<Vec<_>>().join(", ");
    if names.len() > n {
        text.push_str(&format!(" and {} more", names.len() - n));
    }
    text
}

/// With `--verify`: `verified`, or `unverified: <why>`; `None` when the run did not verify.
pub fn verification_text(f: &Finding) -> Option<String> {
    match (f.verified?, &f.verification) {
        (true, _) => Some("verified".into()),
        (false, Some(why)) => Some(format!("unverified: {why}")),
        (false, None) => Some("unverified".into()),
    }
}

/// Progress on stderr while the tool works: a spinner and a bar on a terminal; when stderr is
/// not a terminal (CI logs), a line per phase and a status line every
/// [`STATUS_EVERY`]; nothing with `-q`.
pub struct Progress {
    bar: ProgressBar,
    log: Option<Arc<LineLog>>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

/// How often a CI log gets a status line.
const STATUS_EVERY: Duration = Duration::from_secs(10);

/// The progress of a run written as lines, for a log.
struct LineLog {
    start: Instant,
    state: Mutex<LineState>,
    stop: Condvar,
}

#[derive(Default)]
struct LineState {
    /// The current step, and the part of it before `:` last printed.
    message: String,
    phase: String,
    /// While the targets run: when they started, the budget, done and total, findings so far.
    running: Option<(Instant, Duration)>,
    done: u64,
    total: u64,
    findings: u64,
    stopped: bool,
}

impl LineLog {
    fn print(&self, line: &str) {
        eprintln!("[{}s] {line}", self.start.elapsed().as_secs());
    }

    /// `[40s/120s] fuzzing: 3 of 5 functions done, 2 findings`, or the current step.
    fn status(&self, state: &LineState) {
        match state.running {
            Some((since, budget)) => eprintln!(
                "[{}s/{}s] fuzzing: {} of {} functions done, {} finding{}",
                since.elapsed().as_secs(),
                budget.as_secs(),
                state.done,
                state.total,
                state.findings,
                if state.findings == 1 { "" } else { "s" }
            ),
            None => self.print(&state.message),
        }
    }
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        let to_log = !quiet && !console::Term::stderr().is_term();
        let bar = if quiet || to_log {
            ProgressBar::hidden()
        } else {
            ProgressBar::new_spinner()
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner:.cyan} {msg}").expect("valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        let log = to_log.then(|| {
            Arc::new(LineLog {
                start: Instant::now(),
                state: Mutex::new(LineState::default()),
                stop: Condvar::new(),
            })
        });
        let ticker = log.clone().map(|log| {
            std::thread::spawn(move || {
                let mut state = log.state.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    let (next, timeout) = log
                        .stop
                        .wait_timeout(state, STATUS_EVERY)
                        .unwrap_or_else(|e| e.into_inner());
                    state = next;
                    if state.stopped {
                        break;
                    }
                    if timeout.timed_out() && !state.message.is_empty() {
                        log.status(&state);
                    }
                }
            })
        });
        Progress { bar, log, ticker }
    }

    fn with_log(&self, f: impl FnOnce(&LineLog, &mut LineState)) {
        if let Some(log) = &self.log {
            let mut state = log.state.lock().unwrap_or_else(|e| e.into_inner());
            f(log, &mut state);
        }
    }

    /// A step without a known length: `building harness`, … In a log, a step is printed when
    /// its phase (the text before `:`) is new; the status lines show the rest.
    pub fn step(&self, msg: impl Into<String>) {
        let msg = msg.into();
        self.with_log(|log, state| {
            let phase = msg.split(':').next().unwrap_or_default().to_string();
            if phase != state.phase {
                log.print(&msg);
                state.phase = phase;
            }
            state.message = msg.clone();
        });
        self.bar.set_message(msg);
    }

    /// Switches to a bar over `total` targets.
    pub fn start_targets(&self, total: u64, budget: Duration) {
        self.with_log(|log, state| {
            state.running = Some((Instant::now(), budget));
            state.total = total;
            state.message = format!("fuzzing {total} function(s)");
            log.print(&format!(
                "fuzzing {total} function(s) for {}",
                humantime::format_duration(budget)
            ));
        });
        self.bar.set_length(total);
        self.bar.set_position(0);
        self.bar.set_style(
            ProgressStyle::with_template("{spinner:.cyan} running [{bar:30.cyan/dim}] {pos}/{len} targets, {elapsed} of ~{msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        self.bar
            .set_message(humantime::format_duration(budget).to_string());
    }

    /// Back from the bar over targets to steps, for the work after the runs (`--verify`).
    pub fn end_targets(&self) {
        self.with_log(|_, state| state.running = None);
        self.bar.set_style(
            ProgressStyle::with_template("{spinner:.cyan} {msg}").expect("valid template"),
        );
    }

    /// One target finished, with `findings` failing inputs.
    pub fn target_done(&self, findings: usize) {
        self.with_log(|_, state| {
            state.done += 1;
            state.findings += findings as u64;
        });
        self.bar.inc(1);
    }

    /// Prints a line above the progress display (in a log, as a line of its own).
    pub fn println(&self, line: impl AsRef<str>) {
        match &self.log {
            Some(_) => eprintln!("{}", line.as_ref()),
            None => self.bar.println(line.as_ref()),
        }
    }

    pub fn finish(&self) {
        self.with_log(|log, state| {
            if state.running.is_some() {
                log.status(state);
            }
            state.stopped = true;
            log.stop.notify_all();
        });
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.with_log(|log, state| {
            state.stopped = true;
            log.stop.notify_all();
        });
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Engine;
    use crate::triage::{FindingKind, Label, Location};

    fn finding(function: &str, kind: FindingKind, label: Label) -> Finding {
        Finding {
            id: "0123456789abcdef".into(),
            function: function.into(),
            kind,
            ending: None,
            introduced: label == Label::Introduced,
            label,
            engine: Engine::Edge,
            message: "byte index 1 is not a char boundary".into(),
            location: Some(Location {
                file: "src/lib.rs".into(),
                line: 12,
                column: 7,
            }),
            panicked_in: None,
            input: "truncate(\"é\", 1)".into(),
            base: Some("returned \"é\"".into()),
            head: Some("panic: byte index 1 is not a char boundary".into()),
            elapsed_ms: 1500,
            regression_test: "#[test]\nfn edgecheck_truncate_panic_012345() {\n    let _ = truncate(\"é\", 1);\n}".into(),
            through: None,
            verified: None,
            verification: None,
        }
    }

    fn function(name: &str, status: Status, reason: Option<&str>) -> FunctionReport {
        FunctionReport {
            function: name.into(),
            file: "src/lib.rs".into(),
            line: 10,
            end_line: 14,
            status,
            reason: reason.map(String::from),
            base: None,
            engines: [("edge".to_string(), 40u64), ("proptest".to_string(), 2000)].into(),
            caller_of: None,
            tested_through: Vec::new(),
            not_fuzzed: None,
        }
    }

    /// The human report: introduced findings in full, the others on one line each, skipped
    /// functions with their reasons, and the summary line.
    #[test]
    fn human_report_shows_findings_skips_and_the_summary() {
        console::set_colors_enabled(false);
        let mut overflow = finding("demo::sum", FindingKind::Overflow, Label::Introduced);
        overflow.message = "attempt to add with overflow".into();
        overflow.panicked_in = Some("/rustc/x/library/core/src/iter/traits/accum.rs:149:1".into());
        overflow.through = Some("demo::total".into());
        let mut caller = function("demo::total", Status::Tested, None);
        caller.caller_of = Some("demo::sum".into());
        let report = Report {
            schema: SCHEMA.into(),
            base: Some("abc123".into()),
            head: "working tree".into(),
            ai: None,
            settings: Settings::default(),
            functions: vec![
                function("demo::truncate", Status::Tested, None),
                function("demo::sum", Status::Tested, None),
                function(
                    "demo::read",
                    Status::Skipped,
                    Some("unsafe function: calling it with arbitrary inputs may be undefined behaviour"),
                ),
                caller,
            ],
            findings: vec![
                finding("demo::truncate", FindingKind::Panic, Label::Introduced),
                overflow,
                finding("demo::last", FindingKind::Panic, Label::Expected),
            ],
            timing: Timing {
                build_ms: 12_300,
                run_ms: 9_800,
                total_ms: 23_000,
                ..Timing::default()
            },
        };
        insta::assert_snapshot!(console::strip_ansi_codes(&report.to_human()));
    }

    fn report_with(findings: Vec<Finding>) -> Report {
        Report {
            schema: SCHEMA.into(),
            base: Some("abc123".into()),
            head: "working tree".into(),
            ai: None,
            settings: Settings::default(),
            functions: vec![
                function("demo::truncate", Status::Tested, None),
                function("demo::read", Status::Skipped, Some("unsafe function")),
            ],
            findings,
            timing: Timing::default(),
        }
    }

    /// The comment renders as GitHub-flavoured Markdown: a table of the findings and a
    /// collapsed block per regression test, with the marker and the count first.
    #[test]
    fn markdown_renders_a_table_and_collapsed_tests() {
        use pulldown_cmark::{Event, Options, Parser, Tag};
        let mut odd = finding("demo::truncate", FindingKind::Panic, Label::Introduced);
        odd.input = "split(\"a|b`c\")".into();
        let report = report_with(vec![
            odd,
            finding("demo::sum", FindingKind::Overflow, Label::Introduced),
            finding("demo::last", FindingKind::Panic, Label::PreExisting),
        ]);
        let text = to_markdown(&report);
        assert!(text.starts_with(markdown::MARKER), "{text}");
        assert!(
            text.contains("2 edge cases introduced in 2 functions"),
            "{text}"
        );
        let events: Vec<Event> = Parser::new_ext(&text, Options::ENABLE_TABLES).collect();
        let rows = events
            .iter()
            .filter(|e| matches!(e, Event::Start(Tag::TableRow)))
            .count();
        assert_eq!(rows, 3, "one row per finding:\n{text}");
        let cells: String = events
            .iter()
            .filter_map(|e| match e {
                Event::Code(c) => Some(c.to_string()),
                _ => None,
            })
            .collect();
        assert!(
            cells.contains("split(\"a|b`c\")"),
            "the input survives the table: {cells}"
        );
        let details = events
            .iter()
            .filter(
                |e| matches!(e, Event::Html(h) | Event::InlineHtml(h) if h.contains("<details>")),
            )
            .count();
        assert_eq!(details, 4, "three tests and the skipped list:\n{text}");
        assert!(events
            .iter()
            .any(|e| matches!(e, Event::Start(Tag::CodeBlock(_)))));
    }

    #[test]
    fn markdown_stays_under_the_comment_limit() {
        let findings = (0..200)
            .map(|i| {
                let mut f = finding(
                    &format!("demo::f{i}"),
                    FindingKind::Panic,
                    Label::Introduced,
                );
                f.regression_test = "// a long test\n".repeat(40);
                f
            })
            .collect();
        let mut report = report_with(findings);
        report.ai = Some(AiReport {
            uncommitted: false,
            commits: vec![AiCommit {
                sha: "a1b2c3d".repeat(5) + "12345",
                short: "a1b2c3d".into(),
                subject: "Faster parser".into(),
                evidence: "Co-authored-by: Claude <noreply@anthropic.com>".into(),
            }],
            left_out: vec!["demo::by_hand".into()],
        });
        let text = to_markdown(&report);
        assert!(text.chars().count() < 65_536, "{}", text.len());
        assert!(text.contains("200 edge cases introduced in 200 functions"));
        // The commits the findings come from are named before the findings.
        let named = "- a1b2c3d Co-authored-by: Claude <noreply@anthropic.com> (Faster parser)";
        let (at, table) = (text.find(named), text.find("| Function |"));
        assert!(at.is_some() && at < table, "{text}");
        assert!(text.contains("1 changed function(s) left out"), "{text}");
        assert!(
            text.contains("more finding(s) did not fit"),
            "{}",
            &text[text.len() - 500..]
        );
    }

    /// Annotations carry a message with `%`, `:`, `,` and a newline intact, introduced findings
    /// as errors and the others as warnings.
    #[test]
    fn github_annotations_escape_what_would_end_them() {
        let mut f = finding("demo::truncate", FindingKind::Panic, Label::Introduced);
        f.message = "100% broken: a, b\nnext".into();
        let report = report_with(vec![
            f,
            finding("demo::last", FindingKind::Panic, Label::PreExisting),
        ]);
        let text = to_github(&report);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].starts_with("::error file=src/lib.rs,line=12,endLine=12,col=7,title=panic in demo%3A%3Atruncate::"),
            "{text}"
        );
        assert!(
            lines[0].contains("::100%25 broken: a, b%0Anext%0Ainput: "),
            "{text}"
        );
        assert!(lines[1].starts_with("::warning "), "{text}");
        assert!(
            lines[1].contains("title=panic in demo%3A%3Alast (pre-existing)::"),
            "{text}"
        );
    }

    /// The JUnit report read back by an independent parser (the Python package `junitparser`,
    /// which `.ci/run` installs): a test case per function, a failure for the function with an
    /// introduced finding, a skipped case with its reason.
    #[test]
    fn junit_reads_back_with_the_right_counts() {
        let report = report_with(vec![
            finding("demo::truncate", FindingKind::Panic, Label::Introduced),
            finding("demo::truncate", FindingKind::Overflow, Label::PreExisting),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edgecheck.junit.xml");
        std::fs::write(&path, to_junit(&report)).unwrap();
        let script = r#"
import sys, junitparser
xml = junitparser.JUnitXml.fromfile(sys.argv[1])
suites = list(xml) if isinstance(xml, junitparser.JUnitXml) else [xml]
cases = [c for s in suites for c in s]
failed = [c.name for c in cases if any(isinstance(r, junitparser.Failure) for r in c.result)]
skipped = [c.name for c in cases if any(isinstance(r, junitparser.Skipped) for r in c.result)]
print(len(suites), len(cases), ",".join(failed), ",".join(skipped))
"#;
        let out = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&path)
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "junitparser could not read the report (is it installed? `python3 -m pip install junitparser`): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "1 2 demo::truncate demo::read"
        );
    }

    /// Code scanning keeps one alert across pushes when its fingerprint stays: moving the
    /// finding to another line (an unrelated line inserted above) and another input's numbers in
    /// its message change nothing.
    #[test]
    fn sarif_fingerprints_survive_unrelated_edits() {
        let fingerprints = |line: u32, message: &str| {
            let mut f = finding("demo::truncate", FindingKind::Panic, Label::Introduced);
            f.location.as_mut().unwrap().line = line;
            f.message = message.into();
            let sarif: serde_json::Value =
                serde_json::from_str(&to_sarif(&report_with(vec![f]))).unwrap();
            let result = &sarif["runs"][0]["results"][0];
            assert_eq!(
                result["locations"][0]["physicalLocation"]["region"]["startLine"],
                line
            );
            result["partialFingerprints"].clone()
        };
        let before = fingerprints(12, "byte index 1 is not a char boundary");
        assert_eq!(
            before,
            fingerprints(13, "byte index 2 is not a char boundary")
        );
        assert_ne!(before, fingerprints(12, "attempt to add with overflow"));
    }

    #[test]
    fn sarif_levels_rules_and_category() {
        let report = report_with(vec![
            finding("demo::truncate", FindingKind::Overflow, Label::Introduced),
            finding("demo::last", FindingKind::Panic, Label::PreExisting),
        ]);
        let sarif: serde_json::Value = serde_json::from_str(&to_sarif(&report)).unwrap();
        let run = &sarif["runs"][0];
        assert_eq!(sarif["version"], "2.1.0");
        assert_eq!(run["results"][0]["level"], "error");
        assert_eq!(run["results"][0]["ruleId"], "edgecheck/overflow");
        assert_eq!(run["results"][1]["level"], "note");
        assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 6);
        assert_eq!(
            run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"],
            "%SRCROOT%"
        );
        assert_eq!(run["automationDetails"]["id"], "cargo-edgecheck/demo/");
    }

    #[test]
    fn human_report_without_findings_says_so() {
        console::set_colors_enabled(false);
        let report = Report {
            schema: SCHEMA.into(),
            base: None,
            head: "working tree".into(),
            ai: None,
            settings: Settings::default(),
            functions: vec![function("demo::half", Status::Tested, None)],
            findings: Vec::new(),
            timing: Timing::default(),
        };
        assert_eq!(
            console::strip_ansi_codes(&report.to_human()),
            "no edge case introduced: tested 1 of 1 changed functions with 2040 inputs (build 0.0s, run 0.0s)\n"
        );
    }

    /// What the budget left out reaches every format: JSON's `not_fuzzed`, the human
    /// report's and Markdown's grouped lines, a GitHub notice, a JUnit property and SARIF's
    /// run properties.
    #[test]
    fn every_format_says_what_the_budget_left_out() {
        console::set_colors_enabled(false);
        let why = "proptest, libfuzzer: the budget (5s) gives them to 1 of 3 functions at the least of 1.54s per function; raise --budget or narrow with --function";
        let mut report = report_with(Vec::new());
        for name in ["demo::a", "demo::b"] {
            let mut f = function(name, Status::Tested, None);
            f.not_fuzzed = Some(why.into());
            report.functions.push(f);
        }
        let none = "edge, proptest, libfuzzer: the budget (1s) serves 2 of 3 functions at the least of 0.12s per function; raise --budget or narrow with --function";
        let mut c = function(
            "demo::c",
            Status::Skipped,
            Some(&format!("not fuzzed: {none}")),
        );
        c.not_fuzzed = Some(none.into());
        report.functions.push(c);
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(json["functions"][2]["not_fuzzed"], why);
        assert!(json["functions"][0].get("not_fuzzed").is_none());
        let human = console::strip_ansi_codes(&report.to_human()).into_owned();
        assert!(
            human.contains(&format!(
                "left out by the budget:\n   {why}: demo::a, demo::b\n"
            )),
            "{human}"
        );
        assert!(human.contains(&format!("   {none}: demo::c")), "{human}");
        assert!(
            !human.contains("demo::c (src"),
            "listed once, with the budget's reason: {human}"
        );
        let markdown = to_markdown(&report);
        assert!(
            markdown.contains("3 function(s) with engines left out by the budget"),
            "{markdown}"
        );
        assert!(markdown.contains("`demo::a`, `demo::b`"), "{markdown}");
        let github = to_github(&report);
        assert!(
            github.contains("::2 function(s) not fuzzed by proptest, libfuzzer: the budget"),
            "{github}"
        );
        let junit = to_junit(&report);
        assert!(junit.contains("name=\"not-fuzzed\""), "{junit}");
        let sarif: serde_json::Value = serde_json::from_str(&to_sarif(&report)).unwrap();
        let cuts = &sarif["runs"][0]["properties"]["leftOutByTheBudget"];
        assert_eq!(
            cuts[0]["functions"],
            serde_json::json!(["demo::a", "demo::b"])
        );
        assert_eq!(cuts[1]["notFuzzed"], none);
    }

    /// `--verify`'s marks: absent from the JSON without it, a word (and the reason) in the text
    /// formats with it.
    #[test]
    fn verification_is_shown_only_when_the_run_verified() {
        let mut f = finding("demo::truncate", FindingKind::Panic, Label::Introduced);
        let json = serde_json::to_value(&f).unwrap();
        assert!(json.get("verified").is_none() && json.get("verification").is_none());
        assert_eq!(verification_text(&f), None);
        f.verified = Some(true);
        assert_eq!(verification_text(&f).as_deref(), Some("verified"));
        assert_eq!(serde_json::to_value(&f).unwrap()["verified"], true);
        f.verified = Some(false);
        f.verification = Some("the test passed on head".into());
        assert_eq!(
            verification_text(&f).as_deref(),
            Some("unverified: the test passed on head")
        );
        let sarif = serde_json::to_value(sarif::result(&f, None)).unwrap();
        assert_eq!(sarif["properties"]["verified"], false);
        assert_eq!(
            sarif["properties"]["verification"],
            "the test passed on head"
        );
    }
}
