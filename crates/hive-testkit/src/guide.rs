//! Code quoted in the guides: the fenced blocks that follow a marker comment, so a test can
//! check each one against the file it quotes.

/// `(path, block)` for every `marker` in `guide`: the path is what follows the marker up to
/// ` -->`, the block the body of the first fenced block after it (without its fences and
/// without a final newline).
///
/// ```
/// let guide = "<!-- excerpt of a.rs -->\n\n```rust\nfn a() {}\n```\n";
/// let blocks = hive_testkit::guide::marked_blocks(guide, "<!-- excerpt of ");
/// assert_eq!(blocks, [("a.rs".to_owned(), "fn a() {}".to_owned())]);
/// ```
///
/// # Panics
/// On an unterminated marker or block, or a marker without a fenced block after it.
pub fn marked_blocks(guide: &str, marker: &str) -> Vec<(String, String)> {
    let find = |text: &str, what: &str, why: &str| text.find(what).unwrap_or_else(|| panic!("{why}"));
    let mut out = Vec::new();
    let mut rest = guide;
    while let Some(at) = rest.find(marker) {
        let after = &rest[at + marker.len()..];
        let path = after[..find(after, " -->", "an unterminated marker")].trim().to_owned();
        let body = &after[find(after, "```", "a fenced block after the marker")..];
        let start = find(body, "\n", "a fence line") + 1;
        let end = find(&body[start..], "\n```", "an unterminated block") + start;
        out.push((path, body[start..end].to_owned()));
        rest = &body[end..];
    }
    out
}
