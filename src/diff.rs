//! Changed line ranges per file between a base revision and the working tree (git), or from a diff file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use diffy::patch_set::{FileOperation, FilePatch, ParseOptions, PatchSet};
use diffy::{Hunk, Line};

use crate::error::{Error, Result};
use crate::git::{self, path_from_bytes};

/// What a change touched, per file, as line numbers of the new (working-tree) version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// The resolved base commit (full sha), when the changes come from git.
    pub base: Option<String>,
    /// Changed files, keyed by path relative to the repository root (or, for `--diff`, to the
    /// directory the diff's paths are relative to), with `/` separators.
    pub files: BTreeMap<PathBuf, FileChange>,
}

/// The changed lines of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileChange {
    /// 1-based inclusive ranges of lines added or modified in the new version.
    pub added: Vec<(usize, usize)>,
    /// New-version line numbers next to which lines were deleted (the line after the deletion;
    /// a deletion at the end of the file gives the last line).
    pub deleted_at: Vec<usize>,
    /// The file did not exist at the base.
    pub is_new: bool,
}

impl FileChange {
    /// Whether the change touches any line in `start..=end`: an added line inside it, or a
    /// deletion point inside it.
    pub fn touches(&self, start: usize, end: usize) -> bool {
        self.added.iter().any(|&(a, b)| a <= end && b >= start)
            || self.deleted_at.iter().any(|&l| l >= start && l <= end)
    }
}

impl FileChange {
    /// Adds new-version line `line` to the added ranges, extending the last range when adjacent.
    pub(crate) fn push_added(&mut self, line: usize) {
        match self.added.last_mut() {
            Some((_, end)) if *end + 1 == line => *end = line,
            _ => self.added.push((line, line)),
        }
    }

    /// Moves deletion points past the end of a file of `line_count` lines to its last line.
    fn clamp_deletions(&mut self, line_count: usize) {
        for point in &mut self.deleted_at {
            *point = (*point).min(line_count).max(1);
        }
        self.deleted_at.sort_unstable();
        self.deleted_at.dedup();
    }
}

impl ChangeSet {
    /// Moves each deletion point that lies past the end of its file to the file's last line,
    /// reading the files under `root`; a `--unified=0` diff alone cannot tell a deletion at the
    /// end of a file from one before the next line. Files that cannot be read are left as they are.
    pub fn clamp_deletions_to_files(&mut self, root: &Path) {
        for (path, change) in &mut self.files {
            if change.deleted_at.is_empty() {
                continue;
            }
            if let Ok(bytes) = std::fs::read(root.join(path)) {
                change.clamp_deletions(count_lines(&bytes));
            }
        }
    }
}

/// Changes between the base commit and the working tree: committed and uncommitted (staged or not) changes both count
/// (`git diff --no-color --no-ext-diff --unified=0 --no-renames <base> --` run in the repo root, with core.quotepath off so non-ASCII paths come unquoted),
/// plus untracked files that are not ignored (`git ls-files --others --exclude-standard -z`), which count as new files with every line added.
/// Deleted files are left out (nothing to test in them). Paths relative to the repo root with `/` separators.
pub fn changes_from_git(repo: &Path, base_sha: &str) -> Result<ChangeSet> {
    let mut changes = tracked_changes(repo, &[base_sha])?;
    for (path, change) in untracked_files(repo)? {
        changes.files.insert(path, change);
    }
    changes.clamp_deletions_to_files(repo);
    changes.base = Some(base_sha.to_string());
    Ok(changes)
}

/// `git diff --unified=0` between `revs` (one: that commit and the working tree; two: the
/// commits), tracked files only, read as a change set.
fn tracked_changes(repo: &Path, revs: &[&str]) -> Result<ChangeSet> {
    let text = git::run(repo, &diff_args(revs))?;
    parse_diff_bytes(&text, Some(1)).map_err(|stderr| Error::Git {
        args: format!("{} (unreadable output)", diff_args(revs).join(" ")),
        stderr,
    })
}

/// The arguments of every `git diff` here: fixed prefixes, no colour, textconv or submodules,
/// whatever the user's diff config says, so that the output parses the same everywhere.
fn diff_args<'a>(revs: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--unified=0",
        "--no-renames",
        "--ignore-submodules=all",
        "--src-prefix=a/",
        "--dst-prefix=b/",
    ];
    args.extend_from_slice(revs);
    args.push("--");
    args
}

/// The hunks of what commit `sha` changed against its first parent, per file, in its own
/// line numbers; empty for a root commit.
pub fn hunks_of_commit(repo: &Path, sha: &str) -> Result<BTreeMap<PathBuf, LineMap>> {
    let parent = format!("{sha}^");
    match git::ok(
        repo,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{parent}^{{commit}}"),
        ],
    )? {
        Some(_) => hunks(repo, &[&parent, sha]),
        None => Ok(BTreeMap::new()),
    }
}

/// The hunks between commit `sha` and the working tree (tracked files), per file: where the
/// lines of the file at `sha` are now.
pub fn hunks_since_commit(repo: &Path, sha: &str) -> Result<BTreeMap<PathBuf, LineMap>> {
    hunks(repo, &[sha])
}

/// The hunks of `git diff --unified=0 <revs>`, per file (relative to the repository root).
fn hunks(repo: &Path, revs: &[&str]) -> Result<BTreeMap<PathBuf, LineMap>> {
    let args = diff_args(revs);
    let text = git::run(repo, &args)?;
    let unreadable = |stderr: String| Error::Git {
        args: format!("{} (unreadable output)", args.join(" ")),
        stderr,
    };
    let mut maps = BTreeMap::new();
    if text.iter().all(u8::is_ascii_whitespace) {
        return Ok(maps);
    }
    for file in parse_patches(&text).map_err(unreadable)? {
        let Some(patch) = file.patch().as_text() else {
            continue;
        };
        let Some((path, _)) = new_path(file.operation(), 1) else {
            continue;
        };
        let hunks = patch.hunks().iter().map(|h| {
            let (old, new) = (h.old_range(), h.new_range());
            (old.start(), old.len(), new.start(), new.len())
        });
        maps.insert(path, LineMap(hunks.collect()));
    }
    Ok(maps)
}

/// How the lines of one version of a file moved in a later one: the hunks of a
/// `--unified=0` diff between them, as (old start, old length, new start, new length).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineMap(Vec<(usize, usize, usize, usize)>);

impl LineMap {
    /// The points of the later version where lines were only deleted (nothing written in their
    /// place): the line after each such deletion.
    pub fn pure_deletions(&self) -> Vec<usize> {
        let deletions = self.0.iter().filter(|h| h.1 > 0 && h.3 == 0);
        deletions.map(|h| h.2 + 1).collect()
    }

    /// Where line `old` of the earlier version is in the later one. A line the later diff
    /// changed or removed maps to the start of what replaced it.
    pub fn map(&self, old: usize) -> usize {
        let mut shift: isize = 0;
        for &(old_start, old_len, new_start, new_len) in &self.0 {
            // An empty range's start is the line before it.
            if old_len == 0 {
                if old <= old_start {
                    break;
                }
            } else if old < old_start {
                break;
            } else if old < old_start + old_len {
                return match new_len {
                    0 => new_start + 1,
                    _ => new_start,
                }
                .max(1);
            }
            shift += new_len as isize - old_len as isize;
        }
        (old as isize + shift).max(1) as usize
    }
}

/// Untracked, not ignored text files under `repo`, each as a new file with every line added.
fn untracked_files(repo: &Path) -> Result<Vec<(PathBuf, FileChange)>> {
    let listing = git::run(repo, &["ls-files", "--others", "--exclude-standard", "-z"])?;
    let mut files = Vec::new();
    // A trailing slash marks a nested repository, which is not a file of this one.
    for name in listing
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty() && !n.ends_with(b"/"))
    {
        let path = path_from_bytes(name);
        if let Some(change) = untracked_change(&repo.join(&path))? {
            files.push((path, change));
        }
    }
    Ok(files)
}

/// The change an untracked file makes, or None for what git would not diff as text (binary
/// files, symlinks, files gone since they were listed).
fn untracked_change(full: &Path) -> Result<Option<FileChange>> {
    let context = || format!("cannot read the untracked file {}", full.display());
    let meta = match std::fs::symlink_metadata(full) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(context(), e)),
    };
    if !meta.is_file() {
        return Ok(None);
    }
    let bytes = std::fs::read(full).map_err(|e| Error::io(context(), e))?;
    // Git's own test for binary content: a NUL byte in the first 8000 bytes.
    if bytes.iter().take(8000).any(|&b| b == 0) {
        return Ok(None);
    }
    let lines = count_lines(&bytes);
    let added = if lines == 0 {
        Vec::new()
    } else {
        vec![(1, lines)]
    };
    Ok(Some(FileChange {
        added,
        deleted_at: Vec::new(),
        is_new: true,
    }))
}

/// Changes read from a unified diff file (as `git diff` or `diff -u` print it); paths with a/ b/ prefixes stripped
/// (strip one leading component when the diff has git-style a/ and b/ prefixes, none otherwise). `base` is None.
pub fn changes_from_diff_file(path: &Path) -> Result<ChangeSet> {
    let bytes =
        std::fs::read(path).map_err(|e| Error::DiffFile(path.to_path_buf(), e.to_string()))?;
    parse_diff_bytes(&bytes, None).map_err(|msg| Error::DiffFile(path.to_path_buf(), msg))
}

/// Same, from diff text.
#[cfg(test)]
pub fn changes_from_diff_text(text: &str) -> Result<ChangeSet, String> {
    parse_diff_bytes(text.as_bytes(), None)
}

/// The files as they were before the change a diff file describes: `head` with every patch of
/// the diff undone. `key` maps a path as the diff names it to a key of `head` (None: a file
/// outside the files at hand, left alone).
pub fn undo_diff_file(
    path: &Path,
    head: &BTreeMap<PathBuf, Vec<u8>>,
    key: &dyn Fn(&Path) -> Option<PathBuf>,
) -> Result<BTreeMap<PathBuf, Vec<u8>>> {
    let bytes =
        std::fs::read(path).map_err(|e| Error::DiffFile(path.to_path_buf(), e.to_string()))?;
    undo_diff(&bytes, head, key).map_err(|msg| Error::DiffFile(path.to_path_buf(), msg))
}

/// The file patches of a diff, read as git's format when it has `diff --git` lines, else as
/// a plain unified diff.
fn parse_patches(bytes: &[u8]) -> Result<Vec<FilePatch<'_, [u8]>>, String> {
    let is_git = bytes
        .split(|&b| b == b'\n')
        .any(|line| line.starts_with(b"diff --git "));
    let options = if is_git {
        ParseOptions::gitdiff()
    } else {
        ParseOptions::unidiff()
    };
    PatchSet::parse_bytes(bytes, options)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a unified diff: {e}"))
}

fn undo_diff(
    bytes: &[u8],
    head: &BTreeMap<PathBuf, Vec<u8>>,
    key: &dyn Fn(&Path) -> Option<PathBuf>,
) -> Result<BTreeMap<PathBuf, Vec<u8>>, String> {
    let mut base = head.clone();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(base);
    }
    let patches = parse_patches(bytes)?;
    let strip = usize::from(has_git_prefixes(&patches));
    for file in &patches {
        let Some(patch) = file.patch().as_text() else {
            continue;
        };
        let reverse = patch.reverse();
        let undo = |after: Option<&Vec<u8>>| {
            diffy::apply_bytes(after.map(Vec::as_slice).unwrap_or(b""), &reverse)
                .map_err(|e| format!("the diff does not apply to the files as they are now: {e}"))
        };
        let op = match file.operation() {
            FileOperation::Rename { .. } | FileOperation::Copy { .. } => file.operation().clone(),
            other => other.strip_prefix(strip),
        };
        let k = |p: &[u8]| key(&path_from_bytes(p));
        match op {
            FileOperation::Create(p) => {
                if let Some(k) = k(&p) {
                    base.remove(&k);
                }
            }
            FileOperation::Delete(p) => {
                if let Some(k) = k(&p) {
                    base.insert(k, undo(None)?);
                }
            }
            FileOperation::Modify {
                original: from,
                modified: to,
            }
            | FileOperation::Rename { from, to } => {
                let (Some(from), Some(to)) = (k(&from), k(&to)) else {
                    continue;
                };
                let before = undo(head.get(&to))?;
                base.remove(&to);
                base.insert(from, before);
            }
            FileOperation::Copy { to, .. } => {
                if let Some(k) = k(&to) {
                    base.remove(&k);
                }
            }
        }
    }
    Ok(base)
}

/// Parses a unified diff, stripping `strip` leading path components, or detecting whether to
/// strip one when None. Bytes rather than text, since changed files need not be UTF-8.
fn parse_diff_bytes(bytes: &[u8], strip: Option<usize>) -> Result<ChangeSet, String> {
    // diffy reports "no valid patches found" for empty input, which here means no change.
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(ChangeSet::default());
    }
    let patches = parse_patches(bytes)?;
    let strip = strip.unwrap_or_else(|| usize::from(has_git_prefixes(&patches)));
    let mut changes = ChangeSet::default();
    for file in &patches {
        // Binary patches have no lines to test.
        let Some(patch) = file.patch().as_text() else {
            continue;
        };
        let Some((path, is_new)) = new_path(file.operation(), strip) else {
            continue;
        };
        let change = changes.files.entry(path).or_default();
        change.is_new |= is_new;
        for hunk in patch.hunks() {
            add_hunk(change, hunk);
        }
    }
    for change in changes.files.values_mut() {
        change.deleted_at.sort_unstable();
        change.deleted_at.dedup();
    }
    // Mode-only changes touch no line.
    changes
        .files
        .retain(|_, c| c.is_new || !c.added.is_empty() || !c.deleted_at.is_empty());
    Ok(changes)
}

/// Whether every patch names its files with git's `a/` and `b/` prefixes. Rename and copy
/// paths come from git's `rename from`/`copy to` headers, which never carry a prefix.
fn has_git_prefixes(patches: &[FilePatch<'_, [u8]>]) -> bool {
    let mut any = false;
    for file in patches {
        let prefixed = match file.operation() {
            FileOperation::Create(p) => p.starts_with(b"b/"),
            FileOperation::Delete(p) => p.starts_with(b"a/"),
            FileOperation::Modify { original, modified } => {
                original.starts_with(b"a/") && modified.starts_with(b"b/")
            }
            FileOperation::Rename { .. } | FileOperation::Copy { .. } => continue,
        };
        if !prefixed {
            return false;
        }
        any = true;
    }
    any
}

/// The path of the file after the patch, and whether it is new; None for a deleted file.
fn new_path(op: &FileOperation<'_, [u8]>, strip: usize) -> Option<(PathBuf, bool)> {
    match op {
        FileOperation::Delete(_) => None,
        // Renamed and copied files keep their lines' history, so they do not count as new.
        FileOperation::Rename { to, .. } | FileOperation::Copy { to, .. } => {
            Some((path_from_bytes(to), false))
        }
        FileOperation::Create(_) | FileOperation::Modify { .. } => match op.strip_prefix(strip) {
            FileOperation::Create(p) => Some((path_from_bytes(&p), true)),
            FileOperation::Modify { modified, .. } => Some((path_from_bytes(&modified), false)),
            _ => None,
        },
    }
}

/// Records the added lines and deletion points of one hunk, in new-version line numbers.
fn add_hunk(change: &mut FileChange, hunk: &Hunk<'_, [u8]>) {
    let range = hunk.new_range();
    // An empty range's start is the line before the hunk (0 at the top of the file).
    let mut line = if range.is_empty() {
        range.start() + 1
    } else {
        range.start()
    };
    let mut in_deletion = false;
    for hunk_line in hunk.lines() {
        match hunk_line {
            Line::Context(_) => line += 1,
            Line::Insert(_) => {
                change.push_added(line);
                line += 1;
            }
            Line::Delete(_) if !in_deletion => change.deleted_at.push(line),
            Line::Delete(_) => {}
        }
        in_deletion = matches!(hunk_line, Line::Delete(_));
    }
    if in_deletion && hunk_ends_file(hunk) {
        // Nothing follows the deletion: it sits at the end of the file, after its last line.
        if let Some(point) = change.deleted_at.last_mut() {
            *point = point.saturating_sub(1).max(1);
        }
    }
}

/// Whether a hunk that ends in deleted lines is known to reach the end of the file: diffs with
/// context always end a hunk with context unless the file ends, and git marks a last line
/// without a newline. A hunk without context (`--unified=0`) cannot tell.
fn hunk_ends_file(hunk: &Hunk<'_, [u8]>) -> bool {
    let has_context = hunk.lines().iter().any(|l| matches!(l, Line::Context(_)));
    let last_unterminated =
        matches!(hunk.lines().last(), Some(Line::Delete(l)) if !l.ends_with(b"\n"));
    has_context || last_unterminated
}

/// The number of lines in a file's content, counting a last line without a newline.
fn count_lines(bytes: &[u8]) -> usize {
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count();
    newlines + usize::from(!bytes.is_empty() && !bytes.ends_with(b"\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::{repo_root, resolve_base};
    use std::process::Command;

    fn change(set: &ChangeSet, path: &str) -> FileChange {
        set.files
            .get(Path::new(path))
            .cloned()
            .unwrap_or_else(|| panic!("no {path} in {set:?}"))
    }

    fn parse(text: &str) -> ChangeSet {
        changes_from_diff_text(text).unwrap()
    }

    #[test]
    fn line_maps_follow_lines_past_later_hunks() {
        // Two lines inserted after line 3, line 10 rewritten as three, lines 20-21 deleted.
        let map = LineMap(vec![(3, 0, 4, 2), (10, 1, 12, 3), (20, 2, 23, 0)]);
        assert_eq!(map.map(1), 1);
        assert_eq!(map.map(3), 3);
        assert_eq!(map.map(4), 6);
        assert_eq!(map.map(10), 12);
        assert_eq!(map.map(11), 15);
        assert_eq!(map.map(20), 24);
        assert_eq!(map.map(22), 24);
        assert_eq!(map.pure_deletions(), vec![24]);
    }

    #[test]
    fn unified_zero_ranges_and_deletions() {
        let set = parse(
            "diff --git a/src/lib.rs b/src/lib.rs\n\
             index 1111111..2222222 100644\n\
             --- a/src/lib.rs\n\
             +++ b/src/lib.rs\n\
             @@ -2 +2,2 @@ fn a()\n\
             -old\n\
             +new\n\
             +newer\n\
             @@ -10,2 +10,0 @@\n\
             -gone\n\
             -gone too\n\
             @@ -20,0 +19,3 @@\n\
             +x\n\
             +y\n\
             +z\n",
        );
        assert_eq!(set.base, None);
        let c = change(&set, "src/lib.rs");
        assert_eq!(c.added, vec![(2, 3), (19, 21)]);
        // The replaced line 2, and the line after the pure deletion.
        assert_eq!(c.deleted_at, vec![2, 11]);
        assert!(!c.is_new);
    }

    #[test]
    fn deletion_at_top_of_file() {
        let set = parse("--- a/f.rs\n+++ b/f.rs\n@@ -1,2 +0,0 @@\n-a\n-b\n");
        assert_eq!(change(&set, "f.rs").deleted_at, vec![1]);
    }

    #[test]
    fn context_lines_are_counted() {
        let set = parse(
            "--- a/f.rs\n+++ b/f.rs\n\
             @@ -3,8 +3,8 @@\n \
             c3\n \
             c4\n\
             +added5\n \
             c5\n\
             -removed\n \
             c7\n\
             +added8\n\
             +added9\n\
             -removed2\n\
             -removed3\n \
             c10\n",
        );
        let c = change(&set, "f.rs");
        assert_eq!(c.added, vec![(5, 5), (8, 9)]);
        assert_eq!(c.deleted_at, vec![7, 10]);
    }

    #[test]
    fn deletion_at_end_of_file_with_context() {
        let set = parse("--- a/f.rs\n+++ b/f.rs\n@@ -4,4 +4,2 @@\n l4\n l5\n-l6\n-l7\n");
        // The new file ends at line 5, where the deletion sits.
        assert_eq!(change(&set, "f.rs").deleted_at, vec![5]);
    }

    #[test]
    fn deletion_of_unterminated_last_line() {
        let set =
            parse("--- a/f.rs\n+++ b/f.rs\n@@ -3 +2,0 @@\n-last\n\\ No newline at end of file\n");
        assert_eq!(change(&set, "f.rs").deleted_at, vec![2]);
    }

    #[test]
    fn emptied_file_points_at_line_one() {
        let set = parse("--- a/f.rs\n+++ b/f.rs\n@@ -1,3 +0,0 @@\n-a\n-b\n-c\n");
        assert_eq!(change(&set, "f.rs").deleted_at, vec![1]);
    }

    #[test]
    fn new_deleted_and_several_files() {
        let set = parse(
            "diff --git a/src/new.rs b/src/new.rs\n\
             new file mode 100644\n\
             index 0000000..3333333\n\
             --- /dev/null\n\
             +++ b/src/new.rs\n\
             @@ -0,0 +1,3 @@\n\
             +fn a() {}\n\
             +\n\
             +fn b() {}\n\
             diff --git a/src/old.rs b/src/old.rs\n\
             deleted file mode 100644\n\
             index 4444444..0000000\n\
             --- a/src/old.rs\n\
             +++ /dev/null\n\
             @@ -1 +0,0 @@\n\
             -fn gone() {}\n\
             diff --git a/src/main.rs b/src/main.rs\n\
             index 5555555..6666666 100644\n\
             --- a/src/main.rs\n\
             +++ b/src/main.rs\n\
             @@ -1,0 +2 @@\n\
             +mod new;\n",
        );
        assert_eq!(set.files.len(), 2, "{set:?}");
        let new = change(&set, "src/new.rs");
        assert!(new.is_new);
        assert_eq!(new.added, vec![(1, 3)]);
        assert_eq!(change(&set, "src/main.rs").added, vec![(2, 2)]);
        assert!(!set.files.contains_key(Path::new("src/old.rs")));
    }

    #[test]
    fn plain_diff_u_keeps_paths() {
        let set = parse(
            "--- a/f.rs\t2024-01-01 00:00:00.000000000 +0000\n\
             +++ a/f.rs\t2024-01-02 00:00:00.000000000 +0000\n\
             @@ -1 +1 @@\n-x\n+y\n\
             --- src/g.rs\t2024-01-01 00:00:00.000000000 +0000\n\
             +++ src/g.rs\t2024-01-02 00:00:00.000000000 +0000\n\
             @@ -1 +1 @@\n-x\n+y\n",
        );
        // Not git's a/ and b/ pair, so `a/` is a real directory.
        let paths: Vec<_> = set.files.keys().cloned().collect();
        assert_eq!(
            paths,
            vec![PathBuf::from("a/f.rs"), PathBuf::from("src/g.rs")]
        );
    }

    #[test]
    fn git_no_prefix_keeps_paths() {
        let set = parse(
            "diff --git src/a.rs src/a.rs\nindex 1..2 100644\n--- src/a.rs\n+++ src/a.rs\n\
             @@ -1 +1 @@\n-x\n+y\n",
        );
        assert!(set.files.contains_key(Path::new("src/a.rs")), "{set:?}");
    }

    #[test]
    fn rename_binary_mode_and_quoted_paths() {
        let set = parse(
            "diff --git a/old.rs b/new.rs\n\
             similarity index 90%\n\
             rename from old.rs\n\
             rename to new.rs\n\
             --- a/old.rs\n\
             +++ b/new.rs\n\
             @@ -3 +3 @@\n-x\n+y\n\
             diff --git a/img.png b/img.png\n\
             index 1..2 100644\n\
             Binary files a/img.png and b/img.png differ\n\
             diff --git a/run.sh b/run.sh\n\
             old mode 100644\n\
             new mode 100755\n\
             diff --git \"a/t\\303\\244b.rs\" \"b/t\\303\\244b.rs\"\n\
             index 1..2 100644\n\
             --- \"a/t\\303\\244b.rs\"\n\
             +++ \"b/t\\303\\244b.rs\"\n\
             @@ -1 +1 @@\n-x\n+y\n",
        );
        let paths: Vec<_> = set.files.keys().cloned().collect();
        assert_eq!(
            paths,
            vec![PathBuf::from("new.rs"), PathBuf::from("täb.rs")]
        );
        assert_eq!(change(&set, "new.rs").added, vec![(3, 3)]);
    }

    #[test]
    fn empty_and_invalid_text() {
        assert_eq!(parse(""), ChangeSet::default());
        assert_eq!(parse("\n  \n"), ChangeSet::default());
        assert!(changes_from_diff_text("hello, world\n").is_err());
        assert!(changes_from_diff_text("--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-x\n").is_err());
    }

    #[test]
    fn diff_file_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.diff");
        assert!(
            matches!(changes_from_diff_file(&missing), Err(Error::DiffFile(p, _)) if p == missing)
        );
        let file = dir.path().join("ok.diff");
        std::fs::write(&file, "--- a/f.rs\n+++ b/f.rs\n@@ -1 +1 @@\n-x\n+y\n").unwrap();
        assert_eq!(
            change(&changes_from_diff_file(&file).unwrap(), "f.rs").added,
            vec![(1, 1)]
        );
    }

    #[test]
    fn touches_uses_both_kinds() {
        let c = FileChange {
            added: vec![(3, 5)],
            deleted_at: vec![9],
            is_new: false,
        };
        assert!(c.touches(5, 7) && c.touches(9, 9) && !c.touches(6, 8));
    }

    /// Runs git in `dir` for a test, with an identity and no signing, and panics on failure.
    fn run(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
            .args([
                "-c",
                "commit.gpgsign=false",
                "-c",
                "core.hooksPath=/dev/null",
            ])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    fn write(dir: &Path, path: &str, text: &str) {
        let full = dir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    /// A repository on `main` with one commit of `src/lib.rs` (10 numbered lines) and
    /// `src/gone.rs`.
    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        run(root, &["init", "-q", "-b", "main"]);
        let lines: String = (1..=10).map(|i| format!("line {i}\n")).collect();
        write(root, "src/lib.rs", &lines);
        write(root, "src/gone.rs", "fn gone() {}\n");
        write(root, ".gitignore", "/target\n");
        run(root, &["add", "-A"]);
        run(root, &["commit", "-q", "-m", "base"]);
        dir
    }

    #[test]
    fn repo_root_finds_top_and_rejects_plain_dirs() {
        let dir = repo();
        std::fs::create_dir_all(dir.path().join("src/deep")).unwrap();
        let root = repo_root(&dir.path().join("src/deep")).unwrap();
        assert_eq!(
            root.canonicalize().unwrap(),
            dir.path().canonicalize().unwrap()
        );

        let plain = tempfile::tempdir().unwrap();
        assert!(matches!(repo_root(plain.path()), Err(Error::NotAGitRepo(p)) if p == plain.path()));
        assert!(matches!(
            repo_root(&plain.path().join("nope")),
            Err(Error::Io { .. })
        ));
    }

    #[test]
    fn resolve_base_named_and_unknown() {
        let dir = repo();
        let head = run(dir.path(), &["rev-parse", "HEAD"]);
        assert_eq!(resolve_base(dir.path(), Some("HEAD")).unwrap(), head);
        assert_eq!(resolve_base(dir.path(), Some("main")).unwrap(), head);
        assert_eq!(resolve_base(dir.path(), None).unwrap(), head);
        for bad in ["no-such-branch", "--all", "", "HEAD~5"] {
            assert!(
                matches!(resolve_base(dir.path(), Some(bad)), Err(Error::UnknownBase(r)) if r == bad),
                "{bad}"
            );
        }
    }

    #[test]
    fn resolve_base_without_commits() {
        let dir = tempfile::tempdir().unwrap();
        run(dir.path(), &["init", "-q", "-b", "main"]);
        assert!(matches!(
            resolve_base(dir.path(), None),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            resolve_base(dir.path(), Some("HEAD")),
            Err(Error::UnknownBase(_))
        ));
    }

    #[test]
    fn default_base_is_merge_base_with_main() {
        let dir = repo();
        let root = dir.path();
        let fork = run(root, &["rev-parse", "HEAD"]);
        run(root, &["checkout", "-q", "-b", "feature"]);
        write(root, "src/lib.rs", "changed on feature\n");
        run(root, &["commit", "-q", "-am", "feature work"]);
        // main moves on after the fork; the base must stay at the fork point.
        run(root, &["checkout", "-q", "main"]);
        write(root, "other.rs", "main only\n");
        run(root, &["add", "other.rs"]);
        run(root, &["commit", "-q", "-m", "main work"]);
        run(root, &["checkout", "-q", "feature"]);
        assert_eq!(resolve_base(root, None).unwrap(), fork);
        let changes = changes_from_git(root, &fork).unwrap();
        assert!(
            !changes.files.contains_key(Path::new("other.rs")),
            "{changes:?}"
        );
    }

    #[test]
    fn git_changes_committed_uncommitted_and_untracked() {
        let dir = repo();
        let root = dir.path();
        let base = resolve_base(root, None).unwrap();
        run(root, &["checkout", "-q", "-b", "feature"]);
        let mut lines: Vec<String> = (1..=10).map(|i| format!("line {i}\n")).collect();
        // Committed: line 2 rewritten.
        lines[1] = "line two\n".into();
        write(root, "src/lib.rs", &lines.concat());
        run(root, &["commit", "-q", "-am", "two"]);
        // Staged: two lines inserted after line 5.
        lines.insert(5, "inserted a\n".into());
        lines.insert(6, "inserted b\n".into());
        write(root, "src/lib.rs", &lines.concat());
        run(root, &["add", "src/lib.rs"]);
        // Unstaged: the last two lines deleted (the file now has 10 lines).
        lines.truncate(10);
        write(root, "src/lib.rs", &lines.concat());
        run(root, &["rm", "-q", "src/gone.rs"]);
        write(root, "src/new.rs", "fn a() {}\n\nfn b() {}");
        write(root, "src/ünï.rs", "fn u() {}\n");
        write(root, "target/ignored.rs", "fn ignored() {}\n");
        write(root, "blob.bin", "\0\0\0binary");

        let changes = changes_from_git(root, &base).unwrap();
        assert_eq!(changes.base.as_deref(), Some(base.as_str()));
        let paths: Vec<_> = changes.files.keys().cloned().collect();
        assert_eq!(
            paths,
            ["src/lib.rs", "src/new.rs", "src/ünï.rs"]
                .map(PathBuf::from)
                .to_vec()
        );
        let lib = change(&changes, "src/lib.rs");
        assert_eq!(lib.added, vec![(2, 2), (6, 7)]);
        // The rewritten line 2, and the deletion at the end of the file (its last line, 10).
        assert_eq!(lib.deleted_at, vec![2, 10]);
        assert!(!lib.is_new);
        let new = change(&changes, "src/new.rs");
        assert!(new.is_new);
        assert_eq!(new.added, vec![(1, 3)]);
        assert_eq!(change(&changes, "src/ünï.rs").added, vec![(1, 1)]);
    }

    #[test]
    fn git_without_changes_is_empty() {
        let dir = repo();
        let base = resolve_base(dir.path(), None).unwrap();
        let changes = changes_from_git(dir.path(), &base).unwrap();
        assert!(changes.files.is_empty(), "{changes:?}");
        assert_eq!(changes.base, Some(base));
    }

    #[test]
    fn git_output_ignores_user_diff_config() {
        let dir = repo();
        let root = dir.path();
        let base = resolve_base(root, None).unwrap();
        for (key, value) in [
            ("diff.noprefix", "true"),
            ("diff.mnemonicPrefix", "true"),
            ("color.ui", "always"),
            ("diff.renames", "copies"),
        ] {
            run(root, &["config", key, value]);
        }
        write(root, "src/with space.rs", "a\n");
        run(root, &["add", "src/with space.rs"]);
        run(root, &["mv", "src/gone.rs", "src/moved.rs"]);
        let changes = changes_from_git(root, &base).unwrap();
        let paths: Vec<_> = changes.files.keys().cloned().collect();
        assert_eq!(
            paths,
            ["src/moved.rs", "src/with space.rs"]
                .map(PathBuf::from)
                .to_vec()
        );
        assert!(change(&changes, "src/moved.rs").is_new);
    }

    #[test]
    fn git_staged_new_file_is_new() {
        let dir = repo();
        let base = resolve_base(dir.path(), None).unwrap();
        write(dir.path(), "src/staged.rs", "a\nb\n");
        run(dir.path(), &["add", "src/staged.rs"]);
        let changes = changes_from_git(dir.path(), &base).unwrap();
        let staged = change(&changes, "src/staged.rs");
        assert!(staged.is_new);
        assert_eq!(staged.added, vec![(1, 2)]);
    }

    #[test]
    fn undoing_a_diff_gives_the_files_before_it() {
        let text = "diff --git a/src/lib.rs b/src/lib.rs\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,2 +1,2 @@\n fn a() {}\n-fn b() { 1 }\n+fn b() { 2 }\ndiff --git a/src/new.rs b/src/new.rs\nnew file mode 100644\n--- /dev/null\n+++ b/src/new.rs\n@@ -0,0 +1 @@\n+fn c() {}\n";
        let mut head = BTreeMap::new();
        head.insert(
            PathBuf::from("src/lib.rs"),
            b"fn a() {}\nfn b() { 2 }\n".to_vec(),
        );
        head.insert(PathBuf::from("src/new.rs"), b"fn c() {}\n".to_vec());
        let base = undo_diff(text.as_bytes(), &head, &|p| Some(p.to_path_buf())).unwrap();
        assert_eq!(
            base[&PathBuf::from("src/lib.rs")],
            b"fn a() {}\nfn b() { 1 }\n".to_vec()
        );
        assert!(!base.contains_key(&PathBuf::from("src/new.rs")));
    }
}
