//! File-system helpers of the durable stores: opening and locking a log, syncing a
//! directory, replacing a file atomically.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use hive_domain::EventStoreError;

/// Maps an I/O error on `path` to a store error that says what to check.
pub(crate) fn io_error(what: &str, path: &Path, error: &std::io::Error) -> EventStoreError {
    EventStoreError::Unavailable(format!("cannot {what} `{}`: {error}", path.display()))
}

/// Creates `dir` (and its parents) when missing.
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), EventStoreError> {
    std::fs::create_dir_all(dir).map_err(|e| io_error("create data directory", dir, &e))
}

/// Opens (creating when missing) a record log for reading and appending, and locks it
/// exclusively so that no second store in this or another process writes it too.
pub(crate) fn open_locked_log(path: &Path) -> Result<File, EventStoreError> {
    let existed = path.exists();
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| io_error("open", path, &e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(EventStoreError::Unavailable(format!(
                "`{}` is in use by another store (in this or another process); close it first",
                path.display()
            )))
        }
        Err(TryLockError::Error(e)) => return Err(io_error("lock", path, &e)),
    }
    if !existed {
        sync_parent(path)?;
    }
    Ok(file)
}

/// Syncs the directory holding `path`, so that a created or renamed entry survives a power loss.
pub(crate) fn sync_parent(path: &Path) -> Result<(), EventStoreError> {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error("sync directory", dir, &e))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Replaces `path` with `bytes` atomically: writes a temporary file beside it, syncs it (when
/// `sync`), renames it over `path` and syncs the directory (when `sync`). A crash leaves the
/// old or the new file; without `sync`, a power loss may leave the old one.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8], sync: bool) -> Result<(), EventStoreError> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        if sync {
            file.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_error("write", path, &e));
    }
    if sync {
        sync_parent(path)?;
    }
    Ok(())
}

/// Fills `buf` from `file` at `offset` without moving any file cursor.
#[cfg(unix)]
pub(crate) fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

/// Fills `buf` from `file` at `offset`.
#[cfg(windows)]
pub(crate) fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

/// The temporary name used while `path` is rewritten.
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_is_locked_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let first = open_locked_log(&path).unwrap();
        assert!(matches!(open_locked_log(&path), Err(EventStoreError::Unavailable(_))));
        drop(first);
        assert!(open_locked_log(&path).is_ok());
    }

    #[test]
    fn atomic_writes_replace_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        write_atomically(&path, b"one", true).unwrap();
        write_atomically(&path, b"two", false).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert!(!temp_path(&path).exists());
    }
}
