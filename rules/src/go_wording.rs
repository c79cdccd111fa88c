//! Wording shared by the Go rules: racing accesses, defers and goroutines.

use deferlint_core::analysis::Analyses;
use deferlint_core::analysis::go_races::{Overlap, Race};
use deferlint_core::analysis::go_state::MapAccess;
use deferlint_core::diagnostic::{Diagnostic, Label};
use deferlint_core::graph::calls::DeferSiteId;
use deferlint_core::model::Program;

use crate::wording::spawn_labels;

/// The source form of the map an access touches (`m`, `s.items`).
pub fn map_name(program: &Program, access: &MapAccess) -> String {
    program.value_text(program.function(access.function).owner, access.map)
}

/// The label of the `defer` statement that registers deferred code.
pub fn defer_label(analyses: &Analyses, site: DeferSiteId) -> Label {
    let site = &analyses.calls.defer_sites[site.0 as usize];
    Label::new(
        site.span,
        "deferred here: it runs when the function returns, after the rest of its code",
    )
}

/// The access is made by goroutine code (not by code the package's callers run).
pub fn runs_in_goroutine(analyses: &Analyses, access: &MapAccess) -> bool {
    !analyses.tasks.sites_running(access.walked).is_empty()
}

/// Labels and notes for the accesses a write races with.
pub fn add_conflicts(
    program: &Program,
    analyses: &Analyses,
    race: &Race,
    mut diagnostic: Diagnostic,
) -> Diagnostic {
    let write = &analyses.go.accesses[race.write];
    let name = map_name(program, write);
    let mut sites = Vec::new();
    let mut seen_labels = Vec::new();
    for conflict in &race.conflicts {
        for site in &conflict.sites {
            if !sites.contains(site) {
                sites.push(*site);
            }
        }
        let partner = &analyses.go.accesses[conflict.partner];
        if conflict.partner != race.write {
            let verb = if partner.write { "written" } else { "read" };
            let text = match conflict.overlap {
                Overlap::AfterWait => format!(
                    "`{name}` is {verb} here after `Wait()`, which does not wait for the deferred write"
                ),
                Overlap::WithSpawner => format!("`{name}` is {verb} here while the goroutines run"),
                Overlap::Outlives if runs_in_goroutine(analyses, partner) => {
                    format!("`{name}` is {verb} here by the goroutine, with no lock in common")
                }
                Overlap::Outlives => format!(
                    "`{name}` is {verb} here, in `{}`, which callers can run while the goroutine runs",
                    program.function_name(partner.walked)
                ),
                _ => format!("`{name}` is also {verb} here, by another goroutine"),
            };
            if !seen_labels.contains(&(partner.span, text.clone())) {
                seen_labels.push((partner.span, text.clone()));
                diagnostic = diagnostic.with_label(Label::new(partner.span, text));
            }
        }
    }
    // A helper whose callers mostly hold the lock: the call that does not.
    for access in [write].into_iter().chain(
        race.conflicts
            .iter()
            .map(|conflict| &analyses.go.accesses[conflict.partner]),
    ) {
        if !access.held.is_empty() {
            continue;
        }
        if let Some(&span) = analyses.go.unlocked_calls.get(&access.walked) {
            let text = format!(
                "`{}` is called here without the lock its other callers hold",
                program.function_name(access.walked)
            );
            if !seen_labels.contains(&(span, text.clone())) {
                seen_labels.push((span, text.clone()));
                diagnostic = diagnostic.with_label(Label::new(span, text));
            }
        }
    }
    for label in spawn_labels(program, analyses, &sites, &format!("`{name}`")) {
        diagnostic = diagnostic.with_label(label);
    }
    if race
        .conflicts
        .iter()
        .any(|conflict| conflict.overlap == Overlap::Siblings)
    {
        diagnostic = diagnostic.with_note(
            "the goroutines started here run this code at the same time, on the same map"
                .to_string(),
        );
    }
    if race
        .conflicts
        .iter()
        .any(|conflict| conflict.overlap == Overlap::Outlives)
    {
        diagnostic = diagnostic.with_note(
            "nothing waits for this goroutine: it keeps running after the function that starts it returns, while callers of the package use the same map"
                .to_string(),
        );
    }
    if write.after_done {
        diagnostic = diagnostic.with_note(
            "this deferred write runs after the goroutine's `wg.Done()` (deferred calls run last, after the inline code), so `wg.Wait()` returns before it happens".to_string(),
        );
    }
    if race
        .conflicts
        .iter()
        .any(|conflict| conflict.overlap == Overlap::AfterWait)
    {
        diagnostic = diagnostic.with_note(
            "the read after `wg.Wait()` is not ordered after the late write: it races with it"
                .to_string(),
        );
    }
    // Production code whose only evidence of concurrency is in tests: say so, since the fix
    // may belong in the test (or the type may not be meant for concurrent use).
    let spawns = sites
        .iter()
        .map(|site| analyses.calls.spawn_sites[site.0 as usize].span);
    let evidence: Vec<deferlint_core::source::Span> = spawns
        .chain(
            race.conflicts
                .iter()
                .filter(|conflict| conflict.partner != race.write)
                .map(|conflict| analyses.go.accesses[conflict.partner].span),
        )
        .collect();
    if !program.is_test_location(write.span)
        && !evidence.is_empty()
        && evidence.iter().all(|&span| program.is_test_location(span))
    {
        diagnostic = diagnostic.with_note(
            "the only goroutines that make this race are in test code: the write is in the code under test, which the test runs concurrently"
                .to_string(),
        );
    }
    diagnostic
}

/// The help for an unsynchronised map shared by goroutines.
pub const SHARED_MAP_HELP: &str = "guard every access to the map with one `sync.Mutex` (locked where the write runs), use `sync.Map` for a map that many goroutines write, or give the map to one owner goroutine and send it the updates over a channel";
