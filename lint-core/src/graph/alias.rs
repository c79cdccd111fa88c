//! The capture graph as unification-based aliasing (Steensgaard-style union-find over abstract
//! locations): which locals, struct fields (per type), statics, returns and allocation sites
//! can designate the same object. `Arc::clone`, `&`, `*`, lock guards and smart-pointer
//! constructors are transparent; each class has one "element" child for what a container
//! holds, so that a map and its values stay apart.

use rustc_hash::FxHashMap as HashMap;

use crate::model::facts::{Callee, FnKind, LocalId, Sym, Value, ValueId};
use crate::model::modules::{FunctionId, ItemRef, Resolved, StaticId};
use crate::model::types::{AdtId, TyKind};
use crate::model::{BodyId, CallTarget, LibCall, MapOpKind, Program};

/// An abstract location.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Location {
    Local(BodyId, LocalId),
    /// A field of every value of a program type.
    Field(AdtId, Sym),
    Static(StaticId),
    /// What a function returns.
    Return(FunctionId),
    /// A value created at this place (a constructor call, a struct literal).
    Alloc(BodyId, ValueId),
}

/// An alias class: every location in it may designate the same object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClassId(pub u32);

const NONE: u32 = u32::MAX;

/// What a lock expression locks, as a class: Rust's locks by the unification classes of this
/// module; Go's by the points-to analysis, two lock expressions being one lock when the objects
/// they may designate are connected (they share an object, directly or through other lock
/// expressions). Lock expressions whose objects are unknown fall back to their unification
/// class, in a range of ids of its own.
#[derive(Debug, Default)]
pub struct LockClasses {
    /// The component of each object that appears in some lock expression, by object.
    component: HashMap<crate::graph::points_to::ObjId, u32>,
    /// Whether the points-to analysis decides (Go).
    by_points_to: bool,
    /// Lock fields whose objects are unknown (`p.mu` of a type from outside the module), by
    /// the struct type and field: the same field of the same type is taken for one lock.
    fields: HashMap<(crate::model::types::TyId, crate::model::facts::Sym), u32>,
}

/// Where fallback classes start, so that they never meet a points-to component.
const FALLBACK_CLASSES: u32 = 1 << 30;
/// Where the classes of lock fields of unknown objects start.
const FIELD_CLASSES: u32 = 1 << 29;

impl LockClasses {
    /// `receivers`: every lock, unlock and guard expression, by its function and value.
    pub fn compute(
        program: &Program,
        points_to: &crate::graph::points_to::PointsTo,
        receivers: &[(FunctionId, ValueId)],
    ) -> LockClasses {
        use crate::graph::points_to::ObjId;
        if program.language != crate::source::Language::Go {
            return LockClasses::default();
        }
        let mut parent: HashMap<ObjId, ObjId> = HashMap::default();
        fn find(parent: &mut HashMap<ObjId, ObjId>, object: ObjId) -> ObjId {
            let mut root = object;
            while let Some(&next) = parent.get(&root) {
                if next == root {
                    break;
                }
                root = next;
            }
            let mut current = object;
            while let Some(&next) = parent.get(&current) {
                if next == root {
                    break;
                }
                parent.insert(current, root);
                current = next;
            }
            root
        }
        for &(function, value) in receivers {
            let objects = points_to.pts(program, function, value);
            let Some(&first) = objects.first() else {
                continue;
            };
            parent.entry(first).or_insert(first);
            for &object in &objects[1..] {
                parent.entry(object).or_insert(object);
                let (a, b) = (find(&mut parent, first), find(&mut parent, object));
                if a != b {
                    parent.insert(a.max(b), a.min(b));
                }
            }
        }
        let objects: Vec<ObjId> = parent.keys().copied().collect();
        let component = objects
            .into_iter()
            .map(|object| (object, find(&mut parent, object).0))
            .collect();
        let mut fields = HashMap::default();
        for &(function, value) in receivers {
            if points_to.pts(program, function, value).is_empty() {
                if let Some(key) = lock_field(program, function, value) {
                    let next = fields.len() as u32;
                    fields.entry(key).or_insert(next);
                }
            }
        }
        LockClasses {
            component,
            by_points_to: true,
            fields,
        }
    }

    /// The lock class of a lock expression.
    pub fn class_of(
        &self,
        program: &Program,
        aliases: &Aliases,
        points_to: &crate::graph::points_to::PointsTo,
        function: FunctionId,
        value: ValueId,
    ) -> Option<ClassId> {
        if self.by_points_to {
            if let Some(component) = points_to
                .pts(program, function, value)
                .first()
                .and_then(|object| self.component.get(object))
            {
                return Some(ClassId(*component));
            }
            if let Some(index) =
                lock_field(program, function, value).and_then(|key| self.fields.get(&key))
            {
                return Some(ClassId(FIELD_CLASSES + index));
            }
            return aliases
                .class_of(program, function, value)
                .map(|class| ClassId(FALLBACK_CLASSES + class.0));
        }
        aliases.class_of(program, function, value)
    }
}

/// A lock expression that is a field of a struct (`p.mu`): the struct's type and the field.
fn lock_field(
    program: &Program,
    function: FunctionId,
    value: ValueId,
) -> Option<(crate::model::types::TyId, crate::model::facts::Sym)> {
    let owner = program.function(function).owner;
    match program.body(owner).value(value) {
        crate::model::facts::Value::Field { base, name } => {
            let ty = program.types.strip_refs(program.value_ty(owner, *base));
            (!ty.is_unknown()).then(|| (ty, name.clone()))
        }
        _ => None,
    }
}

/// The result of the alias analysis.
#[derive(Debug, Default)]
pub struct Aliases {
    locations: Vec<Location>,
    ids: HashMap<Location, u32>,
    parent: Vec<u32>,
    element: Vec<u32>,
    /// Per body, the location node of each value (`NONE` when it designates nothing known).
    value_nodes: Vec<Vec<u32>>,
    /// The statics of each class, by class root.
    statics: HashMap<u32, Vec<StaticId>>,
}

impl Aliases {
    pub fn compute(program: &Program) -> Aliases {
        let mut aliases = Aliases {
            value_nodes: vec![Vec::new(); program.bodies.len()],
            ..Aliases::default()
        };
        let mut owners = vec![None; program.bodies.len()];
        let mut functions_by_body: Vec<Vec<FunctionId>> = vec![Vec::new(); program.bodies.len()];
        for id in program.function_ids() {
            let function = program.function(id);
            if function.owner == id {
                owners[function.body.0 as usize] = Some(id);
            }
            functions_by_body[function.body.0 as usize].push(id);
        }
        for (index, owner) in owners.iter().enumerate() {
            if let Some(owner) = owner {
                aliases.visit_body(
                    program,
                    BodyId(index as u32),
                    *owner,
                    &functions_by_body[index],
                );
            }
        }
        // Returns, once every body's values have nodes.
        for id in program.function_ids() {
            let returns = &program.fact(id).returns;
            if returns.is_empty() {
                continue;
            }
            let body = program.function(id).body;
            let target = aliases.node(Location::Return(id));
            for &value in returns {
                let node = aliases.value_nodes[body.0 as usize][value.index()];
                if node != NONE {
                    aliases.unify(target, node);
                }
            }
        }
        for node in 0..aliases.locations.len() as u32 {
            if let Location::Static(id) = aliases.locations[node as usize] {
                let root = aliases.find(node);
                aliases.statics.entry(root).or_default().push(id);
            }
        }
        aliases
    }

    fn node(&mut self, location: Location) -> u32 {
        if let Some(&id) = self.ids.get(&location) {
            return id;
        }
        let id = self.locations.len() as u32;
        self.locations.push(location.clone());
        self.ids.insert(location, id);
        self.parent.push(id);
        self.element.push(NONE);
        id
    }

    fn find(&self, mut node: u32) -> u32 {
        while self.parent[node as usize] != node {
            node = self.parent[node as usize];
        }
        node
    }

    fn find_compress(&mut self, node: u32) -> u32 {
        let root = self.find(node);
        let mut current = node;
        while self.parent[current as usize] != root {
            let next = self.parent[current as usize];
            self.parent[current as usize] = root;
            current = next;
        }
        root
    }

    fn unify(&mut self, a: u32, b: u32) {
        let mut pending = vec![(a, b)];
        while let Some((a, b)) = pending.pop() {
            let (a, b) = (self.find_compress(a), self.find_compress(b));
            if a == b {
                continue;
            }
            let (keep, drop) = if a < b { (a, b) } else { (b, a) };
            self.parent[drop as usize] = keep;
            let (keep_element, drop_element) =
                (self.element[keep as usize], self.element[drop as usize]);
            match (keep_element, drop_element) {
                (NONE, other) => self.element[keep as usize] = other,
                (_, NONE) => {}
                (x, y) => pending.push((x, y)),
            }
        }
    }

    /// The element child of a node's class, created on demand.
    fn element_of(&mut self, node: u32) -> u32 {
        let root = self.find_compress(node);
        let existing = self.element[root as usize];
        if existing != NONE {
            return existing;
        }
        let id = self.locations.len() as u32;
        let location = Location::Alloc(BodyId(u32::MAX), ValueId(id));
        self.locations.push(location);
        self.parent.push(id);
        self.element.push(NONE);
        self.element[root as usize] = id;
        id
    }

    fn visit_body(
        &mut self,
        program: &Program,
        body_id: BodyId,
        owner: FunctionId,
        functions: &[FunctionId],
    ) {
        let body = program.body(owner);
        let types = program.body_types(owner);
        let mut nodes = vec![NONE; body.values.len()];
        for (index, value) in body.values.iter().enumerate() {
            let node = |nodes: &Vec<u32>, id: &ValueId| nodes[id.index()];
            let result = match value {
                Value::Local(local) => self.node(Location::Local(body_id, *local)),
                Value::Path(path) => {
                    let function = owner;
                    match program.tree.resolve(
                        program.function(function).module,
                        &path.segments,
                        path.leading_colon,
                    ) {
                        Some(Resolved::Item(ItemRef::Static(id), extra)) if extra.is_empty() => {
                            self.node(Location::Static(id))
                        }
                        _ => NONE,
                    }
                }
                // `let (a, b) = (x, y);`, `let pair = (x, ()); pair.0`, `Holder { inner: x
                // }.inner`: a position of a tuple or a field of a struct literal read where it
                // is made is the value given there (not the field of every `Holder`).
                Value::Field { base, name } if body.literal_field(*base, name).is_some() => body
                    .literal_field(*base, name)
                    .map(|given| node(&nodes, &given))
                    .unwrap_or(NONE),
                Value::Field { base, name } => {
                    let base_ty = types.value_ty[base.index()];
                    let deref = program.types.autoderef(base_ty);
                    match program.types.kind(deref) {
                        // A Go method value (`c.retry` handed to `time.AfterFunc`): the method
                        // gets the value as its receiver.
                        TyKind::Adt(adt, _)
                            if program.language == crate::source::Language::Go
                                && program.field_owner(*adt, name).is_none()
                                && program.adt_field(*adt, name).is_none() =>
                        {
                            if let Some(method) = program.go_method(deref, name) {
                                let base_node = node(&nodes, base);
                                if let Some(&receiver) = program.fact(method).params.first() {
                                    let method_body = program.function(method).body;
                                    let receiver_node =
                                        self.node(Location::Local(method_body, receiver));
                                    if base_node != NONE {
                                        self.unify(base_node, receiver_node);
                                    }
                                }
                            }
                            NONE
                        }
                        TyKind::Adt(adt, _) => {
                            let owner = program.field_owner(*adt, name).unwrap_or(*adt);
                            self.node(Location::Field(owner, name.clone()))
                        }
                        TyKind::Tuple(_) => node(&nodes, base),
                        _ => match program.types.kind(program.types.pointee(base_ty)) {
                            TyKind::Adt(adt, _) => {
                                let owner = program.field_owner(*adt, name).unwrap_or(*adt);
                                self.node(Location::Field(owner, name.clone()))
                            }
                            _ => NONE,
                        },
                    }
                }
                Value::Index { base } | Value::Element(base) => {
                    let base = node(&nodes, base);
                    if base == NONE {
                        NONE
                    } else {
                        self.element_of(base)
                    }
                }
                Value::Deref(inner)
                | Value::Ref { inner, .. }
                | Value::RawRef { inner, .. }
                | Value::Cast { inner, .. }
                | Value::Try(inner)
                | Value::Await(inner)
                | Value::Payload { of: inner, .. } => node(&nodes, inner),
                Value::Call(call) => self.call_node(
                    program,
                    body_id,
                    owner,
                    &nodes,
                    call.index(),
                    ValueId::from_index(index),
                ),
                Value::Struct { fields, .. } => {
                    let allocation =
                        self.node(Location::Alloc(body_id, ValueId::from_index(index)));
                    if let TyKind::Adt(adt, _) = program
                        .types
                        .kind(program.types.strip_refs(types.value_ty[index]))
                    {
                        for (name, field_value) in fields {
                            let field_node = node(&nodes, field_value);
                            if field_node != NONE {
                                // A Go positional element sets the field of its position.
                                let name = match name.parse::<usize>() {
                                    Ok(position) => program
                                        .adt(*adt)
                                        .fields
                                        .get(position)
                                        .map(|(field, _)| field.clone())
                                        .unwrap_or_else(|| name.clone()),
                                    Err(_) => name.clone(),
                                };
                                let field = self.node(Location::Field(*adt, name));
                                self.unify(field, field_node);
                            }
                        }
                    }
                    allocation
                }
                Value::Array(elements) => {
                    let allocation =
                        self.node(Location::Alloc(body_id, ValueId::from_index(index)));
                    for element in elements {
                        let element_node = node(&nodes, element);
                        if element_node != NONE {
                            let child = self.element_of(allocation);
                            self.unify(child, element_node);
                        }
                    }
                    allocation
                }
                Value::Either(values) => {
                    let mut result = NONE;
                    for value in values {
                        let value_node = node(&nodes, value);
                        if value_node == NONE {
                            continue;
                        }
                        if result == NONE {
                            result = value_node;
                        } else {
                            self.unify(result, value_node);
                        }
                    }
                    result
                }
                Value::Unknown
                | Value::Literal
                | Value::Tuple(_)
                | Value::Closure(_)
                | Value::Macro { .. } => NONE,
            };
            nodes[index] = result;
        }
        // `let x = init;` and `x = value;`.
        for (index, local) in body.locals.iter().enumerate() {
            if let Some(init) = local.init {
                let init_node = nodes[init.index()];
                if init_node != NONE {
                    let local_node =
                        self.node(Location::Local(body_id, LocalId::from_index(index)));
                    self.unify(local_node, init_node);
                }
            }
        }
        for &function in functions {
            visit_assignments(&program.fact(function).nodes, &mut |target, value| {
                let (target, value) = (nodes[target.index()], nodes[value.index()]);
                if target != NONE && value != NONE {
                    self.unify(target, value);
                }
            });
        }
        self.value_nodes[body_id.0 as usize] = nodes;
    }

    fn call_node(
        &mut self,
        program: &Program,
        body_id: BodyId,
        owner: FunctionId,
        nodes: &[u32],
        call: usize,
        value: ValueId,
    ) -> u32 {
        let body = program.body(owner);
        let fact = &body.calls[call];
        let target = program.body_types(owner).call_target[call];
        let receiver = match &fact.callee {
            Callee::Method { receiver, .. } => Some(nodes[receiver.index()]),
            _ => None,
        };
        let arg = |index: usize| {
            fact.args
                .get(index)
                .map(|arg| nodes[arg.index()])
                .unwrap_or(NONE)
        };
        let first = receiver.unwrap_or_else(|| arg(0));
        match target {
            CallTarget::Function(function) => {
                let callee = program.fact(function);
                let callee_body = program.function(function).body;
                let has_self = matches!(
                    callee.kind,
                    FnKind::Method {
                        self_kind: Some(_),
                        ..
                    } | FnKind::TraitMethod {
                        self_kind: Some(_),
                        ..
                    }
                );
                let mut actuals: Vec<u32> = Vec::new();
                if let Some(receiver) = receiver {
                    actuals.push(receiver);
                }
                actuals.extend(fact.args.iter().map(|arg| nodes[arg.index()]));
                // A method called by path takes its receiver as the first argument.
                let skip = usize::from(receiver.is_some() && !has_self);
                for (param, actual) in callee.params.iter().zip(actuals.into_iter().skip(skip)) {
                    if actual != NONE {
                        let param_node = self.node(Location::Local(callee_body, *param));
                        self.unify(param_node, actual);
                    }
                }
                self.node(Location::Return(function))
            }
            CallTarget::Construct(adt) => {
                let allocation = self.node(Location::Alloc(body_id, value));
                for (index, arg) in fact.args.iter().enumerate() {
                    let arg_node = nodes[arg.index()];
                    if arg_node != NONE {
                        let field =
                            self.node(Location::Field(adt, index.to_string().into_boxed_str()));
                        self.unify(field, arg_node);
                    }
                }
                allocation
            }
            CallTarget::Lib(call) => match call {
                LibCall::Clone { shares: true }
                | LibCall::Lock { .. }
                | LibCall::Unwrap
                | LibCall::Expect
                | LibCall::UnwrapOr
                | LibCall::Access
                | LibCall::RawGet
                | LibCall::Upgrade
                | LibCall::Downgrade => first,
                // `guard(value, |value| ..)`: the closure's parameter is the guarded value.
                LibCall::ScopeGuard => {
                    let closure = fact
                        .args
                        .get(1)
                        .and_then(|&arg| crate::graph::calls::closure_of(body, arg));
                    if let Some(closure) = closure {
                        let closure = program.function_id(program.function(owner).file, closure);
                        if let Some(&param) = program.fact(closure).params.first() {
                            let param = self.node(Location::Local(body_id, param));
                            if first != NONE {
                                self.unify(param, first);
                            }
                        }
                    }
                    first
                }
                LibCall::Wrap(..) => {
                    if first == NONE {
                        self.node(Location::Alloc(body_id, value))
                    } else {
                        first
                    }
                }
                LibCall::Clone { shares: false } | LibCall::Construct(_) => {
                    self.node(Location::Alloc(body_id, value))
                }
                LibCall::Map { kind, .. } => {
                    // Go's `delete(m, k)`: the map is the first argument.
                    let receiver = receiver.or_else(|| Some(arg(0)));
                    let Some(receiver) = receiver.filter(|&receiver| receiver != NONE) else {
                        return NONE;
                    };
                    let element = self.element_of(receiver);
                    let name = match &fact.callee {
                        Callee::Method { name, .. } => &**name,
                        _ => "",
                    };
                    // `insert(k, v)`: the value joins the map's elements.
                    if name == "insert" && fact.args.len() == 2 {
                        let inserted = arg(1);
                        if inserted != NONE {
                            self.unify(element, inserted);
                        }
                    }
                    match kind {
                        MapOpKind::Read
                            if !matches!(name, "get" | "get_key_value" | "iter" | "values") =>
                        {
                            NONE
                        }
                        _ => element,
                    }
                }
                LibCall::Seq { .. } => {
                    let Some(receiver) = receiver.filter(|&receiver| receiver != NONE) else {
                        return NONE;
                    };
                    let element = self.element_of(receiver);
                    let adds = matches!(
                        &fact.callee,
                        Callee::Method { name, .. } if matches!(&**name, "push" | "push_back" | "push_front" | "insert" | "extend" | "append" | "resize")
                    );
                    // `push(x)`, `insert(i, x)`: the value joins the elements.
                    if let (true, Some(&pushed)) = (adds, fact.args.last()) {
                        let pushed = nodes[pushed.index()];
                        if pushed != NONE {
                            self.unify(element, pushed);
                        }
                    }
                    element
                }
                LibCall::TakeOut => first,
                // `KEY.with(|value| ..)`: the closure's parameter is the thread's value.
                LibCall::LocalKey { .. } => {
                    let closure = fact
                        .args
                        .first()
                        .and_then(|&arg| crate::graph::calls::closure_of(body, arg));
                    let file = program.function(owner).file;
                    if let (Some(receiver), Some(closure)) = (receiver, closure) {
                        let closure = program.function_id(file, closure);
                        if let Some(&param) = program.fact(closure).params.first() {
                            let param = self.node(Location::Local(body_id, param));
                            if receiver != NONE {
                                self.unify(param, receiver);
                            }
                        }
                    }
                    NONE
                }
                LibCall::Spawn(_)
                | LibCall::Forget
                | LibCall::Join
                | LibCall::Exit
                | LibCall::Unlock { .. }
                | LibCall::Done
                | LibCall::RunOnce => NONE,
            },
            // `Some(x)`, `Ok(x)`: the variant designates what it wraps.
            CallTarget::Unknown => match fact.wrapped_variant() {
                Some(inner) => nodes[inner.index()],
                None => NONE,
            },
        }
    }

    /// The class of a value, when it designates a known object.
    pub fn class_of(
        &self,
        program: &Program,
        function: FunctionId,
        value: ValueId,
    ) -> Option<ClassId> {
        let body = program.function(function).body;
        let node = *self.value_nodes.get(body.0 as usize)?.get(value.index())?;
        if node == NONE {
            None
        } else {
            Some(ClassId(self.find(node)))
        }
    }

    /// The class of a location, if it was ever mentioned.
    pub fn class_of_location(&self, location: &Location) -> Option<ClassId> {
        self.ids.get(location).map(|&node| ClassId(self.find(node)))
    }

    /// Every location of a class (for explanations and tests).
    pub fn locations_of(&self, class: ClassId) -> Vec<&Location> {
        (0..self.locations.len() as u32)
            .filter(|&node| self.find(node) == class.0)
            .map(|node| &self.locations[node as usize])
            .filter(|location| !matches!(location, Location::Alloc(BodyId(u32::MAX), _)))
            .collect()
    }

    /// The locations of each of some classes, in one pass over all locations.
    pub fn members_of(
        &self,
        classes: &rustc_hash::FxHashSet<ClassId>,
    ) -> HashMap<ClassId, Vec<&Location>> {
        let mut members: HashMap<ClassId, Vec<&Location>> = HashMap::default();
        for node in 0..self.locations.len() as u32 {
            let class = ClassId(self.find(node));
            if classes.contains(&class) {
                let location = &self.locations[node as usize];
                if !matches!(location, Location::Alloc(BodyId(u32::MAX), _)) {
                    members.entry(class).or_default().push(location);
                }
            }
        }
        members
    }

    /// The statics in a class.
    pub fn statics_of(&self, class: ClassId) -> &[StaticId] {
        self.statics.get(&class.0).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every value node of every body, with its class: the index from objects to the code that
    /// touches them.
    pub fn value_classes(&self, body: BodyId) -> impl Iterator<Item = (ValueId, ClassId)> + '_ {
        self.value_nodes[body.0 as usize]
            .iter()
            .enumerate()
            .filter(|(_, node)| **node != NONE)
            .map(|(index, node)| (ValueId::from_index(index), ClassId(self.find(*node))))
    }
}

fn visit_assignments(nodes: &[crate::model::facts::Node], f: &mut impl FnMut(ValueId, ValueId)) {
    use crate::model::facts::{Event, Node};
    for node in nodes {
        match node {
            Node::Event(Event::Assign { target, value, .. }) => f(*target, *value),
            Node::Branch(arms) => {
                for arm in arms {
                    visit_assignments(arm, f);
                }
            }
            Node::Loop(body) => visit_assignments(body, f),
            Node::Event(_) => {}
        }
    }
}
