//! What a throwaway PostgreSQL cluster needs before it starts: the server's programs, the user
//! it runs as, and a fresh folder that user can reach.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cmd, Failure, TaskResult};

/// Where Debian's packages put each major version's programs (`<major>/bin`), off `PATH`.
pub(crate) const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// The programs the cluster is made and run with, all from one folder.
const PROGRAMS: [&str; 2] = ["initdb", "postgres"];

/// The longest folder path the server's socket may go in: a Unix socket path holds at most
/// 107 bytes, and `/.s.PGSQL.<port>` takes up to 16 of them.
const SOCKET_DIR_MAX: usize = 90;

/// The folder holding `initdb` and `postgres`: the one `initdb` on `PATH` lives in (symlinks
/// followed), else Debian's newest major version under [`DEBIAN_ROOT`].
pub(crate) fn bin_dir() -> Option<PathBuf> {
    let on_path = cmd::which("initdb")
        .and_then(|initdb| initdb.canonicalize().ok())
        .and_then(|initdb| initdb.parent().map(Path::to_path_buf))
        .filter(|dir| has_programs(dir));
    on_path.or_else(|| debian_bin_dirs(Path::new(DEBIAN_ROOT)).into_iter().next())
}

/// Whether `dir` holds every program of [`PROGRAMS`].
fn has_programs(dir: &Path) -> bool {
    PROGRAMS.iter().all(|program| dir.join(program).is_file())
}

/// The `<major>/bin` folders under `root` that hold the programs, newest major version first.
fn debian_bin_dirs(root: &Path) -> Vec<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_programs(&bin).then_some((major, bin))
        })
        .collect();
    found.sort_by_key(|(major, _)| std::cmp::Reverse(*major));
    found.into_iter().map(|(_, bin)| bin).collect()
}

/// The account the server runs as when xtask runs as root (`initdb` and `postgres` refuse to
/// run as root).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Account {
    /// Its user id.
    pub(crate) uid: u32,
    /// Its primary group id.
    pub(crate) gid: u32,
}

impl Account {
    /// The `postgres` user (Debian's package creates it); `Err` saying what to do when there is
    /// none.
    pub(crate) fn postgres() -> Result<Self, String> {
        let id = |flag: &str| {
            let out = Command::new("id").args([flag, "postgres"]).output().ok()?;
            if !out.status.success() {
                return None;
            }
            String::from_utf8_lossy(&out.stdout).trim().parse::<u32>().ok()
        };
        match (id("-u"), id("-g")) {
            (Some(uid), Some(gid)) => Ok(Self { uid, gid }),
            _ => Err(
                "xtask runs as root, and initdb and postgres refuse to run as root, but there is no \
                      `postgres` user to run them as: install Debian's postgresql package (it creates \
                      the user), or create one with `useradd --system --home-dir /var/lib/postgresql \
                      postgres`, or run xtask as another user"
                    .to_string(),
            ),
        }
    }

    /// Runs `command` as this account (the supplementary groups are dropped with root).
    pub(crate) fn apply(self, command: &mut Command) {
        use std::os::unix::process::CommandExt;
        command.uid(self.uid).gid(self.gid);
    }

    /// Whether this account may pass through the folder with `meta` (its execute bit for the
    /// owner, group or others, whichever applies).
    fn may_traverse(self, meta: &std::fs::Metadata) -> bool {
        let mode = meta.mode();
        if meta.uid() == self.uid {
            mode & 0o100 != 0
        } else if meta.gid() == self.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        }
    }

    /// The first of `dir` and its parents that this account may not pass through, if any.
    fn blocked_at(self, dir: &Path) -> Option<PathBuf> {
        dir.ancestors()
            .find(|folder| !folder.metadata().is_ok_and(|meta| self.may_traverse(&meta)))
            .map(Path::to_path_buf)
    }
}

/// Creates the cluster's folder, fresh: `<base>/<pid>` (the data under `data`, the socket beside
/// it), owned by `account` when given. `base` is used when `account` can reach it and the
/// socket path fits; otherwise a folder under the system's temporary directory, with a notice.
pub(crate) fn fresh_home(base: &Path, account: Option<Account>) -> TaskResult<PathBuf> {
    let pid = std::process::id().to_string();
    let create = |dir: &Path| {
        std::fs::create_dir_all(dir).map_err(|e| Failure::new(format!("xtask: cannot create {}: {e}", dir.display())))
    };
    create(base)?;
    let home = match unusable(&base.join(&pid), account) {
        None => base.join(&pid),
        Some(why) => {
            let fallback = std::env::temp_dir().join(format!("hive-xtask-postgres-{pid}"));
            eprintln!(
                "xtask: PostgreSQL: {why}; the cluster goes in {} instead",
                fallback.display()
            );
            fallback
        }
    };
    let _ = std::fs::remove_dir_all(&home);
    create(&home)?;
    if let Some(account) = account {
        std::os::unix::fs::chown(&home, Some(account.uid), Some(account.gid)).map_err(|e| {
            Failure::new(format!(
                "xtask: cannot hand {} to the postgres user: {e}",
                home.display()
            ))
        })?;
    }
    Ok(home)
}

/// Why `home` (not created yet) cannot hold the cluster, if it cannot.
fn unusable(home: &Path, account: Option<Account>) -> Option<String> {
    if home.as_os_str().len() > SOCKET_DIR_MAX {
        return Some(format!("{} is too long a path for the server's socket", home.display()));
    }
    let parent = home.parent()?;
    let blocked = account?.blocked_at(parent)?;
    Some(format!(
        "the postgres user may not pass through {} (it needs the execute permission)",
        blocked.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A fresh, empty folder under the temporary directory, named after `name`.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-pg-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn debian_dirs_come_newest_major_first_and_only_complete() {
        let root = scratch("debian");
        for (major, programs) in [("9", &PROGRAMS[..]), ("16", &PROGRAMS[..]), ("17", &["initdb"][..])] {
            let bin = root.join(major).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            for program in programs {
                std::fs::write(bin.join(program), "").unwrap();
            }
        }
        std::fs::create_dir_all(root.join("common/bin")).unwrap();
        assert_eq!(debian_bin_dirs(&root), vec![root.join("16/bin"), root.join("9/bin")]);
        assert!(debian_bin_dirs(&root.join("absent")).is_empty());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_folder_without_execute_for_others_blocks_another_account() {
        let dir = scratch("traverse");
        let closed = dir.join("closed");
        std::fs::create_dir_all(closed.join("inner")).unwrap();
        std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o700)).unwrap();
        let meta = closed.metadata().unwrap();
        let owner = Account {
            uid: meta.uid(),
            gid: meta.gid(),
        };
        let stranger = Account {
            uid: meta.uid() + 4242,
            gid: meta.gid() + 4242,
        };
        assert_eq!(owner.blocked_at(&closed.join("inner")), None);
        assert_eq!(stranger.blocked_at(&closed.join("inner")), Some(closed.clone()));
        assert!(unusable(&closed.join("inner").join("1"), Some(stranger)).is_some());
        assert_eq!(unusable(&closed.join("inner").join("1"), None), None);
        let long = dir.join("x".repeat(SOCKET_DIR_MAX));
        assert!(unusable(&long, None).is_some_and(|why| why.contains("too long")));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
