//! GraphQL schema built from the model IR.
