//! Desired physical schema vs. the last applied snapshot → ordered, classified changes.
//!
//! Execution order: drop indexes; create new tables (parents first); alter existing tables
//! (on SQLite, a table rebuild where ALTER cannot do it); drop removed tables (children first);
//! add foreign keys deferred by a cycle among new tables (PostgreSQL); create indexes.

use super::physical::{Column, PhysicalSchema, Table};
use super::statements::{self as st, SystemLive};
use super::{Change, Risk};
use sea_orm::DbBackend;
use std::collections::{BTreeMap, BTreeSet};

fn safe(marker: char, text: String, statements: Vec<String>) -> Change {
    Change { risk: Risk::Safe, description: format!("{marker} {text}"), statements }
}

fn risky(text: String, why: &str, statements: Vec<String>) -> Change {
    Change { risk: Risk::Risky, description: format!("! {text} (risky: {why})"), statements }
}

fn destructive(text: String, why: &str, statements: Vec<String>) -> Change {
    Change { risk: Risk::Destructive, description: format!("! {text} (destructive: {why})"), statements }
}

#[derive(Default)]
struct Out {
    drop_indexes: Vec<Change>,
    create_tables: Vec<Change>,
    alter: Vec<Change>,
    drop_tables: Vec<Change>,
    late_fks: Vec<Change>,
    create_indexes: Vec<Change>,
}

/// The changes that turn `old` into `new`. `live_system` holds, on SQLite, the live shape of
/// the system tables (needed to rebuild one).
pub fn diff(
    old: &PhysicalSchema,
    new: &PhysicalSchema,
    backend: DbBackend,
    live_system: &BTreeMap<String, SystemLive>,
) -> anyhow::Result<Vec<Change>> {
    let mut out = Out::default();
    let mut created: Vec<&Table> = Vec::new();
    for nt in new.tables.values() {
        let existing = old.tables.get(&nt.name).cloned().or_else(|| {
            nt.system.then(|| Table { name: nt.name.clone(), system: true, columns: vec![], indexes: vec![] })
        });
        match existing {
            Some(ot) => alter_table(&ot, nt, backend, live_system.get(&nt.name), &mut out)?,
            None => created.push(nt),
        }
    }
    create_tables(old, &created, backend, &mut out);
    drop_tables(old, new, backend, &mut out);
    let Out { drop_indexes, create_tables, alter, drop_tables, late_fks, create_indexes } = out;
    Ok([drop_indexes, create_tables, alter, drop_tables, late_fks, create_indexes].concat())
}

/// New tables, parents before children; on PostgreSQL a reference to a new table not created
/// yet (a cycle) becomes a foreign key added after all tables exist.
fn create_tables(old: &PhysicalSchema, new_tables: &[&Table], backend: DbBackend, out: &mut Out) {
    let pending_names: BTreeSet<&str> = new_tables.iter().map(|t| t.name.as_str()).collect();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut remaining: Vec<&Table> = new_tables.to_vec();
    while !remaining.is_empty() {
        let ready = remaining.iter().position(|t| {
            t.columns.iter().filter_map(|c| c.references.as_ref()).all(|r| {
                r.table == t.name || !pending_names.contains(r.table.as_str()) || done.contains(r.table.as_str())
            })
        });
        let t = remaining.remove(ready.unwrap_or(0));
        let available = |table: &str| {
            backend != DbBackend::Postgres
                || table == t.name
                || done.contains(table)
                || !pending_names.contains(table)
                || old.tables.contains_key(table)
        };
        let sql = st::build_create_table(t, backend, |r| available(&r.table));
        for c in &t.columns {
            if let Some(r) = c.references.as_ref().filter(|r| !available(&r.table)) {
                out.late_fks.push(safe(
                    '+',
                    format!("add foreign key {}.{} {}", t.name, c.name, r.summary()),
                    vec![st::add_foreign_key(&t.name, &c.name, r)],
                ));
            }
        }
        let cols: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        out.create_tables.push(safe('+', format!("create table {} ({})", t.name, cols.join(", ")), vec![sql]));
        for idx in &t.indexes {
            out.create_indexes.push(safe(
                '+',
                format!("create {}", idx.summary(&t.name)),
                vec![st::build_create_index(&t.name, idx, backend)],
            ));
        }
        done.insert(t.name.as_str());
    }
}

/// Removed tables, children before the parents they reference. System tables are never dropped.
fn drop_tables(old: &PhysicalSchema, new: &PhysicalSchema, backend: DbBackend, out: &mut Out) {
    let mut remaining: Vec<&Table> =
        old.tables.values().filter(|t| !t.system && !new.tables.contains_key(&t.name)).collect();
    while !remaining.is_empty() {
        let referenced = |name: &str| {
            remaining.iter().any(|o| {
                o.name != name && o.columns.iter().any(|c| c.references.as_ref().is_some_and(|r| r.table == name))
            })
        };
        let pos = remaining.iter().position(|t| !referenced(&t.name)).unwrap_or(0);
        let t = remaining.remove(pos);
        out.drop_tables.push(destructive(
            format!("drop table {}", t.name),
            "all of its rows are lost",
            vec![st::drop_table(&t.name, backend)],
        ));
    }
}

/// Whether SQLite can add this column with `ALTER TABLE ADD COLUMN`.
fn sqlite_can_add(c: &Column) -> bool {
    c.references.is_none() && (c.nullable || c.default.is_some())
}

fn alter_table(
    ot: &Table,
    nt: &Table,
    backend: DbBackend,
    live: Option<&SystemLive>,
    out: &mut Out,
) -> anyhow::Result<()> {
    let t = &nt.name;
    let pg = backend == DbBackend::Postgres;
    let mut rebuild = false;
    for oi in ot.indexes.iter().filter(|oi| !nt.indexes.contains(oi)) {
        out.drop_indexes.push(safe('-', format!("drop {}", oi.summary(t)), vec![st::drop_index(&oi.name, backend)]));
    }
    let mut changes = Vec::new();
    for oc in ot.columns.iter().filter(|oc| nt.column(&oc.name).is_none()) {
        let stmts = if pg { vec![st::drop_column(t, &oc.name, backend)] } else { vec![] };
        rebuild |= !pg;
        changes.push(destructive(format!("drop column {t}.{}", oc.name), "its data is lost", stmts));
    }
    for nc in &nt.columns {
        match ot.column(&nc.name) {
            None => {
                let mut stmts = Vec::new();
                if pg {
                    stmts.push(st::add_column(t, nc, backend));
                    if let Some(r) = &nc.references {
                        stmts.push(st::add_foreign_key(t, &nc.name, r));
                    }
                } else if sqlite_can_add(nc) {
                    stmts.push(st::add_column(t, nc, backend));
                } else {
                    rebuild = true;
                }
                let text = format!("add column {t}.{} {}", nc.name, nc.summary(backend));
                changes.push(if nc.nullable || nc.default.is_some() {
                    safe('~', text, stmts)
                } else {
                    risky(text, "fails if the table has rows; give the field a @default or make it optional", stmts)
                });
            }
            Some(oc) if oc != nc => {
                if oc.primary_key != nc.primary_key {
                    anyhow::bail!("cannot change the primary key of {t}.{}", nc.name);
                }
                rebuild |= !pg;
                changes.extend(alter_column(t, oc, nc, backend));
            }
            Some(_) => {}
        }
    }
    if rebuild {
        if nt.system && live.is_none() {
            anyhow::bail!("cannot rebuild the system table {t}: it is missing from the database");
        }
        let stmts = st::sqlite_rebuild(ot, nt, live.filter(|_| nt.system))?;
        for c in &mut changes {
            c.statements.clear();
        }
        changes.push(safe(
            '~',
            format!(
                "rebuild table {t} to apply the changes above (SQLite cannot alter these in place; rows are copied)"
            ),
            stmts,
        ));
    }
    out.alter.extend(changes);
    for ni in nt.indexes.iter().filter(|ni| !ot.indexes.contains(ni)) {
        // A unique index cannot be violated when all of its columns are new and NULL everywhere.
        let all_null = ni
            .columns
            .iter()
            .all(|c| ot.column(c).is_none() && nt.column(c).is_some_and(|nc| nc.nullable && nc.default.is_none()));
        let stmts = if rebuild { vec![] } else { vec![st::build_create_index(t, ni, backend)] };
        let text = format!("create {}", ni.summary(t));
        out.create_indexes.push(if ni.unique && !all_null {
            risky(text, "existing rows may violate it", stmts)
        } else {
            safe('+', text, stmts)
        });
    }
    Ok(())
}

/// The changes of one existing column. On SQLite the statements are left empty: the caller
/// rebuilds the table.
fn alter_column(t: &str, oc: &Column, nc: &Column, backend: DbBackend) -> Vec<Change> {
    let pg = backend == DbBackend::Postgres;
    let c = &nc.name;
    let sql = |s: String| if pg { vec![s] } else { vec![] };
    let mut pre = Vec::new();
    let mut mid = Vec::new();
    let mut post = Vec::new();
    let type_changed = oc.ty != nc.ty;
    if oc.references != nc.references {
        match (&oc.references, &nc.references) {
            (Some(o), None) => pre.push(safe(
                '~',
                format!("drop foreign key {t}.{c} ({})", o.summary()),
                sql(st::drop_foreign_key(t, c)),
            )),
            (None, Some(n)) => post.push(risky(
                format!("add foreign key {t}.{c} {}", n.summary()),
                "existing values must reference existing rows",
                sql(st::add_foreign_key(t, c, n)),
            )),
            (Some(o), Some(n)) => {
                let stmts = if pg { vec![st::drop_foreign_key(t, c), st::add_foreign_key(t, c, n)] } else { vec![] };
                let text = format!("change foreign key {t}.{c} from {} to {}", o.summary(), n.summary());
                post.push(if o.table == n.table && o.column == n.column {
                    safe('~', text, stmts)
                } else {
                    risky(text, "existing values must reference rows of the new target", stmts)
                });
            }
            (None, None) => {}
        }
    }
    if type_changed {
        let mut stmts = Vec::new();
        if oc.default.is_some() {
            stmts.push(st::alter_default(t, c, None));
        }
        stmts.push(st::alter_type(t, c, oc.ty, nc.ty));
        if let (Some(d), true) = (&nc.default, oc.default == nc.default) {
            stmts.push(st::alter_default(t, c, Some(d)));
        }
        mid.push(risky(
            format!("change type of {t}.{c} from {} to {}", oc.ty.name(backend), nc.ty.name(backend)),
            "existing values are converted and may not fit",
            if pg { stmts } else { vec![] },
        ));
    }
    if oc.default != nc.default {
        let text = match (&oc.default, &nc.default) {
            (None, Some(n)) => format!("set default of {t}.{c} to {n}"),
            (Some(o), None) => format!("drop default of {t}.{c} (was {o})"),
            (o, n) => format!(
                "change default of {t}.{c} from {} to {}",
                o.as_deref().unwrap_or(""),
                n.as_deref().unwrap_or("")
            ),
        };
        let stmt = match &nc.default {
            Some(d) => Some(st::alter_default(t, c, Some(d))),
            None if type_changed => None, // already dropped before the type change
            None => Some(st::alter_default(t, c, None)),
        };
        mid.push(safe('~', text, if pg { stmt.into_iter().collect() } else { vec![] }));
    }
    if oc.nullable != nc.nullable {
        if nc.nullable {
            mid.push(safe('~', format!("make {t}.{c} optional"), sql(st::alter_nullable(t, c, true))));
        } else {
            let mut stmts = Vec::new();
            let why = match &nc.default {
                Some(d) => {
                    stmts.push(st::fill_nulls(t, c, d));
                    "rows without a value get the default"
                }
                None => "fails if a row has no value",
            };
            stmts.push(st::alter_nullable(t, c, false));
            mid.push(risky(format!("make {t}.{c} required"), why, if pg { stmts } else { vec![] }));
        }
    }
    [pre, mid, post].concat()
}
