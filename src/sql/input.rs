//! Argument values as the document wrote them: literals, and `$variables` whose values change
//! with every request. The compiler reads arguments through [`Input`], so that each value it
//! binds into a statement remembers where it came from (see [`Input::source`]): a compiled plan
//! runs again with the next request's variables without being compiled again.
//!
//! A plan is reused for requests whose variables have the same shape (see [`shape`]: object
//! keys, nulls, booleans, list lengths), so the compiler may decide on a variable's structure
//! freely. Deciding on a variable's other scalar values (an `orderBy` direction) goes through
//! [`Input::decide`], which records the value as a dependency of the plan.

use super::params::Source;
use async_graphql::{Name, Value as ConstValue, Variables};
use async_graphql_value::Value as DocValue;
use std::cell::RefCell;

/// One step into an input value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(Name),
    Index(usize),
}

/// A variable's value (at a path) that a plan was compiled for.
#[derive(Debug, Clone, PartialEq)]
pub struct Dep {
    pub name: Name,
    pub path: Vec<Seg>,
    pub value: ConstValue,
}

impl Dep {
    /// Whether `vars` hold the same value at the same place.
    pub fn holds(&self, vars: &Variables) -> bool {
        lookup(vars, &self.name, &self.path).unwrap_or(&ConstValue::Null) == &self.value
    }
}

/// The value of `$name` at `path`, if there is one.
pub fn lookup<'v>(vars: &'v Variables, name: &Name, path: &[Seg]) -> Option<&'v ConstValue> {
    let mut v = vars.get(name)?;
    for seg in path {
        v = match (seg, v) {
            (Seg::Key(k), ConstValue::Object(o)) => o.get(k)?,
            (Seg::Index(i), ConstValue::List(items)) => items.get(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

/// The request's variables (defaults applied) and what the compiler decided on.
pub struct InputEnv {
    pub vars: Variables,
    deps: RefCell<Vec<Dep>>,
}

impl InputEnv {
    pub fn new(vars: Variables) -> InputEnv {
        InputEnv { vars, deps: RefCell::new(Vec::new()) }
    }
    /// No variables: for arguments already resolved to constants.
    pub fn empty() -> InputEnv {
        InputEnv::new(Variables::default())
    }
    /// The variable values the compiled plan depends on beyond their shape.
    pub fn deps(&self) -> Vec<Dep> {
        self.deps.borrow().clone()
    }
}

#[derive(Clone)]
enum Node<'a> {
    /// Part of the document: a literal, perhaps with `$variables` further down.
    Doc(&'a DocValue),
    /// A constant (a rule's condition, an argument already resolved).
    Const(&'a ConstValue),
    /// A variable's value at `path`.
    Var {
        value: &'a ConstValue,
        name: Name,
        path: Vec<Seg>,
    },
    Null,
}

/// An argument value, or a part of one, as the compiler reads it.
#[derive(Clone)]
pub struct Input<'a> {
    node: Node<'a>,
    env: &'a InputEnv,
}

impl<'a> Input<'a> {
    /// A value written in the document.
    pub fn doc(value: &'a DocValue, env: &'a InputEnv) -> Input<'a> {
        Input { node: Node::Doc(value), env }.resolved()
    }
    /// A constant value.
    pub fn constant(value: &'a ConstValue, env: &'a InputEnv) -> Input<'a> {
        Input { node: Node::Const(value), env }
    }
    /// No value.
    pub fn null(env: &'a InputEnv) -> Input<'a> {
        Input { node: Node::Null, env }
    }

    /// A `$variable` in the document stands for its value.
    fn resolved(self) -> Input<'a> {
        match self.node {
            Node::Doc(DocValue::Variable(name)) => match self.env.vars.get(name) {
                Some(value) => Input { node: Node::Var { value, name: name.clone(), path: Vec::new() }, env: self.env },
                None => Input { node: Node::Null, env: self.env },
            },
            _ => self,
        }
    }

    fn child(&self, seg: Seg, doc: Option<&'a DocValue>, value: Option<&'a ConstValue>) -> Input<'a> {
        let node = match (&self.node, doc, value) {
            (Node::Doc(_), Some(d), _) => Node::Doc(d),
            (Node::Const(_), _, Some(v)) => Node::Const(v),
            (Node::Var { name, path, .. }, _, Some(v)) => {
                let mut path = path.clone();
                path.push(seg);
                Node::Var { value: v, name: name.clone(), path }
            }
            _ => Node::Null,
        };
        Input { node, env: self.env }.resolved()
    }

    pub fn is_null(&self) -> bool {
        match &self.node {
            Node::Doc(d) => matches!(d, DocValue::Null),
            Node::Const(v) | Node::Var { value: v, .. } => matches!(v, ConstValue::Null),
            Node::Null => true,
        }
    }

    /// The fields of an input object, in order; `None` when it is not an object.
    pub fn entries(&self) -> Option<Vec<(Name, Input<'a>)>> {
        match &self.node {
            Node::Doc(DocValue::Object(o)) => {
                Some(o.iter().map(|(k, v)| (k.clone(), self.child(Seg::Key(k.clone()), Some(v), None))).collect())
            }
            Node::Const(ConstValue::Object(o)) | Node::Var { value: ConstValue::Object(o), .. } => {
                Some(o.iter().map(|(k, v)| (k.clone(), self.child(Seg::Key(k.clone()), None, Some(v)))).collect())
            }
            _ => None,
        }
    }

    /// The field `key` of an input object (null when absent).
    pub fn get(&self, key: &str) -> Input<'a> {
        self.entries()
            .and_then(|e| e.into_iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v))
            .unwrap_or(Input { node: Node::Null, env: self.env })
    }

    /// Whether this is a list.
    pub fn is_list(&self) -> bool {
        match &self.node {
            Node::Doc(d) => matches!(d, DocValue::List(_)),
            Node::Const(v) | Node::Var { value: v, .. } => matches!(v, ConstValue::List(_)),
            Node::Null => false,
        }
    }

    /// The items of a list; a single value stands for a one-item list (GraphQL input
    /// coercion), null for none.
    pub fn items(&self) -> Vec<Input<'a>> {
        match &self.node {
            Node::Doc(DocValue::List(items)) => {
                items.iter().enumerate().map(|(i, v)| self.child(Seg::Index(i), Some(v), None)).collect()
            }
            Node::Const(ConstValue::List(items)) | Node::Var { value: ConstValue::List(items), .. } => {
                items.iter().enumerate().map(|(i, v)| self.child(Seg::Index(i), None, Some(v))).collect()
            }
            _ if self.is_null() => Vec::new(),
            _ => vec![self.clone()],
        }
    }

    /// The value, for a decision the compiled statement depends on (an order direction): a
    /// variable's value becomes a dependency of the plan (see [`Dep`]). `None` when the
    /// document's literal still holds variables.
    pub fn decide(&self) -> Option<ConstValue> {
        match &self.node {
            Node::Var { value, name, path } => {
                self.env.deps.borrow_mut().push(Dep {
                    name: name.clone(),
                    path: path.clone(),
                    value: (*value).clone(),
                });
                Some((*value).clone())
            }
            _ => self.peek(),
        }
    }

    /// The value as it is in this request, for messages and for checks that do not change
    /// the statement. `None` for a literal that holds variables.
    pub fn peek(&self) -> Option<ConstValue> {
        match &self.node {
            Node::Doc(d) => (*d).clone().into_const(),
            Node::Const(v) | Node::Var { value: v, .. } => Some((*v).clone()),
            Node::Null => Some(ConstValue::Null),
        }
    }

    /// Where a bound value comes from on every run of the plan: a constant of the document (or
    /// of a rule), or a variable's value at a path.
    pub fn source(&self) -> Source {
        match &self.node {
            Node::Var { name, path, .. } => Source::Var(name.clone(), path.clone()),
            _ => Source::Value(self.peek().unwrap_or(ConstValue::Null)),
        }
    }
}

/// The shape of a request's variables: what a compiled plan may depend on besides the
/// values it binds. Object keys, nulls, booleans and list structure are kept; other scalars
/// become their kind (`s` text, `#` number). A non-empty list of non-null scalars is `[*]`
/// whatever its length: such lists bind as one array parameter.
pub fn shape(vars: &Variables) -> String {
    let mut out = String::new();
    for (name, v) in vars.iter() {
        out.push_str(name.as_str());
        out.push('=');
        value_shape(v, &mut out);
        out.push(';');
    }
    out
}

fn value_shape(v: &ConstValue, out: &mut String) {
    match v {
        ConstValue::Null => out.push('n'),
        ConstValue::Boolean(true) => out.push('T'),
        ConstValue::Boolean(false) => out.push('F'),
        ConstValue::Number(_) => out.push('#'),
        ConstValue::String(_) | ConstValue::Enum(_) | ConstValue::Binary(_) => out.push('s'),
        ConstValue::List(items) if items.is_empty() => out.push_str("[]"),
        ConstValue::List(items)
            if items
                .iter()
                .all(|i| matches!(i, ConstValue::String(_) | ConstValue::Number(_) | ConstValue::Enum(_))) =>
        {
            out.push_str("[*]")
        }
        ConstValue::List(items) => {
            out.push('[');
            for i in items {
                value_shape(i, out);
                out.push(',');
            }
            out.push(']');
        }
        ConstValue::Object(o) => {
            out.push('{');
            for (k, v) in o {
                out.push_str(k.as_str());
                out.push(':');
                value_shape(v, out);
                out.push(',');
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(json: serde_json::Value) -> Variables {
        Variables::from_json(json)
    }

    #[test]
    fn shapes_keep_structure_and_drop_values() {
        let a = shape(&vars(serde_json::json!({"id": "x", "f": {"views": {"gt": 3}}, "ids": ["a", "b"], "on": true})));
        let b = shape(&vars(serde_json::json!({"id": "y", "f": {"views": {"gt": 9}}, "ids": ["c"], "on": true})));
        assert_eq!(a, b);
        assert_ne!(
            a,
            shape(&vars(serde_json::json!({"id": null, "f": {"views": {"gt": 3}}, "ids": ["a"], "on": true})))
        );
        assert_ne!(a, shape(&vars(serde_json::json!({"id": "x", "f": {"views": {"gt": 3}}, "ids": [], "on": true}))));
        assert_ne!(
            a,
            shape(&vars(serde_json::json!({"id": "x", "f": {"views": {"gt": 3}}, "ids": ["a"], "on": false})))
        );
        assert_ne!(
            a,
            shape(&vars(serde_json::json!({"id": "x", "f": {"title": {"gt": 3}}, "ids": ["a"], "on": true})))
        );
    }

    #[test]
    fn variables_are_read_through_their_paths() {
        let env = InputEnv::new(vars(serde_json::json!({"f": {"views": {"gt": 3}}, "d": "DESC"})));
        let doc = async_graphql::parser::parse_query("{ posts(filter: {and: [$f]}, orderBy: [{views: $d}]) { id } }")
            .expect("parses");
        let field = match &doc.operations.iter().next().unwrap().1.node.selection_set.node.items[0].node {
            async_graphql::parser::types::Selection::Field(f) => f.node.clone(),
            _ => unreachable!(),
        };
        let filter = Input::doc(&field.arguments[0].1.node, &env);
        let gt = filter.get("and").items()[0].get("views").get("gt");
        match gt.source() {
            Source::Var(name, path) => {
                assert_eq!(name.as_str(), "f");
                assert_eq!(path, vec![Seg::Key(Name::new("views")), Seg::Key(Name::new("gt"))]);
            }
            other => panic!("expected a variable source, got {other:?}"),
        }
        let order = Input::doc(&field.arguments[1].1.node, &env);
        assert_eq!(order.items()[0].get("views").decide(), Some(ConstValue::String("DESC".into())));
        assert_eq!(env.deps().len(), 1, "a decision on a variable is recorded");
        assert!(env.deps()[0].holds(&env.vars));
    }
}
