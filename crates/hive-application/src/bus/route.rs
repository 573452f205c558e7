//! Routing: one handler per message type, wrapped in the bus's middleware.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::Arc;

use tower::{Layer, Service, ServiceExt};

use super::request::{BusRequest, BusResponse, BusService};
use crate::{ApplicationError, Handler, Message, MessageContext};

type BoxLayer = Arc<dyn Fn(BusService) -> BusService + Send + Sync>;

/// The shared machinery of both buses: middleware stack and routes.
#[derive(Clone, Default)]
pub(crate) struct Router {
    layers: Vec<BoxLayer>,
    routes: HashMap<TypeId, BusService>,
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
        let handler = Arc::new(handler);
        let base = tower::service_fn(move |request: BusRequest| {
            let handler = Arc::clone(&handler);
            async move {
                let message = request.message.as_any().downcast_ref::<M>().ok_or_else(|| {
                    ApplicationError::Internal(format!("bus routed `{}` to the wrong handler", request.message_type))
                })?;
                let output = handler.handle(message, &request.context).await?;
                Ok::<BusResponse, ApplicationError>(Arc::new(output))
            }
        });
        let mut service = BusService::new(base);
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
        context: MessageContext,
    ) -> Result<M::Output, ApplicationError> {
        let service = self
            .routes
            .get(&TypeId::of::<M>())
            .ok_or(ApplicationError::NotRegistered {
                message_type: M::name(),
            })?
            .clone();
        let request = BusRequest {
            message_type: M::name(),
            context,
            message: Arc::new(message),
        };
        let response = service.oneshot(request).await?;
        response
            .downcast_ref::<M::Output>()
            .cloned()
            .ok_or_else(|| ApplicationError::Internal(format!("handler of `{}` returned another type", M::name())))
    }
}
