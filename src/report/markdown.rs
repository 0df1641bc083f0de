//! `--format markdown`: the review comment. A first line a reviewer can act on, a table of the
//! findings, then each finding with its regression test in a collapsed block; kept under
//! GitHub's comment size limit.

use std::collections::BTreeSet;

use super::{AiReport, Report, Status};
use crate::triage::Finding;

/// The hidden marker a workflow finds its own comment by, to update it instead of adding one.
pub const MARKER: &str = "<!-- cargo-edgecheck -->";

/// GitHub refuses a comment longer than this many characters.
const COMMENT_LIMIT: usize = 65_536;

/// Room kept for the closing lines once the findings no longer fit.
const RESERVE: usize = 2_048;

pub fn to_markdown(report: &Report) -> String {
    let (introduced, others): (Vec<&Finding>, Vec<&Finding>) =
        report.findings.iter().partition(|f| f.introduced);
    let functions: BTreeSet<&str> = introduced.iter().map(|f| f.function.as_str()).collect();
    let mut out = format!("{MARKER}\n### cargo-edgecheck: ");
    out.push_str(&match (introduced.len(), functions.len()) {
        (0, _) => "no edge case introduced".to_string(),
        (1, _) => "1 edge case introduced in 1 function".to_string(),
        (n, 1) => format!("{n} edge cases introduced in 1 function"),
        (n, m) => format!("{n} edge cases introduced in {m} functions"),
    });
    out.push_str("\n\n");
    if let Some(ai) = &report.ai {
        if ai.nothing_qualified() {
            out.push_str(AiReport::NOTHING_QUALIFIED);
            out.push('\n');
            return out;
        }
    }
    out.push_str(&summary_line(report));
    out.push_str("\n\n");
    out.push_str(&ai_block(report));
    let shown: Vec<&Finding> = introduced.iter().chain(&others).copied().collect();
    let mut left = shown.len();
    if !shown.is_empty() {
        let mut table = String::from("| Function | Kind | Input | |\n|---|---|---|---|\n");
        let mut sections = String::new();
        let mut rows = 0;
        for (i, f) in shown.iter().enumerate() {
            let row = format!(
                "| {} | {} | {} | {} |\n",
                code(&f.function),
                f.kind_name(),
                code(&f.input),
                f.label
            );
            let section = finding_section(i + 1, f);
            if out.len() + table.len() + sections.len() + row.len() + section.len()
                > COMMENT_LIMIT - RESERVE
            {
                break;
            }
            table.push_str(&row);
            sections.push_str(&section);
            rows += 1;
        }
        left -= rows;
        out.push_str(&table);
        out.push('\n');
        out.push_str(&sections);
    }
    if left > 0 {
        out.push_str(&format!(
            "_{left} more finding(s) did not fit in this comment: they are in the JSON report (`edgecheck.json`) of this run._\n\n"
        ));
    }
    out.push_str(&skipped_block(report));
    out
}

/// `Tested 5 of 6 changed functions with 12,345 inputs.`
fn summary_line(report: &Report) -> String {
    let c = report.coverage();
    format!(
        "Tested {} of {} changed functions with {} inputs.",
        c.tested, c.changed, c.inputs
    )
}

fn finding_section(n: usize, f: &Finding) -> String {
    let mut s = format!(
        "#### {n}. {} in {} ({})\n\n",
        f.kind_name(),
        code(&f.function),
        f.label
    );
    s.push_str(&format!("- **Input:** {}\n", code(&f.input)));
    s.push_str(&format!("- **Message:** {}\n", one_line(&f.message)));
    if let Some(l) = &f.location {
        s.push_str(&format!(
            "- **At:** {}\n",
            code(&format!("{}:{}:{}", l.file, l.line, l.column))
        ));
    }
    if let Some(base) = &f.base {
        s.push_str(&format!("- **Before the change:** {}\n", one_line(base)));
    }
    if let Some(head) = &f.head {
        s.push_str(&format!("- **Now:** {}\n", one_line(head)));
    }
    if let Some(proof) = super::verification_text(f) {
        s.push_str(&format!("- **Proof:** {}\n", one_line(&proof)));
    }
    s.push_str("\n<details><summary>Regression test</summary>\n\n```rust\n");
    s.push_str(f.regression_test.trim_end());
    s.push_str("\n```\n\n</details>\n\n");
    s
}

/// With `--ai-only`: the commits that qualified, and the changed functions left out.
fn ai_block(report: &Report) -> String {
    let Some(ai) = &report.ai else {
        return String::new();
    };
    let mut s = String::from("AI-assisted commits:\n\n");
    for line in ai.commit_lines() {
        s.push_str(&format!("- {}\n", one_line(&line)));
    }
    s.push('\n');
    if !ai.left_out.is_empty() {
        s.push_str(&format!(
            "<details><summary>{} changed function(s) left out, not changed by an AI-assisted commit</summary>\n\n",
            ai.left_out.len()
        ));
        for f in ai.left_out.iter().take(200) {
            s.push_str(&format!("- {}\n", code(f)));
        }
        s.push_str("\n</details>\n\n");
    }
    s
}

/// The functions that could not be tested, with the reason, collapsed.
fn skipped_block(report: &Report) -> String {
    let skipped: Vec<_> = report
        .functions
        .iter()
        .filter(|f| f.status == Status::Skipped && f.caller_of.is_none())
        .filter(|f| f.not_fuzzed.is_none())
        .collect();
    let mut s = budget_block(report);
    if skipped.is_empty() {
        return s;
    }
    s.push_str(&format!(
        "<details><summary>{} function(s) not tested</summary>\n\n",
        skipped.len()
    ));
    for f in skipped.iter().take(200) {
        s.push_str(&format!(
            "- {}: {}\n",
            code(&f.function),
            one_line(f.reason.as_deref().unwrap_or("no reason given"))
        ));
    }
    s.push_str("\n</details>\n");
    s
}

/// The engines the budget left out, one item per reason with the functions it holds for.
fn budget_block(report: &Report) -> String {
    let cuts = report.budget_cuts();
    if cuts.is_empty() {
        return String::new();
    }
    let count: usize = cuts.iter().map(|(_, names)| names.len()).sum();
    let mut s = format!(
        "<details><summary>{count} function(s) with engines left out by the budget</summary>\n\n"
    );
    for (why, names) in &cuts {
        let names: Vec<String> = names.iter().take(200).map(|n| code(n)).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        s.push_str(&format!(
            "- {}: {}\n",
            one_line(why),
            super::some_names(&names, 50)
        ));
    }
    s.push_str("\n</details>\n\n");
    s
}

/// Text on one line, with the characters that would end a table cell escaped.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ").replace('|', "\\|")
}

/// An inline code span that holds `s` whatever backticks it contains, usable in a table cell.
fn code(s: &str) -> String {
    let s = one_line(s);
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}
