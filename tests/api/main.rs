//! The integration tests: one binary, a real server per test, SQLite always and PostgreSQL when
//! `FERROBASE_TEST_DATABASE_URL` is set.

mod common;
mod crud;
mod http;
mod nplus1;
mod filters;
mod pagination;
mod validation;
mod injection;
mod cli;
mod introspection;
