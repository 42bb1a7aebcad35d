//! "Did you mean …?" suggestions: which known names are close to a name the user wrote, and
//! how a message quotes a name ([`code`]).
//!
//! Owns the edit distance and the closeness rule used for unknown fields, unknown enum values,
//! unknown kinds and unknown `explain` paths, so every such message suggests the same way. Pure
//! string functions: no crate imports, no knowledge of schemas or kinds.

/// Candidates to offer at most.
const MAX_SUGGESTIONS: usize = 3;

/// Edit distance between `a` and `b` counted in characters: insertions, deletions,
/// substitutions and swaps of two adjacent characters each cost 1 (optimal string alignment).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.is_empty() || b.is_empty() {
        return a.len().max(b.len());
    }
    // Three rows: the one before the previous is needed for swaps.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// `name` folded for comparison: lowercase, without `_`, `-` and `.`, so that `target_port`,
/// `Target-Port` and `targetPort` compare equal.
fn fold(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The candidates close enough to `word` to be what was meant, closest first (ties keep the
/// candidates' order), at most three. A candidate equal to `word` is never suggested.
///
/// Close enough: equal after folding case and `_`/`-`/`.` separators (`target_port` →
/// `targetPort`), or within an edit distance of a third of `word`'s length (at least 1), the
/// rule rustc uses.
pub fn suggest<'a, I>(word: &str, candidates: I) -> Vec<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let folded = fold(word);
    let limit = folded.chars().count().max(3) / 3;
    let mut scored: Vec<(usize, usize, &'a str)> = Vec::new();
    for (order, candidate) in candidates.into_iter().enumerate() {
        if candidate == word || scored.iter().any(|(_, _, c)| *c == candidate) {
            continue;
        }
        let candidate_folded = fold(candidate);
        let distance = if candidate_folded == folded {
            0
        } else {
            edit_distance(&folded, &candidate_folded)
        };
        if distance <= limit {
            scored.push((distance, order, candidate));
        }
    }
    scored.sort_unstable_by_key(|&(distance, order, _)| (distance, order));
    scored
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, _, c)| c)
        .collect()
}

/// `text` as a message shows what the user wrote: between backticks, or in double quotes with
/// escapes when it holds a backtick itself, so the text never ends its own quoting (found by
/// the fuzz targets yaml_stream and kind_specs). Every message that quotes user text uses it.
pub fn code(text: &str) -> String {
    if text.contains('`') {
        format!("{text:?}")
    } else {
        format!("`{text}`")
    }
}

/// `did you mean `a`?` or `did you mean `a` or `b`?` for the candidates close to `word`, or
/// `None` when none is close.
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    did_you_mean_with(&suggest(word, candidates), code)
}

/// `did you mean A?`, `did you mean A or B?`, `did you mean A, B or C?` for the names `close`
/// (as [`suggest`] returns them), each shown by `show`; `None` when there are none.
pub fn did_you_mean_with(close: &[&str], show: impl Fn(&str) -> String) -> Option<String> {
    let shown: Vec<String> = close.iter().map(|c| show(c)).collect();
    match shown.as_slice() {
        [] => None,
        [one] => Some(format!("did you mean {one}?")),
        [init @ .., last] => Some(format!("did you mean {} or {last}?", init.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits_and_swaps() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("replica", "replicas"), 1);
        assert_eq!(edit_distance("replcias", "replicas"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("héllo", "hello"), 1);
    }

    #[test]
    fn suggestions_are_close_names_closest_first() {
        let known = ["image", "replicas", "ports", "probes", "resources"];
        assert_eq!(suggest("replica", known), ["replicas"]);
        assert_eq!(suggest("prots", known), ["ports"]);
        assert_eq!(suggest("probe", known), ["probes"]);
        assert_eq!(suggest("xyz", known), Vec::<&str>::new());
        assert_eq!(suggest("image", known), Vec::<&str>::new());
        assert_eq!(suggest("Image", known), ["image"]);
        assert_eq!(
            suggest("target_port", ["targetPort", "port"]),
            ["targetPort"]
        );
        // A one-letter name is still one edit away from a two-letter one.
        assert_eq!(suggest("x", ["y", "xy"]), ["y", "xy"]);
    }

    #[test]
    fn user_text_is_quoted_so_its_quoting_cannot_end_inside_it() {
        assert_eq!(code("spec.replicas"), "`spec.replicas`");
        assert_eq!(code("a`b"), "\"a`b\"");
        assert_eq!(code("`\n\""), "\"`\\n\\\"\"");
        assert_eq!(
            did_you_mean("a`c", ["a`b"]).as_deref(),
            Some("did you mean \"a`b\"?")
        );
    }

    #[test]
    fn did_you_mean_lists_them() {
        assert_eq!(
            did_you_mean("replica", ["replicas", "image"]).as_deref(),
            Some("did you mean `replicas`?")
        );
        assert_eq!(
            did_you_mean("port", ["ports", "sort", "image"]).as_deref(),
            Some("did you mean `ports` or `sort`?")
        );
        assert_eq!(
            did_you_mean("ab", ["a", "b", "abc", "abd"]).as_deref(),
            Some("did you mean `a`, `b` or `abc`?")
        );
        assert_eq!(did_you_mean("zzz", ["image"]), None);
        assert_eq!(
            did_you_mean_with(&["on", "off"], |c| format!("\"{c}\"")).as_deref(),
            Some("did you mean \"on\" or \"off\"?")
        );
    }
}
