//! The closed sets of values some keys take.

use std::str::FromStr;

use super::ConfigError;

macro_rules! kind {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal, available = $avail:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, as written in configuration.
            pub const ALL: &'static [&'static str] = &[$($text),+];

            /// The values this build has an adapter for.
            pub fn available() -> Vec<&'static str> {
                let mut out = Vec::new();
                $(if $avail { out.push($text); })+
                out
            }

            /// The value as written in configuration.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text,)+ }
            }

            /// Whether this build has the adapter.
            pub fn is_available(self) -> bool {
                match self { $(Self::$variant => $avail,)+ }
            }
        }

        impl FromStr for $name {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                match s { $($text => Ok(Self::$variant),)+ _ => Err(()) }
            }
        }
    };
}

kind!(
    /// Where events are stored.
    StoreKind {
        /// In memory only: lost on exit (tests, demos).
        Memory = "memory", available = true;
        /// In memory, with an append-only log on disk (the embedded default).
        MemoryDurable = "memory-durable", available = true;
        /// MongoDB.
        Mongodb = "mongodb", available = true;
        /// Elasticsearch (`elasticsearch.url` required), the payment read model too (in the
        /// `payments` index, its checkpoint beside it: resumed at start).
        Elasticsearch = "elasticsearch", available = true;
        /// PostgreSQL (`postgres.url` required): events, snapshots, checkpoints and the payment
        /// read model in one schema (`postgres.schema`, default `hive`), migrated at start.
        Postgres = "postgres", available = true;
    }
);

kind!(
    /// Where the payment search index lives.
    SearchKind {
        /// In memory, rebuilt from the event log at start.
        Memory = "memory", available = true;
        /// Elasticsearch (`elasticsearch.url` required), fed by the search projection whose
        /// checkpoint is kept in Elasticsearch beside the index.
        Elasticsearch = "elasticsearch", available = true;
    }
);

kind!(
    /// Which query cache runs.
    CacheKind {
        /// No cache.
        None = "none", available = true;
        /// moka, in process (the default).
        Moka = "moka", available = true;
        /// moka in process, then Redis shared by every instance (`redis.url` required).
        MokaRedis = "moka+redis", available = true;
    }
);

kind!(
    /// Where the global log is published, besides the service's own API.
    ConnectorKind {
        /// Nowhere (the default).
        None = "none", available = true;
        /// NATS JetStream (`nats.url` required), by `hive-connector-nats`: one message per
        /// event, checkpointed in the service's checkpoint store.
        Nats = "nats", available = true;
    }
);

kind!(
    /// How logs are written.
    LogFormat {
        /// Human-readable lines.
        Text = "text", available = true;
        /// One JSON object per line.
        Json = "json", available = true;
    }
);

/// Parses `value` for `key` or names the allowed values.
pub(crate) fn parse<T: FromStr + Kind>(key: &str, value: &str) -> Result<T, ConfigError> {
    value
        .parse()
        .map_err(|_| ConfigError::new(key, Some(value), format!("expected one of {}", T::all().join(", "))))
}

/// Refuses a known value whose adapter is not in this build.
pub(crate) fn ensure_available(key: &str, value: &str, available: bool, usable: &[&str]) -> Result<(), ConfigError> {
    if available {
        return Ok(());
    }
    Err(ConfigError::new(
        key,
        Some(value),
        format!(
            "this build has no `{value}` adapter yet; use one of {}",
            usable.join(", ")
        ),
    ))
}

/// Refuses an index prefix Elasticsearch would not accept in an index name: lower-case ASCII
/// letters, digits, `-`, `_` and `.`, starting with a letter or a digit, at most 200 bytes.
pub(crate) fn check_index_prefix(prefix: &str) -> Result<(), ConfigError> {
    let valid_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.');
    let valid = prefix.len() <= 200
        && prefix.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && prefix.chars().all(valid_char);
    if valid {
        return Ok(());
    }
    Err(ConfigError::new(
        "elasticsearch.index_prefix",
        Some(prefix),
        "expected lower-case letters, digits, `-`, `_` or `.`, starting with a letter or a digit (at most 200)",
    ))
}

/// A closed set of configuration values.
pub(crate) trait Kind {
    fn all() -> &'static [&'static str];
}

macro_rules! impl_kind {
    ($($t:ty),+) => { $(impl Kind for $t { fn all() -> &'static [&'static str] { <$t>::ALL } })+ };
}
impl_kind!(StoreKind, SearchKind, CacheKind, ConnectorKind, LogFormat);

/// The durable log's fsync policy as configured: `always`, `never` or `<n>ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncSetting {
    /// fsync every group commit before acknowledging (nothing acknowledged is ever lost).
    Always,
    /// Leave flushing to the OS (survives a process crash, not a power loss).
    Never,
    /// fsync at most every n milliseconds (may lose the last n ms on power loss).
    EveryMillis(u64),
}

impl FsyncSetting {
    pub(crate) fn parse(value: &str) -> Result<Self, ConfigError> {
        match value {
            "always" => Ok(Self::Always),
            "never" => Ok(Self::Never),
            other => other
                .strip_suffix("ms")
                .and_then(|n| n.parse().ok())
                .filter(|n| *n > 0)
                .map(Self::EveryMillis)
                .ok_or_else(|| ConfigError::new("fsync", Some(value), "expected always, never or a period like 50ms")),
        }
    }
}
