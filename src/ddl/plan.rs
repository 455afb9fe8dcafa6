//! Making a plan: desired physical schema, last snapshot, live-catalog cross-check, diff.

use super::physical::{self, PhysicalSchema, Table};
use super::statements::SystemLive;
use super::{Plan, catalog, diff, history};
use crate::model::Schema;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use std::collections::{BTreeMap, BTreeSet};

pub(super) async fn make(db: &DatabaseConnection, schema: &Schema) -> anyhow::Result<Plan> {
    let backend = db.get_database_backend();
    let desired = physical::derive(schema, backend)?;
    let (base, current) = match history::last_snapshot(db).await? {
        Some((id, snapshot)) => (Some(id), snapshot),
        None => (None, PhysicalSchema::empty()),
    };
    let live = catalog::tables(db).await?;
    let mut live_columns = check_drift(db, schema, &live, &current, &desired).await?;
    // SQLite changes a system table by rebuilding it, which needs its live shape; read the rest
    // of that shape only when the table changes (each part of the catalog is read once).
    let mut live_system = BTreeMap::new();
    if backend == DbBackend::Sqlite {
        for t in desired.tables.values().filter(|t| t.system && live.contains(&t.name)) {
            if current.tables.get(&t.name) == Some(t) {
                continue;
            }
            let columns = match live_columns.remove(&t.name) {
                Some(c) => c,
                None => catalog::columns(db, &t.name).await?,
            };
            let system = SystemLive {
                columns,
                foreign_keys: catalog::foreign_keys(db, &t.name).await?,
                indexes: catalog::indexes(db, &t.name).await?,
            };
            live_system.insert(t.name.clone(), system);
        }
    }
    let changes = diff::diff(&current, &desired, backend, &live_system)?;
    Ok(Plan { changes, sdl_hash: schema.sdl_hash.clone(), backend, desired, base })
}

/// Checks that the database still looks like the last snapshot says, so that a table made by
/// hand (or a snapshot lost) is reported clearly instead of failing halfway through a plan.
/// Returns the live columns it read, by table.
async fn check_drift<C: ConnectionTrait>(
    db: &C,
    schema: &Schema,
    live: &BTreeSet<String>,
    current: &PhysicalSchema,
    desired: &PhysicalSchema,
) -> anyhow::Result<BTreeMap<String, Vec<catalog::LiveColumn>>> {
    let mut read = BTreeMap::new();
    let model_of = |table: &str| {
        schema.models.iter().find(|m| m.table == table).map(|m| format!(" (model `{}`)", m.name)).unwrap_or_default()
    };
    let mut problems = Vec::new();
    for nt in desired.tables.values() {
        let recorded = current.tables.get(&nt.name);
        let exists = live.contains(&nt.name);
        match (recorded, exists) {
            // System tables not migrated yet: `apply` will refuse; a plan can still be shown.
            (_, false) if nt.system => {}
            (None, true) if !nt.system => problems.push(format!(
                "table `{}`{} already exists in the database, but ferrobase has no record of creating it \
                 (nothing in ferrobase_schema_migrations); rename the model or drop/rename the existing table",
                nt.name,
                model_of(&nt.name)
            )),
            (Some(_), false) => problems.push(format!(
                "table `{}` is recorded in ferrobase_schema_migrations but is missing from the database \
                 (dropped outside ferrobase?)",
                nt.name
            )),
            (recorded, true) => {
                let empty = Table { name: nt.name.clone(), system: true, columns: vec![], indexes: vec![] };
                let columns = catalog::columns(db, &nt.name).await?;
                check_columns(&columns, recorded.unwrap_or(&empty), nt, &mut problems);
                read.insert(nt.name.clone(), columns);
            }
            (None, false) => {}
        }
    }
    for ot in current.tables.values().filter(|t| !t.system && !desired.tables.contains_key(&t.name)) {
        if !live.contains(&ot.name) {
            problems.push(format!(
                "table `{}` is recorded in ferrobase_schema_migrations but is missing from the database",
                ot.name
            ));
        }
    }
    if problems.is_empty() {
        Ok(read)
    } else {
        anyhow::bail!("the database does not match the last applied migration:\n  {}", problems.join("\n  "))
    }
}

fn check_columns(live: &[catalog::LiveColumn], recorded: &Table, desired: &Table, problems: &mut Vec<String>) {
    let live: BTreeSet<&str> = live.iter().map(|c| c.name.as_str()).collect();
    let t = &desired.name;
    for c in recorded.columns.iter().filter(|c| !live.contains(c.name.as_str())) {
        problems.push(format!(
            "column `{t}.{}` is recorded in ferrobase_schema_migrations but is missing from the database",
            c.name
        ));
    }
    for c in desired.columns.iter().filter(|c| recorded.column(&c.name).is_none() && live.contains(c.name.as_str())) {
        problems.push(format!(
            "column `{t}.{}` already exists in the database, but ferrobase has no record of creating it",
            c.name
        ));
    }
}
