//! `rlock-map-write` (Go): a map written while only a read lock is held.

use deferlint_core::analysis::go_races::Race;
use deferlint_core::analysis::go_state::MapAccess;
use deferlint_core::diagnostic::{Diagnostic, Label};
use deferlint_core::model::LockMode;

use crate::{Context, go_wording};

crate::declare_rule! {
    /// ### What it does
    /// Finds a write to a Go map made while the only lock held is the read side of a
    /// `sync.RWMutex` (`RLock`), when the map is shared by goroutines that run at the same time.
    ///
    /// ### Why is this bad?
    /// Any number of goroutines hold `RLock` together: writers under `RLock` run in parallel
    /// with each other and with readers. The map is written concurrently, and the runtime
    /// stops the program with `fatal error: concurrent map writes`.
    ///
    /// ### Example
    /// ```go
    /// c.mu.RLock()
    /// defer c.mu.RUnlock()
    /// if _, ok := c.items[k]; !ok {
    ///     c.items[k] = load(k)
    /// }
    /// ```
    ///
    /// ### Use instead
    /// Take the write lock to write, checking again after taking it:
    /// ```go
    /// c.mu.Lock()
    /// defer c.mu.Unlock()
    /// if _, ok := c.items[k]; !ok {
    ///     c.items[k] = load(k)
    /// }
    /// ```
    ///
    /// ### Known limitations
    /// The locks held come from `Lock`/`RLock` calls and `defer Unlock()` in the function and
    /// in every caller of it; a lock taken through a function value or an interface is not
    /// seen. The map must be shared as `shared-map-write` describes.
    pub static RLOCK_MAP_WRITE = {
        name: "rlock-map-write",
        category: Correctness,
        languages: [Go],
        summary: "a map is written under `RLock`, which readers and writers share: a data race",
    };
}

/// Words one finding.
fn diagnostic(context: &Context<'_>, race: &Race) -> Diagnostic {
    let program = context.program;
    let analyses = context.analyses;
    let write = &analyses.go.accesses[race.write];
    let name = go_wording::map_name(program, write);
    let mut diagnostic = Diagnostic::new(
        RLOCK_MAP_WRITE.name,
        context.severity,
        format!("`{name}` is written while only a read lock is held"),
        Label::new(
            write.span,
            "written under `RLock`: other goroutines hold the same read lock and write or read at the same time",
        ),
    );
    if let Some(held) = write.held.first() {
        let op = analyses.locks.get(held.lock);
        diagnostic = diagnostic.with_label(Label::new(op.span, "only the read lock is taken here"));
    }
    go_wording::add_conflicts(program, analyses, race, diagnostic)
        .with_note("`RLock` lets every reader in at once: it does not exclude other goroutines that also hold it")
        .with_help("take the write lock (`Lock`) for any write, and check the map again after taking it")
}

/// The only locks held are read locks.
pub fn only_read_locked(access: &MapAccess) -> bool {
    !access.held.is_empty() && access.held.iter().all(|held| held.mode == LockMode::Read)
}

pub fn check(context: &Context<'_>) -> Vec<Diagnostic> {
    let analyses = context.analyses;
    let program = context.program;
    let mut diagnostics: Vec<Diagnostic> = analyses
        .go_races
        .races
        .iter()
        .filter(|race| {
            let write = &analyses.go.accesses[race.write];
            only_read_locked(write) && context.reports_in(write.function)
        })
        .map(|race| diagnostic(context, race))
        .collect();
    // Taking `RLock` says that readers run at once: a write under it races with them even
    // where the goroutines are not visible (callers of an exported method, a server's
    // handlers). The evidence that the lock guards this map: another access of the map
    // holds the same lock.
    let reported: Vec<usize> = analyses
        .go_races
        .races
        .iter()
        .map(|race| race.write)
        .collect();
    for (index, write) in analyses.go.accesses.iter().enumerate() {
        if !write.write
            || !only_read_locked(write)
            || reported.contains(&index)
            || !context.reports_in(write.function)
        {
            continue;
        }
        // The read lock must be the map's own object's (`s.mu.RLock(); s.m[k] = v`), not the
        // lock of another value of the same type (`t.mu.RLock(); copy.m[k] = v`).
        if !write
            .held
            .iter()
            .any(|held| same_object(program, analyses, held.lock, write))
        {
            continue;
        }
        let guarded_elsewhere =
            analyses
                .go
                .accesses
                .iter()
                .enumerate()
                .find(|(other_index, other)| {
                    *other_index != index
                        && other.class == write.class
                        && other.span != write.span
                        && other
                            .held
                            .iter()
                            .any(|held| write.held.iter().any(|mine| mine.class == held.class))
                });
        if let Some((_, other)) = guarded_elsewhere {
            diagnostics.push(unseen_readers_diagnostic(context, write, other));
        }
    }
    diagnostics
}

/// The lock is taken on the object the access reaches the map from: both start from the
/// same variable (or package variable) of the same function.
fn same_object(
    program: &deferlint_core::model::Program,
    analyses: &deferlint_core::analysis::Analyses,
    lock: deferlint_core::analysis::locks::LockOpId,
    access: &MapAccess,
) -> bool {
    use deferlint_core::analysis::go_state::root_object as root;
    use deferlint_core::model::facts::Value;
    let op = analyses.locks.get(lock);
    let owner = program.function(access.function).owner;
    if op.owner != owner {
        return false;
    }
    let body = program.body(owner);
    // `cache := d.cacheActive; cache[k] = v`: the map is `d`'s.
    let mut map_root = access.root;
    for _ in 0..2 {
        let Value::Local(local) = body.value(map_root) else {
            break;
        };
        match body.local(*local).init {
            Some(init) if matches!(body.value(init), Value::Field { .. }) => {
                map_root = root(body, init);
            }
            _ => break,
        }
    }
    match (body.value(root(body, op.receiver)), body.value(map_root)) {
        (Value::Local(a), Value::Local(b)) => a == b,
        (Value::Path(a), Value::Path(b)) => a.segments == b.segments,
        _ => false,
    }
}

/// A write under `RLock` whose concurrent readers are not visible as goroutines.
fn unseen_readers_diagnostic(
    context: &Context<'_>,
    write: &MapAccess,
    other: &MapAccess,
) -> Diagnostic {
    let program = context.program;
    let analyses = context.analyses;
    let name = go_wording::map_name(program, write);
    let mut diagnostic = Diagnostic::new(
        RLOCK_MAP_WRITE.name,
        context.severity,
        format!("`{name}` is written while only a read lock is held"),
        Label::new(
            write.span,
            "written under `RLock`: every goroutine holding the read lock runs at the same time",
        ),
    );
    if let Some(held) = write.held.first() {
        let op = analyses.locks.get(held.lock);
        diagnostic = diagnostic.with_label(Label::new(op.span, "only the read lock is taken here"));
    }
    let verb = if other.write { "written" } else { "read" };
    diagnostic
        .with_label(Label::new(
            other.span,
            format!("`{name}` is also {verb} under the same lock here"),
        ))
        .with_note("`RLock` lets every reader in at once: it does not exclude other goroutines that also hold it, so a write under it races with their reads and writes")
        .with_help("take the write lock (`Lock`) for any write, and check the map again after taking it")
}
