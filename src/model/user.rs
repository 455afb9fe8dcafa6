//! The built-in `User` model, plus the profile fields of a declared `type User { ... }`.

use super::declare::Declared;
use super::fields::{self, managed_field};
use super::parse::Cx;
use super::{AuthAllow, Field, FieldKind, Managed, Model, ScalarField, ScalarType, Span, relations};
use std::collections::HashMap;

/// Fields every User has; a profile may not redeclare them.
pub const BUILTIN_USER_FIELDS: [&str; 6] = ["id", "email", "emailVerified", "roles", "createdAt", "updatedAt"];

/// The profile fields of the built-in `User`: those a declared `type User { ... }` added.
pub fn profile_fields(user: &Model) -> impl Iterator<Item = &Field> {
    user.fields.iter().filter(|f| !BUILTIN_USER_FIELDS.contains(&f.name.as_str()))
}

pub(super) fn build_user(cx: &mut Cx, d: &Declared) -> Model {
    let span = d.user.as_ref().map(|u| u.span.clone()).unwrap_or_default();
    let mut fields = vec![
        managed_field(Managed::Id, span.clone()),
        builtin("email", "The user's sign-in email address.", ScalarType::String, false, span.clone()),
        builtin(
            "emailVerified",
            "Whether the user has confirmed the email address.",
            ScalarType::Boolean,
            false,
            span.clone(),
        ),
        builtin(
            "roles",
            "Roles granted to the user (`admin` passes every rule).",
            ScalarType::String,
            true,
            span.clone(),
        ),
        managed_field(Managed::CreatedAt, span.clone()),
        managed_field(Managed::UpdatedAt, span.clone()),
    ];
    let mut description = "A signed-up user (built in).".to_string();
    if let Some(decl) = &d.user {
        if let Some(desc) = &decl.def.description {
            description = desc.node.clone();
        }
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for fd in decl.fields {
            let fd = &fd.node;
            let name = fd.name.node.as_str();
            let span = decl.src.span(fd.name.pos);
            if BUILTIN_USER_FIELDS.contains(&name) {
                cx.error(
                    span,
                    format!(
                        "\"{name}\" is a built-in field of User; remove it (User always has {})",
                        BUILTIN_USER_FIELDS.join(", ")
                    ),
                );
                continue;
            }
            if let Some(first) = seen.insert(name, span.clone()) {
                let at = format!("{}:{}", first.line, first.column);
                cx.error(span, format!("duplicate field \"{name}\" in User (first declared at {at})"));
                continue;
            }
            let Some(built) = fields::build_field(cx, d, decl.src, "User", fd) else { continue };
            if let Some(msg) = profile_problem(&built.field) {
                cx.error(span, msg);
                continue;
            }
            fields.push(built.field);
        }
    }
    let user = Model {
        name: "User".to_string(),
        single: "user".to_string(),
        plural: "users".to_string(),
        table: migration::USERS_TABLE.to_string(),
        fields,
        indexes: Vec::new(),
        auth: None,
        description: Some(description),
        span,
        builtin: true,
    };
    relations::check_generated_fields(cx, &user);
    user
}

fn profile_problem(f: &Field) -> Option<String> {
    let name = &f.name;
    match &f.kind {
        FieldKind::Scalar(s) if migration::USERS_SYSTEM_COLUMNS.contains(&s.column.as_str()) => Some(format!(
            "profile field \"{name}\" would use the column \"{}\" that the system keeps for User; \
             rename it",
            s.column
        )),
        FieldKind::Scalar(s) if s.required && s.default.is_none() => Some(format!(
            "profile field \"{name}\" must be nullable or have a @default: existing users have \
             no value for it"
        )),
        FieldKind::Scalar(_) => {
            let owner = f.auth.iter().flatten().any(|r| matches!(r.allow, AuthAllow::Owner { .. }));
            owner.then(|| {
                "{ allow: owner } is not available on User fields; use { allow: private, where: \
                 { id: { eq: \"$user.id\" } } } for the user's own row"
                    .to_string()
            })
        }
        _ => Some(format!(
            "relations on User are not supported yet (\"{name}\"); put the @belongsTo on the \
             other model, e.g. `author: User @belongsTo`"
        )),
    }
}

fn builtin(name: &str, description: &str, ty: ScalarType, list: bool, span: Span) -> Field {
    let (unique, default) = match name {
        "email" => (true, None),
        "emailVerified" => (false, Some(serde_json::Value::Bool(false))),
        _ => (false, Some(serde_json::json!([]))),
    };
    Field {
        name: name.to_string(),
        description: Some(description.to_string()),
        kind: FieldKind::Scalar(ScalarField {
            column: super::naming::column_name(name),
            ty,
            list,
            required: true,
            unique,
            index: false,
            default,
            length: None,
            range: None,
            managed: None,
        }),
        auth: None,
        span,
    }
}
