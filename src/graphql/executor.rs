//! The one executor every transport goes through: a GraphQL request and its caller → a
//! response with `extensions.code` on every error.
//!
//! Operations whose root fields are all generated model fields (`post`, `posts`, `createPost`,
//! ...) run as compiled plans: each root field one SQL statement. A plan is compiled once per
//! (document, operation, shape of the variables, the caller's rule profile) and cached with the
//! parsed document, so a repeated request skips parsing, validation and SQL building: it binds
//! the new values and runs the statements. The first request of a kind is validated by
//! async-graphql (with the root resolvers idle, see [`DryRun`]) before its plan is compiled.
//! Every other operation (introspection, authentication, mixed documents) runs through
//! async-graphql's executor, whose model fields use the same compiler.

use super::document;
use super::render;
use crate::app::AppState;
use crate::auth::{Caller, ClientIp};
use crate::changes::ChangeOp;
use crate::error::{ApiError, ErrorCode};
use crate::model::{Operation, naming};
use crate::sql::SqlCtx;
use crate::sql::event::EventPlan;
use crate::sql::input::{Dep, InputEnv, shape};
use crate::sql::params::BindEnv;
use crate::sql::root::{Compiled, RootKind};
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Name, PathSegment, Pos, Request, Response, ServerError, Value, Variables};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// In a request's data: validate only. Root resolvers of model fields return at once; the
/// executor runs the compiled plan afterwards.
pub struct DryRun;

/// Parsed documents and their plans, bounded in entries and in query size.
const MAX_DOCUMENTS: usize = 1024;
const MAX_QUERY_BYTES: usize = 16 * 1024;
/// Plans per document (variable shapes × caller profiles).
const MAX_PLANS: usize = 64;

pub struct Executor {
    state: Arc<AppState>,
    schema: async_graphql::dynamic::Schema,
    /// Root field name → (model, what it does).
    roots: HashMap<String, (String, RootKind)>,
    /// Subscription field name → (model, the change it follows).
    subscription_roots: HashMap<String, (String, ChangeOp)>,
    docs: Mutex<HashMap<Arc<str>, Arc<Document>>>,
    pub stats: PlanStats,
}

/// How often plans are compiled and reused (exported by `/metrics`).
#[derive(Default)]
pub struct PlanStats {
    /// Plans compiled (each validated first).
    pub compiled: std::sync::atomic::AtomicU64,
    /// Requests that ran a cached plan: no parsing, validation or SQL building.
    pub reused: std::sync::atomic::AtomicU64,
    /// Requests async-graphql executed (operations that are not all generated model fields).
    pub fallback: std::sync::atomic::AtomicU64,
}

/// A parsed document and the plans compiled for it.
struct Document {
    doc: ExecutableDocument,
    /// Subscription plans compiled for it.
    subscriptions: Mutex<HashMap<PlanKey, Vec<Arc<SubscriptionPlan>>>>,
    /// Aliased fields in it (see [`document::alias_count`]).
    aliases: usize,
    plans: Mutex<HashMap<PlanKey, Vec<Arc<Plan>>>>,
}

#[derive(Hash, PartialEq, Eq)]
struct PlanKey {
    operation: Option<String>,
    shape: String,
    profile: String,
}

enum Plan {
    /// Not all root fields compile: async-graphql runs the operation.
    Fallback,
    Compiled {
        mutation: bool,
        roots: Vec<PlanRoot>,
        deps: Vec<Dep>,
    },
}

enum PlanRoot {
    Typename { key: Name, name: &'static str },
    Field { key: Name, pos: Pos, nullable: bool, compiled: Result<Box<Compiled>, ApiError> },
}

impl Executor {
    pub fn new(state: Arc<AppState>, schema: async_graphql::dynamic::Schema) -> Executor {
        let mut roots = HashMap::new();
        let mut subscription_roots = HashMap::new();
        for m in state.ir.user_models() {
            for (field, op) in [
                (naming::created_field(&m.name), ChangeOp::Create),
                (naming::updated_field(&m.name), ChangeOp::Update),
                (naming::deleted_field(&m.name), ChangeOp::Delete),
            ] {
                subscription_roots.insert(field, (m.name.clone(), op));
            }
            roots.insert(m.single.clone(), (m.name.clone(), RootKind::Single));
            roots.insert(m.plural.clone(), (m.name.clone(), RootKind::List));
            for (name, op) in [
                (naming::create_mutation(&m.name), Operation::Create),
                (naming::update_mutation(&m.name), Operation::Update),
                (naming::delete_mutation(&m.name), Operation::Delete),
            ] {
                roots.insert(name, (m.name.clone(), RootKind::Write(op)));
            }
        }
        Executor {
            state,
            schema,
            roots,
            subscription_roots,
            docs: Mutex::new(HashMap::new()),
            stats: PlanStats::default(),
        }
    }

    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// The kind of operation a request would run (`None`: it does not parse, or names no
    /// operation of its document).
    pub fn operation_type(&self, request: &Request) -> Option<OperationType> {
        let doc = self.document(&request.query)?;
        document::operation_type(&doc.doc, request.operation_name.as_deref())
    }

    /// Executes one request as `caller` (from `ip`).
    pub async fn execute(&self, request: Request, caller: Caller, ip: Option<ClientIp>) -> Response {
        let Some(doc) = self.document(&request.query) else {
            return self.fallback(request, None, caller, ip).await;
        };
        if let Err(errors) = self.alias_limit(&doc) {
            return Response::from_errors(errors);
        }
        let Some(op) = document::operation(&doc.doc, request.operation_name.as_deref()) else {
            return self.fallback(request, Some(&doc), caller, ip).await;
        };
        let vars = document::effective_variables(op, &request.variables);
        let key = PlanKey { operation: request.operation_name.clone(), shape: shape(&vars), profile: profile(&caller) };
        let cached = doc
            .plans
            .lock()
            .expect("plan lock")
            .get(&key)
            .and_then(|plans| plans.iter().find(|p| p.holds(&vars)).cloned());
        let count = |c: &std::sync::atomic::AtomicU64| c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let plan = match cached {
            Some(p) => {
                if matches!(*p, Plan::Compiled { .. }) {
                    count(&self.stats.reused);
                }
                p
            }
            None => {
                let plan = match self.plan(&doc.doc, op, &vars, &caller) {
                    Plan::Fallback => Arc::new(Plan::Fallback),
                    compiled => {
                        // First of its kind: validated before it runs (and is kept).
                        let mut dry = Request::new(request.query.clone()).variables(request.variables.clone());
                        dry.operation_name = request.operation_name.clone();
                        dry.set_parsed_query(doc.doc.clone());
                        let r = self.schema.execute(dry.data(DryRun).data(caller.clone())).await;
                        if request_failed(&r) {
                            return with_codes(r);
                        }
                        count(&self.stats.compiled);
                        Arc::new(compiled)
                    }
                };
                let mut plans = doc.plans.lock().expect("plan lock");
                if plans.len() >= MAX_PLANS {
                    plans.clear();
                }
                plans.entry(key).or_default().push(plan.clone());
                plan
            }
        };
        match &*plan {
            Plan::Fallback => self.fallback(request, Some(&doc), caller, ip).await,
            Plan::Compiled { mutation, roots, .. } => self.run(*mutation, roots, &vars, &caller).await,
        }
    }

    /// Prepares a subscription operation for `caller`: parsed, limited, validated (the first of
    /// its kind), compiled for multiplexed delivery (see `sql::event`), and the caller's own
    /// values bound. An error is the response to send instead.
    pub async fn subscribe(&self, request: &Request, caller: &Caller) -> Result<Subscribed, Vec<ServerError>> {
        let Some(doc) = self.document(&request.query) else {
            // Does not parse: async-graphql says why.
            return Err(with_codes(self.schema.execute(Request::new(request.query.clone())).await).errors);
        };
        self.alias_limit(&doc)?;
        let op = document::operation(&doc.doc, request.operation_name.as_deref())
            .filter(|op| op.ty == OperationType::Subscription)
            .ok_or_else(|| request_error(ApiError::bad_input("the request names no subscription operation")))?;
        let vars = document::effective_variables(op, &request.variables);
        let key = PlanKey { operation: request.operation_name.clone(), shape: shape(&vars), profile: profile(caller) };
        let cached = doc
            .subscriptions
            .lock()
            .expect("plan lock")
            .get(&key)
            .and_then(|plans| plans.iter().find(|p| p.deps.iter().all(|d| d.holds(&vars))).cloned());
        let plan = match cached {
            Some(p) => p,
            None => {
                // First of its kind: validated by async-graphql (which then says it does not run
                // subscriptions itself: that answer means the document is valid).
                let mut dry = Request::new(request.query.clone()).variables(request.variables.clone());
                dry.operation_name = request.operation_name.clone();
                dry.set_parsed_query(doc.doc.clone());
                let r = self.schema.execute(dry.data(DryRun).data(caller.clone())).await;
                if r.errors.iter().any(|e| !e.message.starts_with("Subscriptions are not supported")) {
                    return Err(with_codes(r).errors);
                }
                let plan = Arc::new(self.subscription_plan(&doc.doc, op, &vars, caller)?);
                let mut plans = doc.subscriptions.lock().expect("plan lock");
                if plans.len() >= MAX_PLANS {
                    plans.clear();
                }
                plans.entry(key).or_default().push(plan.clone());
                plan
            }
        };
        let env = BindEnv::new(&vars, caller, &self.state.ir, self.state.backend());
        let values = plan.plan.subscriber(&env).map_err(|e| field_error(e, &plan.key, plan.pos))?;
        let values_before = plan
            .before
            .as_ref()
            .map(|b| b.subscriber(&env))
            .transpose()
            .map_err(|e| field_error(e, &plan.key, plan.pos))?;
        Ok(Subscribed { plan, values, values_before })
    }

    fn subscription_plan(
        &self,
        doc: &ExecutableDocument,
        op: &async_graphql::parser::types::OperationDefinition,
        vars: &Variables,
        caller: &Caller,
    ) -> Result<SubscriptionPlan, Vec<ServerError>> {
        let sels = document::roots(doc, op, vars);
        let [sel] = sels.as_slice() else {
            return Err(request_error(ApiError::bad_input("a subscription selects exactly one root field")));
        };
        let Some((model, change)) = self.subscription_roots.get(&sel.name) else {
            return Err(request_error(ApiError::bad_input(format!("{} is not a subscription field", sel.name))));
        };
        let st = &self.state;
        let model = st.ir.model(model).expect("subscription roots name declared models");
        let env = InputEnv::new(vars.clone());
        let compile = |from_table: bool| {
            let cx = SqlCtx::for_caller(&st.ir, st.backend(), &env, caller);
            crate::sql::event::compile(&cx, st.limits(), model, sel, from_table)
                .map_err(|e| field_error(e, &sel.key, sel.pos))
        };
        let plan = compile(false)?;
        // A delete is judged before it happens, in its transaction (see `realtime`).
        let before = if *change == ChangeOp::Delete { Some(compile(true)?) } else { None };
        Ok(SubscriptionPlan {
            model: model.name.clone(),
            change: *change,
            key: sel.key.clone(),
            pos: sel.pos,
            plan,
            before,
            deps: env.deps(),
        })
    }

    /// The statements a request runs, with its values bound: for an operation the executor
    /// compiles (`None` for one it hands to async-graphql, or that does not compile). For tools
    /// that look at or replay the SQL (the benchmarks run it straight through the driver).
    pub fn explain(&self, request: &Request, caller: &Caller) -> Option<Vec<(Arc<str>, sea_orm::sea_query::Values)>> {
        let doc = self.document(&request.query)?;
        let op = document::operation(&doc.doc, request.operation_name.as_deref())?;
        let vars = document::effective_variables(op, &request.variables);
        let Plan::Compiled { roots, .. } = self.plan(&doc.doc, op, &vars, caller) else { return None };
        let env = BindEnv::new(&vars, caller, &self.state.ir, self.state.backend());
        let mut out = Vec::new();
        for r in &roots {
            if let PlanRoot::Field { compiled, .. } = r {
                let c = compiled.as_ref().ok()?;
                let bound = c.bind(&env).ok()?;
                out.push((c.main.sql.clone(), c.main.values(&bound)));
            }
        }
        Some(out)
    }

    /// `max_aliases`: each alias of a root field is a root query of its own.
    fn alias_limit(&self, doc: &Document) -> Result<(), Vec<ServerError>> {
        let max = self.state.config.max_aliases;
        if doc.aliases <= max {
            return Ok(());
        }
        let message = format!("the query has {} aliases; at most {max} are allowed (max_aliases)", doc.aliases);
        Err(request_error(ApiError::bad_input(message)))
    }

    /// The parsed document of `query` (parsing and keeping it on first sight); `None` when it
    /// does not parse (async-graphql reports why).
    fn document(&self, query: &str) -> Option<Arc<Document>> {
        if let Some(d) = self.docs.lock().expect("document lock").get(query) {
            return Some(d.clone());
        }
        let parsed = async_graphql::parser::parse_query(query).ok()?;
        let doc = Arc::new(Document {
            aliases: document::alias_count(&parsed),
            doc: parsed,
            plans: Default::default(),
            subscriptions: Default::default(),
        });
        if query.len() <= MAX_QUERY_BYTES {
            let mut docs = self.docs.lock().expect("document lock");
            if docs.len() >= MAX_DOCUMENTS {
                docs.clear();
            }
            docs.insert(Arc::from(query), doc.clone());
        }
        Some(doc)
    }

    /// Compiles the operation's root fields for `caller`, or says it needs async-graphql.
    fn plan(
        &self,
        doc: &ExecutableDocument,
        op: &async_graphql::parser::types::OperationDefinition,
        vars: &Variables,
        caller: &Caller,
    ) -> Plan {
        let mutation = match op.ty {
            OperationType::Query => false,
            OperationType::Mutation => true,
            OperationType::Subscription => return Plan::Fallback,
        };
        let sels = document::roots(doc, op, vars);
        if !sels.iter().all(|s| s.name == "__typename" || self.roots.contains_key(&s.name)) {
            return Plan::Fallback;
        }
        let st = &self.state;
        let env = InputEnv::new(vars.clone());
        let mut roots: Vec<PlanRoot> = Vec::new();
        for sel in &sels {
            let key = Name::new(&sel.key);
            if roots
                .iter()
                .any(|r| matches!(r, PlanRoot::Typename { key: k, .. } | PlanRoot::Field { key: k, .. } if *k == key))
            {
                continue; // the same field selected twice (fragments): merged by validation
            }
            if sel.name == "__typename" {
                roots.push(PlanRoot::Typename { key, name: if mutation { "Mutation" } else { "Query" } });
                continue;
            }
            let (model, kind) = &self.roots[&sel.name];
            let model = st.ir.model(model).expect("roots name declared models");
            let cx = SqlCtx::for_caller(&st.ir, st.backend(), &env, caller);
            let compiled = crate::sql::root::compile(&cx, st.limits(), model, *kind, sel).map(Box::new);
            roots.push(PlanRoot::Field { key, pos: sel.pos, nullable: *kind == RootKind::Single, compiled });
        }
        Plan::Compiled { mutation, roots, deps: env.deps() }
    }

    /// Runs a compiled plan: query roots side by side, mutation roots one after another.
    async fn run(&self, mutation: bool, roots: &[PlanRoot], vars: &Variables, caller: &Caller) -> Response {
        let st = &self.state;
        let backend = st.backend();
        let bound: Vec<Result<Vec<sea_orm::sea_query::Value>, ApiError>> = {
            let mut env = BindEnv::new(vars, caller, &st.ir, backend);
            let mut bound = Vec::with_capacity(roots.len());
            for r in roots {
                // Two creates in one request create two rows.
                env.next_root();
                bound.push(match r {
                    PlanRoot::Field { compiled: Ok(c), .. } => c.bind(&env),
                    PlanRoot::Field { compiled: Err(e), .. } => Err(e.clone()),
                    PlanRoot::Typename { .. } => Ok(Vec::new()),
                });
            }
            bound
        };
        let one = |i: usize| {
            let bound = &bound[i];
            async move {
                match (&roots[i], bound) {
                    (PlanRoot::Field { compiled: Ok(c), .. }, Ok(b)) => {
                        c.run(&st.pool, b, &st.ir.models, Some((&st.changes, caller))).await
                    }
                    (_, Err(e)) => Err(e.clone()),
                    _ => Ok(None),
                }
            }
        };
        let answers = if mutation {
            let mut out = Vec::with_capacity(roots.len());
            for i in 0..roots.len() {
                out.push(one(i).await);
            }
            out
        } else {
            futures_util::future::join_all((0..roots.len()).map(one)).await
        };
        let mut data = IndexMap::with_capacity(roots.len());
        let mut errors = Vec::new();
        let mut null_data = false;
        for ((root, answer), bound) in roots.iter().zip(answers).zip(&bound) {
            match root {
                PlanRoot::Typename { key, name } => {
                    data.insert(key.clone(), Value::String((*name).to_string()));
                }
                PlanRoot::Field { key, pos, nullable, compiled } => {
                    let path = vec![PathSegment::Field(key.to_string())];
                    match (answer, compiled, bound) {
                        (Ok(json), Ok(c), Ok(_)) => {
                            let v = match json {
                                None => Value::Null,
                                Some(json) => {
                                    let (text, denied) = render::text(&c.out, Some(&json), &path);
                                    errors.extend(denied);
                                    render::raw(text)
                                }
                            };
                            null_data |= v == Value::Null && !nullable;
                            data.insert(key.clone(), v);
                        }
                        (answer, compiled, bound) => {
                            let e = match (answer, compiled, bound) {
                                (_, Err(e), _) | (_, _, Err(e)) => e.clone(),
                                (Err(e), _, _) => e,
                                _ => ApiError::internal("a root field without an answer"),
                            };
                            let mut err = e.into_server_error(*pos);
                            err.path = path;
                            errors.push(err);
                            null_data |= !nullable;
                            data.insert(key.clone(), Value::Null);
                        }
                    }
                }
            }
        }
        let mut response = Response::new(if null_data { Value::Null } else { Value::Object(data) });
        response.errors = errors;
        response
    }

    /// Through async-graphql's executor, the response's root fields in document order.
    async fn fallback(
        &self,
        mut request: Request,
        doc: Option<&Document>,
        caller: Caller,
        ip: Option<ClientIp>,
    ) -> Response {
        if let Some(d) = doc {
            request.set_parsed_query(d.doc.clone());
        }
        let mut request = request.data(caller);
        if let Some(ip) = ip {
            request = request.data(ip);
        }
        let vars = request.variables.clone();
        let name = request.operation_name.clone();
        let mut r = self.schema.execute(request).await;
        if let (Some(d), Value::Object(data)) = (doc, &mut r.data)
            && let Some(op) = document::operation(&d.doc, name.as_deref())
        {
            let vars = document::effective_variables(op, &vars);
            let order = document::root_keys(&d.doc, op, &vars);
            data.sort_by_cached_key(|k, _| order.iter().position(|o| o == k).unwrap_or(usize::MAX));
        }
        with_codes(r)
    }
}

impl Plan {
    /// Whether the plan was compiled for values like `vars` (beyond their shape).
    fn holds(&self, vars: &Variables) -> bool {
        match self {
            Plan::Fallback => true,
            Plan::Compiled { deps, .. } => deps.iter().all(|d| d.holds(vars)),
        }
    }
}

/// What a compiled plan depends on of its caller: who passes every rule, and for a signed-in
/// user the roles and the kinds of the claims the rules may read (their values are bound).
fn profile(caller: &Caller) -> String {
    match caller {
        Caller::Anonymous => "-".into(),
        Caller::Admin => "A".into(),
        // An admin with an account also owns the rows they create.
        Caller::User(_) if caller.is_admin() => "A+user".into(),
        Caller::User(u) => {
            let mut roles: Vec<&str> = u.roles.iter().map(String::as_str).collect();
            roles.sort_unstable();
            roles.dedup();
            let claims = Variables::from_json(serde_json::Value::Object(u.claims.clone()));
            format!("u:{}|{}", roles.join(","), shape(&claims))
        }
    }
}

/// A subscription compiled for one kind of subscriber (see [`Executor::subscribe`]).
pub struct SubscriptionPlan {
    /// The model and change it follows.
    pub model: String,
    pub change: ChangeOp,
    /// The root field's response key, and where it is in the document.
    pub key: String,
    pub pos: Pos,
    pub plan: EventPlan,
    /// Deletes: the plan that judges the row in its table, before the delete.
    pub before: Option<EventPlan>,
    deps: Vec<Dep>,
}

/// A subscriber ready to be registered: its plan, and its own values for the plan's
/// statements.
pub struct Subscribed {
    pub plan: Arc<SubscriptionPlan>,
    pub values: serde_json::Value,
    pub values_before: Option<serde_json::Value>,
}

/// One request error.
fn request_error(e: ApiError) -> Vec<ServerError> {
    vec![e.into_server_error(Pos::default())]
}

/// An error at root field `key`.
fn field_error(e: ApiError, key: &str, pos: Pos) -> Vec<ServerError> {
    let mut err = e.into_server_error(pos);
    err.path = vec![PathSegment::Field(key.to_string())];
    vec![err]
}

/// Whether a response failed as a whole before execution (a syntax, validation or limit error):
/// no data, and only errors without a path.
pub fn request_failed(r: &Response) -> bool {
    r.data == Value::Null && !r.errors.is_empty() && r.errors.iter().all(|e| e.path.is_empty())
}

/// Every error carries `extensions.code`: a request error (syntax, validation, limits) is the
/// client's (`BAD_USER_INPUT`); an uncoded error at a field path is ours (`INTERNAL`).
pub fn with_codes(mut r: Response) -> Response {
    // A non-null field whose resolver reported an error (FORBIDDEN, NOT_FOUND, ...) at its path
    // also draws the executor's own "non-null" error at the same path: one error per field.
    let reported: Vec<Vec<PathSegment>> = r
        .errors
        .iter()
        .filter(|e| !e.path.is_empty() && e.extensions.as_ref().is_some_and(|x| x.get("code").is_some()))
        .map(|e| e.path.clone())
        .collect();
    r.errors.retain(|e| !(e.message.starts_with("internal: non-null") && reported.contains(&e.path)));
    // The executor leaves a failed non-null root field out of `data`; GraphQL propagates its
    // null to `data` itself (a nullable one is present as null, so only non-null ones are left out).
    if let Value::Object(data) = &r.data
        && r.errors
            .iter()
            .any(|e| matches!(e.path.as_slice(), [PathSegment::Field(key)] if !data.contains_key(key.as_str())))
    {
        r.data = Value::Null;
    }
    for e in &mut r.errors {
        code(e);
    }
    r
}

fn code(e: &mut ServerError) {
    if e.extensions.as_ref().is_some_and(|x| x.get("code").is_some()) {
        return;
    }
    let code = if e.path.is_empty() { ErrorCode::BadUserInput } else { ErrorCode::Internal };
    e.extensions.get_or_insert_with(Default::default).set("code", code.as_str());
}
