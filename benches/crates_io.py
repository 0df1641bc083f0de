"""crates.io plumbing shared by the benchmarks (reach.py, realworld.py, sweep.py).

What it does: reads a crate's versions from the crates.io sparse index
(https://index.crates.io/<prefix>/<name>, one JSON object per line with `vers`, `yanked`,
`cksum`), downloads a published `.crate` from https://static.crates.io and checks its sha256
against the index, unpacks it without its packaging artefacts, makes the crate stand alone
(an empty `[workspace]` table), commits it to a git repository with a fixed identity and date,
and runs the tool in its own process group, killed with its children past a timeout.

Every failure these functions know of is raised as `CratesIoError`, whose message says what
failed; each benchmark turns it into its own error (a skipped entry, a crate not prepared, the
end of the run). Standard library only, so each script still runs as `benches/<script>.py`.
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tarfile
import time
import tomllib
import urllib.request

INDEX_URL = "https://index.crates.io"
DOWNLOAD_URL = "https://static.crates.io/crates"

# Files of a published .crate that are packaging artefacts, not the crate's source.
PACKAGING_FILES = {".cargo_vcs_info.json", "Cargo.toml.orig"}

GIT_CONFIG = ["-c", "commit.gpgsign=false", "-c", "core.autocrlf=false"]


class CratesIoError(Exception):
    """The index, a download, an archive, a manifest or git failed; the message says which."""


# ---------------------------------------------------------------------------------------------
# The sparse index.

def index_path(name):
    """The sparse index's path for a crate name (cargo's layout: 1/a, 2/ab, 3/a/abc,
    se/rd/serde)."""
    n = name.lower()
    if len(n) <= 2:
        return f"{len(n)}/{n}"
    if len(n) == 3:
        return f"3/{n[0]}/{n}"
    return f"{n[:2]}/{n[2:4]}/{n}"


def index_url(name):
    """The address of a crate's entry in the sparse index."""
    return f"{INDEX_URL}/{index_path(name)}"


def version_key(v):
    """Sort key of a release version `X.Y.Z` (build metadata after `+` ignored)."""
    core = v.split("+", 1)[0]
    return tuple(int(x) if x.isdigit() else 0 for x in core.split("."))


def urlopen_read(url, timeout, user_agent=None):
    """The body of `url`; raises what urllib raises (OSError and its subclasses)."""
    headers = {"User-Agent": user_agent} if user_agent else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                timeout=timeout) as r:
        return r.read()


def read_index(name, timeout=120, user_agent=None):
    """The text of a crate's index entry: one JSON object per published version."""
    url = index_url(name)
    try:
        return urlopen_read(url, timeout, user_agent).decode()
    except OSError as e:
        raise CratesIoError(f"cannot read the index entry {url}: {e}") from e


def index_entries(text):
    """The version objects of an index entry's text, in the index's order."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def is_release(entry):
    """Whether an index object is a version to use: not yanked and not a pre-release."""
    return not entry.get("yanked") and "-" not in entry["vers"].split("+", 1)[0]


# ---------------------------------------------------------------------------------------------
# Downloads.

def sha256_file(path):
    """The hex sha256 of a file's content."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_crate(cache, name, version, cksum, timeout=120, user_agent=None):
    """Path of the `.crate` file of name==version under `<cache>/crates/`, downloaded once and
    checked against the index's `cksum` every time it is asked for."""
    path = os.path.join(cache, "crates", f"{name}-{version}.crate")
    if os.path.exists(path) and sha256_file(path) == cksum:
        return path
    url = f"{DOWNLOAD_URL}/{name}/{name}-{version}.crate"
    try:
        data = urlopen_read(url, timeout, user_agent)
    except OSError as e:
        raise CratesIoError(f"cannot download {url}: {e}") from e
    got = hashlib.sha256(data).hexdigest()
    if got != cksum:
        raise CratesIoError(f"{url}: sha256 {got} does not match the index's cksum {cksum}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".part", "wb") as f:
        f.write(data)
    os.replace(path + ".part", path)
    return path


# ---------------------------------------------------------------------------------------------
# A stand-alone crate in a git repository.

def unpack(crate_file, prefix, dest):
    """Unpacks the `prefix/` directory of a .crate archive into a fresh `dest`, without the
    packaging artefacts (PACKAGING_FILES) at its top."""
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    with tarfile.open(crate_file, "r:gz") as tar:
        for member in tar.getmembers():
            parts = member.name.split("/", 1)
            if parts[0] != prefix or len(parts) < 2 or parts[1] in ("", *PACKAGING_FILES):
                continue
            member.name = parts[1]
            if member.islnk() and member.linkname.startswith(prefix + "/"):
                member.linkname = member.linkname[len(prefix) + 1:]
            tar.extract(member, dest, filter="data")
    if not os.path.isfile(os.path.join(dest, "Cargo.toml")):
        raise CratesIoError(f"{crate_file} has no {prefix}/Cargo.toml")


def stand_alone(manifest):
    """Appends an empty `[workspace]` table unless the manifest already has a `workspace`
    table (`[workspace]` or any `[workspace.*]`), so cargo never looks for an enclosing one."""
    with open(manifest, encoding="utf-8") as f:
        text = f.read()
    try:
        has_workspace = "workspace" in tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CratesIoError(f"{manifest} is not valid TOML: {e}") from e
    if not has_workspace:
        with open(manifest, "a", encoding="utf-8") as f:
            f.write(("" if text.endswith("\n") else "\n") + "\n[workspace]\n")


def git_identity(name, own_config=True):
    """Environment variables for git commits by `name` <name@example.invalid> at a fixed date,
    so the same tree gives the same commit id on every run. `own_config`: no user or system
    git config either."""
    email = f"{name.lower()}@example.invalid"
    env = {
        "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
        "GIT_AUTHOR_DATE": "2000-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2000-01-01T00:00:00Z",
    }
    if own_config:
        env.update({"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})
    return env


def git(repo, *args, identity):
    """Runs `git ARGS` in `repo` with the `identity` variables (see git_identity), no commit
    signing and no line-ending conversion; returns the finished process, output captured."""
    p = subprocess.run(["git", *GIT_CONFIG, *args], cwd=repo, env=dict(os.environ, **identity),
                       capture_output=True, text=True, errors="replace")
    if p.returncode != 0:
        raise CratesIoError(f"`git {' '.join(args)}` failed in {repo}: {p.stderr.strip()}")
    return p


def init_repo(repo, identity, exclude=()):
    """Makes `repo` a git repository on branch `main`; `exclude` lines go to .git/info/exclude."""
    git(repo, "init", "-q", "-b", "main", identity=identity)
    if exclude:
        with open(os.path.join(repo, ".git", "info", "exclude"), "a") as f:
            f.write("".join(line + "\n" for line in exclude))


def commit_all(repo, message, identity):
    """Commits the whole working tree of `repo`, ignored files included: a published crate may
    ship a .gitignore that would hide some of its own files."""
    git(repo, "add", "-A", "-f", ".", identity=identity)
    git(repo, "commit", "-q", "--allow-empty", "-m", message, identity=identity)


# ---------------------------------------------------------------------------------------------
# The tool.

def run_in_own_group(cmd, cwd, err_path, timeout, stdin=None):
    """Runs the tool's command `cmd` in `cwd`, standard output discarded and standard error to
    `err_path`, with colours off and no inherited CARGO_TARGET_DIR (the command names its own
    target dir). It runs in its own process group, so a run past `timeout` seconds is killed
    with all its children. Returns (exit status, None when killed for the timeout; seconds)."""
    env = dict(os.environ, CARGO_TERM_COLOR="never")
    env.pop("CARGO_TARGET_DIR", None)
    start = time.monotonic()
    with open(err_path, "w") as err:
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=stdin, stdout=subprocess.DEVNULL,
                             stderr=err, start_new_session=True)
        try:
            status = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            status = None
    return status, time.monotonic() - start
