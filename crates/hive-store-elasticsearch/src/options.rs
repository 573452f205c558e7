//! [`EsOptions`]: the cluster URL, index names and index settings.

use std::time::Duration;

/// When a write becomes visible to searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Refresh {
    /// `refresh=wait_for`: the write returns once a scheduled refresh made it searchable
    /// (latency up to `refresh_interval`, no extra refreshes).
    #[default]
    WaitFor,
    /// `refresh=true`: the write forces a refresh of the shards it touched (fast to see, costly
    /// under load; for tests and small clusters).
    Immediate,
}

impl Refresh {
    /// The value of the `refresh` query parameter.
    pub fn as_param(self) -> &'static str {
        match self {
            Refresh::WaitFor => "wait_for",
            Refresh::Immediate => "true",
        }
    }
}

/// How to reach the cluster and where things are stored.
///
/// ```
/// use hive_store_elasticsearch::EsOptions;
/// let options = EsOptions::new("http://localhost:9200").with_prefix("hive-test");
/// assert_eq!(options.events_index, "hive-test-events");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsOptions {
    /// The cluster URL (`elasticsearch.url`).
    pub url: String,
    /// Per-event documents (search, analytics, global log). Default `hive-events`.
    pub events_index: String,
    /// Commit documents, one per append: the source of truth of streams. Default `hive-commits`.
    pub commits_index: String,
    /// The global sequence document. Default `hive-sequence`.
    pub sequence_index: String,
    /// Snapshots. Default `hive-snapshots`.
    pub snapshots_index: String,
    /// Projection checkpoints. Default `hive-checkpoints`.
    pub checkpoints_index: String,
    /// Projection dead letters. Default `hive-dead-letters`.
    pub dead_letters_index: String,
    /// Payment search documents (feature `billing`). Default `payments`.
    pub payments_index: String,
    /// `number_of_shards` of the index templates.
    pub shards: u32,
    /// `number_of_replicas` of the index templates.
    pub replicas: u32,
    /// `refresh_interval` of the index templates.
    pub refresh_interval: String,
    /// How writes that must be searchable at once (published events, payment documents) refresh.
    pub refresh: Refresh,
    /// Timeout of one request.
    pub timeout: Duration,
}

impl EsOptions {
    /// Defaults for the cluster at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            events_index: "hive-events".into(),
            commits_index: "hive-commits".into(),
            sequence_index: "hive-sequence".into(),
            snapshots_index: "hive-snapshots".into(),
            checkpoints_index: "hive-checkpoints".into(),
            dead_letters_index: "hive-dead-letters".into(),
            payments_index: "payments".into(),
            shards: 1,
            replicas: 0,
            refresh_interval: "1s".into(),
            refresh: Refresh::WaitFor,
            timeout: Duration::from_secs(30),
        }
    }

    /// Every index named `{prefix}-events`, `{prefix}-commits`… (`{prefix}-payments`).
    #[must_use]
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.events_index = format!("{prefix}-events");
        self.commits_index = format!("{prefix}-commits");
        self.sequence_index = format!("{prefix}-sequence");
        self.snapshots_index = format!("{prefix}-snapshots");
        self.checkpoints_index = format!("{prefix}-checkpoints");
        self.dead_letters_index = format!("{prefix}-dead-letters");
        self.payments_index = format!("{prefix}-payments");
        self
    }

    /// Sets the refresh policy of writes that must be searchable at once.
    #[must_use]
    pub fn with_refresh(mut self, refresh: Refresh) -> Self {
        self.refresh = refresh;
        self
    }

    /// Sets shards, replicas and refresh interval of the index templates.
    #[must_use]
    pub fn with_settings(mut self, shards: u32, replicas: u32, refresh_interval: impl Into<String>) -> Self {
        self.shards = shards;
        self.replicas = replicas;
        self.refresh_interval = refresh_interval.into();
        self
    }
}
