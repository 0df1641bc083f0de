//! Each kind of edge case the engines must find in a changed function, and a correct change that
//! must come out clean.

mod common;

use common::*;

const TRUNCATE_BEFORE: &str = r#"/// The first `max` characters of `s`.
pub fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}
"#;

const TRUNCATE_AFTER: &str = r#"/// The first `max` characters of `s`.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    &s[..max]
}
"#;

#[test]
fn panic_on_multibyte_char_in_changed_function() {
    let repo = changed_crate("strs", TRUNCATE_BEFORE, TRUNCATE_AFTER, true);
    let run = edgecheck(repo.path(), &["--base", "HEAD~1", "--budget", "4s"]);
    run.assert_code(1);
    run.assert_tested("strs::truncate");
    let f = run.finding("strs::truncate", "panic");
    let input = str_of(f, "input");
    assert!(
        input.starts_with("truncate(") && !input.is_ascii(),
        "the input should be a call with a multi-byte character: {input}"
    );
    assert!(
        str_of(f, "message").contains("char boundary"),
        "unexpected message:\n{run}"
    );
    assert_eq!(f["location"]["file"], "src/lib.rs", "{run}");
    assert_eq!(
        f["location"]["line"],
        line_of(TRUNCATE_AFTER, "&s[..max]"),
        "{run}"
    );
    assert_eq!(f["introduced"], true);
    let test = str_of(f, "regression_test");
    assert!(
        test.contains("#[test]") && test.contains(input),
        "the regression test should be a #[test] calling `{input}`:\n{test}"
    );
}

/// A short edge-engine run against the previous commit, in the shared target dir, with the
/// report flags in `report_args`.
fn quick_run(repo: &std::path::Path, report_args: &[&str]) -> Run {
    let target_dir = shared_target_dir();
    let common = [
        "--base",
        "HEAD~1",
        "--budget",
        "2s",
        "--engines",
        "edge",
        "-q",
        "--target-dir",
        target_dir.to_str().unwrap(),
    ];
    edgecheck_raw(repo, &[&common[..], report_args].concat())
}

/// Every format of one run: the files in `--output-dir` and the annotations on standard
/// output carry the same finding.
#[test]
fn one_run_writes_every_report_format() {
    let repo = changed_crate("formats", TRUNCATE_BEFORE, TRUNCATE_AFTER, true);
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("reports");
    let run = quick_run(
        repo.path(),
        &[
            "--format",
            "json,markdown,github,human,junit,sarif",
            "--output-dir",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1, "{run}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("edgecheck.json")).unwrap())
            .unwrap();
    let line = line_of(TRUNCATE_AFTER, "&s[..max]");
    assert_eq!(json["findings"][0]["location"]["line"], line, "{run}");
    let md = std::fs::read_to_string(dir.join("edgecheck.md")).unwrap();
    assert!(
        md.starts_with("<!-- cargo-edgecheck -->") && md.contains("formats::truncate"),
        "{md}"
    );
    let junit = std::fs::read_to_string(dir.join("edgecheck.junit.xml")).unwrap();
    assert!(
        junit.contains("<testsuite name=\"formats\"") && junit.contains("<failure"),
        "{junit}"
    );
    let human = std::fs::read_to_string(dir.join("edgecheck.txt")).unwrap();
    assert!(human.contains("panic in formats::truncate"), "{human}");
    assert_valid_sarif_for_github(&dir.join("edgecheck.sarif"));
    let annotation = format!("::error file=src/lib.rs,line={line},endLine={line},col=");
    assert!(run.stdout.starts_with(&annotation), "{}", run.stdout);
}

/// A code-scanning alert is not raised again on the next push: the SARIF fingerprints of a
/// finding stay the same when an unrelated line is inserted above its function, while its
/// region moves with it.
#[test]
fn sarif_fingerprints_survive_an_unrelated_line_above() {
    let repo = changed_crate("moved", TRUNCATE_BEFORE, TRUNCATE_AFTER, true);
    let sarif_of_a_run = || {
        let out = tempfile::tempdir().unwrap();
        let path = out.path().join("edgecheck.sarif");
        let run = quick_run(
            repo.path(),
            &["--format", "sarif", "--output", path.to_str().unwrap()],
        );
        assert_eq!(run.code, 1, "{run}");
        let sarif: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let result = sarif["runs"][0]["results"][0].clone();
        let line = result["locations"][0]["physicalLocation"]["region"]["startLine"].clone();
        (result["partialFingerprints"].clone(), line)
    };
    let (before, line) = sarif_of_a_run();
    write(
        repo.path(),
        "src/lib.rs",
        &format!("pub const UNRELATED: u8 = 1;\n{TRUNCATE_AFTER}"),
    );
    let (after, moved) = sarif_of_a_run();
    assert!(
        before.as_object().is_some_and(|f| !f.is_empty()),
        "{before}"
    );
    assert_eq!(before, after);
    assert_eq!(moved.as_u64(), line.as_u64().map(|l| l + 1));
}

/// Microsoft's SARIF validator (installed by `.ci/install-consumers`) with GitHub's ingestion
/// rules finds no error and no warning in the SARIF at `path`.
fn assert_valid_sarif_for_github(path: &std::path::Path) {
    let tool = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".ci/node/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    assert!(
        tool.is_file(),
        "the SARIF validator is not installed: run `.ci/install-consumers`"
    );
    let verdict = path.with_extension("validation.sarif");
    let out = std::process::Command::new(&tool)
        .args([
            "validate",
            "--rule-kind",
            "Gh;Sarif",
            "--level",
            "Error;Warning",
            "-o",
        ])
        .arg(&verdict)
        .arg(path)
        .output()
        .expect("the SARIF validator runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let verdict: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&verdict).unwrap()).unwrap();
    let problems = verdict["runs"][0]["results"]
        .as_array()
        .map_or(0, |r| r.len());
    assert_eq!(problems, 0, "the validator found problems:\n{stdout}");
}

#[test]
fn several_formats_need_an_output_dir() {
    let repo = changed_crate("formats2", TRUNCATE_BEFORE, TRUNCATE_AFTER, true);
    let run = edgecheck_raw(repo.path(), &["--format", "json,markdown"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("--output-dir"), "{run}");
}

#[test]
fn arithmetic_overflow_is_its_own_kind() {
    let before = "/// `x` scaled by `factor`, capped at `u32::MAX`.\n\
                  pub fn scale(x: u32, factor: u32) -> u32 {\n    x.saturating_mul(factor)\n}\n";
    let after = "/// `x` scaled by `factor`, capped at `u32::MAX`.\n\
                 pub fn scale(x: u32, factor: u32) -> u32 {\n    x * factor\n}\n";
    let repo = changed_crate("nums", before, after, true);
    let run = edgecheck(repo.path(), &["--base", "HEAD~1", "--budget", "3s"]);
    run.assert_code(1);
    let f = run.finding("nums::scale", "overflow");
    assert!(
        str_of(f, "message").contains("multiply with overflow"),
        "{run}"
    );
    assert_eq!(f["location"]["line"], line_of(after, "x * factor"), "{run}");
    assert!(
        run.findings_of("nums::scale", "panic").is_empty(),
        "an overflow must not also be reported as a plain panic:\n{run}"
    );
}

#[test]
fn hang_is_a_timeout_with_the_input_recovered() {
    let before = "/// How many times `n` halves before it reaches 1 (0 for 0 and 1).\n\
                  pub fn halvings(mut n: u64) -> u32 {\n    let mut steps = 0u32;\n    \
                  while n > 1 {\n        n /= 2;\n        steps += 1;\n    }\n    steps\n}\n";
    let after = "/// How many times `n` halves before it reaches 1 (0 for 0 and 1).\n\
                 pub fn halvings(mut n: u64) -> u32 {\n    let mut steps = 0u32;\n    \
                 while n != 1 {\n        n /= 2;\n        steps = steps.saturating_add(1);\n    }\n    steps\n}\n";
    let repo = changed_crate("loops", before, after, true);
    let run = edgecheck(
        repo.path(),
        &["--base", "HEAD~1", "--budget", "4s", "--timeout", "300ms"],
    );
    run.assert_code(1);
    let f = run.finding("loops::halvings", "timeout");
    assert_eq!(str_of(f, "input"), "halvings(0)", "{run}");
}

#[test]
fn private_functions_in_inline_and_file_modules_are_reached() {
    let lib_before = "//! Parsing helpers.\n\nmod text;\n\nmod outer {\n    mod inner {\n        \
                      /// The element at `i`, or 0 past the end.\n        \
                      fn at(v: &[u8], i: usize) -> u8 {\n            \
                      v.get(i).copied().unwrap_or(0)\n        }\n    }\n}\n";
    let lib_after = lib_before.replace("v.get(i).copied().unwrap_or(0)", "v[i]");
    let text_before = "/// The first character of `s`, as a string.\n\
                       fn head(s: &str) -> &str {\n    \
                       s.chars().next().map_or(\"\", |c| &s[..c.len_utf8()])\n}\n";
    let text_after = text_before.replace(
        "s.chars().next().map_or(\"\", |c| &s[..c.len_utf8()])",
        "&s[..1]",
    );
    let repo = repo_with(
        "deep",
        &[("src/lib.rs", lib_before), ("src/text.rs", text_before)],
    );
    write(repo.path(), "src/lib.rs", &lib_after);
    write(repo.path(), "src/text.rs", &text_after);
    commit_all(repo.path(), "index directly");

    let run = edgecheck(repo.path(), &["--base", "HEAD~1", "--budget", "4s"]);
    run.assert_code(1);
    assert_eq!(
        run.function_paths(),
        ["deep::outer::inner::at", "deep::text::head"],
        "{run}"
    );
    let inner = run.finding("deep::outer::inner::at", "panic");
    assert!(
        str_of(inner, "message").contains("index out of bounds"),
        "{run}"
    );
    assert_eq!(inner["location"]["file"], "src/lib.rs", "{run}");
    assert_eq!(
        inner["location"]["line"],
        line_of(&lib_after, "v[i]"),
        "{run}"
    );
    let text = run.finding("deep::text::head", "panic");
    assert_eq!(text["location"]["file"], "src/text.rs", "{run}");
    assert_eq!(
        text["location"]["line"],
        line_of(&text_after, "&s[..1]"),
        "{run}"
    );
}

#[test]
fn correct_change_has_no_findings() {
    let before = "/// `x` limited to 0..=100.\npub fn clamp_percent(x: i64) -> i64 {\n    \
                  if x < 0 {\n        0\n    } else if x > 100 {\n        100\n    } else {\n        x\n    }\n}\n";
    let after = "/// `x` limited to 0..=100.\npub fn clamp_percent(x: i64) -> i64 {\n    \
                 x.clamp(0, 100)\n}\n";
    let repo = changed_crate("fine", before, after, true);
    let run = edgecheck(repo.path(), &["--base", "HEAD~1", "--budget", "3s"]);
    run.assert_code(0);
    assert!(run.findings().is_empty(), "{run}");
    assert_eq!(run.function_paths(), ["fine::clamp_percent"], "{run}");
    run.assert_tested("fine::clamp_percent");
    let engines = run.function("fine::clamp_percent")["engines"]
        .as_object()
        .expect("engines is an object");
    for (engine, count) in engines {
        assert!(
            count.as_u64().unwrap_or(0) > 0,
            "engine {engine} ran no input:\n{run}"
        );
    }
    assert!(engines.contains_key("proptest"), "{run}");
}

/// libFuzzer stops at a crash; the run resumes it with the rest of the budget, so a second,
/// different bug behind another branch is found in the same run.
#[test]
fn libfuzzer_goes_on_after_a_finding() {
    let before = "/// A command byte and its operands.\n\
                  pub fn command(data: &[u8]) -> u8 {\n\
                  \x20   match data {\n\
                  \x20       [b'Q', a, b, ..] => a.checked_div(*b).unwrap_or(0),\n\
                  \x20       [b'Z', i, ..] => [7u8, 8][*i as usize % 2],\n\
                  \x20       _ => 0,\n    }\n}\n";
    let after = before
        .replace("a.checked_div(*b).unwrap_or(0)", "a / b")
        .replace("[*i as usize % 2]", "[*i as usize]");
    let repo = changed_crate("cmd", before, &after, true);
    let run = edgecheck(
        repo.path(),
        // One process, so the second bug can only come from the resumed run.
        &[
            "--base",
            "HEAD~1",
            "--budget",
            "8s",
            "--engines",
            "libfuzzer",
            "-j",
            "1",
        ],
    );
    run.assert_code(1);
    let found: Vec<&str> = run
        .findings_of("cmd::command", "panic")
        .iter()
        .map(|f| str_of(f, "message"))
        .collect();
    assert!(
        found.iter().any(|m| m.contains("divide by zero"))
            && found.iter().any(|m| m.contains("index out of bounds")),
        "both bugs are found in one libFuzzer run: {run}"
    );
}

/// The libFuzzer engine alone: a header check that only an input starting with the magic bytes
/// gets past, found through the seed and dictionary built from the changed code's literals, and
/// shown as a Rust call decoded from the fuzzer's bytes, with what the old code returned.
#[test]
fn libfuzzer_engine_gets_past_a_magic_header() {
    let before = "/// The payload length in a header `EDGC<len:u16 le>`.\n\
                  pub fn payload_len(data: &[u8]) -> Option<u16> {\n\
                  \x20   let rest = data.strip_prefix(b\"EDGC\")?;\n\
                  \x20   let len = rest.get(..2)?;\n\
                  \x20   Some(u16::from_le_bytes([len[0], len[1]]))\n}\n";
    let after = "/// The payload length in a header `EDGC<len:u16 le>`.\n\
                 pub fn payload_len(data: &[u8]) -> Option<u16> {\n\
                 \x20   if data.len() < 4 || &data[..4] != b\"EDGC\" {\n\
                 \x20       return None;\n    }\n\
                 \x20   Some(u16::from_le_bytes([data[4], data[5]]))\n}\n";
    let repo = changed_crate("hdr", before, after, true);
    let run = edgecheck(
        repo.path(),
        &[
            "--base",
            "HEAD~1",
            "--budget",
            "6s",
            "--engines",
            "libfuzzer",
        ],
    );
    run.assert_code(1);
    let f = run.finding("hdr::payload_len", "panic");
    assert_eq!(str_of(f, "engine"), "libfuzzer", "{run}");
    let input = str_of(f, "input");
    assert!(
        input.starts_with("payload_len(&[69, 68, 71, 67"),
        "the input should start with the magic bytes: {input}"
    );
    assert!(str_of(f, "base").starts_with("returned"), "{run}");
    assert!(
        run.function("hdr::payload_len")["engines"]["libfuzzer"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "{run}"
    );
}

/// `--sanitizer address` (nightly, found through rustup): a read one past the end in `unsafe`
/// code, which without AddressSanitizer silently returns garbage, is a memory error.
#[test]
fn address_sanitizer_catches_an_out_of_bounds_read_in_unsafe_code() {
    let nightly = std::process::Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !nightly && std::env::var_os("EDGECHECK_TESTS_WITHOUT_NIGHTLY").is_some() {
        eprintln!("skipped: no nightly toolchain, and EDGECHECK_TESTS_WITHOUT_NIGHTLY is set");
        return;
    }
    assert!(
        nightly,
        "this test needs a nightly toolchain (`rustup toolchain install nightly`); set EDGECHECK_TESTS_WITHOUT_NIGHTLY=1 to skip it"
    );
    let before = "/// The byte after index `i`, or 0.\n\
                  pub fn next_byte(data: &[u8], i: usize) -> u8 {\n\
                  \x20   if i + 1 < data.len() { data[i + 1] } else { 0 }\n}\n";
    let after = "/// The byte after index `i`, or 0.\n\
                 pub fn next_byte(data: &[u8], i: usize) -> u8 {\n\
                 \x20   if i < data.len() {\n\
                 \x20       // SAFETY: claimed in bounds (it is not for the last index).\n\
                 \x20       unsafe { *data.as_ptr().add(i + 1) }\n\
                 \x20   } else {\n        0\n    }\n}\n";
    let repo = changed_crate("asan", before, after, true);
    let run = edgecheck(
        repo.path(),
        &[
            "--base",
            "HEAD~1",
            "--budget",
            "8s",
            "--engines",
            "libfuzzer",
            "--sanitizer",
            "address",
        ],
    );
    run.assert_code(1);
    // Not `run.finding`, which asserts the proof: a test built without AddressSanitizer reads
    // past the end without a crash, and the finding says so.
    let f = run
        .findings_of("asan::next_byte", "crash")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no crash for `asan::next_byte`:\n{run}"));
    assert!(
        str_of(f, "message").contains("AddressSanitizer: heap-buffer-overflow"),
        "{run}"
    );
    assert_eq!(f["verified"], false, "{run}");
    assert!(
        str_of(f, "verification").contains("without AddressSanitizer"),
        "{run}"
    );
    assert!(str_of(f, "input").starts_with("next_byte(&["), "{run}");
}
