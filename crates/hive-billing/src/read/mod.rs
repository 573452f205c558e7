//! The read side: the payment view, its projections, the search document, statistics and
//! search semantics.

mod projection;
mod search;
mod search_doc;
mod statistics;
pub mod text;
mod view;

pub use projection::{PaymentReadModelProjection, PaymentSearchProjection, BILLING_PROJECTION_VERSION};
pub use search::{PaymentSearchCriteria, PaymentSearchResults, ScoredPayment, Suggestion, DESCRIPTION_BOOST};
pub use search_doc::PaymentSearchDocument;
pub use statistics::{CurrencyStatistics, DailyBucket, PaymentStatistics};
pub use view::{FoldError, PaymentView};
