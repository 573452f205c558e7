//! `hive demo seed`: realistic sample payments, so every query has something to show.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Duration, DurationRound, Utc};
use hive_application::{CommandBus, MessageContext};
use hive_billing::{Amount, CreatePayment, FailPayment, ManualClock, ProcessPayment, RefundPayment};
use hive_domain::Metadata;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{CommandResult, Progress};

/// A plain progress line at least every this many payments (and every second).
const PAYMENTS_PER_LINE: u64 = 100;

const ORGANIZATIONS: &[(&str, &[&str])] = &[
    (
        crate::dev_token::DEV_ORGANIZATION,
        &[crate::dev_token::DEV_USER, "user-ops"],
    ),
    ("org-acme", &["user-wile", "user-road", "user-finance"]),
    ("org-globex", &["user-hank", "user-scorpio"]),
    ("org-initech", &["user-peter", "user-milton", "user-bill"]),
];

const PRODUCTS: &[(&str, &str, u32, u32)] = &[
    ("Cloud compute: 4 vCPU instance, monthly", "compute", 40, 400),
    ("Object storage: 2 TB standard tier", "storage", 20, 120),
    ("Workflow runs: 10k executions pack", "workflow", 15, 90),
    ("Managed database: PostgreSQL high availability", "database", 80, 900),
    ("GPU training hours: A100 reserved", "gpu", 300, 4_000),
    ("Premium support subscription", "support", 99, 499),
    ("Bandwidth overage: egress traffic", "network", 5, 60),
    ("Kubernetes cluster: control plane fee", "compute", 70, 220),
];

const CURRENCIES: &[&str] = &["EUR", "EUR", "EUR", "USD", "USD", "GBP", "JPY"];

const CHANNELS: &[&str] = &["web", "api", "mobile"];

const ERRORS: &[&str] = &[
    "card declined by issuer",
    "insufficient funds",
    "3-D Secure authentication failed",
    "payment provider timeout",
];

/// Creates `count` payments spread over the last 30 days, across organizations, users,
/// currencies and statuses (about 70 % processed, some refunded in part or in full, 15 %
/// failed, the rest pending). `clock` is the clock the billing module stamps events with.
/// Each payment carries metadata `invoice` (`INV-…`) and `channel`. Shows its progress (see
/// [`Progress`]).
pub async fn seed(bus: &CommandBus, clock: &Arc<ManualClock>, count: u32) -> CommandResult {
    let progress = Progress::new("demo seed", "payments", u64::from(count), PAYMENTS_PER_LINE);
    let mut rng = StdRng::seed_from_u64(u64::from(count));
    let now = Utc::now()
        .duration_trunc(Duration::minutes(1))
        .unwrap_or_else(|_| Utc::now());
    let start = now - Duration::days(30);
    let mut tally = [0u32; 4];
    for i in 0..count {
        let offset = Duration::minutes(i64::from(i) * 30 * 24 * 60 / i64::from(count.max(1)));
        let at = start + offset + Duration::minutes(rng.gen_range(0..20));
        clock.set(at);
        let (organization, users) = ORGANIZATIONS[rng.gen_range(0..ORGANIZATIONS.len())];
        let user = users[rng.gen_range(0..users.len())];
        let context = |source: &str| {
            MessageContext::new()
                .with_correlation_id(format!("demo-{i:05}"))
                .with_metadata(
                    Metadata::default()
                        .with_organization(organization)
                        .with_user(user)
                        .with_source(source),
                )
        };
        let (description, tag, low, high) = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
        let currency = CURRENCIES[rng.gen_range(0..CURRENCIES.len())];
        let whole = rng.gen_range(low..=high);
        let amount = if currency == "JPY" {
            format!("{}", whole * 150)
        } else {
            format!("{whole}.{:02}", rng.gen_range(0..100))
        };
        let payment_id = format!("pay-demo-{i:05}");
        let create = CreatePayment {
            payment_id: payment_id.clone(),
            amount: parse_amount(&amount)?,
            currency: currency.into(),
            description: description.into(),
            tags: vec![tag.into(), "demo".into()],
            metadata: BTreeMap::from([
                ("invoice".to_owned(), format!("INV-{i:05}")),
                ("channel".to_owned(), CHANNELS[i as usize % CHANNELS.len()].to_owned()),
            ]),
        };
        let created = bus
            .dispatch(create, context("demo"))
            .await
            .map_err(|e| format!("{payment_id}: {e}"))?;
        let roll = rng.gen_range(0..100);
        clock.set(at + Duration::minutes(rng.gen_range(1..90)));
        if roll < 15 {
            let error = ERRORS[rng.gen_range(0..ERRORS.len())].to_owned();
            bus.dispatch(
                FailPayment {
                    payment_id: payment_id.clone(),
                    error,
                },
                context("psp-webhook"),
            )
            .await
            .map_err(|e| format!("{payment_id}: {e}"))?;
            tally[2] += 1;
        } else if roll < 85 {
            bus.dispatch(
                ProcessPayment {
                    payment_id: payment_id.clone(),
                },
                context("psp-webhook"),
            )
            .await
            .map_err(|e| format!("{payment_id}: {e}"))?;
            tally[1] += 1;
            if roll >= 72 {
                clock.set(at + Duration::hours(rng.gen_range(2..72)));
                let refund = if roll >= 80 {
                    created.amount.to_string()
                } else {
                    half(&created.amount.to_string())
                };
                bus.dispatch(
                    RefundPayment {
                        payment_id: payment_id.clone(),
                        refund_amount: parse_amount(&refund)?,
                    },
                    context("support"),
                )
                .await
                .map_err(|e| format!("{payment_id}: {e}"))?;
                tally[3] += 1;
            }
        } else {
            tally[0] += 1;
        }
        progress.set(u64::from(i) + 1);
    }
    progress.finish(u64::from(count));
    println!(
        "seeded {count} payments over the last 30 days: {} pending, {} processed ({} of them refunded), {} failed",
        tally[0], tally[1], tally[3], tally[2]
    );
    Ok(())
}

fn parse_amount(text: &str) -> Result<Amount, String> {
    text.parse().map_err(|e| format!("amount {text}: {e:?}"))
}

/// Half of a decimal amount, rounded down to cents (or whole units without a decimal point).
fn half(amount: &str) -> String {
    match amount.split_once('.') {
        Some((units, cents)) => {
            let total: u64 = format!("{units}{cents}").parse().unwrap_or(2);
            let half = (total / 2).max(1);
            format!("{}.{:02}", half / 100, half % 100)
        }
        None => (amount.parse::<u64>().unwrap_or(2) / 2).max(1).to_string(),
    }
}
