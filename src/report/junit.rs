//! `--format junit`: JUnit XML as nextest writes it (with `quick-junit`), for CI test-report
//! views: one test suite per crate, one test case per function, a failure for a function with an
//! introduced finding, `<skipped>` with the reason for one that could not be tested, and the
//! engines the budget left out of a function as its property `not-fuzzed` (and its output).

use std::collections::BTreeMap;

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use super::{FunctionReport, Report, Status};
use crate::triage::Finding;

pub fn to_junit(report: &Report) -> String {
    let mut suites: BTreeMap<&str, Vec<TestCase>> = BTreeMap::new();
    for f in &report.functions {
        let krate = f.function.split("::").next().unwrap_or(&f.function);
        let introduced: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|x| x.introduced && x.function == f.function)
            .collect();
        let mut case = TestCase::new(f.function.as_str(), status(f, &introduced));
        case.set_classname(krate);
        if let Some(why) = &f.not_fuzzed {
            case.add_property(("not-fuzzed", why.as_str()));
            if f.status == Status::Tested {
                case.set_system_out(format!("not fuzzed by {why}"));
            }
        }
        suites.entry(krate).or_default().push(case);
    }
    let mut junit = quick_junit::Report::new("cargo-edgecheck");
    for (name, cases) in suites {
        let mut suite = TestSuite::new(name);
        // With `--ai-only`, the commits the run's selection came from.
        for c in report.ai.iter().flat_map(|ai| &ai.commits) {
            suite.add_property((
                "ai-assisted-commit",
                format!("{} {}", c.short, c.evidence).as_str(),
            ));
        }
        suite.add_test_cases(cases);
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .unwrap_or_else(|e| format!("<!-- the JUnit report could not be written: {e} -->\n"))
}

fn status(f: &FunctionReport, introduced: &[&Finding]) -> TestCaseStatus {
    if f.status == Status::Skipped {
        let mut status = TestCaseStatus::skipped();
        status.set_message(f.reason.as_deref().unwrap_or("not tested"));
        return status;
    }
    let Some(first) = introduced.first() else {
        return TestCaseStatus::success();
    };
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status.set_message(format!(
        "{} introduced: {}",
        first.kind_name(),
        first.message
    ));
    let details: Vec<String> = introduced
        .iter()
        .map(|x| {
            let at = x
                .location
                .as_ref()
                .map(|l| format!(" at {}:{}:{}", l.file, l.line, l.column))
                .unwrap_or_default();
            let proof = super::verification_text(x)
                .map(|p| format!("\n{p}"))
                .unwrap_or_default();
            format!(
                "{}: {}{at}\ninput: {}{proof}\n\n{}",
                x.kind_name(),
                x.message,
                x.input,
                x.regression_test
            )
        })
        .collect();
    status.set_description(details.join("\n\n"));
    status
}
