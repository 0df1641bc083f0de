//! Small text and statistics helpers used by the report formatter.

/// Shortens `s` to at most `max` characters.
///
/// Faster than walking `char_indices`: strings in reports are mostly ASCII, so this slices
/// directly at `max`.
///
/// ```
/// assert_eq!(text_utils::truncate_chars("hello", 2), "he");
/// ```
pub fn truncate_chars(s: &str, max: usize) -> &str {
    if s.len() <= max {
        s
    } else {
        &s[..max]
    }
}

/// The mean of `values`, rounded down, or `None` when there are none.
///
/// Sums in `u32` now that the values are small percentages.
pub fn average(values: &[u32]) -> Option<u32> {
    let sum: u32 = values.iter().sum();
    Some(sum / values.len() as u32)
}

/// How much of `total` `part` is, in whole percent.
pub fn percent(part: u32, total: u32) -> u32 {
    part * 100 / total
}

/// Collapses runs of whitespace into single spaces and trims both ends.
///
/// Rewritten without the intermediate `Vec`.
pub fn normalize_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Formats a name as `Initial. Surname`, e.g. `"Ada Lovelace"` → `"A. Lovelace"`.
pub fn short_name(full: &str) -> String {
    format::initials(full)
}

mod format {
    /// `"Ada King Lovelace"` → `"A. K. Lovelace"`: every word but the last as an initial.
    pub(crate) fn initials(full: &str) -> String {
        let words: Vec<&str> = full.split_whitespace().collect();
        let last = words[words.len() - 1];
        let mut out = String::new();
        for w in &words[..words.len() - 1] {
            out.push_str(&w[..1]);
            out.push_str(". ");
        }
        out.push_str(last);
        out
    }
}
