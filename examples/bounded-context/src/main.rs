//! A bounded context of your own on Hive: the `Book` aggregate (see `library.rs`), two commands
//! and a query, wired through the command and query buses onto the embedded store, durable on
//! disk. Run it with `cargo run -p example-bounded-context`.

mod library;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use hive_application::{
    AggregateRepository, ApplicationError, Command, CommandBus, EventBus, EventHandler, Handler, Message,
    MessageContext, MiddlewareConfig, Query, QueryBus,
};
use hive_domain::{decode_event_ref, EventEnvelope, EventStore, Metadata};
use hive_store_memory::{DurableOptions, MemoryEventStore};
use library::{Book, BookCommand, BookError, BookEvent};

// ---- Messages: what the outside world sends on the buses -------------------------------------

/// Lend a book (a command: changes state, answers the book's new version).
#[derive(Debug)]
struct LendBook {
    book_id: String,
    reader: String,
}
impl Message for LendBook {
    type Output = u64;
    fn validate(&self) -> Result<(), ApplicationError> {
        if self.reader.trim().is_empty() {
            return Err(ApplicationError::invalid("reader", "must not be empty"));
        }
        Ok(())
    }
}
impl Command for LendBook {}

/// Return a book.
#[derive(Debug)]
struct ReturnBook {
    book_id: String,
}
impl Message for ReturnBook {
    type Output = u64;
}
impl Command for ReturnBook {}

/// Which books are out, and with whom (a query: answered from a read model).
#[derive(Debug)]
struct BooksOut;
impl Message for BooksOut {
    type Output = BTreeMap<String, String>;
}
impl Query for BooksOut {}

/// Domain refusals become typed application errors (HTTP adapters map them to 422).
impl From<BookError> for ApplicationError {
    fn from(error: BookError) -> Self {
        let code = match error {
            BookError::AlreadyLent(_) => "book_already_lent",
            BookError::NotLent => "book_not_lent",
        };
        ApplicationError::domain(code, error.to_string())
    }
}

// ---- Command handlers: load, decide, append (optimistic concurrency), publish ---------------

struct BookCommands {
    books: AggregateRepository<Book>,
}

impl Handler<LendBook> for BookCommands {
    async fn handle(&self, command: &LendBook, context: &MessageContext) -> Result<u64, ApplicationError> {
        let lend = BookCommand::Lend {
            reader: command.reader.clone(),
        };
        Ok(self.books.execute(&command.book_id, &lend, context).await?.version)
    }
}

impl Handler<ReturnBook> for BookCommands {
    async fn handle(&self, command: &ReturnBook, context: &MessageContext) -> Result<u64, ApplicationError> {
        Ok(self
            .books
            .execute(&command.book_id, &BookCommand::Return, context)
            .await?
            .version)
    }
}

// ---- Read model: kept by an inline event handler, read by the query handler ------------------

#[derive(Clone, Default)]
struct BooksOutView(Arc<RwLock<BTreeMap<String, String>>>);

#[async_trait::async_trait]
impl EventHandler for BooksOutView {
    fn name(&self) -> &str {
        "books-out"
    }

    async fn handle(&self, event: &EventEnvelope) -> Result<(), ApplicationError> {
        let mut out = self
            .0
            .write()
            .map_err(|_| ApplicationError::Internal("poisoned".into()))?;
        match decode_event_ref::<BookEvent>(&event.event_type, &event.event_data)? {
            BookEvent::BookLent { reader } => out.insert(event.aggregate_id.clone(), reader),
            BookEvent::BookReturned => out.remove(&event.aggregate_id),
        };
        Ok(())
    }
}

impl Handler<BooksOut> for BooksOutView {
    async fn handle(&self, _: &BooksOut, _: &MessageContext) -> Result<BTreeMap<String, String>, ApplicationError> {
        Ok(self
            .0
            .read()
            .map_err(|_| ApplicationError::Internal("poisoned".into()))?
            .clone())
    }
}

// ---- Composition root ------------------------------------------------------------------------

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data_dir = tempfile::tempdir()?;
    let store = Arc::new(MemoryEventStore::open(data_dir.path(), DurableOptions::default()).await?);

    let events = EventBus::default();
    let view = BooksOutView::default();
    events.register(Arc::new(view.clone()));

    let books = AggregateRepository::<Book>::new(store.clone()).with_event_bus(events);
    let commands = CommandBus::builder()
        .with_default_middleware(MiddlewareConfig::default())
        .handler::<LendBook, _>(BookCommands { books: books.clone() })
        .handler::<ReturnBook, _>(BookCommands { books: books.clone() })
        .build();
    let queries = QueryBus::builder()
        .with_default_middleware(MiddlewareConfig::default())
        .handler::<BooksOut, _>(view)
        .build();

    let context = || MessageContext::new().with_metadata(Metadata::default().with_user("librarian"));
    let lend = |book: &str, reader: &str| LendBook {
        book_id: book.into(),
        reader: reader.into(),
    };
    commands.dispatch(lend("dune", "ada"), context()).await?;
    commands.dispatch(lend("emma", "grace"), context()).await?;
    commands
        .dispatch(ReturnBook { book_id: "dune".into() }, context())
        .await?;
    let version = commands.dispatch(lend("dune", "alan"), context()).await?;
    println!("dune is at version {version}");

    // A refused command: typed, and nothing is appended.
    let refused = commands.dispatch(lend("emma", "alan"), context()).await;
    println!("refused: {refused:?}");
    assert!(matches!(
        refused,
        Err(ApplicationError::Domain {
            code: "book_already_lent",
            ..
        })
    ));
    // Bad input never reaches the handler.
    let invalid = commands.dispatch(lend("emma", " "), context()).await;
    assert!(matches!(invalid, Err(ApplicationError::Validation(_))));

    let out = queries.dispatch(BooksOut, context()).await?;
    println!("books out: {out:?}");
    assert_eq!(out.get("dune").map(String::as_str), Some("alan"));
    assert_eq!(out.get("emma").map(String::as_str), Some("grace"));

    // The embedded store is durable: close it, reopen the directory, the book is still lent.
    store.close().await?;
    drop(books);
    drop(commands);
    drop(store);
    let reopened = Arc::new(MemoryEventStore::open(data_dir.path(), DurableOptions::default()).await?);
    println!("after reopening: {} events in the log", reopened.head_position().await?);
    let dune = AggregateRepository::<Book>::new(reopened).load("dune").await?;
    assert_eq!(dune.state.lent_to.as_deref(), Some("alan"));
    assert_eq!(dune.state.times_lent, 2);
    println!(
        "dune: lent to {:?}, {} times",
        dune.state.lent_to, dune.state.times_lent
    );
    Ok(())
}
