//! ferrobase: declared GraphQL models → database tables and one generated GraphQL API.
//!
//! The pipeline (see README): `model` (SDL → IR) → `ddl` (IR → tables) and
//! `graphql` (IR → dynamic schema) → `sql` (request → statements) → `db`.

pub mod app;
pub mod auth;
pub mod changes;
pub mod config;
pub mod db;
pub mod ddl;
pub mod error;
pub mod graphql;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod model;
pub mod realtime;
pub mod sql;
pub mod testing;
pub mod workers;
