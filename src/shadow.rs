//! Scratch copies of the user's workspace under the target dir, with entry modules injected so the harness reaches private functions; the user's tree is only read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::error::{Error, Result};
use crate::generate::{by_tag, conv_expr, field_at, owned_type, Conv, ConvAt};
use crate::plan::{AdtDef, CallPlan, CtorKind, Fields, Shape, Ty};
use crate::select::{ChangedFn, Module};

/// Name of the module injected into every module on the way to a tested function.
pub const ENTRY_MODULE: &str = "__edgecheck_entry";

/// A function to expose through the entry modules.
pub struct Exposed<'a> {
    /// The harness target id; the wrapper is called `f<id>`.
    pub id: usize,
    pub func: &'a ChangedFn,
    pub plan: &'a CallPlan,
}

/// Where injected code for a target landed in the copy, so a build error there can be pinned on it.
#[derive(Debug, Clone)]
pub struct InjectedSpan {
    /// The file in the scratch copy.
    pub file: PathBuf,
    pub line: usize,
    /// 1-based char columns, inclusive start, exclusive end.
    pub columns: (usize, usize),
    /// The target whose wrapper this is; `None` for the module plumbing around wrappers.
    pub target: Option<usize>,
    /// For the plumbing that re-exports a child module's entry module: that module's path (an
    /// error there means the module is not compiled, so nothing under it can be reached).
    pub child: Option<Vec<String>>,
}

/// The path inside the entry modules at which a target's wrapper is reached from the crate root:
/// `__edgecheck_entry::m_a::m_b::f3`.
pub fn wrapper_path(module: &[String], id: usize) -> Vec<String> {
    let mut p = vec![ENTRY_MODULE.to_string()];
    p.extend(
        module
            .iter()
            .map(|m| format!("m_{}", m.trim_start_matches("r#"))),
    );
    p.push(format!("f{id}"));
    p
}

/// The path from the crate root to the constructor injected for target `id` of the crate type
/// `name` declared in `module`: `__edgecheck_entry::m_a::mk3_Rect`.
pub fn constructor_path(def: &AdtDef, id: usize) -> Vec<String> {
    let mut p = wrapper_path(&def.module, id);
    p.pop();
    p.push(constructor_name(id, def));
    p
}

/// Most items taken from a returned iterator: enough for lazy panics to show, bounded for
/// endless ones.
const DRAIN_CAP: usize = 10_000;

/// The panic message of a constructor that refused its generated arguments (`None`, `Err`):
/// the harness runtime passes over such an input. The runtime template spells it out too.
pub const REJECT_MESSAGE: &str = "edgecheck: input rejected by the type's constructor";

fn constructor_name(id: usize, def: &AdtDef) -> String {
    let steps = if matches!(def.shape, Shape::Steps { .. }) {
        "s"
    } else {
        ""
    };
    // One constructor per instantiation of a generic type.
    let args = if def.type_args.is_empty() {
        String::new()
    } else {
        let h = def
            .type_args
            .join(",")
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
        format!("_{:08x}", h as u32)
    };
    format!("mk{steps}{id}_{}{args}", def.name.trim_start_matches("r#"))
}

/// The source files of the workspace at `root`, relative to it: what git tracks plus untracked
/// files it does not ignore, or, outside git, every file except build output and hidden dirs.
pub fn workspace_files(root: &Path) -> Result<BTreeMap<PathBuf, Vec<u8>>> {
    let listed = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output();
    let rel_paths: Vec<PathBuf> = match listed {
        Ok(out) if out.status.success() => out
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
            .collect(),
        _ => walk(root)?,
    };
    let mut files = BTreeMap::new();
    for rel in rel_paths {
        let abs = root.join(&rel);
        // A tracked file deleted in the working tree, or a directory (submodule): nothing to copy.
        if !abs.is_file() {
            continue;
        }
        let bytes =
            std::fs::read(&abs).map_err(|e| Error::io(format!("reading {}", abs.display()), e))?;
        files.insert(rel, bytes);
    }
    Ok(files)
}

/// The files of the workspace as they were at commit `sha`, read from git objects (no checkout):
/// paths relative to the workspace root, which is `ws_rel` inside the repository at `repo`.
pub fn files_at_commit(
    repo: &Path,
    sha: &str,
    ws_rel: &Path,
) -> Result<BTreeMap<PathBuf, Vec<u8>>> {
    let prefix = ws_rel.to_string_lossy().replace('\\', "/");
    let mut ls = Command::new("git");
    ls.args(["ls-tree", "-r", "-z", "--full-tree", sha])
        .current_dir(repo)
        .env("GIT_OPTIONAL_LOCKS", "0");
    if !prefix.is_empty() {
        ls.arg("--").arg(&prefix);
    }
    let out = ls.output().map_err(|source| Error::Spawn {
        program: "git".into(),
        source,
    })?;
    if !out.status.success() {
        return Err(Error::Git {
            args: format!("ls-tree -r {sha}"),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    // `<mode> blob <oid>\t<path>`; symlinks (120000) and submodules (commit) have no text to copy.
    let mut entries: Vec<(String, PathBuf)> = Vec::new();
    for rec in out.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let rec = String::from_utf8_lossy(rec);
        let Some((meta, path)) = rec.split_once('\t') else {
            continue;
        };
        let fields: Vec<&str> = meta.split(' ').collect();
        if fields.len() != 3 || fields[1] != "blob" || fields[0] == "120000" {
            continue;
        }
        let rel = Path::new(path)
            .strip_prefix(&prefix)
            .unwrap_or(Path::new(path))
            .to_path_buf();
        entries.push((fields[2].to_string(), rel));
    }
    let blobs = cat_blobs(repo, entries.iter().map(|(oid, _)| oid.as_str()))?;
    Ok(entries.into_iter().map(|(_, rel)| rel).zip(blobs).collect())
}

/// The contents of the given blobs, in order, through one `git cat-file --batch`.
fn cat_blobs<'a>(repo: &Path, oids: impl Iterator<Item = &'a str>) -> Result<Vec<Vec<u8>>> {
    use std::io::{BufRead, Read, Write};
    let input: String = oids.map(|o| format!("{o}\n")).collect();
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .current_dir(repo)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn {
            program: "git".into(),
            source,
        })?;
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

/// Renames the package whose manifest is at `manifest` (relative path in `files`) so that it
/// links into the harness beside the head version of the same package.
pub fn rename_package(
    files: &mut BTreeMap<PathBuf, Vec<u8>>,
    manifest: &Path,
    new_name: &str,
) -> bool {
    let Some(bytes) = files.get_mut(manifest) else {
        return false;
    };
    let Ok(mut doc) = String::from_utf8_lossy(bytes).parse::<toml_edit::DocumentMut>() else {
        return false;
    };
    let Some(package) = doc.get_mut("package").and_then(|p| p.as_table_like_mut()) else {
        return false;
    };
    package.insert("name", toml_edit::value(new_name));
    // Two packages may not declare the same native library; the head copy keeps the key.
    package.remove("links");
    *bytes = doc.to_string().into_bytes();
    true
}

/// Every file under `root` but `target/` and hidden directories, for workspaces outside git.
fn walk(root: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| Error::io(format!("listing {}", dir.display()), e))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name_str = name.to_string_lossy();
            let child = rel.join(&name);
            let ft = match entry.file_type() {
                Ok(ft) => ft,
                Err(_) => continue,
            };
            if ft.is_dir() {
                if name_str != "target" && !name_str.starts_with('.') {
                    stack.push(child);
                }
            } else if ft.is_file() {
                out.push(child);
            }
        }
    }
    Ok(out)
}

/// Rewrites relative `path` dependencies that point outside the workspace to absolute paths, so
/// they still resolve from the scratch copy.
pub fn rewrite_manifests(files: &mut BTreeMap<PathBuf, Vec<u8>>, ws_root: &Path) -> Result<()> {
    for (rel, bytes) in files.iter_mut() {
        if rel.file_name().and_then(|n| n.to_str()) != Some("Cargo.toml") {
            continue;
        }
        let text = String::from_utf8_lossy(bytes).into_owned();
        let Ok(mut doc) = text.parse::<toml_edit::DocumentMut>() else {
            continue; // cargo will report the broken manifest itself
        };
        let manifest_dir = ws_root.join(rel.parent().unwrap_or(Path::new("")));
        let mut changed = false;
        fix_paths(
            doc.as_item_mut(),
            &mut Vec::new(),
            &manifest_dir,
            ws_root,
            &mut changed,
        );
        if changed {
            *bytes = doc.to_string().into_bytes();
        }
    }
    Ok(())
}

/// Walks a manifest, fixing `path = "…"` keys of dependency-like tables.
fn fix_paths(
    item: &mut toml_edit::Item,
    keys: &mut Vec<String>,
    dir: &Path,
    ws_root: &Path,
    changed: &mut bool,
) {
    let in_deps = keys
        .iter()
        .any(|k| k.ends_with("dependencies") || k == "patch" || k == "replace");
    let is_workspace_key = keys.len() == 2 && keys[0] == "package" && keys[1] == "workspace";
    if let Some(table) = item.as_table_like_mut() {
        let keys_here: Vec<String> = table.iter().map(|(k, _)| k.to_string()).collect();
        for k in keys_here {
            if in_deps && k == "path" {
                if let Some(v) = table.get_mut(&k) {
                    absolutize(v, dir, ws_root, changed);
                }
                continue;
            }
            if let Some(child) = table.get_mut(&k) {
                keys.push(k);
                fix_paths(child, keys, dir, ws_root, changed);
                keys.pop();
            }
        }
    } else if is_workspace_key {
        absolutize(item, dir, ws_root, changed);
    }
}

fn absolutize(v: &mut toml_edit::Item, dir: &Path, ws_root: &Path, changed: &mut bool) {
    let Some(p) = v.as_str() else { return };
    let p = Path::new(p);
    if p.is_absolute() {
        return;
    }
    let resolved = normalize(&dir.join(p));
    if resolved.starts_with(normalize(ws_root)) {
        return; // copied along with the workspace: the relative path still holds
    }
    *v = toml_edit::value(resolved.to_string_lossy().into_owned());
    *changed = true;
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Code to insert at a position of a file (`None`: at the end), as pieces each belonging to a
/// target or to the module plumbing.
type Insertion = (Option<(usize, usize)>, Vec<Piece>);

/// Injected text, the target it belongs to, and the child module it re-exports.
type Piece = (String, Option<usize>, Option<Vec<String>>);

/// Injects the entry modules for `exposed` into the package's files (paths relative to the
/// workspace root, where the scanned `modules` live under `ws_root`), returning where each
/// piece landed in `copy_root`.
///
/// Injected code is one line per module, placed at the end of a file module or just before the
/// closing brace of an inline one, so every line of the user's code keeps its number and panic
/// locations read the same as in the user's tree.
pub fn inject(
    files: &mut BTreeMap<PathBuf, Vec<u8>>,
    ws_root: &Path,
    copy_root: &Path,
    modules: &[Module],
    exposed: &[Exposed],
) -> Result<Vec<InjectedSpan>> {
    // Every module on the way from the root to a tested function gets an entry module.
    let mut needed: BTreeSet<Vec<String>> = BTreeSet::new();
    // The crate types each target builds, which get constructors next to their declaration.
    let adts: Vec<Vec<&AdtDef>> = exposed
        .iter()
        .map(|e| {
            let mut out = Vec::new();
            e.plan.args.iter().for_each(|a| a.ty.collect_adts(&mut out));
            out
        })
        .collect();
    for (e, adts) in exposed.iter().zip(&adts) {
        let modules = std::iter::once(&e.func.module).chain(adts.iter().map(|d| &d.module));
        for module in modules {
            for n in 0..=module.len() {
                needed.insert(module[..n].to_vec());
            }
        }
    }
    // Insertions per file: (line, char column or None for end of file, text pieces).
    let mut per_file: BTreeMap<PathBuf, Vec<Insertion>> = BTreeMap::new();
    for path in &needed {
        let Some(module) = modules.iter().find(|m| &m.path == path) else {
            return Err(Error::Usage(format!(
                "internal: module `{}` was not scanned",
                path.join("::")
            )));
        };
        let mut pieces: Vec<Piece> = Vec::new();
        pieces.push((
            format!(
                "#[cfg(edgecheck)] #[doc(hidden)] #[allow(warnings, unused, missing_docs, clippy::all)] pub mod {ENTRY_MODULE} {{ extern crate std; #[allow(unused_imports)] use super::*; "
            ),
            None,
            None,
        ));
        for child in needed
            .iter()
            .filter(|c| c.len() == path.len() + 1 && c.starts_with(path))
        {
            let child_mod = modules.iter().find(|m| &m.path == child);
            let cfgs = child_mod.map(|m| m.cfg_attrs.join(" ")).unwrap_or_default();
            let name = child.last().cloned().unwrap_or_default();
            pieces.push((
                format!(
                    "{cfgs} pub use super::{name}::{ENTRY_MODULE} as m_{}; ",
                    name.trim_start_matches("r#")
                ),
                None,
                Some(child.clone()),
            ));
        }
        for e in exposed.iter().filter(|e| &e.func.module == path) {
            pieces.push((local_std(&wrapper(e)), Some(e.id), None));
        }
        for (e, adts) in exposed.iter().zip(&adts) {
            for d in adts.iter().filter(|d| &d.module == path) {
                pieces.push((local_std(&constructor(e.id, d)), Some(e.id), None));
            }
        }
        pieces.push(("}".to_string(), None, None));
        let rel = module
            .file
            .strip_prefix(ws_root)
            .map_err(|_| {
                Error::Usage(format!(
                    "{} is outside the workspace {}",
                    module.file.display(),
                    ws_root.display()
                ))
            })?
            .to_path_buf();
        per_file
            .entry(rel)
            .or_default()
            .push((module.inline_close, pieces));
    }
    let mut spans = Vec::new();
    for (rel, mut inserts) in per_file {
        let Some(bytes) = files.get_mut(&rel) else {
            return Err(Error::Usage(format!(
                "internal: {} is not among the workspace files",
                rel.display()
            )));
        };
        let mut text = String::from_utf8_lossy(bytes).into_owned();
        // Later positions first, so earlier ones stay valid; end of file is last of all.
        inserts.sort_by_key(|(pos, _)| {
            std::cmp::Reverse(pos.map(|p| (p.0, p.1)).unwrap_or((usize::MAX, 0)))
        });
        for (pos, pieces) in inserts {
            let (offset, line, col0) = match pos {
                Some((line, col)) => (byte_offset(&text, line, col), line, col),
                None => {
                    if !text.ends_with('\n') {
                        text.push('\n');
                    }
                    let line = text.lines().count() + 1;
                    (text.len(), line, 0)
                }
            };
            let mut col = col0 + 1;
            let mut line_text = String::new();
            for (piece, target, child) in pieces {
                let width = piece.chars().count();
                spans.push(InjectedSpan {
                    file: copy_root.join(&rel),
                    line,
                    columns: (col, col + width),
                    target,
                    child,
                });
                col += width;
                line_text.push_str(&piece);
            }
            if pos.is_none() {
                line_text.push('\n');
            }
            text.insert_str(offset, &line_text);
        }
        *bytes = text.into_bytes();
    }
    Ok(spans)
}

/// Keywords a path may follow, so a `::std` after them is a leading one.
const PATH_KEYWORDS: &[&str] = &[
    "as", "box", "break", "const", "dyn", "else", "for", "if", "impl", "in", "let", "match",
    "move", "mut", "ref", "return", "static", "unsafe", "where", "while", "yield",
];

/// Injected code with its `::std::…` and `::core::…` paths through the entry module's own
/// `extern crate std`: in a `#![no_std]` crate `::std` does not exist, and in a 2015-edition
/// crate `::core` means `crate::core`.
fn local_std(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some((at, len)) = [":: std ::", ":: core ::"]
        .iter()
        .filter_map(|p| rest.find(p).map(|i| (i, p.len())))
        .min()
    {
        // Only a leading `::` (after punctuation or a keyword, as in `<T as ::core::Default>`),
        // not `crate :: core :: Word`.
        let head = rest[..at].trim_end();
        let word: String = head
            .chars()
            .rev()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let leading = word.is_empty() || PATH_KEYWORDS.contains(&word.as_str());
        out.push_str(&rest[..at]);
        out.push_str(if leading {
            "std ::"
        } else {
            &rest[at..at + len]
        });
        rest = &rest[at + len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod local_std_tests {
    #[test]
    fn only_leading_std_and_core_paths_change() {
        assert_eq!(
            super::local_std(
                "let x = :: core :: clone :: Clone :: clone (& crate :: core :: Word) ;"
            ),
            "let x = std :: clone :: Clone :: clone (& crate :: core :: Word) ;"
        );
        assert_eq!(
            super::local_std("(:: std :: vec :: Vec)"),
            "(std :: vec :: Vec)"
        );
        assert_eq!(
            super::local_std("< super :: M as :: core :: default :: Default >"),
            "< super :: M as std :: default :: Default >"
        );
        assert_eq!(
            super::local_std("match :: std :: panic :: catch_unwind (f) { }"),
            "match std :: panic :: catch_unwind (f) { }"
        );
    }
}

/// Attributes that give an item a fixed link-time symbol name.
const EXPORT_ATTRS: &[&str] = &["no_mangle", "export_name"];

/// Blanks out `#[no_mangle]` and `#[export_name = "…"]` (also in their `#[unsafe(…)]` form, and
/// inside macro bodies) in every Rust file of a copy. The head and base versions of a crate link
/// into one harness, where a symbol both export would be defined twice; the harness calls
/// functions by their Rust paths and never needs the symbols. The attribute's text is replaced
/// by spaces, so every line and column of the user's code stays where it was.
pub fn strip_exports(files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for (rel, bytes) in files.iter_mut() {
        if rel.extension().and_then(|e| e.to_str()) != Some("rs")
            || !EXPORT_ATTRS
                .iter()
                .any(|a| bytes.windows(a.len()).any(|w| w == a.as_bytes()))
        {
            continue;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            continue;
        };
        let Ok(tokens) = text.parse::<proc_macro2::TokenStream>() else {
            continue;
        };
        let mut ranges = Vec::new();
        export_attr_ranges(tokens, text, &mut ranges);
        if ranges.is_empty() {
            continue;
        }
        let mut out = text.as_bytes().to_vec();
        for (start, end) in ranges {
            for b in &mut out[start..end] {
                if *b != b'\n' {
                    *b = b' ';
                }
            }
        }
        *bytes = out;
    }
}

/// Byte ranges of the export attributes (`#` through `]`) among `tokens`, at any depth.
fn export_attr_ranges(tokens: proc_macro2::TokenStream, text: &str, out: &mut Vec<(usize, usize)>) {
    use proc_macro2::{Delimiter, TokenTree};
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, tree) in trees.iter().enumerate() {
        let TokenTree::Group(g) = tree else { continue };
        let is_attr = g.delimiter() == Delimiter::Bracket
            && i > 0
            && matches!(&trees[i - 1], TokenTree::Punct(p) if p.as_char() == '#');
        if is_attr && is_export_attr(g.stream()) {
            let start = trees[i - 1].span().start();
            let end = g.span().end();
            out.push((
                byte_offset(text, start.line, start.column),
                byte_offset(text, end.line, end.column),
            ));
            continue;
        }
        export_attr_ranges(g.stream(), text, out);
    }
}

/// `no_mangle`, `export_name = "…"`, `unsafe(no_mangle)`, `unsafe(export_name = "…")`.
fn is_export_attr(attr: proc_macro2::TokenStream) -> bool {
    use proc_macro2::TokenTree;
    let mut trees = attr.into_iter();
    match trees.next() {
        Some(TokenTree::Ident(i)) if EXPORT_ATTRS.iter().any(|a| i == a) => true,
        Some(TokenTree::Ident(i)) if i == "unsafe" => match trees.next() {
            Some(TokenTree::Group(g)) => is_export_attr(g.stream()),
            _ => false,
        },
        _ => false,
    }
}

/// The byte offset of a 1-based line and 0-based char column.
fn byte_offset(text: &str, line: usize, col: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset + l.char_indices().nth(col).map(|(b, _)| b).unwrap_or(l.len());
        }
        offset += l.len();
    }
    text.len()
}

/// `pub fn f3<'a>(a0: &'a str, a1: usize) -> &'a str { super::truncate(a0, a1) }`, on one line.
fn wrapper(e: &Exposed) -> String {
    let name = format_ident!("f{}", e.id);
    let generics = &e.plan.generics;
    let where_clause = &generics.where_clause;
    let cx = Conv {
        at: ConvAt::InCrate,
        target: e.id,
    };
    // An argument of a type the harness cannot name comes as its mirror, built here.
    let params = e.plan.args.iter().enumerate().map(|(i, a)| {
        let id = format_ident!("a{}", i);
        if a.in_crate {
            let mirror = owned_type(&a.ty);
            // A value built from it may borrow it for the function's lifetime.
            match generics.lifetimes().next() {
                Some(l) => {
                    let l = &l.lifetime;
                    quote!(#id: &#l #mirror)
                }
                None => quote!(#id: &#mirror),
            }
        } else {
            let ty = &a.written;
            quote!(#id: #ty)
        }
    });
    let args: Vec<TokenStream> = e
        .plan
        .args
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let id = format_ident!("a{}", i);
            if a.in_crate {
                conv_expr(&a.ty, quote!(#id), 0, &cx)
            } else {
                quote!(#id)
            }
        })
        .collect();
    let ret = &e.plan.ret;
    let callee = &e.plan.callee;
    let cfgs = e.func.cfg_attrs.join(" ");
    let call = if let Some(spec) = e.plan.format_spec {
        quote!({ ::std::format!(#spec, #(#args),*) })
    } else if e.plan.drain_iterator {
        let cap = DRAIN_CAP;
        quote!({
            ::core::iter::Iterator::collect(::core::iter::Iterator::take(#callee(#(#args),*), #cap))
        })
    } else if e.plan.discard_result {
        quote!({ let _ = #callee(#(#args),*); })
    } else if e.plan.observe_in_crate {
        // `Debug` text when the type has it (autoref picks the first impl that applies).
        quote!({
            let r = #callee(#(#args),*);
            struct O<'r, T>(&'r T);
            trait ViaDebug { fn obs(&self) -> ::core::option::Option<::std::string::String>; }
            impl<T: ::core::fmt::Debug> ViaDebug for &O<'_, T> {
                fn obs(&self) -> ::core::option::Option<::std::string::String> {
                    ::core::option::Option::Some(::std::format!("{:?}", self.0))
                }
            }
            trait ViaNothing { fn obs(&self) -> ::core::option::Option<::std::string::String>; }
            impl<T> ViaNothing for O<'_, T> {
                fn obs(&self) -> ::core::option::Option<::std::string::String> {
                    ::core::option::Option::None
                }
            }
            (&O(&r)).obs()
        })
    } else {
        quote!({ #callee(#(#args),*) })
    };
    format!(
        "{cfgs} {} ",
        quote!(pub fn #name #generics (#(#params),*) #ret #where_clause #call)
    )
}

/// `pub fn mk3_Rect<'a>(m: &'a (u32, u32)) -> super::Rect { super::Rect { w: m.0.clone(), … } }`:
/// builds a crate type from its mirror, inside the declaring module so private fields are
/// reachable. It borrows the mirror, so types with lifetimes (`Word<'a>` holding a `&'a str`)
/// borrow from it.
fn constructor(id: usize, def: &AdtDef) -> String {
    let name = format_ident!("{}", constructor_name(id, def));
    let ty = syn::parse_str::<syn::Ident>(&def.name)
        .unwrap_or_else(|_| format_ident!("{}", def.name.trim_start_matches("r#")));
    let layout = def.mirror();
    let mirror = owned_type(&layout.ty);
    let cx = Conv {
        at: ConvAt::InCrate,
        target: id,
    };
    let at = |path: &[usize]| field_at(quote!(m), path);
    let build = |f: &Fields, paths: &[Vec<usize>], ctor: TokenStream| -> TokenStream {
        let values: Vec<TokenStream> = f
            .types()
            .iter()
            .zip(paths)
            .map(|(t, p)| conv_expr(t, at(p), 0, &cx))
            .collect();
        match f {
            Fields::Unit => ctor,
            Fields::Tuple(_) => quote!(#ctor(#(#values),*)),
            Fields::Named(named) => {
                let names = named.iter().map(|(n, _)| {
                    syn::parse_str::<syn::Ident>(n).unwrap_or_else(|_| format_ident!("{}", n))
                });
                quote!(#ctor { #(#names: #values),* })
            }
        }
    };
    let body = match &def.shape {
        Shape::Struct(f) => build(f, &layout.fields[0], quote!(super::#ty)),
        Shape::Enum(variants) => {
            let arms = variants.iter().enumerate().map(|(i, (v, f))| {
                let v = format_ident!("{}", v);
                build(f, &layout.fields[i], quote!(super::#ty::#v))
            });
            by_tag(at(&layout.tag), arms.collect())
        }
        Shape::Ctors(ctors) => {
            let arms = ctors.iter().enumerate().map(|(i, c)| {
                let f = format_ident!("{}", c.name);
                let call = match &c.args {
                    Fields::Unit => quote!(super::#ty::#f()),
                    args => build(args, &layout.fields[i], quote!(super::#ty::#f)),
                };
                let made = match c.kind {
                    CtorKind::Plain => call,
                    // The type, with its generic arguments, is the constructor's return type.
                    CtorKind::Default => quote!(::core::default::Default::default()),
                    CtorKind::Option => quote!(match #call {
                        ::core::option::Option::Some(v) => v,
                        ::core::option::Option::None => ::core::panic!(#REJECT_MESSAGE),
                    }),
                    CtorKind::Result => quote!(match #call {
                        ::core::result::Result::Ok(v) => v,
                        ::core::result::Result::Err(_) => ::core::panic!(#REJECT_MESSAGE),
                    }),
                };
                // A constructor that panics on the generated arguments refuses them: building
                // the input is not the function under test (`from_str_unchecked("")` panicking
                // is no finding of the method called on its result).
                quote!(match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| #made)) {
                    ::core::result::Result::Ok(v) => v,
                    ::core::result::Result::Err(_) => ::core::panic!(#REJECT_MESSAGE),
                })
            });
            by_tag(at(&layout.tag), arms.collect())
        }
        Shape::Steps { base, methods } => {
            let make_base = conv_expr(&Ty::Adt(base.clone()), quote!(&m.0), 0, &cx);
            let arms = methods.iter().enumerate().map(|(i, c)| {
                let f = format_ident!("{}", c.name);
                let args: Vec<TokenStream> = c
                    .args
                    .types()
                    .iter()
                    .zip(&layout.fields[i])
                    .map(|(t, p)| conv_expr(t, field_at(quote!(s), p), 0, &cx))
                    .collect();
                quote!({ let _ = super::#ty::#f(&mut v #(, #args)*); })
            });
            let step = by_tag(field_at(quote!(s), &layout.tag), arms.collect());
            quote!({
                let mut v = #make_base;
                for s in &m.1 {
                    #step
                }
                v
            })
        }
    };
    let lifetimes = (0..def.lifetimes).map(|_| quote!('a));
    let type_args: Vec<syn::Type> = def
        .type_args
        .iter()
        .filter_map(|a| syn::parse_str(a).ok())
        .collect();
    let args = (def.lifetimes > 0 || !type_args.is_empty())
        .then(|| quote!(<#(#lifetimes,)* #(#type_args),*>));
    format!(
        "{} ",
        quote!(pub fn #name<'a>(m: &'a #mirror) -> super::#ty #args { #body })
    )
}

/// Makes `dest` hold exactly `files`: writes only files whose content changed (so cargo's
/// fingerprints see untouched files as untouched), and removes files no longer there.
pub fn sync_tree(dest: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) -> Result<()> {
    std::fs::create_dir_all(dest)
        .map_err(|e| Error::io(format!("creating {}", dest.display()), e))?;
    for (rel, bytes) in files {
        let path = dest.join(rel);
        if std::fs::read(&path).ok().as_deref() == Some(bytes.as_slice()) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(format!("creating {}", parent.display()), e))?;
        }
        std::fs::write(&path, bytes)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    }
    let mut existing = Vec::new();
    collect_files(dest, Path::new(""), &mut existing);
    for rel in existing {
        if !files.contains_key(&rel) {
            let _ = std::fs::remove_file(dest.join(&rel));
        }
    }
    Ok(())
}

fn collect_files(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    for entry in entries.flatten() {
        let child = rel.join(entry.file_name());
        match entry.file_type() {
            Ok(ft) if ft.is_dir() => collect_files(root, &child, out),
            Ok(_) => out.push(child),
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_attributes_are_blanked_in_place() {
        let src = "#[no_mangle]\npub extern \"C\" fn a() {}\n#[unsafe(export_name = \"b_sym\")] pub fn b() {}\nmacro_rules! m { () => { #[no_mangle] pub fn c() {} } }\n#[inline] #[doc = \"no_mangle\"] pub fn d() {}\n";
        let mut files = BTreeMap::from([(PathBuf::from("src/lib.rs"), src.as_bytes().to_vec())]);
        strip_exports(&mut files);
        let out = String::from_utf8(files.remove(Path::new("src/lib.rs")).unwrap()).unwrap();
        assert_eq!(out.len(), src.len());
        assert_eq!(out.lines().count(), src.lines().count());
        assert!(
            !out.contains("#[no_mangle]") && !out.contains("export_name"),
            "{out}"
        );
        assert!(
            out.contains("#[inline] #[doc = \"no_mangle\"] pub fn d"),
            "{out}"
        );
        assert_eq!(out.find("pub fn b"), src.find("pub fn b"));
        syn::parse_file(&out).unwrap();
    }

    #[test]
    fn byte_offsets_count_chars() {
        let text = "ab\néé}\n";
        assert_eq!(&text[byte_offset(text, 2, 2)..], "}\n");
        assert_eq!(byte_offset(text, 1, 0), 0);
    }

    #[test]
    fn manifests_point_outside_paths_at_the_original() {
        let mut files = BTreeMap::new();
        files.insert(
            PathBuf::from("crates/a/Cargo.toml"),
            b"[package]\nname = \"a\"\n[dependencies]\nb = { path = \"../b\" }\nx = { path = \"../../../x\" }\n".to_vec(),
        );
        rewrite_manifests(&mut files, Path::new("/ws")).unwrap();
        let text = String::from_utf8(files[&PathBuf::from("crates/a/Cargo.toml")].clone()).unwrap();
        assert!(text.contains("path = \"../b\""), "{text}");
        assert!(text.contains("path = \"/x\""), "{text}");
    }

    #[test]
    fn sync_writes_only_changes_and_removes_stale_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = BTreeMap::new();
        files.insert(PathBuf::from("src/lib.rs"), b"fn a() {}".to_vec());
        files.insert(PathBuf::from("old.rs"), b"x".to_vec());
        sync_tree(dir.path(), &files).unwrap();
        let before = std::fs::metadata(dir.path().join("src/lib.rs"))
            .unwrap()
            .modified()
            .unwrap();
        files.remove(&PathBuf::from("old.rs"));
        std::thread::sleep(std::time::Duration::from_millis(20));
        sync_tree(dir.path(), &files).unwrap();
        let after = std::fs::metadata(dir.path().join("src/lib.rs"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(before, after);
        assert!(!dir.path().join("old.rs").exists());
    }
}
