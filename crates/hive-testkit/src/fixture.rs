//! A given/when/then fixture for [`Aggregate`]s, in the style of cqrs-es's `TestFramework`.

use std::fmt::Debug;

use hive_domain::Aggregate;

/// Given past events, when a command is handled, then expect events, an error or a state.
///
/// The given events are applied one by one to `A::default()`; [`when`](Self::when) runs
/// `handle` and, when it succeeds, applies the produced events so the resulting state can be
/// checked. Every `then_*` check panics with a message naming what differs.
///
/// ```
/// # use hive_domain::{Aggregate, DomainEvent};
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// # #[serde(tag = "eventType", content = "eventData")]
/// # enum Ev { Opened, Closed }
/// # impl DomainEvent for Ev { fn event_type(&self) -> &'static str { "Ev" } }
/// # #[derive(Debug, thiserror::Error)] #[error("door already closed")] struct Shut;
/// # #[derive(Debug, Default, Clone, Serialize, Deserialize)] struct Door { open: bool }
/// # impl Aggregate for Door {
/// #     const TYPE: &'static str = "Door"; type Command = (); type Event = Ev; type Error = Shut;
/// #     fn handle(&self, _: &()) -> Result<Vec<Ev>, Shut> { if self.open { Ok(vec![Ev::Closed]) } else { Err(Shut) } }
/// #     fn apply(&mut self, e: &Ev) { self.open = matches!(e, Ev::Opened) }
/// # }
/// use hive_testkit::AggregateFixture;
///
/// AggregateFixture::<Door>::given(vec![Ev::Opened])
///     .when(())
///     .then_expect_events(vec![Ev::Closed])
///     .then_state(|door| assert!(!door.open));
///
/// AggregateFixture::<Door>::given_no_previous_events()
///     .when(())
///     .then_expect_error_message("door already closed");
/// ```
#[must_use = "a fixture checks nothing until `when` and a `then_*` method run"]
pub struct AggregateFixture<A: Aggregate> {
    state: A,
    given: usize,
}

impl<A: Aggregate> AggregateFixture<A> {
    /// Starts from `A::default()` with `events` applied one by one.
    pub fn given(events: impl IntoIterator<Item = A::Event>) -> Self {
        Self::given_no_previous_events().and(events)
    }

    /// Starts from `A::default()`: a new aggregate.
    pub fn given_no_previous_events() -> Self {
        Self {
            state: A::default(),
            given: 0,
        }
    }

    /// Applies more given events on top of the current ones.
    pub fn and(mut self, events: impl IntoIterator<Item = A::Event>) -> Self {
        for event in events {
            self.state.apply(&event);
            self.given += 1;
        }
        self
    }

    /// The state after the given events, before any command.
    pub fn state(&self) -> &A {
        &self.state
    }

    /// Handles `command` against the state built from the given events.
    pub fn when(self, command: A::Command) -> FixtureResult<A> {
        let result = self.state.handle(&command);
        let mut state = self.state;
        if let Ok(events) = &result {
            state.apply_all(events);
        }
        FixtureResult {
            result,
            state,
            given: self.given,
        }
    }
}

impl<A: Aggregate + Debug> Debug for AggregateFixture<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AggregateFixture")
            .field("state", &self.state)
            .field("given", &self.given)
            .finish()
    }
}

/// What handling a command produced: the events or the error, and the resulting state.
///
/// The `then_*` methods return `self` so checks chain.
pub struct FixtureResult<A: Aggregate> {
    result: Result<Vec<A::Event>, A::Error>,
    state: A,
    given: usize,
}

impl<A: Aggregate> FixtureResult<A> {
    /// Asserts the command succeeded with exactly `expected` events, in order.
    #[track_caller]
    pub fn then_expect_events(self, expected: Vec<A::Event>) -> Self
    where
        A::Event: PartialEq + Debug,
    {
        match &self.result {
            Ok(events) => assert!(
                *events == expected,
                "{}: the command produced other events than expected\n  \
                 expected: {expected:#?}\n  produced: {events:#?}",
                self.context()
            ),
            Err(error) => panic!(
                "{}: expected events {expected:#?}, but the command was refused: {error}",
                self.context()
            ),
        }
        self
    }

    /// Asserts the command succeeded without producing any event.
    #[track_caller]
    pub fn then_expect_no_events(self) -> Self {
        match &self.result {
            Ok(events) if events.is_empty() => {}
            Ok(events) => panic!(
                "{}: expected no events, but the command produced {}",
                self.context(),
                describe(events)
            ),
            Err(error) => panic!(
                "{}: expected no events, but the command was refused: {error}",
                self.context()
            ),
        }
        self
    }

    /// Asserts the command was refused with an error for which `predicate` holds.
    #[track_caller]
    pub fn then_expect_error(self, predicate: impl FnOnce(&A::Error) -> bool) -> Self {
        match &self.result {
            Ok(events) => panic!(
                "{}: expected the command to be refused, but it produced {}",
                self.context(),
                describe(events)
            ),
            Err(error) => assert!(
                predicate(error),
                "{}: the command was refused, but the error does not match the predicate: {error}",
                self.context()
            ),
        }
        self
    }

    /// Asserts the command was refused with an error whose `Display` is exactly `message`.
    #[track_caller]
    pub fn then_expect_error_message(self, message: &str) -> Self {
        match &self.result {
            Ok(events) => panic!(
                "{}: expected the error \"{message}\", but the command produced {}",
                self.context(),
                describe(events)
            ),
            Err(error) => assert_eq!(
                error.to_string(),
                message,
                "{}: the command was refused with another message",
                self.context()
            ),
        }
        self
    }

    /// Runs `check` on the state after the command: the given events plus, when the command
    /// succeeded, the events it produced (after a refusal, the state of the given events).
    pub fn then_state(self, check: impl FnOnce(&A)) -> Self {
        check(&self.state);
        self
    }

    /// The state after the command (see [`then_state`](Self::then_state)).
    pub fn state(&self) -> &A {
        &self.state
    }

    /// The events produced, or why the command was refused.
    pub fn inspect_result(self) -> Result<Vec<A::Event>, A::Error> {
        self.result
    }

    /// Where the failing check ran, for messages.
    fn context(&self) -> String {
        format!("{} (given {} event(s))", A::TYPE, self.given)
    }
}

impl<A> Debug for FixtureResult<A>
where
    A: Aggregate + Debug,
    A::Event: Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixtureResult")
            .field("result", &self.result)
            .field("state", &self.state)
            .field("given", &self.given)
            .finish()
    }
}

/// Events as JSON, for messages that cannot require `Debug`.
fn describe<E: serde::Serialize>(events: &[E]) -> String {
    match serde_json::to_string(events) {
        Ok(json) => format!("{} event(s): {json}", events.len()),
        Err(_) => format!("{} event(s)", events.len()),
    }
}
