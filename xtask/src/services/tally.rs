//! The backend tally: how many tests used each backend, shown as a table after `cargo xtask
//! test`.
//!
//! xtask hands the tests `HIVE_BACKEND_TALLY`, a folder it empties first; every test that gets
//! its server from hive-testkit's `backend` helper appends one line to the file named after the
//! backend's variable there (`HIVE_REDIS_URL`, …). xtask counts the lines.

use std::fs;
use std::path::{Path, PathBuf};

use super::{Backend, Origin};
use crate::{Failure, TaskResult};

/// The variable that names the tally folder.
pub(crate) const ENV: &str = "HIVE_BACKEND_TALLY";

/// One line of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    /// The backend.
    pub(crate) backend: Backend,
    /// Where its server came from; `None` when there was none.
    pub(crate) origin: Option<Origin>,
    /// Its URL (password masked), `-` when there was none.
    pub(crate) url: String,
    /// How many tests used it.
    pub(crate) tests: usize,
}

/// Creates `<target>/xtask/backend-tally` empty (removing what a previous run left there) and
/// returns it.
pub(crate) fn fresh(target: &Path) -> TaskResult<PathBuf> {
    let dir = target.join("xtask").join("backend-tally");
    match fs::remove_dir_all(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Failure::new(format!("xtask: cannot empty {}: {e}", dir.display()))),
    }
    fs::create_dir_all(&dir).map_err(|e| Failure::new(format!("xtask: cannot create {}: {e}", dir.display())))?;
    Ok(dir)
}

/// The number of lines in `<dir>/<env>`: the tests that used that backend (0 when the file is
/// absent or unreadable).
pub(crate) fn count(dir: &Path, env: &str) -> usize {
    fs::read_to_string(dir.join(env)).map_or(0, |text| text.lines().filter(|l| !l.trim().is_empty()).count())
}

/// `rows` with their test counts read from `dir`.
pub(crate) fn counted(mut rows: Vec<Row>, dir: &Path) -> Vec<Row> {
    for row in &mut rows {
        row.tests = count(dir, row.backend.env);
    }
    rows
}

/// The table: a header, then one aligned line per backend (name, origin, URL, tests run).
pub(crate) fn render(rows: &[Row]) -> String {
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|row| {
            [
                row.backend.name.to_string(),
                row.origin.map_or("none", Origin::label).to_string(),
                row.url.clone(),
                row.tests.to_string(),
            ]
        })
        .collect();
    let header = ["backend", "from", "url", "tests"].map(String::from);
    let mut widths = [0usize; 4];
    for line in std::iter::once(&header).chain(&cells) {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut table = String::from("xtask: backends used by the tests:\n");
    for line in std::iter::once(&header).chain(&cells) {
        let [name, from, url, tests] = line;
        let text = format!(
            "  {name:<w0$}  {from:<w1$}  {url:<w2$}  {tests:>w3$}",
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        );
        table.push_str(text.trim_end());
        table.push('\n');
    }
    table
}

/// Where every backend is required: a failure naming each backend no test used.
pub(crate) fn check_used(rows: &[Row], required: &str) -> TaskResult {
    let unused: Vec<String> = rows
        .iter()
        .filter(|row| row.tests == 0)
        .map(|row| format!("{} ({})", row.backend.name, row.backend.env))
        .collect();
    if unused.is_empty() {
        return Ok(());
    }
    Err(Failure::new(format!(
        "xtask: every backend is required here ({required}), but no test used {}: a backend that no \
         test reaches is as good as skipped",
        unused.join(" or ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::{MONGODB, OPENSEARCH, REDIS};

    /// A row of `backend` from `origin` with `tests`.
    fn row(backend: Backend, origin: Option<Origin>, url: &str, tests: usize) -> Row {
        Row {
            backend,
            origin,
            url: url.to_string(),
            tests,
        }
    }

    #[test]
    fn count_reads_one_test_per_line_and_zero_for_no_file() -> TaskResult {
        let target = std::env::temp_dir().join(format!("xtask-tally-{}", std::process::id()));
        let dir = fresh(&target)?;
        let io = |e: std::io::Error| Failure::new(e.to_string());
        fs::write(dir.join("HIVE_REDIS_URL"), "1\n1\n1\n").map_err(io)?;
        fs::write(dir.join("HIVE_MONGODB_URI"), "1\n\n1").map_err(io)?;
        assert_eq!(count(&dir, "HIVE_REDIS_URL"), 3);
        assert_eq!(count(&dir, "HIVE_MONGODB_URI"), 2);
        assert_eq!(count(&dir, "HIVE_ELASTICSEARCH_URL"), 0);
        let rows = counted(
            vec![
                row(REDIS, Some(Origin::Started), "redis://x", 0),
                row(OPENSEARCH, None, "-", 7),
            ],
            &dir,
        );
        assert_eq!((rows[0].tests, rows[1].tests), (3, 0));
        // A second run starts from nothing.
        let dir = fresh(&target)?;
        assert_eq!(count(&dir, "HIVE_REDIS_URL"), 0);
        let _ = fs::remove_dir_all(&target);
        Ok(())
    }

    #[test]
    fn the_table_aligns_its_columns() {
        let rows = [
            row(REDIS, Some(Origin::Running), "redis://127.0.0.1:6379", 12),
            row(MONGODB, Some(Origin::Env), "mongodb://db:27017", 3),
            row(OPENSEARCH, None, "-", 0),
        ];
        assert_eq!(
            render(&rows),
            "xtask: backends used by the tests:\n\
             \x20 backend     from     url                     tests\n\
             \x20 Redis       running  redis://127.0.0.1:6379     12\n\
             \x20 MongoDB     env      mongodb://db:27017          3\n\
             \x20 OpenSearch  none     -                           0\n"
        );
    }

    #[test]
    fn an_unused_backend_fails_where_backends_are_required() {
        let used = [row(REDIS, Some(Origin::Started), "redis://x", 1)];
        assert!(check_used(&used, "CI is set").is_ok());
        let rows = [
            row(REDIS, Some(Origin::Started), "redis://x", 1),
            row(OPENSEARCH, Some(Origin::Started), "http://x", 0),
        ];
        let Err(failure) = check_used(&rows, "--require-backends") else {
            panic!("an unused backend passed");
        };
        assert!(
            failure
                .message
                .contains("(--require-backends), but no test used OpenSearch (HIVE_ELASTICSEARCH_URL):"),
            "{}",
            failure.message
        );
    }
}
