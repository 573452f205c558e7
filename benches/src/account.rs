//! A small bank-account aggregate, the workload of the store and repository benches.

use hive_application::ApplicationError;
use hive_domain::{encode_event, Aggregate, CodecError, DomainEvent, EventEnvelope, Metadata};
use serde::{Deserialize, Serialize};

/// What happened to an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "eventType", content = "eventData")]
pub enum AccountEvent {
    /// The account was opened.
    Opened {
        /// Its owner.
        owner: String,
    },
    /// Money was paid in.
    Deposited {
        /// How much.
        amount: u64,
    },
    /// Money was taken out.
    Withdrawn {
        /// How much.
        amount: u64,
    },
}

impl DomainEvent for AccountEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::Opened { .. } => "Opened",
            Self::Deposited { .. } => "Deposited",
            Self::Withdrawn { .. } => "Withdrawn",
        }
    }
}

/// What can be asked of an account.
#[derive(Debug, Clone, PartialEq)]
pub enum AccountCommand {
    /// Open it for `owner`.
    Open {
        /// The owner.
        owner: String,
    },
    /// Pay in an amount.
    Deposit(u64),
    /// Take out an amount.
    Withdraw(u64),
}

/// Why an account refuses a command.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AccountError {
    /// Opening an open account.
    #[error("account already open")]
    AlreadyOpen,
    /// Using an account that was never opened.
    #[error("account not open")]
    NotOpen,
    /// Taking out more than the balance.
    #[error("insufficient funds")]
    InsufficientFunds,
}

impl From<AccountError> for ApplicationError {
    fn from(e: AccountError) -> Self {
        ApplicationError::domain("account", e.to_string())
    }
}

/// A bank account: its owner, balance and number of operations.
///
/// ```
/// use hive_benches::{Account, AccountCommand, AccountEvent};
/// use hive_domain::Aggregate;
///
/// let mut account = Account::default();
/// let events = account.handle(&AccountCommand::Open { owner: "ada".into() }).unwrap();
/// account.apply_all(&events);
/// account.apply(&AccountEvent::Deposited { amount: 5 });
/// assert_eq!((account.balance, account.operations), (5, 2));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// Who owns it (none until opened).
    pub owner: Option<String>,
    /// The balance.
    pub balance: u64,
    /// How many events it has applied.
    pub operations: u64,
}

impl Aggregate for Account {
    const TYPE: &'static str = "Account";
    type Command = AccountCommand;
    type Event = AccountEvent;
    type Error = AccountError;

    fn handle(&self, command: &AccountCommand) -> Result<Vec<AccountEvent>, AccountError> {
        match command {
            AccountCommand::Open { owner } if self.owner.is_none() => {
                Ok(vec![AccountEvent::Opened { owner: owner.clone() }])
            }
            AccountCommand::Open { .. } => Err(AccountError::AlreadyOpen),
            _ if self.owner.is_none() => Err(AccountError::NotOpen),
            AccountCommand::Deposit(amount) => Ok(vec![AccountEvent::Deposited { amount: *amount }]),
            AccountCommand::Withdraw(amount) if *amount > self.balance => Err(AccountError::InsufficientFunds),
            AccountCommand::Withdraw(amount) => Ok(vec![AccountEvent::Withdrawn { amount: *amount }]),
        }
    }

    fn apply(&mut self, event: &AccountEvent) {
        self.operations += 1;
        match event {
            AccountEvent::Opened { owner } => self.owner = Some(owner.clone()),
            AccountEvent::Deposited { amount } => self.balance += amount,
            AccountEvent::Withdrawn { amount } => self.balance = self.balance.saturating_sub(*amount),
        }
    }
}

/// The envelopes of `count` events of stream `stream`, versions `first_version..`, as the
/// repository would write them: version 1 is `Opened`, later versions are `Deposited` of 1.
/// They share one correlation id (one command caused them) and carry a user and organization.
///
/// ```
/// let batch = hive_benches::deposits("account-1", 1, 3).unwrap();
/// assert_eq!(batch.iter().map(|e| e.version).collect::<Vec<_>>(), [1, 2, 3]);
/// assert_eq!(batch[0].event_type, "Opened");
/// ```
pub fn deposits(stream: &str, first_version: u64, count: usize) -> Result<Vec<EventEnvelope>, CodecError> {
    let correlation = format!("request-{stream}-{first_version}");
    let metadata = Metadata::default()
        .with_organization("org-bench")
        .with_user("user-bench");
    (first_version..)
        .take(count)
        .map(|version| {
            let event = if version == 1 {
                AccountEvent::Opened {
                    owner: "bench".to_owned(),
                }
            } else {
                AccountEvent::Deposited { amount: 1 }
            };
            let (event_type, data) = encode_event(&event)?;
            Ok(EventEnvelope::new(stream, Account::TYPE, event_type, data, version)
                .with_correlation_id(correlation.as_str())
                .with_causation_id(correlation.as_str())
                .with_metadata(metadata.clone()))
        })
        .collect()
}

/// The next new stream of an append bench: bumps `streams`, names the stream `account-{n}` and
/// gives it its first `count` events ([`deposits`] from version 1).
///
/// ```
/// let mut streams = 0;
/// let (stream, events) = hive_benches::new_stream(&mut streams, 2).unwrap();
/// assert_eq!((stream.as_str(), events.len(), streams), ("account-1", 2, 1));
/// ```
pub fn new_stream(streams: &mut u64, count: usize) -> Result<(String, Vec<EventEnvelope>), CodecError> {
    *streams += 1;
    let stream = format!("account-{streams}");
    let events = deposits(&stream, 1, count)?;
    Ok((stream, events))
}
