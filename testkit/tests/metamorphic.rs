//! The metamorphic harness: every fixture is rewritten mechanically, keeping its meaning (a loop
//! around it, a helper, a method, an interface, an alias, another package, every identifier
//! renamed; see `deferlint_testkit::metamorph`), and deferlint must give every variant the
//! fixture's verdict: a bad fixture's variant is reported for the rules its markers name, and
//! no other; a good fixture's variant stays silent. The variants' own proofs (built and run)
//! are in `go_variant_proofs.rs` and `rust_variant_proofs.rs`.
//!
//! Each variant is written to a folder under `CARGO_TARGET_TMPDIR` and checked the way
//! `deferlint PATH` checks a folder (its discovery, every rule at least at `warn`, pedantic
//! rules only in their own folder, as the fixture tests do). The test prints a table, rewrite ×
//! rule, of kept / applicable, bad and good counted apart, lists the variants that lost their
//! verdict with what was reported, and fails when either share is below [`MIN_KEPT`].

use std::collections::{BTreeMap, BTreeSet};
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::Path;

use deferlint_core::diagnostic::Level;
use deferlint_core::driver;
use deferlint_core::source::LineIndex;
use deferlint_rules::{RULES, RuleSet};
use deferlint_testkit::fixture::{self as support, FixtureText};
use deferlint_testkit::metamorph::go::GoRewriter;
use deferlint_testkit::metamorph::{FixtureVariants, Rewritten, VariantFile};

/// The share of (fixture, rewrite) pairs that must keep their verdict, bad and good apart.
const MIN_KEPT: f64 = 0.95;

/// One checked variant.
#[derive(Debug)]
struct Outcome {
    fixture: String,
    rule_folder: String,
    rewrite: &'static str,
    bad: bool,
    /// Rules the markers name, and rules reported.
    expected: BTreeSet<String>,
    reported: BTreeSet<String>,
    /// The markers' places and the findings' places agree too (file, line, rule).
    exact: bool,
    /// One line per finding, for the list of lost variants.
    findings: Vec<String>,
}

impl Outcome {
    fn kept(&self) -> bool {
        self.expected == self.reported
    }
}

/// Every rule at least at `warn`, except the pedantic ones outside their own folder (as the
/// fixture tests run them).
fn rules_for(rule_folder: &str) -> RuleSet {
    let mut rules = RuleSet::every_rule();
    for rule in RULES {
        if rule.meta.default_level() == Level::Allow && rule.meta.name != rule_folder {
            rules.set_level(rule.meta.name, Level::Allow);
        }
    }
    rules
}

/// Writes a variant's files into a fresh folder.
fn write_variant(folder: &Path, files: &[VariantFile]) {
    let _ = fs::remove_dir_all(folder);
    for file in files {
        let path = folder.join(&file.path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &file.text).unwrap();
    }
}

/// Lints a folder as `deferlint PATH` would, and returns `(file relative to the folder, line,
/// rule, message)` for every finding.
fn lint_folder(folder: &Path, rule_folder: &str) -> Vec<(String, u32, String, String)> {
    let (sources, crates) = deferlint_cli::discover_for_benchmark(&[folder.to_path_buf()])
        .unwrap_or_else(|error| panic!("{}: {error}", folder.display()));
    let output = driver::run(&sources, &crates, &rules_for(rule_folder));
    let mut texts: BTreeMap<u32, (String, String)> = BTreeMap::new();
    output
        .findings
        .iter()
        .map(|finding| {
            let span = finding.diagnostic.primary.span;
            let (relative, text) = texts.entry(span.file.0).or_insert_with(|| {
                let path = &sources.get(span.file).path;
                (
                    path.strip_prefix(folder)
                        .unwrap_or(path)
                        .to_string_lossy()
                        .into_owned(),
                    fs::read_to_string(path).unwrap_or_default(),
                )
            });
            let line = LineIndex::new(text).line_column(text, span.lo).line;
            (
                relative.clone(),
                line,
                finding.diagnostic.rule.to_string(),
                finding.diagnostic.message.clone(),
            )
        })
        .collect()
}

/// Checks one variant against the markers it carries.
fn check_variant(
    work: &Path,
    fixture: &FixtureText,
    rewrite: &'static str,
    files: &[VariantFile],
) -> Outcome {
    let name = fixture.display_path.replace(['/', '.'], "_");
    let folder = work.join(&name).join(rewrite);
    write_variant(&folder, files);
    let mut expected_places = BTreeSet::new();
    let mut expected = BTreeSet::new();
    for file in files {
        let text = support::parse_fixture_text(
            Path::new(&file.path),
            file.path.clone(),
            fixture.rule_folder.clone(),
            file.text.clone(),
        );
        for marker in &text.markers {
            expected.insert(marker.rule.clone());
            expected_places.insert((file.path.clone(), marker.target as u32, marker.rule.clone()));
        }
    }
    let findings = lint_folder(&folder, &fixture.rule_folder);
    let reported: BTreeSet<String> = findings
        .iter()
        .map(|(_, _, rule, _)| rule.clone())
        .collect();
    let reported_places: BTreeSet<(String, u32, String)> = findings
        .iter()
        .map(|(file, line, rule, _)| (file.clone(), *line, rule.clone()))
        .collect();
    Outcome {
        fixture: fixture.display_path.clone(),
        rule_folder: fixture.rule_folder.clone(),
        rewrite,
        bad: !fixture.check_pass,
        exact: expected_places == reported_places,
        expected,
        reported,
        findings: findings
            .iter()
            .map(|(file, line, rule, message)| format!("{file}:{line} {rule}: {message}"))
            .collect(),
    }
}

/// The Go variants, or `None` without a `go` toolchain (then the Go half says so and is
/// skipped, unless `CI` is set).
fn go_variants() -> Option<Vec<FixtureVariants>> {
    let Some(go) = deferlint_testkit::proofs::go::find_go() else {
        assert!(
            env::var_os("CI").is_none(),
            "go not found, and `CI` is set: the Go variants must be checked in CI"
        );
        let _ = writeln!(
            std::io::stderr().lock(),
            "\n*** go not found: the Go fixtures' variants were NOT checked ***\n"
        );
        return None;
    };
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-rewriter");
    let rewriter = GoRewriter::build_with(&go, &cache).unwrap_or_else(|error| panic!("{error}"));
    let paths = support::fixture_paths(&["go"]);
    Some(
        rewriter
            .rewrite(&paths)
            .unwrap_or_else(|error| panic!("{error}")),
    )
}

/// The table: per rewrite and rule folder, kept / applicable for bad and for good fixtures.
fn table(outcomes: &[Outcome]) -> String {
    let mut cells: BTreeMap<(&str, &str), [(usize, usize); 2]> = BTreeMap::new();
    for outcome in outcomes {
        let cell = cells
            .entry((outcome.rewrite, outcome.rule_folder.as_str()))
            .or_default();
        let slot = &mut cell[usize::from(!outcome.bad)];
        slot.1 += 1;
        slot.0 += usize::from(outcome.kept());
    }
    let rewrites: BTreeSet<&str> = cells.keys().map(|(rewrite, _)| *rewrite).collect();
    let folders: BTreeSet<&str> = cells.keys().map(|(_, folder)| *folder).collect();
    let mut out = String::new();
    let _ = write!(out, "{:<28}", "rewrite \\ rule (bad; good)");
    for folder in &folders {
        let short: String = folder.split('-').map(|word| &word[..1]).collect();
        let _ = write!(out, " {short:>11}");
    }
    out.push('\n');
    for rewrite in &rewrites {
        let _ = write!(out, "{rewrite:<28}");
        for folder in &folders {
            match cells.get(&(*rewrite, *folder)) {
                Some([(bad_kept, bad_all), (good_kept, good_all)]) => {
                    let _ = write!(
                        out,
                        " {:>11}",
                        format!("{bad_kept}/{bad_all};{good_kept}/{good_all}")
                    );
                }
                None => {
                    let _ = write!(out, " {:>11}", "-");
                }
            }
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "columns: {}",
        folders
            .iter()
            .map(|folder| format!(
                "{}={folder}",
                folder.split('-').map(|word| &word[..1]).collect::<String>()
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out
}

#[test]
fn variants_keep_their_fixtures_verdict() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("metamorphic");
    let mut all: Vec<FixtureVariants> = Vec::new();
    if let Some(go) = go_variants() {
        all.extend(go);
    }
    let mut outcomes = Vec::new();
    let mut not_applicable: BTreeMap<&str, usize> = BTreeMap::new();
    for variants in &all {
        let fixture = support::read_fixture(&variants.fixture);
        for (rewrite, rewritten) in &variants.variants {
            match rewritten {
                Rewritten::Variant(files) => {
                    outcomes.push(check_variant(&work, &fixture, rewrite, files));
                }
                Rewritten::NotApplicable(_) => *not_applicable.entry(rewrite).or_default() += 1,
            }
        }
    }
    let share = |bad: bool| {
        let applicable: Vec<&Outcome> = outcomes.iter().filter(|o| o.bad == bad).collect();
        let kept = applicable.iter().filter(|o| o.kept()).count();
        (kept, applicable.len())
    };
    let (bad_kept, bad_all) = share(true);
    let (good_kept, good_all) = share(false);
    let exact = outcomes
        .iter()
        .filter(|o| o.bad && o.kept() && o.exact)
        .count();
    let mut report = String::new();
    let _ = writeln!(
        report,
        "\nmetamorphic variants: kept / applicable (bad; good)\n"
    );
    report.push_str(&table(&outcomes));
    let _ = writeln!(
        report,
        "\nbad fixtures' variants: {bad_kept} / {bad_all} keep their verdict ({exact} also on \
         the marked lines); good fixtures' variants: {good_kept} / {good_all} stay silent"
    );
    let _ = writeln!(report, "not applicable: {not_applicable:?}");
    let lost: Vec<&Outcome> = outcomes.iter().filter(|o| !o.kept()).collect();
    if !lost.is_empty() {
        let _ = writeln!(report, "\nlost variants:");
        for outcome in &lost {
            let _ = writeln!(
                report,
                "  {} [{}]: expected {:?}, reported {:?}",
                outcome.fixture, outcome.rewrite, outcome.expected, outcome.reported
            );
            for finding in outcome.findings.iter().take(4) {
                let _ = writeln!(report, "      {finding}");
            }
        }
    }
    // Straight to stderr, past the test harness's capture: the table is the point.
    let _ = std::io::stderr().lock().write_all(report.as_bytes());
    fs::create_dir_all(&work).unwrap();
    fs::write(work.join("report.txt"), &report).unwrap();
    let ratio = |kept: usize, all: usize| {
        if all == 0 {
            1.0
        } else {
            kept as f64 / all as f64
        }
    };
    assert!(
        ratio(bad_kept, bad_all) >= MIN_KEPT && ratio(good_kept, good_all) >= MIN_KEPT,
        "fewer than {:.0} % of the variants keep their verdict (bad {bad_kept}/{bad_all}, good \
         {good_kept}/{good_all}); see the list above or {}",
        MIN_KEPT * 100.0,
        work.join("report.txt").display()
    );
}
