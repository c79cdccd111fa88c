//! `refcell-map-borrow-in-defer`: deferred code borrows a `RefCell` that is still borrowed,
//! in a conflicting way, where the code runs.

use deferlint_core::diagnostic::Diagnostic;
use deferlint_core::model::LockMode;
use deferlint_core::model::types::LockFlavor;

use crate::Context;
use crate::reentry::{ReentryWording, holder_name, reentries, reentry_diagnostic};

crate::declare_rule! {
    /// ### What it does
    /// Finds deferred code (a `Drop::drop` body, a `defer!` body, a scope guard's closure and
    /// the functions they call) that borrows a `RefCell` while a conflicting borrow of the same
    /// `RefCell` is alive where the deferred code runs: a value removed from a
    /// `RefCell<HashMap>` inside `borrow_mut()` whose own `Drop` borrows the map again, a defer
    /// guard declared after a `RefMut`, `drop(value)` while the map is still borrowed.
    ///
    /// ### Why is this bad?
    /// A `RefCell` checks borrows at run time. A second `borrow_mut()` (or a `borrow()` while a
    /// `borrow_mut()` is alive) does not wait: it panics with `BorrowMutError` ("already
    /// borrowed"). Inside `Drop` this is worse: if the drop runs while a panic unwinds the
    /// stack, the second panic aborts the process.
    ///
    /// ### Example
    /// ```rust
    /// struct Session { id: u64, registry: Rc<RefCell<HashMap<u64, Session>>> }
    /// impl Drop for Session {
    ///     fn drop(&mut self) {
    ///         self.registry.borrow_mut().remove(&self.id);
    ///     }
    /// }
    /// // The removed `Session` dies at the `;`, while `borrow_mut()` is still alive.
    /// registry.borrow_mut().remove(&id);
    /// ```
    ///
    /// ### Use instead
    /// Bind the removed value and drop it after the borrow ends:
    /// ```rust
    /// let removed = registry.borrow_mut().remove(&id);
    /// drop(removed);
    /// ```
    /// Or use `try_borrow_mut()` in the deferred code and skip or postpone the work when the
    /// cell is busy.
    ///
    /// ### Known limitations
    /// The `RefCell` must be visibly the same object (the same local, a clone of the same
    /// `Rc`, a field of the same type, an argument of a call in the same crate). Borrows held
    /// across an `.await` by another `spawn_local` task, callbacks stored and called later,
    /// and a `RefMut` kept in a field of a struct (rather than a local) are not followed. A
    /// borrow of a field of the value being dropped itself is not reported. Values stored
    /// behind trait objects (`Rc<RefCell<dyn Any>>`) hide their `Drop`.
    pub static REFCELL_MAP_BORROW_IN_DEFER = {
        name: "refcell-map-borrow-in-defer",
        category: Suspicious,
        languages: [Rust],
        summary: "deferred code borrows a `RefCell` that is still borrowed when it runs: it panics with `BorrowMutError`",
    };
}

pub fn check(context: &Context<'_>) -> Vec<Diagnostic> {
    let is_borrow = |op: &deferlint_core::analysis::locks::LockOp| op.flavor == LockFlavor::RefCell;
    reentries(context, |inner| is_borrow(inner) && inner.blocks(), is_borrow)
        .into_iter()
        .map(|reentry| {
            let program = context.program;
            let cell = program.value_text(reentry.held.owner, reentry.held.receiver);
            let guard = holder_name(program, reentry.run.owner, reentry.holder);
            let (how, error) = match reentry.inner.mode {
                LockMode::Read => ("", "BorrowError"),
                _ => (" mutably", "BorrowMutError"),
            };
            let held_how = match reentry.held.mode {
                LockMode::Read => "borrowed",
                _ => "mutably borrowed",
            };
            let wording = ReentryWording {
                message: format!(
                    "deferred code borrows `{cell}`{how} while {guard} still borrows it"
                ),
                primary: format!(
                    "this panics with `{error}`: `{cell}` is still {held_how} when this runs"
                ),
                held: format!("`{cell}` is {held_how} here"),
                drop_does: format!("borrows `{cell}`"),
                while_held: format!("while {guard} still borrows `{cell}`"),
                callee_does: "the borrow is made".to_string(),
                why: Some(format!(
                    "a `RefCell` allows one mutable borrow or many shared ones at a time; a conflicting borrow does not wait, it panics (`{error}`), and a panic in `Drop` while the stack unwinds aborts the process"
                )),
                help_defer: format!(
                    "declare the defer guard before borrowing `{cell}`, or end the borrow with `drop(..)` first; or use `try_borrow_mut()` in the deferred code and skip or postpone the work when it fails"
                ),
                help_drop: format!(
                    "move the value out of the borrow and drop it after {guard} is gone, or use `try_borrow_mut()` in the deferred code and skip or postpone the work when it fails"
                ),
            };
            reentry_diagnostic(
                context,
                REFCELL_MAP_BORROW_IN_DEFER.name,
                &reentry,
                wording,
            )
        })
        .collect()
}
