//! Request → SQL statements.
