//! Every call to git: one set of settings (unquoted non-ASCII paths, no optional locks on the
//! user's index, no stdin) and paths read as raw bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// The top directory of the git work tree containing `dir` (`git rev-parse --show-toplevel`), or Error::NotAGitRepo.
pub fn repo_root(dir: &Path) -> Result<PathBuf> {
    if let Err(e) = std::fs::metadata(dir) {
        return Err(Error::io(
            format!("cannot read the directory {}", dir.display()),
            e,
        ));
    }
    // English messages, so that "not a git repository" can be told from other failures.
    let out = git_command(dir, &["rev-parse", "--show-toplevel"])
        .env("LC_ALL", "C")
        .output()
        .map_err(spawn_error)?;
    if out.status.success() {
        let stdout = out.stdout.strip_suffix(b"\n").unwrap_or(&out.stdout);
        return Ok(path_from_bytes(stdout));
    }
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if stderr.contains("not a git repository") {
        Err(Error::NotAGitRepo(dir.to_path_buf()))
    } else {
        Err(Error::Git {
            args: "rev-parse --show-toplevel".into(),
            stderr,
        })
    }
}

/// Resolves the base revision to a full commit sha. `Some(rev)`: `git rev-parse --verify rev^{commit}`, Error::UnknownBase if it fails.
/// `None`: the merge-base of HEAD with `origin/HEAD`, else with `main`, else `master` (the first of those refs that exists), else HEAD itself.
/// `origin/main` and `origin/master` are tried after `master`, since CI checkouts often have no
/// local branch and no `origin/HEAD`. A repository with no commit yet gives Error::Usage.
pub fn resolve_base(repo: &Path, base: Option<&str>) -> Result<String> {
    match base {
        Some(rev) => {
            // A leading dash would be taken as an option by rev-parse.
            if rev.is_empty() || rev.starts_with('-') {
                return Err(Error::UnknownBase(rev.to_string()));
            }
            match verify_commit(repo, rev)? {
                Some(sha) => Ok(sha),
                None if is_shallow(repo)? => Err(Error::ShallowClone(format!(
                    "the base revision `{rev}` is not in this shallow clone"
                ))),
                None => Err(Error::UnknownBase(rev.to_string())),
            }
        }
        None => default_base(repo),
    }
}

/// The merge-base of HEAD with the first default branch that exists and shares history with
/// HEAD, else HEAD itself.
fn default_base(repo: &Path) -> Result<String> {
    let Some(head) = verify_commit(repo, "HEAD")? else {
        return Err(Error::Usage(format!(
            "the repository at {} has no commit yet, so there is no base to compare with: \
             commit first, or name the changes with `--diff FILE` or `--function PATH`",
            repo.display()
        )));
    };
    let mut no_common_commit = Vec::new();
    for candidate in [
        "origin/HEAD",
        "main",
        "master",
        "origin/main",
        "origin/master",
    ] {
        if verify_commit(repo, candidate)?.is_none() {
            continue;
        }
        no_common_commit.push(candidate);
        // No common ancestor (unrelated histories, or a shallow clone) means this ref cannot
        // serve as the base; the next one might.
        if let Some(sha) = ok(repo, &["merge-base", "HEAD", candidate])? {
            return Ok(String::from_utf8_lossy(&sha).trim().to_string());
        }
    }
    // A default branch is there but shares no commit with HEAD: in a shallow clone, that is
    // the cut history, and comparing HEAD with itself would silently test nothing.
    if let Some(branch) = no_common_commit.first() {
        if is_shallow(repo)? {
            return Err(Error::ShallowClone(format!(
                "no commit of `{branch}` is in the history of HEAD in this shallow clone, so there is no base to compare with"
            )));
        }
    }
    Ok(head)
}

/// Whether the repository is a shallow clone (`git rev-parse --is-shallow-repository`).
fn is_shallow(repo: &Path) -> Result<bool> {
    let out = ok(repo, &["rev-parse", "--is-shallow-repository"])?;
    Ok(out.is_some_and(|o| o.starts_with(b"true")))
}

/// The full sha of the commit `rev` names, or None when it names no commit.
fn verify_commit(repo: &Path, rev: &str) -> Result<Option<String>> {
    let spec = format!("{rev}^{{commit}}");
    let out = ok(repo, &["rev-parse", "--verify", "--quiet", &spec])?;
    Ok(out.map(|sha| String::from_utf8_lossy(&sha).trim().to_string()))
}

/// The files git tracks under `root` plus untracked ones it does not ignore, relative to
/// `root` (`git ls-files --cached --others --exclude-standard`); `None` outside a git work tree.
pub fn listed_files(root: &Path) -> Option<Vec<PathBuf>> {
    let out = git_command(
        root,
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    )
    .output()
    .ok()?;
    out.status.success().then(|| {
        out.stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(path_from_bytes)
            .collect()
    })
}

/// The files of the workspace as they were at commit `sha`, read from git objects (no checkout):
/// paths relative to the workspace root, which is `ws_rel` inside the repository at `repo`.
pub fn files_at_commit(
    repo: &Path,
    sha: &str,
    ws_rel: &Path,
) -> Result<BTreeMap<PathBuf, Vec<u8>>> {
    let prefix = ws_rel.to_string_lossy().replace('\\', "/");
    let mut ls = git_command(repo, &["ls-tree", "-r", "-z", "--full-tree", sha]);
    if !prefix.is_empty() {
        ls.arg("--").arg(&prefix);
    }
    let out = ls.output().map_err(spawn_error)?;
    if !out.status.success() {
        return Err(Error::Git {
            args: format!("ls-tree -r {sha}"),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    // `<mode> blob <oid>\t<path>`; symlinks (120000) and submodules (commit) have no text to copy.
    let mut entries: Vec<(String, PathBuf)> = Vec::new();
    for rec in out.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let Some(tab) = rec.iter().position(|b| *b == b'\t') else {
            continue;
        };
        let meta = String::from_utf8_lossy(&rec[..tab]);
        let path = path_from_bytes(&rec[tab + 1..]);
        let fields: Vec<&str> = meta.split(' ').collect();
        if fields.len() != 3 || fields[1] != "blob" || fields[0] == "120000" {
            continue;
        }
        let rel = path.strip_prefix(&prefix).unwrap_or(&path).to_path_buf();
        entries.push((fields[2].to_string(), rel));
    }
    let blobs = cat_blobs(repo, entries.iter().map(|(oid, _)| oid.as_str()))?;
    Ok(entries.into_iter().map(|(_, rel)| rel).zip(blobs).collect())
}

/// The contents of the given blobs, in order, through one `git cat-file --batch`.
fn cat_blobs<'a>(repo: &Path, oids: impl Iterator<Item = &'a str>) -> Result<Vec<Vec<u8>>> {
    use std::io::{BufRead, Read, Write};
    let input: String = oids.map(|o| format!("{o}\n")).collect();
    let mut child = git_command(repo, &["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(spawn_error)?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // Written from a thread: git answers while it reads, and a full pipe must not stall us.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut reader = std::io::BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut blobs = Vec::new();
    let mut header = String::new();
    loop {
        header.clear();
        if reader
            .read_line(&mut header)
            .map_err(|e| Error::io("reading git cat-file", e))?
            == 0
        {
            break;
        }
        let size: usize = header
            .split_whitespace()
            .nth(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; size + 1]; // the content and its trailing newline
        reader
            .read_exact(&mut body)
            .map_err(|e| Error::io("reading git cat-file", e))?;
        body.pop();
        blobs.push(body);
    }
    let _ = writer.join();
    let _ = child.wait();
    Ok(blobs)
}

/// A path from the raw bytes git prints, which are not always UTF-8 on Unix.
pub fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
    }
}

/// A git command in `dir` with the settings every call needs: unquoted non-ASCII paths, and no
/// optional lock taken on the user's index (a concurrent `git` must not fail because of us).
pub fn git_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("git");
    command
        .args(["-c", "core.quotepath=off"])
        .args(args)
        .current_dir(dir)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null());
    command
}

/// Runs git and returns its stdout, or Error::Git with its stderr when it fails.
pub fn run(dir: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let out = git_command(dir, args).output().map_err(spawn_error)?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(Error::Git {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

/// Runs git and returns its stdout, or None when it exits nonzero (a question answered "no").
pub fn ok(dir: &Path, args: &[&str]) -> Result<Option<Vec<u8>>> {
    let out = git_command(dir, args).output().map_err(spawn_error)?;
    Ok(out.status.success().then_some(out.stdout))
}

/// The error for a git that cannot be started.
fn spawn_error(source: std::io::Error) -> Error {
    Error::Spawn {
        program: "git".into(),
        source,
    }
}
