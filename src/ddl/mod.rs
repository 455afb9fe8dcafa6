//! Stage 2: model IR → tables (plan, apply, history).
