//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning ingests it (with `serde-sarif`'s object
//! model): one rule per finding kind, `error` for introduced findings and `note` for the others,
//! locations relative to the repository root, and fingerprints that survive unrelated edits.

use std::collections::{BTreeMap, BTreeSet};

use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag,
    Region, ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel, Run,
    RunAutomationDetails, Sarif, Tool, ToolComponent,
};

use super::Report;
use crate::ids::stable_id;
use crate::triage::{Finding, FindingKind};

/// The finding kinds, in rule order.
const KINDS: [FindingKind; 6] = [
    FindingKind::Panic,
    FindingKind::Overflow,
    FindingKind::Divergence,
    FindingKind::Timeout,
    FindingKind::Oom,
    FindingKind::Crash,
];

/// What the report's paths are relative to: the repository root, as code scanning expects.
const SRCROOT: &str = "%SRCROOT%";

pub fn to_sarif(report: &Report) -> String {
    let rules: Vec<ReportingDescriptor> = KINDS.iter().map(|k| rule(*k)).collect();
    // A finding without a panic location (a divergence, a hang) points at its function.
    let declared: BTreeMap<&str, (&str, usize)> = report
        .functions
        .iter()
        .map(|f| (f.function.as_str(), (f.file.as_str(), f.line)))
        .collect();
    let results: Vec<SarifResult> = report
        .findings
        .iter()
        .map(|f| result(f, declared.get(f.function.as_str()).copied()))
        .collect();
    let crates: BTreeSet<&str> = report
        .functions
        .iter()
        .filter_map(|f| f.function.split("::").next())
        .collect();
    let driver = ToolComponent::builder()
        .name("cargo-edgecheck")
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri("https://github.com/cargo-edgecheck/cargo-edgecheck")
        .rules(rules)
        .build();
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        // One category per set of crates, so runs for other packages of the same commit do
        // not replace this one's alerts.
        .automation_details(
            RunAutomationDetails::builder()
                .id(format!(
                    "cargo-edgecheck/{}/",
                    crates.into_iter().collect::<Vec<_>>().join("+")
                ))
                .build(),
        )
        .build();
    // With `--ai-only`, the commits the run's selection came from; and what the budget left
    // out: for whoever reads the log.
    let mut properties = BTreeMap::new();
    if let Some(ai) = &report.ai {
        properties.insert(
            "aiAssistedCommits".to_string(),
            serde_json::json!(ai.commits),
        );
        properties.insert(
            "leftOutNotAiAssisted".to_string(),
            serde_json::json!(ai.left_out),
        );
    }
    let cuts: Vec<serde_json::Value> = report
        .budget_cuts()
        .into_iter()
        .map(|(why, names)| serde_json::json!({ "notFuzzed": why, "functions": names }))
        .collect();
    if !cuts.is_empty() {
        properties.insert("leftOutByTheBudget".to_string(), serde_json::json!(cuts));
    }
    if !properties.is_empty() {
        run.properties = Some(
            PropertyBag::builder()
                .additional_properties(properties)
                .build(),
        );
    }
    let sarif = Sarif::builder()
        .schema("https://json.schemastore.org/sarif-2.1.0.json")
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    serde_json::to_string_pretty(&sarif).expect("a SARIF log serializes") + "\n"
}

/// The rule of a finding kind: a stable id, descriptions and help.
fn rule(kind: FindingKind) -> ReportingDescriptor {
    let (name, short, full) = match kind {
        FindingKind::Panic => (
            "Panic",
            "The changed code panics on an input",
            "cargo-edgecheck called the changed function on generated inputs and it panicked (an index out of bounds, a char boundary, an unwrap of None, ...).",
        ),
        FindingKind::Overflow => (
            "ArithmeticOverflow",
            "The changed code overflows on an input",
            "An arithmetic operation of the changed code overflowed (the harness builds with overflow checks on, as debug builds do).",
        ),
        FindingKind::Divergence => (
            "Divergence",
            "The changed code returns something else than before",
            "On the same input, the changed function returned a different value than the code before the change.",
        ),
        FindingKind::Timeout => (
            "Hang",
            "The changed code does not return on an input",
            "The changed function ran past the per-input timeout on an input.",
        ),
        FindingKind::Oom => (
            "OutOfMemory",
            "The changed code exhausts memory on an input",
            "The changed function asked for more memory than the limit on an input.",
        ),
        FindingKind::Crash => (
            "Crash",
            "The changed code ends the process on an input",
            "The process ended while the changed function ran: process::exit (with any status), an abort (process::abort, a stack overflow), a fatal signal, or a memory error AddressSanitizer found. The message says which.",
        ),
    };
    ReportingDescriptor::builder()
        .id(format!("edgecheck/{kind}"))
        .name(name)
        .short_description(MultiformatMessageString::builder().text(short).build())
        .full_description(MultiformatMessageString::builder().text(full).build())
        .help(
            MultiformatMessageString::builder()
                .text(format!("{full} The finding gives the input, what the code did before the change, and a regression test to paste."))
                .markdown(format!("{full}\n\nThe finding gives the input, what the code did before the change, and a `#[test]` that reproduces it."))
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(serde_json::json!("error"))
                .build(),
        )
        .build()
}

pub(super) fn result(f: &Finding, declared: Option<(&str, usize)>) -> SarifResult {
    let rule_index = KINDS.iter().position(|k| *k == f.kind).unwrap_or(0);
    let mut text = format!(
        "{} in {}: {} (input: {})",
        f.kind_name(),
        f.function,
        f.message,
        f.input
    );
    if let Some(base) = &f.base {
        text.push_str(&format!("; before the change: {base}"));
    }
    let markdown = format!(
        "**{}** in `{}` ({})\n\n- input: `{}`\n- message: {}\n- before the change: {}\n- now: {}\n\nRegression test:\n\n```rust\n{}\n```",
        f.kind_name(),
        f.function,
        f.label,
        f.input,
        f.message,
        f.base.as_deref().unwrap_or("-"),
        f.head.as_deref().unwrap_or("-"),
        f.regression_test.trim_end()
    );
    let at = match (&f.location, declared) {
        (Some(l), _) => Some((l.file.as_str(), l.line as usize, l.column as usize)),
        (None, Some((file, line))) if !file.is_empty() => Some((file, line, 1)),
        _ => None,
    };
    let mut builder_locations = Vec::new();
    if let Some((file, line, column)) = at {
        builder_locations.push(
            Location::builder()
                .physical_location(
                    PhysicalLocation::builder()
                        .artifact_location(
                            ArtifactLocation::builder()
                                .uri(file)
                                .uri_base_id(SRCROOT)
                                .build(),
                        )
                        .region(
                            Region::builder()
                                .start_line(line.max(1) as i64)
                                .start_column(column.max(1) as i64)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        );
    }
    // The same finding after unrelated lines moved: function, kind and message with its numbers
    // taken out (indices and lengths vary with the input), never a line.
    let fingerprint = stable_id(&format!(
        "{}|{}|{}",
        f.function,
        f.kind_name(),
        f.message
            .chars()
            .map(|c| if c.is_ascii_digit() { '0' } else { c })
            .collect::<String>()
    ));
    let result = SarifResult::builder()
        .rule_id(format!("edgecheck/{}", f.kind))
        .rule_index(rule_index as i64)
        .level(match f.introduced {
            true => ResultLevel::Error,
            false => ResultLevel::Note,
        })
        .message(Message::builder().text(text).markdown(markdown).build())
        .partial_fingerprints(BTreeMap::from([(
            "edgecheckFinding/v1".to_string(),
            fingerprint,
        )]));
    let mut result = match builder_locations.is_empty() {
        true => result.build(),
        false => result.locations(builder_locations).build(),
    };
    // With `--verify`: whether the regression test proved the finding, as result properties.
    if let Some(verified) = f.verified {
        let mut properties =
            BTreeMap::from([("verified".to_string(), serde_json::json!(verified))]);
        if let Some(why) = &f.verification {
            properties.insert("verification".to_string(), serde_json::json!(why));
        }
        result.properties = Some(
            PropertyBag::builder()
                .additional_properties(properties)
                .build(),
        );
    }
    result
}
