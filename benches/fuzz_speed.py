#!/usr/bin/env python3
"""Benchmark of cargo-edgecheck's engines: fuzzing speed, time to first finding, build times.

What it measures, in one run:

1. Executions per second of the generated libFuzzer target against a hand-written
   `fuzz_target!` for the same function, built the same way. For each of four corpus-like,
   correct functions (truncate, percent, parse_header, sum_even) it makes a one-file crate and
   runs
       cargo-edgecheck edgecheck --function F --engines libfuzzer --budget Ns -j 1 --format json
   (`-j 1`: one libFuzzer process, like the hand-written target; the kept corpus is emptied
   first) and reads `functions[0].engines.libfuzzer` (libFuzzer's
   `stat::number_of_executed_units`). Then it builds a hand-written target in a crate of its
   own (libfuzzer-sys 0.4 + arbitrary 1, a path dependency on the same crate, the
   `[profile.release]` tables of harness-templates/Cargo.toml, `cargo build --release --target
   <host>` with RUSTFLAGS = the FUZZ_RUSTFLAGS parsed from src/build.rs plus the flags
   src/build.rs adds to every harness build) and runs it for N seconds on an empty corpus with
   `-print_final_stats=1`. The two fuzzers of a pair run back to back, never at the same time.
   exec/s = executed units / N for both. It prints the ratio generated/hand-written per
   function and its geometric mean, and beside them how many inline 8-bit coverage counters
   each binary has (libFuzzer scans and clears all of them after every input, so a target
   with much more instrumented code pays for it on every execution).

2. Time to first finding per engine: cases 01-truncate-utf8, 07-backoff and 21-magic-header of
   ../shared/bench/cases become git repositories (one commit for before.rs, one for after.rs,
   as run-corpus does) and the tool runs with `--base HEAD~1 --budget 15s --engines E` for E in
   edge, proptest, libfuzzer, one engine per run (all cores, the tool's default). It prints the
   `elapsed_ms` of the first introduced finding of an expected kind, or "none", and the run's
   `timing.build_ms` with whether that build was a first build of the workspace or a cached one.

3. Build times with the default engines (edge,proptest,libfuzzer) on a two-commit repository
   (`--base HEAD~1 --budget 5s`), with a machine cache (CARGO_EDGECHECK_CACHE_DIR) of the run's
   own: first a hand-written `cargo fuzz build -s none` of a `fuzz_target!` for the same
   function in a fresh target dir (the yardstick), then the tool's `timing.build_ms` for
     - cold: an empty machine cache (proptest, libfuzzer-sys and libFuzzer's C++ compiled);
     - cold, machine cache: another crate (a copy of the repository at another path, which
       the tool sees as another workspace with a harness crate of its own) on a machine that
       built a harness before: the cache's shared target dir and libFuzzer archive kept;
     - the same with `--target-dir` (the user's own target dir, empty: every dependency is
       compiled, but libFuzzer's C++ comes from the cache);
     - warm: a no-op line added inside the function's body, committed, run again.
   Each is printed beside its ratio to the cargo-fuzz figure. The cargo registry is not cleared.

How to run it (from the project root; it takes a few minutes):

    cargo build --release
    benches/fuzz_speed.py                          # all three parts, N = 20 s
    benches/fuzz_speed.py --seconds 10 --only truncate
    benches/fuzz_speed.py --scratch /tmp/ec-bench  # keep build caches between runs
    benches/fuzz_speed.py --parts 1                # only the exec/s comparison

The tool is copied into the scratch directory first and the copy is what runs, so a rebuild of
target/release during the benchmark cannot mix two versions. Build caches (the tool's `--target-dir` and the hand-written targets' target dir) live under
the scratch directory; with `--scratch` they survive, so a second run of the benchmark only
rebuilds the benchmark crates. The figures are noisy on a loaded machine: compare the ratio,
which both targets of a pair see under the same load, rather than absolute exec/s.
"""
import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_CASES = os.path.normpath(os.path.join(ROOT, "..", "shared", "bench", "cases"))

# ---------------------------------------------------------------------------------------------
# The functions of part 1: correct, corpus-like. `hand` is the body of the hand-written
# fuzz_target! (the closure's parameter and its call), as a cargo-fuzz user would write it.

FUNCTIONS = [
    {
        "name": "truncate",
        "source": '''\
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
''',
        "hand": "|input: (String, usize)| {\n    let _ = CRATE::truncate(&input.0, input.1);\n}",
    },
    {
        "name": "percent",
        "source": '''\
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
''',
        "hand": "|input: (u32, u32)| {\n    let _ = CRATE::percent(input.0, input.1);\n}",
    },
    {
        "name": "parse_header",
        "source": '''\
/// Parses a record header: the magic `EDGC`, then a little-endian u16 payload length.
pub fn parse_header(data: &[u8]) -> Option<u16> {
    let rest = data.strip_prefix(b"EDGC")?;
    let len = rest.get(..2)?;
    Some(u16::from_le_bytes([len[0], len[1]]))
}
''',
        "hand": "|data: &[u8]| {\n    let _ = CRATE::parse_header(data);\n}",
    },
    {
        "name": "sum_even",
        "source": '''\
/// Sum of the even numbers of `xs`.
pub fn sum_even(xs: &[i32]) -> i64 {
    xs.iter().filter(|x| **x % 2 == 0).map(|&x| i64::from(x)).sum()
}
''',
        "hand": "|xs: Vec<i32>| {\n    let _ = CRATE::sum_even(&xs);\n}",
    },
]

FINDING_CASES = ["01-truncate-utf8", "07-backoff", "21-magic-header"]
ENGINES = ["edge", "proptest", "libfuzzer"]
GIT_ID = ["-c", "user.name=Bench", "-c", "user.email=bench@example.invalid", "-c", "commit.gpgsign=false"]


def log(msg):
    print(msg, flush=True)


def die(msg):
    sys.exit(f"fuzz_speed: {msg}")


def sh(args, cwd, **kw):
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True, **kw)


# ---------------------------------------------------------------------------------------------
# The build settings, read from the tool's sources so they cannot drift.

def fuzz_rustflags():
    """RUSTFLAGS of the tool's libFuzzer build: FUZZ_RUSTFLAGS from src/build.rs, plus what
    build() adds to every harness build (the edgecheck cfg, its check-cfg, --cap-lints)."""
    path = os.path.join(ROOT, "src", "build.rs")
    try:
        text = open(path).read()
    except OSError as e:
        die(f"cannot read {path}: {e}")
    m = re.search(r"const\s+FUZZ_RUSTFLAGS\s*:\s*&\[&str\]\s*=\s*&\[(.*?)\];", text, re.S)
    if not m:
        die(f"no `const FUZZ_RUSTFLAGS: &[&str] = &[...]` in {path}")
    fuzz = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))
    cfg = re.search(r'const\s+EDGECHECK_CFG\s*:\s*&str\s*=\s*"([^"]*)"', text)
    common = None
    for lit in re.findall(r'"((?:[^"\\]|\\.)*)"', text):
        if "--cap-lints" in lit:
            common = lit.replace("{EDGECHECK_CFG}", cfg.group(1) if cfg else "edgecheck").split()
            break
    if common is None:
        log(f"warning: no --cap-lints flags found in {path}; using the known ones")
        common = ["--cfg", "edgecheck", "--check-cfg=cfg(edgecheck)", "--cap-lints=warn"]
    user = os.environ.get("RUSTFLAGS", "").split()
    return user + common + fuzz


def release_profile():
    """The `[profile.release]` table of harness-templates/Cargo.toml and its per-package
    overrides (`[profile.release.package.…]`), verbatim."""
    path = os.path.join(ROOT, "harness-templates", "Cargo.toml")
    lines, inside = [], False
    for line in open(path).read().splitlines():
        if line.strip().startswith("["):
            inside = line.strip().startswith("[profile.release")
        if inside:
            lines.append(line)
    if not lines:
        die(f"no [profile.release] in {path}")
    return "\n".join(lines) + "\n"


def host_triple():
    out = sh([os.environ.get("RUSTC", "rustc"), "-vV"], None).stdout
    for line in out.splitlines():
        if line.startswith("host:"):
            return line.split(":", 1)[1].strip()
    die("rustc -vV printed no host line")


def cargo_env(rustflags):
    env = dict(os.environ)
    for k in ("CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", "CARGO_TARGET_DIR", "RUSTFLAGS"):
        env.pop(k, None)
    if rustflags is not None:
        env["RUSTFLAGS"] = " ".join(rustflags)
    return env


# ---------------------------------------------------------------------------------------------
# Crates and repositories.

def write_crate(dir_, crate, lib_rs):
    shutil.rmtree(dir_, ignore_errors=True)
    os.makedirs(os.path.join(dir_, "src"))
    with open(os.path.join(dir_, "Cargo.toml"), "w") as f:
        f.write(f'[package]\nname = "{crate}"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n\n[workspace]\n')
    with open(os.path.join(dir_, ".gitignore"), "w") as f:
        f.write("/target\n")
    with open(os.path.join(dir_, "src", "lib.rs"), "w") as f:
        f.write(lib_rs)


def git_commit_all(dir_, message, init=False):
    if init:
        sh(["git", "init", "-q", "-b", "main"], dir_)
    sh(["git", "add", "-A"], dir_)
    sh(["git", *GIT_ID, "commit", "-q", "-m", message], dir_)


def run_tool(a, cwd, args, timeout, env=None):
    """Runs the tool with a JSON report; returns (report or None, exit code, stderr, wall s)."""
    out = os.path.join(cwd, "report.json")
    try:
        os.remove(out)
    except OSError:
        pass
    t0 = time.monotonic()
    try:
        p = subprocess.run([a.bin, "edgecheck", *args, "--format", "json", "--output", out],
                           cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
        rc, err = p.returncode, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, err = "timeout", (e.stderr or b"").decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
    wall = time.monotonic() - t0
    try:
        report = json.load(open(out))
    except (OSError, ValueError):
        report = None
    return report, rc, err, wall


def last_lines(text, n=3):
    lines = [l for l in (text or "").strip().splitlines() if l.strip()]
    return " | ".join(lines[-n:])


# ---------------------------------------------------------------------------------------------
# Part 1: generated vs hand-written exec/s.

def hand_crate(dir_, name, crate, crate_dir, body, profile):
    shutil.rmtree(dir_, ignore_errors=True)
    os.makedirs(os.path.join(dir_, "src"))
    pkg = f"hand-{name.replace('_', '-')}"
    with open(os.path.join(dir_, "Cargo.toml"), "w") as f:
        f.write(f'''[package]
name = "{pkg}"
version = "0.0.0"
edition = "2021"
publish = false

[[bin]]
name = "{pkg}"
path = "src/main.rs"

[dependencies]
libfuzzer-sys = "0.4"
arbitrary = "1"
{crate} = {{ path = "{crate_dir}" }}

[workspace]

# Copied from harness-templates/Cargo.toml.
{profile}''')
    with open(os.path.join(dir_, "src", "main.rs"), "w") as f:
        f.write("#![no_main]\n\nlibfuzzer_sys::fuzz_target!(" + body.replace("CRATE", crate) + ");\n")
    return pkg


def build_hand(dir_, pkg, target_dir, host, rustflags):
    p = subprocess.run(["cargo", "build", "--release", "--target", host, "--target-dir", target_dir],
                       cwd=dir_, env=cargo_env(rustflags), capture_output=True, text=True)
    if p.returncode != 0:
        die(f"building the hand-written target in {dir_} failed:\n{p.stderr[-3000:]}")
    return os.path.join(target_dir, host, "release", pkg)


def run_hand(binary, corpus, seconds):
    shutil.rmtree(corpus, ignore_errors=True)
    os.makedirs(corpus)
    p = subprocess.run([binary, corpus, f"-max_total_time={seconds}", "-print_final_stats=1",
                        "-timeout=3", "-rss_limit_mb=2560"],
                       capture_output=True, text=True, timeout=seconds + 120)
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", p.stderr)
    if not m:
        die(f"no stat::number_of_executed_units from {binary} (exit {p.returncode}): {last_lines(p.stderr, 5)}")
    return int(m.group(1)), p.returncode, counters(p.stderr)


def counters(stderr):
    """How many inline 8-bit counters libFuzzer found: the size of the instrumented code, which
    libFuzzer scans and clears after every input."""
    m = re.search(r"\((\d+) inline 8-bit counters\)", stderr or "")
    return int(m.group(1)) if m else None


def tool_fuzzer_stderr(tool_target, since):
    """The libFuzzer output of the tool's last run (best effort: the newest `*.run.stderr` under
    the tool's scratch dir written after `since`)."""
    best = None
    root = os.path.join(tool_target, "edgecheck")
    for dirpath, _, files in os.walk(root):
        if os.sep + "target" in dirpath[len(root):] or "corpus" in dirpath[len(root):]:
            continue
        for f in files:
            if f.endswith(".run.stderr"):
                path = os.path.join(dirpath, f)
                try:
                    mtime = os.path.getmtime(path)
                except OSError:
                    continue
                if mtime >= since and (best is None or mtime > best[0]):
                    best = (mtime, path)
    if best is None:
        return ""
    try:
        return open(best[1], errors="replace").read()
    except OSError:
        return ""


def part1(a, scratch, host, rustflags, profile):
    fns = [f for f in FUNCTIONS if not a.only or a.only in f["name"]]
    if not fns:
        log("part 1: no function matches --only; skipped")
        return None
    N = a.seconds
    log(f"== 1. exec/s: generated libFuzzer target vs hand-written fuzz_target!, {N} s each ==")
    log(f"   RUSTFLAGS (from src/build.rs): {' '.join(rustflags)}")
    tool_target = os.path.join(scratch, "tool-target")
    hand_target = os.path.join(scratch, "hand-target")
    rows = []
    for fn in fns:
        name = fn["name"]
        crate = f"bench_{name}"
        crate_dir = os.path.join(scratch, "crates", name)
        write_crate(crate_dir, crate, fn["source"])
        git_commit_all(crate_dir, f"{name}", init=True)
        # The hand-written target first (built, not run), so the pair's runs follow each other.
        hdir = os.path.join(scratch, "hand", name)
        pkg = hand_crate(hdir, name, crate, crate_dir, fn["hand"], profile)
        t0 = time.monotonic()
        hbin = build_hand(hdir, pkg, hand_target, host, rustflags)
        hbuild = time.monotonic() - t0
        # The tool's kept corpus would give later runs of this benchmark a head start.
        shutil.rmtree(os.path.join(tool_target, "edgecheck", "corpus"), ignore_errors=True)
        started = time.time()
        report, rc, err, wall = run_tool(a, crate_dir, ["--function", name, "--engines", "libfuzzer",
                                                        "--budget", f"{N}s", "-j", "1",
                                                        "--target-dir", tool_target], timeout=N + 1800)
        gen_execs = None
        if report is None or rc not in (0, 1):
            log(f"   {name}: the tool failed (exit {rc}): {last_lines(err)}")
        else:
            f0 = (report.get("functions") or [{}])[0]
            gen_execs = (f0.get("engines") or {}).get("libfuzzer")
            if f0.get("status") != "tested" or gen_execs is None:
                log(f"   {name}: no libfuzzer exec count (status {f0.get('status')}, reason {f0.get('reason')})")
                gen_execs = None
            n_find = len(report.get("findings", []))
            if n_find:
                log(f"   {name}: note: the tool reported {n_find} finding(s) on a correct function: "
                    + "; ".join(f"{x.get('kind')} {x.get('input')} {x.get('message')}" for x in report["findings"][:3]))
        hand_execs, hrc, hand_ctr = run_hand(hbin, os.path.join(scratch, "hand-corpus", name), N)
        gen_ctr = counters(tool_fuzzer_stderr(tool_target, started))
        build_ms = (report or {}).get("timing", {}).get("build_ms")
        log(f"   {name}: generated {gen_execs} execs (tool build {build_ms} ms, wall {wall:.1f} s), "
            f"hand-written {hand_execs} execs (build {hbuild:.1f} s, exit {hrc})")
        rows.append((name, gen_execs, hand_execs, gen_ctr, hand_ctr))
    log("")
    log("   (counters: libFuzzer's inline 8-bit counters, i.e. how much code is instrumented;"
        " libFuzzer scans and clears all of them after every input)")
    log(f"   {'function':14} {'generated exec/s':>17} {'hand-written exec/s':>20} {'ratio':>7}"
        f"   {'counters gen/hand':>17}")
    ratios = []
    for name, g, h, gc, hc in rows:
        gs = g / N if g is not None else None
        hs = h / N
        ratio = gs / hs if gs is not None and hs > 0 else None
        if ratio:
            ratios.append(ratio)
        ctr = f"{gc if gc is not None else '?'}/{hc if hc is not None else '?'}"
        log(f"   {name:14} {gs if gs is not None else float('nan'):17.0f} {hs:20.0f} "
            f"{ratio if ratio is not None else float('nan'):7.2f}   {ctr:>17}")
    geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios)) if ratios else None
    if geo is not None:
        log(f"   geometric mean ratio: {geo:.2f}")
    log("")
    return geo, len(ratios)


# ---------------------------------------------------------------------------------------------
# Part 2: time to first finding per engine.

def load_case(case_dir):
    text = open(os.path.join(case_dir, "case.toml")).read()
    try:
        import tomllib
        return tomllib.loads(text)
    except ImportError:
        meta = {}
        for key in ("message",):
            m = re.search(rf'^{key}\s*=\s*"(.*)"\s*$', text, re.M)
            meta[key] = m.group(1) if m else "change"
        for key in ("expect", "functions"):
            m = re.search(rf"^{key}\s*=\s*\[(.*)\]\s*$", text, re.M)
            meta[key] = re.findall(r'"([^"]*)"', m.group(1)) if m else []
        return meta


def make_case_repo(case_dir, name, dest):
    meta = load_case(case_dir)
    crate = "case_" + "".join(c if c.isalnum() else "_" for c in name.lower())
    write_crate(dest, crate, open(os.path.join(case_dir, "before.rs")).read())
    # run-corpus writes no [workspace] table; the repo is not inside another workspace either way.
    git_commit_all(dest, "Initial version", init=True)
    shutil.copy(os.path.join(case_dir, "after.rs"), os.path.join(dest, "src", "lib.rs"))
    git_commit_all(dest, meta["message"])
    return meta


def first_finding(report, meta):
    hits = [f for f in report.get("findings", []) if f.get("introduced")
            and (meta["expect"] == ["none"] or f.get("kind") in meta["expect"])]
    hits = [f for f in hits if f.get("elapsed_ms") is not None]
    return min(hits, key=lambda f: f["elapsed_ms"]) if hits else None


def part2(a, scratch, host):
    cases = [c for c in FINDING_CASES if not a.only or a.only in c]
    if not cases:
        log("part 2: no case matches --only; skipped")
        return
    B = a.find_seconds
    log(f"== 2. time to first finding, --base HEAD~1 --budget {B}s, one engine per run (all cores) ==")
    tool_target = os.path.join(scratch, "tool-target")
    table = []
    for name in cases:
        case_dir = os.path.join(a.cases, name)
        if not os.path.isfile(os.path.join(case_dir, "case.toml")):
            log(f"   {name}: no such case in {a.cases}; skipped")
            continue
        repo = os.path.join(scratch, "cases", name)
        meta = make_case_repo(case_dir, name, repo)
        seen_flavours = set()
        for engine in ENGINES:
            flavour = "fuzz" if engine == "libfuzzer" else "plain"
            # Where cargo keeps this flavour's dependencies: the libFuzzer build is for --target <host>.
            deps_dir = os.path.join(tool_target, "edgecheck", "target", *([host] if flavour == "fuzz" else []), "release", "deps")
            deps = "deps built before" if os.path.isdir(deps_dir) else "deps cold"
            build_kind = (f"same {flavour} harness as before" if flavour in seen_flavours
                          else f"first {flavour} build of this repo, {deps}")
            seen_flavours.add(flavour)
            shutil.rmtree(os.path.join(tool_target, "edgecheck", "corpus"), ignore_errors=True)
            report, rc, err, wall = run_tool(a, repo, ["--base", "HEAD~1", "--budget", f"{B}s",
                                                       "--engines", engine, "--target-dir", tool_target],
                                             timeout=B + 1800)
            if report is None or rc not in (0, 1):
                log(f"   {name} {engine}: the tool failed (exit {rc}): {last_lines(err)}")
                table.append((name, engine, None, None, None, build_kind, wall))
                continue
            hit = first_finding(report, meta)
            build_ms = report.get("timing", {}).get("build_ms")
            table.append((name, engine, hit, build_ms, report.get("timing", {}).get("run_ms"), build_kind, wall))
            log(f"   {name} {engine}: " + (f"{hit['kind']} after {hit['elapsed_ms']} ms: {hit.get('input')}"
                                           if hit else "none") + f" (build {build_ms} ms, {build_kind}; wall {wall:.1f} s)")
    log("")
    log(f"   {'case':18} {'engine':10} {'first finding':>14} {'kind':10} {'build_ms':>9}  build")
    for name, engine, hit, build_ms, run_ms, kind, wall in table:
        first = f"{hit['elapsed_ms']} ms" if hit else "none"
        log(f"   {name:18} {engine:10} {first:>14} {(hit or {}).get('kind', '-'):10} "
            f"{build_ms if build_ms is not None else '-':>9}  {kind}")
    log("")


# ---------------------------------------------------------------------------------------------
# Part 3: cold and warm build times.

def hand_cargo_fuzz(repo, crate, target_dir):
    """Times a hand-written `cargo fuzz build -s none` of truncate in `repo` (a fuzz/ dir as
    `cargo fuzz init` writes it, with part 1's target body), cold in `target_dir`.
    Returns wall seconds, or None when cargo-fuzz is missing or the build fails."""
    if shutil.which("cargo-fuzz") is None:
        log("   hand-written cargo fuzz build: cargo-fuzz is not installed (cargo install cargo-fuzz); skipped")
        return None
    fuzz = os.path.join(repo, "fuzz")
    os.makedirs(os.path.join(fuzz, "fuzz_targets"), exist_ok=True)
    with open(os.path.join(fuzz, "Cargo.toml"), "w") as f:
        f.write(f'''[package]
name = "{crate}-fuzz"
version = "0.0.0"
publish = false
edition = "2021"

[package.metadata]
cargo-fuzz = true

[dependencies]
libfuzzer-sys = "0.4"
arbitrary = "1"

[dependencies.{crate}]
path = ".."

[[bin]]
name = "truncate"
path = "fuzz_targets/truncate.rs"
test = false
doc = false
bench = false

[workspace]
''')
    body = FUNCTIONS[0]["hand"].replace("CRATE", crate)
    with open(os.path.join(fuzz, "fuzz_targets", "truncate.rs"), "w") as f:
        f.write(f"#![no_main]\nuse libfuzzer_sys::fuzz_target;\n\nfuzz_target!({body});\n")
    env = cargo_env(None)
    env["CARGO_TARGET_DIR"] = target_dir
    t0 = time.monotonic()
    p = subprocess.run(["cargo", "fuzz", "build", "-s", "none", "truncate"], cwd=repo, env=env,
                       capture_output=True, text=True)
    wall = time.monotonic() - t0
    shutil.rmtree(fuzz, ignore_errors=True)
    if p.returncode != 0:
        log(f"   hand-written cargo fuzz build failed: {last_lines(p.stderr)}")
        return None
    return wall


def part3(a, scratch):
    if a.only and a.only not in "truncate":
        log("part 3: --only does not match `truncate`; skipped")
        return
    log("== 3. build times, default engines (edge,proptest,libfuzzer), --base HEAD~1 --budget 5s ==")
    case_dir = os.path.join(a.cases, "01-truncate-utf8")
    stamp = f"{os.getpid()}-{int(time.time())}"
    repo = os.path.join(scratch, "buildtime", "repo")
    make_case_repo(case_dir, "01-truncate-utf8", repo)
    crate = "case_01_truncate_utf8"
    # A machine cache of the run's own, empty at the start: "cold" is a machine that never
    # ran the tool. Without --target-dir the harness builds in the cache's shared target dir.
    cache = os.path.join(scratch, "buildtime", f"cache-{stamp}")
    explicit = os.path.join(scratch, "buildtime", f"target-{stamp}")
    hand_target = os.path.join(scratch, "buildtime", f"hand-target-{stamp}")
    results = []

    def fresh_workspace():
        # The workspace (copied sources, harness crate) lives in the crate's target dir.
        shutil.rmtree(os.path.join(repo, "target"), ignore_errors=True)

    def other_crate(name):
        # The same repository at another path is another workspace to the tool (its harness
        # crate is named after the workspace root), as a second crate on the machine is.
        other = os.path.join(scratch, "buildtime", name)
        shutil.rmtree(other, ignore_errors=True)
        shutil.copytree(repo, other, symlinks=True, ignore=shutil.ignore_patterns("target"))
        return other

    def measure(label, extra, env_cache, where=None):
        env = dict(os.environ, CARGO_EDGECHECK_CACHE_DIR=env_cache)
        report, rc, err, wall = run_tool(a, where or repo, ["--base", "HEAD~1", "--budget", "5s", *extra],
                                         timeout=3600, env=env)
        if report is None or rc not in (0, 1):
            log(f"   {label}: the tool failed (exit {rc}): {last_lines(err)}")
            results.append((label, None, wall))
            return
        t = report.get("timing", {})
        log(f"   {label}: build_ms {t.get('build_ms')}, run_ms {t.get('run_ms')}, total_ms {t.get('total_ms')}, "
            f"wall {wall:.1f} s, findings {len(report.get('findings', []))}")
        results.append((label, t.get("build_ms"), wall))

    try:
        hand = hand_cargo_fuzz(repo, crate, hand_target)
        shutil.rmtree(hand_target, ignore_errors=True)
        if hand is not None:
            log(f"   hand-written `cargo fuzz build -s none` (fresh target dir): {hand:.1f} s")
        fresh_workspace()
        measure("cold (empty cache)", [], cache)
        # A machine that built a harness before keeps the cache's shared target dir: another
        # crate there compiles only its own crates and its harness.
        measure("cold, machine cache (another crate)", [], cache, other_crate("repo-b"))
        measure("cold, machine cache, --target-dir", ["--target-dir", explicit], cache,
                other_crate("repo-c"))
        lib = os.path.join(repo, "src", "lib.rs")
        src = open(lib).read()
        m = re.search(r"pub fn truncate\([^)]*\)[^{]*\{\n", src)
        if not m:
            die("cannot find truncate's body in the case's after.rs")
        open(lib, "w").write(src[:m.end()] + "    let _ = ();\n" + src[m.end():])
        git_commit_all(repo, "Add a no-op line")
        measure("warm (one function body changed)", [], cache)
    finally:
        for d in (cache, explicit, hand_target):
            shutil.rmtree(d, ignore_errors=True)
    log("")
    log(f"   {'build':40} {'build_ms':>9} {'wall s':>7} {'/ cargo fuzz':>12}")
    if hand is not None:
        log(f"   {'hand-written cargo fuzz build -s none':40} {'-':>9} {hand:7.1f} {1.0:12.2f}")
    for label, ms, wall in results:
        ratio = f"{ms / 1000 / hand:.2f}" if ms is not None and hand else "-"
        log(f"   {label:40} {ms if ms is not None else '-':>9} {wall:7.1f} {ratio:>12}")
    log("")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "cargo-edgecheck"),
                    help="the tool (default: target/release/cargo-edgecheck of this project)")
    ap.add_argument("--seconds", type=int, default=20, help="fuzzing time of each target in part 1 (default 20)")
    ap.add_argument("--find-seconds", type=int, default=15, help="budget of each part-2 run (default 15)")
    ap.add_argument("--scratch", help="where crates and build caches go (default: a new temp dir, removed at the end)")
    ap.add_argument("--only", help="only the functions/cases whose name contains this")
    ap.add_argument("--parts", default="1,2,3", help="which parts to run, e.g. 1 or 1,3 (default 1,2,3)")
    ap.add_argument("--cases", default=DEFAULT_CASES, help=f"the corpus cases (default {DEFAULT_CASES})")
    a = ap.parse_args()
    a.bin = os.path.abspath(a.bin)
    if not os.access(a.bin, os.X_OK):
        die(f"no executable at {a.bin}: build it first with `cargo build --release` in {ROOT}")
    parts = {p.strip() for p in a.parts.split(",") if p.strip()}
    temp = a.scratch is None
    scratch = os.path.abspath(a.scratch) if a.scratch else tempfile.mkdtemp(prefix="edgecheck-bench-")
    os.makedirs(scratch, exist_ok=True)
    # A copy of the tool, so that a rebuild of target/release during the benchmark cannot mix
    # two versions in one run (the harness templates are compiled into the binary).
    built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(a.bin)))
    snapshot = os.path.join(scratch, "cargo-edgecheck.snapshot")
    shutil.copy2(a.bin, snapshot)
    source_bin, a.bin = a.bin, snapshot
    # Parts 1 and 2 keep their machine cache in the scratch dir too, never the user's.
    os.environ.setdefault("CARGO_EDGECHECK_CACHE_DIR", os.path.join(scratch, "machine-cache"))
    host = host_triple()
    rustflags = fuzz_rustflags()
    profile = release_profile()
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    rev = f"{rev}{', uncommitted changes' if dirty else ''}" if rev else "?"
    log(f"fuzz_speed: tool {source_bin} (built {built}; project HEAD {rev}), host {host}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.2f}, scratch {scratch}")
    log("")
    geo = None
    try:
        if "1" in parts:
            geo = part1(a, scratch, host, rustflags, profile)
        if "2" in parts:
            part2(a, scratch, host)
        if "3" in parts:
            part3(a, scratch)
    finally:
        if temp:
            shutil.rmtree(scratch, ignore_errors=True)
    if geo and geo[0] is not None:
        log(f"generated/hand-written exec/s: {geo[0]:.2f} (geomean over {geo[1]} functions)")
    elif "1" in parts:
        log("generated/hand-written exec/s: n/a (no function measured)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
