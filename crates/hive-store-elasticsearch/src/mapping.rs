//! The index mappings (field names follow the seeds, camelCase).

use serde_json::{json, Value};

/// The events index (seed 000): ids keyword, `version` and `globalPosition` long, `timestamp`
/// date; `metadata.organizationId`, `metadata.userId` and `metadata.source` keywords (filters,
/// `terms` aggregations).
///
/// `eventData` and the other metadata keys are kept in `_source` but not mapped: event payloads
/// are free-form (one field may hold a number in one event, a string or an object in the next,
/// or an array mixing them), and a dynamic mapping refuses the first event that disagrees with
/// an earlier one. Free-text search goes to `searchText` instead: every string and number of
/// `eventData` and `metadata` ([`hive_domain::searchable_text`]), analysed by `hive_words`
/// ([`events_analysis`]) and left out of `_source`.
pub fn events() -> Value {
    json!({
        "dynamic": false,
        "_source": {"excludes": [SEARCH_TEXT]},
        "properties": {
            "eventId": {"type": "keyword"},
            "aggregateId": {"type": "keyword"},
            "aggregateType": {"type": "keyword"},
            "eventType": {"type": "keyword"},
            "correlationId": {"type": "keyword"},
            "causationId": {"type": "keyword"},
            "schemaVersion": {"type": "integer"},
            "version": {"type": "long"},
            "globalPosition": {"type": "long"},
            "timestamp": {"type": "date"},
            "eventData": {"type": "object", "enabled": false},
            "metadata": {
                "type": "object",
                "dynamic": false,
                "properties": {
                    "organizationId": {"type": "keyword"},
                    "userId": {"type": "keyword"},
                    "source": {"type": "keyword"}
                }
            },
            SEARCH_TEXT: {"type": "text", "analyzer": "hive_words", "norms": false, "index_options": "docs"}
        }
    })
}

/// The field of an event document that holds its searchable text.
pub const SEARCH_TEXT: &str = "searchText";

/// The analysis settings of the events index: `hive_words` splits on every character that is
/// neither a letter nor a digit and lower-cases, the words of
/// [`hive_domain::words`] (so a search matches exactly what the reference matches).
pub fn events_analysis() -> Value {
    json!({
        "tokenizer": {
            "hive_words": {"type": "pattern", "pattern": "[^\\p{IsAlphabetic}\\p{N}]+"}
        },
        "analyzer": {
            "hive_words": {"type": "custom", "tokenizer": "hive_words", "filter": ["lowercase"]}
        }
    })
}

/// The commits index: one create-only document per append, its events kept unindexed.
pub fn commits() -> Value {
    json!({
        "dynamic": false,
        "properties": {
            "aggregateId": {"type": "keyword"},
            "fromVersion": {"type": "long"},
            "toVersion": {"type": "long"},
            "count": {"type": "integer"},
            "position": {"type": "long"},
            "committedAt": {"type": "date"},
            "events": {"type": "object", "enabled": false}
        }
    })
}

/// The sequence index: one document, the last allocated global position and its commit.
pub fn sequence() -> Value {
    json!({
        "dynamic": false,
        "properties": {
            "position": {"type": "long"},
            "lastCommit": {"type": "keyword"},
            "lastFrom": {"type": "long"}
        }
    })
}

/// The snapshots index: the state is kept, not indexed.
pub fn snapshots() -> Value {
    json!({
        "dynamic": false,
        "properties": {
            "aggregateId": {"type": "keyword"},
            "aggregateType": {"type": "keyword"},
            "version": {"type": "long"},
            "timestamp": {"type": "date"},
            "state": {"type": "object", "enabled": false}
        }
    })
}

/// The checkpoints index (`projections_metadata`, seed 003's field names): `position`,
/// `lastEventId`, `lastProcessedTimestamp` (the timestamp of that event), `version` (of the
/// projection code that wrote the read model) and `updatedAt`. A checkpoint is read from its
/// `_source`: a document written before `lastProcessedTimestamp` and `version` existed reads
/// as `None` and `0`, on an index created before they were mapped too.
pub fn checkpoints() -> Value {
    json!({
        "dynamic": false,
        "properties": {
            "projection": {"type": "keyword"},
            "position": {"type": "long"},
            "lastEventId": {"type": "keyword"},
            "lastProcessedTimestamp": {"type": "date"},
            "version": {"type": "integer"},
            "updatedAt": {"type": "date"}
        }
    })
}

/// The dead-letters index.
pub fn dead_letters() -> Value {
    json!({
        "dynamic": false,
        "properties": {
            "projection": {"type": "keyword"},
            "position": {"type": "long"},
            "eventId": {"type": "keyword"},
            "eventType": {"type": "keyword"},
            "error": {"type": "text"},
            "recordedAt": {"type": "date"}
        }
    })
}

/// The payments index (seed 004), one document per payment under its key
/// (`{organizationId}/{paymentId}`, also the `paymentKey` keyword, the order of keyset paging):
/// `paymentId`, `organizationId`, `status`, `currency`, `tags` keywords (`paymentId` and `tags`
/// with a `text` sub-field for fuzzy matching: the whole value lower-cased at index time, the
/// query split on whitespace and lower-cased); `searchTags`, the tags then the `metadata`
/// values, mapped like `tags` (what full-text search matches as tags); `metadata` (free-form
/// string pairs) kept in `_source` only (`enabled: false`: arbitrary keys never grow the
/// mapping; OpenSearch 2 has no `flattened`); `description`
/// text (`standard` analyzer) with a `completion` sub-field `description.suggest`; `suggest` the
/// completion inputs of the description (every word suffix, see `hive_billing::text`) with the
/// `organizationId` context; `amount` `scaled_float` with `scaling_factor` 1000 (3 decimals
/// exact, for BHD; the exact amount string stays in `_source`); dates `date`; `position` long.
///
/// The fields the billing read model derives from the payment (see
/// `hive_store_elasticsearch::EsPaymentDocument`, feature `billing`): `statisticsAt`
/// `date` (`processedAt`, else `createdAt`), `amountMinorUnits` `long` (the amount in the
/// currency's minor units: exact sums), `subMillisecondNanos.processedAt` and
/// `subMillisecondNanos.statisticsAt` `integer` (the nanoseconds a `date` drops).
pub fn payments() -> Value {
    let completion = json!({
        "type": "completion",
        "analyzer": "hive_exact_lower",
        "preserve_separators": true,
        "max_input_length": 256,
        "contexts": [{"name": "organizationId", "type": "category", "path": "organizationId"}]
    });
    let words =
        json!({"text": {"type": "text", "analyzer": "hive_exact_lower", "search_analyzer": "hive_words_lower"}});
    json!({
        "dynamic": false,
        "properties": {
            "paymentId": {"type": "keyword", "fields": words},
            "organizationId": {"type": "keyword"},
            "userId": {"type": "keyword"},
            "status": {"type": "keyword"},
            "currency": {"type": "keyword"},
            "amount": {"type": "scaled_float", "scaling_factor": 1000},
            "description": {"type": "text", "fields": {"suggest": completion}},
            "suggest": completion,
            "tags": {"type": "keyword", "fields": words},
            "paymentKey": {"type": "keyword"},
            "metadata": {"type": "object", "enabled": false},
            "searchTags": {"type": "keyword", "fields": words},
            "createdAt": {"type": "date"},
            "processedAt": {"type": "date"},
            "updatedAt": {"type": "date"},
            "position": {"type": "long"},
            "statisticsAt": {"type": "date"},
            "amountMinorUnits": {"type": "long"},
            "subMillisecondNanos": {
                "properties": {
                    "processedAt": {"type": "integer"},
                    "statisticsAt": {"type": "integer"}
                }
            }
        }
    })
}

/// The analysis settings of the payments index: `hive_exact_lower` (the whole value,
/// lower-cased) and `hive_words_lower` (whitespace-separated words, lower-cased).
pub fn payments_analysis() -> Value {
    json!({
        "analyzer": {
            "hive_exact_lower": {"type": "custom", "tokenizer": "keyword", "filter": ["lowercase"]},
            "hive_words_lower": {"type": "custom", "tokenizer": "whitespace", "filter": ["lowercase"]}
        }
    })
}
