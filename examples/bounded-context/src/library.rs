//! The domain: a book that can be lent and returned. Pure decide (`handle`) and evolve
//! (`apply`); nothing here knows about stores or buses.

use hive_domain::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

/// What can be asked of a book.
#[derive(Debug, Clone)]
pub(crate) enum BookCommand {
    /// Lend the book to a reader.
    Lend {
        /// Who borrows it.
        reader: String,
    },
    /// The reader brings it back.
    Return,
}

/// What happened to a book. The variant name is the stored `eventType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "eventType", content = "eventData")]
pub(crate) enum BookEvent {
    /// The book went out.
    BookLent {
        /// Who has it.
        reader: String,
    },
    /// The book came back.
    BookReturned,
}

impl DomainEvent for BookEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::BookLent { .. } => "BookLent",
            Self::BookReturned => "BookReturned",
        }
    }
}

/// Why a command is refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BookError {
    /// Lent twice.
    #[error("the book is already lent to {0}")]
    AlreadyLent(String),
    /// Returned while on the shelf.
    #[error("the book is on the shelf")]
    NotLent,
}

/// The state of one book: who has it, if anyone.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct Book {
    /// The current reader.
    pub(crate) lent_to: Option<String>,
    /// How many times it was lent.
    pub(crate) times_lent: u32,
}

impl Aggregate for Book {
    const TYPE: &'static str = "Book";
    type Command = BookCommand;
    type Event = BookEvent;
    type Error = BookError;

    fn handle(&self, command: &BookCommand) -> Result<Vec<BookEvent>, BookError> {
        match (command, &self.lent_to) {
            (BookCommand::Lend { .. }, Some(reader)) => Err(BookError::AlreadyLent(reader.clone())),
            (BookCommand::Lend { reader }, None) => Ok(vec![BookEvent::BookLent { reader: reader.clone() }]),
            (BookCommand::Return, None) => Err(BookError::NotLent),
            (BookCommand::Return, Some(_)) => Ok(vec![BookEvent::BookReturned]),
        }
    }

    fn apply(&mut self, event: &BookEvent) {
        match event {
            BookEvent::BookLent { reader } => {
                self.lent_to = Some(reader.clone());
                self.times_lent += 1;
            }
            BookEvent::BookReturned => self.lent_to = None,
        }
    }
}
