//! [`PaymentViewsFile`]: the redb database file that holds the payment views, and how its
//! failures become store errors.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hive_domain::EventStoreError;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::read_model::DiskPaymentReadModel;
use super::search_index::DiskPaymentSearchIndex;
use super::tables;

/// The version of the file's layout (tables and value encoding); a file of another version is
/// [`EventStoreError::Corrupt`] (the views are rebuilt from the log).
const FORMAT: u32 = 1;
/// The layout version, under the key `format`.
const META: TableDefinition<&str, u32> = TableDefinition::new("meta");

/// One redb file holding the payment read model and the payment search index, each in its own
/// tables with the checkpoint of the projection that feeds it. Only pages the bounded cache
/// holds stay in memory: the views of a million payments cost their cache, not their size.
///
/// Clones share the open database; the file is closed when the last clone (and the last view
/// taken from it) is dropped. One process at a time has a file open.
///
/// ```
/// use hive_billing::{PaymentKey, PaymentReadModel, PaymentSearchIndex};
/// use hive_domain::Checkpoint;
/// use hive_store_memory::billing::disk::{DiskView, PaymentViewsFile};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// let file = PaymentViewsFile::open(dir.path().join("payments.views"), 8 << 20).await?;
/// let (read_model, search_index) = (file.read_model(), file.search_index());
/// assert!(read_model.get(&PaymentKey::new("org-1", "pay-1")).await?.is_none());
/// assert!(search_index.suggest("org-1", "clo", 5).await?.is_empty());
/// assert_eq!(read_model.checkpoint().await?, None, "a new file has no checkpoint");
/// read_model.save_checkpoint(&Checkpoint::new("payments", 0, None)).await?;
/// assert_eq!(read_model.checkpoint().await?.map(|c| c.position), Some(0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct PaymentViewsFile {
    inner: Arc<ViewsDb>,
}

impl fmt::Debug for PaymentViewsFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentViewsFile")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

/// The open database and its path (to name it in errors).
pub(super) struct ViewsDb {
    pub(super) db: Database,
    path: PathBuf,
}

impl PaymentViewsFile {
    /// The page cache of [`PaymentViewsFile::open`] when nothing else is configured: 32 MiB.
    pub const DEFAULT_CACHE_BYTES: usize = 32 << 20;

    /// Opens the views file at `path`, creating it when missing, with a page cache of at most
    /// `cache_bytes` (reads and not yet written pages together). After a crash the file is
    /// brought back to its last durable commit first, which reads the whole file.
    ///
    /// A file that is not a views file of this layout, or is damaged, is
    /// [`EventStoreError::Corrupt`]; one another process has open is
    /// [`EventStoreError::Unavailable`].
    pub async fn open(path: impl AsRef<Path>, cache_bytes: usize) -> Result<Self, EventStoreError> {
        let path = path.as_ref().to_path_buf();
        tokio::task::spawn_blocking(move || Self::open_blocking(path, cache_bytes))
            .await
            .map_err(|e| EventStoreError::Backend(format!("opening the payment views failed: {e}")))?
    }

    fn open_blocking(path: PathBuf, cache_bytes: usize) -> Result<Self, EventStoreError> {
        // redb may panic on a file altered behind its back instead of reporting it.
        let opened = std::panic::catch_unwind(|| redb::Builder::new().set_cache_size(cache_bytes).create(&path));
        let db = match opened {
            Ok(opened) => opened.map_err(|e| Failure::from(e).into_store_error(&path))?,
            Err(_) => return Err(corrupt(&path, "the file cannot be opened (redb panicked)")),
        };
        let file = ViewsDb { db, path };
        file.prepare().map_err(|e| e.into_store_error(&file.path))?;
        Ok(Self { inner: Arc::new(file) })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The payment read model kept in this file.
    pub fn read_model(&self) -> DiskPaymentReadModel {
        DiskPaymentReadModel::new(self.clone())
    }

    /// The payment search index kept in this file.
    pub fn search_index(&self) -> DiskPaymentSearchIndex {
        DiskPaymentSearchIndex::new(self.clone())
    }

    /// Runs `work` on the database on a blocking thread (off the async runtime's workers).
    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, EventStoreError> {
        let file = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&file.db).map_err(|e| e.into_store_error(&file.path)))
            .await
            .map_err(|e| EventStoreError::Backend(format!("a payment views task failed: {e}")))?
    }
}

impl ViewsDb {
    /// Checks the layout version (recording it in a new file) and creates every table, so
    /// that readers never meet a missing one.
    fn prepare(&self) -> Result<(), Failure> {
        let stored = {
            let read = self.db.begin_read()?;
            match read.open_table(META) {
                Ok(meta) => meta.get("format")?.map(|format| format.value()),
                Err(redb::TableError::TableDoesNotExist(_)) => None,
                Err(other) => return Err(other.into()),
            }
        };
        match stored {
            Some(FORMAT) => Ok(()),
            Some(other) => Err(Failure::Undecodable {
                record: "format".into(),
                reason: format!("layout {other} (this build reads {FORMAT})"),
            }),
            None => {
                let write = self.db.begin_write()?;
                write.open_table(META)?.insert("format", FORMAT)?;
                tables::create(&write)?;
                write.commit()?;
                Ok(())
            }
        }
    }
}

/// What went wrong in the file: a redb error, or stored bytes that do not decode.
#[derive(Debug)]
pub(super) enum Failure {
    /// redb failed.
    Redb(redb::Error),
    /// A stored value does not decode.
    Undecodable {
        /// Which value (a payment key, a checkpoint).
        record: String,
        /// Why.
        reason: String,
    },
}

macro_rules! redb_failures {
    ($($error:ty),* $(,)?) => {
        $(impl From<$error> for Failure {
            fn from(error: $error) -> Self {
                Self::Redb(error.into())
            }
        })*
    };
}

redb_failures!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError,
);

fn corrupt(path: &Path, reason: impl Into<String>) -> EventStoreError {
    EventStoreError::Corrupt {
        record: path.display().to_string(),
        reason: reason.into(),
    }
}

impl Failure {
    /// The store error of this failure in the file at `path`: a damaged or foreign file is
    /// `Corrupt`, one that cannot be reached or is in use `Unavailable`, anything else
    /// `Backend`.
    pub(super) fn into_store_error(self, path: &Path) -> EventStoreError {
        use redb::Error;
        let error = match self {
            Self::Undecodable { record, reason } => {
                return EventStoreError::Corrupt {
                    record: format!("{}: {record}", path.display()),
                    reason,
                }
            }
            Self::Redb(error) => error,
        };
        let unreadable = |e: &std::io::Error| {
            matches!(
                e.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
            )
        };
        match error {
            Error::Corrupted(_)
            | Error::UpgradeRequired(_)
            | Error::RepairAborted
            | Error::TableTypeMismatch(_)
            | Error::TypeDefinitionChanged(_)
            | Error::TableIsMultimap(_)
            | Error::TableDoesNotExist(_) => corrupt(path, error.to_string()),
            Error::Io(e) if unreadable(&e) => corrupt(path, e.to_string()),
            Error::DatabaseAlreadyOpen
            | Error::LockProtocolMismatch
            | Error::Io(_)
            | Error::PreviousIo
            | Error::DatabaseClosed
            | Error::WouldBlock => EventStoreError::Unavailable(format!("`{}`: {error}", path.display())),
            other => EventStoreError::Backend(format!("`{}`: {other}", path.display())),
        }
    }
}
