//! `docs/adapters.md` quotes the worked example exactly: each file named in a
//! `<!-- quoted from crates/hive-testkit/tests/… -->` comment must equal the ```rust block that
//! follows the comment (for `worked_example.rs`, the part after its `// --- quoted` line).
#![allow(clippy::unwrap_used, clippy::expect_used)]

const GUIDE: &str = include_str!("../../../docs/adapters.md");
const MARKER: &str = "<!-- quoted from crates/hive-testkit/";
const QUOTE_START: &str = "// --- quoted in docs/adapters.md";

/// `(path under crates/hive-testkit/, the rust block after the marker)` for every marker.
fn quotes(guide: &str) -> Vec<(String, String)> {
    hive_testkit::guide::marked_blocks(guide, MARKER)
        .into_iter()
        .map(|(path, block)| (path, format!("{block}\n")))
        .collect()
}

/// What of a file the guide quotes: all of it, or what follows its `// --- quoted` line.
fn quoted_part(text: &str) -> String {
    match text.find(QUOTE_START) {
        Some(at) => text[at..]
            .split_once('\n')
            .map(|(_, tail)| tail.to_owned())
            .unwrap_or_default(),
        None => text.to_owned(),
    }
}

#[test]
fn the_guide_quotes_the_worked_example_exactly() {
    let quotes = quotes(GUIDE);
    let paths: Vec<&str> = quotes.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "tests/worked_example/tiny_store.rs",
            "tests/worked_example.rs",
            "tests/worked_example/tiny_cache.rs"
        ]
    );
    for (path, block) in &quotes {
        let file = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let expected = quoted_part(&file);
        assert!(
            block == &expected,
            "docs/adapters.md's copy of {path} differs from the file; paste the file again:\n{expected}"
        );
    }
}

#[test]
fn the_guide_shows_the_cache_suite_the_example_runs() {
    let call = "hive_testkit::cache_conformance!(async { TinyCache::new() });";
    let file = std::fs::read_to_string(format!("{}/tests/worked_example.rs", env!("CARGO_MANIFEST_DIR"))).unwrap();
    assert!(file.contains(call), "tests/worked_example.rs no longer runs `{call}`");
    assert!(GUIDE.contains(call), "docs/adapters.md no longer shows `{call}`");
}

#[test]
fn a_changed_copy_is_seen() {
    let guide = "<!-- quoted from crates/hive-testkit/a.rs -->\n\n```rust\nfn a() {}\n```\n";
    assert_eq!(quotes(guide), vec![("a.rs".to_owned(), "fn a() {}\n".to_owned())]);
    assert_ne!(quotes(guide)[0].1, "fn a() { }\n");
    assert_eq!(
        quoted_part("head\n// --- quoted in docs/adapters.md x ---\nbody\n"),
        "body\n"
    );
}
