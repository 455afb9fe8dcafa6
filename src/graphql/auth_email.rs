//! Email-based account flows (being written): password reset and email verification.

use async_graphql::dynamic::Object;

pub fn mutations(mutation: Object) -> Object {
    mutation
}
