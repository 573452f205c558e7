//! The handler of the payment commands.

use std::sync::Arc;

use hive_application::{AggregateRepository, ApplicationError, Executed, Handler, MessageContext};

use super::{CreatePayment, FailPayment, ProcessPayment, RefundPayment};
use crate::{Clock, Money, Payment, PaymentAction, PaymentCommand, PaymentKey, PaymentStreams, PaymentView};

/// Handles [`CreatePayment`], [`ProcessPayment`], [`FailPayment`] and [`RefundPayment`]:
/// loads the payment, lets the aggregate decide, appends the events (with the context's
/// correlation id, the command id as causation id and the context's metadata) and answers the
/// payment view of the aggregate after the command.
#[derive(Clone)]
pub struct PaymentCommandHandler {
    repository: AggregateRepository<Payment>,
    streams: PaymentStreams,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for PaymentCommandHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentCommandHandler")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl PaymentCommandHandler {
    /// A handler saving through `repository` into the stream [`PaymentStreams`] finds for each
    /// payment (`streams` over the repository's store), stamping events with `clock`.
    pub fn new(repository: AggregateRepository<Payment>, streams: PaymentStreams, clock: Arc<dyn Clock>) -> Self {
        Self {
            repository,
            streams,
            clock,
        }
    }

    async fn run(
        &self,
        payment_id: &str,
        action: PaymentAction,
        context: &MessageContext,
    ) -> Result<PaymentView, ApplicationError> {
        let organization_id = context.organization()?;
        let user_id = context
            .metadata
            .user_id
            .as_deref()
            .ok_or_else(|| ApplicationError::Forbidden("no user in the message context".into()))?;
        let key = PaymentKey::new(organization_id, payment_id);
        let creates = matches!(action, PaymentAction::Create { .. });
        let command = PaymentCommand::new(payment_id, organization_id, user_id, self.clock.now(), action);
        // The keyed stream first: a payment of this version costs no extra read. A legacy
        // stream of the organization is looked up only where it can matter: before a
        // creation (its id is taken), and when the keyed stream holds no such payment.
        let stream_id = if creates {
            self.streams
                .legacy(&key)
                .await?
                .unwrap_or_else(|| key.as_str().to_owned())
        } else {
            key.as_str().to_owned()
        };
        let executed = match self.repository.execute(&stream_id, &command, context).await {
            Err(ApplicationError::NotFound { .. }) if !creates => match self.streams.legacy(&key).await? {
                Some(legacy) => self.repository.execute(&legacy, &command, context).await,
                None => Err(ApplicationError::not_found("payment", payment_id)),
            },
            other => other,
        };
        let Executed { state, version, .. } = executed?;
        PaymentView::from_payment(&state, version)
            .ok_or_else(|| ApplicationError::Internal(format!("payment `{payment_id}` has no state after a command")))
    }
}

impl Handler<CreatePayment> for PaymentCommandHandler {
    async fn handle(&self, command: &CreatePayment, context: &MessageContext) -> Result<PaymentView, ApplicationError> {
        let currency = command
            .currency
            .parse()
            .map_err(|e: crate::UnknownCurrency| ApplicationError::invalid("currency", e.to_string()))?;
        let money = Money::new(command.amount.value(), currency)
            .map_err(|e| ApplicationError::invalid("amount", e.to_string()))?;
        let action = PaymentAction::Create {
            money,
            description: command.description.clone(),
            tags: command.tags.clone(),
            metadata: command.metadata.clone(),
        };
        self.run(&command.payment_id, action, context).await
    }
}

impl Handler<ProcessPayment> for PaymentCommandHandler {
    async fn handle(
        &self,
        command: &ProcessPayment,
        context: &MessageContext,
    ) -> Result<PaymentView, ApplicationError> {
        self.run(&command.payment_id, PaymentAction::Process, context).await
    }
}

impl Handler<FailPayment> for PaymentCommandHandler {
    async fn handle(&self, command: &FailPayment, context: &MessageContext) -> Result<PaymentView, ApplicationError> {
        let action = PaymentAction::Fail {
            error: command.error.clone(),
        };
        self.run(&command.payment_id, action, context).await
    }
}

impl Handler<RefundPayment> for PaymentCommandHandler {
    async fn handle(&self, command: &RefundPayment, context: &MessageContext) -> Result<PaymentView, ApplicationError> {
        let action = PaymentAction::Refund {
            amount: command.refund_amount.value(),
        };
        self.run(&command.payment_id, action, context).await
    }
}
