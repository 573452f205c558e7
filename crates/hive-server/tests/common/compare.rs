//! Comparing the answers of two runs of the billing flow ([`super::flow`]): what differs
//! between runs by nature (instants, generated ids, hour buckets) is taken out first.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// The fields that hold an instant or a generated id: they differ from one run to the next.
const RUN_SPECIFIC: [&str; 8] = [
    "eventId",
    "causationId",
    "timestamp",
    "createdAt",
    "processedAt",
    "failedAt",
    "refundedAt",
    "updatedAt",
];

/// `answers` without what differs between two runs of the flow (instants, generated ids):
/// the run-specific fields are removed, and the counts bucketed by hour or day are summed
/// (per currency for payments) since a run may straddle an hour or a day.
pub fn comparable(answers: &Value) -> Value {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.retain(|key, _| !RUN_SPECIFIC.contains(&key.as_str()));
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let counts = |v: &Value| -> u64 {
        match v {
            Value::Object(map) => map.values().filter_map(Value::as_u64).sum(),
            Value::Array(items) => items.iter().filter_map(|i| i["count"].as_u64()).sum(),
            _ => 0,
        }
    };
    let mut answers = answers.clone();
    strip(&mut answers);
    for key in ["statistics", "trends"] {
        let daily = &answers[key]["daily"];
        let mut sums: BTreeMap<String, (u64, i128)> = BTreeMap::new();
        for bucket in daily.as_array().cloned().unwrap_or_default() {
            let currency = bucket["currency"].as_str().unwrap_or_default().to_owned();
            let sum = sums.entry(currency).or_default();
            sum.0 += bucket["count"].as_u64().unwrap_or(0);
            // Same currency, same minor units: the digits add up as an integer.
            let digits = bucket["totalAmount"].as_str().unwrap_or("0").replace('.', "");
            sum.1 += digits.parse::<i128>().unwrap_or(0);
        }
        answers[key]["daily"] = json!(sums);
    }
    let statistics = &mut answers["eventStatistics"];
    for key in ["byHour", "byDay"] {
        statistics[key] = json!(counts(&statistics[key]));
    }
    let heatmap = &mut answers["heatmap"];
    for key in ["cells", "byDay"] {
        heatmap[key] = json!(counts(&heatmap[key]));
    }
    for interval in ["hour", "day"] {
        let items = &mut answers["eventTrends"][interval]["items"];
        *items = json!(counts(items));
    }
    answers
}

/// Panics listing the differences when `a` and `b` differ.
pub fn assert_same(a: &Value, b: &Value, what: &str) {
    let differences = differences(a, b);
    assert!(differences.is_empty(), "{what}:\n{}", differences.join("\n"));
}

/// Where `a` and `b` differ, one line per JSON pointer (empty when they are equal).
pub fn differences(a: &Value, b: &Value) -> Vec<String> {
    fn walk(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for key in keys {
                    let (l, r) = (x.get(key).unwrap_or(&Value::Null), y.get(key).unwrap_or(&Value::Null));
                    walk(&format!("{path}/{key}"), l, r, out);
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (l, r)) in x.iter().zip(y).enumerate() {
                    walk(&format!("{path}/{i}"), l, r, out);
                }
            }
            _ if a != b => out.push(format!("{path}: {a} != {b}")),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", a, b, &mut out);
    out
}
