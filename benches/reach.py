#!/usr/bin/env python3
"""Reach of cargo-edgecheck on real code: the share of changed functions it can test.

What it measures: for a few real crates from crates.io (default: semver, textwrap, hex, itoa,
unicode-width), the changes between consecutive published versions are fed to the tool, and
the script counts, over all those real-world changes, how many of the changed functions the
tool selected (M, the `functions` of its JSON report) and how many it actually tested (N, those
with `status: "tested"`, i.e. a harness was generated, compiled and ran). Reach = N / M; the
goal is at least 80 %. Findings are not the point here, so the budget per run is small.

How:

1. Versions: the last `--versions` (default 10) versions of each crate, read from the
   crates.io sparse index (https://index.crates.io/<prefix>/<name>); yanked versions and
   pre-releases are left out, the rest sorted by version number and the highest N kept.
2. Sources, fetched with cargo: for each version a scratch crate depending on
   `<crate> = "=<version>"` is made, `cargo metadata --format-version 1` resolves (and
   downloads) it, and the package's `manifest_path` gives the unpacked source in cargo's
   registry cache.
3. One git repository per crate, one commit per version in version order; each commit replaces
   the whole tree with that version's published source (`.cargo_vcs_info.json` and
   `Cargo.toml.orig` left out; an empty `[workspace]` table added to Cargo.toml when it has none,
   so the crate is never taken into an enclosing workspace). Published manifests are normalised
   by cargo, so each version builds on its own. Commit dates are fixed, so the commits (and the
   tool's scratch paths and caches) are the same from one run of this script to the next.
4. For every consecutive pair (old, new): `git checkout <new>`, then
       cargo-edgecheck --manifest-path <repo>/Cargo.toml --base <old commit> --format json
           --output <report> --budget B --fail-on never --target-dir <scratch>/target --color never
   with one shared target dir, so proptest, libFuzzer and the crates' dependencies are compiled
   once for the whole run. Runs are sequential. Exit status 2, a crash, a run past
   `--run-timeout` or no parseable JSON report is a tool failure, recorded with the last lines of
   standard error.
5. Output: a table per crate (pairs, changed, tested, reach), the overall reach, the most
   frequent skip reasons (normalised: each `backticked` span becomes `_`, a chain of
   `field .. of ..:` links becomes one link and numbers become `N`, so that reasons differing
   only in names group together) and every tool failure. The same
   figures, with every pair's counts and raw skip reasons, go to `<scratch>/reach-summary.json`.

How to run it (from the project root):

    cargo build --release
    benches/reach.py --quick                      # smoke run: 2 crates x 3 versions
    benches/reach.py --budget 3s                  # 5 crates x 10 versions = 45 runs
    benches/reach.py --crates hex,itoa --versions 5 --bin path/to/cargo-edgecheck

The tool binary is copied into the scratch directory first and the copy is what runs, so a
rebuild of target/release during the measurement cannot mix two versions. Everything
(downloaded-source locations, repositories, reports, the shared target dir) is kept under
`--scratch` (default /tmp/edgecheck-reach), so a second run only re-runs the tool, with the
harness dependencies already built. Network use: the crates.io sparse index and cargo's own
downloads only.
"""
import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import time

import crates_io

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

DEFAULT_CRATES = ["semver", "textwrap", "hex", "itoa", "unicode-width"]
QUICK_CRATES = 2
QUICK_VERSIONS = 3
GOAL = 0.80

# Fixed dates: the same sources give the same commit ids on every run.
GIT_ENV = crates_io.git_identity("Reach", own_config=False)


def log(msg=""):
    print(msg, flush=True)


def die(msg):
    sys.exit(f"reach: {msg}")


def run(args, cwd=None, env=None, check=True):
    """Runs a short helper command (git, cargo metadata), output captured."""
    p = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if check and p.returncode != 0:
        die(f"`{' '.join(args)}` failed (status {p.returncode}):\n{p.stderr.strip()}")
    return p


# ---------------------------------------------------------------------------------------------
# 1. Versions, from the crates.io sparse index.

def last_versions(name, count):
    """The `count` highest non-yanked, non-pre-release versions of a crate, oldest first."""
    try:
        text = crates_io.read_index(name, timeout=60)
    except crates_io.CratesIoError as e:
        die(str(e))
    versions = {entry["vers"] for entry in crates_io.index_entries(text)
                if crates_io.is_release(entry)}
    return sorted(versions, key=crates_io.version_key)[-count:]


# ---------------------------------------------------------------------------------------------
# 2. Sources, fetched and unpacked by cargo.

def fetch_source(scratch, name, version):
    """Directory of the unpacked source of name==version, downloaded by cargo through a
    scratch crate that depends on exactly that version. Cached in `<scratch>/fetch`."""
    crate_dir = os.path.join(scratch, "fetch", f"{name}-{version}")
    cached = os.path.join(crate_dir, "source-dir.txt")
    if os.path.exists(cached):
        src = open(cached).read().strip()
        if os.path.isfile(os.path.join(src, "Cargo.toml")):
            return src
    os.makedirs(os.path.join(crate_dir, "src"), exist_ok=True)
    with open(os.path.join(crate_dir, "Cargo.toml"), "w") as f:
        f.write(
            "[package]\n"
            f'name = "reach-fetch-{name.replace("_", "-")}"\n'
            'version = "0.0.0"\n'
            'edition = "2021"\n'
            "publish = false\n\n"
            "[dependencies]\n"
            f'{name} = "={version}"\n\n'
            "[workspace]\n"
        )
    with open(os.path.join(crate_dir, "src", "lib.rs"), "w") as f:
        f.write("")
    p = run(["cargo", "metadata", "--format-version", "1",
             "--manifest-path", os.path.join(crate_dir, "Cargo.toml")])
    meta = json.loads(p.stdout)
    for pkg in meta["packages"]:
        if pkg["name"] == name and pkg["version"] == version:
            src = os.path.dirname(pkg["manifest_path"])
            with open(cached, "w") as f:
                f.write(src + "\n")
            return src
    die(f"cargo metadata did not list {name} {version}")


# ---------------------------------------------------------------------------------------------
# 3. One git repository per crate, one commit per version.

def git(repo, *args):
    """git in `repo` with the fixed identity; a failure ends the run."""
    try:
        return crates_io.git(repo, *args, identity=GIT_ENV)
    except crates_io.CratesIoError as e:
        die(str(e))


def replace_tree(repo, src):
    """Makes the working tree of `repo` exactly the crate source `src`, stand-alone."""
    for entry in os.listdir(repo):
        if entry == ".git":
            continue
        path = os.path.join(repo, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    for entry in os.listdir(src):
        if entry in crates_io.PACKAGING_FILES:
            continue
        s, d = os.path.join(src, entry), os.path.join(repo, entry)
        if os.path.isdir(s) and not os.path.islink(s):
            shutil.copytree(s, d, symlinks=True)
        else:
            shutil.copy2(s, d, follow_symlinks=False)
    crates_io.stand_alone(os.path.join(repo, "Cargo.toml"))


def build_repo(scratch, name, versions):
    """A fresh repository `<scratch>/repos/<name>` with one commit per version; returns
    {version: commit id}. Rebuilt every run (cheap); fixed dates keep the commit ids stable."""
    repo = os.path.join(scratch, "repos", name)
    if os.path.exists(repo):
        shutil.rmtree(repo)
    os.makedirs(repo)
    commits = {}
    try:
        crates_io.init_repo(repo, GIT_ENV)
        for v in versions:
            replace_tree(repo, fetch_source(scratch, name, v))
            crates_io.commit_all(repo, f"{name} {v}", GIT_ENV)
            commits[v] = git(repo, "rev-parse", "HEAD").stdout.strip()
    except crates_io.CratesIoError as e:
        die(str(e))
    return repo, commits


# ---------------------------------------------------------------------------------------------
# 4. The tool on every consecutive pair.

def tail(text, lines=8):
    return "\n".join(text.strip().splitlines()[-lines:])


def run_tool(args, repo, old_commit, new_commit, report_path, err_path):
    """One tool run on the pair; returns (report dict or None, failure message or None,
    exit status, seconds)."""
    git(repo, "checkout", "-q", "-f", new_commit)
    git(repo, "clean", "-q", "-f", "-d", "-x")
    if os.path.exists(report_path):
        os.remove(report_path)
    cmd = [args.tool, "--manifest-path", os.path.join(repo, "Cargo.toml"),
           "--base", old_commit, "--format", "json", "--output", report_path,
           "--budget", args.budget, "--fail-on", "never", "--color", "never",
           "--target-dir", os.path.join(args.scratch, "target")]
    if args.tool_jobs:
        cmd += ["--jobs", str(args.tool_jobs)]
    if args.engines:
        cmd += ["--engines", args.engines]
    status, secs = crates_io.run_in_own_group(cmd, repo, err_path, args.run_timeout)
    stderr = open(err_path, errors="replace").read()
    if status is None:
        return None, f"killed after {args.run_timeout}s (--run-timeout)\n{tail(stderr)}", None, secs
    if status < 0:
        return None, f"killed by signal {-status}\n{tail(stderr)}", status, secs
    if status == 2:
        return None, f"exit status 2\n{tail(stderr)}", status, secs
    try:
        report = json.load(open(report_path))
    except (OSError, ValueError) as e:
        return None, f"exit status {status}, no JSON report ({e})\n{tail(stderr)}", status, secs
    if report.get("schema") != "edgecheck-report/1" or not isinstance(report.get("functions"), list):
        return None, f"exit status {status}, unexpected report schema {report.get('schema')!r}", status, secs
    return report, None, status, secs


# ---------------------------------------------------------------------------------------------
# 5. Figures.

def normalise_reason(reason):
    """Groups similar skip reasons: first line only, backticked spans -> `_`, chains of
    `field ... of ...` links -> one link, numbers -> N."""
    first = reason.strip().splitlines()[0] if reason and reason.strip() else "(no reason given)"
    first = re.sub(r"`[^`]*`", "`_`", first)
    # A type reached through fields (`field `a` of `T`: field `b` of `U`: ...`) gives chains of
    # any length: one link stands for all.
    first = re.sub(r"(field `_` of `_`: )+", "field `_` of `_`: ", first)
    first = re.sub(r"\b\d+\b", "N", first)
    first = re.sub(r"\s+", " ", first).strip()
    return first[:200]


def pct(n, m):
    return f"{100.0 * n / m:5.1f}%" if m else "    -"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--crates", help="comma-separated crate names (default: %s)" % ",".join(DEFAULT_CRATES))
    ap.add_argument("--versions", type=int, default=10, help="versions per crate (default 10)")
    ap.add_argument("--budget", default="5s", help="the tool's --budget per run (default 5s)")
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "cargo-edgecheck"),
                    help="the cargo-edgecheck binary (default: target/release/cargo-edgecheck)")
    ap.add_argument("--scratch", default="/tmp/edgecheck-reach",
                    help="scratch and cache directory (default /tmp/edgecheck-reach)")
    ap.add_argument("--quick", action="store_true",
                    help=f"smoke run: the first {QUICK_CRATES} crates, {QUICK_VERSIONS} versions each")
    ap.add_argument("--tool-jobs", type=int, help="the tool's --jobs (default: the tool's own, all cores)")
    ap.add_argument("--engines", help="the tool's --engines (default: the tool's own, all three)")
    ap.add_argument("--run-timeout", type=int, default=1800,
                    help="seconds one tool run may take before it is killed (default 1800)")
    ap.add_argument("--top", type=int, default=15, help="skip reasons to print (default 15)")
    args = ap.parse_args()
    args.crates = [c.strip() for c in args.crates.split(",") if c.strip()] if args.crates else list(DEFAULT_CRATES)
    if args.quick:
        args.crates = args.crates[:QUICK_CRATES]
        args.versions = min(args.versions, QUICK_VERSIONS)
    if args.versions < 2:
        die("--versions must be at least 2 (one pair)")
    args.scratch = os.path.abspath(args.scratch)
    return args


def main():
    args = parse_args()
    if not os.access(args.bin, os.X_OK):
        die(f"no executable at {args.bin}; run `cargo build --release` first or pass --bin")
    os.makedirs(args.scratch, exist_ok=True)
    # Run a copy, so a concurrent rebuild of the binary cannot change the tool mid-measurement.
    args.tool = os.path.join(args.scratch, "cargo-edgecheck")
    shutil.copy2(args.bin, args.tool)
    bin_sha = crates_io.sha256_file(args.tool)
    bin_mtime = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(args.bin)))

    pairs = []          # one dict per consecutive pair
    started = time.monotonic()
    for name in args.crates:
        versions = last_versions(name, args.versions)
        log(f"== {name}: {', '.join(versions)}")
        if len(versions) < 2:
            log("   fewer than two versions, skipped")
            continue
        repo, commits = build_repo(args.scratch, name, versions)
        reports_dir = os.path.join(args.scratch, "reports", name)
        os.makedirs(reports_dir, exist_ok=True)
        for old, new in zip(versions, versions[1:]):
            stem = os.path.join(reports_dir, f"{old}..{new}")
            report, failure, status, secs = run_tool(
                args, repo, commits[old], commits[new], stem + ".json", stem + ".stderr")
            pair = {"crate": name, "old": old, "new": new, "status": status,
                    "seconds": round(secs, 1), "report": stem + ".json"}
            if failure:
                pair["failure"] = failure
                log(f"   {old} -> {new}: TOOL FAILURE ({secs:.0f}s): {failure.splitlines()[0]}")
            else:
                # Callers of changed helpers are tested too, but are not changed functions.
                fns = [f for f in report["functions"] if not f.get("caller_of")]
                tested = [f for f in fns if f.get("status") == "tested"]
                skipped = [f for f in fns if f.get("status") != "tested"]
                pair.update({
                    "changed": len(fns), "tested": len(tested), "skipped": len(skipped),
                    "findings": len(report.get("findings") or []),
                    "timing": report.get("timing"),
                    "skips": [{"function": f.get("function"), "reason": f.get("reason")} for f in skipped],
                })
                log(f"   {old} -> {new}: {len(tested)}/{len(fns)} tested, "
                    f"{pair['findings']} findings, {secs:.0f}s")
            pairs.append(pair)
        git(repo, "checkout", "-q", "-f", "main")

    # Per crate and overall figures.
    per_crate = collections.OrderedDict()
    for name in args.crates:
        ps = [p for p in pairs if p["crate"] == name]
        ok = [p for p in ps if "failure" not in p]
        per_crate[name] = {
            "pairs": len(ps), "failures": len(ps) - len(ok),
            "changed": sum(p["changed"] for p in ok), "tested": sum(p["tested"] for p in ok),
        }
    changed = sum(c["changed"] for c in per_crate.values())
    tested = sum(c["tested"] for c in per_crate.values())
    reasons = collections.Counter()
    examples = {}
    for p in pairs:
        for s in p.get("skips", []):
            key = normalise_reason(s["reason"])
            reasons[key] += 1
            examples.setdefault(key, f"{p['crate']} {p['old']}->{p['new']} {s['function']}: "
                                     f"{(s['reason'] or '').strip().splitlines()[0] if s['reason'] else ''}")
    failures = [p for p in pairs if "failure" in p]

    # Human output.
    log()
    log(f"Reach of {args.bin} (built {bin_mtime}, sha256 {bin_sha[:12]}), budget {args.budget} "
        f"per run, {len(pairs)} runs in {time.monotonic() - started:.0f}s")
    log()
    log(f"{'crate':<16} {'pairs':>5} {'failed':>6} {'changed':>8} {'tested':>7} {'reach':>7}")
    for name, c in per_crate.items():
        log(f"{name:<16} {c['pairs']:>5} {c['failures']:>6} {c['changed']:>8} {c['tested']:>7} "
            f"{pct(c['tested'], c['changed']):>7}")
    log(f"{'all':<16} {len(pairs):>5} {len(failures):>6} {changed:>8} {tested:>7} {pct(tested, changed):>7}"
        f"   (goal >= {GOAL:.0%}: {'met' if changed and tested / changed >= GOAL else 'NOT met'})")
    log()
    if reasons:
        log(f"Top skip reasons ({sum(reasons.values())} skipped functions):")
        for key, n in reasons.most_common(args.top):
            log(f"  {n:>5}  {key}")
            log(f"         e.g. {examples[key][:200]}")
        log()
    if failures:
        log(f"Tool failures ({len(failures)}):")
        for p in failures:
            log(f"  {p['crate']} {p['old']} -> {p['new']}:")
            for line in p["failure"].splitlines():
                log(f"      {line}")
        log()

    summary = {
        "bin": os.path.abspath(args.bin), "bin_sha256": bin_sha, "bin_mtime": bin_mtime,
        "budget": args.budget, "versions": args.versions,
        "crates": per_crate, "changed": changed, "tested": tested,
        "reach": round(tested / changed, 4) if changed else None, "goal": GOAL,
        "skip_reasons": [{"reason": k, "count": n, "example": examples[k]} for k, n in reasons.most_common()],
        "failures": [{"crate": p["crate"], "old": p["old"], "new": p["new"], "message": p["failure"]}
                     for p in failures],
        "pairs": pairs,
    }
    out = os.path.join(args.scratch, "reach-summary.json")
    with open(out, "w") as f:
        json.dump(summary, f, indent=2)
    log(f"Summary written to {out}")


if __name__ == "__main__":
    main()
