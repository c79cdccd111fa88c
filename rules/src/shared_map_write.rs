//! `shared-map-write` (Go): a map written by one goroutine while another reads or writes it,
//! with no lock in common.

use std::collections::HashSet;

use deferlint_core::analysis::go_races::Race;
use deferlint_core::analysis::go_state::{EmptySection, MapAccess};
use deferlint_core::diagnostic::{Diagnostic, Label};
use deferlint_core::source::Span;

use crate::{Context, go_wording};

crate::declare_rule! {
    /// ### What it does
    /// Finds a write to a Go map (`m[k] = v`, `m[k]++`, `delete(m, k)`, `clear(m)`,
    /// `maps.Copy`, `http.Header.Set`...) in a goroutine, outside deferred code, when another
    /// goroutine — a sibling started by the same `go` statement in a loop, a goroutine of
    /// another `go` statement, or the spawner between `go` and `wg.Wait()` — reads or writes
    /// the same map at the same time and no mutex is held by both. A goroutine that nothing
    /// waits for (a janitor started by a constructor, or by a method on its receiver) also
    /// races with the package's exported functions and methods that use the same map of the
    /// object they are given. Handlers run on a goroutine per request: those registered on a
    /// router (`HandleFunc`, `Handle`, `GET`-style routes), served by `http.ListenAndServe` or
    /// an `httptest` server (a handler object's `ServeHTTP`), and a gRPC service's methods
    /// (`Register*Server`).
    ///
    /// Also finds a write made right after an empty critical section (`mu.Lock();
    /// mu.Unlock(); m[k] = v`) when other accesses to the map hold that mutex: the unlock is
    /// misplaced, and the write is unprotected.
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
    /// Goroutines must be visible as `go` statements, `time.AfterFunc`, `context.AfterFunc`,
    /// `wg.Go`/`g.Go`, or the handler registrations above (a route whose pattern is computed
    /// is only recognised through `HandleFunc`). Accesses of the spawner are ordered only
    /// against the `go` statement and `wg.Wait()`/channel receives in the same function (or the
    /// functions it calls there). Maps reached only through struct fields of values each
    /// goroutine builds for itself are not reported. A goroutine is taken to share a map only
    /// when its spawn hands the map over (captured, passed, a receiver, a package variable the
    /// spawned code names, or reached through the fields of those) or when the access names a
    /// package variable: a map a goroutine reaches only through a chain of objects the
    /// analysis cannot tell apart (one allocation site standing for every object it makes) is
    /// not reported, so races on objects fetched from shared registries or caches through
    /// helper calls are missed. What callers outside the module hand in (parameters of
    /// exported functions) pairs accesses only when its type holds a lock, and only for maps
    /// within three fields of it. Callers of an
    /// exported API are not taken to run it concurrently (except against a goroutine that
    /// outlives its spawner), and a lock a caller in another package holds is not seen,
    /// except for an exported function named `…Locked`, whose callers outside are taken to
    /// hold the lock its callers in the package hold (Go's naming convention). An object made
    /// by code that runs many times (a request handler, a job's function) is taken for one
    /// object per run even when a package variable keeps them all (a job registry): tasks
    /// that each get one from their spawn are taken not to share it, so a registry entry
    /// fetched and handed to two tasks is missed. Two calls of one function from one caller
    /// are taken to repeat it only when both can run in one activation (not in the arms of an
    /// `if`/`else`, nor one after a `return`). A helper called from many places (or through
    /// a chain of calls longer than the analysis keeps apart) that writes a map it is handed
    /// is checked once per call of the outermost function of that chain whose parameter the
    /// map comes from: each call with the objects its argument reaches, the goroutines that
    /// make it and the locks held there. A function with more than 256 call sites, or a map
    /// the chain reaches otherwise than through parameters (a field of a package variable
    /// read on the way), is still checked once for all its callers. An abstract object that
    /// more than 16,384 access instances touch (seen only with test code of very large
    /// packages) is taken for a merge of unrelated objects and not checked.
    /// Goroutines of a loop that each capture their own range element (`for _, shard := range
    /// shards { go func() { shard[k] = v }() }`) are taken to write different maps, as Go 1.22
    /// made loop variables per iteration (modules that declare an older `go` release are not
    /// told apart); one that also captures the collection itself is taken to reach every
    /// element. A write in a function handed to `sync.Once`'s `Do` (or only called from one)
    /// is taken for a lazy initialisation and not reported, even where some reader bypasses
    /// the `Once`. A lock held only on some paths to an access (`if needLock { mu.Lock() }`,
    /// here or in a caller) is taken for a conditional locking protocol that protects it, so a
    /// caller that asks for no lock while other goroutines run is missed. `Wait()` on a value of a type from outside the module (an
    /// `errgroup.Group` made by `errgroup.WithContext`) is taken to wait for what its `Go`
    /// started, and its `Lock()`/`RLock()`/`Unlock()`/`RUnlock()` for a lock's (a dependency's
    /// mutex wrapper); such a lock is taken to be one per struct field when the objects holding
    /// it are unknown. A call in a range loop that hands over only the loop's element (`for _,
    /// c := range clients { c.start() }`) is taken to start each goroutine on an element of its
    /// own, as if the collection held no object twice. An exported function that waits for a
    /// group (`s.wg.Wait()`) on every path before an access is taken to wait for the goroutines
    /// a constructor or a `Start` left running. Only the default build is checked (Linux,
    /// amd64, no custom tags): files under `//go:build dev`, `gofuzz` or another operating
    /// system are left out of a package the default build compiles (a package all of whose
    /// files are tagged, such as a `//go:build tools` script, is checked whole). A goroutine started only after a receive from a channel, and that
    /// sends on that channel in its own deferred code (`case <-r.stopped: go r.runLoop()`),
    /// is taken to run one at a time, as a channel holding one token makes it; a channel
    /// filled with several tokens would let as many run at once, and is not told apart.
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
    // The empty section is the explanation only when its mutex is the map's guard elsewhere.
    let guards_the_map =
        |section: &EmptySection| !guarded_accesses(context, write, section).is_empty();
    let diagnostic = match write.after_empty_section.filter(guards_the_map) {
        Some(section) => empty_section_labels(context, section, diagnostic),
        None => diagnostic,
    };
    go_wording::add_conflicts(program, analyses, race, diagnostic)
        .with_note("Go maps are not safe for concurrent use: the runtime stops the program with `fatal error: concurrent map writes` when it catches this")
        .with_help(go_wording::SHARED_MAP_HELP)
}

/// The labels of an empty critical section before a write.
fn empty_section_labels(
    context: &Context<'_>,
    section: EmptySection,
    diagnostic: Diagnostic,
) -> Diagnostic {
    let lock = context.analyses.locks.get(section.lock);
    let mutex = context.program.value_text(lock.owner, lock.receiver);
    diagnostic
        .with_label(Label::new(lock.span, format!("`{mutex}` is locked here...")))
        .with_label(Label::new(
            section.unlock,
            "...and released at once: this critical section is empty, and the write after it is not protected",
        ))
}

/// The other accesses to a write's map that hold the mutex of an empty section before it, in
/// source order.
fn guarded_accesses(context: &Context<'_>, write: &MapAccess, section: &EmptySection) -> Vec<Span> {
    let mut guarded: Vec<Span> = context
        .analyses
        .go
        .accesses
        .iter()
        .filter(|other| {
            other.class == write.class
                && other.span != write.span
                && other.held.iter().any(|held| held.class == section.class)
        })
        .map(|other| other.span)
        .collect();
    guarded.sort();
    guarded.dedup();
    guarded
}

/// A write right after an empty critical section of a mutex that other accesses to the map
/// hold, when no race was found for it otherwise.
fn after_empty_section(context: &Context<'_>, raced: &HashSet<Span>) -> Vec<Diagnostic> {
    let program = context.program;
    let go = &context.analyses.go;
    let mut seen: HashSet<Span> = HashSet::new();
    let mut diagnostics = Vec::new();
    for write in &go.accesses {
        let Some(section) = write.after_empty_section else {
            continue;
        };
        if write.deferred.is_some()
            || raced.contains(&write.span)
            || !context.reports_in(write.function)
            || !seen.insert(write.span)
        {
            continue;
        }
        let guarded = guarded_accesses(context, write, &section);
        if guarded.is_empty() {
            continue;
        }
        let name = go_wording::map_name(program, write);
        let mut diagnostic = Diagnostic::new(
            SHARED_MAP_WRITE.name,
            context.severity,
            format!(
                "`{name}` is written right after an empty critical section: no lock protects the write"
            ),
            Label::new(write.span, "this write holds no lock"),
        );
        diagnostic = empty_section_labels(context, section, diagnostic);
        let shown = guarded.len().min(3);
        for &span in &guarded[..shown] {
            diagnostic = diagnostic.with_label(Label::new(
                span,
                format!("`{name}` is accessed here with that mutex held"),
            ));
        }
        if guarded.len() > shown {
            diagnostic = diagnostic.with_note(format!(
                "and {} more accesses hold it",
                guarded.len() - shown
            ));
        }
        diagnostics.push(
            diagnostic
                .with_note("the other accesses to the map hold the mutex, so the map is meant to be shared; an `Unlock` right after the `Lock` is most often one placed too early")
                .with_help("move the `Unlock` after the write (or `defer` it), so that the write runs inside the critical section"),
        );
    }
    diagnostics
}

pub fn check(context: &Context<'_>) -> Vec<Diagnostic> {
    let analyses = context.analyses;
    let raced: HashSet<Span> = analyses
        .go_races
        .races
        .iter()
        .map(|race| analyses.go.accesses[race.write].span)
        .collect();
    let mut diagnostics: Vec<Diagnostic> = analyses
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
        .collect();
    diagnostics.extend(after_empty_section(context, &raced));
    diagnostics
}
