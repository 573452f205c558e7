//! The given/when/then fixture on a small aggregate: passing checks pass, failing checks panic
//! with messages that say what differs.

use hive_domain::{Aggregate, DomainEvent};
use hive_testkit::AggregateFixture;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "eventType", content = "eventData")]
enum LightEvent {
    SwitchedOn,
    SwitchedOff,
    Dimmed { level: u8 },
}

impl DomainEvent for LightEvent {
    fn event_type(&self) -> &'static str {
        match self {
            LightEvent::SwitchedOn => "SwitchedOn",
            LightEvent::SwitchedOff => "SwitchedOff",
            LightEvent::Dimmed { .. } => "Dimmed",
        }
    }
}

enum LightCommand {
    Switch,
    Dim(u8),
    Touch,
}

#[derive(Debug, PartialEq, thiserror::Error)]
enum LightError {
    #[error("the light is off")]
    Off,
    #[error("level {0} is above 100")]
    TooBright(u8),
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct Light {
    on: bool,
    level: u8,
    switches: u32,
}

impl Aggregate for Light {
    const TYPE: &'static str = "Light";
    type Command = LightCommand;
    type Event = LightEvent;
    type Error = LightError;

    fn handle(&self, command: &LightCommand) -> Result<Vec<LightEvent>, LightError> {
        match command {
            LightCommand::Switch if self.on => Ok(vec![LightEvent::SwitchedOff]),
            LightCommand::Switch => Ok(vec![LightEvent::SwitchedOn, LightEvent::Dimmed { level: 100 }]),
            LightCommand::Dim(_) if !self.on => Err(LightError::Off),
            LightCommand::Dim(level) if *level > 100 => Err(LightError::TooBright(*level)),
            LightCommand::Dim(level) => Ok(vec![LightEvent::Dimmed { level: *level }]),
            LightCommand::Touch => Ok(Vec::new()),
        }
    }

    fn apply(&mut self, event: &LightEvent) {
        match event {
            LightEvent::SwitchedOn => {
                self.on = true;
                self.switches += 1;
            }
            LightEvent::SwitchedOff => {
                self.on = false;
                self.level = 0;
                self.switches += 1;
            }
            LightEvent::Dimmed { level } => self.level = *level,
        }
    }
}

#[test]
fn events_and_state_after_success() {
    AggregateFixture::<Light>::given_no_previous_events()
        .when(LightCommand::Switch)
        .then_expect_events(vec![LightEvent::SwitchedOn, LightEvent::Dimmed { level: 100 }])
        .then_state(|light| {
            assert!(light.on);
            assert_eq!(light.level, 100);
            assert_eq!(light.switches, 1);
        });
}

#[test]
fn given_events_are_applied_in_order() {
    let fixture = AggregateFixture::<Light>::given(vec![LightEvent::SwitchedOn, LightEvent::Dimmed { level: 40 }])
        .and(vec![LightEvent::SwitchedOff, LightEvent::SwitchedOn]);
    assert_eq!(
        *fixture.state(),
        Light {
            on: true,
            level: 0,
            switches: 3
        }
    );
    fixture
        .when(LightCommand::Dim(70))
        .then_expect_events(vec![LightEvent::Dimmed { level: 70 }])
        .then_state(|light| assert_eq!(light.level, 70));
}

#[test]
fn errors_by_predicate_and_message_leave_the_state_unchanged() {
    AggregateFixture::<Light>::given(vec![LightEvent::SwitchedOn])
        .when(LightCommand::Dim(180))
        .then_expect_error(|e| *e == LightError::TooBright(180))
        .then_expect_error_message("level 180 is above 100")
        .then_state(|light| assert_eq!(light.level, 0));
}

#[test]
fn no_events_and_inspect_result() {
    AggregateFixture::<Light>::given_no_previous_events()
        .when(LightCommand::Touch)
        .then_expect_no_events()
        .then_expect_events(Vec::new());
    let result = AggregateFixture::<Light>::given_no_previous_events()
        .when(LightCommand::Dim(10))
        .inspect_result();
    assert_eq!(result, Err(LightError::Off));
}

#[test]
#[should_panic(expected = "the command produced other events than expected")]
fn other_events_fail() {
    AggregateFixture::<Light>::given(vec![LightEvent::SwitchedOn])
        .when(LightCommand::Switch)
        .then_expect_events(vec![LightEvent::SwitchedOn]);
}

#[test]
#[should_panic(expected = "but the command was refused: the light is off")]
fn a_refusal_when_expecting_events_fails() {
    AggregateFixture::<Light>::given_no_previous_events()
        .when(LightCommand::Dim(5))
        .then_expect_events(vec![LightEvent::Dimmed { level: 5 }]);
}

#[test]
#[should_panic(expected = "expected the command to be refused, but it produced 1 event(s)")]
fn success_when_expecting_an_error_fails() {
    AggregateFixture::<Light>::given(vec![LightEvent::SwitchedOn])
        .when(LightCommand::Dim(5))
        .then_expect_error(|_| true);
}

#[test]
#[should_panic(expected = "does not match the predicate: the light is off")]
fn an_error_not_matching_the_predicate_fails() {
    AggregateFixture::<Light>::given_no_previous_events()
        .when(LightCommand::Dim(5))
        .then_expect_error(|e| matches!(e, LightError::TooBright(_)));
}

#[test]
#[should_panic(expected = "refused with another message")]
fn another_error_message_fails() {
    AggregateFixture::<Light>::given_no_previous_events()
        .when(LightCommand::Dim(5))
        .then_expect_error_message("too bright");
}

#[test]
#[should_panic(expected = "expected no events, but the command produced 1 event(s): [{\"eventType\":\"SwitchedOff\"}]")]
fn events_when_expecting_none_fail() {
    AggregateFixture::<Light>::given(vec![LightEvent::SwitchedOn])
        .when(LightCommand::Switch)
        .then_expect_no_events();
}
