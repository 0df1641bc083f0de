#!/usr/bin/env python3
"""Benchmark of cargo-edgecheck on real crates: does it find published edge-case bugs?

What it measures: for each entry of benches/realworld.toml, a published crate version with a
known, published bug (a RustSec advisory or an issue of the crate's tracker: a panic on
malformed input, an arithmetic overflow, a hang, a huge allocation) in a function reachable
from its public API, whether the tool finds that bug with no help but the function's path, and
how long it takes. An entry is

- found: the report has a finding whose `kind` is one of the entry's `kinds` and whose
  `function` is the entry's function: the report's function of the same path, else those whose
  path ends with it (a re-export), else those with the same last segment (trait methods). Any
  `introduced` value counts: with `--function` and no base every finding is new;
- missed: the tool ran but reported no such finding (the function was skipped, with the
  report's reason, or was tested and nothing of the expected kind turned up in the budget);
- error: the tool failed (exit status 2, a signal, no JSON report, past `--run-timeout`).

How, for each entry:

1. The `.crate` file is downloaded from https://static.crates.io into `<cache>/crates/` (once)
   and its sha256 checked against the `cksum` of the crates.io sparse index
   (https://index.crates.io/<prefix>/<name>) every time it is used.
2. It is unpacked into a fresh `<cache>/work/<name>-<version>` (packaging artefacts
   `.cargo_vcs_info.json` and `Cargo.toml.orig` left out; an empty `[workspace]` table appended
   to Cargo.toml when it has no `workspace` table, so the crate stands alone), which becomes a
   git repository with one commit (fixed identity and date, no user or system git config).
3. The tool runs there:
       cargo-edgecheck edgecheck --function PATH --budget B --format json --output REPORT
           --target-dir <cache>/target --color never [--features F]
   Every run shares that target dir, so proptest, libFuzzer and common dependencies are
   compiled once; the fuzzing corpus the tool keeps there is removed before each run, so every
   entry starts cold. Report and standard error are kept in `<cache>/reports/`.

Output: one line per entry (found, with the finding's `elapsed_ms`; missed or error, with the
reason), then `realworld: N/M found (...)`. `--summary FILE` writes the same results as JSON.

How to run it (from the project root; a cold run compiles the crates and the harness
dependencies, so allow several minutes per entry on a small machine):

    cargo build --release
    benches/realworld.py                                  # every entry, --budget 60s
    benches/realworld.py --budget 30s --only regex,http   # a subset
    benches/realworld.py --binary /path/to/cargo-edgecheck --summary /tmp/realworld.json

The tool is copied into the cache directory first and the copy is what runs, so a rebuild of
target/release during the benchmark cannot mix two versions. Runs sharing a cache directory
wait for each other (a lock on `<cache>/lock`); use another `--cache` to run two at once. Work
directories are removed after each entry unless `--keep`. Network use: the sparse index and
static.crates.io only.
"""
import argparse
import fcntl
import json
import os
import shutil
import sys
import time
import tomllib

import crates_io

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

KINDS = {"panic", "overflow", "timeout", "oom", "crash", "divergence"}

GIT_ENV = crates_io.git_identity("Realworld")


def log(msg=""):
    print(msg, flush=True)


def die(msg):
    sys.exit(f"realworld: {msg}")


class EntryError(Exception):
    """An entry that cannot be prepared (download, checksum, unpacking, git). The shared steps
    raise crates_io.CratesIoError, which counts the same."""


# ---------------------------------------------------------------------------------------------
# The entries.

def load_entries(path):
    """The `[[crate]]` tables of the data file, checked for the keys the benchmark needs."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        die(f"cannot read {path}: {e}")
    entries = data.get("crate") or []
    for i, e in enumerate(entries):
        where = f"{path}: crate #{i + 1} ({e.get('name', '?')})"
        for key in ("name", "version", "function", "kinds", "url", "description"):
            if key not in e:
                die(f"{where}: no `{key}`")
        unknown = set(e["kinds"]) - KINDS
        if unknown:
            die(f"{where}: unknown kinds {sorted(unknown)}")
    return entries


def entry_id(e):
    return f"{e['name']}-{e['version']}"


def entry_result(e):
    """The fields of an entry every result repeats."""
    return {k: e[k] for k in ("name", "version", "function", "kinds")}


# ---------------------------------------------------------------------------------------------
# 1. Download and checksum.

def index_cksum(name, version):
    """The sha256 the sparse index records for name==version."""
    for entry in crates_io.index_entries(crates_io.read_index(name)):
        if entry.get("vers") == version:
            return entry["cksum"]
    raise EntryError(f"{name} {version} is not in the index ({crates_io.index_url(name)})")


def fetch_crate(cache, name, version):
    """Path of the verified `.crate` file of name==version, downloaded once into the cache."""
    return crates_io.fetch_crate(cache, name, version, index_cksum(name, version))


# ---------------------------------------------------------------------------------------------
# 2. A one-commit repository of the crate.

def make_repo(crate_file, e, dest):
    """The crate unpacked into a fresh `dest`, stand-alone, as a one-commit git repository."""
    crates_io.unpack(crate_file, entry_id(e), dest)
    crates_io.stand_alone(os.path.join(dest, "Cargo.toml"))
    crates_io.init_repo(dest, GIT_ENV)
    crates_io.commit_all(dest, f"{e['name']} {e['version']}", GIT_ENV)


# ---------------------------------------------------------------------------------------------
# 3. The tool, and the score.

def first_line(text):
    return (text or "").strip().split("\n", 1)[0]


def shorten(text, width=160):
    return text if len(text) <= width else text[:width - 1] + "…"


def tail(text, lines=3):
    kept = [line for line in (text or "").strip().splitlines() if line.strip()]
    return " | ".join(kept[-lines:])


def run_tool(args, e, repo, report_path, err_path):
    """Runs the tool on one entry; returns (exit status or None when killed, seconds)."""
    if os.path.exists(report_path):
        os.remove(report_path)
    # The tool keeps each function's fuzzing corpus for the next run: an earlier run of this
    # benchmark would give this one a head start.
    shutil.rmtree(os.path.join(args.cache, "target", "edgecheck", "corpus"), ignore_errors=True)
    cmd = [args.tool, "edgecheck", "--function", e["function"], "--budget", args.budget,
           "--format", "json", "--output", report_path,
           "--target-dir", os.path.join(args.cache, "target"), "--color", "never"]
    if e.get("features"):
        cmd += ["--features", ",".join(e["features"])]
    return crates_io.run_in_own_group(cmd, repo, err_path, args.run_timeout)


def segments(path):
    """The `::` segments of a path, outside angle brackets: `<A as From<T>>::from` has two."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(path):
        if c == "<":
            depth += 1
        elif c == ">":
            depth -= 1
        elif depth == 0 and path.startswith("::", i):
            parts.append(path[start:i])
            start = i + 2
    parts.append(path[start:])
    return [p.strip() for p in parts if p.strip()]


def target_functions(e, names):
    """Which of the report's function names are the entry's function: the one with the same
    path, else those whose path ends with it behind a module (a re-export: `json::parse` is
    `json::parser::parse`, but not the method `json::parser::Parser::parse`), else those with
    the same last segment (trait methods, which each tool spells its own way)."""
    crate = e["name"].replace("-", "_")

    def inner(path):
        segs = segments(path)
        return segs[1:] if len(segs) > 1 and segs[0] == crate else segs

    def reexported(path):
        segs = inner(path)
        before = segs[:-len(want)]
        # Types start with a capital letter; modules do not.
        return segs[-len(want):] == want and not (before and before[-1][:1].isupper())

    want = inner(e["function"])
    for same in (lambda n: inner(n) == want,
                 reexported,
                 lambda n: inner(n)[-1:] == want[-1:]):
        found = {n for n in names if same(n)}
        if found:
            return found
    return set()


def score(e, status, secs, report_path, err_path):
    """The result of one run: a dict with `result` found, missed or error and the details."""
    stderr = open(err_path, errors="replace").read() if os.path.exists(err_path) else ""
    res = dict(entry_result(e), status=status, seconds=round(secs, 1), report=report_path,
               stderr=err_path)
    if status is None or status < 0 or status == 2:
        why = "past --run-timeout" if status is None else (
            f"killed by signal {-status}" if status < 0 else "exit status 2")
        return dict(res, result="error", reason=f"{why}: {tail(stderr)}")
    try:
        with open(report_path) as f:
            report = json.load(f)
    except (OSError, ValueError) as err:
        return dict(res, result="error", reason=f"exit status {status}, no JSON report ({err}): "
                                                f"{tail(stderr)}")
    findings = report.get("findings") or []
    functions = report.get("functions") or []
    direct = {f.get("function") or "" for f in functions if not f.get("caller_of")}
    targets = target_functions(e, direct)
    # A function the tool cannot call directly is tested through its callers (`caller_of`).
    callers = {f.get("function") for f in functions if f.get("caller_of") in targets}
    hits = [f for f in findings
            if f.get("kind") in e["kinds"] and f.get("function") in targets | callers]
    others = [f for f in findings if f not in hits]
    res["others"] = [{k: f.get(k) for k in ("kind", "function", "message", "input")}
                     for f in others]
    res["timing"] = report.get("timing")
    res["selected"] = sorted(f.get("function") or "?" for f in functions)
    if hits:
        first = min(hits, key=lambda f: f.get("elapsed_ms") or 0)
        return dict(res, result="found", elapsed_ms=first.get("elapsed_ms"),
                    via=first.get("function") if first.get("function") in callers else None,
                    finding={k: first.get(k) for k in
                             ("kind", "engine", "message", "location", "input")})
    fns = [f for f in functions if f.get("function") in targets]
    if not fns:
        listed = ", ".join(f.get("function") or "?" for f in functions)
        reason = f"the report lists no such function (it lists: {listed or 'none'})"
    else:
        parts = []
        for f in fns:
            why = (f.get("reason") or "").strip()
            runs = ", ".join(f"{k} {v}" for k, v in (f.get("engines") or {}).items())
            if f.get("status") == "skipped":
                parts.append(f"skipped: {why or 'no reason given'}")
            elif runs:
                parts.append(f"no finding in budget (inputs run: {runs})")
            else:
                parts.append(f"not run directly: {why or 'no inputs run'}")
        reason = "; ".join(parts)
    if others:
        reason += "; other findings: " + "; ".join(
            f"{f.get('kind')} in {f.get('function')}: {shorten(first_line(f.get('message')), 80)}"
            for f in others[:3])
    return dict(res, result="missed", reason=reason)


# ---------------------------------------------------------------------------------------------

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "cargo-edgecheck"),
                    help="the cargo-edgecheck binary (default: target/release/cargo-edgecheck)")
    ap.add_argument("--budget", default="60s", help="the tool's --budget per entry (default 60s)")
    ap.add_argument("--data", default=os.path.join(HERE, "realworld.toml"),
                    help="the entries (default: benches/realworld.toml)")
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/cargo-edgecheck-bench"),
                    help="downloads, work dirs, reports and the shared target dir "
                         "(default ~/.cache/cargo-edgecheck-bench)")
    ap.add_argument("--only", help="comma-separated crate names (or name-version) to run")
    ap.add_argument("--keep", action="store_true", help="keep the work directories")
    ap.add_argument("--summary", help="write the results as JSON to this file")
    ap.add_argument("--run-timeout", type=int, default=1800,
                    help="seconds one tool run may take before it is killed (default 1800)")
    args = ap.parse_args()
    args.cache = os.path.abspath(args.cache)
    return args


def main():
    args = parse_args()
    entries = load_entries(args.data)
    if args.only:
        wanted = {w.strip() for w in args.only.split(",") if w.strip()}
        entries = [e for e in entries if e["name"] in wanted or entry_id(e) in wanted]
        if not entries:
            die(f"no entry matches --only {args.only}")
    if not os.access(args.binary, os.X_OK):
        die(f"no executable at {args.binary}; run `cargo build --release` first or pass --binary")
    for sub in ("bin", "reports", "work"):
        os.makedirs(os.path.join(args.cache, sub), exist_ok=True)
    # Work dirs, reports and the tool's scratch dirs under the target dir are shared: one run
    # at a time per cache directory. The lock is held until the process exits.
    lock = open(os.path.join(args.cache, "lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log(f"realworld: waiting for another run using {args.cache}")
        fcntl.flock(lock, fcntl.LOCK_EX)
    # Run a copy, so a concurrent rebuild of the binary cannot change the tool mid-benchmark.
    bin_sha = crates_io.sha256_file(args.binary)
    args.tool = os.path.join(args.cache, "bin", f"cargo-edgecheck-{bin_sha[:12]}")
    shutil.copy2(args.binary, args.tool)

    log(f"realworld: {len(entries)} crates, budget {args.budget}, "
        f"{args.binary} (sha256 {bin_sha[:12]})")
    results = []
    started = time.monotonic()
    for e in entries:
        ident = entry_id(e)
        repo = os.path.join(args.cache, "work", ident)
        report_path = os.path.join(args.cache, "reports", ident + ".json")
        err_path = os.path.join(args.cache, "reports", ident + ".stderr")
        try:
            make_repo(fetch_crate(args.cache, e["name"], e["version"]), e, repo)
        except (EntryError, crates_io.CratesIoError) as err:
            res = dict(entry_result(e), result="error", reason=str(err))
        else:
            status, secs = run_tool(args, e, repo, report_path, err_path)
            res = score(e, status, secs, report_path, err_path)
            if not args.keep:
                shutil.rmtree(repo, ignore_errors=True)
        results.append(res)
        if res["result"] == "found":
            f = res["finding"]
            loc = f.get("location")
            where = f" at {loc.get('file')}:{loc.get('line')}" if loc else ""
            via = f" through {res['via']}" if res.get("via") else ""
            detail = (f"{res['elapsed_ms']:>7} ms  {f['kind']} ({f.get('engine')}{via}){where}: "
                      f"{shorten(f.get('input') or '')}")
        else:
            detail = f"{'':>10}  {res['reason']}"
        log(f"{ident:<28} {res['result']:<7} {detail}")

    found = [r for r in results if r["result"] == "found"]
    errors = [r for r in results if r["result"] == "error"]
    missed = [r for r in results if r["result"] == "missed"]
    log(f"realworld: {len(found)}/{len(results)} found ({len(missed)} missed, "
        f"{len(errors)} errors; budget {args.budget}, {time.monotonic() - started:.0f}s)")
    if args.summary:
        with open(args.summary, "w") as f:
            json.dump({"binary": os.path.abspath(args.binary), "binary_sha256": bin_sha,
                       "budget": args.budget, "found": len(found), "total": len(results),
                       "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
