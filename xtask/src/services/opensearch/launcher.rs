//! Building the OpenSearch launcher (`xtask/opensearch/`, a Maven project) and its class path.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

use crate::{cmd, Failure, TaskResult};

/// The launcher's main class.
pub(crate) const MAIN_CLASS: &str = "dev.hive.opensearch.Launcher";

/// The Maven project, relative to the workspace root.
const PROJECT: &str = "xtask/opensearch";

/// The launcher's source, relative to the Maven project.
const SOURCE: &str = "src/main/java/dev/hive/opensearch/Launcher.java";

/// How many of the last lines of Maven's log a failure shows.
const LOG_TAIL: usize = 25;

/// Builds the launcher into `build` (`<target>/opensearch-launcher`) with `mvn`, its output in
/// `log`, unless the last build is newer than its sources and its jars are all there; returns
/// the class path to run it with (`build/classes`, then the jars Maven resolved).
pub(crate) fn build(mvn: &Path, build: &Path, log: &Path) -> TaskResult<String> {
    let project = cmd::workspace_root().join(PROJECT);
    let pom = project.join("pom.xml");
    let classes = build.join("classes");
    let classpath_file = build.join("classpath.txt");
    let inputs = [pom.clone(), project.join(SOURCE)];
    let outputs = [
        classes.join("dev/hive/opensearch/Launcher.class"),
        classpath_file.clone(),
    ];
    let up_to_date = newer(&modified(&outputs), &modified(&inputs))
        && fs::read_to_string(&classpath_file).is_ok_and(|jars| all_exist(&jars));
    if !up_to_date {
        eprintln!(
            "xtask: OpenSearch: building the launcher with Maven (the first build downloads its jars into ~/.m2)"
        );
        let started = Instant::now();
        let mut maven = Command::new(mvn);
        // Everything Maven prints goes to the log: it writes colour codes even in batch mode, and
        // `cargo xtask services` keeps stdout for the exports. A failure shows the log's end.
        let output = fs::File::create(log)
            .and_then(|file| Ok((file.try_clone()?, file)))
            .map_err(|e| Failure::new(format!("xtask: cannot create the log {}: {e}", log.display())))?;
        maven
            .args(["--batch-mode", "--quiet", "-f"])
            .arg(&pom)
            .arg(format!("-Dhive.build.dir={}", build.display()))
            .arg("package")
            .stdout(output.0)
            .stderr(output.1);
        cmd::run("building the OpenSearch launcher with Maven", &mut maven).map_err(|f| {
            Failure::with_code(
                format!(
                    "{}; the end of its log, {}:\n{}\nxtask: Maven must reach Maven Central once to fetch \
                     OpenSearch's jars; or set HIVE_ELASTICSEARCH_URL to a running Elasticsearch or OpenSearch",
                    f.message,
                    log.display(),
                    tail(&fs::read_to_string(log).unwrap_or_default(), LOG_TAIL)
                ),
                f.code,
            )
        })?;
        eprintln!("xtask: OpenSearch: launcher built in {:.1?}", started.elapsed());
    }
    let jars = fs::read_to_string(&classpath_file)
        .map_err(|e| Failure::new(format!("xtask: Maven left no {}: {e}", classpath_file.display())))?;
    Ok(format!("{}:{}", classes.display(), jars.trim()))
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The modification times of `paths` (`None` for one that is missing).
fn modified(paths: &[PathBuf]) -> Vec<Option<SystemTime>> {
    paths
        .iter()
        .map(|path| fs::metadata(path).and_then(|meta| meta.modified()).ok())
        .collect()
}

/// Whether every output exists and is newer than every input (all of which exist).
fn newer(outputs: &[Option<SystemTime>], inputs: &[Option<SystemTime>]) -> bool {
    let oldest_output = outputs
        .iter()
        .copied()
        .collect::<Option<Vec<_>>>()
        .and_then(|t| t.into_iter().min());
    let newest_input = inputs
        .iter()
        .copied()
        .collect::<Option<Vec<_>>>()
        .and_then(|t| t.into_iter().max());
    matches!((oldest_output, newest_input), (Some(output), Some(input)) if output > input)
}

/// Whether every entry of a `:`-separated class path exists (a wiped ~/.m2 means a rebuild).
fn all_exist(classpath: &str) -> bool {
    let classpath = classpath.trim();
    !classpath.is_empty() && classpath.split(':').all(|entry| Path::new(entry).exists())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn outputs_newer_than_every_input_are_up_to_date() {
        let at = |s| Some(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        assert!(newer(&[at(10), at(12)], &[at(5), at(9)]));
        assert!(
            !newer(&[at(10), at(12)], &[at(5), at(11)]),
            "an input newer than one output"
        );
        assert!(!newer(&[at(10), at(12)], &[at(10)]), "same time: rebuild");
        assert!(!newer(&[None, at(12)], &[at(5)]), "a missing output");
        assert!(!newer(&[at(12)], &[None]), "a missing input");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a\n", 5), "a");
        assert_eq!(tail("", 5), "");
    }

    #[test]
    fn a_class_path_with_a_missing_jar_is_not_complete() {
        let here = env!("CARGO_MANIFEST_DIR");
        assert!(all_exist(&format!("{here}/Cargo.toml:{here}/src\n")));
        assert!(!all_exist(&format!("{here}/Cargo.toml:{here}/no-such.jar")));
        assert!(!all_exist(" \n"));
    }
}
