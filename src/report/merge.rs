//! `cargo edgecheck merge`: the reports of the `--shard` runs of one change as one report.

use std::collections::BTreeSet;

use super::{AiReport, Report, SCHEMA};

/// The reports combined: every function and finding of each, once (a changed helper's caller
/// may be tested by two shards), findings ordered as a run orders them, the longest shard's
/// times. Reports of another schema or of another base are refused.
pub fn merge(reports: Vec<Report>) -> Result<Report, String> {
    let mut reports = reports.into_iter();
    let Some(mut merged) = reports.next() else {
        return Err("no report to merge".into());
    };
    check_schema(&merged)?;
    let mut functions: BTreeSet<(String, Option<String>)> = merged
        .functions
        .iter()
        .map(|f| (f.function.clone(), f.caller_of.clone()))
        .collect();
    let mut findings: BTreeSet<String> = merged.findings.iter().map(|f| f.id.clone()).collect();
    for report in reports {
        check_schema(&report)?;
        if report.base != merged.base {
            return Err(format!(
                "the reports compare with different bases ({} and {}): merge the shards of one run",
                report.base.as_deref().unwrap_or("none"),
                merged.base.as_deref().unwrap_or("none")
            ));
        }
        for f in report.functions {
            if functions.insert((f.function.clone(), f.caller_of.clone())) {
                merged.functions.push(f);
            }
        }
        for f in report.findings {
            if findings.insert(f.id.clone()) {
                merged.findings.push(f);
            }
        }
        if let Some(ai) = report.ai {
            merge_ai(merged.ai.get_or_insert_with(AiReport::default), ai);
        }
        let t = &mut merged.timing;
        t.build_ms = t.build_ms.max(report.timing.build_ms);
        t.run_ms = t.run_ms.max(report.timing.run_ms);
        t.total_ms = t.total_ms.max(report.timing.total_ms);
        // The shards ran side by side: the longest one's wall, everyone's process time.
        t.build_end_ms = t.build_end_ms.max(report.timing.build_end_ms);
        t.budget_ms = t.budget_ms.max(report.timing.budget_ms);
        t.after_build_ms = t.after_build_ms.max(report.timing.after_build_ms);
        t.jobs += report.timing.jobs;
        t.engines_ms += report.timing.engines_ms;
        t.follow_ups_ms += report.timing.follow_ups_ms;
        t.idle_ms += report.timing.idle_ms;
        t.verify_ms = match (t.verify_ms, report.timing.verify_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
    // A changed function one shard tested as a caller of its helper, and another as changed,
    // is listed as changed, as the unsharded run lists it.
    let changed: BTreeSet<String> = merged
        .functions
        .iter()
        .filter(|f| f.caller_of.is_none())
        .map(|f| f.function.clone())
        .collect();
    merged
        .functions
        .retain(|f| f.caller_of.is_none() || !changed.contains(&f.function));
    merged.settings.shard = None;
    merged
        .findings
        .sort_by_key(|f| (!f.introduced, f.elapsed_ms));
    Ok(merged)
}

fn check_schema(report: &Report) -> Result<(), String> {
    match report.schema == SCHEMA {
        true => Ok(()),
        false => Err(format!(
            "a report has schema `{}`, and this cargo-edgecheck merges `{SCHEMA}`: merge reports of the same version",
            report.schema
        )),
    }
}

fn merge_ai(into: &mut AiReport, from: AiReport) {
    into.uncommitted |= from.uncommitted;
    for c in from.commits {
        if !into.commits.iter().any(|k| k.sha == c.sha) {
            into.commits.push(c);
        }
    }
    for f in from.left_out {
        if !into.left_out.contains(&f) {
            into.left_out.push(f);
        }
    }
}
