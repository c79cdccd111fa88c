//! `tls-map-access-in-defer`: `LocalKey::with` on a thread-local map in `Drop` code of values
//! that are themselves kept in a thread-local, and so die while the thread's locals are being
//! destroyed.

use deferlint_core::analysis::deferred::DeferredRoot;
use deferlint_core::diagnostic::{Diagnostic, Label};
use deferlint_core::model::facts::{CallId, Callee, StaticKind, Value};
use deferlint_core::model::modules::{FunctionId, StaticId};
use deferlint_core::model::types::TyId;
use deferlint_core::model::{CallTarget, ItemRef, LibCall, Program, Resolved};

use crate::Context;
use crate::wording::{adt_name, call_path_note, when_it_runs};

crate::declare_rule! {
    /// ### What it does
    /// Finds `LocalKey::with` (and `with_borrow`, `with_borrow_mut`, `set`, `take`,
    /// `replace`, `get`) on a `thread_local!` map inside `Drop` code — the `drop` body and the
    /// functions it calls — of a type whose values are kept in a thread-local themselves (in
    /// the same key or another one).
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
    /// Only values kept in a `thread_local!` of the crate count: through the key's type, the
    /// fields of the structs it holds, boxes, `Rc`s and collections. Values behind an `Arc`
    /// (another thread may keep them alive), behind a trait object (`Box<dyn Any>`), or kept
    /// by a thread-local of another crate are not seen. Scope guards (`defer!`) are not
    /// considered, since they die with their scope.
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

fn diagnostic(
    context: &Context<'_>,
    access: &Access,
    root: DeferredRoot,
    holder: StaticId,
) -> Diagnostic {
    let program = context.program;
    let analyses = context.analyses;
    let call = program.body(access.owner).call(access.call);
    let key = program.static_item(access.key);
    let holder_item = program.static_item(holder);
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
    )
    .with_label(Label::new(
        holder_item.span,
        format!(
            "`{}` keeps `{type_name}` values: they are dropped while the thread's locals are destroyed",
            holder_item.name
        ),
    ));
    if holder != access.key {
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
        if holder == access.key {
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
    for access in map_accesses(program) {
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
        if let Some((root, holder)) = found {
            diagnostics.push(diagnostic(context, &access, root, holder));
        }
    }
    diagnostics
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
