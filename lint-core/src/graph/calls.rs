//! The call graph: functions as nodes; edges for calls, closures created (they run where they
//! are called, which is approximated by where they are created), spawns, defer registrations,
//! and implicit drops (a function holding a value of type `T` runs `T::drop` and the drops of
//! `T`'s fields).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::cell::RefCell;

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::graph::points_to::{ObjKind, PointsTo};
use crate::model::facts::{Body, CallId, Callee, Event, FnKind, Node, Slot, Sym, Value, ValueId};
use crate::model::modules::{FunctionId, ItemRef, Resolved};
use crate::model::types::{AdtId, LibTy, TyId, TyKind};
use crate::model::{CallTarget, LibCall, Program, SpawnKind};
use crate::source::Span;

/// Why one function leads to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    Call(CallId),
    /// A closure or async block created here (and run by whoever it is handed to).
    Closure,
    Spawn(SpawnSiteId),
    Defer(DeferSiteId),
    /// A value whose type has drop glue lives here: its `Drop` runs here.
    ImplicitDrop,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpawnSiteId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeferSiteId(pub u32);

/// A place where concurrent work starts.
#[derive(Clone, Debug)]
pub struct SpawnSite {
    pub spawner: FunctionId,
    pub call: CallId,
    pub kind: SpawnKind,
    /// The functions that run as the task (a closure, an async block, a named function).
    pub bodies: Vec<FunctionId>,
    /// The spawn runs many times (in a loop, or in a closure an iterator calls per element).
    pub in_loop: bool,
    pub span: Span,
}

/// How deferred code was registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeferKind {
    /// `defer! { }` and look-alikes.
    Macro,
    /// `scopeguard::guard(value, closure)`.
    Guard,
}

/// A place where deferred code is registered.
#[derive(Clone, Debug)]
pub struct DeferSite {
    pub registrant: FunctionId,
    pub body: FunctionId,
    pub kind: DeferKind,
    pub span: Span,
}

/// The call graph with its spawn and defer sites.
#[derive(Debug)]
pub struct CallGraph {
    graph: DiGraph<FunctionId, EdgeKind>,
    pub spawn_sites: Vec<SpawnSite>,
    pub defer_sites: Vec<DeferSite>,
    /// Calls whose targets the points-to analysis found (through function values, method
    /// values, func-typed fields, interfaces and `dyn Trait`), by calling function and call.
    dynamic: HashMap<(FunctionId, CallId), Vec<FunctionId>>,
    /// Functions that call a func-typed parameter of their own (`func withRecover(fn func()) {
    /// .. fn() }`), or a func-typed field of one (`fns.visit(..)`): those calls, with the
    /// parameter's position (the receiver first) and the field.
    param_calls: HashMap<FunctionId, Vec<(CallId, usize, Option<Sym>)>>,
    /// At each call of such a function, what each of those calls runs there: the functions
    /// the call's argument designates (`withRecover(bp.run)` runs `run`).
    bound: HashMap<(FunctionId, CallId), std::rc::Rc<Binding>>,
    /// Closures handed to a call (`sort.Slice(xs, func ..)`, `g.Go(func ..)`): the function
    /// making the call, and the call.
    handed_to: HashMap<FunctionId, (FunctionId, CallId)>,
    /// Calls whose result a spawn runs (`go s.run()`, `tokio::spawn(worker())`): the callee
    /// runs in the new task, not in the caller.
    spawned_calls: HashSet<(FunctionId, CallId)>,
}

/// For each call of a func-typed parameter in a function, what a call site hands it.
type Binding = Vec<(CallId, Vec<FunctionId>)>;

/// What a traversal entering a function that calls its func-typed parameters knows of them.
type Bound = Option<std::rc::Rc<Binding>>;

/// A function to visit, with what its caller bound its func-typed parameters to, and the call
/// it was entered by.
type Visit = (FunctionId, Bound, Option<(FunctionId, CallId)>);

impl CallGraph {
    pub fn build(program: &Program, glue: &DropGlue, points_to: &PointsTo) -> CallGraph {
        let mut graph =
            DiGraph::with_capacity(program.functions.len(), program.functions.len() * 2);
        for id in program.function_ids() {
            graph.add_node(id);
        }
        let mut call_graph = CallGraph {
            graph,
            spawn_sites: Vec::new(),
            defer_sites: Vec::new(),
            dynamic: HashMap::default(),
            param_calls: HashMap::default(),
            bound: HashMap::default(),
            handed_to: HashMap::default(),
            spawned_calls: HashSet::default(),
        };
        // Closures handed to a call, per body: the call decides what the closure is.
        let mut handed_to: HashMap<FunctionId, (FunctionId, CallId)> = HashMap::default();
        let mut spawned_calls: HashSet<(FunctionId, CallId)> = HashSet::default();
        for id in program.function_ids() {
            if program.function(id).owner != id {
                continue;
            }
            let body = program.body(id);
            let file = program.function(id).file;
            for (index, call) in body.calls.iter().enumerate() {
                for &arg in &call.args {
                    if let Some(closure) = closure_of(body, arg) {
                        handed_to.insert(
                            program.function_id(file, closure),
                            (
                                program.function_id(file, call.function),
                                CallId::from_index(index),
                            ),
                        );
                    }
                }
            }
        }
        for id in program.function_ids() {
            let fact = program.fact(id);
            let function = program.function(id);
            let body = program.body(id);
            let types = program.body_types(id);
            let mut events = Vec::new();
            collect_events(&fact.nodes, &mut events);
            let mut drop_edges: HashSet<FunctionId> = HashSet::default();
            for event in events {
                match *event {
                    Event::Call(call) => {
                        let target = types.call_target[call.index()];
                        match target {
                            CallTarget::Lib(LibCall::Spawn(kind)) => {
                                let fact = &body.calls[call.index()];
                                let mut bodies = Vec::new();
                                for &arg in &fact.args {
                                    if let Some(closure) = closure_of(body, arg) {
                                        bodies.push(program.function_id(function.file, closure));
                                    } else if let Some(target) =
                                        spawned_function(program, id, body, arg)
                                    {
                                        if let Value::Call(inner) = body.value(arg) {
                                            spawned_calls.insert((id, *inner));
                                        }
                                        bodies.push(target);
                                    } else if kind == SpawnKind::Handler {
                                        bodies.extend(served_methods(program, id, arg));
                                    }
                                }
                                if kind == SpawnKind::Scope {
                                    // The scope's closure runs inline.
                                    continue;
                                }
                                let site = SpawnSiteId(call_graph.spawn_sites.len() as u32);
                                for &task in &bodies {
                                    call_graph.graph.add_edge(
                                        NodeIndex::new(id.index()),
                                        NodeIndex::new(task.index()),
                                        EdgeKind::Spawn(site),
                                    );
                                }
                                call_graph.spawn_sites.push(SpawnSite {
                                    spawner: id,
                                    call,
                                    kind,
                                    bodies,
                                    in_loop: fact.in_loop,
                                    span: fact.span,
                                });
                            }
                            CallTarget::Function(callee) => {
                                call_graph.graph.add_edge(
                                    NodeIndex::new(id.index()),
                                    NodeIndex::new(callee.index()),
                                    EdgeKind::Call(call),
                                );
                            }
                            CallTarget::Unknown => {
                                let mut targets = points_to.targets(program, id, call);
                                if targets.is_empty() {
                                    // A call on a trait object: any implementation.
                                    targets = program.dyn_targets(id, call);
                                }
                                for &callee in &targets {
                                    call_graph.graph.add_edge(
                                        NodeIndex::new(id.index()),
                                        NodeIndex::new(callee.index()),
                                        EdgeKind::Call(call),
                                    );
                                }
                                if !targets.is_empty() {
                                    call_graph.dynamic.insert((id, call), targets);
                                }
                            }
                            _ => {}
                        }
                    }
                    Event::Closure(closure) => {
                        let closure_id = program.function_id(function.file, closure);
                        let closure_fact = program.fact(closure_id);
                        let defer = match &closure_fact.kind {
                            FnKind::DeferBody { .. } => Some(DeferKind::Macro),
                            _ => match handed_to.get(&closure_id) {
                                Some(&(caller, call))
                                    if program.call_target(caller, call)
                                        == CallTarget::Lib(LibCall::ScopeGuard) =>
                                {
                                    Some(DeferKind::Guard)
                                }
                                Some(&(caller, call))
                                    if matches!(
                                        program.call_target(caller, call),
                                        CallTarget::Lib(LibCall::Spawn(
                                            SpawnKind::Task | SpawnKind::Join
                                        ))
                                    ) =>
                                {
                                    // The spawn site adds the edge.
                                    continue;
                                }
                                _ => None,
                            },
                        };
                        match defer {
                            Some(kind) => {
                                let site = DeferSiteId(call_graph.defer_sites.len() as u32);
                                let span = match (kind, handed_to.get(&closure_id)) {
                                    (DeferKind::Guard, Some(&(caller, call))) => {
                                        program.body(caller).call(call).span
                                    }
                                    _ => closure_fact.span,
                                };
                                call_graph.defer_sites.push(DeferSite {
                                    registrant: id,
                                    body: closure_id,
                                    kind,
                                    span,
                                });
                                call_graph.graph.add_edge(
                                    NodeIndex::new(id.index()),
                                    NodeIndex::new(closure_id.index()),
                                    EdgeKind::Defer(site),
                                );
                            }
                            None => {
                                call_graph.graph.add_edge(
                                    NodeIndex::new(id.index()),
                                    NodeIndex::new(closure_id.index()),
                                    EdgeKind::Closure,
                                );
                            }
                        }
                    }
                    Event::Bind(slot) => {
                        let ty = slot_type(program, id, &slot);
                        for drop_fn in glue.glue(program, ty, false) {
                            if drop_edges.insert(drop_fn) {
                                call_graph.graph.add_edge(
                                    NodeIndex::new(id.index()),
                                    NodeIndex::new(drop_fn.index()),
                                    EdgeKind::ImplicitDrop,
                                );
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        call_graph.bind_func_parameters(program, points_to);
        call_graph.handed_to = handed_to;
        call_graph.spawned_calls = spawned_calls.clone();
        // A call whose result is spawned (`tokio::spawn(worker())`) runs in the task, not here.
        if !spawned_calls.is_empty() {
            call_graph.graph.retain_edges(|graph, edge| {
                let (source, _) = graph.edge_endpoints(edge).expect("an edge");
                match graph[edge] {
                    EdgeKind::Call(call) => {
                        !spawned_calls.contains(&(FunctionId(source.index() as u32), call))
                    }
                    _ => true,
                }
            });
        }
        call_graph
    }

    /// The functions a call may go to: its static target, or what the points-to analysis
    /// found for a call through a value.
    pub fn call_targets(
        &self,
        program: &Program,
        function: FunctionId,
        call: CallId,
    ) -> Vec<FunctionId> {
        match program.call_target(program.function(function).owner, call) {
            CallTarget::Function(callee) => vec![callee],
            _ => self
                .dynamic
                .get(&(function, call))
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// Finds the functions that call a func-typed parameter of their own, and what that call
    /// runs at each of their call sites whose argument is known.
    fn bind_func_parameters(&mut self, program: &Program, points_to: &PointsTo) {
        // Rust units have no points-to analysis (yet): every call of a local is a candidate,
        // bound below to the closures written in place at each call site.
        let rust = program.language == crate::source::Language::Rust;
        let dynamic_callers: HashSet<FunctionId> = self.dynamic.keys().map(|(f, _)| *f).collect();
        for id in program.function_ids() {
            if program.function(id).owner != id || !(rust || dynamic_callers.contains(&id)) {
                continue;
            }
            let params = &program.fact(id).params;
            let body = program.body(id);
            let mut found = Vec::new();
            for (call, _) in program.own_calls(id) {
                if !(rust || self.dynamic.contains_key(&(id, call))) {
                    continue;
                }
                let (local, field) = match &body.call(call).callee {
                    Callee::Dynamic(callee) => match body.value(*callee) {
                        Value::Local(local) => (*local, None),
                        Value::Field { base, name } => match body.value(*base) {
                            Value::Local(local) => (*local, Some(name.clone())),
                            _ => continue,
                        },
                        _ => continue,
                    },
                    // `fns.visit(..)`: a call of a func-typed field, written as a method call.
                    Callee::Method { receiver, name, .. } => match body.value(*receiver) {
                        Value::Local(local) => (*local, Some(name.clone())),
                        _ => continue,
                    },
                    Callee::Path(_) => continue,
                };
                if let Some(position) = params.iter().position(|param| *param == local) {
                    found.push((call, position, field));
                }
            }
            if !found.is_empty() {
                self.param_calls.insert(id, found);
            }
        }
        if self.param_calls.is_empty() {
            return;
        }
        let mut bound = HashMap::default();
        for edge in self.graph.edge_indices() {
            let EdgeKind::Call(call) = self.graph[edge] else {
                continue;
            };
            let (source, target) = self.graph.edge_endpoints(edge).expect("an edge");
            let (caller, callee) = (
                FunctionId(source.index() as u32),
                FunctionId(target.index() as u32),
            );
            let Some(param_calls) = self.param_calls.get(&callee) else {
                continue;
            };
            let owner = program.function(caller).owner;
            let body = program.body(owner);
            let fact = body.call(call);
            let operands: Vec<ValueId> = fact.positional_operands();
            let mut binding = Vec::new();
            for (param_call, position, field) in param_calls {
                let (param_call, position) = (*param_call, *position);
                let Some(&arg) = operands.get(position) else {
                    continue;
                };
                // A field of a struct literal handed over (`parseOptionsFuncs{visit: f}`).
                let arg = match field {
                    None => arg,
                    Some(field) => {
                        let literal = match body.value(arg) {
                            Value::Ref { inner, .. } => *inner,
                            _ => arg,
                        };
                        let Value::Struct { fields, .. } = body.value(literal) else {
                            continue;
                        };
                        match fields.iter().find(|(name, _)| name == field) {
                            Some((_, value)) => *value,
                            // Not set: the call does not run (a nil func is checked first).
                            None => {
                                binding.push((param_call, Vec::new()));
                                continue;
                            }
                        }
                    }
                };
                let functions = func_value_targets(program, points_to, caller, arg);
                // An argument the analysis does not resolve leaves the call to every target.
                if !functions.is_empty() {
                    binding.push((param_call, functions));
                }
            }
            if !binding.is_empty() {
                bound.insert((caller, call), std::rc::Rc::new(binding));
            }
        }
        self.bound = bound;
    }

    /// Functions reachable from `roots` through calls, closures, implicit drops and defers (not
    /// spawns): what runs in the same task. A function that calls a func-typed parameter
    /// (`withRecover(fn)`) runs there what its caller handed it, not every function any caller
    /// hands it.
    pub fn reachable_in_task(&self, roots: &[FunctionId]) -> Vec<FunctionId> {
        let mut seen = vec![false; self.graph.node_count()];
        let mut seen_bound: HashSet<(FunctionId, FunctionId, CallId)> = HashSet::default();
        let mut stack: Vec<Visit> = roots.iter().map(|&root| (root, None, None)).collect();
        let mut order = Vec::new();
        while let Some((function, bound, via)) = stack.pop() {
            match (&bound, via) {
                (Some(_), Some((caller, call))) => {
                    if !seen_bound.insert((function, caller, call)) {
                        continue;
                    }
                    if !seen[function.index()] {
                        seen[function.index()] = true;
                        order.push(function);
                    }
                }
                _ => {
                    if std::mem::replace(&mut seen[function.index()], true) {
                        continue;
                    }
                    order.push(function);
                }
            }
            for edge in self.graph.edges(NodeIndex::new(function.index())) {
                let kind = *edge.weight();
                if matches!(kind, EdgeKind::Spawn(_)) {
                    continue;
                }
                let target = FunctionId(edge.target().index() as u32);
                if let (EdgeKind::Call(call), Some(bound)) = (kind, &bound) {
                    if bound.iter().any(|(bound_call, _)| *bound_call == call) {
                        // Replaced by what the caller handed over, below.
                        continue;
                    }
                }
                match kind {
                    EdgeKind::Call(call) => {
                        let binding = self.bound.get(&(function, call)).cloned();
                        stack.push((target, binding, Some((function, call))));
                    }
                    _ => stack.push((target, None, None)),
                }
            }
            if let Some(bound) = &bound {
                for (_, functions) in bound.iter() {
                    for &target in functions {
                        stack.push((target, None, None));
                    }
                }
            }
        }
        order
    }

    /// A call whose callee runs in a task the call's spawn starts (`go s.run()`).
    pub fn is_spawned_call(&self, caller: FunctionId, call: CallId) -> bool {
        self.spawned_calls.contains(&(caller, call))
    }

    /// The functions some spawn runs as its task (a goroutine closure, a named function).
    pub fn spawn_bodies(&self) -> HashSet<FunctionId> {
        self.spawn_sites
            .iter()
            .flat_map(|site| site.bodies.iter().copied())
            .collect()
    }

    /// Closures handed to a call, each with the function that makes the call and the call.
    pub fn handed_closures(&self) -> impl Iterator<Item = (FunctionId, (FunctionId, CallId))> + '_ {
        self.handed_to
            .iter()
            .map(|(&closure, &call)| (closure, call))
    }

    /// `roots` and the functions only they (and what only they call) call, not through a
    /// spawn: code that runs only as part of the roots' runs.
    pub fn only_called_from(&self, roots: &HashSet<FunctionId>) -> HashSet<FunctionId> {
        let mut only = roots.clone();
        if only.is_empty() {
            return only;
        }
        let start: Vec<FunctionId> = roots.iter().copied().collect();
        let reached = self.reachable_in_task(&start);
        loop {
            let added: Vec<FunctionId> = reached
                .iter()
                .copied()
                .filter(|function| !only.contains(function))
                .filter(|&function| {
                    let mut callers = self.edges_to(function).peekable();
                    callers.peek().is_some()
                        && callers.all(|(caller, kind)| {
                            !matches!(kind, EdgeKind::Spawn(_)) && only.contains(&caller)
                        })
                })
                .collect();
            if added.is_empty() {
                return only;
            }
            only.extend(added);
        }
    }

    /// Breadth-first from `root` through non-spawn edges: each function reached, its distance
    /// in calls, and its caller on a shortest path.
    pub fn shortest_paths_in_task(
        &self,
        root: FunctionId,
    ) -> Vec<(FunctionId, u32, Option<FunctionId>)> {
        let mut seen = HashSet::default();
        let mut queue = std::collections::VecDeque::new();
        let mut out = Vec::new();
        seen.insert(root);
        queue.push_back((root, 0, None));
        while let Some((function, depth, caller)) = queue.pop_front() {
            out.push((function, depth, caller));
            for edge in self.graph.edges(NodeIndex::new(function.index())) {
                if matches!(edge.weight(), EdgeKind::Spawn(_)) {
                    continue;
                }
                let target = FunctionId(edge.target().index() as u32);
                if seen.insert(target) {
                    queue.push_back((target, depth + 1, Some(function)));
                }
            }
        }
        out
    }

    /// The edges out of a function.
    pub fn edges_from(
        &self,
        function: FunctionId,
    ) -> impl Iterator<Item = (FunctionId, EdgeKind)> + '_ {
        self.graph
            .edges(NodeIndex::new(function.index()))
            .map(|edge| (FunctionId(edge.target().index() as u32), *edge.weight()))
    }

    /// The edges into a function.
    pub fn edges_to(
        &self,
        function: FunctionId,
    ) -> impl Iterator<Item = (FunctionId, EdgeKind)> + '_ {
        self.graph
            .edges_directed(NodeIndex::new(function.index()), Direction::Incoming)
            .map(|edge| (FunctionId(edge.source().index() as u32), *edge.weight()))
    }
}

/// The closure a value is: a closure expression, or a local bound to one.
/// The functions a func value designates: a closure literal (or a local bound to one), or what
/// the points-to analysis finds (a function name, a method value `s.run`).
pub fn func_value_targets(
    program: &Program,
    points_to: &PointsTo,
    function: FunctionId,
    value: ValueId,
) -> Vec<FunctionId> {
    let owner = program.function(function).owner;
    if let Some(closure) = closure_of(program.body(owner), value) {
        return vec![program.function_id(program.function(owner).file, closure)];
    }
    points_to
        .pts(program, function, value)
        .into_iter()
        .filter_map(|object| match points_to.object(object).kind {
            ObjKind::Func { function, .. } | ObjKind::Method { function, .. } => Some(function),
            _ => None,
        })
        .collect()
}

pub fn closure_of(body: &Body, value: ValueId) -> Option<crate::model::facts::FnIdx> {
    match body.value(value) {
        Value::Closure(closure) => Some(*closure),
        Value::Local(local) => match body.local(*local).init.map(|init| body.value(init)) {
            Some(Value::Closure(closure)) => Some(*closure),
            _ => None,
        },
        // `&|v| ..` handed as a `&dyn Fn`.
        Value::Ref { inner, .. } => match body.value(*inner) {
            Value::Closure(closure) => Some(*closure),
            _ => None,
        },
        _ => None,
    }
}

/// A named function handed to a spawn: `thread::spawn(worker)`, or `tokio::spawn(serve(x))`.
fn spawned_function(
    program: &Program,
    function: FunctionId,
    body: &Body,
    value: ValueId,
) -> Option<FunctionId> {
    match body.value(value) {
        Value::Path(path) => match program.tree.resolve(
            program.function(function).module,
            &path.segments,
            path.leading_colon,
        ) {
            Some(Resolved::Item(ItemRef::Function(target), extra)) if extra.is_empty() => {
                Some(target)
            }
            _ => None,
        },
        Value::Call(call) => match program.call_target(function, *call) {
            CallTarget::Function(target) => Some(target),
            _ => None,
        },
        // Go method values: `time.AfterFunc(d, c.retry)`, `g.Go(s.run)`.
        Value::Field { base, name } if program.language == crate::source::Language::Go => {
            program.go_method(program.value_ty(function, *base), name)
        }
        _ => None,
    }
}

/// The methods a server runs for a service object handed to it, by name: `ServeHTTP` of an
/// `http.Handler`, or every exported method of a gRPC service (`pb.RegisterFooServer(s, srv)`).
pub fn served_method_names(program: &Program, function: FunctionId, value: ValueId) -> Vec<Sym> {
    if program.language != crate::source::Language::Go {
        return Vec::new();
    }
    let ty = program.types.autoderef(program.value_ty(function, value));
    let crate::model::types::TyKind::Adt(adt, _) = program.types.kind(ty) else {
        return Vec::new();
    };
    if program.go_method(ty, "ServeHTTP").is_some() {
        return vec!["ServeHTTP".into()];
    }
    let mut names: Vec<Sym> = program
        .adt(*adt)
        .methods
        .keys()
        .filter(|name| name.starts_with(|c: char| c.is_ascii_uppercase()))
        .cloned()
        .collect();
    names.sort();
    names
}

/// The methods a server runs for a service object handed to it (see [`served_method_names`]).
fn served_methods(program: &Program, function: FunctionId, value: ValueId) -> Vec<FunctionId> {
    let ty = program.types.autoderef(program.value_ty(function, value));
    served_method_names(program, function, value)
        .iter()
        .filter_map(|name| program.go_method(ty, name))
        .collect()
}

pub fn collect_events<'n>(nodes: &'n [Node], out: &mut Vec<&'n Event>) {
    for node in nodes {
        match node {
            Node::Event(event) => out.push(event),
            Node::Branch(arms) => {
                for arm in arms {
                    collect_events(arm, out);
                }
            }
            Node::Loop(body) => collect_events(body, out),
        }
    }
}

/// The type of the value a slot holds.
pub fn slot_type(program: &Program, function: FunctionId, slot: &Slot) -> TyId {
    match slot {
        Slot::Local(local) => {
            if program.body(function).local(*local).by_ref {
                TyId::UNKNOWN
            } else {
                program.local_ty(function, *local)
            }
        }
        Slot::Temp(temp) => {
            program.value_ty(function, program.body(function).temps[temp.index()].value)
        }
    }
}

/// Which `Drop` impls run when a value of a type is dropped, memoised.
#[derive(Debug, Default)]
pub struct DropGlue {
    memo: RefCell<HashMap<(TyId, Shared, TraitObjects), Vec<FunctionId>>>,
}

/// Whether drop glue goes into a `dyn Trait`: the object may be any of the program's types
/// that implement the trait, so what it runs is a may-fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum TraitObjects {
    Every,
    Skip,
}

/// How far drop glue follows `Arc`/`Rc`: whether the value dropped may be the last owner of
/// what they point to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Shared {
    /// Never: other owners keep the pointee alive.
    No,
    /// At the top of the value only (a removed map value, an upgraded `Weak`).
    AtTop,
    /// `Rc` everywhere, fields included: everything the value reaches on its thread dies with
    /// it (a thread's locals at thread exit). `Arc` never: another thread may hold it.
    Everywhere,
}

impl DropGlue {
    /// The `Drop::drop` functions that run when a value of type `ty` is dropped: its own, and
    /// those of what it owns. Through `Arc`/`Rc` only when `through_shared` (the value may be
    /// the last owner: a removed map value, an upgraded `Weak`).
    pub fn glue(&self, program: &Program, ty: TyId, through_shared: bool) -> Vec<FunctionId> {
        let shared = if through_shared {
            Shared::AtTop
        } else {
            Shared::No
        };
        self.glue_with(program, ty, shared, TraitObjects::Every)
    }

    /// Like [`DropGlue::glue`], for a value dropped inside `running` (a function of the
    /// program): a trait object is not taken to run `running` itself again (that needs a
    /// structure that nests values of one type, which the types do not tell), and not at all
    /// when `incidental` (the value exists only if a key was present: the old value `insert`
    /// returns). Two may-facts together are too weak to report on.
    pub fn glue_inside(
        &self,
        program: &Program,
        ty: TyId,
        through_shared: bool,
        running: FunctionId,
        incidental: bool,
    ) -> Vec<FunctionId> {
        let shared = if through_shared {
            Shared::AtTop
        } else {
            Shared::No
        };
        if incidental {
            return self.glue_with(program, ty, shared, TraitObjects::Skip);
        }
        let every = self.glue_with(program, ty, shared, TraitObjects::Every);
        if every.contains(&running) {
            self.glue_with(program, ty, shared, TraitObjects::Skip)
        } else {
            every
        }
    }

    /// Like [`DropGlue::glue`], following `Rc` at every level, fields included (not `Arc`):
    /// what runs when a value and everything it reaches on its thread die together, as a
    /// thread's thread-locals do when it exits.
    pub fn glue_of_last_owner(&self, program: &Program, ty: TyId) -> Vec<FunctionId> {
        self.glue_with(program, ty, Shared::Everywhere, TraitObjects::Every)
    }

    fn glue_with(
        &self,
        program: &Program,
        ty: TyId,
        shared: Shared,
        objects: TraitObjects,
    ) -> Vec<FunctionId> {
        if ty.is_unknown() {
            return Vec::new();
        }
        if let Some(found) = self.memo.borrow().get(&(ty, shared, objects)) {
            return found.clone();
        }
        let mut out = Vec::new();
        let mut visiting = Vec::new();
        let mut walk = GlueWalk {
            program,
            objects,
            visiting: &mut visiting,
            out: &mut out,
        };
        walk.collect(ty, &[], shared, 0);
        out.sort();
        out.dedup();
        self.memo
            .borrow_mut()
            .insert((ty, shared, objects), out.clone());
        out
    }
}

struct GlueWalk<'a> {
    program: &'a Program,
    objects: TraitObjects,
    visiting: &'a mut Vec<AdtId>,
    out: &'a mut Vec<FunctionId>,
}

impl GlueWalk<'_> {
    fn collect(
        &mut self,
        ty: TyId,
        substitution: &[(Sym, TyId)],
        through_shared: Shared,
        depth: u32,
    ) {
        let program = self.program;
        if depth > 12 {
            return;
        }
        match program.types.kind(ty) {
            TyKind::Adt(adt, args) => {
                if self.visiting.contains(adt) {
                    return;
                }
                let data = program.adt(*adt);
                if let Some(drop_fn) = data.drop_fn {
                    self.out.push(drop_fn);
                }
                let args: Vec<TyId> = args
                    .iter()
                    .map(|&arg| substituted(program, arg, substitution))
                    .collect();
                let inner: Vec<(Sym, TyId)> = data.generics.iter().cloned().zip(args).collect();
                let taken = data
                    .drop_fn
                    .map(|drop_fn| fields_taken_by(program, drop_fn))
                    .unwrap_or_default();
                self.visiting.push(*adt);
                for (name, field) in &data.fields {
                    // A field the type's own `Drop` takes out (`self.job.take()`) is empty by the
                    // time the fields are dropped: what it held dies wherever `drop` sends it.
                    if taken.contains(name) {
                        continue;
                    }
                    let field = *field;
                    let shared = match through_shared {
                        Shared::Everywhere => Shared::Everywhere,
                        _ => Shared::No,
                    };
                    self.collect(field, &inner, shared, depth + 1);
                }
                self.visiting.pop();
            }
            TyKind::Lib(lib, args) => {
                let follows = match lib {
                    // An `Arc` may be shared with another thread, which may outlive this one.
                    LibTy::Arc => through_shared == Shared::AtTop,
                    LibTy::Rc => through_shared != Shared::No,
                    LibTy::Weak
                    | LibTy::ManuallyDrop
                    | LibTy::Guard { .. }
                    | LibTy::JoinHandle
                    | LibTy::String
                    | LibTy::Atomic
                    | LibTy::ScopeGuard => false,
                    _ => true,
                };
                if follows {
                    for &arg in args {
                        self.collect(arg, substitution, through_shared, depth + 1);
                    }
                }
            }
            TyKind::Param(name) => {
                if let Some(&(_, actual)) = substitution.iter().find(|(param, _)| param == name) {
                    self.collect(actual, &[], through_shared, depth + 1);
                }
            }
            TyKind::Tuple(elements) => {
                for &element in elements {
                    self.collect(element, substitution, through_shared, depth + 1);
                }
            }
            TyKind::Slice(element) => {
                self.collect(*element, substitution, through_shared, depth + 1)
            }
            // A trait object may be any of the program's types that implement the trait.
            TyKind::Dyn(trait_name) => {
                if self.objects == TraitObjects::Skip {
                    return;
                }
                for &(_, implementor) in program.trait_implementor_types(trait_name) {
                    self.collect(implementor, &[], through_shared, depth + 1);
                }
            }
            // An unfinished `async fn` future: what the function holds where it waits.
            TyKind::AsyncCall(function) => {
                for held in suspended_slot_types(program, *function) {
                    self.collect(held, &[], through_shared, depth + 1);
                }
            }
            TyKind::Ref(..)
            | TyKind::Ptr(..)
            | TyKind::Unknown
            | TyKind::Never
            | TyKind::Opaque(_) => {}
        }
    }
}

/// The types of the locals and temporaries of a function that are alive at one of its
/// `.await`s (bound before it, not released or moved away yet, in the order the code is
/// written): what its future owns while it waits there.
fn suspended_slot_types(program: &Program, function: FunctionId) -> Vec<TyId> {
    let mut events = Vec::new();
    collect_events(&program.fact(function).nodes, &mut events);
    let mut live: Vec<Slot> = Vec::new();
    let mut held: Vec<Slot> = Vec::new();
    for event in events {
        match event {
            Event::Bind(slot) => live.push(*slot),
            Event::Release { slot, .. } => live.retain(|alive| alive != slot),
            Event::Move { local, .. } => live.retain(|alive| *alive != Slot::Local(*local)),
            Event::Suspend { .. } => {
                for &slot in &live {
                    if !held.contains(&slot) {
                        held.push(slot);
                    }
                }
            }
            _ => {}
        }
    }
    let mut types: Vec<TyId> = held
        .iter()
        .map(|slot| slot_type(program, function, slot))
        .filter(|ty| !ty.is_unknown())
        .collect();
    // The future it waits on, while it waits (`helper(..).await`).
    let owner = program.function(function).owner;
    let body = program.body(owner);
    let file = program.function(owner).file;
    for (index, value) in body.values.iter().enumerate() {
        let Value::Await(inner) = value else { continue };
        if program.function_id(file, body.value_fn(ValueId::from_index(index))) != function {
            continue;
        }
        let ty = program.value_ty(owner, *inner);
        if matches!(program.types.kind(ty), TyKind::AsyncCall(_)) && !types.contains(&ty) {
            types.push(ty);
        }
    }
    types
}

/// The fields of `self` a `Drop::drop` takes out: `self.f.take()`, `mem::take(&mut self.f)`,
/// `mem::replace(&mut self.f, ..)`.
fn fields_taken_by(program: &Program, drop_fn: FunctionId) -> Vec<Sym> {
    let mut taken = Vec::new();
    if let Some(&this) = program.fact(drop_fn).params.first() {
        collect_fields_taken(program, drop_fn, this, 0, &mut taken);
    }
    taken
}

/// The fields of the struct `this` (a parameter of `function`) that the function takes out,
/// itself or in a helper of the program it hands `this` to (`drop_helper(self)`).
fn collect_fields_taken(
    program: &Program,
    function: FunctionId,
    this: crate::model::facts::LocalId,
    depth: u32,
    taken: &mut Vec<Sym>,
) {
    if depth > 3 || program.function(function).owner != function {
        return;
    }
    let body = program.body(function);
    // Through references, derefs and locals bound to them (`let this: &mut dyn T = self`).
    let strip = |mut value: ValueId| {
        for _ in 0..8 {
            value = match body.value(value) {
                Value::Ref { inner, .. } | Value::Deref(inner) | Value::Cast { inner, .. } => {
                    *inner
                }
                Value::Local(local) if *local != this => match body.local(*local).init {
                    Some(init) => init,
                    None => return value,
                },
                _ => return value,
            };
        }
        value
    };
    let is_this =
        |value: ValueId| matches!(body.value(strip(value)), Value::Local(local) if *local == this);
    let self_field = |value: ValueId| -> Option<Sym> {
        match body.value(strip(value)) {
            Value::Field { base, name } if is_this(*base) => Some(name.clone()),
            _ => None,
        }
    };
    for (index, call) in body.calls.iter().enumerate() {
        let field = match &call.callee {
            crate::model::facts::Callee::Method { receiver, name, .. }
                if &**name == "take" && call.args.is_empty() =>
            {
                self_field(*receiver)
            }
            crate::model::facts::Callee::Path(path)
                if matches!(path.last(), "take" | "replace") =>
            {
                call.args.first().and_then(|&arg| self_field(arg))
            }
            _ => None,
        };
        taken.extend(field);
        // `this` handed to a helper of the program (or to the method of a trait object that
        // is `this`: its type's implementation).
        let call_id = CallId::from_index(index);
        let helpers: Vec<FunctionId> = match program.call_target(function, call_id) {
            CallTarget::Function(helper) => vec![helper],
            _ => {
                let this_adt = program.types.adt(program.local_ty(function, this));
                program
                    .dyn_targets(function, call_id)
                    .into_iter()
                    .filter(|&target| {
                        this_adt.is_some()
                            && program
                                .function(target)
                                .self_ty
                                .and_then(|ty| program.types.adt(ty))
                                == this_adt
                    })
                    .collect()
            }
        };
        let operands: Vec<ValueId> = call.positional_operands();
        for helper in helpers {
            for (position, &operand) in operands.iter().enumerate() {
                if is_this(operand)
                    && let Some(&param) = program.fact(helper).params.get(position)
                {
                    collect_fields_taken(program, helper, param, depth + 1, taken);
                }
            }
        }
    }
}

fn substituted(program: &Program, ty: TyId, substitution: &[(Sym, TyId)]) -> TyId {
    match program.types.kind(ty) {
        TyKind::Param(name) => substitution
            .iter()
            .find(|(param, _)| param == name)
            .map(|(_, actual)| *actual)
            .unwrap_or(ty),
        _ => ty,
    }
}
