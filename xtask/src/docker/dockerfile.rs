//! A Dockerfile read into instructions, and the checks `cargo xtask docker` makes on it.
//!
//! A line parser rather than a crate: the Dockerfile grammar needed here is small (comments,
//! `\` continuations, `INSTRUCTION args`), and the one parser crate (`dockerfile-parser`) is
//! no longer maintained.

use std::collections::BTreeSet;

/// One instruction: its keyword (upper-cased), its arguments, the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Instruction {
    pub(crate) keyword: String,
    pub(crate) args: String,
    pub(crate) line: usize,
}

/// One build stage: its `FROM` image, its alias, its instructions after `FROM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stage {
    pub(crate) image: String,
    pub(crate) alias: Option<String>,
    pub(crate) line: usize,
    pub(crate) instructions: Vec<Instruction>,
}

/// Splits `text` into instructions: comments and blank lines dropped, lines ending in `\`
/// joined with the next (comment lines inside a continuation are skipped, as Docker does).
pub(crate) fn instructions(text: &str) -> Result<Vec<Instruction>, String> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('#') || (line.is_empty() && pending.is_none()) {
            continue;
        }
        let (continued, part) = match line.strip_suffix('\\') {
            Some(part) => (true, part.trim_end()),
            None => (false, line),
        };
        let (start, mut joined) = pending.take().unwrap_or((index + 1, String::new()));
        if !joined.is_empty() && !part.is_empty() {
            joined.push(' ');
        }
        joined.push_str(part);
        if continued {
            pending = Some((start, joined));
            continue;
        }
        if joined.is_empty() {
            continue;
        }
        let (keyword, args) = joined.split_once(char::is_whitespace).unwrap_or((&joined, ""));
        if !keyword.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(format!("line {start}: `{keyword}` is not an instruction"));
        }
        out.push(Instruction {
            keyword: keyword.to_ascii_uppercase(),
            args: args.trim().to_owned(),
            line: start,
        });
    }
    if let Some((start, _)) = pending {
        return Err(format!("line {start}: the file ends inside a `\\` continuation"));
    }
    Ok(out)
}

/// Groups instructions by `FROM`; an instruction before the first `FROM` other than `ARG` is
/// an error.
pub(crate) fn stages(instructions: Vec<Instruction>) -> Result<Vec<Stage>, String> {
    let mut stages: Vec<Stage> = Vec::new();
    for instruction in instructions {
        if instruction.keyword == "FROM" {
            let words: Vec<&str> = instruction
                .args
                .split_whitespace()
                .filter(|w| !w.starts_with("--"))
                .collect();
            let (image, alias) = match words.as_slice() {
                [image] => (*image, None),
                [image, as_, alias] if as_.eq_ignore_ascii_case("as") => (*image, Some((*alias).to_owned())),
                _ => return Err(format!("line {}: expected `FROM image [AS name]`", instruction.line)),
            };
            stages.push(Stage {
                image: image.to_owned(),
                alias,
                line: instruction.line,
                instructions: Vec::new(),
            });
        } else if let Some(stage) = stages.last_mut() {
            stage.instructions.push(instruction);
        } else if instruction.keyword != "ARG" {
            return Err(format!(
                "line {}: `{}` before the first FROM",
                instruction.line, instruction.keyword
            ));
        }
    }
    Ok(stages)
}

/// Whether an image reference names a version: a tag other than `latest`, or a digest.
pub(crate) fn is_pinned(image: &str) -> bool {
    if image.contains("@sha256:") {
        return true;
    }
    let name = image.rsplit('/').next().unwrap_or(image);
    match name.split_once(':') {
        Some((_, tag)) => !tag.is_empty() && tag != "latest" && !tag.contains('$'),
        None => false,
    }
}

/// Every problem of the Dockerfile `text`, given the workspace's binary names: multi-stage,
/// every base image pinned, the final stage running as a non-root `USER`, exposing a port,
/// with a `HEALTHCHECK`, and copying one binary the workspace builds (and the builder builds).
pub(crate) fn check(text: &str, workspace_bins: &BTreeSet<String>) -> Vec<String> {
    let stages = match instructions(text).and_then(stages) {
        Ok(stages) => stages,
        Err(error) => return vec![error],
    };
    let mut problems = Vec::new();
    if stages.len() < 2 {
        problems.push(format!(
            "{} stage(s): expected a multi-stage build (builder, runtime)",
            stages.len()
        ));
    }
    let mut aliases = BTreeSet::new();
    for stage in &stages {
        if !aliases.contains(stage.image.as_str()) && !is_pinned(&stage.image) {
            problems.push(format!(
                "line {}: base image `{}` is not pinned to a version",
                stage.line, stage.image
            ));
        }
        if let Some(alias) = &stage.alias {
            aliases.insert(alias.as_str());
        }
    }
    let Some(runtime) = stages.last() else {
        return problems;
    };
    let find = |keyword: &'static str| runtime.instructions.iter().filter(move |i| i.keyword == keyword);
    match find("USER").next_back() {
        None => problems.push("the final stage has no USER: it would run as root".into()),
        Some(user) => {
            let name = user.args.split(':').next().unwrap_or_default();
            if name == "root" || name == "0" {
                problems.push(format!("line {}: the final stage runs as root", user.line));
            }
        }
    }
    if find("EXPOSE").next().is_none() {
        problems.push("the final stage EXPOSEs no port".into());
    }
    if find("HEALTHCHECK").next().is_none() {
        problems.push("the final stage has no HEALTHCHECK".into());
    }
    let copied: Vec<String> = find("COPY")
        .filter(|c| c.args.contains("--from="))
        .filter_map(|c| c.args.split_whitespace().rev().nth(1))
        .filter_map(|source| source.split_once("target/release/").map(|(_, bin)| bin.to_owned()))
        .collect();
    match copied.as_slice() {
        [] => problems.push("the final stage copies no `target/release/<bin>` from a build stage".into()),
        bins => {
            for bin in bins {
                if !workspace_bins.contains(bin) {
                    problems.push(format!(
                        "the copied binary `{bin}` is not a bin target of the workspace"
                    ));
                }
                let built = stages[..stages.len() - 1]
                    .iter()
                    .flat_map(|s| &s.instructions)
                    .any(|i| {
                        i.keyword == "RUN" && i.args.contains("cargo build") && i.args.contains(&format!("--bin {bin}"))
                    });
                if !built {
                    problems.push(format!("no build stage runs `cargo build … --bin {bin}`"));
                }
            }
        }
    }
    problems
}
