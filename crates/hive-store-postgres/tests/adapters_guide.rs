//! `docs/adapters.md` takes this crate apart with excerpts of its code: each block after an
//! `<!-- excerpt of crates/hive-store-postgres/… -->` comment must appear, exactly, in that
//! file. No server needed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

const GUIDE: &str = include_str!("../../../docs/adapters.md");
const MARKER: &str = "<!-- excerpt of crates/hive-store-postgres/";

/// `(path under the crate, the fenced block after the marker)` for every marker.
fn excerpts(guide: &str) -> Vec<(String, String)> {
    hive_testkit::guide::marked_blocks(guide, MARKER)
}

#[test]
fn the_guide_quotes_this_crate_exactly() {
    let excerpts = excerpts(GUIDE);
    assert!(
        excerpts.len() >= 8,
        "the guide lost its excerpts of hive-store-postgres"
    );
    for (path, block) in &excerpts {
        let file = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
            .unwrap_or_else(|e| panic!("docs/adapters.md quotes {path}, which cannot be read: {e}"));
        assert!(
            file.contains(block.as_str()),
            "docs/adapters.md's excerpt of {path} is no longer in the file; copy it again:\n{block}"
        );
    }
}

#[test]
fn a_changed_excerpt_is_seen() {
    let guide = "<!-- excerpt of crates/hive-store-postgres/a.rs -->\n\n```rust\nfn a() {}\n```\nafter\n";
    assert_eq!(excerpts(guide), vec![("a.rs".to_owned(), "fn a() {}".to_owned())]);
}
