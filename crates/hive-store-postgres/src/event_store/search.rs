//! Look-ups: [`EventCriteria`] and [`AnalyticsFilter`] as a `WHERE` clause with bound
//! parameters, and one page of matches with their total.

use hive_domain::{AnalyticsFilter, EventCriteria, EventPage, Page, SortOrder, TimeRange};
use tokio_postgres::types::ToSql;

use super::codec::{decode, int, ms_at_or_after};
use super::PostgresEventStore;
use crate::error::PostgresError;
use crate::sql::EVENT_COLUMNS;

/// A parameter of a built statement.
type Param = Box<dyn ToSql + Sync + Send>;

/// Conditions joined with `AND`, each naming its parameters `$1`, `$2`… in order.
#[derive(Default)]
pub(crate) struct Filter {
    conditions: Vec<String>,
    params: Vec<Param>,
}

impl Filter {
    /// Adds `condition`, in which `$` stands for a new parameter bound to `value`.
    fn and(&mut self, condition: &str, value: impl ToSql + Sync + Send + 'static) {
        self.params.push(Box::new(value));
        let number = format!("${}", self.params.len());
        self.conditions.push(condition.replace('$', &number));
    }

    /// `WHERE …`, or nothing when every event matches.
    pub(crate) fn where_clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conditions.join(" AND "))
        }
    }

    /// The parameters, to bind after any of the statement's own.
    pub(crate) fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params.iter().map(|p| &**p as &(dyn ToSql + Sync)).collect()
    }

    /// How many parameters the conditions bind (a statement's own come after them).
    pub(crate) fn len(&self) -> usize {
        self.params.len()
    }

    /// The half-open `[from, to)` conditions on `recorded_at`.
    fn time(&mut self, range: &TimeRange) {
        if let Some(from) = range.from {
            self.and("recorded_at >= $", ms_at_or_after(from));
        }
        if let Some(to) = range.to {
            self.and("recorded_at < $", ms_at_or_after(to));
        }
    }
}

/// The conditions selecting exactly the events [`EventCriteria::matches`] accepts.
pub(crate) fn criteria_filter(criteria: &EventCriteria) -> Filter {
    let mut filter = Filter::default();
    let equal = [
        ("aggregate_type = $", &criteria.aggregate_type),
        ("aggregate_id = $", &criteria.aggregate_id),
        ("metadata ->> 'organizationId' = $", &criteria.organization_id),
        ("metadata ->> 'userId' = $", &criteria.user_id),
        ("correlation_id = $", &criteria.correlation_id),
    ];
    for (condition, value) in equal {
        if let Some(value) = value {
            filter.and(condition, value.clone());
        }
    }
    if !criteria.event_types.is_empty() {
        filter.and("event_type = ANY($)", criteria.event_types.clone());
    }
    filter.time(&criteria.time_range);
    let mut words: Vec<String> = Vec::new();
    for term in criteria.text_terms() {
        for word in hive_domain::words(&term) {
            if !words.iter().any(|w| w == word) {
                words.push(word.to_owned());
            }
        }
    }
    if !words.is_empty() {
        filter.and("search_terms @> $::text[]", words);
    }
    filter
}

/// The conditions selecting exactly the events [`AnalyticsFilter::matches`] accepts.
pub(crate) fn analytics_filter(analytics: &AnalyticsFilter) -> Filter {
    let mut filter = Filter::default();
    if let Some(event_type) = &analytics.event_type {
        filter.and("event_type = $", event_type.clone());
    }
    if let Some(organization) = &analytics.organization_id {
        filter.and("metadata ->> 'organizationId' = $", organization.clone());
    }
    filter.time(&analytics.time_range);
    filter
}

impl PostgresEventStore {
    /// One page of the matches of `criteria` — oldest first (timestamp, then global position:
    /// `hive_domain::event_order`) or its exact reverse — and their total. The page and the
    /// count go down one connection together (pipelined).
    pub(crate) async fn find_page(&self, criteria: &EventCriteria, page: Page) -> Result<EventPage, PostgresError> {
        let filter = criteria_filter(criteria);
        let events = &self.shared.sql.events;
        let clause = filter.where_clause();
        let direction = match page.order {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        let (offset_at, limit_at) = (filter.len() + 1, filter.len() + 2);
        let page_sql = format!(
            "SELECT {EVENT_COLUMNS} FROM {events} {clause} \
             ORDER BY recorded_at {direction}, global_position {direction} OFFSET ${offset_at} LIMIT ${limit_at}"
        );
        let count_sql = format!("SELECT count(*) FROM {events} {clause}");
        let (offset, limit) = (int(page.offset), int(page.limit_usize() as u64));
        let mut page_params = filter.params();
        page_params.extend([&offset as &(dyn ToSql + Sync), &limit]);
        let count_params = filter.params();

        let client = self.shared.client().await?;
        let (rows, total) = tokio::join!(
            client.query(&page_sql, &page_params),
            client.query_one(&count_sql, &count_params)
        );
        let rows = rows.map_err(PostgresError::query("search events"))?;
        let total: i64 = total
            .map_err(PostgresError::query("count the matches"))?
            .try_get(0)
            .map_err(PostgresError::query("count the matches"))?;
        Ok(EventPage {
            items: rows.iter().map(decode).collect::<Result<_, _>>()?,
            total: u64::try_from(total).unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_criterion_becomes_a_numbered_condition() {
        let criteria = EventCriteria {
            aggregate_type: Some("Payment".into()),
            event_types: vec!["A".into(), "B".into()],
            organization_id: Some("org".into()),
            text: Some("Card-Declined card".into()),
            ..EventCriteria::default()
        };
        let filter = criteria_filter(&criteria);
        assert_eq!(
            filter.where_clause(),
            "WHERE aggregate_type = $1 AND metadata ->> 'organizationId' = $2 AND event_type = ANY($3) \
             AND search_terms @> $4::text[]"
        );
        assert_eq!(filter.len(), 4);
        assert_eq!(criteria_filter(&EventCriteria::default()).where_clause(), "");
    }
}
