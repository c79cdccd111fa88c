//! `tls-map-access-in-defer`: `LocalKey::with` on a thread-local map in `Drop` code of values
//! that are themselves kept in a thread-local, and so die while the thread's locals are being
//! destroyed.

use deferlint_core::analysis::deferred::DeferredRoot;
use deferlint_core::diagnostic::{Diagnostic, Label};
use deferlint_core::model::facts::{CallId, Callee, StaticKind, Value};
use deferlint_core::model::modules::{FunctionId, StaticId};
use deferlint_core::model::types::{AdtId, LibTy, TyId, TyKind};
use deferlint_core::model::{CallTarget, ItemRef, LibCall, Program, Resolved};

use crate::Context;
use crate::wording::{adt_name, call_path_note, when_it_runs};

crate::declare_rule! {
    /// ### What it does
    /// Finds `LocalKey::with` (and `with_borrow`, `with_borrow_mut`, `set`, `take`,
    /// `replace`, `get`) on a `thread_local!` map inside `Drop` code — the `drop` body and the
    /// functions it calls — of a type whose values are kept in a thread-local themselves (in
    /// the same key or another one), or that a library's public API hands to other crates
    /// (`pub fn enter() -> Scope`), which may keep them in thread-locals of their own.
    ///
    /// ### Why is this bad?
    /// When a thread exits, its thread-local values are destroyed one key at a time, in an
    /// order the program does not control. A value kept in a thread-local dies then, and its
    /// `Drop` runs while other keys — or its own — are already destroyed or being destroyed.
    /// `with` on such a key panics ("cannot access a Thread Local Storage value during or
    /// after destruction"), and a panic in a thread-local's destructor aborts the process.
    ///
    /// ### Example
    /// ```rust
    /// thread_local! {
    ///     static OPEN: RefCell<HashMap<u64, String>> = RefCell::new(HashMap::new());
    ///     static CURRENT: RefCell<Option<Span>> = const { RefCell::new(None) };
    /// }
    /// impl Drop for Span {
    ///     fn drop(&mut self) {
    ///         OPEN.with(|open| open.borrow_mut().remove(&self.id));
    ///     }
    /// }
    /// ```
    ///
    /// ### Use instead
    /// `try_with`, and accept the `Err`: when the key is gone, so is the map.
    /// ```rust
    /// let _ = OPEN.try_with(|open| open.borrow_mut().remove(&self.id));
    /// ```
    /// This is not offered as an automatic edit: `try_with` returns a `Result`, and what to
    /// do when it fails is the code's decision.
    ///
    /// ### Known limitations
    /// Values kept in a `thread_local!` of the crate count: through the key's type, the
    /// fields of the structs it holds, boxes, `Rc`s, collections and trait objects of the
    /// crate's types. Values behind an `Arc` are not (another thread may keep them alive). A
    /// library's type counts when it is a guard of the thread's context: a public function of
    /// the library that uses the same thread-local returns it (as is, or in an `Option` or
    /// `Result`), and it holds plain values only (numbers, strings, ids, `PhantomData`); a
    /// resource object that owns more, or a type users get some other way, is not seen. A
    /// binary's types count only through its own thread-locals.
    /// Scope guards (`defer!`) are not considered, since they die with their scope.
    /// The map may be the key's value or inside a cell, a lock, an `Option` or a struct field.
    pub static TLS_MAP_ACCESS_IN_DEFER = {
        name: "tls-map-access-in-defer",
        category: Suspicious,
        languages: [Rust],
        summary: "`LocalKey::with` on a thread-local map in `Drop` of a value kept in a thread-local: it panics while the thread exits",
    };
}

/// One access to a thread-local map.
struct Access {
    function: FunctionId,
    owner: FunctionId,
    call: CallId,
    key: StaticId,
}

/// What keeps the guard alive until its thread's locals are destroyed.
#[derive(Clone, Copy)]
enum Keeper {
    /// A thread-local of the crate holds such values.
    ThreadLocal(StaticId),
    /// A public function of the library hands such a value to other crates, which may keep
    /// it in their own thread-locals (as users of tokio's `EnterGuard` did).
    HandedOut(FunctionId),
}

fn diagnostic(
    context: &Context<'_>,
    access: &Access,
    root: DeferredRoot,
    keeper: Keeper,
) -> Diagnostic {
    let program = context.program;
    let analyses = context.analyses;
    let call = program.body(access.owner).call(access.call);
    let key = program.static_item(access.key);
    let DeferredRoot::Drop(adt, _) = root else {
        unreachable!("only `Drop` roots are checked")
    };
    let type_name = adt_name(program, adt);
    let method = match &call.callee {
        Callee::Method { name, .. } => name.to_string(),
        _ => "with".to_string(),
    };
    let mut diagnostic = Diagnostic::new(
        TLS_MAP_ACCESS_IN_DEFER.name,
        context.severity,
        format!(
            "`{}.{method}(..)` in `Drop` for `{type_name}` can run after `{}` is destroyed, when the thread exits",
            key.name, key.name
        ),
        Label::new(
            call.span,
            format!(
                "panics if `{}` is already destroyed: \"cannot access a Thread Local Storage value during or after destruction\"",
                key.name
            ),
        ),
    );
    let holder = match keeper {
        Keeper::ThreadLocal(holder) => {
            let holder_item = program.static_item(holder);
            diagnostic = diagnostic.with_label(Label::new(
                holder_item.span,
                format!(
                    "`{}` keeps `{type_name}` values: they are dropped while the thread's locals are destroyed",
                    holder_item.name
                ),
            ));
            Some(holder)
        }
        Keeper::HandedOut(function) => {
            diagnostic = diagnostic.with_label(Label::new(
                program.fact(function).span,
                format!(
                    "`{}` hands a `{type_name}` to other crates: a caller may keep it in a thread-local of its own, which is destroyed with the thread",
                    program.function_name(function)
                ),
            ));
            None
        }
    };
    if holder != Some(access.key) {
        diagnostic = diagnostic.with_label(Label::new(
            key.span,
            format!(
                "`{}` may be destroyed first: thread-locals are destroyed in no order the program sets",
                key.name
            ),
        ));
    }
    diagnostic = diagnostic.with_note(format!(
        "{}; a value kept in a thread-local dies when its thread exits, while the thread-locals are destroyed one by one{}",
        when_it_runs(program, analyses, root),
        if holder == Some(access.key) {
            format!(
                ", and `{}` is being destroyed while its own value's `Drop` runs",
                key.name
            )
        } else {
            String::new()
        }
    ));
    if let Some(note) = call_path_note(program, analyses, access.function, root) {
        diagnostic = diagnostic.with_note(note);
    }
    diagnostic
        .with_note("a panic in a thread-local's destructor aborts the process")
        .with_help(format!(
            "use `{}.try_with(..)` and accept the `Err`: once the key is destroyed, its map is gone with the thread anyway",
            key.name
        ))
        .with_note(
            "no automatic edit: `try_with` returns a `Result`, and what to do when it fails is the code's decision",
        )
}

pub fn check(context: &Context<'_>) -> Vec<Diagnostic> {
    let program = context.program;
    let analyses = context.analyses;
    let thread_locals: Vec<(StaticId, TyId)> = (0..program.statics.len())
        .map(|index| StaticId(index as u32))
        .filter(|&id| program.static_item(id).kind == StaticKind::ThreadLocal)
        .map(|id| {
            let ty = program.static_item(id).ty;
            (id, program.types.arg(ty, 0))
        })
        .collect();
    if thread_locals.is_empty() {
        return Vec::new();
    }
    let mut diagnostics = Vec::new();
    let accesses = map_accesses(program);
    for access in &accesses {
        if !context.reports_in(access.function) {
            continue;
        }
        if context.deferred_reach(access.function).is_none() {
            continue;
        }
        // Every `Drop` root the access is reached from, shallowest first: the first whose
        // type a thread-local keeps.
        let found = analyses
            .deferred
            .reaches(access.function)
            .iter()
            .filter(|reach| reach.depth <= crate::MAX_DEFERRED_DEPTH)
            .find_map(|reach| {
                let DeferredRoot::Drop(_, drop_fn) = reach.root else {
                    return None;
                };
                thread_locals
                    .iter()
                    .find(|(_, value_ty)| {
                        analyses
                            .glue
                            .glue_of_last_owner(program, *value_ty)
                            .contains(&drop_fn)
                    })
                    .map(|(holder, _)| (reach.root, *holder))
            });
        let found = found
            .map(|(root, holder)| (root, Keeper::ThreadLocal(holder)))
            .or_else(|| handed_out(context, access, &accesses));
        if let Some((root, keeper)) = found {
            diagnostics.push(diagnostic(context, access, root, keeper));
        }
    }
    diagnostics
}

/// A `Drop` the access is reached from whose type the library's public API returns (as is,
/// or in an `Option` or `Result`) from code that uses the same thread-local: a guard of the
/// thread's context (enter sets it, the guard's `Drop` resets it), which the crates that use
/// the library may keep for the thread's lifetime, in a thread-local of their own.
fn handed_out(
    context: &Context<'_>,
    access: &Access,
    accesses: &[Access],
) -> Option<(DeferredRoot, Keeper)> {
    let program = context.program;
    let analyses = context.analyses;
    let uses_key = |giver: FunctionId| {
        analyses
            .calls
            .reachable_in_task(&[giver])
            .into_iter()
            .any(|function| {
                accesses
                    .iter()
                    .any(|other| other.key == access.key && other.function == function)
            })
    };
    analyses
        .deferred
        .reaches(access.function)
        .iter()
        .filter(|reach| reach.depth <= crate::MAX_DEFERRED_DEPTH)
        .find_map(|reach| {
            let DeferredRoot::Drop(adt, _) = reach.root else {
                return None;
            };
            program
                .function_ids()
                .find(|&candidate| {
                    let fact = program.fact(candidate);
                    fact.is_public
                        && !fact.is_test
                        && fact.kind.parent().is_none()
                        && program.is_library_code(candidate)
                        && returns_adt(program, program.function(candidate).ret_ty, adt)
                        && uses_key(candidate)
                })
                .filter(|_| is_plain_guard(program, adt, 0))
                .map(|giver| (reach.root, Keeper::HandedOut(giver)))
        })
}

/// A guard of the thread's context holds plain values only (numbers, booleans, strings, ids,
/// `PhantomData`, other such guards): a resource object that owns more (handles, buffers, cells)
/// is kept by its owner's structures, not parked for a thread's lifetime.
fn is_plain_guard(program: &Program, adt: AdtId, depth: u32) -> bool {
    depth < 3
        && program
            .adt(adt)
            .fields
            .iter()
            .all(|&(_, ty)| is_plain_value(program, ty, depth))
}

fn is_plain_value(program: &Program, ty: TyId, depth: u32) -> bool {
    let types = &program.types;
    match types.kind(ty) {
        TyKind::Opaque(name) => matches!(
            &**name,
            "u8" | "u16"
                | "u32"
                | "u64"
                | "u128"
                | "usize"
                | "i8"
                | "i16"
                | "i32"
                | "i64"
                | "i128"
                | "isize"
                | "bool"
                | "char"
                | "PhantomData"
                | "NonZeroU64"
                | "NonZeroU32"
                | "NonZeroUsize"
        ),
        TyKind::Lib(LibTy::String, _) => true,
        TyKind::Lib(LibTy::Option, args) => args
            .iter()
            .all(|&arg| is_plain_value(program, arg, depth + 1)),
        TyKind::Tuple(elements) => elements
            .iter()
            .all(|&element| is_plain_value(program, element, depth + 1)),
        TyKind::Adt(inner, _) => is_plain_guard(program, *inner, depth + 1),
        _ => false,
    }
}

/// The type is the data type, or an `Option`/`Result` of it.
fn returns_adt(program: &Program, ty: TyId, adt: AdtId) -> bool {
    let types = &program.types;
    if let TyKind::Adt(found, _) = types.kind(ty) {
        return *found == adt;
    }
    match types.as_lib(ty) {
        Some(LibTy::Option | LibTy::Result) => {
            matches!(types.kind(types.arg(ty, 0)), TyKind::Adt(found, _) if *found == adt)
        }
        _ => false,
    }
}

/// Every panicking access (`with` and friends) to a thread-local whose value holds a map.
fn map_accesses(program: &Program) -> Vec<Access> {
    let mut accesses = Vec::new();
    for owner in program.function_ids() {
        if program.function(owner).owner != owner {
            continue;
        }
        let body = program.body(owner);
        let module = program.function(owner).module;
        let file = program.function(owner).file;
        for (position, call) in body.calls.iter().enumerate() {
            let id = CallId::from_index(position);
            if program.call_target(owner, id)
                != CallTarget::Lib(LibCall::LocalKey { fallible: false })
            {
                continue;
            }
            let Callee::Method { receiver, .. } = &call.callee else {
                continue;
            };
            let Value::Path(path) = body.value(*receiver) else {
                continue;
            };
            let Some(Resolved::Item(ItemRef::Static(key), extra)) =
                program
                    .tree
                    .resolve(module, &path.segments, path.leading_colon)
            else {
                continue;
            };
            if !extra.is_empty() || !holds_map(program, program.static_item(key).ty) {
                continue;
            }
            accesses.push(Access {
                function: program.function_id(file, call.function),
                owner,
                call: id,
                key,
            });
        }
    }
    accesses
}

/// A `LocalKey` whose value holds a map (in a cell, a lock, an `Option`, or a struct's field).
fn holds_map(program: &Program, key_ty: TyId) -> bool {
    program.holds_map(program.types.arg(key_ty, 0))
}
