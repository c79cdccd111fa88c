//! Fixture tests. Every `fixtures/<rule>/<case>.rs` is linted on its own, with every rule
//! enabled. A line that must be reported ends with `//~ rule-name` (`//~^` for the line
//! above); a file that must stay clean starts with `//@ check-pass`. Findings and markers must
//! match both ways, and the rendered output of each fixture is a snapshot.

use std::path::{Path, PathBuf};

use deferlint_core::diagnostic::Level;
use deferlint_core::driver::{self, CrateInput, Edition, Finding, TargetKind, TargetRoot};
use deferlint_core::render::human::{self, HumanOptions};
use deferlint_core::source::{Language, LineIndex, SourceMap};
use deferlint_rules::{RULES, RuleSet, TOOL_DIAGNOSTICS};

use deferlint_testkit::fixture as support;

/// One fixture with its headers and expected findings.
struct Fixture {
    path: PathBuf,
    /// `fixtures/<rule>/<case>.rs`, as shown in output.
    display: String,
    /// The folder: the rule the fixture is about.
    rule_folder: String,
    text: String,
    edition: Edition,
    /// (1-based line, rule) pairs.
    expected: Vec<(u32, String)>,
    problems: Vec<String>,
}

fn all_fixtures() -> Vec<Fixture> {
    support::fixture_paths(&["rs", "go"])
        .iter()
        .map(|path| parse_fixture(path))
        .collect()
}

/// Reads a fixture through the shared reader, then checks what this test needs of it: the
/// headers it knows (`check-pass`, `edition`, and `run` for the hazard proofs) and markers that
/// name a rule or a tool diagnostic.
fn parse_fixture(path: &Path) -> Fixture {
    let read = support::read_fixture(path);
    let mut problems = read.errors.clone();
    let mut edition = Edition::E2021;
    for header in &read.headers {
        match (header.key.as_str(), header.value.as_deref()) {
            // `go:` names the Go release the proof needs; the analysis reads any.
            ("check-pass" | "run", _) | ("go", Some(_)) => {}
            ("edition", Some(value)) => match Edition::parse(value) {
                Some(parsed) => edition = parsed,
                None => problems.push(format!(
                    "{}:{}: unknown edition `{value}`",
                    read.display_path, header.line
                )),
            },
            (key, _) => problems.push(format!(
                "{}:{}: unknown header `//@ {key}`",
                read.display_path, header.line
            )),
        }
    }
    let mut expected = Vec::new();
    for marker in &read.markers {
        let known = RULES.iter().any(|rule| rule.meta.name == marker.rule)
            || TOOL_DIAGNOSTICS.contains(&marker.rule.as_str());
        if !known {
            problems.push(format!(
                "{}:{}: marker names no rule: `{}`",
                read.display_path, marker.target, marker.rule
            ));
        }
        expected.push((marker.target as u32, marker.rule.clone()));
    }
    Fixture {
        path: read.path,
        display: format!("fixtures/{}", read.display_path),
        rule_folder: read.rule_folder.clone(),
        text: read.text,
        edition,
        expected,
        problems,
    }
}

/// Every rule at least at `warn`, except the allow-by-default (pedantic) ones, which are on only
/// in their own folder: like clippy's UI tests, a fixture opts into a pedantic lint.
fn rules_for(fixture: &Fixture) -> RuleSet {
    let mut rules = RuleSet::every_rule();
    for rule in RULES {
        if rule.meta.default_level() == Level::Allow && rule.meta.name != fixture.rule_folder {
            rules.set_level(rule.meta.name, Level::Allow);
        }
    }
    rules
}

/// Lints one fixture as a crate of its own.
fn lint(fixture: &Fixture) -> (SourceMap, Vec<Finding>) {
    let (sources, _, findings) = lint_with_input(fixture);
    (sources, findings)
}

fn lint_with_input(fixture: &Fixture) -> (SourceMap, CrateInput, Vec<Finding>) {
    let mut sources = SourceMap::new();
    let language = Language::of_path(&fixture.path).expect("a .rs or .go fixture");
    let file = sources.add(fixture.path.clone(), fixture.display.clone(), language);
    // A Go package has no target roots: its files are the unit.
    let targets = match language {
        Language::Rust => vec![TargetRoot {
            kind: TargetKind::Bin,
            name: "fixture".to_string(),
            file,
        }],
        Language::Go => Vec::new(),
    };
    let input = CrateInput {
        language,
        name: "fixture".to_string(),
        lib_name: None,
        edition: fixture.edition,
        root_dir: support::fixtures_root(),
        targets,
        files: vec![file],
        package_id: None,
        manifest_path: None,
        extensions: Default::default(),
        features: None,
    };
    let output = driver::run(&sources, std::slice::from_ref(&input), &rules_for(fixture));
    (sources, input, output.findings)
}

#[test]
fn markers_match_findings() {
    let fixtures = all_fixtures();
    let mut failures = Vec::new();
    for fixture in &fixtures {
        failures.extend(fixture.problems.iter().cloned());
        let (_, findings) = lint(fixture);
        let index = LineIndex::new(&fixture.text);
        let mut reported: Vec<(u32, String)> = findings
            .iter()
            .map(|finding| {
                let line = index
                    .line_column(&fixture.text, finding.diagnostic.primary.span.lo)
                    .line;
                (line, finding.diagnostic.rule.to_string())
            })
            .collect();
        reported.sort();
        reported.dedup();
        let mut expected = fixture.expected.clone();
        expected.sort();
        expected.dedup();
        for missing in expected.iter().filter(|item| !reported.contains(item)) {
            failures.push(format!(
                "{}:{}: expected `{}`, not reported",
                fixture.display, missing.0, missing.1
            ));
        }
        for noisy in reported.iter().filter(|item| !expected.contains(item)) {
            let message = findings
                .iter()
                .find(|finding| finding.diagnostic.rule == noisy.1)
                .map(|finding| finding.diagnostic.message.clone())
                .unwrap_or_default();
            failures.push(format!(
                "{}:{}: reported `{}` without a marker: {message}",
                fixture.display, noisy.0, noisy.1
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn rendered_output_snapshots() {
    for pattern in ["*/*.rs", "*/*.go"] {
        insta::glob!("../../fixtures", pattern, |path| {
            let fixture = parse_fixture(path);
            let (sources, findings) = lint(&fixture);
            let rendered = human::render(&sources, &findings, &HumanOptions { color: false });
            insta::assert_snapshot!(rendered);
        });
    }
}

#[test]
fn json_output_snapshots() {
    // One fixture per rule and language: the cargo message stream, with the machine's paths normalised.
    let cases = [
        "async-lock-in-defer/blocking_lock_in_drop_inside_runtime.rs",
        "contended-map-write-in-defer/worker_slot_guards_all_lock_one_registry.rs",
        "exit-skips-deferred-cleanup/process_exit_with_registration_guard_alive.rs",
        "refcell-map-borrow-in-defer/removed_session_drop_borrows_registry_again.rs",
        "sharded-map-ref-held-at-defer/returned_ref_outlives_pending_marker_drop.rs",
        "tls-map-access-in-defer/span_kept_in_thread_local_unregisters_from_another.rs",
        "lock-reentered-in-defer/temporary_guard_remove_drops_removed_value.rs",
        "poisoned-lock-unwrap-in-defer/drop_unwraps_lock_shared_with_spawned_thread.rs",
        "unsync-map-write-in-defer/static_mut_map_written_in_drop_from_two_threads.rs",
        "exit-skips-deferred-cleanup/os_exit_in_error_branch_skips_deferred_unlock.go",
        "lock-reentered-in-defer/deferred_func_registered_after_defer_unlock.go",
        "nil-map-write/struct_field_map_never_made.go",
        "rlock-map-write/lazy_fill_cache_under_rlock.go",
        "shared-map-write/word_count_increment_in_goroutine_loop.go",
        "unsync-map-write-in-defer/canonical_defer_write_runs_after_wg_done.go",
    ];
    for case in cases {
        let fixture = parse_fixture(&support::fixtures_root().join(case));
        let (sources, input, findings) = lint_with_input(&fixture);
        let options = deferlint_core::render::json::JsonOptions {
            ansi_rendered: false,
            success: false,
            explanation: |name| {
                deferlint_rules::find_rule(name).map(|rule| rule.meta.documentation())
            },
        };
        let json = deferlint_core::render::json::render(&sources, &[input], &findings, &options);
        let root = support::fixtures_root();
        let normalised = json.replace(&root.display().to_string(), "[FIXTURES]");
        let name = case.replace('/', "__");
        insta::assert_snapshot!(format!("json__{name}"), normalised);
    }
}
