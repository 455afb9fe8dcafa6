//! Property-based `@auth` test: random rule sets (public, private, owner, roles and the Amplify
//! `groups` alias, with operations and `where:` conditions over the model's fields, relations
//! and `$user` / `$claims` placeholders), users with random roles and claims, rows, filters and
//! writes, run against a real server over HTTP as every caller (anonymous, each user, admin),
//! every outcome compared with the small reference model of SPEC section 4 written below:
//! zero leaks, zero wrongful denials.
//!
//! Field-level rules too: `Item.note` carries its own random `@auth` rules (or none, 30% of
//! cases), read in single reads, lists, nested under tags and in the rows mutations return
//! (null with a FORBIDDEN error at its path when hidden), filtered on (the condition ANDed with
//! the field's read rules), ordered by (only by callers it is readable to in every row) and
//! written (a create or update rule of the field must hold too).
//!
//! Subscriptions against the same reference (`subs`): after the reads, every caller (anonymous,
//! each user, admin) opens a WebSocket (`graphql-transport-ws`) and subscribes to `itemCreated`,
//! `itemUpdated`, `itemDeleted`, `tagCreated` and `tagDeleted`: whole rows (the guarded `note`
//! included; an item's nested `tags`, a tag's nested `item` with its note; not a deleted item's
//! tags, gone with it), and `{ id note }` / `{ id }` under the case's random item and tag
//! filters (the `note` filter too). A caller no read rule of the model applies to must be
//! refused at subscribe time with the code a root read gets. Then the case's writes happen,
//! followed by five admin writes so that each kind of change occurs in every case (an item is
//! created, a tag on it, the item updated, the tag and the item deleted). After each write
//! (accepted or refused) admin creates a `Ping`, a sentinel every caller subscribes to: what a
//! subscriber received before it must be exactly what the reference lets that caller read of
//! the changed row: the row after a create or update, judged on the data after it; the row as
//! it was for a delete, judged on the data just before it (nested relations as they are after
//! the write); hidden fields null with FORBIDDEN at their path; nothing for a refused write, an
//! unreadable row or a filter that does not match. The sentinel also makes each write wait for
//! the previous one's deliveries (the server evaluates rules when it delivers). Only the
//! written row changes: tags deleted with their item (CASCADE) are not delivered, as the
//! server does today. A deleted row is judged as it was just before its delete, relations
//! included (the server judges deletes inside their transaction). This roughly doubles the run time on SQLite (every case
//! is checked; about 25 s for 24 cases on 2 cores, PostgreSQL about 14 s for 8).
//!
//! A failing case prints its SDL, users, rows and every outcome that differed (caller,
//! operation, expected, actual), then proptest shrinks it. Cases: `FERROBASE_PROPTEST_CASES`
//! (default 24 on SQLite, 8 on PostgreSQL); seed: `FERROBASE_PROPTEST_SEED` (default fixed);
//! shrink steps: `FERROBASE_PROPTEST_SHRINK_ITERS` (default 256); `FERROBASE_PROPTEST_KEEP_GOING=1`
//! runs every case, printing each failing one unshrunk, and fails at the end (a survey of bugs).

mod case;
mod reference;
mod run;
mod sdl;
mod strategy;
mod subs;
mod write;

use ferrobase::testing::{TestBackend, backends};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use run::*;
use std::cell::Cell;
use strategy::*;

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// One proptest run per backend with a fixed seed; a failure shrinks (bounded in iterations and
/// time), the other backends still run, and the test fails at the end with every report.
#[test]
fn rules_hold_for_random_rules_users_rows_and_operations() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let seed = env_number("FERROBASE_PROPTEST_SEED").unwrap_or(0x5eed_fe11);
    let mut summary = Vec::new();
    let mut failures = Vec::new();
    let keep_going = std::env::var("FERROBASE_PROPTEST_KEEP_GOING").is_ok_and(|v| v == "1");
    for backend in backends() {
        let default_cases = if backend == TestBackend::Sqlite { 24 } else { 8 };
        let cases = env_number("FERROBASE_PROPTEST_CASES").map_or(default_cases, |n| n as u32);
        let config = Config {
            cases,
            failure_persistence: None,
            max_shrink_iters: env_number("FERROBASE_PROPTEST_SHRINK_ITERS").map_or(256, |n| n as u32),
            max_shrink_time: 120_000,
            ..Config::default()
        };
        let mut seed_bytes = [0u8; 32];
        seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
        let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes));
        // Counted until the first failure (shrinking reruns variants of the failing case).
        let (checks, ran, failed, kept) = (Cell::new(0u64), Cell::new(0u32), Cell::new(false), Cell::new(0u32));
        let started = std::time::Instant::now();
        let result = runner.run(&case(), |case| {
            let (n, outcome) = rt.block_on(run_case(backend, &case));
            if !failed.get() {
                checks.set(checks.get() + n);
                ran.set(ran.get() + 1);
            }
            match outcome {
                Ok(()) => Ok(()),
                Err(report) if keep_going => {
                    eprintln!("=== rules_prop: failing case (not shrunk) ===\n{report}");
                    kept.set(kept.get() + 1);
                    Ok(())
                }
                Err(report) => {
                    failed.set(true);
                    Err(TestCaseError::fail(report))
                }
            }
        });
        let failing = kept.get() + u32::from(result.is_err());
        let verdict = if failing > 0 { format!(" ({failing} FAILING)") } else { String::new() };
        summary.push(format!(
            "{} cases{verdict}, {} checks on {backend:?} ({:.1} s)",
            ran.get(),
            checks.get(),
            started.elapsed().as_secs_f64()
        ));
        if kept.get() > 0 {
            failures
                .push(format!("rules_prop on {backend:?} (seed {seed}): {} failing cases, printed above", kept.get()));
        }
        if let Err(e) = result {
            failures.push(format!("rules_prop on {backend:?} (seed {seed}): {e}"));
        }
    }
    eprintln!("rules_prop: {} (seed {seed})", summary.join("; "));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
