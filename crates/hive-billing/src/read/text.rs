//! The text analysis the payment search uses: tokens, fuzzy term matching, completion inputs.
//!
//! It mirrors Elasticsearch's `standard` analyzer and `fuzziness: AUTO` closely enough that an
//! Elasticsearch adapter matches the same documents: tokens are lower-cased runs of letters and
//! digits; a query term of 1–2 characters must match exactly, one of 3–5 characters within one
//! edit, a longer one within two edits (insertions, deletions, substitutions and adjacent
//! transpositions: the optimal-string-alignment distance Lucene uses).

/// The lower-cased runs of letters and digits of `text`.
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The lower-cased whitespace-separated words of a query.
pub fn query_words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_lowercase).collect()
}

/// How many edits `fuzziness: AUTO` allows for a query term of `term`'s length (in characters).
pub fn allowed_edits(term: &str) -> usize {
    match term.chars().count() {
        0..=2 => 0,
        3..=5 => 1,
        _ => 2,
    }
}

/// How well a query term matches a candidate term: `1.0` when equal, `1 / (1 + edits)` when
/// within the allowed edits of the query term, `None` otherwise. Both are lower-cased already.
pub fn term_similarity(query_term: &str, candidate: &str) -> Option<f64> {
    if query_term == candidate {
        return Some(1.0);
    }
    let allowed = allowed_edits(query_term);
    if allowed == 0 {
        return None;
    }
    let edits = strsim::osa_distance(query_term, candidate);
    (edits <= allowed).then(|| 1.0 / (1.0 + edits as f64))
}

/// The best similarity of `query_term` among `candidates` (0 when none matches).
pub fn best_similarity<'a>(query_term: &str, candidates: impl IntoIterator<Item = &'a str>) -> f64 {
    candidates
        .into_iter()
        .filter_map(|c| term_similarity(query_term, c))
        .fold(0.0, f64::max)
}

/// The completion inputs of a description: the lower-cased description with words separated
/// by single spaces, and every suffix of it that starts at a word (`"Cloud hosting March"` →
/// `["cloud hosting march", "hosting march", "march"]`), so a prefix completes any word.
pub fn completion_inputs(description: &str) -> Vec<String> {
    let words = query_words(description);
    (0..words.len()).map(|i| words[i..].join(" ")).collect()
}

/// A completion prefix as matched against [`completion_inputs`]: lower-cased, words separated by
/// single spaces, a trailing space kept (so `"cloud "` only completes after the whole word).
pub fn normalize_prefix(prefix: &str) -> String {
    let mut normalized = query_words(prefix).join(" ");
    if prefix.ends_with(char::is_whitespace) && !normalized.is_empty() {
        normalized.push(' ');
    }
    normalized
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_lowercased_alphanumeric_runs() {
        assert_eq!(
            tokens("Cloud-hosting, March 2024!"),
            vec!["cloud", "hosting", "march", "2024"]
        );
        assert!(tokens("--").is_empty());
    }

    #[test]
    fn fuzziness_auto_depends_on_the_query_term_length() {
        assert_eq!(term_similarity("ab", "ab"), Some(1.0));
        assert_eq!(term_similarity("ab", "ac"), None);
        assert_eq!(term_similarity("cloud", "clod"), Some(0.5));
        assert_eq!(term_similarity("cloud", "clo"), None);
        assert_eq!(term_similarity("hosting", "hostnig"), Some(0.5)); // one transposition
        assert_eq!(term_similarity("hosting", "hostin"), Some(0.5));
        assert_eq!(term_similarity("hosting", "hosti"), Some(1.0 / 3.0));
        assert_eq!(term_similarity("hosting", "host"), None);
    }

    #[test]
    fn completion_inputs_start_at_every_word() {
        assert_eq!(
            completion_inputs("Cloud  hosting March"),
            vec!["cloud hosting march", "hosting march", "march"]
        );
        assert_eq!(normalize_prefix("  Cloud   Ho"), "cloud ho");
        assert_eq!(normalize_prefix("cloud "), "cloud ");
    }
}
