#!/usr/bin/env python3
"""Benchmark of `--budget` as a contract: the wall time after the build stays within the budget.

What it measures: for crates with 1, 10 and 60 changed functions and for budgets of 5 s and
20 s, the wall time of everything the tool does after the build (engines, recording, base
checks, minimisation, triage and the report), against the budget plus its tolerance,
min(5 % of the budget, 1 s): 5.25 s for 5 s, 21 s for 20 s.

The crates: one git repository per size, whose first commit has the functions as they were
and whose second commit changes every one of them. The functions are small and realistic,
made from 20 templates (text, numbers, slices): about half of the changes bring an edge case
(a panic on an empty input, a char boundary, an overflow, a division by zero, a capacity
overflow, a hang on odd numbers), so findings and their follow-up processes (libFuzzer's
minimisation and decoding, the base check of a hang) happen; the others are correct
refactors. 60 functions are three variants of each template; 10 are the first ten templates;
1 is the first (`truncate_0`, whose char-boundary panic every engine finds).

How it measures: each crate's harness is built once first (a run with `--budget 1s`, not
counted). Then for each budget the tool runs as

    cargo-edgecheck edgecheck --base HEAD~1 --budget B --format json --output report.json

with every core (the tool's default). The post-build wall is the wall clock of the whole
process, measured here from just before it is started until it has exited, minus the end of
the build as the report's timeline gives it (`timing.build_end_ms`, milliseconds since the
tool started). The process's start-up before the tool takes its first timestamp is counted
as post-build time, so the figure errs high, never low. The table shows, per cell, the
post-build wall, the limit, ok or OVER, the findings, and the functions fuzzed (status
`tested`) of those changed, with those the budget left out (`not_fuzzed`). `--repeat N` runs
every cell N times and shows the worst.

How to run it (from the project root; about five minutes once the harnesses are built, the
first builds take a few minutes more):

    cargo build --release
    benches/budget.py
    benches/budget.py --sizes 60 --budgets 5 --repeat 3
    benches/budget.py --scratch /tmp/ec-budget      # keep the crates and build caches

The tool is copied into the scratch directory first and the copy is what runs, so a rebuild
of target/release during the benchmark cannot mix two versions. The figures are from
whatever machine runs it, loaded or not: the contract must hold on a busy machine too.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GIT_ID = ["-c", "user.name=Bench", "-c", "user.email=bench@example.invalid", "-c", "commit.gpgsign=false"]

# ---------------------------------------------------------------------------------------------
# The functions: (before, after), with {k} for the variant's suffix and {c} for a constant of
# the variant. The after-version is what the change made of it.

TEMPLATES = [
    # A char-boundary panic: slicing a &str by bytes.
    ('''\
/// At most `max` bytes of `s`, cut on a character boundary.
pub fn truncate_{k}(s: &str, max: usize) -> &str {{
    if s.len() <= max {{
        return s;
    }}
    let mut end = max;
    while !s.is_char_boundary(end) {{
        end -= 1;
    }}
    &s[..end]
}}
''', '''\
/// At most `max` bytes of `s`, cut on a character boundary.
pub fn truncate_{k}(s: &str, max: usize) -> &str {{
    &s[..max.min(s.len())]
}}
'''),
    # A correct refactor.
    ('''\
/// The first word of `s`, split on whitespace.
pub fn first_word_{k}(s: &str) -> &str {{
    match s.split_whitespace().next() {{
        Some(w) => w,
        None => "",
    }}
}}
''', '''\
/// The first word of `s`, split on whitespace.
pub fn first_word_{k}(s: &str) -> &str {{
    s.split_whitespace().next().unwrap_or("")
}}
'''),
    # Division by zero on an empty slice, and an overflow of the sum.
    ('''\
/// The mean of `xs`, 0 for none.
pub fn mean_{k}(xs: &[i64]) -> i64 {{
    if xs.is_empty() {{
        return 0;
    }}
    let sum: i128 = xs.iter().map(|&x| i128::from(x)).sum();
    (sum / xs.len() as i128) as i64
}}
''', '''\
/// The mean of `xs`, 0 for none.
pub fn mean_{k}(xs: &[i64]) -> i64 {{
    xs.iter().sum::<i64>() / xs.len() as i64
}}
'''),
    # A correct refactor.
    ('''\
/// `x` as a percentage, clamped to 0..={c}.
pub fn clamp_percent_{k}(x: i32) -> u8 {{
    if x < 0 {{
        0
    }} else if x > {c} {{
        {c}
    }} else {{
        x as u8
    }}
}}
''', '''\
/// `x` as a percentage, clamped to 0..={c}.
pub fn clamp_percent_{k}(x: i32) -> u8 {{
    x.clamp(0, {c}) as u8
}}
'''),
    # Subtract with overflow on an empty slice.
    ('''\
/// The last element of `xs`, or 0.
pub fn last_{k}(xs: &[u32]) -> u32 {{
    xs.last().copied().unwrap_or(0)
}}
''', '''\
/// The last element of `xs`, or 0.
pub fn last_{k}(xs: &[u32]) -> u32 {{
    xs[xs.len() - 1]
}}
'''),
    # An add overflow in a fold.
    ('''\
/// The byte sum of `data`, wrapping, plus {c}.
pub fn checksum_{k}(data: &[u8]) -> u8 {{
    data.iter().fold({c}u8, |a, b| a.wrapping_add(*b))
}}
''', '''\
/// The byte sum of `data`, wrapping, plus {c}.
pub fn checksum_{k}(data: &[u8]) -> u8 {{
    data.iter().fold({c}u8, |a, b| a + b)
}}
'''),
    # A correct refactor.
    ('''\
/// How many decimal digits `n` has.
pub fn count_digits_{k}(n: u64) -> u32 {{
    let mut n = n;
    let mut d = 1;
    while n >= 10 {{
        n /= 10;
        d += 1;
    }}
    d
}}
''', '''\
/// How many decimal digits `n` has.
pub fn count_digits_{k}(n: u64) -> u32 {{
    n.checked_ilog10().unwrap_or(0) + 1
}}
'''),
    # A hang on an odd target: the loop steps by two.
    ('''\
/// The smallest multiple of {c} at least `n`.
pub fn round_up_{k}(n: u32) -> u64 {{
    let n = u64::from(n);
    n.div_ceil({c}) * {c}
}}
''', '''\
/// The smallest multiple of {c} at least `n`.
pub fn round_up_{k}(n: u32) -> u64 {{
    let n = u64::from(n);
    let mut m = 0u64;
    while m < n || m % {c} != 0 {{
        m += if n % 2 == 1 {{ 0 }} else {{ 1 }};
    }}
    m
}}
'''),
    # A panic when there is no `=`.
    ('''\
/// The key and value of `key=value`; the whole input as the key when there is no `=`.
pub fn split_pair_{k}(s: &str) -> (&str, &str) {{
    match s.split_once('=') {{
        Some((k, v)) => (k, v),
        None => (s, ""),
    }}
}}
''', '''\
/// The key and value of `key=value`; the whole input as the key when there is no `=`.
pub fn split_pair_{k}(s: &str) -> (&str, &str) {{
    let i = s.find('=').unwrap();
    (&s[..i], &s[i + 1..])
}}
'''),
    # An add overflow.
    ('''\
/// The average of `a` and `b`, rounded down.
pub fn average_{k}(a: u8, b: u8) -> u8 {{
    ((u16::from(a) + u16::from(b)) / 2) as u8
}}
''', '''\
/// The average of `a` and `b`, rounded down.
pub fn average_{k}(a: u8, b: u8) -> u8 {{
    (a + b) / 2
}}
'''),
    # A correct refactor.
    ('''\
/// Whether `year` is a leap year of the Gregorian calendar.
pub fn is_leap_{k}(year: i32) -> bool {{
    if year % 400 == 0 {{
        true
    }} else if year % 100 == 0 {{
        false
    }} else {{
        year % 4 == 0
    }}
}}
''', '''\
/// Whether `year` is a leap year of the Gregorian calendar.
pub fn is_leap_{k}(year: i32) -> bool {{
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}}
'''),
    # A slice out of range on a short input.
    ('''\
/// The byte the first two hex digits of `s` spell.
pub fn hex_byte_{k}(s: &str) -> Option<u8> {{
    let digits = s.get(..2)?;
    u8::from_str_radix(digits, 16).ok()
}}
''', '''\
/// The byte the first two hex digits of `s` spell.
pub fn hex_byte_{k}(s: &str) -> Option<u8> {{
    u8::from_str_radix(&s[..2], 16).ok()
}}
'''),
    # A panic on a zero window.
    ('''\
/// The sums of every window of `w` elements of `xs`.
pub fn window_sums_{k}(xs: &[i16], w: usize) -> Vec<i64> {{
    if w == 0 {{
        return Vec::new();
    }}
    xs.windows(w).map(|s| s.iter().map(|&x| i64::from(x)).sum()).collect()
}}
''', '''\
/// The sums of every window of `w` elements of `xs`.
pub fn window_sums_{k}(xs: &[i16], w: usize) -> Vec<i64> {{
    xs.windows(w).map(|s| s.iter().map(|&x| i64::from(x)).sum()).collect()
}}
'''),
    # A correct refactor.
    ('''\
/// `s` with its first character upper-cased.
pub fn capitalize_{k}(s: &str) -> String {{
    let mut out = String::new();
    let mut chars = s.chars();
    if let Some(c) = chars.next() {{
        out.extend(c.to_uppercase());
    }}
    out.push_str(chars.as_str());
    out
}}
''', '''\
/// `s` with its first character upper-cased.
pub fn capitalize_{k}(s: &str) -> String {{
    let mut chars = s.chars();
    match chars.next() {{
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }}
}}
'''),
    # A correct refactor.
    ('''\
/// The greatest common divisor of `a` and `b`.
pub fn gcd_{k}(a: u64, b: u64) -> u64 {{
    if b == 0 {{
        a
    }} else {{
        gcd_{k}(b, a % b)
    }}
}}
''', '''\
/// The greatest common divisor of `a` and `b`.
pub fn gcd_{k}(a: u64, b: u64) -> u64 {{
    let (mut a, mut b) = (a, b);
    while b != 0 {{
        (a, b) = (b, a % b);
    }}
    a
}}
'''),
    # A subtract overflow.
    ('''\
/// The distance between `a` and `b`.
pub fn distance_{k}(a: i32, b: i32) -> u32 {{
    a.abs_diff(b)
}}
''', '''\
/// The distance between `a` and `b`.
pub fn distance_{k}(a: i32, b: i32) -> u32 {{
    (a - b).unsigned_abs()
}}
'''),
    # Capacity overflow or an allocation past the memory limit.
    ('''\
/// `s` repeated `n` times, at most {c}0 times.
pub fn repeat_{k}(s: &str, n: usize) -> String {{
    s.repeat(n.min({c}0))
}}
''', '''\
/// `s` repeated `n` times, at most {c}0 times.
pub fn repeat_{k}(s: &str, n: usize) -> String {{
    s.repeat(n)
}}
'''),
    # A correct refactor.
    ('''\
/// How many of `xs` are above `limit`.
pub fn count_above_{k}(xs: &[i32], limit: i32) -> usize {{
    let mut n = 0;
    for &x in xs {{
        if x > limit {{
            n += 1;
        }}
    }}
    n
}}
''', '''\
/// How many of `xs` are above `limit`.
pub fn count_above_{k}(xs: &[i32], limit: i32) -> usize {{
    xs.iter().filter(|&&x| x > limit).count()
}}
'''),
    # A multiply overflow.
    ('''\
/// `bytes` in kibibytes, rounded up.
pub fn kib_{k}(bytes: u64) -> u64 {{
    bytes.div_ceil(1024)
}}
''', '''\
/// `bytes` in kibibytes, rounded up.
pub fn kib_{k}(bytes: u64) -> u64 {{
    (bytes + 1023) / 1024
}}
'''),
    # A correct refactor.
    ('''\
/// `s` without the ASCII spaces at its ends.
pub fn trim_spaces_{k}(s: &str) -> &str {{
    let start = s.len() - s.trim_start_matches(' ').len();
    let end = s.trim_end_matches(' ').len();
    if start >= end {{ "" }} else {{ &s[start..end] }}
}}
''', '''\
/// `s` without the ASCII spaces at its ends.
pub fn trim_spaces_{k}(s: &str) -> &str {{
    s.trim_matches(' ')
}}
'''),
]

CONSTANTS = [100, 7, 3]


def functions(n):
    """The first `n` (before, after) pairs: every template's first variant, then the second…"""
    out = []
    for v, c in enumerate(CONSTANTS):
        for before, after in TEMPLATES:
            out.append((before.format(k=v, c=c), after.format(k=v, c=c)))
    return out[:n]


def log(msg):
    print(msg, flush=True)


def die(msg):
    sys.exit(f"budget: {msg}")


def sh(args, cwd):
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True)


def make_repo(dir_, n):
    """A crate with `n` functions in a git repository: before, then the change."""
    shutil.rmtree(dir_, ignore_errors=True)
    os.makedirs(os.path.join(dir_, "src"))
    with open(os.path.join(dir_, "Cargo.toml"), "w") as f:
        f.write(f'[package]\nname = "budget{n}"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n\n[workspace]\n')
    with open(os.path.join(dir_, ".gitignore"), "w") as f:
        f.write("/target\n/report.json\n")
    pairs = functions(n)
    lib = os.path.join(dir_, "src", "lib.rs")
    header = "//! Small functions, as a change touches them.\n\n"
    with open(lib, "w") as f:
        f.write(header + "\n".join(b for b, _ in pairs))
    sh(["git", "init", "-q", "-b", "main"], dir_)
    sh(["git", "add", "-A"], dir_)
    sh(["git", *GIT_ID, "commit", "-q", "-m", "before"], dir_)
    with open(lib, "w") as f:
        f.write(header + "\n".join(a for _, a in pairs))
    sh(["git", "add", "-A"], dir_)
    sh(["git", *GIT_ID, "commit", "-q", "-m", "the change"], dir_)


def run_tool(a, cwd, budget):
    """One run; returns (report or None, exit code, stderr, wall seconds)."""
    out = os.path.join(cwd, "report.json")
    try:
        os.remove(out)
    except OSError:
        pass
    args = [a.bin, "edgecheck", "--base", "HEAD~1", "--budget", budget, "--format", "json",
            "--output", out, "--target-dir", a.target_dir]
    if a.jobs:
        args += ["--jobs", str(a.jobs)]
    t0 = time.monotonic()
    p = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)
    wall = time.monotonic() - t0
    try:
        report = json.load(open(out))
    except (OSError, ValueError):
        report = None
    return report, p.returncode, p.stderr, wall


def build_end_s(report):
    t = report["timing"]
    if "build_end_ms" in t:
        return t["build_end_ms"] / 1000.0
    # A report from before the timeline: the run stage's start, roughly.
    return (t["total_ms"] - t["run_ms"]) / 1000.0


def limit_of(budget_s):
    return budget_s + min(0.05 * budget_s, 1.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "cargo-edgecheck"),
                    help="the tool (default: target/release/cargo-edgecheck of this project)")
    ap.add_argument("--sizes", default="1,10,60", help="changed functions per crate (default 1,10,60; at most 60)")
    ap.add_argument("--budgets", default="5,20", help="budgets in seconds (default 5,20)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per cell; the worst is shown (default 1)")
    ap.add_argument("--jobs", type=int, help="--jobs for the tool (default: the tool's, every core)")
    ap.add_argument("--scratch", help="where crates and build caches go (default: a new temp dir, removed at the end)")
    a = ap.parse_args()
    a.bin = os.path.abspath(a.bin)
    if not os.access(a.bin, os.X_OK):
        die(f"no executable at {a.bin}: build it first with `cargo build --release` in {ROOT}")
    sizes = [int(s) for s in a.sizes.split(",") if s.strip()]
    budgets = [float(b) for b in a.budgets.split(",") if b.strip()]
    if any(n < 1 or n > len(TEMPLATES) * len(CONSTANTS) for n in sizes):
        die(f"sizes go from 1 to {len(TEMPLATES) * len(CONSTANTS)}")
    temp = a.scratch is None
    scratch = os.path.abspath(a.scratch) if a.scratch else tempfile.mkdtemp(prefix="edgecheck-budget-")
    os.makedirs(scratch, exist_ok=True)
    built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(a.bin)))
    snapshot = os.path.join(scratch, "cargo-edgecheck.snapshot")
    shutil.copy2(a.bin, snapshot)
    source_bin, a.bin = a.bin, snapshot
    a.target_dir = os.path.join(scratch, "target")
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    rev = f"{rev}{', uncommitted changes' if dirty else ''}" if rev else "?"
    log(f"budget: tool {source_bin} (built {built}; project HEAD {rev}), {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.2f}, scratch {scratch}")
    rows, failures = [], 0
    try:
        for n in sizes:
            repo = os.path.join(scratch, f"crate-{n}")
            make_repo(repo, n)
            t0 = time.monotonic()
            report, rc, err, _ = run_tool(a, repo, "1s")
            if report is None:
                die(f"the warm-up run on {n} function(s) wrote no report (exit {rc}):\n{err[-2000:]}")
            log(f"   {n} function(s): harness built in {time.monotonic() - t0:.0f}s "
                f"(build {report['timing']['build_ms'] / 1000:.1f}s)")
            for b in budgets:
                worst = None
                for _ in range(a.repeat):
                    report, rc, err, wall = run_tool(a, repo, f"{b:g}s")
                    if report is None:
                        log(f"   {n} function(s), {b:g}s: no report (exit {rc}): {err.strip()[-500:]}")
                        failures += 1
                        continue
                    after = wall - build_end_s(report)
                    if worst is None or after > worst[0]:
                        worst = (after, wall, report)
                if worst is None:
                    continue
                after, wall, report = worst
                fns = [f for f in report["functions"] if f.get("caller_of") is None]
                fuzzed = sum(1 for f in fns if f["status"] == "tested")
                cut = sum(1 for f in fns if f.get("not_fuzzed"))
                limit = limit_of(b)
                ok = after <= limit
                failures += 0 if ok else 1
                t = report["timing"]
                rows.append((n, b, after, limit, ok, len(report["findings"]), fuzzed, len(fns), cut,
                             wall, t["build_ms"] / 1000.0))
                log(f"   {n} function(s), {b:g}s: post-build {after:.2f}s (limit {limit:.2f}s, "
                    f"wall {wall:.2f}s, build {t['build_ms'] / 1000:.1f}s)")
    finally:
        if temp:
            shutil.rmtree(scratch, ignore_errors=True)
    log("")
    log("| functions | budget | post-build wall | limit | | findings | functions fuzzed |")
    log("|---:|---:|---:|---:|:---|---:|:---|")
    for n, b, after, limit, ok, found, fuzzed, total, cut, _wall, _build in rows:
        note = f" ({cut} with engines left out)" if cut else ""
        log(f"| {n} | {b:g} s | {after:.2f} s | {limit:.2f} s | {'ok' if ok else 'OVER'} | {found} "
            f"| {fuzzed} of {total}{note} |")
    log("")
    log(f"budget: {len(rows)} cells, {failures} over the limit or failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
