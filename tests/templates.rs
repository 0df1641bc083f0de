//! The harness templates are Rust the project keeps to its own style: `rustfmt --check` passes
//! on each of them, as `cargo fmt --check` does on `src/` (the templates are not in the crate's
//! module tree, so `cargo fmt` does not see them).

use std::path::Path;
use std::process::Command;

#[test]
fn harness_templates_are_rustfmt_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("harness-templates");
    if Command::new("rustfmt").arg("--version").output().is_err() {
        eprintln!("rustfmt is not installed; skipping");
        return;
    }
    // `main.rs` names `targets`, which only a generated harness has: check it alone.
    let files = [
        root.join("runtime.rs"),
        root.join("protocol.rs"),
        root.join("emit-helpers.rs"),
    ];
    let out = Command::new("rustfmt")
        .args(["--check", "--edition", "2021"])
        .args(&files)
        .output()
        .expect("rustfmt runs");
    assert!(
        out.status.success(),
        "rustfmt --check failed on the harness templates (run `rustfmt --edition 2021 harness-templates/runtime.rs`):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let main = std::fs::read_to_string(root.join("main.rs")).unwrap();
    let formatted = Command::new("rustfmt")
        .args([
            "--emit",
            "stdout",
            "--edition",
            "2021",
            "--config",
            "skip_children=true",
        ])
        .arg(root.join("main.rs"))
        .output()
        .expect("rustfmt runs");
    if formatted.status.success() {
        let text = String::from_utf8_lossy(&formatted.stdout);
        assert!(
            text.contains(main.trim()),
            "harness-templates/main.rs is not rustfmt-clean"
        );
    }
}
