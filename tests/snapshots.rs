//! Snapshot tests that need no build: what `cargo edgecheck list` plans for every function of
//! the fixture crates under `tests/testdata/` (the generator of each argument, or why the
//! function is skipped), and the code generated for them (the harness's target modules and the
//! entry modules injected into the crate). `cargo insta review` shows a change to accept.

mod common;

use std::path::Path;

use common::tool;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/testdata")
        .join(name)
        .join("Cargo.toml")
}

/// `cargo edgecheck list --all` on a fixture, run from the repository root so paths are
/// relative to it, as a user of this repository would see them.
fn list(name: &str, format: &str) -> String {
    let out = tool()
        .args([
            "edgecheck",
            "list",
            "--all",
            "--format",
            format,
            "--manifest-path",
        ])
        .arg(fixture(name))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("cargo-edgecheck runs");
    assert!(
        out.status.success(),
        "list failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn list_plans_every_kind_of_argument() {
    insta::assert_snapshot!("list_kinds", list("kinds", "human"));
}

#[test]
fn list_plans_trait_impls_generic_impls_and_2015_code() {
    insta::assert_snapshot!("list_traits", list("traits", "human"));
}

#[test]
fn list_json_carries_the_same_plan() {
    let doc: serde_json::Value = serde_json::from_str(&list("kinds", "json")).unwrap();
    insta::assert_json_snapshot!("list_kinds_json", doc);
}

/// The generated code for a fixture, as one text: each file under a `====` line.
fn generated(name: &str) -> String {
    let target = tempfile::tempdir().unwrap();
    let cli = <cargo_edgecheck::cli::Cli as clap::Parser>::parse_from([
        "cargo-edgecheck".as_ref(),
        "--manifest-path".as_ref(),
        fixture(name).as_os_str(),
        "--target-dir".as_ref(),
        target.path().as_os_str(),
    ]);
    let files = cargo_edgecheck::lab::generated_code(&cli, true).expect("code is generated");
    let mut text = String::new();
    for (path, code) in &files {
        text.push_str(&format!("==== {path}\n"));
        match path.starts_with("head/") {
            // Injected code is one long line per module (so the user's lines keep their
            // numbers): shown formatted, under the line it is on.
            true => code.lines().for_each(|l| text.push_str(&readable(l))),
            false => text.push_str(code),
        }
        text.push('\n');
    }
    // Generated code names the user's file; the checkout's location is not part of the snapshot.
    text.replace(env!("CARGO_MANIFEST_DIR"), "<repo>")
}

#[test]
fn generated_code_for_every_kind_of_argument() {
    insta::assert_snapshot!("generated_kinds", generated("kinds"));
}

#[test]
fn generated_code_for_trait_impls_generic_impls_and_2015_code() {
    insta::assert_snapshot!("generated_traits", generated("traits"));
}

/// `57: <code>` with the code formatted by prettyplease when it parses as items on its own.
fn readable(line: &str) -> String {
    let (number, code) = line.split_once(": ").unwrap_or(("?", line));
    // In an inline module, the injected code sits before the module's closing brace.
    let (code, closing) = match syn::parse_file(code) {
        Ok(_) => (code, ""),
        Err(_) => (code.trim_end().strip_suffix('}').unwrap_or(code), " }"),
    };
    match syn::parse_file(code) {
        Ok(file) => format!(
            "line {number}:\n{}{closing}\n",
            prettyplease::unparse(&file)
        ),
        Err(_) => format!("line {number}: {code}{closing}\n"),
    }
}
