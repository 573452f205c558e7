//! Reading criterion's results: `target/criterion/**/new/{benchmark,estimates}.json`.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::report::{Entry, Throughput};
use crate::{Failure, TaskResult};

/// `benchmark.json`: what was measured.
#[derive(Debug, Deserialize)]
struct BenchmarkJson {
    /// The group id.
    group_id: String,
    /// The function id.
    function_id: Option<String>,
    /// The parameter.
    value_str: Option<String>,
    /// The declared throughput, e.g. `{"Elements": 1000}`.
    throughput: Option<ThroughputJson>,
}

/// Criterion's throughput, as serialized.
#[derive(Debug, Deserialize)]
enum ThroughputJson {
    /// Bytes per iteration.
    Bytes(u64),
    /// Bytes per iteration, shown in decimal units.
    BytesDecimal(u64),
    /// Elements per iteration.
    Elements(u64),
}

/// `estimates.json`: the statistics; only the mean is read.
#[derive(Debug, Deserialize)]
struct EstimatesJson {
    /// The mean.
    mean: Estimate,
}

/// One statistic.
#[derive(Debug, Deserialize)]
struct Estimate {
    /// Its point estimate, in nanoseconds for a time.
    point_estimate: f64,
}

/// Every result under `criterion_dir` (each folder named `new` holding both files), in no
/// particular order.
pub(crate) fn collect(criterion_dir: &Path) -> TaskResult<Vec<Entry>> {
    let mut entries = Vec::new();
    for dir in new_dirs(criterion_dir)? {
        let read = |name: &str| {
            let path = dir.join(name);
            fs::read_to_string(&path).map_err(|e| Failure::new(format!("xtask: cannot read {}: {e}", path.display())))
        };
        let entry = parse(&read("benchmark.json")?, &read("estimates.json")?)
            .map_err(|e| Failure::new(format!("xtask: cannot read the results in {}: {e}", dir.display())))?;
        entries.push(entry);
    }
    Ok(entries)
}

/// The folders named `new` under `root` that hold `estimates.json` and `benchmark.json`.
fn new_dirs(root: &Path) -> TaskResult<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let listing =
            fs::read_dir(&dir).map_err(|e| Failure::new(format!("xtask: cannot list {}: {e}", dir.display())))?;
        for item in listing.flatten() {
            let path = item.path();
            if !item.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            if item.file_name() == "new"
                && path.join("estimates.json").is_file()
                && path.join("benchmark.json").is_file()
            {
                found.push(path);
            } else {
                stack.push(path);
            }
        }
    }
    Ok(found)
}

/// One result from the text of its `benchmark.json` and `estimates.json`.
fn parse(benchmark: &str, estimates: &str) -> Result<Entry, serde_json::Error> {
    let benchmark: BenchmarkJson = serde_json::from_str(benchmark)?;
    let estimates: EstimatesJson = serde_json::from_str(estimates)?;
    Ok(Entry {
        group: benchmark.group_id,
        function: benchmark.function_id,
        value: benchmark.value_str,
        mean_ns: estimates.mean.point_estimate,
        throughput: benchmark.throughput.map(|t| match t {
            ThroughputJson::Bytes(n) => Throughput::Bytes(n as f64),
            ThroughputJson::BytesDecimal(n) => Throughput::BytesDecimal(n as f64),
            ThroughputJson::Elements(n) => Throughput::Elements(n as f64),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What criterion 0.5 writes, trimmed to what is read (plus a field that is not).
    const ESTIMATES: &str = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":705.1,
        "upper_bound":708.3},"point_estimate":706.78,"standard_error":1.14},"median":{"point_estimate":706.0}}"#;

    #[test]
    fn results_are_parsed_as_criterion_0_5_writes_them() -> Result<(), serde_json::Error> {
        let with_throughput = r#"{"group_id":"sum","function_id":"iter_fold","value_str":null,
            "throughput":{"Elements":1000},"full_id":"sum/iter_fold","directory_name":"sum/iter_fold","title":"sum/iter_fold"}"#;
        let entry = parse(with_throughput, ESTIMATES)?;
        assert_eq!(entry.group, "sum");
        assert_eq!(entry.function.as_deref(), Some("iter_fold"));
        assert_eq!(entry.value, None);
        assert_eq!(entry.mean_ns, 706.78);
        assert_eq!(entry.throughput, Some(Throughput::Elements(1000.0)));

        let lone = r#"{"group_id":"lonely","function_id":null,"value_str":null,"throughput":null,
            "full_id":"lonely","directory_name":"lonely","title":"lonely"}"#;
        assert_eq!(parse(lone, ESTIMATES)?.throughput, None);

        let parameterised = r#"{"group_id":"param","function_id":"vec","value_str":"10","throughput":{"Bytes":10}}"#;
        let entry = parse(parameterised, ESTIMATES)?;
        assert_eq!(
            (entry.value.as_deref(), entry.throughput),
            (Some("10"), Some(Throughput::Bytes(10.0)))
        );
        Ok(())
    }

    #[test]
    fn collect_finds_every_new_folder_and_skips_base() -> TaskResult {
        let root = std::env::temp_dir().join(format!("xtask-collect-{}", std::process::id()));
        let write = |dir: &str, group: &str| -> TaskResult {
            let dir = root.join(dir);
            let io = |e: std::io::Error| Failure::new(e.to_string());
            fs::create_dir_all(&dir).map_err(io)?;
            let benchmark =
                format!(r#"{{"group_id":"{group}","function_id":null,"value_str":null,"throughput":null}}"#);
            fs::write(dir.join("benchmark.json"), benchmark).map_err(io)?;
            fs::write(dir.join("estimates.json"), ESTIMATES).map_err(io)
        };
        write("a/f/new", "a")?;
        write("a/f/base", "stale")?;
        write("b/g/10/new", "b")?;
        fs::create_dir_all(root.join("report")).map_err(|e| Failure::new(e.to_string()))?;
        let mut groups: Vec<String> = collect(&root)?.into_iter().map(|e| e.group).collect();
        let _ = fs::remove_dir_all(&root);
        groups.sort();
        assert_eq!(groups, vec!["a", "b"]);
        Ok(())
    }
}
