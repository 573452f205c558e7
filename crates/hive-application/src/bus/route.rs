//! Routing: one handler per message type, wrapped in the bus's middleware.

use std::any::TypeId;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use tower::{Layer, Service};

use super::request::{BusFuture, BusRequest, BusResponse, BusService, SharedService};
use crate::{ApplicationError, Handler, Message};

type BoxLayer = Arc<dyn Fn(BusService) -> BusService + Send + Sync>;

/// The shared machinery of both buses: middleware stack and routes.
#[derive(Clone, Default)]
pub(crate) struct Router {
    layers: Vec<BoxLayer>,
    routes: HashMap<TypeId, BusService, foldhash::fast::FixedState>,
}

/// The innermost service of a route: downcasts the message and runs the handler.
struct HandlerService<M, H> {
    handler: H,
    _message: PhantomData<fn(M)>,
}

impl<M: Message, H: Handler<M>> SharedService for HandlerService<M, H> {
    fn call_shared(self: Arc<Self>, request: BusRequest) -> BusFuture {
        Box::pin(async move {
            let message = request.message.as_any().downcast_ref::<M>().ok_or_else(|| {
                ApplicationError::Internal(format!("bus routed `{}` to the wrong handler", request.message_type))
            })?;
            let output = self.handler.handle(message, &request.context).await?;
            Ok::<BusResponse, ApplicationError>(Arc::new(output))
        })
    }
}

impl Router {
    pub(crate) fn push_layer<L>(&mut self, layer: L)
    where
        L: Layer<BusService> + Send + Sync + 'static,
        L::Service:
            Service<BusRequest, Response = BusResponse, Error = ApplicationError> + Clone + Send + Sync + 'static,
        <L::Service as Service<BusRequest>>::Future: Send + 'static,
    {
        self.layers
            .push(Arc::new(move |inner| BusService::new(layer.layer(inner))));
    }

    pub(crate) fn register<M, H>(&mut self, handler: H)
    where
        M: Message,
        H: Handler<M>,
    {
        let base = HandlerService::<M, H> {
            handler,
            _message: PhantomData,
        };
        let mut service = BusService::from_shared(Arc::new(base));
        // The first layer registered is the outermost.
        for layer in self.layers.iter().rev() {
            service = layer(service);
        }
        self.routes.insert(TypeId::of::<M>(), service);
    }

    pub(crate) fn is_registered<M: Message>(&self) -> bool {
        self.routes.contains_key(&TypeId::of::<M>())
    }

    pub(crate) async fn dispatch<M: Message>(
        &self,
        message: M,
        context: crate::MessageContext,
    ) -> Result<M::Output, ApplicationError> {
        let service = self
            .routes
            .get(&TypeId::of::<M>())
            .ok_or(ApplicationError::NotRegistered {
                message_type: M::name(),
            })?;
        let request = BusRequest {
            message_type: M::name(),
            context: Arc::new(context),
            message: Arc::new(message),
        };
        let response = service.handle(request).await?;
        response
            .downcast_ref::<M::Output>()
            .cloned()
            .ok_or_else(|| ApplicationError::Internal(format!("handler of `{}` returned another type", M::name())))
    }
}
