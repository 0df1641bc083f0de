//! `--format github`: GitHub Actions workflow commands, one annotation per finding, with the
//! escaping GitHub's toolkit applies to a command's data and properties.

use super::{AiReport, Report};
use crate::triage::{Finding, Label};

/// GitHub shows at most this many error and this many warning annotations per step.
const MAX_PER_LEVEL: usize = 10;

/// The annotations: introduced findings as errors, the others as warnings, each at most
/// [`MAX_PER_LEVEL`]; a notice per reason the budget left engines out of functions; then one
/// notice saying how many findings were not annotated.
pub fn to_github(report: &Report) -> String {
    let (introduced, others): (Vec<&Finding>, Vec<&Finding>) =
        report.findings.iter().partition(|f| f.introduced);
    let mut out = String::new();
    if let Some(ai) = &report.ai {
        let text = match ai.nothing_qualified() {
            true => AiReport::NOTHING_QUALIFIED.to_string(),
            false => format!("AI-assisted commits:\n{}", ai.commit_lines().join("\n")),
        };
        out.push_str(&format!(
            "::notice title={}::{}\n",
            escape_property("cargo-edgecheck"),
            escape_data(&text)
        ));
    }
    for f in introduced.iter().take(MAX_PER_LEVEL) {
        out.push_str(&annotation("error", f));
    }
    for f in others.iter().take(MAX_PER_LEVEL) {
        out.push_str(&annotation("warning", f));
    }
    // What the budget left out, a notice per reason.
    for (why, names) in report.budget_cuts() {
        out.push_str(&format!(
            "::notice title={}::{}\n",
            escape_property("cargo-edgecheck: left out by the budget"),
            escape_data(&format!(
                "{} function(s) not fuzzed by {why}\n{}",
                names.len(),
                super::some_names(&names, 20)
            ))
        ));
    }
    let left =
        introduced.len().saturating_sub(MAX_PER_LEVEL) + others.len().saturating_sub(MAX_PER_LEVEL);
    if left > 0 {
        out.push_str(&format!(
            "::notice title={}::{}\n",
            escape_property("cargo-edgecheck"),
            escape_data(&format!(
                "{left} more finding(s) are not annotated (GitHub shows {MAX_PER_LEVEL} errors and {MAX_PER_LEVEL} warnings per step); see the report"
            ))
        ));
    }
    out
}

/// `::error file=src/lib.rs,line=3,endLine=3,col=9,title=…::…`
fn annotation(level: &str, f: &Finding) -> String {
    let mut props = Vec::new();
    if let Some(l) = &f.location {
        props.push(format!("file={}", escape_property(&l.file)));
        props.push(format!("line={}", l.line));
        props.push(format!("endLine={}", l.line));
        props.push(format!("col={}", l.column));
    }
    let label = match f.label {
        Label::Introduced => String::new(),
        other => format!(" ({other})"),
    };
    props.push(format!(
        "title={}",
        escape_property(&format!("{} in {}{label}", f.kind_name(), f.function))
    ));
    let mut message = format!("{}\ninput: {}", f.message, f.input);
    if let Some(base) = &f.base {
        message.push_str(&format!("\nbefore the change: {base}"));
    }
    format!("::{level} {}::{}\n", props.join(","), escape_data(&message))
}

/// A command's message: `%`, CR and LF are escaped, so a message arrives whole.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A command's property value: as data, and `:` and `,`, which end a property.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_and_properties_are_escaped_as_the_toolkit_does() {
        let m = "50% of a:b, then\nnext\r";
        assert_eq!(escape_data(m), "50%25 of a:b, then%0Anext%0D");
        assert_eq!(escape_property(m), "50%25 of a%3Ab%2C then%0Anext%0D");
    }
}
