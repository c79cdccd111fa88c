//! `sharded-map-ref-held-at-defer`: deferred code writes a sharded map while a reference into
//! the same map still holds a shard lock where the code runs.

use deferlint_core::diagnostic::Diagnostic;
use deferlint_core::model::types::LockFlavor;

use crate::Context;
use crate::reentry::{ReentryWording, holder_name, reentries, reentry_diagnostic};

crate::declare_rule! {
    /// ### What it does
    /// Finds deferred code (a `Drop::drop` body, a `defer!` body, a scope guard's closure and
    /// the functions they call) that writes a `DashMap` (`insert`, `remove`, `get_mut`,
    /// `entry`, `alter`, `retain`...) while a `Ref`, `RefMut`, entry or iterator into the same
    /// map is alive where the deferred code runs: a guard declared after `let r = map.get(..)`,
    /// a value removed from the map whose `Drop` writes the map while an entry is held, a
    /// function returning the `Ref` of a `get` while its locals, whose `Drop` writes the map,
    /// are dropped, an awaited future whose `Drop` writes the map while the caller holds the
    /// `Ref` it returned, and `retain`/`clear` dropping values whose `Drop` writes the map
    /// while the call holds their shard.
    ///
    /// ### Why is this bad?
    /// A `DashMap` reference keeps its shard locked until it is dropped. A write to the same
    /// shard waits for that lock, on the same thread that holds it: the thread hangs forever.
    /// DashMap's own documentation warns that its methods "may deadlock if called when holding
    /// any sort of reference into the map". Whether the two keys fall in the same shard
    /// depends on their hashes, so the hang comes and goes with the data.
    ///
    /// ### Example
    /// ```rust
    /// let entry = sessions.get(&id).unwrap();
    /// scopeguard::defer! { sessions.remove(&id); } // runs first, while `entry` locks the shard
    /// println!("{}", entry.name);
    /// ```
    ///
    /// ### Use instead
    /// Clone the value out and drop the reference first:
    /// ```rust
    /// let name = sessions.get(&id).map(|entry| entry.name.clone());
    /// scopeguard::defer! { sessions.remove(&id); }
    /// ```
    ///
    /// ### Known limitations
    /// The map must be visibly the same object (the same local, a clone of the same `Arc`, a
    /// field of the same type, an argument of a call in the same crate). A reference returned
    /// from `get` or `get_mut` — straight, bound to a local first, through a `match` arm, a
    /// tuple or a struct literal, by a function of the crate, an `async fn`, or a future's
    /// `poll` — is followed into the caller; references stored in the fields of structs are
    /// not. Two keys may fall in different shards: the deadlock needs the
    /// same shard, which the keys' hashes decide, so it comes and goes with the data; the
    /// finding does not depend on the keys. Only DashMap's reference types are modelled as
    /// holding a shard; other sharded maps' references are not.
    pub static SHARDED_MAP_REF_HELD_AT_DEFER = {
        name: "sharded-map-ref-held-at-defer",
        category: Correctness,
        languages: [Rust],
        summary: "deferred code writes a `DashMap` while a reference into it is alive: the shard lock deadlocks",
    };
}

pub fn check(context: &Context<'_>) -> Vec<Diagnostic> {
    let is_shard = |op: &deferlint_core::analysis::locks::LockOp| op.flavor == LockFlavor::Shard;
    reentries(context, |inner| is_shard(inner) && inner.blocks(), is_shard)
        .into_iter()
        .map(|reentry| {
            let program = context.program;
            let map = program.value_text(reentry.held.owner, reentry.held.receiver);
            let guard = holder_name(program, reentry.run.owner, reentry.holder);
            let reference = if reentry.held.holds_guard {
                "a reference into it"
            } else {
                "a shard of it locked"
            };
            let wording = ReentryWording {
                message: format!(
                    "deferred code writes `{map}` while {guard} still holds {reference}"
                ),
                primary: format!(
                    "this can wait forever: {guard} still locks a shard of `{map}` when this runs"
                ),
                held: format!("this reference locks a shard of `{map}` until it is dropped"),
                drop_does: format!("writes `{map}`"),
                while_held: format!("while {guard} still locks a shard of `{map}`"),
                callee_does: "the write is made".to_string(),
                why: Some(if matches!(reentry.holder, deferlint_core::analysis::lock_state::Holder::Within(_)) {
                    "`retain` and `clear` hold each shard's write lock while they drop the values they remove; a value whose `Drop` writes the same shard waits for that lock, on the same thread, forever".to_string()
                } else {
                    "a `DashMap` reference (`Ref`, `RefMut`, an entry, an iterator) keeps its shard locked until it is dropped; a write to the same shard waits for it on the thread that holds it, forever (DashMap: \"may deadlock if called when holding any sort of reference into the map\")".to_string()
                }),
                help_defer: format!(
                    "declare the defer guard before taking the reference, or clone what you need out of it and drop it first, e.g. `{map}.get(&key).map(|entry| entry.clone())`"
                ),
                help_drop: format!(
                    "clone what you need out of the reference and drop it before the deferred code runs, e.g. `{map}.get(&key).map(|entry| entry.clone())`"
                ),
            };
            reentry_diagnostic(
                context,
                SHARDED_MAP_REF_HELD_AT_DEFER.name,
                &reentry,
                wording,
            )
        })
        .collect()
}
