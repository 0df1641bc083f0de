#!/usr/bin/env python3
"""Robustness sweep of cargo-edgecheck: the tool on three functions of each of the 50
most-downloaded crates, with no hand-written code, counting what it tests, what it skips and
where it fails.

What it measures: whether the tool copes with real crates it was never tuned for. For every
crate of benches/sweep-crates.toml (the 50 most-downloaded crates on crates.io, all-time, a list
written from memory) it

1. resolves the latest non-yanked, non-pre-release version from the crates.io sparse index
   (https://index.crates.io/<prefix>/<name>, one JSON object per line with `vers`, `yanked`,
   `cksum`), downloads https://static.crates.io/crates/<name>/<name>-<version>.crate, checks
   its sha256 against `cksum` and keeps it under `--cache`;
2. unpacks it into `<work>/<name>/<name>-<version>` (`.cargo_vcs_info.json` and
   `Cargo.toml.orig` left out), appends an empty `[workspace]` table to Cargo.toml when it has
   none (so the crate stands alone), and makes it a git repository with one commit (fixed
   identity and dates, GIT_CONFIG_GLOBAL=/dev/null; Cargo.lock and target/ excluded);
3. runs `cargo build --lib` on it, with one CARGO_TARGET_DIR under the cache dir for all
   crates. A crate that does not build is reported as such, never as a tool failure;
4. chooses three functions by a rule (below) and runs, once per crate,
       cargo-edgecheck edgecheck --manifest-path <crate>/Cargo.toml --function P1 --function P2
           --function P3 --budget 2s --format json --output <report> --target-dir <shared>
           --color never
   with one `--target-dir` under the cache dir for all crates (proptest, libFuzzer and
   shared dependencies are built once), in its own process group, killed after
   `--run-timeout` (default 900 s);
5. classifies the run: OK = exit 0 or 1 with a report that parses (schema
   `edgecheck-report/1`); TOOL FAILURE = a panic of the tool ("panicked at" on stderr or exit
   101), exit 2 on a crate that builds, a missing or invalid report, a timeout, a signal.

The selection rule: if `<binary> edgecheck list --help` succeeds, the script runs
    <binary> edgecheck list --all --format json --manifest-path <crate>/Cargo.toml
(every function of the library, methods included, without building; schema
`edgecheck-list/1`), and the candidates are its entries with `"public": true`, whatever their
`status` (a function the listing already calls `skipped` is still run, so the run's reason is
what gets counted). Each candidate is the entry's `function` string exactly as printed
(`itoa::Buffer::format`, `memchr::memmem::FinderRev::rfind`; a path printed twice, e.g. under two
cfgs, counts once); they are ordered by the sha256 of that string, which is deterministic and
unrelated to the code, the first three are taken, and each is passed as `--function <string>`.
A crate whose listing has no public entry is not run (outcome NO CANDIDATES, with how many
functions the listing gave); a listing that fails or does not parse is a tool failure. Only
when the tool has no `list` subcommand (an older binary) does the script find the candidates
itself: every line of `src/**/*.rs` that starts, at column 0 (top level of the file: not inside
an `impl` or an inline `mod`), with `pub fn NAME` (optional generics) and has at least one
parameter; files under a `tests`, `benches`, `examples` or `bin` directory and `src/main.rs`
are left out; the module path comes from the file path (src/lib.rs -> `crate`, src/a/b.rs ->
`crate::a::b`, src/a/mod.rs -> `crate::a`), and these paths (written `crate::…`) are ordered
and taken the same way. Only `candidates()` knows which of the two sources is used. A
`--function` that matches nothing does not stop the run: the report lists it as skipped, and
it counts as a skip.

Output: one line per crate (name, version, build ok, tool exit, tested/skipped counts, seconds;
for a failure the last meaningful lines of the tool's stderr; "N via callers" counts functions
the report lists as tested only through the public functions that call them), then
    sweep: C crates, F functions (T tested, S skipped), X tool failures, B crates that do not build
and the skip reasons grouped by frequency (normalised as in benches/reach.py: backticked spans
become `_`, numbers `N`), which show what the tool cannot test yet, every skip whose reason
says the generated harness or entry point does not compile (the tool's own bugs), and the tool
failures grouped by a coarse cause read from stderr. Report entries with `caller_of` (callers the tool
added) are not counted. The exit status is 1 when there is a tool failure. `--summary FILE` writes all
of it as JSON, with the raw reasons and every run's command.

How to run it (from the project root; a first full sweep took 20 minutes on two cores, mostly
harness builds, and a second one 2-3 minutes, reusing them):

    cargo build --release
    benches/sweep.py                                    # all 50 crates, budget 2s per run
    benches/sweep.py --only memchr --only itoa --keep   # two crates, work dirs kept
    benches/sweep.py --binary path/to/cargo-edgecheck --summary /tmp/sweep.json
    benches/sweep.py --work /tmp/sweep-work --cache /tmp/sweep-cache --jobs 2

The binary is copied into the cache dir first and the copy is what runs, so a rebuild of
target/release during the sweep cannot mix two versions. Downloads, the build target dir and
the tool's target dir live under `--cache` (default ~/.cache/cargo-edgecheck-bench); the
unpacked crates, reports and stderr logs live under `--work` (default `<cache>/work`; the paths
are stable, so the tool's caches stay valid between runs) and are removed after each crate
unless `--keep`. The generated harness of a crate is under `<cache>/tool-target/edgecheck/`.
Network use: the sparse index, the crate download host, and cargo's own downloads only.
"""
import argparse
import collections
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import tomllib

import crates_io

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

FUNCTIONS_PER_CRATE = 3
SKIPPED_DIRS = {"tests", "benches", "examples", "bin"}
USER_AGENT = "cargo-edgecheck-sweep"

GIT_ENV = crates_io.git_identity("Sweep")

_print_lock = threading.Lock()


def log(msg=""):
    with _print_lock:
        print(msg, flush=True)


def die(msg):
    sys.exit(f"sweep: {msg}")


class SweepError(Exception):
    """A crate could not be prepared (index, download, unpack): not the tool's fault. The
    shared steps raise crates_io.CratesIoError, which counts the same."""


# ---------------------------------------------------------------------------------------------
# 1. Versions and downloads.

def latest_version(cache, name):
    """(version, cksum) of the highest non-yanked, non-pre-release version. The index entry is
    cached; the cached copy is used only when the index cannot be read."""
    cached = os.path.join(cache, "index", crates_io.index_path(name))
    try:
        text = crates_io.read_index(name, user_agent=USER_AGENT)
        os.makedirs(os.path.dirname(cached), exist_ok=True)
        with open(cached, "w") as f:
            f.write(text)
    except (crates_io.CratesIoError, OSError) as e:
        if not os.path.exists(cached):
            raise SweepError(str(e))
        text = open(cached).read()
    releases = [entry for entry in crates_io.index_entries(text) if crates_io.is_release(entry)]
    if not releases:
        raise SweepError(f"{name}: no non-yanked release version in the index")
    best = max(releases, key=lambda entry: crates_io.version_key(entry["vers"]))
    return best["vers"], best["cksum"]


def download(cache, name, version, cksum):
    """Path of the verified .crate file, downloaded once."""
    return crates_io.fetch_crate(cache, name, version, cksum, timeout=300, user_agent=USER_AGENT)


# ---------------------------------------------------------------------------------------------
# 2. A stand-alone one-commit repository.

def run(args, cwd=None, env=None, timeout=None):
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          errors="replace", timeout=timeout)


def prepare(crate_file, name, version, crate_root):
    """Unpacks the .crate into `<crate_root>/<name>-<version>`, fresh, and makes it a
    stand-alone one-commit repository (Cargo.lock and target/ excluded); returns that dir."""
    if os.path.exists(crate_root):
        shutil.rmtree(crate_root)
    top = f"{name}-{version}"
    crate = os.path.join(crate_root, top)
    crates_io.unpack(crate_file, top, crate)
    crates_io.stand_alone(os.path.join(crate, "Cargo.toml"))
    crates_io.init_repo(crate, GIT_ENV, exclude=["/Cargo.lock", "/target/"])
    crates_io.commit_all(crate, f"{name} {version}", GIT_ENV)
    return crate


# ---------------------------------------------------------------------------------------------
# 3. Does the crate build on its own?

def build_lib(crate, target_dir, log_path, timeout):
    """(ok, last lines of the error). One CARGO_TARGET_DIR for every crate."""
    env = dict(os.environ, CARGO_TARGET_DIR=target_dir, CARGO_TERM_COLOR="never")
    try:
        p = run(["cargo", "build", "--lib", "--manifest-path", os.path.join(crate, "Cargo.toml")],
                env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"cargo build --lib took more than {timeout}s"
    with open(log_path, "w") as f:
        f.write(p.stderr)
    if p.returncode == 0:
        return True, None
    return False, tail(p.stderr, 6)


# ---------------------------------------------------------------------------------------------
# 4. The functions, by rule.

def tool_has_list(binary):
    try:
        return run([binary, "edgecheck", "list", "--help"], timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def candidates(binary, crate, use_list):
    """(source, candidate paths, listed count): the functions the rule may choose from, sorted
    (not yet in the rule's order). `use_list`: the tool has a `list` subcommand. The listed
    count is how many entries `list` printed (None for the scan)."""
    if use_list:
        paths, listed = listed_functions(binary, crate)
        return "list", paths, listed
    return "scan", scanned_functions(crate), None


class ListError(Exception):
    """`edgecheck list` failed or printed something that is not its JSON: a tool failure."""


def listed_functions(binary, crate):
    """(the `function` strings of the entries with `public: true`, deduplicated and sorted,
    number of entries listed)."""
    cmd = [binary, "edgecheck", "list", "--all", "--format", "json",
           "--manifest-path", os.path.join(crate, "Cargo.toml")]
    try:
        p = run(cmd, timeout=600)
    except subprocess.TimeoutExpired:
        raise ListError("`edgecheck list` took more than 600s")
    if p.returncode != 0 or "panicked at" in p.stderr:
        raise ListError(f"`edgecheck list` failed (exit {p.returncode}): {tail(p.stderr, 4)}")
    try:
        listing = json.loads(p.stdout)
        entries = listing["functions"]
        if listing.get("schema") != "edgecheck-list/1" or not isinstance(entries, list):
            raise ValueError(f"unexpected schema {listing.get('schema')!r}")
        paths = {f["function"] for f in entries if f.get("public") is True}
    except (ValueError, KeyError, TypeError) as e:
        raise ListError(f"`edgecheck list` printed no valid listing ({e}): {p.stdout[:200]!r}")
    return sorted(paths), len(entries)


PUB_FN = re.compile(r"^pub\s+fn\s+((?:r#)?[A-Za-z_][A-Za-z0-9_]*)")


def has_parameter(text, pos):
    """`pos` is just after a function's name: skips generics, expects `(`, and tells whether
    a parameter follows before `)`. None when this is not a function signature."""
    i, n = pos, len(text)
    while i < n and text[i].isspace():
        i += 1
    if i < n and text[i] == "<":
        depth = 0
        while i < n:
            c = text[i]
            if c == "-" and text[i + 1:i + 2] == ">":
                i += 2
                continue
            if c == "<":
                depth += 1
            elif c == ">":
                depth -= 1
                if depth == 0:
                    i += 1
                    break
            i += 1
        while i < n and text[i].isspace():
            i += 1
    if i >= n or text[i] != "(":
        return None
    i += 1
    while i < n:
        if text[i].isspace():
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i)
            i = n if j < 0 else j + 2
        else:
            return text[i] != ")"
    return None


def module_path(rel):
    """src/lib.rs -> crate, src/a/b.rs -> crate::a::b, src/a/mod.rs -> crate::a."""
    parts = rel.split("/")[1:]
    parts[-1] = parts[-1][:-3]
    if parts[-1] == "mod" or parts == ["lib"]:
        parts.pop()
    return "::".join(["crate"] + parts)


def scanned_functions(crate):
    out = set()
    src = os.path.join(crate, "src")
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        for fn in sorted(filenames):
            if not fn.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, fn), crate).replace(os.sep, "/")
            if rel == "src/main.rs":
                continue
            text = open(os.path.join(dirpath, fn), errors="replace").read()
            mod = module_path(rel)
            offset = 0
            for line in text.splitlines(keepends=True):
                m = PUB_FN.match(line)
                if m and has_parameter(text, offset + m.end()):
                    name = m.group(1)
                    out.add(f"{mod}::{name[2:] if name.startswith('r#') else name}")
                offset += len(line)
    return sorted(out)


def choose(paths, k=FUNCTIONS_PER_CRATE):
    return sorted(paths, key=lambda p: hashlib.sha256(p.encode()).hexdigest())[:k]


# ---------------------------------------------------------------------------------------------
# 5. The tool.

NOISE = re.compile(r"^\s*(Compiling|Checking|Downloaded|Downloading|Updating|Locking|Adding|"
                   r"Finished|Building|Blocking|Fresh|Running)\b|__sanitizer_|^\s*$")


def tail(text, lines=8):
    """The last `lines` meaningful lines: progress redraws (\\r), cargo's status lines and
    blank lines left out."""
    kept = []
    for line in text.splitlines():
        line = line.rsplit("\r", 1)[-1].rstrip()
        if NOISE.search(line):
            continue
        kept.append(line)
    return "\n".join(kept[-lines:])


def run_tool(args, crate, functions, report_path, err_path):
    """(status or None on timeout, stderr text, seconds, command)."""
    cmd = [args.tool, "edgecheck", "--manifest-path", os.path.join(crate, "Cargo.toml")]
    for f in functions:
        cmd += ["--function", f]
    cmd += ["--budget", args.budget, "--format", "json", "--output", report_path,
            "--target-dir", args.tool_target, "--color", "never"]
    if args.tool_jobs:
        cmd += ["--jobs", str(args.tool_jobs)]
    if os.path.exists(report_path):
        os.remove(report_path)
    status, secs = crates_io.run_in_own_group(cmd, crate, err_path, args.run_timeout,
                                              stdin=subprocess.DEVNULL)
    return status, open(err_path, errors="replace").read(), secs, cmd


def classify(status, stderr, report_path, builds, run_timeout):
    """(report or None, failure reason or None)."""
    report, bad_report = None, None
    try:
        report = json.load(open(report_path))
        if report.get("schema") != "edgecheck-report/1" or not isinstance(report.get("functions"), list):
            bad_report, report = f"unexpected report schema {report.get('schema')!r}", None
    except FileNotFoundError:
        bad_report = "no report file"
    except (OSError, ValueError) as e:
        bad_report = f"report does not parse ({e})"
    if status is None:
        return report, f"timeout: killed after {run_timeout}s"
    if "panicked at" in stderr or status == 101:
        return report, f"the tool panicked (exit {status})"
    if status < 0:
        return report, f"killed by signal {-status}"
    if status == 2:
        return report, "exit 2 on a crate that builds" if builds else None
    if status not in (0, 1):
        return report, f"unexpected exit status {status}"
    if bad_report:
        return None, f"exit {status}, {bad_report}"
    return report, None


CAUSES = [
    (re.compile(r"no function matches"), "a --function path was not accepted"),
    (re.compile(r"panicked at"), "the tool panicked"),
    (re.compile(r"has no source file"), "a module's source file was not found"),
    (re.compile(r"does not build|could not compile|error\[E\d+\]"), "a build failed"),
]


def failure_cause(rec):
    """A coarse root-cause label of a tool failure, from its reason and stderr, to group the
    failures in the output; the stderr tail under each crate's line gives the detail."""
    if rec["failure"].startswith("timeout"):
        return "timeout"
    text = rec.get("stderr_full", "")
    for pattern, label in CAUSES:
        if pattern.search(text):
            return label
    return rec["failure"]


GENERATED_DOES_NOT_COMPILE = re.compile(r"the generated (harness|entry point) does not compile")


def normalise_reason(reason):
    """Groups similar skip reasons (as benches/reach.py does)."""
    first = reason.strip().splitlines()[0] if reason and reason.strip() else "(no reason given)"
    first = re.sub(r"`[^`]*`", "`_`", first)
    first = re.sub(r"(field `_` of `_`: )+", "field `_` of `_`: ", first)
    first = re.sub(r"\b\d+\b", "N", first)
    first = re.sub(r"\s+", " ", first).strip()
    return first[:200]


# ---------------------------------------------------------------------------------------------
# One crate, start to end.

def sweep_crate(args, name):
    rec = {"crate": name, "version": None, "builds": None, "exit": None, "tested": 0,
           "skipped": 0, "through_callers": 0, "findings": 0, "functions": [], "chosen": [], "seconds": 0.0}
    started = time.monotonic()
    work = os.path.join(args.work, name)
    try:
        version, cksum = latest_version(args.cache, name)
        rec["version"] = version
        crate_file = download(args.cache, name, version, cksum)
        crate = prepare(crate_file, name, version, os.path.join(work, "src"))
        rec["dir"] = crate
        rec["builds"], rec["build_error"] = build_lib(
            crate, args.build_target, os.path.join(work, "build.stderr"), args.run_timeout)
        try:
            source, cands, listed = candidates(args.tool, crate, args.use_list)
        except ListError as e:
            rec.update({"selection": "list", "outcome": "TOOL FAILURE", "failure": str(e),
                        "cause": "`edgecheck list` failed", "stderr_tail": "", "stderr_full": ""})
            return rec
        rec["selection"] = source
        rec["listed"] = listed
        rec["candidates"] = len(cands)
        rec["chosen"] = choose(cands)
        if not rec["chosen"]:
            rec["outcome"] = "NO CANDIDATES"
            rec["note"] = (f"`edgecheck list --all` listed {listed} functions, none public"
                           if source == "list" else
                           "no public function with a parameter at the top level of a file")
            return rec
        report_path = os.path.join(work, "report.json")
        status, stderr, secs, cmd = run_tool(args, crate, rec["chosen"], report_path,
                                             os.path.join(work, "tool.stderr"))
        rec.update({"exit": status, "tool_seconds": round(secs, 1), "command": cmd})
        report, failure = classify(status, stderr, report_path, rec["builds"], args.run_timeout)
        if report:
            fns = [f for f in report["functions"] if not f.get("caller_of")]
            rec["functions"] = [{"function": f.get("function"), "status": f.get("status"),
                                 "reason": f.get("reason"),
                                 "tested_through": f.get("tested_through")} for f in fns]
            rec["tested"] = sum(1 for f in fns if f.get("status") == "tested")
            # "tested" with `tested_through`: the tool could not call it directly and reached it
            # through the public functions that call it.
            rec["through_callers"] = sum(1 for f in fns if f.get("status") == "tested"
                                         and f.get("tested_through"))
            rec["skipped"] = sum(1 for f in fns if f.get("status") != "tested")
            rec["findings"] = len(report.get("findings") or [])
            rec["timing"] = report.get("timing")
        if failure:
            rec["outcome"] = "TOOL FAILURE"
            rec["failure"] = failure
            rec["stderr_tail"] = tail(stderr, 8)
            rec["stderr_full"] = stderr[-20000:]
            rec["cause"] = failure_cause(rec)
        elif not rec["builds"]:
            rec["outcome"] = "NO BUILD"
            rec["stderr_tail"] = tail(stderr, 3)
        else:
            rec["outcome"] = "OK"
        return rec
    except (SweepError, crates_io.CratesIoError) as e:
        rec["outcome"] = "NOT PREPARED"
        rec["note"] = str(e)
        return rec
    finally:
        rec["seconds"] = round(time.monotonic() - started, 1)
        if not args.keep and os.path.exists(work):
            shutil.rmtree(work, ignore_errors=True)


def crate_line(r):
    b = {True: "yes", False: "NO", None: "-"}[r["builds"]]
    if r["outcome"] == "TOOL FAILURE" and r["exit"] is None:
        ex = "timeout"
    else:
        ex = "-" if r["exit"] is None else r["exit"]
    line = (f"{r['crate']:<18} {r['version'] or '-':<10} build={b:<3} exit={str(ex):<7} "
            f"tested={r['tested']}{'(' + str(r['through_callers']) + ' via callers)' if r['through_callers'] else ''} "
            f"skipped={r['skipped']} findings={r['findings']:<3} "
            f"{r['seconds']:>6.0f}s  {r['outcome']}")
    extra = []
    if r["outcome"] == "TOOL FAILURE":
        extra.append(f"reason: {r['failure']}")
        extra += (r.get("stderr_tail") or "").splitlines()
    elif r["outcome"] == "NO BUILD":
        extra += (r.get("build_error") or "").splitlines()[-3:]
    elif r.get("note"):
        extra.append(r["note"])
    return "\n".join([line] + [f"    | {x}" for x in extra])


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--crates-file", default=os.path.join(HERE, "sweep-crates.toml"),
                    help="TOML file with `crates = [...]` (default benches/sweep-crates.toml)")
    ap.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="sweep only this crate (repeatable, or comma separated)")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "cargo-edgecheck"),
                    help="the cargo-edgecheck binary (default target/release/cargo-edgecheck)")
    ap.add_argument("--budget", default="2s", help="the tool's --budget per crate (default 2s)")
    ap.add_argument("--jobs", type=int, default=1,
                    help="crates swept at once (default 1; they share the target dirs)")
    ap.add_argument("--tool-jobs", type=int, help="the tool's --jobs (default: the tool's own)")
    ap.add_argument("--run-timeout", type=int, default=900,
                    help="seconds one tool run (or one cargo build) may take (default 900)")
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/cargo-edgecheck-bench"),
                    help="downloads and target dirs (default ~/.cache/cargo-edgecheck-bench)")
    ap.add_argument("--work", help="unpacked crates, reports, logs (default <cache>/work)")
    ap.add_argument("--keep", action="store_true",
                    help="keep each crate's work dir (sources, report.json, tool.stderr)")
    ap.add_argument("--summary", metavar="FILE", help="write the results as JSON to FILE")
    ap.add_argument("--top", type=int, default=20, help="skip reasons to print (default 20)")
    args = ap.parse_args()
    args.cache = os.path.abspath(args.cache)
    args.work = os.path.abspath(args.work or os.path.join(args.cache, "work"))
    if os.path.commonpath([args.work, ROOT]) == ROOT:
        die(f"--work {args.work} is inside the project; choose a directory outside it")
    args.only = [n.strip() for o in args.only for n in o.split(",") if n.strip()]
    return args


def main():
    args = parse_args()
    with open(args.crates_file, "rb") as f:
        crates = tomllib.load(f).get("crates", [])
    if args.only:
        unknown = [n for n in args.only if n not in crates]
        crates = [c for c in crates if c in args.only] + unknown
    if not crates:
        die("no crates to sweep")
    if not os.access(args.binary, os.X_OK):
        die(f"no executable at {args.binary}; run `cargo build --release` or pass --binary")
    for d in (args.cache, args.work):
        os.makedirs(d, exist_ok=True)
    args.tool = os.path.join(args.cache, "cargo-edgecheck")
    shutil.copy2(args.binary, args.tool)
    bin_sha = crates_io.sha256_file(args.tool)
    args.build_target = os.path.join(args.cache, "build-target")
    args.tool_target = os.path.join(args.cache, "tool-target")
    args.use_list = tool_has_list(args.tool)
    log(f"sweep of {args.binary} (sha256 {bin_sha[:12]}), {len(crates)} crates, budget "
        f"{args.budget}, selection: {'`edgecheck list`' if args.use_list else 'source scan'}")

    started = time.monotonic()
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(sweep_crate, args, name): name for name in crates}
        for fut in concurrent.futures.as_completed(futures):
            r = fut.result()
            results[r["crate"]] = r
            log(crate_line(r))
    records = [results[c] for c in crates]

    ran = [r for r in records if r["outcome"] in ("OK", "TOOL FAILURE", "NO BUILD")]
    failures = [r for r in records if r["outcome"] == "TOOL FAILURE"]
    no_build = [r for r in records if r["builds"] is False]
    tested = sum(r["tested"] for r in records)
    skipped = sum(r["skipped"] for r in records)
    reasons, examples = collections.Counter(), {}
    for r in records:
        for f in r["functions"]:
            if f["status"] != "tested":
                key = normalise_reason(f["reason"])
                reasons[key] += 1
                examples.setdefault(key, f"{f['function']}: {(f['reason'] or '').strip()[:300]}")

    log()
    through = sum(r["through_callers"] for r in records)
    summary_line = (f"sweep: {len(records)} crates, {tested + skipped} functions ({tested} tested, "
                    f"{skipped} skipped), {len(failures)} tool failures, {len(no_build)} crates "
                    f"that do not build")
    log(summary_line)
    if through:
        log(f"       ({through} of the tested functions only through their callers)")
    others = [r for r in records if r not in ran]
    if others:
        log(f"       ({len(others)} crates not run: "
            + ", ".join(f"{r['crate']} ({r['outcome'].lower()})" for r in others) + ")")
    log(f"       {time.monotonic() - started:.0f}s in all")
    if reasons:
        log()
        log(f"Skip reasons ({skipped} skipped functions):")
        for key, n in reasons.most_common(args.top):
            log(f"  {n:>4}  {key}")
            log(f"        e.g. {examples[key][:240]}")
    # A skip whose reason says the generated code does not compile is the tool's own bug.
    bugs = [(r["crate"], f["function"], (f["reason"] or "").strip())
            for r in records for f in r["functions"]
            if f["status"] != "tested" and GENERATED_DOES_NOT_COMPILE.search(f["reason"] or "")]
    if bugs:
        log()
        log(f"Skips where the generated code does not compile ({len(bugs)}; tool bugs):")
        for crate, fn, reason in bugs:
            log(f"        {crate}: {fn}: {reason.splitlines()[0][:300]}")
    if failures:
        log()
        log(f"Tool failures ({len(failures)}), by cause:")
        by_cause = collections.defaultdict(list)
        for r in failures:
            by_cause[r["cause"]].append(r)
        for cause, rs in sorted(by_cause.items(), key=lambda kv: -len(kv[1])):
            log(f"  {len(rs):>4}  {cause}")
            for r in rs:
                log(f"        {r['crate']} {r['version']}: {r['failure']}  [{', '.join(r['chosen'])}]")

    if args.summary:
        out = {
            "binary": os.path.abspath(args.binary), "binary_sha256": bin_sha,
            "budget": args.budget, "selection": "list" if args.use_list else "scan",
            "summary": summary_line,
            "crates": len(records), "functions": tested + skipped, "tested": tested,
            "skipped": skipped, "through_callers": through, "tool_failures": len(failures), "do_not_build": len(no_build),
            "skip_reasons": [{"reason": k, "count": n, "example": examples[k]}
                             for k, n in reasons.most_common()],
            "generated_code_does_not_compile": [
                {"crate": c, "function": fn, "reason": reason} for c, fn, reason in bugs],
            "results": records,
        }
        with open(args.summary, "w") as f:
            json.dump(out, f, indent=2)
        log(f"summary written to {args.summary}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
