//! Property: replaying any valid event sequence gives the state the commands produced.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests state their expectations by unwrapping

mod common;

use common::{Account, AccountCommand, AccountEvent};
use hive_domain::{decode_event, encode_event, Aggregate};
use proptest::prelude::*;

fn command() -> impl Strategy<Value = AccountCommand> {
    prop_oneof![
        "[a-z]{1,8}".prop_map(|owner| AccountCommand::Open { owner }),
        (0u64..1_000).prop_map(AccountCommand::Deposit),
        (0u64..1_000).prop_map(AccountCommand::Withdraw),
    ]
}

/// Runs commands one by one (refused ones change nothing) and returns the state and events.
fn decide_all(commands: &[AccountCommand]) -> (Account, Vec<AccountEvent>) {
    let mut state = Account::default();
    let mut log = Vec::new();
    for command in commands {
        if let Ok(events) = state.handle(command) {
            for event in events {
                state.apply(&event);
                log.push(event);
            }
        }
    }
    (state, log)
}

proptest! {
    #[test]
    fn replaying_the_stored_events_rebuilds_the_same_state(commands in prop::collection::vec(command(), 0..60)) {
        let (live, log) = decide_all(&commands);
        let mut replayed = Account::default();
        for event in &log {
            let (event_type, data) = encode_event(event).unwrap();
            let decoded: AccountEvent = decode_event(&event_type, data).unwrap();
            replayed.apply(&decoded);
        }
        prop_assert_eq!(&replayed, &live);
        prop_assert_eq!(replayed.operations, log.len() as u64);
    }

    #[test]
    fn a_snapshot_at_any_point_plus_the_tail_gives_the_same_state(
        commands in prop::collection::vec(command(), 1..60),
        cut in 0usize..60,
    ) {
        let (live, log) = decide_all(&commands);
        let cut = cut.min(log.len());
        let mut head = Account::default();
        head.apply_all(&log[..cut]);
        let snapshot = serde_json::to_value(&head).unwrap();
        let mut restored: Account = serde_json::from_value(snapshot).unwrap();
        restored.apply_all(&log[cut..]);
        prop_assert_eq!(restored, live);
    }
}
