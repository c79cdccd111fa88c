//! Who may designate which object: an inclusion-based (Andersen-style) points-to analysis over
//! abstract objects, field-sensitive per object, with the call graph built on the fly.
//!
//! Abstract objects are allocation sites (`make`, composite and struct literals, `new`,
//! `HashMap::new()`, `Arc::new(..)` of a lock), statics and package variables, function and
//! closure values, Go method values (`s.put`, bound to their receiver), the object an entry
//! function's parameter designates when its callers are not in the program (one per type), and
//! sub-objects: what a field of an object holds when no code of the program stored it there (a
//! struct field by value, a `Mutex` field, a field of a caller's object).
//!
//! Small functions that take or return objects are analysed once per call site (their locals,
//! values and allocations get a *context*: the last [`MAX_CONTEXT`] call sites), so that a
//! helper or a constructor called from two places does not merge its callers' objects. Larger
//! and recursive functions, and everything past [`INSTANCE_BUDGET`], share one context.
//!
//! Calls are resolved as objects reach them: a call through a function value, a closure, a
//! method value or a func-typed field goes to the functions the value may hold; a method call
//! on a receiver of unknown static type (a Go interface, a Rust `dyn Trait`) goes to the method
//! of that name of each object's type. The resolved calls are the call graph's dynamic edges.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::model::facts::{CallId, Callee, Event, FnKind, LocalId, Node, Sym, Value, ValueId};
use crate::model::modules::{FunctionId, ItemRef, Resolved, StaticId};
use crate::model::types::{LibTy, TyId, TyKind};
use crate::model::{BodyId, CallTarget, LibCall, MapOpKind, Program};
use crate::source::Language;

/// How many call sites a context keeps (the innermost ones).
pub const MAX_CONTEXT: usize = 2;
const HAS_LOADS: u8 = 1;
const HAS_STORES: u8 = 2;
const HAS_CALLS: u8 = 4;
/// A static's initializer of more values than this is taken for a data table and not
/// analysed.
const DATA_TABLE_VALUES: usize = 2000;
/// A points-to set this large gets a bit set for membership while solving.
const LARGE_SET: usize = 24;
/// A function is analysed per call site only when its arena has at most this many values.
const CLONE_MAX_VALUES: usize = 160;
/// A function called from more places than this is analysed once.
const CLONE_MAX_CALL_SITES: usize = 12;
/// Extra instances (function arenas analysed in a context) allowed per function of the
/// program, beyond which calls share the context-free instance.
const INSTANCE_BUDGET: usize = 3;

/// An abstract object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjId(pub u32);

/// A calling context: the innermost call sites of a chain, interned. [`Ctx::EMPTY`] is the
/// context-free instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ctx(pub u32);

impl Ctx {
    pub const EMPTY: Ctx = Ctx(0);
}

/// A call site: the function whose code makes the call, and the call in its owner's arena.
pub type CallSite = (FunctionId, CallId);

/// A field name, interned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldName(pub u32);

/// What an object's field slot is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FieldKey {
    Named(FieldName),
    /// What a container holds: map values, slice and vector elements, channel items.
    Element,
    /// The receiver a method value is bound to.
    Receiver,
}

/// Where an abstract object comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ObjKind {
    /// A value created at this place of an arena, in a context.
    Alloc {
        body: BodyId,
        value: ValueId,
        ctx: Ctx,
    },
    /// A static or a Go package variable.
    Static(StaticId),
    /// A function or closure value; a closure keeps the context of the code that created it.
    Func { function: FunctionId, ctx: Ctx },
    /// A Go method value (`s.put`), its receiver in the [`FieldKey::Receiver`] slot.
    Method {
        function: FunctionId,
        body: BodyId,
        value: ValueId,
        ctx: Ctx,
    },
    /// What a parameter of a function whose callers are outside the program designates: one
    /// object per type, shared by every such parameter of that type.
    Extern(TyId),
    /// What a field of an object holds when the program never stored anything there: a field
    /// by value, or a field of an object made outside the program.
    Sub { parent: ObjId, field: FieldKey },
    /// The nil map a map slot starts with: a field a struct literal or `new(T)` leaves out, a
    /// local declared without a value, a package variable without an initializer.
    Nil(NilOrigin),
    /// A map a function outside the program returns.
    Opaque {
        body: BodyId,
        value: ValueId,
        ctx: Ctx,
    },
}

/// Where a nil map comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NilOrigin {
    Field(ObjId, FieldKey),
    Local {
        body: BodyId,
        local: LocalId,
        ctx: Ctx,
    },
    Static(StaticId),
}

/// An abstract object and its type (references stripped; unknown for function values).
#[derive(Clone, Debug)]
pub struct Object {
    pub kind: ObjKind,
    pub ty: TyId,
}

type VarId = u32;
/// No variable: a value that cannot lead to an object (an integer, a string).
const NO_VAR: VarId = u32::MAX;

/// A function arena analysed in one context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Instance {
    body: BodyId,
    ctx: Ctx,
}

/// The variables of one instance, per value and per local ([`NO_VAR`] where the value cannot
/// lead to an object).
#[derive(Clone, Debug, Default)]
struct InstanceVars {
    values: Vec<VarId>,
    locals: Vec<VarId>,
}

/// A call whose targets depend on what a variable holds.
#[derive(Clone, Debug)]
struct DynamicCall {
    caller: FunctionId,
    instance: Instance,
    call: CallId,
    /// The arguments, receiver excluded.
    args: Vec<VarId>,
    /// The receiver, for method dispatch on the objects' types.
    receiver: Option<VarId>,
    /// The method name, for dispatch; `None` for a call through a function value.
    method: Option<Sym>,
    /// Where the call's value goes.
    result: VarId,
}

/// The result: what each value may designate, per context, and where each call may go.
#[derive(Debug, Default)]
pub struct PointsTo {
    objects: Vec<Object>,
    object_ids: HashMap<ObjKind, ObjId>,
    field_names: Vec<Sym>,
    field_name_ids: HashMap<Sym, FieldName>,
    contexts: Vec<Vec<CallSite>>,
    context_ids: HashMap<Vec<CallSite>, Ctx>,
    instances: HashMap<Instance, u32>,
    instance_vars: Vec<InstanceVars>,
    /// The contexts each arena was analysed in.
    body_contexts: HashMap<BodyId, Vec<Ctx>>,
    /// Per variable, the objects it may designate (sorted).
    pts: Vec<Vec<ObjId>>,
    /// Per variable, the variables that hold at least what it holds.
    succs: Vec<Vec<VarId>>,
    /// Per variable, whether it has loads, stores or calls ([`HAS_LOADS`]...).
    flags: Vec<u8>,
    edges: HashSet<(VarId, VarId)>,
    loads: HashMap<VarId, Vec<(FieldKey, VarId)>>,
    stores: HashMap<VarId, Vec<(FieldKey, VarId)>>,
    calls: HashMap<VarId, Vec<u32>>,
    fields: HashMap<(ObjId, FieldKey), VarId>,
    statics: HashMap<StaticId, VarId>,
    returns: HashMap<(FunctionId, Ctx), VarId>,
    dynamic_calls: Vec<DynamicCall>,
    /// Targets of every call, per instance of its arena: static calls and dynamic ones.
    targets: HashMap<(Instance, CallId), Vec<(FunctionId, Ctx)>>,
    /// Dynamic targets already bound, per dynamic call.
    bound: HashSet<(u32, FunctionId, Ctx, Option<ObjId>)>,
    /// Objects that reached a variable and are not yet propagated from it.
    worklist: Vec<(VarId, ObjId)>,
    /// Membership bits of the sets with at least [`LARGE_SET`] objects.
    large_sets: HashMap<VarId, Vec<u64>>,
    extra_instances: usize,
    instance_budget: usize,
    cloneable: Vec<bool>,
    functions_by_body: HashMap<BodyId, Vec<FunctionId>>,
    /// Functions whose callers are not all in the program: their parameters designate
    /// [`ObjKind::Extern`] objects too.
    entry: Vec<bool>,
    /// The function computing each static's initial value.
    static_inits: HashMap<StaticId, FunctionId>,
    last_instance: std::cell::Cell<(Option<Instance>, u32)>,
    /// Arenas some of whose calls went to the context-free instance past the budget.
    overflowed: HashSet<BodyId>,
    /// Calls whose targets are not known where they are made, with the variables they hand
    /// over: those that no function of the program answers hand their objects to code outside
    /// the program, which may fill them.
    handed_out: Vec<(Instance, CallId, Vec<VarId>)>,
}

/// The program-wide facts the generator reads.
struct Generator<'p> {
    program: &'p Program,
}

impl PointsTo {
    pub fn compute(program: &Program) -> PointsTo {
        // Per-call-site analysis is what tells apart the objects that different tasks use; a
        // unit that starts no task only needs the calls resolved.
        let spawns = program.bodies.iter().any(|info| {
            info.types
                .call_target
                .iter()
                .any(|target| matches!(target, CallTarget::Lib(LibCall::Spawn(_))))
        });
        let mut pts = PointsTo {
            contexts: vec![Vec::new()],
            instance_budget: INSTANCE_BUDGET * program.functions.len() + 64,
            ..PointsTo::default()
        };
        pts.context_ids.insert(Vec::new(), Ctx::EMPTY);
        for id in program.function_ids() {
            pts.functions_by_body
                .entry(program.function(id).body)
                .or_default()
                .push(id);
        }
        let generator = Generator { program };
        pts.cloneable = cloneable_functions(program);
        if !spawns {
            // Only helpers that call the functions they are handed: their calls go to what
            // each caller hands them.
            for id in program.function_ids() {
                pts.cloneable[id.index()] &= program.fact(id).params.iter().any(|&param| {
                    matches!(
                        program.body(id).local(param).ty,
                        Some(crate::model::facts::TypeExpr::FnPointer)
                    )
                });
            }
        }
        // Statics are registered file by file in declaration order.
        let mut next_static = 0u32;
        for (file, data) in program.files.iter().enumerate() {
            for item in &data.facts.statics {
                if let Some(init) = item.init {
                    pts.static_inits.insert(
                        StaticId(next_static),
                        program.function_id(file as u32, init),
                    );
                }
                next_static += 1;
            }
        }
        pts.entry = entry_functions(program);
        // Every arena once without context: entry points, recursive and large functions, and
        // the code that calls the cloned ones.
        // (A function analysed per call site gets the context-free instance only if it turns
        // out to be called from outside, or past the budget.)
        for id in program.function_ids() {
            // A package variable's initializer this large is a data table (`var opcodeTable =
            // [...]opInfo{..}`): its value stays the variable's own object.
            if program.fact(id).kind == FnKind::StaticInit
                && program.body(id).values.len() > DATA_TABLE_VALUES
            {
                continue;
            }
            if program.function(id).owner == id
                && (!pts.cloneable[id.index()] || pts.entry[id.index()])
            {
                pts.instance(
                    &generator,
                    Instance {
                        body: program.function(id).body,
                        ctx: Ctx::EMPTY,
                    },
                );
            }
        }
        pts.solve(&generator);
        // What exported functions return reaches callers outside the program, who can hand it
        // back to any entry function taking its type: a server that `NewServer` returns is the
        // receiver of its exported methods.
        for _ in 0..2 {
            if !pts.hand_back_returned_objects(&generator) {
                break;
            }
            pts.solve(&generator);
        }
        // Functions no code of the program turned out to call (not even through a value or an
        // interface) are called from outside: their parameters get outside objects too.
        loop {
            let called: HashSet<FunctionId> = pts
                .targets
                .values()
                .flatten()
                .map(|&(function, _)| function)
                .collect();
            let uncalled: Vec<FunctionId> = program
                .function_ids()
                .filter(|&id| {
                    let fact = program.fact(id);
                    !pts.entry[id.index()]
                        && program.function(id).owner == id
                        && fact.kind != FnKind::StaticInit
                        && !(program.language == Language::Go && &*fact.name == "main")
                        && !called.contains(&id)
                })
                .collect();
            if uncalled.is_empty() {
                break;
            }
            for function in uncalled {
                pts.entry[function.index()] = true;
                pts.ensure_instance(&generator, function, Ctx::EMPTY);
                generator.seed_entry(&mut pts, function);
            }
            pts.solve(&generator);
        }
        pts.finish();
        pts
    }

    /// The objects a value of a function's arena may designate, in every context.
    pub fn pts(&self, program: &Program, function: FunctionId, value: ValueId) -> Vec<ObjId> {
        let body = program.function(function).body;
        let mut out: Vec<ObjId> = Vec::new();
        for &ctx in self.contexts_of(body) {
            out.extend_from_slice(self.pts_in(body, ctx, value));
        }
        out.sort();
        out.dedup();
        out
    }

    fn var_pts(&self, var: VarId) -> &[ObjId] {
        if var == NO_VAR {
            &[]
        } else {
            &self.pts[var as usize]
        }
    }

    /// The objects a value may designate in one context of its arena.
    pub fn pts_in(&self, body: BodyId, ctx: Ctx, value: ValueId) -> &[ObjId] {
        match self.instances.get(&Instance { body, ctx }) {
            Some(&index) => self.var_pts(
                self.instance_vars[index as usize]
                    .values
                    .get(value.index())
                    .copied()
                    .unwrap_or(NO_VAR),
            ),
            None => &[],
        }
    }

    /// The objects a local may designate in one context of its arena.
    pub fn local_pts_in(&self, body: BodyId, ctx: Ctx, local: LocalId) -> &[ObjId] {
        match self.instances.get(&Instance { body, ctx }) {
            Some(&index) => self.var_pts(
                self.instance_vars[index as usize]
                    .locals
                    .get(local.index())
                    .copied()
                    .unwrap_or(NO_VAR),
            ),
            None => &[],
        }
    }

    /// The contexts an arena was analysed in.
    pub fn contexts_of(&self, body: BodyId) -> &[Ctx] {
        self.body_contexts
            .get(&body)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The arena was analysed per call site for some calls.
    pub fn has_contexts(&self, body: BodyId) -> bool {
        self.contexts_of(body).iter().any(|&ctx| ctx != Ctx::EMPTY)
    }

    /// Some calls of a function of the arena, which is analysed per call site, went to its
    /// context-free instance (past [`INSTANCE_BUDGET`]).
    pub fn overflowed(&self, body: BodyId) -> bool {
        self.overflowed.contains(&body)
    }

    /// The call sites of a context, innermost last.
    pub fn context(&self, ctx: Ctx) -> &[CallSite] {
        &self.contexts[ctx.0 as usize]
    }

    /// Where a call may go in one context of the caller's arena (static and dynamic targets).
    pub fn targets_in(&self, body: BodyId, ctx: Ctx, call: CallId) -> &[(FunctionId, Ctx)] {
        self.targets
            .get(&(Instance { body, ctx }, call))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Where a call may go, in any context.
    pub fn targets(
        &self,
        program: &Program,
        function: FunctionId,
        call: CallId,
    ) -> Vec<FunctionId> {
        let body = program.function(function).body;
        let mut out: Vec<FunctionId> = self
            .contexts_of(body)
            .iter()
            .flat_map(|&ctx| self.targets_in(body, ctx, call).iter().map(|(f, _)| *f))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    pub fn object(&self, id: ObjId) -> &Object {
        &self.objects[id.0 as usize]
    }

    pub fn object_count(&self) -> usize {
        self.objects.len()
    }

    /// Sizes, for the benchmark and for tuning: variables, copy edges, instances, objects,
    /// and the sum of all points-to set sizes.
    pub fn statistics(&self) -> [usize; 5] {
        [
            self.pts.len(),
            self.succs.iter().map(Vec::len).sum(),
            self.instance_vars.len(),
            self.objects.len(),
            self.pts.iter().map(Vec::len).sum(),
        ]
    }

    /// Adds what the entry functions return to the parameters of their type of every entry
    /// function; true when something was added.
    fn hand_back_returned_objects(&mut self, generator: &Generator<'_>) -> bool {
        let program = generator.program;
        let mut returned: HashMap<TyId, Vec<ObjId>> = HashMap::default();
        for id in program.function_ids() {
            if !self.entry[id.index()] {
                continue;
            }
            let Some(&var) = self.returns.get(&(id, Ctx::EMPTY)) else {
                continue;
            };
            for &object in &self.pts[var as usize] {
                let data = self.object(object);
                if matches!(data.kind, ObjKind::Alloc { .. }) && !data.ty.is_unknown() {
                    returned.entry(data.ty).or_default().push(object);
                }
            }
        }
        if returned.is_empty() {
            return false;
        }
        let mut added = false;
        for id in program.function_ids() {
            if !self.entry[id.index()] {
                continue;
            }
            let instance = Instance {
                body: program.function(id).body,
                ctx: Ctx::EMPTY,
            };
            if !self.instances.contains_key(&instance) {
                continue;
            }
            let types = program.body_types(id);
            for &param in &program.fact(id).params {
                let ty = program
                    .types
                    .strip_refs(program.types.pointee(types.local_ty[param.index()]));
                let Some(objects) = returned.get(&ty) else {
                    continue;
                };
                let var = self.local_var(instance, param);
                if var == NO_VAR {
                    continue;
                }
                for &object in objects {
                    if !self.pts[var as usize].contains(&object) {
                        self.add_object(var, object);
                        added = true;
                    }
                }
            }
        }
        added
    }

    /// The interned name of a field, if any object has a field of that name.
    pub fn field_name(&self, name: &str) -> Option<FieldName> {
        self.field_name_ids.get(name).copied()
    }

    /// The text of an interned field name.
    pub fn field_text(&self, name: FieldName) -> &str {
        &self.field_names[name.0 as usize]
    }

    /// What a field of an object may hold.
    pub fn field_pts(&self, object: ObjId, field: FieldKey) -> &[ObjId] {
        self.fields
            .get(&(object, field))
            .map(|&var| self.var_pts(var))
            .unwrap_or(&[])
    }

    /// Every field slot of every object, with what it may hold.
    pub fn field_slots(&self) -> impl Iterator<Item = (ObjId, FieldKey, &[ObjId])> + '_ {
        self.fields
            .iter()
            .map(|(&(object, field), &var)| (object, field, self.var_pts(var)))
    }

    /// What a static holds.
    pub fn static_pts(&self, id: StaticId) -> &[ObjId] {
        self.statics
            .get(&id)
            .map(|&var| self.var_pts(var))
            .unwrap_or(&[])
    }

    /// What every static holds.
    pub fn all_static_pts(&self) -> impl Iterator<Item = ObjId> + '_ {
        self.statics
            .values()
            .flat_map(|&var| self.var_pts(var).iter().copied())
    }

    /// A nil map: no code stores a map where it starts.
    pub fn is_nil(&self, object: ObjId) -> bool {
        matches!(self.object(object).kind, ObjKind::Nil(_))
    }

    /// Objects handed to code outside the program, and what they reach: that code may store
    /// anything in them.
    pub fn handed_out_objects(&self) -> HashSet<ObjId> {
        let mut fields: HashMap<ObjId, Vec<ObjId>> = HashMap::default();
        for (&(object, _), &var) in &self.fields {
            fields
                .entry(object)
                .or_default()
                .extend_from_slice(self.var_pts(var));
        }
        let mut seen: HashSet<ObjId> = HashSet::default();
        let mut pending: Vec<ObjId> = self
            .handed_out
            .iter()
            .filter(|(instance, call, _)| !self.targets.contains_key(&(*instance, *call)))
            .flat_map(|(_, _, vars)| vars.iter())
            .flat_map(|&var| self.var_pts(var).iter().copied())
            .collect();
        while let Some(object) = pending.pop() {
            if seen.insert(object) {
                pending.extend(fields.get(&object).into_iter().flatten().copied());
            }
        }
        seen
    }

    /// The object a sub-object hangs from, up to the outermost.
    pub fn root_object(&self, mut id: ObjId) -> ObjId {
        while let ObjKind::Sub { parent, .. } = &self.object(id).kind {
            id = *parent;
        }
        id
    }

    // ----- building -----

    fn intern_field(&mut self, name: &Sym) -> FieldKey {
        if let Some(&id) = self.field_name_ids.get(name) {
            return FieldKey::Named(id);
        }
        let id = FieldName(self.field_names.len() as u32);
        self.field_names.push(name.clone());
        self.field_name_ids.insert(name.clone(), id);
        FieldKey::Named(id)
    }

    fn intern_object(&mut self, kind: ObjKind, ty: TyId) -> ObjId {
        if let Some(&id) = self.object_ids.get(&kind) {
            return id;
        }
        let id = ObjId(self.objects.len() as u32);
        self.objects.push(Object {
            kind: kind.clone(),
            ty,
        });
        self.object_ids.insert(kind, id);
        id
    }

    fn new_var(&mut self) -> VarId {
        self.pts.push(Vec::new());
        self.succs.push(Vec::new());
        self.flags.push(0);
        (self.pts.len() - 1) as VarId
    }

    fn push_context(&mut self, ctx: Ctx, site: CallSite) -> Ctx {
        let mut sites = self.contexts[ctx.0 as usize].clone();
        sites.push(site);
        if sites.len() > MAX_CONTEXT {
            sites.remove(0);
        }
        if let Some(&id) = self.context_ids.get(&sites) {
            return id;
        }
        let id = Ctx(self.contexts.len() as u32);
        self.contexts.push(sites.clone());
        self.context_ids.insert(sites, id);
        id
    }

    /// The index of an instance's variables; the generator asks for one instance many times
    /// in a row, so the last answer is kept.
    fn instance_index(&self, instance: Instance) -> usize {
        let (last, index) = self.last_instance.get();
        if last == Some(instance) {
            return index as usize;
        }
        let index = self.instances[&instance];
        self.last_instance.set((Some(instance), index));
        index as usize
    }

    fn value_var(&self, instance: Instance, value: ValueId) -> VarId {
        self.instance_vars[self.instance_index(instance)].values[value.index()]
    }

    fn local_var(&self, instance: Instance, local: LocalId) -> VarId {
        self.instance_vars[self.instance_index(instance)]
            .locals
            .get(local.index())
            .copied()
            .unwrap_or(NO_VAR)
    }

    fn return_var(&mut self, function: FunctionId, ctx: Ctx) -> VarId {
        if let Some(&var) = self.returns.get(&(function, ctx)) {
            return var;
        }
        let var = self.new_var();
        self.returns.insert((function, ctx), var);
        var
    }

    fn static_var(&mut self, generator: &Generator<'_>, id: StaticId) -> VarId {
        if let Some(&var) = self.statics.get(&id) {
            return var;
        }
        let var = self.new_var();
        self.statics.insert(id, var);
        let ty = generator
            .program
            .types
            .strip_refs(generator.program.static_item(id).ty);
        let is_map = generator.program.types.map(ty).is_some();
        let object = if is_map && !self.static_inits.contains_key(&id) {
            // A map variable without an initializer is nil until some code makes it.
            self.intern_object(ObjKind::Nil(NilOrigin::Static(id)), ty)
        } else {
            self.intern_object(ObjKind::Static(id), ty)
        };
        self.add_object(var, object);
        if let Some(&init) = self.static_inits.get(&id) {
            let ret = self.return_var(init, Ctx::EMPTY);
            self.copy(ret, var);
        }
        var
    }

    /// The variable of an object's field; a field no code stores to, of an object whose
    /// contents the program did not make (or a field held by value), starts with a
    /// sub-object of its own.
    fn field_var(&mut self, generator: &Generator<'_>, object: ObjId, field: FieldKey) -> VarId {
        if let Some(&var) = self.fields.get(&(object, field)) {
            return var;
        }
        let var = self.new_var();
        self.fields.insert((object, field), var);
        if let Some(ty) = self.sub_object_type(generator, object, field) {
            if self.sub_depth(object) < 4 {
                let sub = self.intern_object(
                    ObjKind::Sub {
                        parent: object,
                        field,
                    },
                    ty,
                );
                self.add_object(var, sub);
            }
        }
        var
    }

    fn sub_depth(&self, mut id: ObjId) -> u32 {
        let mut depth = 0;
        while let ObjKind::Sub { parent, .. } = &self.object(id).kind {
            id = *parent;
            depth += 1;
        }
        depth
    }

    /// The type of the sub-object a field starts with, if it has one (see [`Self::field_var`]).
    fn sub_object_type(
        &self,
        generator: &Generator<'_>,
        object: ObjId,
        field: FieldKey,
    ) -> Option<TyId> {
        let program = generator.program;
        let types = &program.types;
        let object_data = self.object(object);
        let made_outside = self.made_outside(object);
        let field_ty = match field {
            FieldKey::Named(name) => {
                let name = &self.field_names[name.0 as usize];
                let adt = types.adt(object_data.ty)?;
                let owner = program.field_owner(adt, name).unwrap_or(adt);
                program.adt_field(owner, name)?
            }
            FieldKey::Element => types
                .container_values(object_data.ty)
                .or_else(|| match types.kind(types.autoderef(object_data.ty)) {
                    TyKind::Slice(element) => Some(*element),
                    _ => None,
                })?,
            FieldKey::Receiver => return None,
        };
        let by_value = holds_by_value(program, field_ty);
        if by_value || (made_outside && holds_object(program, field_ty)) {
            Some(types.strip_refs(types.pointee(field_ty)))
        } else {
            None
        }
    }

    /// The object (or the object it hangs from) was made outside the program's code.
    fn made_outside(&self, id: ObjId) -> bool {
        matches!(
            self.object(self.root_object(id)).kind,
            ObjKind::Extern(_) | ObjKind::Static(_)
        )
    }

    fn add_object(&mut self, var: VarId, object: ObjId) {
        if var == NO_VAR {
            return;
        }
        // While solving, a set is kept in the order objects arrived; small sets are scanned,
        // large ones get a bit set for membership. They are sorted once solving is done.
        let set = &mut self.pts[var as usize];
        if set.len() < LARGE_SET {
            if set.contains(&object) {
                return;
            }
            set.push(object);
            if set.len() == LARGE_SET {
                let mut bits = Vec::new();
                for &member in set.iter() {
                    set_bit(&mut bits, member);
                }
                self.large_sets.insert(var, bits);
            }
        } else {
            let bits = self.large_sets.get_mut(&var).expect("a large set has bits");
            if !set_bit(bits, object) {
                return;
            }
            set.push(object);
        }
        self.worklist.push((var, object));
    }

    /// `to ⊇ from`.
    fn copy(&mut self, from: VarId, to: VarId) {
        if from == to || from == NO_VAR || to == NO_VAR {
            return;
        }
        // Small successor lists are scanned; long ones get their edges in a set.
        let succs = &self.succs[from as usize];
        if succs.len() < LARGE_SET {
            if succs.contains(&to) {
                return;
            }
            if succs.len() + 1 == LARGE_SET {
                for &succ in succs.iter() {
                    self.edges.insert((from, succ));
                }
                self.edges.insert((from, to));
            }
        } else if !self.edges.insert((from, to)) {
            return;
        }
        self.succs[from as usize].push(to);
        for index in 0..self.pts[from as usize].len() {
            let object = self.pts[from as usize][index];
            self.add_object(to, object);
        }
    }

    /// `to ⊇ from.field` for every object `from` designates.
    fn load(&mut self, generator: &Generator<'_>, from: VarId, field: FieldKey, to: VarId) {
        if from == NO_VAR || to == NO_VAR {
            return;
        }
        let list = self.loads.entry(from).or_default();
        if list.contains(&(field, to)) {
            return;
        }
        list.push((field, to));
        self.flags[from as usize] |= HAS_LOADS;
        for index in 0..self.pts[from as usize].len() {
            let object = self.pts[from as usize][index];
            let source = self.field_var(generator, object, field);
            self.copy(source, to);
        }
    }

    /// `to.field ⊇ from` for every object `to` designates.
    fn store(&mut self, generator: &Generator<'_>, from: VarId, to: VarId, field: FieldKey) {
        if from == NO_VAR || to == NO_VAR {
            return;
        }
        let list = self.stores.entry(to).or_default();
        if list.contains(&(field, from)) {
            return;
        }
        list.push((field, from));
        self.flags[to as usize] |= HAS_STORES;
        for index in 0..self.pts[to as usize].len() {
            let object = self.pts[to as usize][index];
            let target = self.field_var(generator, object, field);
            self.copy(from, target);
        }
    }

    fn solve(&mut self, generator: &Generator<'_>) {
        self.propagate(generator);
    }

    /// Once solving is done: sets sorted for readers, the membership bits dropped.
    fn finish(&mut self) {
        for set in &mut self.pts {
            set.sort_unstable();
        }
        self.large_sets = HashMap::default();
    }

    fn propagate(&mut self, generator: &Generator<'_>) {
        while let Some((var, object)) = self.worklist.pop() {
            let flags = self.flags[var as usize];
            if flags & HAS_LOADS != 0 {
                let loads = self.loads[&var].clone();
                for (field, to) in loads {
                    let source = self.field_var(generator, object, field);
                    self.copy(source, to);
                }
            }
            if flags & HAS_STORES != 0 {
                let stores = self.stores[&var].clone();
                for (field, from) in stores {
                    let target = self.field_var(generator, object, field);
                    self.copy(from, target);
                }
            }
            if flags & HAS_CALLS != 0 {
                let calls = self.calls[&var].clone();
                for call in calls {
                    self.dispatch(generator, call, var, object);
                }
            }
            for index in 0..self.succs[var as usize].len() {
                let succ = self.succs[var as usize][index];
                self.add_object(succ, object);
            }
        }
    }

    /// An object reached the callee or receiver variable of a dynamic call.
    fn dispatch(&mut self, generator: &Generator<'_>, call: u32, var: VarId, object: ObjId) {
        let program = generator.program;
        let data = self.dynamic_calls[call as usize].clone();
        let through_receiver = data.receiver == Some(var);
        if through_receiver {
            let Some(method) = data.method.clone() else {
                return;
            };
            // A method of the object's type, called with the object as its receiver.
            let ty = self.object(object).ty;
            if let Some(function) = method_of(program, ty, &method) {
                self.bind_dynamic(generator, call, function, None, Some(object), &data);
                return;
            }
            // A func-typed field called like a method (`s.hook(x)`): a call through the
            // value the field holds.
            if program.language == Language::Go {
                let key = self.intern_field(&method);
                let field = self.field_var(generator, object, key);
                let through = self.dynamic_calls.len() as u32;
                self.dynamic_calls.push(DynamicCall {
                    receiver: None,
                    method: None,
                    ..data
                });
                self.calls.entry(field).or_default().push(through);
                self.flags[field as usize] |= HAS_CALLS;
                for index in 0..self.pts[field as usize].len() {
                    let held = self.pts[field as usize][index];
                    self.dispatch(generator, through, field, held);
                }
            }
            return;
        }
        match self.object(object).kind.clone() {
            ObjKind::Func { function, ctx } => {
                let is_closure = program.fact(function).kind.parent().is_some();
                let target_ctx = if is_closure { Some(ctx) } else { None };
                self.bind_dynamic(generator, call, function, target_ctx, None, &data);
            }
            ObjKind::Method { function, .. } => {
                let receiver = self.field_var(generator, object, FieldKey::Receiver);
                let target = self.callee_context(
                    program,
                    function,
                    data.instance.ctx,
                    (data.caller, data.call),
                );
                if !self.bound.insert((call, function, target, Some(object))) {
                    return;
                }
                self.ensure_instance(generator, function, target);
                let params = program.fact(function).params.clone();
                let callee_instance = Instance {
                    body: program.function(function).body,
                    ctx: target,
                };
                if let Some(&first) = params.first() {
                    let param = self.local_var(callee_instance, first);
                    self.copy(receiver, param);
                }
                for (param, &arg) in params.iter().skip(1).zip(&data.args) {
                    let param = self.local_var(callee_instance, *param);
                    self.copy(arg, param);
                }
                let ret = self.return_var(function, target);
                self.copy(ret, data.result);
                self.record_target(data.instance, data.call, function, target);
            }
            _ => {}
        }
    }

    /// Binds a dynamic call to one target: `closure_ctx` for a closure (it runs in the
    /// context that made it), `receiver` for a method dispatched on one object.
    fn bind_dynamic(
        &mut self,
        generator: &Generator<'_>,
        call: u32,
        function: FunctionId,
        closure_ctx: Option<Ctx>,
        receiver: Option<ObjId>,
        data: &DynamicCall,
    ) {
        let program = generator.program;
        let target = match closure_ctx {
            Some(ctx) => ctx,
            None => self.callee_context(
                program,
                function,
                data.instance.ctx,
                (data.caller, data.call),
            ),
        };
        if !self.bound.insert((call, function, target, receiver)) {
            return;
        }
        self.ensure_instance(generator, function, target);
        let callee_instance = Instance {
            body: program.function(function).body,
            ctx: target,
        };
        let params = program.fact(function).params.clone();
        let mut params = params.iter();
        if let Some(receiver) = receiver {
            if let Some(&first) = params.next() {
                let param = self.local_var(callee_instance, first);
                self.add_object(param, receiver);
            }
        }
        for (param, &arg) in params.zip(&data.args) {
            let param = self.local_var(callee_instance, *param);
            self.copy(arg, param);
        }
        let ret = self.return_var(function, target);
        self.copy(ret, data.result);
        self.record_target(data.instance, data.call, function, target);
    }

    fn record_target(&mut self, instance: Instance, call: CallId, function: FunctionId, ctx: Ctx) {
        let entry = self.targets.entry((instance, call)).or_default();
        if !entry.contains(&(function, ctx)) {
            entry.push((function, ctx));
        }
    }

    /// The context a call from `caller_ctx` at `site` runs `callee` in.
    fn callee_context(
        &mut self,
        program: &Program,
        callee: FunctionId,
        caller_ctx: Ctx,
        site: CallSite,
    ) -> Ctx {
        // A closure called by the code of its own arena (`func() {..}()`, `fail()`) runs in
        // the caller's instance of that arena.
        if program.function(callee).body == program.function(site.0).body {
            return caller_ctx;
        }
        if !self.cloneable[callee.index()] {
            return Ctx::EMPTY;
        }
        let ctx = self.push_context(caller_ctx, site);
        let instance = Instance {
            body: program.function(callee).body,
            ctx,
        };
        if self.extra_instances >= self.instance_budget && !self.instances.contains_key(&instance) {
            return Ctx::EMPTY;
        }
        ctx
    }

    fn ensure_instance(&mut self, generator: &Generator<'_>, function: FunctionId, ctx: Ctx) {
        let body = generator.program.function(function).body;
        let instance = Instance { body, ctx };
        if self.instances.contains_key(&instance) {
            return;
        }
        if ctx != Ctx::EMPTY {
            self.extra_instances += 1;
        }
        self.instance(generator, instance);
    }

    /// Creates an instance's variables and the constraints of its arena.
    fn instance(&mut self, generator: &Generator<'_>, instance: Instance) {
        if self.instances.contains_key(&instance) {
            return;
        }
        let program = generator.program;
        let owner = self.functions_by_body[&instance.body]
            .iter()
            .copied()
            .find(|&f| program.function(f).owner == f)
            .expect("an arena has an owner");
        let body = program.body(owner);
        let types = program.body_types(owner);
        let mut vars = InstanceVars::default();
        for index in 0..body.locals.len() {
            let relevant = may_hold_object(program, types.local_ty[index]);
            vars.locals
                .push(if relevant { self.new_var() } else { NO_VAR });
        }
        // A value that only passes another one on (a local read, `&x`, `*p`, `x?`, a cast)
        // shares that one's variable: far fewer variables and edges than a copy each.
        for index in 0..body.values.len() {
            let shared = match &body.values[index] {
                Value::Local(local) => Some(vars.locals[local.index()]),
                Value::Deref(inner)
                | Value::Ref { inner, .. }
                | Value::RawRef { inner, .. }
                | Value::Cast { inner, .. }
                | Value::Try(inner)
                | Value::Await(inner)
                | Value::Payload { of: inner, .. }
                    if inner.index() < index =>
                {
                    Some(vars.values[inner.index()])
                }
                _ => None,
            };
            let var = match shared {
                Some(var) => var,
                None => {
                    let relevant = may_hold_object(program, types.value_ty[index])
                        || matches!(body.values[index], Value::Closure(_) | Value::Path(_));
                    if relevant { self.new_var() } else { NO_VAR }
                }
            };
            vars.values.push(var);
        }
        self.instances
            .insert(instance, self.instance_vars.len() as u32);
        self.instance_vars.push(vars);
        self.body_contexts
            .entry(instance.body)
            .or_default()
            .push(instance.ctx);
        generator.generate(self, owner, instance);
    }
}

impl Generator<'_> {
    /// The constraints of one instance of an arena.
    fn generate(&self, pts: &mut PointsTo, owner: FunctionId, instance: Instance) {
        let program = self.program;
        let body = program.body(owner);
        let types = program.body_types(owner);
        let file = program.function(owner).file;
        let value_var = |pts: &PointsTo, value: ValueId| pts.value_var(instance, value);
        for (index, value) in body.values.iter().enumerate() {
            let value_id = ValueId::from_index(index);
            let var = value_var(pts, value_id);
            match value {
                Value::Local(local) => {
                    let local = pts.local_var(instance, *local);
                    if local != var {
                        pts.copy(local, var);
                    }
                }
                Value::Path(path) => {
                    let module = program.function(owner).module;
                    match program
                        .tree
                        .resolve(module, &path.segments, path.leading_colon)
                    {
                        Some(Resolved::Item(ItemRef::Static(id), extra)) if extra.is_empty() => {
                            let source = pts.static_var(self, id);
                            pts.copy(source, var);
                        }
                        Some(Resolved::Item(ItemRef::Function(function), extra))
                            if extra.is_empty() =>
                        {
                            let object = pts.intern_object(
                                ObjKind::Func {
                                    function,
                                    ctx: Ctx::EMPTY,
                                },
                                TyId::UNKNOWN,
                            );
                            pts.add_object(var, object);
                        }
                        _ => {}
                    }
                }
                Value::Field { base, name } => {
                    let base_ty = types.value_ty[base.index()];
                    // A Go method value: `s.put` bound to `s`.
                    if program.language == Language::Go
                        && is_go_method_value(program, base_ty, name)
                    {
                        if let Some(function) = program.go_method(base_ty, name) {
                            let object = pts.intern_object(
                                ObjKind::Method {
                                    function,
                                    body: instance.body,
                                    value: value_id,
                                    ctx: instance.ctx,
                                },
                                TyId::UNKNOWN,
                            );
                            pts.add_object(var, object);
                            let receiver = pts.field_var(self, object, FieldKey::Receiver);
                            let base_var = value_var(pts, *base);
                            pts.copy(base_var, receiver);
                        }
                        continue;
                    }
                    let base_var = value_var(pts, *base);
                    // Several results of one Go call (`a, err := f()`), or a tuple: by
                    // position; Go's results are merged, a Rust tuple value keeps them apart.
                    if matches!(program.types.kind(base_ty), TyKind::Tuple(_))
                        && program.language == Language::Go
                    {
                        pts.copy(base_var, var);
                        continue;
                    }
                    let path = field_path(program, base_ty, name);
                    self.load_path(pts, base_var, &path, var);
                }
                Value::Index { base } | Value::Element(base) => {
                    let base_var = value_var(pts, *base);
                    pts.load(self, base_var, FieldKey::Element, var);
                }
                Value::Deref(inner)
                | Value::Ref { inner, .. }
                | Value::RawRef { inner, .. }
                | Value::Cast { inner, .. }
                | Value::Try(inner)
                | Value::Await(inner)
                | Value::Payload { of: inner, .. } => {
                    let inner = value_var(pts, *inner);
                    if inner != var {
                        pts.copy(inner, var);
                    }
                }
                Value::Call(call) => self.call(pts, owner, instance, *call, value_id),
                Value::Struct { fields, rest, .. } => {
                    let ty = program.types.strip_refs(types.value_ty[index]);
                    let object = pts.intern_object(
                        ObjKind::Alloc {
                            body: instance.body,
                            value: value_id,
                            ctx: instance.ctx,
                        },
                        ty,
                    );
                    pts.add_object(var, object);
                    let adt = program.types.adt(ty);
                    let mut set: Vec<Sym> = Vec::new();
                    for (name, field_value) in fields {
                        let name = match (adt, name.parse::<usize>()) {
                            (Some(adt), Ok(position)) if program.language == Language::Go => {
                                program
                                    .adt(adt)
                                    .fields
                                    .get(position)
                                    .map(|(field, _)| field.clone())
                                    .unwrap_or_else(|| name.clone())
                            }
                            _ => name.clone(),
                        };
                        set.push(name.clone());
                        let source = value_var(pts, *field_value);
                        let key = pts.intern_field(&name);
                        let slot = pts.field_var(self, object, key);
                        pts.copy(source, slot);
                    }
                    // Go: the map fields a literal leaves out are nil.
                    if let (None, Some(adt), Language::Go) = (rest, adt, program.language) {
                        let positional =
                            fields.iter().any(|(name, _)| name.parse::<usize>().is_ok());
                        if !positional {
                            self.nil_map_fields(pts, object, adt, &set);
                        }
                    }
                    // `S { a, ..base }`: the other fields come from `base`.
                    if let (Some(rest), Some(adt)) = (rest, adt) {
                        let rest = value_var(pts, *rest);
                        for (name, _) in &program.adt(adt).fields {
                            if !set.contains(name) {
                                let key = pts.intern_field(name);
                                let slot = pts.field_var(self, object, key);
                                pts.load(self, rest, key, slot);
                            }
                        }
                    }
                }
                Value::Tuple(elements) => {
                    let object = pts.intern_object(
                        ObjKind::Alloc {
                            body: instance.body,
                            value: value_id,
                            ctx: instance.ctx,
                        },
                        TyId::UNKNOWN,
                    );
                    pts.add_object(var, object);
                    for (position, element) in elements.iter().enumerate() {
                        let source = value_var(pts, *element);
                        let key = pts.intern_field(&position.to_string().into_boxed_str());
                        let slot = pts.field_var(self, object, key);
                        pts.copy(source, slot);
                    }
                }
                Value::Array(elements) => {
                    let ty = program.types.strip_refs(types.value_ty[index]);
                    let object = pts.intern_object(
                        ObjKind::Alloc {
                            body: instance.body,
                            value: value_id,
                            ctx: instance.ctx,
                        },
                        ty,
                    );
                    pts.add_object(var, object);
                    let slot = pts.field_var(self, object, FieldKey::Element);
                    for element in elements {
                        let source = value_var(pts, *element);
                        pts.copy(source, slot);
                    }
                }
                Value::Closure(closure) => {
                    let function = program.function_id(file, *closure);
                    let object = pts.intern_object(
                        ObjKind::Func {
                            function,
                            ctx: instance.ctx,
                        },
                        TyId::UNKNOWN,
                    );
                    pts.add_object(var, object);
                }
                Value::Either(values) => {
                    for value in values {
                        let source = value_var(pts, *value);
                        pts.copy(source, var);
                    }
                }
                Value::Unknown | Value::Literal | Value::Macro { .. } => {}
            }
        }
        // `let x = init;`, and what the callers outside the program hand an entry function.
        for (index, local) in body.locals.iter().enumerate() {
            let local_id = LocalId::from_index(index);
            if let Some(init) = local.init {
                let source = value_var(pts, init);
                let target = pts.local_var(instance, local_id);
                pts.copy(source, target);
            } else if program.language == Language::Go
                && local.origin == crate::model::facts::LocalOrigin::Let
                && program.types.map(types.local_ty[index]).is_some()
            {
                // `var m map[K]V`, a named result: nil until assigned.
                let object = pts.intern_object(
                    ObjKind::Nil(NilOrigin::Local {
                        body: instance.body,
                        local: local_id,
                        ctx: instance.ctx,
                    }),
                    program.types.strip_refs(types.local_ty[index]),
                );
                let target = pts.local_var(instance, local_id);
                pts.add_object(target, object);
            }
        }
        for &function in &pts.functions_by_body[&instance.body].clone() {
            if instance.ctx == Ctx::EMPTY && pts.entry[function.index()] {
                self.seed_entry(pts, function);
            }
            // Assignments, and what the function returns.
            let fact = program.fact(function);
            let mut assignments = Vec::new();
            collect_assignments(&fact.nodes, &mut assignments);
            for (target, value) in assignments {
                let source = value_var(pts, value);
                self.assign(pts, owner, instance, target, source);
            }
            if !fact.returns.is_empty() {
                let ret = pts.return_var(function, instance.ctx);
                for &value in &fact.returns {
                    let source = value_var(pts, value);
                    pts.copy(source, ret);
                }
            }
        }
    }

    /// What callers outside the program hand a function: an object per type for each of its
    /// parameters that can lead to one.
    fn seed_entry(&self, pts: &mut PointsTo, function: FunctionId) {
        let program = self.program;
        let types = program.body_types(function);
        let instance = Instance {
            body: program.function(function).body,
            ctx: Ctx::EMPTY,
        };
        for &param in &program.fact(function).params {
            let ty = program
                .types
                .strip_refs(program.types.pointee(types.local_ty[param.index()]));
            if holds_object(program, types.local_ty[param.index()]) && !ty.is_unknown() {
                let object = pts.intern_object(ObjKind::Extern(ty), ty);
                let target = pts.local_var(instance, param);
                pts.add_object(target, object);
            }
        }
    }

    /// `to ⊇ from.f1.f2…`.
    fn load_path(&self, pts: &mut PointsTo, from: VarId, path: &[Sym], to: VarId) {
        let mut current = from;
        for (position, name) in path.iter().enumerate() {
            let target = if position + 1 == path.len() {
                to
            } else {
                pts.new_var()
            };
            let key = pts.intern_field(name);
            pts.load(self, current, key, target);
            current = target;
        }
    }

    /// `target = source` where `target` is a place.
    fn assign(
        &self,
        pts: &mut PointsTo,
        owner: FunctionId,
        instance: Instance,
        target: ValueId,
        source: VarId,
    ) {
        let program = self.program;
        let body = program.body(owner);
        let types = program.body_types(owner);
        match body.value(target) {
            Value::Local(local) => {
                let local = pts.local_var(instance, *local);
                pts.copy(source, local);
            }
            Value::Path(_) => {
                let var = pts.value_var(instance, target);
                // A static: its variable is what the path value copies from.
                if let Value::Path(path) = body.value(target) {
                    let module = program.function(owner).module;
                    if let Some(Resolved::Item(ItemRef::Static(id), extra)) =
                        program
                            .tree
                            .resolve(module, &path.segments, path.leading_colon)
                    {
                        if extra.is_empty() {
                            let var = pts.static_var(self, id);
                            pts.copy(source, var);
                            return;
                        }
                    }
                }
                pts.copy(source, var);
            }
            Value::Field { base, name } => {
                let base_ty = types.value_ty[base.index()];
                let base_var = pts.value_var(instance, *base);
                let path = field_path(program, base_ty, name);
                let (last, prefix) = path.split_last().expect("a field path has a field");
                let mut holder = base_var;
                if !prefix.is_empty() {
                    holder = pts.new_var();
                    self.load_path(pts, base_var, prefix, holder);
                }
                let key = pts.intern_field(last);
                pts.store(self, source, holder, key);
            }
            Value::Index { base } => {
                let base_var = pts.value_var(instance, *base);
                pts.store(self, source, base_var, FieldKey::Element);
            }
            Value::Deref(inner) => {
                // `*p = v` with `p := &x`: `x` holds `v` now (and what reads `*p` sees it).
                let pointer = pts.value_var(instance, *inner);
                pts.copy(source, pointer);
                let mut pointed = Vec::new();
                if let Value::Local(local) = body.value(*inner) {
                    let local = body.local(*local);
                    if let Some(init) = local.init {
                        pointed.push(init);
                    }
                }
                for value in pointed {
                    if let Value::Ref { inner, .. } = body.value(value) {
                        if let Value::Local(variable) = body.value(*inner) {
                            let variable = pts.local_var(instance, *variable);
                            pts.copy(source, variable);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn call(
        &self,
        pts: &mut PointsTo,
        owner: FunctionId,
        instance: Instance,
        call: CallId,
        value: ValueId,
    ) {
        let program = self.program;
        let body = program.body(owner);
        let fact = body.call(call);
        let caller = program.function_id(program.function(owner).file, fact.function);
        let result = pts.value_var(instance, value);
        let receiver = match &fact.callee {
            Callee::Method { receiver, .. } => Some(pts.value_var(instance, *receiver)),
            _ => None,
        };
        let args: Vec<VarId> = fact
            .args
            .iter()
            .map(|&arg| pts.value_var(instance, arg))
            .collect();
        let first = receiver.or_else(|| args.first().copied());
        let alloc = |pts: &mut PointsTo| {
            let ty = program.types.strip_refs(program.value_ty(owner, value));
            pts.intern_object(
                ObjKind::Alloc {
                    body: instance.body,
                    value,
                    ctx: instance.ctx,
                },
                ty,
            )
        };
        match program.call_target(owner, call) {
            CallTarget::Function(callee) => {
                let target = pts.callee_context(program, callee, instance.ctx, (caller, call));
                pts.ensure_instance(self, callee, target);
                let callee_instance = Instance {
                    body: program.function(callee).body,
                    ctx: target,
                };
                let callee_fact = program.fact(callee);
                let has_self = matches!(
                    callee_fact.kind,
                    FnKind::Method {
                        self_kind: Some(_),
                        ..
                    } | FnKind::TraitMethod {
                        self_kind: Some(_),
                        ..
                    }
                );
                let mut actuals: Vec<VarId> = Vec::new();
                actuals.extend(receiver);
                actuals.extend(args.iter().copied());
                // A method called by path takes its receiver as the first argument; a method
                // called on a receiver without `self` (an associated function) skips it.
                let skip = usize::from(receiver.is_some() && !has_self);
                for (param, actual) in callee_fact
                    .params
                    .iter()
                    .zip(actuals.into_iter().skip(skip))
                {
                    let param = pts.local_var(callee_instance, *param);
                    pts.copy(actual, param);
                }
                let ret = pts.return_var(callee, target);
                pts.copy(ret, result);
                pts.record_target(instance, call, callee, target);
            }
            CallTarget::Construct(_) => {
                let object = alloc(pts);
                pts.add_object(result, object);
                for (position, &arg) in args.iter().enumerate() {
                    let key = pts.intern_field(&position.to_string().into_boxed_str());
                    let slot = pts.field_var(self, object, key);
                    pts.copy(arg, slot);
                }
            }
            CallTarget::Lib(lib) => match lib {
                LibCall::Clone { shares: true }
                | LibCall::Lock { .. }
                | LibCall::Unwrap
                | LibCall::Expect
                | LibCall::UnwrapOr
                | LibCall::Access
                | LibCall::RawGet
                | LibCall::Upgrade
                | LibCall::Downgrade
                | LibCall::TakeOut => {
                    if let Some(first) = first {
                        pts.copy(first, result);
                    }
                }
                LibCall::Wrap(ty, _) => {
                    if let Some(first) = first {
                        pts.copy(first, result);
                    }
                    // A lock or a cell is an object of its own, whatever it holds.
                    if first.is_none()
                        || matches!(
                            ty,
                            LibTy::Mutex(_)
                                | LibTy::RwLock(_)
                                | LibTy::RefCell
                                | LibTy::UnsafeCell
                                | LibTy::Cell
                                | LibTy::Lazy
                        )
                    {
                        let object = alloc(pts);
                        pts.add_object(result, object);
                    }
                }
                LibCall::Clone { shares: false } | LibCall::Construct(_) => {
                    let object = alloc(pts);
                    pts.add_object(result, object);
                    // Go's `new(T)`: every map field of the zeroed struct is nil.
                    if let Callee::Path(path) = &fact.callee {
                        if program.language == Language::Go
                            && path.segments.len() == 1
                            && path.last() == "new"
                        {
                            if let Some(adt) = program.types.adt(program.value_ty(owner, value)) {
                                self.nil_map_fields(pts, object, adt, &[]);
                            }
                        }
                    }
                    // A composite literal's elements (Go `[]T{a, b}`, `map[K]V{k: v}`).
                    if let Callee::Path(path) = &fact.callee {
                        if path.last().starts_with('<') {
                            let slot = pts.field_var(self, object, FieldKey::Element);
                            for &arg in &args {
                                pts.copy(arg, slot);
                            }
                        }
                    }
                }
                LibCall::ScopeGuard => {
                    if let Some(first) = first {
                        pts.copy(first, result);
                        if let Some(closure) = fact
                            .args
                            .get(1)
                            .and_then(|&arg| crate::graph::calls::closure_of(body, arg))
                        {
                            let closure =
                                program.function_id(program.function(owner).file, closure);
                            if let Some(&param) = program.fact(closure).params.first() {
                                let param = pts.local_var(instance, param);
                                pts.copy(first, param);
                            }
                        }
                    }
                }
                LibCall::Map { kind, .. } => {
                    let map = receiver.or_else(|| args.first().copied());
                    let Some(map) = map else { return };
                    let name = match &fact.callee {
                        Callee::Method { name, .. } => &**name,
                        _ => "",
                    };
                    if name == "insert" && args.len() == 2 {
                        pts.store(self, args[1], map, FieldKey::Element);
                    }
                    if kind != MapOpKind::Read
                        || matches!(
                            name,
                            "get"
                                | "get_key_value"
                                | "iter"
                                | "values"
                                | "get_mut"
                                | "values_mut"
                                | "iter_mut"
                        )
                    {
                        pts.load(self, map, FieldKey::Element, result);
                    }
                }
                LibCall::Seq { .. } => {
                    let Some(seq) = receiver else { return };
                    let adds = matches!(
                        &fact.callee,
                        Callee::Method { name, .. } if matches!(&**name, "push" | "push_back" | "push_front" | "insert" | "extend" | "append" | "resize")
                    );
                    if let (true, Some(&pushed)) = (adds, args.last()) {
                        pts.store(self, pushed, seq, FieldKey::Element);
                    }
                    pts.load(self, seq, FieldKey::Element, result);
                }
                LibCall::LocalKey { .. } => {
                    let closure = fact
                        .args
                        .first()
                        .and_then(|&arg| crate::graph::calls::closure_of(body, arg));
                    if let (Some(receiver), Some(closure)) = (receiver, closure) {
                        let closure = program.function_id(program.function(owner).file, closure);
                        if let Some(&param) = program.fact(closure).params.first() {
                            let param = pts.local_var(instance, param);
                            pts.copy(receiver, param);
                        }
                    }
                }
                LibCall::Spawn(kind) => {
                    // The task runs the function values it is handed (a closure, a method
                    // value, a function): a call with no arguments.
                    for &arg in &args {
                        self.dynamic(pts, caller, instance, call, arg, None, Vec::new(), result);
                    }
                    // A server runs the methods of a service object it is handed, with the
                    // object as their receiver.
                    if kind == crate::model::known::SpawnKind::Handler {
                        for (&arg, &value) in args.iter().zip(&fact.args) {
                            for name in
                                crate::graph::calls::served_method_names(program, owner, value)
                            {
                                self.dynamic(
                                    pts,
                                    caller,
                                    instance,
                                    call,
                                    arg,
                                    Some(name),
                                    Vec::new(),
                                    result,
                                );
                            }
                        }
                    }
                }
                LibCall::Forget
                | LibCall::Join
                | LibCall::Exit
                | LibCall::Unlock { .. }
                | LibCall::Done
                | LibCall::RunOnce => {}
            },
            CallTarget::Unknown => {
                // A map made by code outside the program: an object of its own.
                if program.language == Language::Go
                    && program.types.map(program.value_ty(owner, value)).is_some()
                {
                    let object = pts.intern_object(
                        ObjKind::Opaque {
                            body: instance.body,
                            value,
                            ctx: instance.ctx,
                        },
                        program.types.strip_refs(program.value_ty(owner, value)),
                    );
                    pts.add_object(result, object);
                }
                // What code outside the program is handed may be filled in there
                // (`json.Unmarshal(data, &cfg)`): unless the call turns out to go to the
                // program's own code, or is a conversion.
                let conversion = matches!(&fact.callee, Callee::Path(path) if matches!(
                    program.tree.resolve(program.function(owner).module, &path.segments, path.leading_colon),
                    Some(Resolved::Item(ItemRef::Adt(_) | ItemRef::Alias(_), _))
                ));
                if !conversion {
                    pts.handed_out.push((
                        instance,
                        call,
                        args.iter().chain(receiver.iter()).copied().collect(),
                    ));
                }
                self.unknown_call(
                    pts, owner, instance, call, fact, caller, receiver, args, result,
                );
            }
        }
    }

    /// A call whose target the type checker did not know: through a function value, a method
    /// of an unknown receiver (an interface), or a conversion.
    #[allow(clippy::too_many_arguments)]
    fn unknown_call(
        &self,
        pts: &mut PointsTo,
        owner: FunctionId,
        instance: Instance,
        call: CallId,
        fact: &crate::model::facts::CallFact,
        caller: FunctionId,
        receiver: Option<VarId>,
        args: Vec<VarId>,
        result: VarId,
    ) {
        let program = self.program;
        match &fact.callee {
            Callee::Dynamic(callee) => {
                let callee = pts.value_var(instance, *callee);
                self.dynamic(pts, caller, instance, call, callee, None, args, result);
            }
            Callee::Method { name, .. } => {
                let receiver = receiver.expect("a method call has a receiver");
                self.dynamic(
                    pts,
                    caller,
                    instance,
                    call,
                    receiver,
                    Some(name.clone()),
                    args,
                    result,
                );
            }
            // A conversion to a type of the program (`Iface(x)`, `Celsius(t)`): the same
            // object.
            Callee::Path(path) => {
                let is_type = program.names_type(program.function(owner).module, path);
                if let (true, [only]) = (is_type, args.as_slice()) {
                    pts.copy(*only, result);
                }
            }
        }
    }

    /// The map fields of a struct object that nothing sets start nil.
    fn nil_map_fields(
        &self,
        pts: &mut PointsTo,
        object: ObjId,
        adt: crate::model::types::AdtId,
        set: &[Sym],
    ) {
        let program = self.program;
        for (name, ty) in &program.adt(adt).fields {
            if set.contains(name) || program.types.map(*ty).is_none() {
                continue;
            }
            let key = pts.intern_field(name);
            let nil = pts.intern_object(
                ObjKind::Nil(NilOrigin::Field(object, key)),
                program.types.strip_refs(*ty),
            );
            let slot = pts.field_var(self, object, key);
            pts.add_object(slot, nil);
        }
    }

    /// A call whose targets come from what `var` holds: function values (`method` is `None`)
    /// or receivers whose type has the method.
    #[allow(clippy::too_many_arguments)]
    fn dynamic(
        &self,
        pts: &mut PointsTo,
        caller: FunctionId,
        instance: Instance,
        call: CallId,
        var: VarId,
        method: Option<Sym>,
        args: Vec<VarId>,
        result: VarId,
    ) {
        let id = pts.dynamic_calls.len() as u32;
        pts.dynamic_calls.push(DynamicCall {
            caller,
            instance,
            call,
            args,
            receiver: method.is_some().then_some(var),
            method,
            result,
        });
        if var == NO_VAR {
            return;
        }
        pts.calls.entry(var).or_default().push(id);
        pts.flags[var as usize] |= HAS_CALLS;
        for index in 0..pts.pts[var as usize].len() {
            let object = pts.pts[var as usize][index];
            pts.dispatch(self, id, var, object);
        }
    }
}

/// A method named `name` of an object's type: a Go method (of the type or of an embedded
/// field), a Rust inherent or trait method.
fn method_of(program: &Program, ty: TyId, name: &str) -> Option<FunctionId> {
    if ty.is_unknown() {
        return None;
    }
    match program.language {
        Language::Go => {
            if let Some(found) = program.go_method(ty, name) {
                return Some(found);
            }
            let adt = program.types.adt(ty)?;
            program
                .embedded_field_types(adt)
                .into_iter()
                .find_map(|embedded| program.go_method(embedded, name))
        }
        Language::Rust => {
            let adt = program.types.adt(ty)?;
            program.adt(adt).methods.get(name)?.first().copied()
        }
    }
}

/// `base.name` names a Go method, not a field.
fn is_go_method_value(program: &Program, base_ty: TyId, name: &str) -> bool {
    let deref = program.types.autoderef(base_ty);
    let is_field = match program.types.kind(deref) {
        TyKind::Adt(adt, _) => program.field_owner(*adt, name).is_some(),
        _ => false,
    };
    !is_field && program.go_method(deref, name).is_some()
}

/// The fields to follow for `base.name`: Go's promoted fields go through the embedded fields
/// that hold them.
fn field_path(program: &Program, base_ty: TyId, name: &Sym) -> Vec<Sym> {
    if program.language == Language::Go {
        if let Some(adt) = program.types.adt(base_ty) {
            if program.adt_field(adt, name).is_none() {
                if let Some(mut path) = embedded_path(program, adt, name, 0) {
                    path.push(name.clone());
                    return path;
                }
            }
        }
    }
    vec![name.clone()]
}

fn embedded_path(
    program: &Program,
    adt: crate::model::types::AdtId,
    name: &str,
    depth: u32,
) -> Option<Vec<Sym>> {
    if depth > 4 {
        return None;
    }
    let data = program.adt(adt);
    for embedded in &data.embedded {
        let Some(ty) = program.adt_field(adt, embedded) else {
            continue;
        };
        let Some(inner) = program.types.adt(ty) else {
            continue;
        };
        if program.adt_field(inner, name).is_some() {
            return Some(vec![embedded.clone()]);
        }
        if let Some(mut rest) = embedded_path(program, inner, name, depth + 1) {
            rest.insert(0, embedded.clone());
            return Some(rest);
        }
    }
    None
}

/// A field of this type is part of its holder (a struct, a lock, a Rust map or cell held by
/// value), so the field's place is an object of its own.
fn holds_by_value(program: &Program, ty: TyId) -> bool {
    let types = &program.types;
    match types.kind(ty) {
        TyKind::Adt(..) => true,
        TyKind::Lib(lib, _) => match program.language {
            // A Go map, channel or func field is a reference to an object made elsewhere;
            // `sync.Mutex`, `sync.WaitGroup` and `atomic` values are part of the struct.
            Language::Go => matches!(
                lib,
                LibTy::Mutex(_) | LibTy::RwLock(_) | LibTy::WaitGroup | LibTy::Atomic
            ),
            Language::Rust => matches!(
                lib,
                LibTy::Map { .. }
                    | LibTy::Mutex(_)
                    | LibTy::RwLock(_)
                    | LibTy::RefCell
                    | LibTy::Cell
                    | LibTy::UnsafeCell
                    | LibTy::Vec
                    | LibTy::Lazy
                    | LibTy::Atomic
            ),
        },
        _ => false,
    }
}

/// A value of this type can lead to an object: a pointer, a reference, a map, a struct, a
/// smart pointer, a lock.
fn holds_object(program: &Program, ty: TyId) -> bool {
    let types = &program.types;
    match types.kind(ty) {
        TyKind::Ref(inner, _) | TyKind::Ptr(inner, _) => {
            !matches!(types.kind(*inner), TyKind::Opaque(_)) || holds_object(program, *inner)
        }
        TyKind::Adt(..) | TyKind::Dyn(_) => true,
        TyKind::Lib(lib, args) => match lib {
            LibTy::String | LibTy::Atomic | LibTy::JoinHandle => false,
            LibTy::Option | LibTy::Result | LibTy::Box => args
                .first()
                .is_some_and(|&inner| holds_object(program, inner)),
            _ => true,
        },
        _ => false,
    }
}

/// Sets a bit; false when it was set already.
fn set_bit(bits: &mut Vec<u64>, object: ObjId) -> bool {
    let (word, bit) = ((object.0 / 64) as usize, object.0 % 64);
    if bits.len() <= word {
        bits.resize(word + 1, 0);
    }
    let mask = 1u64 << bit;
    let was = bits[word] & mask != 0;
    bits[word] |= mask;
    !was
}

/// A value of this type may lead to an object; unknown types may.
fn may_hold_object(program: &Program, ty: TyId) -> bool {
    let types = &program.types;
    match types.kind(ty) {
        TyKind::Unknown | TyKind::Param(_) => true,
        TyKind::Opaque(_) | TyKind::Never | TyKind::AsyncCall(_) => false,
        TyKind::Tuple(elements) => elements
            .iter()
            .any(|&element| may_hold_object(program, element)),
        TyKind::Slice(element) => may_hold_object(program, *element),
        TyKind::Ref(inner, _) | TyKind::Ptr(inner, _) => may_hold_object(program, *inner),
        TyKind::Adt(..) | TyKind::Dyn(_) => true,
        TyKind::Lib(lib, _) => !matches!(lib, LibTy::String | LibTy::Atomic),
    }
}

/// Functions analysed once per call site: item functions (closures go with their arena), not
/// recursive, of a small arena, called from a few places.
fn cloneable_functions(program: &Program) -> Vec<bool> {
    let mut call_sites = vec![0usize; program.functions.len()];
    let mut graph: petgraph::graph::DiGraph<(), ()> = petgraph::graph::DiGraph::new();
    for _ in program.function_ids() {
        graph.add_node(());
    }
    for id in program.function_ids() {
        if program.function(id).owner != id {
            continue;
        }
        let types = program.body_types(id);
        let file = program.function(id).file;
        for (index, target) in types.call_target.iter().enumerate() {
            if let CallTarget::Function(callee) = target {
                let callee_owner = program.function(*callee).owner;
                // A closure called by the code of its own arena is not a call of the arena.
                if callee_owner == id {
                    continue;
                }
                call_sites[callee_owner.index()] += 1;
                let caller = program.function_id(file, program.body(id).calls[index].function);
                let caller_owner = program.function(caller).owner;
                graph.add_edge(
                    petgraph::graph::NodeIndex::new(caller_owner.index()),
                    petgraph::graph::NodeIndex::new(callee_owner.index()),
                    (),
                );
            }
        }
    }
    let mut recursive = vec![false; program.functions.len()];
    for component in petgraph::algo::tarjan_scc(&graph) {
        if component.len() > 1 {
            for node in component {
                recursive[node.index()] = true;
            }
        } else if let Some(&node) = component.first() {
            if graph.contains_edge(node, node) {
                recursive[node.index()] = true;
            }
        }
    }
    program
        .function_ids()
        .map(|id| {
            let function = program.function(id);
            let fact = program.fact(id);
            function.owner == id
                && !recursive[id.index()]
                && !(fact.kind == FnKind::Free && matches!(&*fact.name, "main" | "init"))
                && fact.kind != FnKind::StaticInit
                && program.body(id).values.len() <= CLONE_MAX_VALUES
                && call_sites[id.index()] <= CLONE_MAX_CALL_SITES
        })
        .collect()
}

/// Functions callers outside the program can call: Go's exported functions and exported
/// methods of exported types, Rust's `pub` functions. (Functions no code of the program calls
/// are found after solving: see [`PointsTo::compute`].)
fn entry_functions(program: &Program) -> Vec<bool> {
    program
        .function_ids()
        .map(|id| {
            let fact = program.fact(id);
            let function = program.function(id);
            let exported = match program.language {
                // Nothing outside a `main` package can call its functions: they are entries
                // only if nothing inside calls them (found after solving).
                Language::Go => {
                    fact.is_public
                        && program.files[function.file as usize]
                            .facts
                            .package_name
                            .as_deref()
                            != Some("main")
                        && !matches!(&*fact.name, "main" | "init")
                        && function.self_ty.is_none_or(|self_ty| {
                            let name = program.type_name(program.types.strip_refs(self_ty));
                            name.rsplit("::")
                                .next()
                                .unwrap_or(&name)
                                .starts_with(|c: char| c.is_ascii_uppercase())
                        })
                }
                Language::Rust => fact.is_public,
            };
            fact.kind.parent().is_none() && fact.kind != FnKind::StaticInit && exported
        })
        .collect()
}

pub(crate) fn collect_assignments(nodes: &[Node], out: &mut Vec<(ValueId, ValueId)>) {
    for node in nodes {
        match node {
            Node::Event(Event::Assign { target, value, .. }) => out.push((*target, *value)),
            Node::Event(_) => {}
            Node::Branch(arms) => {
                for arm in arms {
                    collect_assignments(arm, out);
                }
            }
            Node::Loop(body) => collect_assignments(body, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;
    use crate::unit::{CrateInput, Edition};

    fn go_program(text: &str) -> Program {
        let mut sources = SourceMap::new();
        let file = sources.add_in_memory("main.go".into(), Language::Go, text.as_bytes().to_vec());
        let facts = crate::frontend::go::lower_file(file, text, false);
        let input = CrateInput {
            language: Language::Go,
            name: "main".into(),
            lib_name: None,
            edition: Edition::E2021,
            root_dir: ".".into(),
            targets: Vec::new(),
            files: vec![file],
            package_id: None,
            manifest_path: None,
            extensions: Default::default(),
            features: None,
        };
        Program::build(&sources, &input, vec![(file, facts)])
    }

    fn function(program: &Program, name: &str) -> FunctionId {
        program
            .function_ids()
            .find(|&id| &*program.fact(id).name == name)
            .unwrap_or_else(|| panic!("no function `{name}`"))
    }

    /// What a local of a function designates, in every context.
    fn local(pts: &PointsTo, program: &Program, function_name: &str, name: &str) -> Vec<ObjId> {
        let function = function(program, function_name);
        let owner = program.function(function).owner;
        let body = program.body(owner);
        let local = body
            .locals
            .iter()
            .position(|local| &*local.name == name)
            .unwrap_or_else(|| panic!("no local `{name}` in `{function_name}`"));
        let body_id = program.function(owner).body;
        let mut out: Vec<ObjId> = pts
            .contexts_of(body_id)
            .iter()
            .flat_map(|&ctx| {
                pts.local_pts_in(body_id, ctx, LocalId::from_index(local))
                    .to_vec()
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    fn allocations(pts: &PointsTo, objects: &[ObjId]) -> Vec<ObjId> {
        objects
            .iter()
            .copied()
            .filter(|&object| matches!(pts.object(object).kind, ObjKind::Alloc { .. }))
            .collect()
    }

    #[test]
    fn a_constructor_called_twice_makes_two_objects() {
        let program = go_program(
            "package main\n\
             type Store struct { items map[string]int }\n\
             func newStore() *Store { return &Store{items: make(map[string]int)} }\n\
             func main() {\n\
                 a := newStore()\n\
                 b := newStore()\n\
                 a.items[\"x\"] = 1\n\
                 go func() { b.items[\"y\"] = 2 }()\n\
             }\n",
        );
        let pts = PointsTo::compute(&program);
        let a = allocations(&pts, &local(&pts, &program, "main", "a"));
        let b = allocations(&pts, &local(&pts, &program, "main", "b"));
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(b.len(), 1, "{b:?}");
        assert_ne!(a, b);
        // Their map fields are apart too.
        let field = FieldKey::Named(pts.field_name("items").unwrap());
        assert_ne!(pts.field_pts(a[0], field), pts.field_pts(b[0], field));
        assert_eq!(pts.field_pts(a[0], field).len(), 1);
    }

    #[test]
    fn a_helper_taking_a_map_does_not_merge_its_callers_maps() {
        let program = go_program(
            "package main\n\
             func put(m map[string]int, k string) map[string]int { m[k] = 1; return m }\n\
             func main() {\n\
                 x := make(map[string]int)\n\
                 y := make(map[string]int)\n\
                 a := put(x, \"a\")\n\
                 b := put(y, \"b\")\n\
                 go func() { _, _ = a, b }()\n\
             }\n",
        );
        let pts = PointsTo::compute(&program);
        let a = local(&pts, &program, "main", "a");
        let b = local(&pts, &program, "main", "b");
        assert_eq!(a, local(&pts, &program, "main", "x"));
        assert_eq!(b, local(&pts, &program, "main", "y"));
        assert_ne!(a, b);
    }

    #[test]
    fn interface_calls_method_values_func_fields_and_callbacks_are_resolved() {
        let program = go_program(
            "package main\n\
             type Recorder interface { Record(e string) }\n\
             type mem struct { seen map[string]int; hook func(string) }\n\
             func (m *mem) Record(e string) { m.seen[e]++ }\n\
             func (m *mem) put(e string) { m.seen[e] = 0 }\n\
             func each(items []string, f func(string)) { for _, item := range items { f(item) } }\n\
             func main() {\n\
                 var r Recorder = &mem{seen: map[string]int{}}\n\
                 r.Record(\"a\")\n\
                 s := &mem{seen: map[string]int{}}\n\
                 f := s.put\n\
                 f(\"b\")\n\
                 s.hook = func(e string) { s.seen[e] = 2 }\n\
                 s.hook(\"c\")\n\
                 each([]string{\"d\"}, func(e string) { s.seen[e] = 3 })\n\
             }\n",
        );
        let pts = PointsTo::compute(&program);
        let main = function(&program, "main");
        let mut called: Vec<String> = program
            .body(main)
            .calls
            .iter()
            .enumerate()
            .flat_map(|(index, _)| pts.targets(&program, main, CallId::from_index(index)))
            .map(|target| program.function_name(target))
            .collect();
        called.sort();
        called.dedup();
        for expected in ["mem::Record", "mem::put", "each"] {
            assert!(
                called.iter().any(|name| name == expected),
                "{expected} in {called:?}"
            );
        }
        // The func field and the callback reach the closures.
        assert!(
            called.iter().any(|name| name.starts_with("closure")),
            "{called:?}"
        );
        let each = function(&program, "each");
        let callback_targets: Vec<FunctionId> = (0..program.body(each).calls.len())
            .flat_map(|index| pts.targets(&program, each, CallId::from_index(index)))
            .collect();
        assert_eq!(callback_targets.len(), 1, "{callback_targets:?}");
        // The method value's receiver is `s`.
        let put_receiver = local(&pts, &program, "put", "m");
        assert_eq!(put_receiver, local(&pts, &program, "main", "s"));
        // The interface's object reaches `Record`'s receiver.
        // (`Record` is exported: callers outside the package may hand it other objects.)
        assert_eq!(
            allocations(&pts, &local(&pts, &program, "Record", "m")),
            local(&pts, &program, "main", "r")
        );
    }
}
