//! Stage 1: `schema/*.graphql` → model IR. Pure: reads text, returns IR or every problem found.

mod args;
mod auth_rules;
mod declare;
mod diagnostic;
mod fields;
pub mod ir;
#[allow(clippy::module_inception)]
mod model;
pub mod naming;
pub mod operators;
mod parse;
#[cfg(test)]
mod parse_tests;
mod relations;
mod scan;
mod suggest;
mod user;
mod values;

pub use diagnostic::{Diagnostic, Severity};
pub use ir::*;
pub use parse::parse_sources;
pub use user::{BUILTIN_USER_FIELDS, profile_fields};

use std::path::Path;

/// Reads every `.graphql` file under `dir` (recursively, sorted by path) as one document.
pub fn load_dir(dir: &Path) -> Result<Schema, Vec<Diagnostic>> {
    let mut files = Vec::new();
    collect_graphql_files(dir, &mut files).map_err(|e| {
        vec![Diagnostic::error(
            Span { file: dir.display().to_string(), line: 1, column: 1 },
            format!("cannot read the schema directory: {e}"),
        )]
    })?;
    files.sort();
    let mut sources = Vec::with_capacity(files.len());
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|e| {
            vec![Diagnostic::error(
                Span { file: path.display().to_string(), line: 1, column: 1 },
                format!("cannot read file: {e}"),
            )]
        })?;
        sources.push((path.display().to_string(), text));
    }
    let mut schema = parse_sources(&sources)?;
    // The recorded hash names files relative to the schema directory, so it does not depend
    // on where the server was started from.
    let relative: Vec<(String, String)> = sources
        .iter()
        .map(|(p, t)| {
            let rel = Path::new(p).strip_prefix(dir).map(|r| r.display().to_string()).unwrap_or_else(|_| p.clone());
            (rel, t.clone())
        })
        .collect();
    schema.sdl_hash = parse::sdl_hash(&relative);
    Ok(schema)
}

fn collect_graphql_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_graphql_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "graphql" || e == "graphqls") {
            out.push(path);
        }
    }
    Ok(())
}
