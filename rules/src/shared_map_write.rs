//! `shared-map-write` (Go): a map written by one goroutine while another reads or writes it,
//! with no lock in common.

use deferlint_core::analysis::go_races::Race;
use deferlint_core::diagnostic::{Diagnostic, Label};

use crate::{Context, go_wording};

crate::declare_rule! {
    /// ### What it does
    /// Finds a write to a Go map (`m[k] = v`, `m[k]++`, `delete(m, k)`, `clear(m)`,
    /// `maps.Copy`, `http.Header.Set`...) in a goroutine, outside deferred code, when another
    /// goroutine — a sibling started by the same `go` statement in a loop, a goroutine of
    /// another `go` statement, or the spawner between `go` and `wg.Wait()` — reads or writes
    /// the same map at the same time and no mutex is held by both. A goroutine that nothing
    /// waits for (a janitor started by a constructor) also races with the package's exported
    /// functions and methods that use the same map of the object they are given.
    ///
    /// ### Why is this bad?
    /// Go maps are not safe for concurrent use. A concurrent write and read or write is a data
    /// race; the runtime detects many of them and stops the whole program with
    /// `fatal error: concurrent map writes` (or `concurrent map read and map write`), and the
    /// others corrupt the map.
    ///
    /// ### Example
    /// ```go
    /// counts := make(map[string]int)
    /// for _, word := range words {
    ///     go func(w string) { counts[w]++ }(word)
    /// }
    /// ```
    ///
    /// ### Use instead
    /// ```go
    /// var mu sync.Mutex
    /// for _, word := range words {
    ///     go func(w string) { mu.Lock(); counts[w]++; mu.Unlock() }(word)
    /// }
    /// ```
    /// Or use `sync.Map`, or give each goroutine its own map and merge them after `wg.Wait()`,
    /// or confine the map to one goroutine fed through a channel.
    ///
    /// ### Known limitations
    /// Goroutines must be visible as `go` statements, `time.AfterFunc`, `wg.Go`/`g.Go` or
    /// handlers registered with `http.HandleFunc`. Accesses of the spawner are ordered only
    /// against the `go` statement and `wg.Wait()`/channel receives in the same function (or the
    /// functions it calls there). Maps reached only through struct fields of values each
    /// goroutine builds for itself are not reported. A goroutine is taken to share a map only
    /// when its spawn hands the map over (captured, passed, a receiver, a package variable the
    /// spawned code names, or reached through the fields of those) or when the access names a
    /// package variable: a map a goroutine reaches only through a chain of objects the
    /// analysis cannot tell apart (one allocation site standing for every object it makes) is
    /// not reported, so races on objects fetched from shared registries or caches through
    /// helper calls are missed. What callers outside the module hand in (parameters of
    /// exported functions) pairs accesses only when its type holds a lock. Concurrency that
    /// comes from a framework (RPC methods, callers of an exported API) is not modelled, and
    /// neither is a lock a caller in another package holds.
    pub static SHARED_MAP_WRITE = {
        name: "shared-map-write",
        category: Correctness,
        languages: [Go],
        summary: "a goroutine writes a map that another goroutine accesses at the same time: a data race",
    };
}

/// Words one finding.
fn diagnostic(context: &Context<'_>, race: &Race) -> Diagnostic {
    let program = context.program;
    let analyses = context.analyses;
    let write = &analyses.go.accesses[race.write];
    let name = go_wording::map_name(program, write);
    let diagnostic = Diagnostic::new(
        SHARED_MAP_WRITE.name,
        context.severity,
        if go_wording::runs_in_goroutine(analyses, write) {
            format!(
                "`{name}` is written by a goroutine while other goroutines use it, without a lock"
            )
        } else {
            format!("`{name}` is written here while a goroutine uses it, without a lock in common")
        },
        Label::new(
            write.span,
            format!("this write races with the other accesses to `{name}`"),
        ),
    );
    go_wording::add_conflicts(program, analyses, race, diagnostic)
        .with_note("Go maps are not safe for concurrent use: the runtime stops the program with `fatal error: concurrent map writes` when it catches this")
        .with_help(go_wording::SHARED_MAP_HELP)
}

pub fn check(context: &Context<'_>) -> Vec<Diagnostic> {
    let analyses = context.analyses;
    analyses
        .go_races
        .races
        .iter()
        .filter(|race| {
            let write = &analyses.go.accesses[race.write];
            write.deferred.is_none()
                && !crate::rlock_map_write::only_read_locked(write)
                && context.reports_in(write.function)
        })
        .filter_map(|race| {
            // A race with a deferred write is reported once, at the deferred write, by
            // `unsync-map-write-in-defer`.
            let conflicts: Vec<_> = race
                .conflicts
                .iter()
                .filter(|conflict| {
                    let partner = &analyses.go.accesses[conflict.partner];
                    !(partner.write && partner.deferred.is_some())
                })
                .cloned()
                .collect();
            (!conflicts.is_empty()).then_some(Race {
                write: race.write,
                conflicts,
            })
        })
        .map(|race| diagnostic(context, &race))
        .collect()
}
