//! The `Subscription` type (SPEC section 6): per model `postCreated`, `postUpdated` and
//! `postDeleted`, each with an optional `filter` (the list filter's semantics). They are served
//! over WebSocket by `realtime` (multiplexed delivery); async-graphql only validates and
//! introspects them, so their resolvers here never run.

use crate::model::Model;
use crate::model::naming;
use async_graphql::dynamic::{InputValue, Subscription, SubscriptionField, SubscriptionFieldFuture, TypeRef};

pub fn fields(mut subscription: Subscription, model: &Model) -> Subscription {
    let name = &model.name;
    for (field_name, doc) in [
        (naming::created_field(name), format!("Each {name} created from now on, as created.")),
        (naming::updated_field(name), format!("Each {name} updated from now on, as it is after the change.")),
        (naming::deleted_field(name), format!("Each {name} deleted from now on, as it was.")),
    ] {
        let field = SubscriptionField::new(field_name, TypeRef::named_nn(name), |_| {
            SubscriptionFieldFuture::new(async {
                Ok(futures_util::stream::empty::<async_graphql::Result<async_graphql::dynamic::FieldValue>>())
            })
        })
        .argument(
            InputValue::new("filter", TypeRef::named(naming::filter_type(name)))
                .description("Only rows that match, as in lists."),
        )
        .description(format!("{doc} Only rows you may read, with fields and relations as your rules allow."));
        subscription = subscription.field(field);
    }
    subscription
}
