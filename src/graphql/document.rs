//! A parsed GraphQL document → the request IR of its operation: root fields as [`Sel`] trees,
//! fragments flattened, `@skip` / `@include` applied, arguments as written (variables are read
//! when the plan binds its values). Fragments need no type check here: every selection set in
//! the API is on an object type, so a valid fragment in it is on that same type.

use crate::sql::select::Sel;
use async_graphql::parser::types::{
    Directive, ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, Value as ConstValue, Variables};
use async_graphql_value::Value as DocValue;

/// The operation a request runs: the one named, or the only one.
pub fn operation<'d>(doc: &'d ExecutableDocument, name: Option<&str>) -> Option<&'d OperationDefinition> {
    let mut ops = doc.operations.iter();
    match name {
        Some(n) => ops.find(|(on, _)| on.map(|x| x.as_str()) == Some(n)).map(|(_, o)| &o.node),
        None => {
            let first = ops.next()?;
            ops.next().is_none().then_some(&first.1.node)
        }
    }
}

/// The operation's kind (`query`, `mutation`, `subscription`).
pub fn operation_type(doc: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    operation(doc, name).map(|o| o.ty)
}

/// The request's variables with the operation's defaults for those not given.
pub fn effective_variables(op: &OperationDefinition, given: &Variables) -> Variables {
    let mut vars = given.clone();
    for def in &op.variable_definitions {
        let name = &def.node.name.node;
        if !vars.contains_key(name)
            && let Some(default) = &def.node.default_value
        {
            vars.insert(name.clone(), default.node.clone());
        }
    }
    vars
}

/// The root fields of `op`.
pub fn roots(doc: &ExecutableDocument, op: &OperationDefinition, vars: &Variables) -> Vec<Sel> {
    let mut out = Vec::new();
    collect(doc, &op.selection_set.node, vars, &mut out);
    out
}

fn collect(doc: &ExecutableDocument, set: &SelectionSet, vars: &Variables, out: &mut Vec<Sel>) {
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => {
                if skipped(&f.node.directives, vars) {
                    continue;
                }
                let f = &f.node;
                let mut children = Vec::new();
                collect(doc, &f.selection_set.node, vars, &mut children);
                out.push(Sel {
                    name: f.name.node.to_string(),
                    key: f.response_key().node.to_string(),
                    args: f.arguments.iter().map(|(k, v)| (k.node.clone(), v.node.clone())).collect(),
                    children,
                    pos: item.pos,
                });
            }
            Selection::FragmentSpread(s) => {
                if skipped(&s.node.directives, vars) {
                    continue;
                }
                if let Some(frag) = doc.fragments.get(&s.node.fragment_name.node) {
                    collect(doc, &frag.node.selection_set.node, vars, out);
                }
            }
            Selection::InlineFragment(i) => {
                if skipped(&i.node.directives, vars) {
                    continue;
                }
                collect(doc, &i.node.selection_set.node, vars, out);
            }
        }
    }
}

/// `@skip(if: true)` or `@include(if: false)` (literals or variables).
fn skipped(directives: &[Positioned<Directive>], vars: &Variables) -> bool {
    directives.iter().any(|d| {
        let cond = d.node.get_argument("if").map(|v| match &v.node {
            DocValue::Variable(n) => matches!(vars.get(n), Some(ConstValue::Boolean(true))),
            DocValue::Boolean(b) => *b,
            _ => false,
        });
        match d.node.name.node.as_str() {
            "skip" => cond == Some(true),
            "include" => cond == Some(false),
            _ => false,
        }
    })
}

/// The response keys of the root fields of `op`, in document order.
pub fn root_keys(doc: &ExecutableDocument, op: &OperationDefinition, vars: &Variables) -> Vec<Name> {
    let mut keys: Vec<Name> = Vec::new();
    for s in roots(doc, op, vars) {
        let k = Name::new(&s.key);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys
}

/// A selection already resolved by async-graphql (inside a resolver) as request IR: its
/// arguments are constants.
pub fn from_field(f: async_graphql::SelectionField<'_>) -> Result<Sel, crate::error::ApiError> {
    let args = f
        .arguments()
        .map_err(|e| crate::error::ApiError::bad_input(e.message))?
        .into_iter()
        .map(|(k, v)| (k, v.into_value()))
        .collect();
    Ok(Sel {
        name: f.name().to_string(),
        key: f.alias().unwrap_or(f.name()).to_string(),
        args,
        children: f.selection_set().map(from_field).collect::<Result<_, _>>()?,
        pos: async_graphql::Pos::default(),
    })
}

/// The aliased fields of a document (operations and fragments), for the alias limit: each alias
/// of a root field is a root query of its own.
pub fn alias_count(doc: &ExecutableDocument) -> usize {
    fn count(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|s| match &s.node {
                Selection::Field(f) => usize::from(f.node.alias.is_some()) + count(&f.node.selection_set.node),
                Selection::InlineFragment(i) => count(&i.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    let operations: usize = doc.operations.iter().map(|(_, op)| count(&op.node.selection_set.node)).sum();
    operations + doc.fragments.values().map(|f| count(&f.node.selection_set.node)).sum::<usize>()
}
