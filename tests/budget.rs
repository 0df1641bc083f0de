//! `--budget` as a contract and `--time-limit`: which functions a small budget leaves out, and
//! why; a budget cut to what the time limit leaves; a build that runs past the limit. No
//! assertion on how long anything took: the budget's wall time is measured by
//! `benches/budget.py`, not asserted here.

mod common;

use common::*;

/// A crate with `n` small correct functions, each refactored by the second commit without a
/// change of behaviour: nothing to find.
fn many_functions(name: &str, n: usize) -> tempfile::TempDir {
    let source = |body: &str| -> String {
        (0..n)
            .map(|i| {
                let body = body.replace("I", &i.to_string());
                format!("/// `x` plus {i}, saturating.\npub fn f{i}(x: u32) -> u32 {{\n    {body}\n}}\n")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    changed_crate(
        name,
        &source("x.saturating_add(I)"),
        &source("x.checked_add(I).unwrap_or(u32::MAX)"),
        true,
    )
}

/// With more functions than a one-second budget serves at the edge engine's minimum, the
/// first ones in the order of the change are tested and the rest are listed as not fuzzed,
/// with the reason in both `reason` and `not_fuzzed`; the served ones say the random engine
/// was left out. Then `--time-limit` cuts a long budget to what is left after the build.
#[test]
fn a_small_budget_lists_the_functions_it_does_not_fuzz_and_why() {
    let repo = many_functions("many", 20);
    let run = edgecheck(
        repo.path(),
        &[
            "--base",
            "HEAD~1",
            "--budget",
            "1s",
            "-j",
            "1",
            "--engines",
            "edge,proptest",
        ],
    );
    run.assert_code(0);
    let functions = run.functions();
    assert_eq!(functions.len(), 20, "{run}");
    let tested = functions.iter().filter(|f| f["status"] == "tested").count();
    assert!(
        tested > 0 && tested < 20,
        "a second on one core serves some functions, not all:\n{run}"
    );
    for (i, f) in functions.iter().enumerate() {
        assert_eq!(
            f["function"],
            format!("many::f{i}"),
            "in the change's order"
        );
        let not_fuzzed = str_of(f, "not_fuzzed");
        if i < tested {
            assert_eq!(f["status"], "tested", "the first ones are served:\n{run}");
            assert!(
                not_fuzzed.starts_with("proptest: the budget (1s) gives them to 0 of 20 functions"),
                "{not_fuzzed}"
            );
            continue;
        }
        run.assert_skipped(
            &format!("many::f{i}"),
            &[
                "not fuzzed: the budget (1s)",
                &format!("serves {tested} of 20 functions at the least of"),
                "per function",
                "raise --budget or narrow with --function",
            ],
        );
        assert!(
            not_fuzzed.starts_with("edge, proptest: the budget (1s) serves"),
            "{not_fuzzed}"
        );
    }
    let timing = &run.report()["timing"];
    assert_eq!(timing["budget_ms"], 1000, "{run}");
    for key in [
        "build_end_ms",
        "after_build_ms",
        "engines_ms",
        "follow_ups_ms",
        "idle_ms",
    ] {
        assert!(timing[key].is_u64(), "timing.{key}:\n{run}");
    }
    assert_eq!(timing["jobs"], 1);

    // Warm now: the limit leaves less than the budget after the build, and the budget the run
    // had is that, less its tolerance.
    let limited = edgecheck(
        repo.path(),
        &[
            "--base",
            "HEAD~1",
            "--budget",
            "10m",
            "--time-limit",
            "20s",
            "-j",
            "1",
            "--engines",
            "edge",
        ],
    );
    limited.assert_code(0);
    let report = limited.report();
    assert_eq!(report["settings"]["budget_ms"], 600_000);
    assert_eq!(report["settings"]["time_limit_ms"], 20_000);
    let budget = report["timing"]["budget_ms"].as_u64().unwrap();
    let build_end = report["timing"]["build_end_ms"].as_u64().unwrap();
    assert!(
        budget + build_end <= 20_000 && budget > 0,
        "the budget is what the limit left:\n{limited}"
    );
}

/// A time limit the build cannot meet stops the build: exit status 3, one error line that
/// names the limit, and no report.
#[test]
fn a_time_limit_shorter_than_the_build_stops_it_with_exit_status_3() {
    // Code no earlier run built, so the harness must be compiled.
    let repo = many_functions("limited", 8);
    let run = edgecheck(
        repo.path(),
        &[
            "--base",
            "HEAD~1",
            "--time-limit",
            "500ms",
            "--budget",
            "5s",
        ],
    );
    run.assert_code(3);
    assert!(run.report.is_none(), "a report was written:\n{run}");
    assert!(!run.stderr.contains("panicked"), "{run}");
    let first = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_default();
    assert!(
        first.contains("the --time-limit of 500ms ran out after")
            && first.contains("nothing was fuzzed"),
        "{run}"
    );
}
