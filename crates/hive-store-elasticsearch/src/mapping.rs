//! The index mappings (field names follow the seeds, camelCase).

use serde_json::{json, Value};

/// The events index (seed 000): ids keyword, `version` and `globalPosition` long, `timestamp`
/// date; string leaves of `eventData` and `metadata` are `text` (searchable by `multi_match`)
/// with a `keyword` sub-field; `metadata.organizationId` and `metadata.userId` are keywords
/// (filters, `terms` aggregations).
pub fn events() -> Value {
    let text = json!({"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}});
    json!({
        "dynamic_templates": [
            {"event_data_strings": {"path_match": "eventData.*", "match_mapping_type": "string", "mapping": text}},
            {"metadata_strings": {"path_match": "metadata.*", "match_mapping_type": "string", "mapping": text}}
        ],
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
            "eventData": {"type": "object"},
            "metadata": {
                "type": "object",
                "properties": {
                    "organizationId": {"type": "keyword"},
                    "userId": {"type": "keyword"},
                    "source": {"type": "keyword"}
                }
            }
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

/// The checkpoints index (`projections_metadata`).
pub fn checkpoints() -> Value {
    json!({
        "dynamic": false,
        "properties": {
            "projection": {"type": "keyword"},
            "position": {"type": "long"},
            "lastEventId": {"type": "keyword"},
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

/// The payments index (seed 004): `paymentId`, `organizationId`, `status`, `currency`, `tags`
/// keywords (`paymentId` and `tags` with a `text` sub-field for fuzzy matching: the whole value
/// lower-cased at index time, the query split on whitespace and lower-cased); `description`
/// text (`standard` analyzer) with a `completion` sub-field `description.suggest`; `suggest` the
/// completion inputs of the description (every word suffix, see `hive_billing::text`) with the
/// `organizationId` context; `amount` `scaled_float` with `scaling_factor` 1000 (3 decimals
/// exact, for BHD; the exact amount string stays in `_source`); dates `date`; `position` long.
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
            "createdAt": {"type": "date"},
            "processedAt": {"type": "date"},
            "updatedAt": {"type": "date"},
            "position": {"type": "long"}
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
