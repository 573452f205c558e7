//! The command bus and the query bus.

mod metrics;
mod request;
mod route;

use std::sync::Arc;

use tower::{Layer, Service};

pub use metrics::BusMetrics;
pub(crate) use request::Outcome;
pub use request::{BusFuture, BusRequest, BusResponse, BusService, ErasedMessage};
use route::Router;

use crate::{ApplicationError, Command, Handler, MessageContext, Query};

macro_rules! bus {
    ($(#[$doc:meta])* $bus:ident, $builder:ident, $kind:ident) => {
        $(#[$doc])*
        ///
        /// Cloning is cheap (one shared pointer): clone it into every request handler.
        #[derive(Clone)]
        pub struct $bus {
            router: Arc<Router>,
            metrics: BusMetrics,
        }

        impl $bus {
            /// Starts building a bus: add middleware layers first, then register handlers.
            pub fn builder() -> $builder {
                $builder { router: Router::default(), metrics: BusMetrics::new() }
            }

            /// This bus's counters (its default middleware counts into them).
            pub fn metrics(&self) -> &BusMetrics {
                &self.metrics
            }

            /// Sends a message to its handler through the middleware and returns the handler's answer.
            ///
            /// An unregistered message type is [`ApplicationError::NotRegistered`].
            pub async fn dispatch<M: $kind>(&self, message: M, context: MessageContext) -> Result<M::Output, ApplicationError> {
                self.router.dispatch(message, context).await
            }

            /// Whether a handler is registered for `M`.
            pub fn handles<M: $kind>(&self) -> bool {
                self.router.is_registered::<M>()
            }
        }

        impl std::fmt::Debug for $bus {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($bus)).finish_non_exhaustive()
            }
        }

        /// Builds a bus: middleware layers (outermost first), then one handler per message type.
        pub struct $builder {
            router: Router,
            metrics: BusMetrics,
        }

        impl $builder {
            /// The counters of the bus being built, for the middleware that counts into them.
            pub fn metrics(&self) -> &BusMetrics {
                &self.metrics
            }

            /// Adds a middleware layer: any tower [`Layer`] over the [`BusService`]. Layers wrap
            /// handlers registered *after* them; the first layer added is the outermost. Each
            /// layer added costs one boxed future per dispatch: add several at once as one
            /// `tower::ServiceBuilder` (as the default middleware is) to pay for one.
            #[must_use]
            pub fn layer<L>(mut self, layer: L) -> Self
            where
                L: Layer<BusService> + Send + Sync + 'static,
                L::Service: Service<BusRequest, Response = BusResponse, Error = ApplicationError> + Clone + Send + Sync + 'static,
                <L::Service as Service<BusRequest>>::Future: Send + 'static,
            {
                self.router.push_layer(layer);
                self
            }

            /// Registers the one handler of message type `M` (a second registration replaces the first).
            #[must_use]
            pub fn handler<M: $kind, H: Handler<M>>(mut self, handler: H) -> Self {
                self.router.register::<M, H>(handler);
                self
            }

            /// The finished bus.
            pub fn build(self) -> $bus {
                $bus { router: Arc::new(self.router), metrics: self.metrics }
            }
        }
    };
}

bus!(
    /// Routes each [`Command`] to its one handler through the command middleware.
    ///
    /// ```
    /// use hive_application::{ApplicationError, Command, CommandBus, Handler, Message, MessageContext};
    ///
    /// #[derive(Debug)]
    /// struct Greet(String);
    /// impl Message for Greet { type Output = String; }
    /// impl Command for Greet {}
    ///
    /// struct Greeter;
    /// impl Handler<Greet> for Greeter {
    ///     async fn handle(&self, greet: &Greet, _: &MessageContext) -> Result<String, ApplicationError> {
    ///         Ok(format!("hello {}", greet.0))
    ///     }
    /// }
    ///
    /// # tokio_test(async {
    /// let bus = CommandBus::builder().handler(Greeter).build();
    /// let answer = bus.dispatch(Greet("ada".into()), MessageContext::new()).await.unwrap();
    /// assert_eq!(answer, "hello ada");
    /// # });
    /// # fn tokio_test(f: impl std::future::Future<Output = ()>) {
    /// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    /// # }
    /// ```
    CommandBus,
    CommandBusBuilder,
    Command
);

bus!(
    /// Routes each [`Query`] to its one handler through the query middleware.
    QueryBus,
    QueryBusBuilder,
    Query
);
