//! Which commits of the change are AI-assisted (their trailers, their identities, or the pull
//! request's label), and the part of the change those commits wrote, for `--ai-only`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::diff::{self, ChangeSet, FileChange};
use crate::error::{Error, Result};
use crate::git;

/// What git's blame names a line that no commit holds yet.
const UNCOMMITTED: &str = "0000000000000000000000000000000000000000";

/// The message lines and identities that mark a commit as AI-assisted, each a case-insensitive
/// regular expression. Message patterns are matched against each line of the message (trimmed),
/// identity patterns against the author's and the committer's `Name <email>`.
const MESSAGE_PATTERNS: &[&str] = &[
    // The Linux kernel's and Fedora's trailers: `Assisted-by: AGENT:MODEL`.
    r"^(assisted|generated)-by:\s*\S",
    // Co-author trailers the assistants write, by name…
    r"^co-authored-by:\s*(github\s+)?(copilot|claude(\s+code)?|codex|openai\s+codex|cursor(\s*agent)?|aider(\s*\([^)]*\))?|devin(-ai-integration)?|amp|gemini(-code-assist)?|(google-labs-)?jules|copilot-swe-agent)(\[bot\])?\s*(<|$)",
    // …or by the addresses they use.
    r"^co-authored-by:.*<[^>]*(noreply@anthropic\.com|cursoragent@cursor\.com|noreply@aider\.chat|@ampcode\.com|\+copilot@users\.noreply\.github\.com|devin-ai-integration\[bot\]@users\.noreply\.github\.com|google-labs-jules\[bot\]@users\.noreply\.github\.com)>",
    r"^made-with:\s*cursor\b",
    // Claude Code's footer: `🤖 Generated with [Claude Code](https://claude.com/claude-code)`.
    r"generated with \[?claude code",
];

const IDENTITY_PATTERNS: &[&str] = &[
    r"^copilot\s*<",
    r"^(copilot-swe-agent|devin-ai-integration|google-labs-jules|gemini-code-assist|claude|cursor)\[bot\]\s*<",
    r"\(aider\)\s*<",
];

/// The patterns a run uses: the built-in ones and the team's own (from the configuration).
#[derive(Debug, Clone)]
pub struct AiPatterns {
    message: Vec<Regex>,
    identity: Vec<Regex>,
}

impl AiPatterns {
    /// The built-in patterns plus `extra`, each matched against message lines and identities.
    /// A pattern that is not a valid regular expression is a usage error naming it.
    pub fn new(extra: &[String]) -> Result<AiPatterns> {
        let compile = |p: &str| {
            RegexBuilder::new(p)
                .case_insensitive(true)
                .build()
                .map_err(|e| {
                    Error::Usage(format!(
                        "the AI commit pattern `{p}` is not a valid regular expression: {e}"
                    ))
                })
        };
        let mut message = MESSAGE_PATTERNS
            .iter()
            .map(|p| compile(p))
            .collect::<Result<Vec<_>>>()?;
        let mut identity = IDENTITY_PATTERNS
            .iter()
            .map(|p| compile(p))
            .collect::<Result<Vec<_>>>()?;
        for p in extra {
            let re = compile(p)?;
            message.push(re.clone());
            identity.push(re);
        }
        Ok(AiPatterns { message, identity })
    }

    /// The line of a commit that marks it AI-assisted (`Co-authored-by: Claude <…>`,
    /// `author Copilot <…>`), or None.
    fn evidence(&self, commit: &LogEntry) -> Option<String> {
        let line = commit
            .message
            .lines()
            .map(str::trim)
            .find(|line| self.message.iter().any(|re| re.is_match(line)));
        if let Some(line) = line {
            return Some(line.to_string());
        }
        [("author", &commit.author), ("committer", &commit.committer)]
            .into_iter()
            .find(|(_, who)| self.identity.iter().any(|re| re.is_match(who)))
            .map(|(role, who)| format!("{role} {who}"))
    }
}

/// A commit of the change that qualified as AI-assisted, and the line that says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AiCommit {
    pub sha: String,
    /// The abbreviated sha, as `git log` prints it.
    pub short: String,
    pub subject: String,
    /// The trailer, identity or label that made it qualify.
    pub evidence: String,
}

/// One commit as `git log` gave it.
struct LogEntry {
    sha: String,
    short: String,
    author: String,
    committer: String,
    subject: String,
    message: String,
}

/// The commits in `base..HEAD`, newest first.
fn log(repo: &Path, base: &str) -> Result<Vec<LogEntry>> {
    let range = format!("{base}..HEAD");
    let format = "--format=%H%x1f%h%x1f%an <%ae>%x1f%cn <%ce>%x1f%s%x1f%B";
    let out = git::run(repo, &["log", "-z", "--no-color", format, &range, "--"])?;
    let text = String::from_utf8_lossy(&out);
    let entries = text
        .split('\0')
        .filter(|r| !r.trim().is_empty())
        .filter_map(|record| {
            let mut fields = record.trim_start_matches('\n').splitn(6, '\x1f');
            Some(LogEntry {
                sha: fields.next()?.to_string(),
                short: fields.next()?.to_string(),
                author: fields.next()?.to_string(),
                committer: fields.next()?.to_string(),
                subject: fields.next()?.to_string(),
                message: fields.next().unwrap_or_default().to_string(),
            })
        });
    Ok(entries.collect())
}

/// The commits in `base..HEAD` that are AI-assisted: every one when the pull request carries
/// `label` (`labels` are the pull request's, from [`pull_request_labels`]), else those whose
/// message or identity matches `patterns`. Oldest first.
pub fn ai_commits(
    repo: &Path,
    base: &str,
    patterns: &AiPatterns,
    label: Option<&str>,
) -> Result<Vec<AiCommit>> {
    let mut commits: Vec<AiCommit> = log(repo, base)?
        .into_iter()
        .filter_map(|c| {
            let evidence = match label {
                Some(label) => format!("pull request label `{label}`"),
                None => patterns.evidence(&c)?,
            };
            Some(AiCommit {
                sha: c.sha,
                short: c.short,
                subject: c.subject,
                evidence,
            })
        })
        .collect();
    commits.reverse();
    Ok(commits)
}

/// The labels of the pull request in the GitHub Actions event file `GITHUB_EVENT_PATH`
/// (`pull_request.labels[].name`); empty when the variable is unset or the event is not a
/// pull request's. An event file that cannot be read is an error: the run would otherwise
/// quietly ignore the label.
pub fn pull_request_labels() -> Result<Vec<String>> {
    let Some(path) = std::env::var_os("GITHUB_EVENT_PATH") else {
        return Ok(Vec::new());
    };
    let path = PathBuf::from(path);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::io(
            format!(
                "reading the GitHub event file {} (GITHUB_EVENT_PATH)",
                path.display()
            ),
            e,
        )
    })?;
    let event: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "the GitHub event file {} (GITHUB_EVENT_PATH) is not JSON: {e}",
            path.display()
        ))
    })?;
    let labels = event["pull_request"]["labels"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(labels
        .iter()
        .filter_map(|l| l["name"].as_str().map(str::to_string))
        .collect())
}

/// The part of `all` (the change from `base` to the working tree) that `commits` wrote: each
/// added line that `git blame` of the working tree gives to one of them (or to no commit yet,
/// with `uncommitted`), and each point where one of them deleted lines, followed to where it
/// is in the working tree.
pub fn ai_changes(
    repo: &Path,
    base: &str,
    all: &ChangeSet,
    commits: &[AiCommit],
    uncommitted: bool,
) -> Result<ChangeSet> {
    let ours: BTreeSet<&str> = commits.iter().map(|c| c.sha.as_str()).collect();
    let mut files: BTreeMap<PathBuf, FileChange> = BTreeMap::new();
    for (path, change) in &all.files {
        let owners = blame(repo, base, path, change)?;
        let mut mine = FileChange {
            is_new: change.is_new,
            ..FileChange::default()
        };
        for (line, sha) in owners {
            if ours.contains(sha.as_str()) || (uncommitted && sha == UNCOMMITTED) {
                mine.push_added(line);
            }
        }
        files.insert(path.clone(), mine);
    }
    // Deleted lines leave nothing to blame: take them from each commit's own diff, where only
    // lines deleted with nothing written in their place count (a rewrite's new lines are
    // blamed above), and follow them to where they are now.
    for commit in commits {
        let deletions = diff::hunks_of_commit(repo, &commit.sha)?;
        if deletions.values().all(|h| h.pure_deletions().is_empty()) {
            continue;
        }
        let since = diff::hunks_since_commit(repo, &commit.sha)?;
        for (path, hunks) in deletions {
            let Some(mine) = files.get_mut(&path) else {
                continue;
            };
            let now = since.get(&path);
            let at = hunks.pure_deletions().into_iter();
            mine.deleted_at
                .extend(at.map(|l| now.map_or(l, |m| m.map(l))));
        }
    }
    if uncommitted {
        for (path, hunks) in diff::hunks_since_commit(repo, "HEAD")? {
            if let Some(mine) = files.get_mut(&path) {
                mine.deleted_at.extend(hunks.pure_deletions());
            }
        }
    }
    for change in files.values_mut() {
        change.deleted_at.sort_unstable();
        change.deleted_at.dedup();
    }
    files.retain(|_, c| !c.added.is_empty() || !c.deleted_at.is_empty());
    let mut changes = ChangeSet {
        base: all.base.clone(),
        files,
    };
    changes.clamp_deletions_to_files(repo);
    Ok(changes)
}

/// The commit that last touched each added line of `change` in the working tree's `path`,
/// within `base..HEAD` (lines older than the base are the base's; lines not committed yet are
/// [`UNCOMMITTED`]'s).
fn blame(
    repo: &Path,
    base: &str,
    path: &Path,
    change: &FileChange,
) -> Result<Vec<(usize, String)>> {
    if change.added.is_empty() {
        return Ok(Vec::new());
    }
    let rel = path.to_string_lossy();
    // A file HEAD does not have (untracked, or only added to the index) has no committed line.
    if git::ok(repo, &["cat-file", "-e", &format!("HEAD:{rel}")])?.is_none() {
        let lines = change.added.iter().flat_map(|&(a, b)| a..=b);
        return Ok(lines.map(|l| (l, UNCOMMITTED.to_string())).collect());
    }
    let ranges: Vec<String> = change
        .added
        .iter()
        .map(|(a, b)| format!("-L{a},{b}"))
        .collect();
    let range = format!("{base}..HEAD");
    let mut args = vec!["blame", "--porcelain", "--contents", rel.as_ref()];
    args.extend(ranges.iter().map(String::as_str));
    args.extend([range.as_str(), "--", rel.as_ref()]);
    let out = git::run(repo, &args)?;
    Ok(porcelain_owners(&String::from_utf8_lossy(&out)))
}

/// The `(final line, commit)` pairs of `git blame --porcelain` output: the header line of each
/// blamed line is `<sha> <original line> <final line> [<group size>]`.
fn porcelain_owners(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .filter(|l| !l.starts_with('\t'))
        .filter_map(|l| {
            let mut fields = l.split(' ');
            let sha = fields.next()?;
            let is_sha = sha.len() >= 40 && sha.bytes().all(|b| b.is_ascii_hexdigit());
            let _original: usize = fields.next()?.parse().ok()?;
            let line: usize = fields.next()?.parse().ok()?;
            is_sha.then(|| (line, sha.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(author: &str, message: &str) -> LogEntry {
        LogEntry {
            sha: "0".repeat(40),
            short: "0000000".into(),
            author: author.into(),
            committer: "GitHub <noreply@github.com>".into(),
            subject: message.lines().next().unwrap_or_default().into(),
            message: message.into(),
        }
    }

    #[test]
    fn the_assistants_own_marks_qualify() {
        let patterns = AiPatterns::new(&[]).unwrap();
        let human = "Ann <ann@example.com>";
        let marked = [
            "Fix\n\nAssisted-by: Claude:claude-sonnet-4\n",
            "Fix\n\ngenerated-by: gpt-5\n",
            "Fix\n\nCo-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>\n",
            "Fix\n\nCo-authored-by: Claude <noreply@anthropic.com>\n",
            "Fix\n\nCo-authored-by: Cursor Agent <cursoragent@cursor.com>\n",
            "Fix\n\nCo-authored-by: aider (gpt-4o) <noreply@aider.chat>\n",
            "Fix\n\nCo-authored-by: devin-ai-integration[bot] <158243242+devin-ai-integration[bot]@users.noreply.github.com>\n",
            "Fix\n\nCo-authored-by: Amp <amp@ampcode.com>\n",
            "Fix\n\nCo-authored-by: gemini-code-assist[bot] <x@users.noreply.github.com>\n",
            "Fix\n\nCo-authored-by: google-labs-jules[bot] <y@users.noreply.github.com>\n",
            "Fix\n\nCo-authored-by: Codex <codex@openai.com>\n",
            "Fix\n\nMade-with: Cursor\n",
            "Fix\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n",
        ];
        for message in marked {
            assert!(
                patterns.evidence(&entry(human, message)).is_some(),
                "{message}"
            );
        }
        for author in [
            "Copilot <198982749+Copilot@users.noreply.github.com>",
            "copilot-swe-agent[bot] <1@users.noreply.github.com>",
            "devin-ai-integration[bot] <2@users.noreply.github.com>",
            "Ann Smith (aider) <ann@example.com>",
        ] {
            let found = patterns.evidence(&entry(author, "Fix\n"));
            assert_eq!(found, Some(format!("author {author}")));
        }
    }

    #[test]
    fn people_with_the_same_names_do_not() {
        let patterns = AiPatterns::new(&[]).unwrap();
        for message in [
            "Fix\n\nCo-authored-by: Jules Verne <jules@example.com>\n",
            "Fix\n\nCo-authored-by: Devin Jones <devin@example.com>\n",
            "Fix the copilot integration\n",
            "Mention Claude Code in the docs\n",
        ] {
            let found = patterns.evidence(&entry("Ann <ann@example.com>", message));
            assert_eq!(found, None, "{message}");
        }
    }

    #[test]
    fn a_team_adds_its_own_pattern() {
        let patterns = AiPatterns::new(&["^ai-tool:".into()]).unwrap();
        let found = patterns.evidence(&entry("Ann <ann@example.com>", "Fix\n\nAI-Tool: inhouse\n"));
        assert_eq!(found.as_deref(), Some("AI-Tool: inhouse"));
        let bad = AiPatterns::new(&["(".into()]).unwrap_err().to_string();
        assert!(bad.contains("`(`"), "{bad}");
    }

    #[test]
    fn porcelain_headers_give_line_owners() {
        let text = "\
aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1 1 2
author h
summary base
boundary
filename f
\ta
aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 2 2
\tb
0000000000000000000000000000000000000000 4 3 1
author External file (--contents)
previous bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb f
\tc
";
        let owners = porcelain_owners(text);
        assert_eq!(
            owners,
            vec![
                (1, "a".repeat(40)),
                (2, "a".repeat(40)),
                (3, UNCOMMITTED.to_string()),
            ]
        );
    }
}
