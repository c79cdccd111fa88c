//! Wording and labels several rules share: where deferred code is registered and when it runs,
//! and which spawned tasks share an object.

use deferlint_core::analysis::Analyses;
use deferlint_core::analysis::deferred::DeferredRoot;
use deferlint_core::diagnostic::Label;
use deferlint_core::graph::calls::{DeferKind, SpawnSiteId};
use deferlint_core::model::Program;
use deferlint_core::model::facts::Value;
use deferlint_core::model::types::AdtId;
use deferlint_core::source::Span;

/// At most this many spawn sites are labelled; the rest are counted.
pub const MAX_SPAWN_LABELS: usize = 3;

/// The name of the type a `Drop` impl is for.
pub fn adt_name(program: &Program, adt: AdtId) -> String {
    program.adt(adt).name.to_string()
}

/// When deferred code runs, in Rust's terms.
pub fn when_it_runs(program: &Program, analyses: &Analyses, root: DeferredRoot) -> String {
    match root {
        DeferredRoot::Drop(adt, _) => format!(
            "`Drop` for `{name}` runs wherever {a} `{name}` value dies: at the end of its scope (locals in reverse declaration order), at the end of the statement for a temporary, at `drop(..)`, when it is removed from or overwritten in a collection, and while a panic unwinds the stack",
            name = adt_name(program, adt),
            a = article(&adt_name(program, adt))
        ),
        DeferredRoot::Guard(site, _) => {
            let what = match analyses.calls.defer_sites[site.0 as usize].kind {
                DeferKind::Macro => "a `defer!` body",
                DeferKind::Guard => "a scope guard's closure",
            };
            format!(
                "{what} runs when its scope ends, in reverse declaration order with the other locals, and also while a panic unwinds the stack"
            )
        }
    }
}

/// Labels the places that register deferred code: the `Drop` impl and where values of the type
/// are created, or the defer site.
pub fn registration_labels(
    program: &Program,
    analyses: &Analyses,
    root: DeferredRoot,
) -> Vec<Label> {
    match root {
        DeferredRoot::Drop(adt, drop_fn) => {
            let name = adt_name(program, adt);
            let mut labels = Vec::new();
            let creations = creation_sites(program, adt);
            if let Some(&first) = creations.first() {
                let more = if creations.len() > 1 {
                    format!(" (and {} more places)", creations.len() - 1)
                } else {
                    String::new()
                };
                labels.push(Label::new(
                    first,
                    format!(
                        "{} `{name}` is created here{more}; its `Drop` runs when it dies",
                        article(&name)
                    ),
                ));
            } else {
                labels.push(Label::new(
                    program.fact(drop_fn).span,
                    format!("`Drop` for `{name}` is defined here"),
                ));
            }
            labels
        }
        DeferredRoot::Guard(site, _) => {
            let site = &analyses.calls.defer_sites[site.0 as usize];
            let text = match site.kind {
                DeferKind::Macro => {
                    "deferred code is registered here and runs when this scope ends"
                }
                DeferKind::Guard => "this scope guard runs its closure when it is dropped",
            };
            vec![Label::new(site.span, text)]
        }
    }
}

/// Struct literals and tuple-struct constructions of a program type, in source order.
pub fn creation_sites(program: &Program, adt: AdtId) -> Vec<Span> {
    let mut sites = Vec::new();
    for owner in program.function_ids() {
        if program.function(owner).owner != owner {
            continue;
        }
        let body = program.body(owner);
        for (index, value) in body.values.iter().enumerate() {
            if let Value::Struct { span, .. } = value {
                let ty = program.value_ty(
                    owner,
                    deferlint_core::model::facts::ValueId::from_index(index),
                );
                if program.types.adt(ty) == Some(adt) {
                    sites.push(*span);
                }
            }
        }
        for (index, _) in body.calls.iter().enumerate() {
            let call = deferlint_core::model::facts::CallId::from_index(index);
            if program.call_target(owner, call) == deferlint_core::model::CallTarget::Construct(adt)
            {
                sites.push(body.call(call).span);
            }
        }
    }
    sites.sort();
    sites.dedup();
    sites
}

/// Labels for the spawn sites that share an object, at most [`MAX_SPAWN_LABELS`] with a count
/// of the rest.
pub fn spawn_labels(
    program: &Program,
    analyses: &Analyses,
    sites: &[SpawnSiteId],
    object: &str,
) -> Vec<Label> {
    // Spawns in the code under review first, then those in tests.
    let mut ordered: Vec<SpawnSiteId> = sites.to_vec();
    ordered.sort_by_key(|site| {
        let spawner = analyses.calls.spawn_sites[site.0 as usize].spawner;
        (program.is_test_code(spawner), *site)
    });
    let mut labels = Vec::new();
    let total = ordered.len();
    for (position, site) in ordered.iter().take(MAX_SPAWN_LABELS).enumerate() {
        let data = &analyses.calls.spawn_sites[site.0 as usize];
        let go = program.language == deferlint_core::source::Language::Go;
        let many = match (
            data.in_loop || data.kind == deferlint_core::model::SpawnKind::Handler,
            go,
        ) {
            (true, true) => "every goroutine started here",
            (false, true) => "the goroutine started here",
            (true, false) => "every task spawned here in a loop",
            (false, false) => "the task spawned here",
        };
        let mut text = format!("{object} is shared with {many}");
        if position + 1 == MAX_SPAWN_LABELS && total > MAX_SPAWN_LABELS {
            text.push_str(&format!(
                " (and {} more spawn sites)",
                total - MAX_SPAWN_LABELS
            ));
        }
        labels.push(Label::new(
            call_head(program, data.spawner, data.call),
            text,
        ));
    }
    labels
}

/// The part of a call before its arguments (`thread::spawn`, `runtime.spawn`), so that a label
/// does not cover a whole closure.
pub fn call_head(
    program: &Program,
    function: deferlint_core::model::modules::FunctionId,
    call: deferlint_core::model::facts::CallId,
) -> Span {
    let owner = program.function(function).owner;
    let fact = program.body(owner).call(call);
    let name_len = match &fact.callee {
        deferlint_core::model::facts::Callee::Method { name, .. } => name.len(),
        deferlint_core::model::facts::Callee::Path(path) => path.last().len(),
        deferlint_core::model::facts::Callee::Dynamic(_) => 0,
    } as u32;
    let end = (fact.tail_span.lo + name_len).min(fact.span.hi);
    Span::new(fact.span.file, fact.span.lo, end.max(fact.span.lo))
}

/// "a" or "an" before a word, by its first letter.
pub fn article(word: &str) -> &'static str {
    match word.trim_start_matches('`').chars().next() {
        Some('A' | 'E' | 'I' | 'O' | 'U' | 'a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// "`Pool::drop` calls `Pool::release`, which calls `Slots::push`": how deferred code reaches
/// a function, when it is not the root itself.
pub fn call_path_note(
    program: &Program,
    analyses: &Analyses,
    function: deferlint_core::model::modules::FunctionId,
    root: DeferredRoot,
) -> Option<String> {
    let path = analyses.deferred.path(function, root);
    if path.len() < 2 {
        return None;
    }
    let names: Vec<String> = path
        .iter()
        .map(|&step| format!("`{}`", program.function_name(step)))
        .collect();
    Some(format!(
        "this code runs as deferred code through {}",
        names.join(" → ")
    ))
}

/// The method a lock acquisition calls, for messages: `lock`, `try_read`, `blocking_write`...
pub fn lock_method_name(op: &deferlint_core::analysis::locks::LockOp) -> &'static str {
    use deferlint_core::model::{LockAttempt, LockMode};
    match (op.mode, op.attempt) {
        (LockMode::Exclusive, LockAttempt::Try) => "try_lock",
        (LockMode::Read, LockAttempt::Try) => "try_read",
        (LockMode::Write, LockAttempt::Try) => "try_write",
        (LockMode::Exclusive, LockAttempt::BlockingInAsync) => "blocking_lock",
        (LockMode::Read, LockAttempt::BlockingInAsync) => "blocking_read",
        (LockMode::Write, LockAttempt::BlockingInAsync) => "blocking_write",
        (LockMode::Exclusive, _) => "lock",
        (LockMode::Read, _) => "read",
        (LockMode::Write, _) => "write",
    }
}
