//! Running commands: the workspace root, `cargo`, and waiting on a child with Ctrl-C in mind.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use crate::{signals, Failure, TaskResult};

/// The workspace root: the folder above `xtask/`.
pub(crate) fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// A `cargo` command run from the workspace root (the same cargo that runs xtask, if known).
pub(crate) fn cargo<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(program);
    command.args(args).current_dir(workspace_root());
    command
}

/// Runs `command` to completion, echoing it first, and fails with `what` in the message when
/// it exits non-zero. Ctrl-C (or SIGTERM) while it runs is forwarded to it.
pub(crate) fn run(what: &str, command: &mut Command) -> TaskResult {
    if signals::interrupted() {
        return Err(Failure::with_code(
            format!("xtask: interrupted, {what} not started"),
            130,
        ));
    }
    eprintln!("xtask: $ {}", display(command));
    let mut child = command
        .spawn()
        .map_err(|e| Failure::new(format!("xtask: could not start `{}`: {e}", display(command))))?;
    let status = {
        let _foreground = signals::Foreground::new(child.id());
        child.wait()
    };
    let status = status.map_err(|e| Failure::new(format!("xtask: waiting for {what} failed: {e}")))?;
    check(what, status)
}

/// Turns a non-zero exit status into a [`Failure`] that names `what` failed.
pub(crate) fn check(what: &str, status: ExitStatus) -> TaskResult {
    if status.success() {
        return Ok(());
    }
    use std::os::unix::process::ExitStatusExt;
    let how = match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => status.to_string(),
    };
    Err(Failure::with_code(
        format!("xtask: {what} failed ({how})"),
        exit_code(status),
    ))
}

/// The exit status to pass on for a child's `status`: its own code, or 128 + the signal that
/// killed it, as a shell reports it.
fn exit_code(status: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    let code = status
        .code()
        .or_else(|| status.signal().map(|signal| 128 + signal))
        .unwrap_or(1);
    u8::try_from(code).unwrap_or(1)
}

/// Whether `cargo <sub> --version` works, i.e. the cargo subcommand is installed.
pub(crate) fn cargo_has(sub: &str) -> bool {
    cargo([sub, "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The path of executable `program` found on `PATH`, if any.
pub(crate) fn which(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })
}

/// A shell-like rendering of `command` for messages: environment overrides, program, arguments.
pub(crate) fn display(command: &Command) -> String {
    let mut parts: Vec<String> = command
        .get_envs()
        .filter_map(|(key, value)| value.map(|v| format!("{}={}", key.to_string_lossy(), quote(v))))
        .collect();
    let program = command.get_program().to_string_lossy();
    // `CARGO` is an absolute path to the toolchain's cargo; show it as the user would type it.
    let program = if Path::new(program.as_ref()).file_name() == Some(OsStr::new("cargo")) {
        "cargo".into()
    } else {
        program
    };
    parts.push(program.into_owned());
    parts.extend(command.get_args().map(quote));
    parts.join(" ")
}

/// Quotes one word for [`display`] when it is empty or holds characters a shell would split on.
fn quote(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c))
    {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_what_a_shell_would_split() {
        let mut command = Command::new("cargo");
        command
            .args(["doc", "--workspace", ""])
            .env("RUSTDOCFLAGS", "-D warnings");
        assert_eq!(display(&command), "RUSTDOCFLAGS='-D warnings' cargo doc --workspace ''");
    }

    #[test]
    fn which_finds_sh_and_not_nonsense() {
        assert!(which("sh").is_some());
        assert!(which("no-such-program-hive-xtask").is_none());
    }
}
