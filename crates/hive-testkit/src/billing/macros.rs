//! The billing conformance macros.

/// Generates one `#[tokio::test]` per case of a two-level module path; not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __hive_path_conformance_tests {
    ($hold:expr, $factory:expr, $outer:ident :: $inner:ident, [$($test:ident => $case:ident),* $(,)?]) => {
        $crate::__hive_path_conformance_tests!($hold, $factory, true, $outer::$inner, [$($test => $case),*]);
    };
    ($hold:expr, $factory:expr, $guard:expr, $outer:ident :: $inner:ident, [$($test:ident => $case:ident),* $(,)?]) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                if !$guard {
                    return;
                }
                let held = ($hold)($factory.await);
                $crate::$outer::$inner::$case(held.store()).await;
                drop(held);
            }
        )*
    };
}

/// Generates the [`PaymentReadModel`](hive_billing::PaymentReadModel) conformance suite: one
/// `#[tokio::test(flavor = "multi_thread", worker_threads = 4)]` per case of
/// [`billing::read_model`](crate::billing::read_model), each named `payment_read_model_<case>`.
///
/// The argument is an expression evaluating to a future whose output is the read model or a
/// [`Held`](crate::Held) read model; it is evaluated afresh in every test. The
/// `skip_unless = <bool>, factory` form skips every test where the expression is false.
///
/// ```ignore
/// mod read_model {
///     hive_testkit::payment_read_model_conformance!(async { MemoryPaymentReadModel::new() });
/// }
/// ```
#[macro_export]
macro_rules! payment_read_model_conformance {
    (skip_unless = $guard:expr, $factory:expr $(,)?) => {
        $crate::__hive_path_conformance_tests!($crate::billing::hold_payment_read_model, $factory, $guard, billing::read_model, [
            payment_read_model_records_round_trip => records_round_trip,
            payment_read_model_upsert_keeps_the_latest_position => upsert_keeps_the_latest_position,
            payment_read_model_get_many_answers_in_the_order_asked => get_many_answers_in_the_order_asked,
            payment_read_model_upsert_many_keeps_the_latest_position => upsert_many_keeps_the_latest_position,
            payment_read_model_organization_listing_order_and_paging => organization_listing_order_and_paging,
            payment_read_model_statistics_match_the_reference => statistics_match_the_reference,
            payment_read_model_trends_match_the_reference => trends_match_the_reference,
            payment_read_model_keys_page_by_keyset => keys_page_by_keyset,
            payment_read_model_organizations_share_payment_ids => organizations_share_payment_ids,
            payment_read_model_sub_millisecond_instants_sort_and_filter_exactly => sub_millisecond_instants_sort_and_filter_exactly,
            payment_read_model_upsert_many_spans_batches_and_skips_stale_records => upsert_many_spans_batches_and_skips_stale_records,
        ]);
    };
    ($factory:expr $(,)?) => {
        $crate::payment_read_model_conformance!(skip_unless = true, $factory);
    };
}

/// Generates the [`PaymentSearchIndex`](hive_billing::PaymentSearchIndex) conformance suite: one
/// `#[tokio::test(flavor = "multi_thread", worker_threads = 4)]` per case of
/// [`billing::search_index`](crate::billing::search_index), each named
/// `payment_search_index_<case>`. Same argument as
/// [`payment_read_model_conformance!`](crate::payment_read_model_conformance).
///
/// ```ignore
/// mod search_index {
///     hive_testkit::payment_search_index_conformance!(async { MemoryPaymentSearchIndex::new() });
/// }
/// ```
#[macro_export]
macro_rules! payment_search_index_conformance {
    ($factory:expr $(,)?) => {
        $crate::payment_search_index_conformance!(skip_unless = true, $factory);
    };
    (skip_unless = $guard:expr, $factory:expr $(,)?) => {
        $crate::__hive_path_conformance_tests!($crate::billing::hold_payment_search_index, $factory, $guard, billing::search_index, [
            payment_search_index_documents_round_trip => documents_round_trip,
            payment_search_index_organizations_share_payment_ids => organizations_share_payment_ids,
            payment_search_index_bulk_reports_every_item => bulk_reports_every_item,
            payment_search_index_filters_match_the_reference => filters_match_the_reference,
            payment_search_index_fuzzy_text_matches_like_fuzziness_auto => fuzzy_text_matches_like_fuzziness_auto,
            payment_search_index_suggestions_complete_prefixes => suggestions_complete_prefixes,
        ]);
    };
}
