//! A tiny bank-account aggregate and mock ports shared by the tests.
#![allow(dead_code, unreachable_pub)]

use async_trait::async_trait;
use hive_application::ApplicationError;
use hive_domain::{
    Aggregate, Checkpoint, CheckpointStore, DeadLetter, DomainEvent, EventEnvelope, EventStore, EventStream, Snapshot,
    SnapshotStore, StoreResult,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "eventType", content = "eventData")]
pub enum AccountEvent {
    Opened { owner: String },
    Deposited { amount: u64 },
    Withdrawn { amount: u64 },
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

#[derive(Debug, Clone, PartialEq)]
pub enum AccountCommand {
    Open { owner: String },
    Deposit(u64),
    Withdraw(u64),
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AccountError {
    #[error("account already open")]
    AlreadyOpen,
    #[error("account not open")]
    NotOpen,
    #[error("insufficient funds")]
    InsufficientFunds,
}

impl From<AccountError> for ApplicationError {
    fn from(e: AccountError) -> Self {
        ApplicationError::domain("account", e.to_string())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub owner: Option<String>,
    pub balance: u64,
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
            AccountEvent::Withdrawn { amount } => self.balance -= amount,
        }
    }
}

mockall::mock! {
    pub Store {}
    #[async_trait]
    impl EventStore for Store {
        async fn append(&self, aggregate_id: &str, expected_version: u64, events: Vec<EventEnvelope>) -> StoreResult<Vec<EventEnvelope>>;
        fn read_stream<'a>(&'a self, aggregate_id: &'a str, from_version: u64) -> EventStream<'static>;
        async fn stream_version(&self, aggregate_id: &str) -> StoreResult<u64>;
        async fn read_all(&self, after_position: u64, limit: usize) -> StoreResult<Vec<EventEnvelope>>;
        async fn head_position(&self) -> StoreResult<u64>;
    }
}

mockall::mock! {
    pub Snapshots {}
    #[async_trait]
    impl SnapshotStore for Snapshots {
        async fn save(&self, snapshot: Snapshot) -> StoreResult<()>;
        async fn load(&self, aggregate_id: &str) -> StoreResult<Option<Snapshot>>;
    }
}

mockall::mock! {
    pub Checkpoints {}
    #[async_trait]
    impl CheckpointStore for Checkpoints {
        async fn load(&self, projection: &str) -> StoreResult<Option<Checkpoint>>;
        async fn save(&self, checkpoint: Checkpoint) -> StoreResult<()>;
        async fn list(&self) -> StoreResult<Vec<Checkpoint>>;
        async fn record_dead_letter(&self, dead_letter: DeadLetter) -> StoreResult<()>;
        async fn dead_letters(&self, projection: &str) -> StoreResult<Vec<DeadLetter>>;
        async fn remove_dead_letters(&self, projection: &str, positions: &[u64]) -> StoreResult<u64>;
    }
}

/// Stored envelopes of `events` for stream `id`, versions from 1, global positions from 1.
pub fn stored(id: &str, events: &[AccountEvent]) -> Vec<EventEnvelope> {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let (t, d) = hive_domain::encode_event(e).unwrap();
            let mut env = EventEnvelope::new(id, "Account", t, d, i as u64 + 1);
            env.global_position = Some(i as u64 + 1);
            env
        })
        .collect()
}
