//! What published crates do that small examples do not: a committed lock file with old
//! versions, 2015-edition syntax, exported symbols, a needed `--cfg` in `.cargo/config.toml`,
//! functions named by the paths rustc and docs print, types from `include!`d files, and bugs
//! behind the crate's own vocabulary (a keyword in a callee, a valid input in a test).

mod common;

use std::process::Command;

use common::*;

/// Runs cargo in `dir`; panics with its output when it fails.
fn cargo(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_lock_file_pinning_an_old_serde_json_still_builds() {
    let manifest = "[package]\nname = \"oldlock\"\nversion = \"0.1.0\"\nedition = \"2018\"\n\n[dependencies]\nserde = \"1\"\nserde_json = \"1\"\n\n[workspace]\n";
    let lib = r#"/// Length of `s` as compact JSON, or 0 when it is not JSON.
pub fn compact_len(s: &str) -> usize {
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(v) => v.to_string().len(),
        Err(_) => 0,
    }
}

/// The `n`-th byte of `s`.
pub fn nth_byte(s: &str, n: usize) -> u8 {
    s.as_bytes()[n]
}
"#;
    let repo = repo_with("oldlock", &[("Cargo.toml", manifest), ("src/lib.rs", lib)]);
    // serde_json 1.0.40 has no `From<Option<T>>` for `Value`, which the harness runtime uses.
    cargo(repo.path(), &["generate-lockfile", "-q"]);
    cargo(
        repo.path(),
        &["update", "-q", "-p", "serde_json", "--precise", "1.0.40"],
    );
    cargo(
        repo.path(),
        &["update", "-q", "-p", "serde", "--precise", "1.0.100"],
    );
    commit_all(repo.path(), "lock file");
    let lock_before = std::fs::read(repo.path().join("Cargo.lock")).unwrap();
    let run = edgecheck(
        repo.path(),
        &[
            "--function",
            "nth_byte",
            "--function",
            "compact_len",
            "--engines",
            "edge",
            "--budget",
            "4s",
        ],
    );
    run.assert_code(1);
    run.assert_tested("oldlock::compact_len");
    run.finding("oldlock::nth_byte", "panic");
    assert_eq!(
        std::fs::read(repo.path().join("Cargo.lock")).unwrap(),
        lock_before,
        "the user's lock file changed"
    );
}

#[test]
fn a_2015_edition_crate_with_bare_trait_objects_and_async_as_a_name() {
    let manifest = "[package]\nname = \"old_style\"\nversion = \"0.1.0\"\nedition = \"2015\"\n\n[dependencies]\n\n[workspace]\n";
    let lib = r#"use std::error::Error;

pub mod visit;

/// Applies `f` to `x`.
pub fn apply(f: &Fn(u8) -> u8, x: u8) -> u8 {
    f(x)
}

/// The first byte of `v`.
pub fn async(v: &[u8]) -> u8 {
    v[0]
}

/// Parses a count.
pub fn count(s: &str) -> Result<u32, Box<Error>> {
    Ok(try!(s.trim().parse()))
}
"#;
    let visit = r#"/// Something that is shown bytes one at a time.
pub trait Visitor {
    fn visit(&mut self, u8);
}

/// Calls `f` on every byte of `v`.
pub fn each(v: &[u8], f: &mut FnMut(u8)) {
    for b in v {
        f(*b)
    }
}
"#;
    let repo = repo_with(
        "old_style",
        &[
            ("Cargo.toml", manifest),
            ("src/lib.rs", lib),
            ("src/visit.rs", visit),
        ],
    );
    let run = edgecheck(
        repo.path(),
        &[
            "--function",
            "async",
            "--function",
            "count",
            "--engines",
            "edge",
            "--budget",
            "4s",
        ],
    );
    run.assert_code(1);
    let f = run.finding("old_style::r#async", "panic");
    assert!(
        str_of(f, "message").contains("index out of bounds"),
        "{run}"
    );
    run.assert_tested("old_style::count");
}

#[test]
fn exported_symbols_do_not_link_twice_with_the_base() {
    let before = r#"/// Version of the library, for C callers.
#[no_mangle]
pub static EC_VERSION: u32 = 3;

/// Adds two numbers, for C callers.
#[no_mangle]
pub extern "C" fn ec_add(a: u32, b: u32) -> u32 {
    a.wrapping_add(b)
}

/// The mean of `v`, 0 for an empty slice.
pub fn mean(v: &[u32]) -> u32 {
    if v.is_empty() {
        return 0;
    }
    (v.iter().map(|x| u64::from(*x)).sum::<u64>() / v.len() as u64) as u32
}
"#;
    let after = before.replace(
        "    if v.is_empty() {\n        return 0;\n    }\n    (v.iter().map(|x| u64::from(*x)).sum::<u64>() / v.len() as u64) as u32",
        "    v.iter().sum::<u32>() / v.len() as u32",
    );
    let repo = changed_crate("exports", before, &after, true);
    let run = edgecheck(
        repo.path(),
        &["--base", "HEAD~1", "--engines", "edge", "--budget", "4s"],
    );
    run.assert_code(1);
    assert_eq!(run.function_paths(), ["exports::mean"], "{run}");
    let f = run.findings_of("exports::mean", "panic");
    let o = run.findings_of("exports::mean", "overflow");
    assert!(
        f.iter().chain(&o).all(|f| f["introduced"] == true) && !(f.is_empty() && o.is_empty()),
        "{run}"
    );
}

#[test]
fn the_cargo_config_cfg_the_crate_needs_is_applied() {
    let manifest = "[package]\nname = \"needs_cfg\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lints.rust]\nunexpected_cfgs = { level = \"warn\", check-cfg = ['cfg(needs_cfg_flag)'] }\n\n[workspace]\n";
    let lib = r#"#[cfg(not(needs_cfg_flag))]
compile_error!("build with --cfg needs_cfg_flag, as .cargo/config.toml says");

/// The second byte of `v`.
pub fn second(v: &[u8]) -> u8 {
    v[1]
}
"#;
    let repo = repo_with(
        "needs_cfg",
        &[
            ("Cargo.toml", manifest),
            ("src/lib.rs", lib),
            (
                ".cargo/config.toml",
                "[build]\nrustflags = [\"--cfg\", \"needs_cfg_flag\"]\n",
            ),
        ],
    );
    let run = edgecheck(
        repo.path(),
        &[
            "--function",
            "second",
            "--engines",
            "edge",
            "--budget",
            "3s",
        ],
    );
    run.assert_code(1);
    run.finding("needs_cfg::second", "panic");
}

#[test]
fn paths_as_rustc_and_docs_print_them_select_what_they_name() {
    let lib = r#"mod parser {
    /// The first byte of `s`.
    pub fn parse(s: &str) -> u8 {
        s.as_bytes()[0]
    }
}

mod table {
    /// A table.
    pub struct Table(pub u8);

    impl Table {
        /// A different `parse`, with a bug of its own.
        pub fn parse(s: &str) -> Table {
            Table(s.as_bytes()[1])
        }
    }
}

pub use parser::parse;
pub use table::Table;

/// An amount in cents.
#[derive(Debug)]
pub struct Amount(pub u64);

impl core::str::FromStr for Amount {
    type Err = ();

    fn from_str(s: &str) -> Result<Amount, ()> {
        let units: u64 = s.parse().map_err(|_| ())?;
        Ok(Amount(units * 100))
    }
}
"#;
    let repo = repo_with("named", &[("src/lib.rs", lib)]);
    let listed = list(
        repo.path(),
        &[
            "--function",
            "named::parse",
            "--function",
            "<named::Amount as core::str::FromStr>::from_str",
        ],
    );
    listed.assert_code(0);
    // The re-export names `parser::parse` only: not the `Table::parse` of another module.
    assert_eq!(
        listed.function_paths(),
        ["named::Amount::from_str", "named::parser::parse"],
        "{listed}"
    );
    listed.assert_testable("named::parser::parse");
    listed.assert_testable("named::Amount::from_str");
    // A path that names nothing lists the closest names.
    let miss = edgecheck(repo.path(), &["--function", "named::pars"]);
    miss.assert_error(&["named::pars", "closest", "named::parser::parse"]);
}

#[test]
fn types_from_an_included_file_are_generated() {
    let lib = r#"include!("generated.rs");

/// The length of `r`.
pub fn span(r: Span) -> u32 {
    r.end - r.start
}

impl From<Span> for u64 {
    fn from(r: Span) -> u64 {
        u64::from(r.end - r.start)
    }
}
"#;
    let generated = "/// A range of offsets (generated).\n#[derive(Debug, Clone, Copy)]\npub struct Span {\n    pub start: u32,\n    pub end: u32,\n}\n";
    let repo = repo_with(
        "included",
        &[("src/lib.rs", lib), ("src/generated.rs", generated)],
    );
    let run = edgecheck(
        repo.path(),
        &[
            "--function",
            "span",
            "--function",
            "<u64 as From<included::Span>>::from",
            "--engines",
            "edge",
            "--budget",
            "4s",
        ],
    );
    run.assert_code(1);
    run.finding("included::span", "overflow");
    run.finding("included::u64::from", "overflow");
}

#[test]
fn a_keyword_spelled_only_in_a_callee_reaches_the_bug() {
    let lib = r#"/// Parses a header such as `max-size=1024` (in KiB) into bytes.
pub fn header_bytes(s: &str) -> Option<u32> {
    let value = attribute(s)?;
    let kib: u32 = value.trim().parse().ok()?;
    Some(kib * 1024)
}

fn attribute(s: &str) -> Option<&str> {
    key_value(s, "max-size=")
}

fn key_value<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    s.strip_prefix(key)
}
"#;
    let repo = repo_with("callee_kw", &[("src/lib.rs", lib)]);
    let run = edgecheck(
        repo.path(),
        &[
            "--function",
            "header_bytes",
            "--engines",
            "edge",
            "--budget",
            "3s",
        ],
    );
    run.assert_code(1);
    let f = run.finding("callee_kw::header_bytes", "overflow");
    assert_eq!(f["engine"], "edge", "{run}");
    assert!(str_of(f, "input").contains("max-size="), "{run}");
}

#[test]
fn a_valid_input_from_the_crates_own_test_reaches_the_bug() {
    let lib = r#"/// Checks a ticket code: `TK-`, four digits, a dash and a two-digit check value.
pub fn ticket_ok(code: &str) -> bool {
    let b = code.as_bytes();
    if b.len() != 10 || b[7] != b'-' {
        return false;
    }
    let Ok(n) = code[3..7].parse::<u32>() else {
        return false;
    };
    let check: u32 = code[8..].parse().unwrap_or(0);
    check == 97 % (n % 97)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_valid_ticket() {
        assert!(super::ticket_ok("TK-1234-70"));
    }
}
"#;
    let repo = repo_with("from_test", &[("src/lib.rs", lib)]);
    let run = edgecheck(repo.path(), &["--function", "ticket_ok", "--budget", "10s"]);
    run.assert_code(1);
    let f = run.finding("from_test::ticket_ok", "panic");
    assert!(str_of(f, "message").contains("remainder"), "{run}");
    assert!(str_of(f, "input").contains("TK-"), "{run}");
}

#[test]
fn types_a_build_script_generates_into_out_dir_are_generated() {
    let manifest = "[package]\nname = \"gen_types\"\nversion = \"0.1.0\"\nedition = \"2021\"\nbuild = \"build.rs\"\n\n[workspace]\n";
    let build = r#"fn main() {
    let out = std::env::var("OUT_DIR").unwrap();
    let types = "/// Generated.\n#[derive(Debug, Clone, Copy)]\npub struct Gauge {\n    pub level: u8,\n    pub max: u8,\n}\n";
    std::fs::write(format!("{out}/types.rs"), types).unwrap();
}
"#;
    let lib = r#"include!(concat!(env!("OUT_DIR"), "/types.rs"));

/// How full `g` is, in percent.
pub fn percent(g: Gauge) -> u8 {
    g.level * 100 / g.max
}
"#;
    let repo = repo_with(
        "gen_types",
        &[
            ("Cargo.toml", manifest),
            ("build.rs", build),
            ("src/lib.rs", lib),
        ],
    );
    let run = edgecheck(
        repo.path(),
        &[
            "--function",
            "percent",
            "--engines",
            "edge",
            "--budget",
            "3s",
        ],
    );
    run.assert_code(1);
    run.finding("gen_types::percent", "panic");
}
