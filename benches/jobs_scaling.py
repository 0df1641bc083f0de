#!/usr/bin/env python3
"""Benchmark of `--jobs N` on one machine: libFuzzer executions per second with 1 and 2 jobs.

What it measures: for a one-function crate (parse_header) and a three-function crate
(truncate, percent, sum_even), all correct functions, it runs

    cargo-edgecheck edgecheck --function F… --engines libfuzzer --budget Ns -j J --format json

for J = 1 and J = 2, with the kept corpus emptied before each run, and reads the executions
from the JSON report (the sum of `functions[].engines.libfuzzer`, libFuzzer's
`stat::number_of_executed_units` per process) and the fuzzing wall time (`timing.run_ms`). It
prints, per crate and J, exec/s = executions / N (the budget) and executions / run_ms (the
time the engines actually ran), and the ratio of 2 jobs to 1 job for each. With one function,
`-j 2` runs two libFuzzer processes on it (different seeds); with three, it runs the three
functions two at a time. The ideal ratio on two idle cores is 2.

A first, short run per crate builds the harness (its time is not measured: the budget counts
engine time only). For each run it prints how much CPU the rest of the machine took meanwhile
(`others`: the machine's busy time from /proc/stat less the CPU time of this run's processes,
in cores), and the 1-minute load average before it: on a loaded machine (other builds running)
the second core is partly taken and the ratio drops. `--repeat 2` runs each pair twice, in
alternating order, and prints the median.

How to run it (from the project root; about (2 x 2 x repeat) x N seconds plus the builds):

    cargo build --release
    benches/jobs_scaling.py                      # N = 20 s, one round
    benches/jobs_scaling.py --seconds 30 --repeat 2
    benches/jobs_scaling.py --scratch /tmp/ec-jobs   # keep the build cache between runs

The tool is copied into the scratch directory first and the copy is what runs, so a rebuild of
target/release during the benchmark cannot mix two versions. The tool's `--target-dir` lives
under the scratch directory.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

PARSE_HEADER = '''\
/// Parses a record header: the magic `EDGC`, then a little-endian u16 payload length.
pub fn parse_header(data: &[u8]) -> Option<u16> {
    let rest = data.strip_prefix(b"EDGC")?;
    let len = rest.get(..2)?;
    Some(u16::from_le_bytes([len[0], len[1]]))
}
'''

TRUNCATE = '''\
/// Returns at most `max` bytes of `s`, cut on a character boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
'''

PERCENT = '''\
/// `part` as a whole percentage of `total` (0 when `total` is 0), saturating at `u32::MAX`.
pub fn percent(part: u32, total: u32) -> u32 {
    if total == 0 {
        return 0;
    }
    match part.checked_mul(100) {
        Some(p) => p / total,
        None => (u64::from(part) * 100 / u64::from(total)).min(u64::from(u32::MAX)) as u32,
    }
}
'''

SUM_EVEN = '''\
/// Sum of the even numbers of `xs`.
pub fn sum_even(xs: &[i32]) -> i64 {
    xs.iter().filter(|x| **x % 2 == 0).map(|&x| i64::from(x)).sum()
}
'''

CRATES = [
    {"name": "one", "functions": ["parse_header"], "source": PARSE_HEADER},
    {"name": "three", "functions": ["truncate", "percent", "sum_even"],
     "source": "\n".join([TRUNCATE, PERCENT, SUM_EVEN])},
]

GIT_ID = ["-c", "user.name=Bench", "-c", "user.email=bench@example.invalid", "-c", "commit.gpgsign=false"]


def log(msg):
    print(msg, flush=True)


def die(msg):
    sys.exit(f"jobs_scaling: {msg}")


def sh(args, cwd):
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True)


def load():
    return os.getloadavg()[0]


def cpu_marks():
    """(machine busy seconds, this process's reaped children's CPU seconds, wall seconds)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    ticks = os.sysconf("SC_CLK_TCK")
    # user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    v = [int(x) for x in fields[:8]]
    busy = (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / ticks
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return busy, ru.ru_utime + ru.ru_stime, time.monotonic()


def others_cores(before, after):
    """Cores the rest of the machine kept busy between two marks."""
    busy, ours, wall = (b - a for a, b in zip(before, after))
    return max(0.0, busy - ours) / wall if wall > 0 else float("nan")


def write_crate(dir_, crate, lib_rs):
    shutil.rmtree(dir_, ignore_errors=True)
    os.makedirs(os.path.join(dir_, "src"))
    with open(os.path.join(dir_, "Cargo.toml"), "w") as f:
        f.write(f'[package]\nname = "{crate}"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n\n[workspace]\n')
    with open(os.path.join(dir_, ".gitignore"), "w") as f:
        f.write("/target\n")
    with open(os.path.join(dir_, "src", "lib.rs"), "w") as f:
        f.write(lib_rs)
    sh(["git", "init", "-q", "-b", "main"], dir_)
    sh(["git", "add", "-A"], dir_)
    sh(["git", *GIT_ID, "commit", "-q", "-m", crate], dir_)


def run_tool(a, crate, crate_dir, target_dir, seconds, jobs):
    """One run; returns (executions, run_ms, report)."""
    # The kept corpus would give a later run a head start.
    shutil.rmtree(os.path.join(target_dir, "edgecheck", "corpus"), ignore_errors=True)
    out = os.path.join(crate_dir, "report.json")
    try:
        os.remove(out)
    except OSError:
        pass
    args = [a.bin, "edgecheck", "--engines", "libfuzzer", "--budget", f"{seconds}s", "-j", str(jobs),
            "--target-dir", target_dir, "--format", "json", "--output", out, "-q"]
    for f in crate["functions"]:
        args += ["--function", f]
    p = subprocess.run(args, cwd=crate_dir, capture_output=True, text=True, timeout=seconds * 4 + 1800)
    try:
        report = json.load(open(out))
    except (OSError, ValueError):
        die(f"{crate['name']} -j {jobs}: no report (exit {p.returncode}): {p.stderr.strip()[-2000:]}")
    if p.returncode not in (0, 1):
        die(f"{crate['name']} -j {jobs}: exit {p.returncode}: {p.stderr.strip()[-2000:]}")
    execs = 0
    for fn in report.get("functions", []):
        if fn.get("status") != "tested":
            die(f"{crate['name']}: {fn.get('function')} was not tested: {fn.get('reason')}")
        n = (fn.get("engines") or {}).get("libfuzzer")
        if n is None:
            die(f"{crate['name']}: no libfuzzer count for {fn.get('function')}")
        execs += n
    if report.get("findings"):
        log(f"   note: {len(report['findings'])} finding(s) on correct functions: "
            + "; ".join(f"{x.get('kind')} {x.get('input')}" for x in report["findings"][:3]))
    run_ms = (report.get("timing") or {}).get("run_ms") or 0
    return execs, run_ms, report


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "cargo-edgecheck"),
                    help="the tool (default target/release/cargo-edgecheck)")
    ap.add_argument("--seconds", type=int, default=20, help="budget of each measured run (default 20)")
    ap.add_argument("--repeat", type=int, default=1, help="rounds of 1-job and 2-job runs (default 1)")
    ap.add_argument("--scratch", help="where crates and build caches go (default: a new temp dir, removed at the end)")
    ap.add_argument("--only", choices=[c["name"] for c in CRATES], help="only this crate")
    a = ap.parse_args()
    if not os.path.isfile(a.bin):
        die(f"{a.bin} does not exist: run `cargo build --release` first, or pass --bin")
    temp = a.scratch is None
    scratch = os.path.abspath(a.scratch) if a.scratch else tempfile.mkdtemp(prefix="edgecheck-jobs-")
    os.makedirs(scratch, exist_ok=True)
    snapshot = os.path.join(scratch, "cargo-edgecheck.snapshot")
    shutil.copy2(a.bin, snapshot)
    a.bin = snapshot
    target_dir = os.path.join(scratch, "tool-target")
    log(f"jobs_scaling: {os.cpu_count()} cores, budget {a.seconds} s per run, {a.repeat} round(s), "
        f"load {load():.2f}, scratch {scratch}")
    results = []
    try:
        for crate in CRATES:
            if a.only and crate["name"] != a.only:
                continue
            name = crate["name"]
            crate_dir = os.path.join(scratch, "crates", name)
            write_crate(crate_dir, f"jobs_{name}", crate["source"])
            t0 = time.monotonic()
            run_tool(a, crate, crate_dir, target_dir, 2, 2)
            log(f"== {name}: {', '.join(crate['functions'])} (build and warm-up {time.monotonic() - t0:.0f} s)")
            per = {1: [], 2: []}
            for r in range(a.repeat):
                order = (1, 2) if r % 2 == 0 else (2, 1)
                for j in order:
                    before = load()
                    m0 = cpu_marks()
                    execs, run_ms, _ = run_tool(a, crate, crate_dir, target_dir, a.seconds, j)
                    others = others_cores(m0, cpu_marks())
                    by_budget = execs / a.seconds
                    by_run = execs / (run_ms / 1000) if run_ms else float("nan")
                    per[j].append((by_budget, by_run))
                    log(f"   -j {j}: {execs} execs, run {run_ms / 1000:.1f} s: {by_budget:,.0f} exec/s per budget "
                        f"second, {by_run:,.0f} exec/s per run second (others {others:.2f} cores, load before {before:.2f})")
            m = {j: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for j, v in per.items()}
            ratio_budget = m[2][0] / m[1][0] if m[1][0] else float("nan")
            ratio_run = m[2][1] / m[1][1] if m[1][1] else float("nan")
            results.append((name, m, ratio_budget, ratio_run))
        log("")
        log(f"   {'crate':6} {'-j 1 exec/s':>12} {'-j 2 exec/s':>12} {'ratio':>6}   "
            f"{'-j 1 /run s':>12} {'-j 2 /run s':>12} {'ratio':>6}")
        for name, m, rb, rr in results:
            log(f"   {name:6} {m[1][0]:12,.0f} {m[2][0]:12,.0f} {rb:6.2f}   {m[1][1]:12,.0f} {m[2][1]:12,.0f} {rr:6.2f}")
        log(f"   (median of {a.repeat} round(s); load at the end {load():.2f})")
    finally:
        if temp:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
