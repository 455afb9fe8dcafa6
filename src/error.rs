//! Error codes.
