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
    analyses
        .go_races
        .races
        .iter()
        .filter(|race| {
            let write = &analyses.go.accesses[race.write];
            only_read_locked(write) && context.reports_in(write.function)
        })
        .map(|race| diagnostic(context, race))
        .collect()
}
