//! `cargo edgecheck`: finds the edge cases a code change missed. This file only parses the
//! command line, hands it to [`lab`](cargo_edgecheck::lab), and turns the outcome into an exit
//! status.

use std::process::ExitCode;

use cargo_edgecheck::cli::{self, Cli, ColorChoice};
use cargo_edgecheck::error::exit_code;
use cargo_edgecheck::{build, contain, lab};

fn main() -> ExitCode {
    // The tool is also the supervisor that contains each harness process.
    if let Some(code) = contain::supervisor_mode() {
        return ExitCode::from(u8::try_from(code).unwrap_or(exit_code::ERROR));
    }
    // The tool is also its own rustc wrapper for the libFuzzer build.
    if let Some(code) = build::rustc_wrapper_mode() {
        return ExitCode::from(u8::try_from(code).unwrap_or(exit_code::FINDINGS));
    }
    let cli = Cli::parse_args(cli::args_from_env()).unwrap_or_else(|e| e.exit());
    match cli.color {
        ColorChoice::Always => console::set_colors_enabled_stderr(true),
        ColorChoice::Never => console::set_colors_enabled_stderr(false),
        ColorChoice::Auto => {}
    }
    match lab::dispatch(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("{} {e}", console::style("error:").red().bold().for_stderr());
            ExitCode::from(e.exit_code())
        }
    }
}
