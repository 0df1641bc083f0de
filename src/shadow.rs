//! Scratch copies of the user's workspace under the target dir: files read, manifests rewritten, code it is handed spliced in, trees synced; the user's tree is only read.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::git;
use crate::ids::TargetId;

/// Where injected code for a target landed in the copy, so a build error there can be pinned on it.
#[derive(Debug, Clone)]
pub struct InjectedSpan {
    /// The file in the scratch copy.
    pub file: PathBuf,
    pub line: usize,
    /// 1-based char columns, inclusive start, exclusive end.
    pub columns: (usize, usize),
    /// The target whose wrapper this is; `None` for the module plumbing around wrappers.
    pub target: Option<TargetId>,
    /// For the plumbing that re-exports a child module's entry module: that module's path (an
    /// error there means the module is not compiled, so nothing under it can be reached).
    pub child: Option<Vec<String>>,
}

/// The source files of the workspace at `root`, relative to it: what git tracks plus untracked
/// files it does not ignore, or, outside git, every file except build output and hidden dirs.
pub fn workspace_files(root: &Path) -> Result<BTreeMap<PathBuf, Vec<u8>>> {
    let rel_paths = match git::listed_files(root) {
        Some(paths) => paths,
        None => walk(root)?,
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

/// Code to insert at a position of a file: a 1-based line and 0-based char column, or `None`
/// for the end of the file.
pub struct Insertion {
    pub at: Option<(usize, usize)>,
    pub pieces: Vec<Piece>,
}

/// A piece of injected text, with the target it belongs to or the child module it re-exports,
/// so a build error in it can be pinned on them.
pub struct Piece {
    pub code: String,
    pub target: Option<TargetId>,
    pub child: Option<Vec<String>>,
}

impl Piece {
    /// Module plumbing: no target's own code.
    pub fn plumbing(code: String) -> Self {
        Piece {
            code,
            target: None,
            child: None,
        }
    }

    /// Code generated for `target`.
    pub fn of_target(code: String, target: TargetId) -> Self {
        Piece {
            code,
            target: Some(target),
            child: None,
        }
    }
}

/// Splices `insertions` (per file, relative to the workspace root) into `files`, returning
/// where each piece landed in `copy_root`.
///
/// Injected code is one line per insertion, placed at the end of a file module or just before
/// the closing brace of an inline one, so every line of the user's code keeps its number and
/// panic locations read the same as in the user's tree.
pub fn splice(
    files: &mut BTreeMap<PathBuf, Vec<u8>>,
    copy_root: &Path,
    insertions: BTreeMap<PathBuf, Vec<Insertion>>,
) -> Result<Vec<InjectedSpan>> {
    let mut spans = Vec::new();
    for (rel, mut inserts) in insertions {
        let Some(bytes) = files.get_mut(&rel) else {
            return Err(Error::Usage(format!(
                "internal: {} is not among the workspace files",
                rel.display()
            )));
        };
        let mut text = String::from_utf8_lossy(bytes).into_owned();
        // Later positions first, so earlier ones stay valid; end of file is last of all.
        inserts.sort_by_key(|ins| {
            std::cmp::Reverse(ins.at.map(|p| (p.0, p.1)).unwrap_or((usize::MAX, 0)))
        });
        for Insertion { at: pos, pieces } in inserts {
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
            for Piece {
                code: piece,
                target,
                child,
            } in pieces
            {
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
