//! The runnable examples under `examples/` (workspace packages named `example-…`): `cargo xtask
//! test` runs each one to its end, with the servers' variables set, and fails if one does.

use crate::services::Services;
use crate::{cmd, metadata, TaskResult};

/// The prefix of every example package's name.
const PREFIX: &str = "example-";

/// Runs every example package (`cargo run -p example-…`); the first failure is returned after
/// all have run.
pub(crate) fn run_all(services: &Services) -> TaskResult {
    let names = example_names()?;
    let mut result = Ok(());
    for name in &names {
        eprintln!("xtask: running the example {name}");
        let mut run = cmd::cargo(["run", "--quiet", "-p", name]);
        services.apply(&mut run);
        let outcome = cmd::run(&format!("the example {name}"), &mut run);
        result = result.and(outcome);
    }
    result
}

/// The example packages of the workspace, by name.
fn example_names() -> TaskResult<Vec<String>> {
    let metadata = metadata::load(true)?;
    Ok(select(metadata.packages.into_iter().map(|p| p.name)))
}

fn select(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut names: Vec<String> = names.filter(|name| name.starts_with(PREFIX)).collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_example_packages_are_run_in_name_order() {
        let names = ["hive-http", "example-follow-log", "xtask", "example-bounded-context"].map(String::from);
        assert_eq!(
            select(names.into_iter()),
            ["example-bounded-context", "example-follow-log"]
        );
    }
}
