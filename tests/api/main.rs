//! The integration tests: one binary, a real server per test, SQLite always and PostgreSQL when
//! `FERROBASE_TEST_DATABASE_URL` is set.

mod auth;
mod auth_email;
mod changes;
mod cli;
mod common;
mod compiler;
mod crud;
mod filters;
mod http;
mod injection;
mod instances;
mod introspection;
mod jobs;
mod mail;
mod nplus1;
mod pagination;
mod realtime;
mod realtime_deletes;
mod rules;
mod rules_prop;
mod validation;
mod ws_client;
