//! `cargo xtask docker`: prints how to build and run the Docker stack, and checks
//! `docker/compose.yml` and `docker/Dockerfile` without a Docker engine (none runs on the
//! project's machines): the compose file parsed as YAML, the Dockerfile read into
//! instructions and linted with hadolint.

mod compose;
mod dockerfile;
mod hadolint;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::path::Path;

use crate::{cmd, Failure, TaskResult};

/// What to type to build and run the stack, and to test against it.
const USAGE: &str = "\
Build and run the stack (needs Docker with compose v2; from the workspace root):

    docker compose -f docker/compose.yml up -d --build
    docker compose -f docker/compose.yml exec hive cat /var/lib/hive/dev-token   # the development token
    curl -s http://127.0.0.1:8080/readyz

The servers only, for the test suites:

    docker compose -f docker/compose.yml up -d mongo mongo-init elasticsearch redis postgres nats
    HIVE_ELASTICSEARCH_URL=http://localhost:9200 \\
    HIVE_MONGODB_URI='mongodb://127.0.0.1:27017/?replicaSet=rs0&directConnection=true' \\
    HIVE_POSTGRES_URL=postgres://hive:hive@127.0.0.1:5432/hive \\
    HIVE_NATS_URL=nats://127.0.0.1:4222 cargo xtask test

Stop (add -v to drop the volumes):

    docker compose -f docker/compose.yml down
";

/// Prints the commands, then checks both files.
pub(crate) fn run() -> TaskResult {
    println!("{USAGE}");
    let root = cmd::workspace_root();
    let read = |relative: &str| {
        std::fs::read_to_string(root.join(relative))
            .map_err(|e| Failure::new(format!("xtask docker: cannot read {relative}: {e}")))
    };
    let config_dir = root.join("crates/hive-server/src/config");
    let mut sources = Vec::new();
    for entry in std::fs::read_dir(&config_dir)
        .map_err(|e| Failure::new(format!("xtask docker: cannot list {}: {e}", config_dir.display())))?
    {
        let path = entry.map_err(|e| Failure::new(e.to_string()))?.path();
        if path.extension().is_some_and(|e| e == "rs") {
            sources.push(std::fs::read_to_string(&path).map_err(|e| Failure::new(e.to_string()))?);
        }
    }
    let hive_env = compose::hive_env_keys(&sources);
    let docker_dir = root.join("docker");
    let is_file = |path: &Path| docker_dir.join(path).is_file();
    let context = compose::Context {
        hive_env: &hive_env,
        is_file: &is_file,
    };
    let mut problems: Vec<String> = compose::check(&read("docker/compose.yml")?, &context)
        .into_iter()
        .map(|p| format!("docker/compose.yml: {p}"))
        .collect();
    problems.extend(
        dockerfile::check(&read("docker/Dockerfile")?, &workspace_bins()?)
            .into_iter()
            .map(|p| format!("docker/Dockerfile: {p}")),
    );
    if !problems.is_empty() {
        return Err(Failure::new(format!(
            "{}\nxtask docker: {} problem(s)",
            problems.join("\n"),
            problems.len()
        )));
    }
    let linted = hadolint::lint(&docker_dir.join("Dockerfile"))?;
    println!(
        "xtask docker: docker/compose.yml and docker/Dockerfile pass the checks{} \
         (parsed and checked only: no image was built, no container started)",
        if linted { " and hadolint" } else { "" }
    );
    Ok(())
}

/// The names of the workspace's bin targets (`cargo metadata --no-deps`).
fn workspace_bins() -> TaskResult<BTreeSet<String>> {
    let output = cmd::cargo(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .map_err(|e| Failure::new(format!("xtask docker: cannot run cargo metadata: {e}")))?;
    if !output.status.success() {
        return Err(Failure::new(format!(
            "xtask docker: cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| Failure::new(format!("xtask docker: cargo metadata is not JSON: {e}")))?;
    Ok(bins(&metadata))
}

/// The bin target names in `cargo metadata` output.
fn bins(metadata: &serde_json::Value) -> BTreeSet<String> {
    metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["targets"].as_array().into_iter().flatten())
        .filter(|t| t["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "bin")))
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect()
}
