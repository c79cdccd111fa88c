//! Types of locals and values, and the target of every call, computed in one forward pass
//! over each body arena (operands always precede the values built from them).

use super::known::{self, LibCall, LockAttempt, MapOpKind};
use super::modules::{FunctionId, ItemRef, ModuleId, Resolved};
use super::types::{LibTy, LockFlavor, TyId, TyKind, classify_lib_type};
use super::{Program, TypeContext};
use crate::model::facts::{Body, Callee, PathExpr, Value};

/// What a call calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum CallTarget {
    #[default]
    Unknown,
    /// A function or method of the program.
    Function(FunctionId),
    /// A library function the analyses know.
    Lib(LibCall),
    /// A tuple struct or tuple variant constructor of the program.
    Construct(super::types::AdtId),
}

/// How many embedded fields deep a Go method is looked for.
const MAX_PROMOTION_DEPTH: u32 = 6;

/// The result of checking one body arena.
#[derive(Debug, Default)]
pub struct BodyTypes {
    pub local_ty: Vec<TyId>,
    pub value_ty: Vec<TyId>,
    pub call_target: Vec<CallTarget>,
}

struct Checker<'b> {
    body: &'b Body,
    file: u32,
    module: ModuleId,
    context: TypeContext,
    types: BodyTypes,
    local_done: Vec<bool>,
    /// Closure parameters typed by another value of the arena: `scopeguard::guard(value,
    /// |value| ..)` hands the closure its first argument.
    param_from_value: Vec<(usize, crate::model::facts::ValueId)>,
}

impl Program {
    pub(super) fn check_bodies(&mut self) {
        let mut owners = vec![None; self.bodies.len()];
        for id in self.function_ids() {
            let function = &self.functions[id.index()];
            if function.owner == id {
                owners[function.body.0 as usize] = Some(id);
            }
        }
        for (index, owner) in owners.into_iter().enumerate() {
            let Some(owner) = owner else { continue };
            let (file, idx) = (
                self.bodies[index].file as usize,
                self.bodies[index].idx.index(),
            );
            let body = std::mem::take(&mut self.files[file].facts.bodies[idx]);
            let context = self.function_context(owner);
            let module = self.functions[owner.index()].module;
            let mut checker = Checker {
                body: &body,
                file: file as u32,
                module,
                context,
                types: BodyTypes {
                    local_ty: vec![TyId::UNKNOWN; body.locals.len()],
                    value_ty: vec![TyId::UNKNOWN; body.values.len()],
                    call_target: vec![CallTarget::Unknown; body.calls.len()],
                },
                local_done: vec![false; body.locals.len()],
                param_from_value: Vec::new(),
            };
            self.type_thread_local_closures(&mut checker);
            for value in 0..body.values.len() {
                let ty = self.type_value(&mut checker, value);
                checker.types.value_ty[value] = ty;
            }
            for local in 0..body.locals.len() {
                self.local_type(&mut checker, local);
            }
            let types = checker.types;
            self.files[file].facts.bodies[idx] = body;
            self.bodies[index].types = types;
        }
    }

    /// `KEY.with(|value| ..)` on a `thread_local!` key: the closure's parameter is a reference
    /// to the thread's value (`with_borrow`/`with_borrow_mut`: to the `RefCell`'s contents).
    /// Typed before the forward pass, since the closure's body comes before the call.
    fn type_thread_local_closures(&mut self, checker: &mut Checker<'_>) {
        let body = checker.body;
        for call in &body.calls {
            // `scopeguard::guard(value, |value| ..)`: the closure gets the first argument, which
            // is typed before the closure's body (arguments come in order).
            if let (Callee::Path(path), [value, closure]) = (&call.callee, call.args.as_slice()) {
                if matches!(
                    path.last(),
                    "guard" | "guard_on_unwind" | "guard_on_success"
                ) {
                    if let Some(closure) = crate::graph::calls::closure_of(body, *closure) {
                        let params = &self.files[checker.file as usize].facts.functions
                            [closure.index()]
                        .params;
                        if let Some(&param) = params.first() {
                            checker.param_from_value.push((param.index(), *value));
                        }
                    }
                }
                continue;
            }
            let Callee::Method { receiver, name, .. } = &call.callee else {
                continue;
            };
            let through_cell = match &**name {
                "with" | "try_with" => false,
                "with_borrow" | "with_borrow_mut" => true,
                _ => continue,
            };
            let Value::Path(path) = body.value(*receiver) else {
                continue;
            };
            let Some(Resolved::Item(ItemRef::Static(key), extra)) =
                self.tree
                    .resolve(checker.module, &path.segments, path.leading_colon)
            else {
                continue;
            };
            let key_ty = self.statics[key.0 as usize].ty;
            if !extra.is_empty() || self.types.as_lib(key_ty) != Some(LibTy::LocalKey) {
                continue;
            }
            let mut value_ty = self.types.arg(key_ty, 0);
            if through_cell {
                value_ty = self.types.arg(value_ty, 0);
            }
            if value_ty.is_unknown() {
                continue;
            }
            let Some(closure) = call
                .args
                .first()
                .and_then(|&arg| crate::graph::calls::closure_of(body, arg))
            else {
                continue;
            };
            let params = &self.files[checker.file as usize].facts.functions[closure.index()].params;
            if let Some(&param) = params.first() {
                let mutable = name.as_ref() == "with_borrow_mut";
                checker.types.local_ty[param.index()] =
                    self.types.intern(TyKind::Ref(value_ty, mutable));
                checker.local_done[param.index()] = true;
            }
        }
    }

    fn local_type(&mut self, checker: &mut Checker<'_>, local: usize) -> TyId {
        if checker.local_done[local] {
            return checker.types.local_ty[local];
        }
        if checker.body.locals[local].ty.is_none() {
            if let Some(&(_, value)) = checker
                .param_from_value
                .iter()
                .find(|(param, _)| *param == local)
            {
                checker.local_done[local] = true;
                let ty = checker.types.value_ty[value.index()];
                checker.types.local_ty[local] = ty;
                return ty;
            }
        }
        checker.local_done[local] = true;
        let fact = &checker.body.locals[local];
        let ty = match &fact.ty {
            Some(ty) => {
                let declared = self.resolve_type(checker.module, ty, &checker.context);
                // `let x: Arc<_> = ..`: fill the holes from the initializer.
                match fact.init {
                    Some(init) if self.has_unknown_args(declared) => {
                        let init_ty = checker.types.value_ty[init.index()];
                        self.merge_types(declared, init_ty, 0)
                    }
                    _ => declared,
                }
            }
            None => match fact.init {
                Some(init) if init.index() < checker.types.value_ty.len() => {
                    checker.types.value_ty[init.index()]
                }
                _ => TyId::UNKNOWN,
            },
        };
        checker.types.local_ty[local] = ty;
        ty
    }

    /// `declared` with its holes filled from `inferred` where both have the same shape.
    fn merge_types(&mut self, declared: TyId, inferred: TyId, depth: u32) -> TyId {
        if declared.is_unknown() || depth > 8 {
            return inferred;
        }
        if inferred.is_unknown() {
            return declared;
        }
        match (
            self.types.kind(declared).clone(),
            self.types.kind(inferred).clone(),
        ) {
            (TyKind::Lib(lib, args), TyKind::Lib(other, inferred_args)) if lib == other => {
                let merged = self.merge_args(&args, &inferred_args, depth);
                self.types.lib(lib, merged)
            }
            (TyKind::Adt(adt, args), TyKind::Adt(other, inferred_args)) if adt == other => {
                let merged = self.merge_args(&args, &inferred_args, depth);
                self.types.intern(TyKind::Adt(adt, merged))
            }
            (TyKind::Ref(inner, mutable), TyKind::Ref(other, _)) => {
                let merged = self.merge_types(inner, other, depth + 1);
                self.types.intern(TyKind::Ref(merged, mutable))
            }
            (TyKind::Ptr(inner, mutable), TyKind::Ptr(other, _)) => {
                let merged = self.merge_types(inner, other, depth + 1);
                self.types.intern(TyKind::Ptr(merged, mutable))
            }
            _ => declared,
        }
    }

    fn merge_args(&mut self, declared: &[TyId], inferred: &[TyId], depth: u32) -> Vec<TyId> {
        if declared.is_empty() {
            return inferred.to_vec();
        }
        declared
            .iter()
            .enumerate()
            .map(|(index, &arg)| match inferred.get(index) {
                Some(&other) => self.merge_types(arg, other, depth + 1),
                None => arg,
            })
            .collect()
    }

    fn has_unknown_args(&self, ty: TyId) -> bool {
        match self.types.kind(ty) {
            TyKind::Lib(_, args) | TyKind::Adt(_, args) => args
                .iter()
                .any(|arg| arg.is_unknown() || self.has_unknown_args(*arg)),
            TyKind::Ref(inner, _) | TyKind::Ptr(inner, _) | TyKind::Slice(inner) => {
                inner.is_unknown() || self.has_unknown_args(*inner)
            }
            _ => false,
        }
    }

    fn type_value(&mut self, checker: &mut Checker<'_>, value: usize) -> TyId {
        let body = checker.body;
        let ty_of = |checker: &Checker<'_>, id: crate::model::facts::ValueId| {
            checker.types.value_ty[id.index()]
        };
        match &body.values[value] {
            Value::Unknown | Value::Literal | Value::Closure(_) | Value::Macro { .. } => {
                TyId::UNKNOWN
            }
            Value::Local(local) => self.local_type(checker, local.index()),
            Value::Path(path) => self.path_value_type(checker, path),
            Value::Field { base, name } => {
                let base = ty_of(checker, *base);
                self.field_type(base, name)
            }
            Value::Index { base } => {
                let base = ty_of(checker, *base);
                self.index_type(base)
            }
            Value::Deref(inner) => {
                let inner = ty_of(checker, *inner);
                self.deref_type(inner)
            }
            Value::Ref { inner, mutable } => {
                let inner = ty_of(checker, *inner);
                if inner.is_unknown() {
                    TyId::UNKNOWN
                } else {
                    self.types.intern(TyKind::Ref(inner, *mutable))
                }
            }
            Value::RawRef { inner, mutable } => {
                let inner = self.types.strip_refs(ty_of(checker, *inner));
                if inner.is_unknown() {
                    TyId::UNKNOWN
                } else {
                    self.types.intern(TyKind::Ptr(inner, *mutable))
                }
            }
            Value::Cast { inner, ty } => {
                let declared = self.resolve_type(checker.module, ty, &checker.context);
                let inner_ty = ty_of(checker, *inner);
                match self.types.kind(declared).clone() {
                    // `&mut map as *mut _`: the pointee comes from the operand.
                    TyKind::Ptr(pointee, mutable)
                        if pointee.is_unknown() || self.has_unknown_args(pointee) =>
                    {
                        let pointee = self.types.pointee(inner_ty);
                        if pointee.is_unknown() {
                            declared
                        } else {
                            self.types.intern(TyKind::Ptr(pointee, mutable))
                        }
                    }
                    _ => declared,
                }
            }
            Value::Call(call) => {
                if let Callee::Method { receiver, name, .. } = &body.calls[call.index()].callee {
                    let arg_tys: Vec<TyId> = body.calls[call.index()]
                        .args
                        .iter()
                        .map(|&arg| checker.types.value_ty[arg.index()])
                        .collect();
                    let receiver_ty = checker.types.value_ty[receiver.index()];
                    self.learn_element_type(checker, *receiver, receiver_ty, name, &arg_tys);
                }
                let (target, ty) = self.check_call(checker, call.index());
                checker.types.call_target[call.index()] = target;
                // A call of an `async fn` of the program makes its future; `.await` gives the
                // function's output.
                match target {
                    CallTarget::Function(function)
                        if self.language == crate::source::Language::Rust
                            && self.fact(function).is_async =>
                    {
                        self.types.intern(TyKind::AsyncCall(function))
                    }
                    _ => ty,
                }
            }
            Value::Try(inner) => {
                let inner = ty_of(checker, *inner);
                self.payload_type(inner, false)
            }
            Value::Payload { of, constructor } => {
                let inner = ty_of(checker, *of);
                self.payload_type(inner, &**constructor == "Err")
            }
            Value::Await(inner) => {
                let future = ty_of(checker, *inner);
                match self.types.kind(future) {
                    TyKind::AsyncCall(function) => self.functions[function.index()].ret_ty,
                    _ => future,
                }
            }
            Value::Struct { path, fields, .. } => {
                match self
                    .tree
                    .resolve(checker.module, &path.segments, path.leading_colon)
                {
                    Some(Resolved::Item(ItemRef::Adt(adt), extra)) if extra.is_empty() => {
                        // A generic parameter that is a field's whole type takes the type of
                        // the value given for that field (`Holder { inner: guard }`).
                        let data = &self.adts[adt.0 as usize];
                        let args: Vec<TyId> = data
                            .generics
                            .iter()
                            .map(|generic| {
                                data.fields
                                    .iter()
                                    .find(|(_, ty)| {
                                        matches!(self.types.kind(*ty), TyKind::Param(name) if name == generic)
                                    })
                                    .and_then(|(field, _)| {
                                        fields.iter().find(|(given, _)| given == field)
                                    })
                                    .map_or(TyId::UNKNOWN, |(_, value)| ty_of(checker, *value))
                            })
                            .collect();
                        if args.iter().all(|arg| arg.is_unknown()) {
                            self.adt_type(adt, Vec::new())
                        } else {
                            self.adt_type(adt, args)
                        }
                    }
                    _ if path.segments.len() == 1 && &*path.segments[0] == "Self" => {
                        checker.context.self_ty.unwrap_or(TyId::UNKNOWN)
                    }
                    Some(Resolved::Item(ItemRef::Alias(alias), extra)) if extra.is_empty() => {
                        self.expand_alias(alias, Vec::new(), 0)
                    }
                    // A library type (`url.Values{}`): as written in a type position.
                    _ => self.resolve_type(
                        checker.module,
                        &crate::model::TypeExpr::Path(path.clone()),
                        &checker.context,
                    ),
                }
            }
            Value::Tuple(elements) => {
                let elements: Vec<TyId> = elements
                    .iter()
                    .map(|element| ty_of(checker, *element))
                    .collect();
                if elements.is_empty() {
                    TyId::UNKNOWN
                } else {
                    self.types.intern(TyKind::Tuple(elements))
                }
            }
            Value::Array(elements) => match elements.first() {
                Some(first) => {
                    let element = ty_of(checker, *first);
                    self.types.intern(TyKind::Slice(element))
                }
                None => TyId::UNKNOWN,
            },
            Value::Either(values) => values
                .iter()
                .map(|value| ty_of(checker, *value))
                .find(|ty| !ty.is_unknown())
                .unwrap_or(TyId::UNKNOWN),
            Value::Element(inner) => {
                let inner = ty_of(checker, *inner);
                self.element_type(inner)
            }
        }
    }

    fn path_value_type(&mut self, checker: &Checker<'_>, path: &PathExpr) -> TyId {
        match self
            .tree
            .resolve(checker.module, &path.segments, path.leading_colon)
        {
            Some(Resolved::Item(ItemRef::Static(id), extra)) if extra.is_empty() => {
                self.statics[id.0 as usize].ty
            }
            Some(Resolved::Item(ItemRef::Adt(adt), extra)) if extra.is_empty() => {
                self.adt_type(adt, Vec::new())
            }
            _ => TyId::UNKNOWN,
        }
    }

    /// `*x`.
    fn deref_type(&mut self, ty: TyId) -> TyId {
        match self.types.kind(ty).clone() {
            TyKind::Ref(inner, _) | TyKind::Ptr(inner, _) => inner,
            TyKind::Lib(
                LibTy::Box
                | LibTy::Arc
                | LibTy::Rc
                | LibTy::Guard { .. }
                | LibTy::Lazy
                | LibTy::Transparent
                | LibTy::ManuallyDrop,
                args,
            ) => args.first().copied().unwrap_or(TyId::UNKNOWN),
            _ => TyId::UNKNOWN,
        }
    }

    /// What `Some(x)`/`Ok(x)` (or `Err(x)`) and `?` take out of an `Option` or a `Result`.
    fn payload_type(&mut self, ty: TyId, error: bool) -> TyId {
        match self.types.kind(ty).clone() {
            TyKind::Lib(LibTy::Option, args) if !error => {
                args.first().copied().unwrap_or(TyId::UNKNOWN)
            }
            TyKind::Lib(LibTy::Result, args) => args
                .get(usize::from(error))
                .copied()
                .unwrap_or(TyId::UNKNOWN),
            TyKind::Ref(inner, mutable) => {
                let payload = self.payload_type(inner, error);
                if payload.is_unknown() {
                    payload
                } else {
                    self.types.intern(TyKind::Ref(payload, mutable))
                }
            }
            _ => TyId::UNKNOWN,
        }
    }

    /// `let mut guards = Vec::new(); guards.push(guard);`: the first `push` tells the element
    /// type of a local vector made without one, for the rest of the body.
    fn learn_element_type(
        &mut self,
        checker: &mut Checker<'_>,
        receiver: crate::model::facts::ValueId,
        receiver_ty: TyId,
        name: &str,
        arg_tys: &[TyId],
    ) {
        if !matches!(name, "push" | "push_back" | "push_front") || arg_tys.len() != 1 {
            return;
        }
        let pushed = arg_tys[0];
        if pushed.is_unknown() {
            return;
        }
        let Value::Local(local) = checker.body.value(receiver) else {
            return;
        };
        let vector = self.types.strip_refs(receiver_ty);
        let TyKind::Lib(LibTy::Vec, args) = self.types.kind(vector).clone() else {
            return;
        };
        if !args.first().is_none_or(|element| element.is_unknown()) {
            return;
        }
        let learned = self.types.lib(LibTy::Vec, vec![pushed]);
        if checker.types.local_ty[local.index()] == vector {
            checker.types.local_ty[local.index()] = learned;
            checker.types.value_ty[receiver.index()] = learned;
        }
    }

    /// The element a loop or an index yields.
    /// What `container[index]` designates: a map's value, a sequence's element.
    fn index_type(&mut self, ty: TyId) -> TyId {
        let container = self.types.autoderef(ty);
        match self.types.kind(container).clone() {
            TyKind::Lib(LibTy::Map { is_set: false, .. }, args) => {
                args.get(1).copied().unwrap_or(TyId::UNKNOWN)
            }
            _ => self.element_type(container),
        }
    }

    fn element_type(&mut self, ty: TyId) -> TyId {
        let ty = match self.types.kind(ty) {
            TyKind::Ref(..) => ty,
            _ => self.types.autoderef(ty),
        };
        match self.types.kind(ty).clone() {
            TyKind::Ref(inner, mutable) => {
                let element = self.element_type(inner);
                if element.is_unknown() {
                    element
                } else {
                    self.types.intern(TyKind::Ref(element, mutable))
                }
            }
            TyKind::Slice(element) => element,
            TyKind::Lib(LibTy::Vec | LibTy::Option, args) => {
                args.first().copied().unwrap_or(TyId::UNKNOWN)
            }
            TyKind::Lib(LibTy::Map { is_set: true, .. }, args) => {
                args.first().copied().unwrap_or(TyId::UNKNOWN)
            }
            TyKind::Lib(LibTy::Map { is_set: false, .. }, args) if args.len() == 2 => {
                self.types.intern(TyKind::Tuple(args))
            }
            _ => TyId::UNKNOWN,
        }
    }

    fn check_call(&mut self, checker: &Checker<'_>, call: usize) -> (CallTarget, TyId) {
        let fact = &checker.body.calls[call];
        let arg_tys: Vec<TyId> = fact
            .args
            .iter()
            .map(|arg| checker.types.value_ty[arg.index()])
            .collect();
        let has_closure_arg = fact
            .args
            .iter()
            .any(|arg| matches!(checker.body.values[arg.index()], Value::Closure(_)));
        match &fact.callee {
            Callee::Path(path) => self.check_path_call(checker, path, &arg_tys),
            Callee::Method { receiver, name, .. } => {
                let receiver_ty = checker.types.value_ty[receiver.index()];
                let (target, ty) =
                    self.check_method_call(receiver_ty, name, &arg_tys, has_closure_arg);
                // A receiver of unknown type, or of a type from outside the module whose
                // methods are not known (`utils.RWMutex` of a dependency).
                let foreign = {
                    let ty = self.types.autoderef(receiver_ty);
                    ty.is_unknown() || matches!(self.types.kind(ty), TyKind::Opaque(_))
                };
                if target == CallTarget::Unknown
                    && self.language == crate::source::Language::Go
                    && foreign
                {
                    // A route's pattern is written where it is registered: a literal or a
                    // constant.
                    let route = fact.args.first().is_some_and(|arg| {
                        matches!(
                            checker.body.values[arg.index()],
                            Value::Literal | Value::Path(_)
                        )
                    });
                    if let Some(kind) =
                        known::go_unknown_receiver_spawn(name, fact.args.len(), route)
                    {
                        return (CallTarget::Lib(LibCall::Spawn(kind)), TyId::UNKNOWN);
                    }
                    if known::go_unknown_receiver_join(name, fact.args.len()) {
                        return (CallTarget::Lib(LibCall::Join), TyId::UNKNOWN);
                    }
                    if let Some(call) = known::go_unknown_receiver_lock(name, fact.args.len()) {
                        return (CallTarget::Lib(call), TyId::UNKNOWN);
                    }
                }
                (target, ty)
            }
            Callee::Dynamic(callee) => {
                // A function literal called where it is written (Go's `func(){..}()`), or a
                // local bound to one (`fail := func() {..}; fail()`, `let f = || ..; f()`).
                let closure = match &checker.body.values[callee.index()] {
                    Value::Closure(closure) => Some(*closure),
                    Value::Local(_) => crate::graph::calls::closure_of(checker.body, *callee),
                    _ => None,
                };
                match closure {
                    Some(closure) => {
                        let function = self.function_id(checker.file, closure);
                        (
                            CallTarget::Function(function),
                            self.functions[function.index()].ret_ty,
                        )
                    }
                    None => (CallTarget::Unknown, TyId::UNKNOWN),
                }
            }
        }
    }

    /// Go's builtins, library functions and the frontend's pseudo-calls.
    fn check_go_path_call(
        &mut self,
        checker: &Checker<'_>,
        path: &PathExpr,
        arg_tys: &[TyId],
    ) -> Option<(CallTarget, TyId)> {
        let external = match self
            .tree
            .resolve(checker.module, &path.segments, path.leading_colon)
        {
            Some(Resolved::External(external)) => external,
            _ => return None,
        };
        let segments: Vec<&str> = external.iter().map(|segment| &**segment).collect();
        // The end of a `for range` loop: a join when it ranged over a channel (the loop ends
        // when the sender closes it).
        if segments == [crate::model::facts::RANGE_END] {
            let first = arg_tys.first().copied().unwrap_or(TyId::UNKNOWN);
            return matches!(
                self.types.kind(self.types.strip_refs(first)),
                TyKind::Lib(LibTy::Channel, _)
            )
            .then_some((CallTarget::Lib(LibCall::Join), TyId::UNKNOWN));
        }
        let call = known::go_function(&segments)?;
        let first = arg_tys.first().copied().unwrap_or(TyId::UNKNOWN);
        let ty = match call {
            LibCall::Construct(_) => {
                let declared = match path.args.first() {
                    Some(ty) => self.resolve_type(checker.module, ty, &checker.context),
                    None => first,
                };
                if segments == ["new"] && !declared.is_unknown() {
                    self.types.intern(TyKind::Ref(declared, true))
                } else {
                    declared
                }
            }
            LibCall::Map { .. } => {
                // `len(s)` of a slice or a string is not a map read.
                self.types.map(first)?;
                TyId::UNKNOWN
            }
            LibCall::Spawn(_) => self.types.lib(LibTy::JoinHandle, Vec::new()),
            _ => TyId::UNKNOWN,
        };
        Some((CallTarget::Lib(call), ty))
    }

    fn check_path_call(
        &mut self,
        checker: &Checker<'_>,
        path: &PathExpr,
        arg_tys: &[TyId],
    ) -> (CallTarget, TyId) {
        if self.language == crate::source::Language::Go {
            if let Some(result) = self.check_go_path_call(checker, path, arg_tys) {
                return result;
            }
        }
        if let Some(call) = self.extensions.path_call(&path.segments) {
            return self.configured_call(call, None, arg_tys, path.last());
        }
        if let Some(qself) = &path.qself {
            let ty = self.resolve_type(checker.module, qself, &checker.context);
            return self.associated_call(ty, path.last(), arg_tys);
        }
        if path.segments.len() == 2 && &*path.segments[0] == "Self" {
            let ty = checker.context.self_ty.unwrap_or(TyId::UNKNOWN);
            return self.associated_call(ty, &path.segments[1], arg_tys);
        }
        match self
            .tree
            .resolve(checker.module, &path.segments, path.leading_colon)
        {
            Some(Resolved::Item(ItemRef::Function(function), extra)) if extra.is_empty() => (
                CallTarget::Function(function),
                self.functions[function.index()].ret_ty,
            ),
            Some(Resolved::Item(ItemRef::Adt(adt), extra)) if extra.is_empty() => {
                (CallTarget::Construct(adt), self.adt_type(adt, Vec::new()))
            }
            Some(Resolved::Item(ItemRef::Adt(adt), extra)) if extra.len() == 1 => {
                let args = path
                    .args
                    .iter()
                    .map(|arg| self.resolve_type(checker.module, arg, &checker.context))
                    .collect();
                let ty = self.adt_type(adt, args);
                self.associated_call(ty, &extra[0], arg_tys)
            }
            // `Trait::method(x, ..)` (also `crate::Trait::method`): the method of the first
            // argument's type, as `x.method(..)` would call it.
            Some(Resolved::Item(ItemRef::Trait, extra)) if extra.len() == 1 => {
                match arg_tys.first() {
                    Some(&receiver) => {
                        self.check_method_call(receiver, &extra[0], &arg_tys[1..], false)
                    }
                    None => (CallTarget::Unknown, TyId::UNKNOWN),
                }
            }
            Some(Resolved::Item(ItemRef::Alias(alias), extra)) if extra.len() == 1 => {
                let args = path
                    .args
                    .iter()
                    .map(|arg| self.resolve_type(checker.module, arg, &checker.context))
                    .collect();
                let ty = self.expand_alias(alias, args, 0);
                self.associated_call(ty, &extra[0], arg_tys)
            }
            Some(Resolved::External(external)) => {
                let segments: Vec<&str> = external.iter().map(|segment| &**segment).collect();
                if let Some(call) = self.extensions.path_call(&segments) {
                    return self.configured_call(call, None, arg_tys, path.last());
                }
                let extensions = self.extensions.clone();
                let type_of = |type_path: &[&str]| {
                    extensions
                        .lib_type(type_path)
                        .or_else(|| classify_lib_type(type_path))
                };
                match known::external_function(&segments, type_of) {
                    Some(call) => {
                        let type_path = &segments[..segments.len().saturating_sub(1)];
                        let lib = type_of(type_path);
                        let ty = self.lib_call_type(
                            call,
                            None,
                            arg_tys,
                            segments.last().copied().unwrap_or(""),
                            lib,
                        );
                        (CallTarget::Lib(call), ty)
                    }
                    None => (CallTarget::Unknown, TyId::UNKNOWN),
                }
            }
            _ => (CallTarget::Unknown, TyId::UNKNOWN),
        }
    }

    /// `Type::name(args)`.
    fn associated_call(&mut self, ty: TyId, name: &str, arg_tys: &[TyId]) -> (CallTarget, TyId) {
        match self.types.kind(ty).clone() {
            TyKind::Adt(adt, _) => {
                if let Some(&function) = self.adts[adt.0 as usize]
                    .methods
                    .get(name)
                    .and_then(|methods| methods.first())
                {
                    let ret = self.functions[function.index()].ret_ty;
                    return (CallTarget::Function(function), ret);
                }
                if name == "default" {
                    return (CallTarget::Construct(adt), ty);
                }
                (CallTarget::Unknown, TyId::UNKNOWN)
            }
            TyKind::Lib(lib, _) => match known::type_function(lib, name) {
                Some(call) => {
                    // UFCS: `Mutex::lock(&m)`, `Arc::clone(&a)`: the first argument is the receiver.
                    let receiver = arg_tys.first().copied();
                    let ty = self.lib_call_type(call, receiver, arg_tys, name, Some(lib));
                    (CallTarget::Lib(call), ty)
                }
                None => (CallTarget::Unknown, TyId::UNKNOWN),
            },
            _ => (CallTarget::Unknown, TyId::UNKNOWN),
        }
    }

    fn check_method_call(
        &mut self,
        receiver_ty: TyId,
        name: &str,
        arg_tys: &[TyId],
        has_closure_arg: bool,
    ) -> (CallTarget, TyId) {
        self.check_method_call_at(receiver_ty, name, arg_tys, has_closure_arg, 0)
    }

    /// `depth`: how many embedded fields the method is looked for through (Go structs may
    /// embed each other in a cycle through pointers).
    fn check_method_call_at(
        &mut self,
        receiver_ty: TyId,
        name: &str,
        arg_tys: &[TyId],
        has_closure_arg: bool,
        depth: u32,
    ) -> (CallTarget, TyId) {
        if name == "clone" && arg_tys.is_empty() {
            let ty = self.types.strip_refs(receiver_ty);
            return match self.types.kind(ty).clone() {
                TyKind::Lib(LibTy::Arc | LibTy::Rc | LibTy::Weak, _)
                | TyKind::Unknown
                | TyKind::Param(_) => (CallTarget::Lib(LibCall::Clone { shares: true }), ty),
                TyKind::Adt(adt, _) => match self.adts[adt.0 as usize]
                    .methods
                    .get("clone")
                    .and_then(|methods| methods.first())
                {
                    Some(&function) => (CallTarget::Function(function), ty),
                    None => (CallTarget::Lib(LibCall::Clone { shares: false }), ty),
                },
                _ => (CallTarget::Lib(LibCall::Clone { shares: false }), ty),
            };
        }
        if let Some(call) = self.configured_method(receiver_ty, name) {
            return self.configured_call(call, Some(receiver_ty), arg_tys, name);
        }
        let go = self.language == crate::source::Language::Go;
        let mut ty = receiver_ty;
        for _ in 0..10 {
            match self.types.kind(ty).clone() {
                TyKind::Adt(adt, _) => {
                    if let Some(&function) = self.adts[adt.0 as usize]
                        .methods
                        .get(name)
                        .and_then(|methods| methods.first())
                    {
                        let ret = self.functions[function.index()].ret_ty;
                        return (CallTarget::Function(function), ret);
                    }
                    // Go promotes the methods of embedded fields (`s.Lock()` on a struct that
                    // embeds `sync.Mutex`).
                    if go && depth < MAX_PROMOTION_DEPTH {
                        for field in self.embedded_field_types(adt) {
                            let promoted = self.check_method_call_at(
                                field,
                                name,
                                arg_tys,
                                has_closure_arg,
                                depth + 1,
                            );
                            if promoted.0 != CallTarget::Unknown {
                                return promoted;
                            }
                        }
                    }
                }
                // A trait object: the program's only implementation of the method, if there is
                // just one (otherwise the call could go to any of them).
                TyKind::Dyn(trait_name) => {
                    if let Some(function) = self.only_trait_method(&trait_name, name) {
                        let ret = self.functions[function.index()].ret_ty;
                        return (CallTarget::Function(function), ret);
                    }
                }
                TyKind::Lib(lib, _) if go => {
                    // A method of a named type over a map or a slice (`type Table map[K]V`).
                    if let Some(function) = self.go_method(ty, name) {
                        let ret = self.functions[function.index()].ret_ty;
                        return (CallTarget::Function(function), ret);
                    }
                    if let Some(call) = known::go_method(lib, name) {
                        let ret = self.lib_call_type(call, Some(ty), arg_tys, name, Some(lib));
                        return (CallTarget::Lib(call), ret);
                    }
                }
                TyKind::Lib(lib, _) => {
                    if let Some(call) = known::lib_method(lib, name, arg_tys.len()) {
                        let ret = self.lib_call_type(call, Some(ty), arg_tys, name, Some(lib));
                        return (CallTarget::Lib(call), ret);
                    }
                }
                _ => {}
            }
            let next = self.deref_type(ty);
            if next.is_unknown() {
                break;
            }
            ty = next;
        }
        // Calls the receiver's type does not explain.
        if known::is_spawn_name(name) && has_closure_arg {
            return (
                CallTarget::Lib(LibCall::Spawn(known::SpawnKind::Task)),
                TyId::UNKNOWN,
            );
        }
        if let Some(call) = known::handler_method(name) {
            let ret = self.lib_call_type(call, Some(receiver_ty), arg_tys, name, None);
            return (CallTarget::Lib(call), ret);
        }
        let receiver_unknown = self.types.autoderef(receiver_ty).is_unknown();
        // (Rust only: a Go method `lock()` of an unknown receiver is a method of the program
        // reached through an interface or a value, and Go's own locks have known types.)
        if receiver_unknown && arg_tys.is_empty() && !go {
            if let Some((mode, attempt)) = known::lock_method(name) {
                // Whether this is a lock at all is decided by how its result is handled.
                return (
                    CallTarget::Lib(LibCall::Lock {
                        mode,
                        attempt,
                        flavor: LockFlavor::Unknown,
                    }),
                    TyId::UNKNOWN,
                );
            }
            if name == "join" {
                return (CallTarget::Lib(LibCall::Join), TyId::UNKNOWN);
            }
        }
        (CallTarget::Unknown, TyId::UNKNOWN)
    }

    /// The type a known library call returns.
    /// A call the project's configuration names as a spawn or a defer guard.
    fn configured_call(
        &mut self,
        call: LibCall,
        receiver: Option<TyId>,
        arg_tys: &[TyId],
        name: &str,
    ) -> (CallTarget, TyId) {
        let ty = self.lib_call_type(call, receiver, arg_tys, name, None);
        (CallTarget::Lib(call), ty)
    }

    /// A method the configuration names: by name alone, or with the name of the receiver's
    /// type or of a type it dereferences to (`Arc<Pool>`).
    fn configured_method(&mut self, receiver_ty: TyId, name: &str) -> Option<LibCall> {
        if self.extensions.spawn_functions.is_empty() && self.extensions.defer_guards.is_empty() {
            return None;
        }
        let mut ty = receiver_ty;
        for _ in 0..6 {
            let type_name = match self.types.kind(ty) {
                TyKind::Adt(adt, _) => Some(self.adts[adt.0 as usize].name.to_string()),
                TyKind::Opaque(name) => Some(name.to_string()),
                _ => None,
            };
            if let Some(call) = self.extensions.method_call(name, type_name.as_deref()) {
                return Some(call);
            }
            let next = self.deref_type(ty);
            if next.is_unknown() {
                break;
            }
            ty = next;
        }
        self.extensions.method_call(name, None)
    }

    fn lib_call_type(
        &mut self,
        call: LibCall,
        receiver: Option<TyId>,
        arg_tys: &[TyId],
        name: &str,
        lib: Option<LibTy>,
    ) -> TyId {
        let receiver = receiver.unwrap_or(TyId::UNKNOWN);
        match call {
            LibCall::Lock {
                flavor, attempt, ..
            } => {
                let protected = match flavor {
                    // A `RefCell`'s contents; a sharded map's value.
                    LockFlavor::RefCell => self.types.arg(self.types.autoderef(receiver), 0),
                    LockFlavor::Shard => self
                        .types
                        .map(receiver)
                        .map(|(_, value)| value)
                        .unwrap_or(TyId::UNKNOWN),
                    _ => self
                        .types
                        .lock(receiver)
                        .map(|(_, _, inner)| inner)
                        .unwrap_or(TyId::UNKNOWN),
                };
                let guard = self.types.lib(LibTy::Guard { flavor }, vec![protected]);
                match (flavor, attempt) {
                    (LockFlavor::Go, _) => TyId::UNKNOWN,
                    // `get`/`get_mut` give an `Option` of the reference; `entry` and `iter` a
                    // type the analyses do not look into.
                    (LockFlavor::Shard, _) => match name {
                        "get" | "get_mut" | "try_get" | "try_get_mut" => {
                            self.types.lib(LibTy::Option, vec![guard])
                        }
                        _ => TyId::UNKNOWN,
                    },
                    (LockFlavor::RefCell, LockAttempt::Try) => {
                        self.types.lib(LibTy::Result, vec![guard])
                    }
                    (LockFlavor::Std | LockFlavor::Unknown, _) => {
                        self.types.lib(LibTy::Result, vec![guard])
                    }
                    (LockFlavor::ParkingLot | LockFlavor::Spin, LockAttempt::Try) => {
                        self.types.lib(LibTy::Option, vec![guard])
                    }
                    (LockFlavor::Tokio | LockFlavor::AsyncOther, LockAttempt::Try) => {
                        self.types.lib(LibTy::Result, vec![guard])
                    }
                    _ => guard,
                }
            }
            LibCall::Unwrap | LibCall::Expect | LibCall::UnwrapOr => {
                let payload = self.payload_type(self.types.strip_refs(receiver), false);
                if payload.is_unknown() {
                    self.payload_type(receiver, false)
                } else {
                    payload
                }
            }
            LibCall::Map { kind, .. } => {
                let Some((_, value)) = self.types.map(receiver) else {
                    return TyId::UNKNOWN;
                };
                match (kind, name) {
                    (_, "insert" | "remove" | "swap_remove" | "shift_remove")
                        if !value.is_unknown() =>
                    {
                        self.types.lib(LibTy::Option, vec![value])
                    }
                    (MapOpKind::Read, "get") if !value.is_unknown() => {
                        let reference = self.types.intern(TyKind::Ref(value, false));
                        self.types.lib(LibTy::Option, vec![reference])
                    }
                    // `(key, value)` pairs taken out of the map.
                    (_, "pop_first" | "pop_last" | "remove_entry") if !value.is_unknown() => {
                        let key = self.types.arg(self.types.autoderef(receiver), 0);
                        let pair = self.types.intern(TyKind::Tuple(vec![key, value]));
                        self.types.lib(LibTy::Option, vec![pair])
                    }
                    (MapOpKind::Write, "get_mut") if !value.is_unknown() => {
                        let reference = self.types.intern(TyKind::Ref(value, true));
                        self.types.lib(LibTy::Option, vec![reference])
                    }
                    // Iterators borrow what they yield; like `drain`'s, their type is the
                    // sequence of their items, so that a `for` loop and a pattern type them.
                    (
                        MapOpKind::Read | MapOpKind::Write,
                        "iter" | "iter_mut" | "range" | "keys" | "values" | "values_mut",
                    ) => {
                        let map = self.types.autoderef(receiver);
                        let (key, is_set) = match self.types.kind(map) {
                            TyKind::Lib(LibTy::Map { is_set, .. }, args) => {
                                (args.first().copied().unwrap_or(TyId::UNKNOWN), *is_set)
                            }
                            _ => (TyId::UNKNOWN, false),
                        };
                        let mutable = name.ends_with("_mut");
                        let key_ref = self.types.intern(TyKind::Ref(key, false));
                        let value_ref = self.types.intern(TyKind::Ref(value, mutable));
                        let item = match name {
                            _ if is_set => key_ref,
                            "keys" => key_ref,
                            "values" | "values_mut" => value_ref,
                            _ => self.types.intern(TyKind::Tuple(vec![key_ref, value_ref])),
                        };
                        if value.is_unknown() && !(is_set || name == "keys") {
                            TyId::UNKNOWN
                        } else {
                            self.types.lib(LibTy::Vec, vec![item])
                        }
                    }
                    (MapOpKind::Drain, _) => {
                        let map = self.types.autoderef(receiver);
                        let element = self.element_type(map);
                        if element.is_unknown() {
                            TyId::UNKNOWN
                        } else {
                            self.types.lib(LibTy::Vec, vec![element])
                        }
                    }
                    _ => TyId::UNKNOWN,
                }
            }
            LibCall::Seq { kind } => {
                let sequence = self.types.autoderef(receiver);
                let element = match self.types.kind(sequence) {
                    TyKind::Lib(LibTy::Vec, args) => args.first().copied().unwrap_or(TyId::UNKNOWN),
                    _ => TyId::UNKNOWN,
                };
                if element.is_unknown() {
                    return TyId::UNKNOWN;
                }
                match (kind, name) {
                    (_, "pop" | "pop_front" | "pop_back") => {
                        self.types.lib(LibTy::Option, vec![element])
                    }
                    (_, "remove" | "swap_remove" | "swap_remove_back" | "swap_remove_front") => {
                        element
                    }
                    (_, "get" | "first" | "last") => {
                        let reference = self.types.intern(TyKind::Ref(element, false));
                        self.types.lib(LibTy::Option, vec![reference])
                    }
                    (_, "get_mut" | "first_mut" | "last_mut") => {
                        let reference = self.types.intern(TyKind::Ref(element, true));
                        self.types.lib(LibTy::Option, vec![reference])
                    }
                    (MapOpKind::Drain, _) | (_, "split_off") => {
                        self.types.lib(LibTy::Vec, vec![element])
                    }
                    _ => TyId::UNKNOWN,
                }
            }
            LibCall::TakeOut => {
                // The first argument is `&mut place`: the result is the place's old value.
                let destination = arg_tys.first().copied().unwrap_or(TyId::UNKNOWN);
                match self.types.kind(destination) {
                    TyKind::Ref(inner, _) => *inner,
                    _ => TyId::UNKNOWN,
                }
            }
            LibCall::Spawn(_) => self.types.lib(LibTy::JoinHandle, Vec::new()),
            LibCall::ScopeGuard => {
                let value = arg_tys.first().copied().unwrap_or(TyId::UNKNOWN);
                self.types.lib(LibTy::ScopeGuard, vec![value])
            }
            LibCall::Clone { .. } => {
                let source = if receiver.is_unknown() {
                    arg_tys.first().copied().unwrap_or(TyId::UNKNOWN)
                } else {
                    receiver
                };
                self.types.strip_refs(source)
            }
            LibCall::Wrap(wrapper, _) => {
                let inner = arg_tys.first().copied().unwrap_or(TyId::UNKNOWN);
                self.types.lib(wrapper, vec![inner])
            }
            LibCall::Construct(constructed) => match lib {
                Some(lib) => self.types.lib(lib, Vec::new()),
                None if constructed == LibTy::Transparent => TyId::UNKNOWN,
                None => self.types.lib(constructed, Vec::new()),
            },
            LibCall::Upgrade => {
                let weak = self.types.strip_refs(receiver);
                let weak = if weak.is_unknown() {
                    self.types
                        .strip_refs(arg_tys.first().copied().unwrap_or(TyId::UNKNOWN))
                } else {
                    weak
                };
                match self.types.kind(weak).clone() {
                    TyKind::Lib(LibTy::Weak, args) => {
                        let arc = self.types.lib(LibTy::Arc, args);
                        self.types.lib(LibTy::Option, vec![arc])
                    }
                    _ => TyId::UNKNOWN,
                }
            }
            LibCall::Downgrade => {
                let arc = self
                    .types
                    .strip_refs(arg_tys.first().copied().unwrap_or(receiver));
                match self.types.kind(arc).clone() {
                    TyKind::Lib(LibTy::Arc | LibTy::Rc, args) => self.types.lib(LibTy::Weak, args),
                    _ => TyId::UNKNOWN,
                }
            }
            LibCall::RawGet => {
                let cell = self.types.autoderef(receiver);
                match self.types.kind(cell).clone() {
                    TyKind::Lib(LibTy::UnsafeCell, args) if !args.is_empty() => {
                        self.types.intern(TyKind::Ptr(args[0], true))
                    }
                    _ => TyId::UNKNOWN,
                }
            }
            LibCall::Access => {
                // Access to the contents is a borrow, except `take()`, which moves the payload
                // out of an `Option`, and `into_inner()`, which consumes the wrapper.
                let owned = self.types.strip_refs(receiver);
                if matches!(name, "take") {
                    return owned;
                }
                let inner = self.types.autoderef(receiver);
                let content = match self.types.kind(inner).clone() {
                    TyKind::Lib(
                        LibTy::Mutex(_)
                        | LibTy::RwLock(_)
                        | LibTy::UnsafeCell
                        | LibTy::Cell
                        | LibTy::RefCell,
                        args,
                    ) => args.first().copied().unwrap_or(TyId::UNKNOWN),
                    TyKind::Lib(LibTy::Option | LibTy::Result, args) => {
                        // `as_ref()` / `as_mut()`: `Option<&T>`.
                        let payload = args.first().copied().unwrap_or(TyId::UNKNOWN);
                        if payload.is_unknown() {
                            return TyId::UNKNOWN;
                        }
                        let reference = self.types.intern(TyKind::Ref(payload, false));
                        let wrapper = self.types.as_lib(inner).unwrap_or(LibTy::Option);
                        return self.types.lib(wrapper, vec![reference]);
                    }
                    _ => inner,
                };
                if matches!(name, "into_inner") {
                    return content;
                }
                if content.is_unknown() {
                    content
                } else {
                    self.types.intern(TyKind::Ref(content, true))
                }
            }
            LibCall::Exit => self.types.intern(TyKind::Never),
            LibCall::Forget
            | LibCall::Join
            | LibCall::Unlock { .. }
            | LibCall::Done
            | LibCall::RunOnce
            | LibCall::LocalKey { .. } => TyId::UNKNOWN,
        }
    }
}
