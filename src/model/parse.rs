//! Stage 1 entry point: the text of every schema file → one validated [`Schema`], or every
//! problem found, each with its `file:line:column`.
//!
//! The passes: parse each file on its own (so positions belong to their file) → collect the
//! declared types of all files as one document (`declare`) → build the built-in `User`
//! (`user`) and each model with its fields and rules (`model`, `fields`, `auth_rules`) →
//! resolve what spans models (`relations`).

use super::{Diagnostic, Schema, Span, auth_rules, declare, model, relations, user};
use async_graphql::parser::{self, Pos};
use sha2::{Digest, Sha256};

/// One source file: its name (as given) and text.
#[derive(Clone, Copy)]
pub(super) struct Src<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl Src<'_> {
    pub fn span(&self, pos: Pos) -> Span {
        Span { file: self.file.to_string(), line: pos.line, column: pos.column }
    }
}

/// Collects the problems found by every pass.
#[derive(Default)]
pub(super) struct Cx {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl Cx {
    pub fn error(&mut self, span: Span, message: impl Into<String>) {
        self.errors.push(Diagnostic::error(span, message));
    }
    pub fn warn(&mut self, span: Span, message: impl Into<String>) {
        self.warnings.push(Diagnostic::warning(span, message));
    }
}

/// Parses and validates `(file path, text)` pairs as one schema document.
pub fn parse_sources(sources: &[(String, String)]) -> Result<Schema, Vec<Diagnostic>> {
    let mut cx = Cx::default();
    let mut docs = Vec::with_capacity(sources.len());
    for (file, text) in sources {
        let src = Src { file, text };
        match parser::parse_schema(text) {
            Ok(doc) => docs.push((src, doc)),
            Err(e) => {
                let pos = e.positions().next().unwrap_or(Pos { line: 1, column: 1 });
                cx.error(src.span(pos), syntax_message(&e));
            }
        }
    }

    let declared = declare::collect(&mut cx, &docs);
    let user = user::build_user(&mut cx, &declared);
    let mut models = vec![user];
    let mut pending = Vec::new();
    for decl in &declared.models {
        let built = model::build_model(&mut cx, &declared, decl);
        pending.extend(built.has_many);
        models.push(built.model);
    }
    relations::resolve_has_many(&mut cx, &mut models, &pending);
    auth_rules::check_conditions(&mut cx, &models, &declared.enums);
    for m in models.iter().filter(|m| !m.builtin && m.auth.is_none()) {
        cx.warn(
            m.span.clone(),
            format!("model {} has no @auth rules: only admin (the service key) can reach it", m.name),
        );
    }

    if !cx.errors.is_empty() {
        let mut errors = cx.errors;
        errors.sort_by(|a, b| a.span.cmp(&b.span));
        errors.dedup();
        return Err(errors);
    }
    cx.warnings.sort_by(|a, b| a.span.cmp(&b.span));
    Ok(Schema { models, enums: declared.enums, warnings: cx.warnings, sdl_hash: sdl_hash(sources) })
}

/// pest's message spans several lines (a code excerpt and `= expected ...`); keep the gist.
fn syntax_message(e: &parser::Error) -> String {
    let text = e.to_string();
    let gist = text
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("= "))
        .map(str::to_string)
        .unwrap_or_else(|| text.split_whitespace().collect::<Vec<_>>().join(" "));
    format!("syntax error: {gist}")
}

/// Hex SHA-256 over every file's name and text, in order.
pub(crate) fn sdl_hash(sources: &[(String, String)]) -> String {
    let mut h = Sha256::new();
    for (file, text) in sources {
        h.update(file.as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
