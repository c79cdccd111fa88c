//! The metamorphic harness: every fixture, Go and Rust, is rewritten mechanically, keeping its
//! meaning (a loop around it, a helper, a method, an interface or trait object, an alias,
//! another package or module, every identifier renamed; see `deferlint_testkit::metamorph`),
//! and deferlint must give every variant the fixture's verdict: a bad fixture's variant is
//! reported for the rules its markers name, and no other; a good fixture's variant stays
//! silent. The variants' own proofs (built and run) are in `go_variant_proofs.rs` and
//! `rust_variant_proofs.rs`: a variant that changes its fixture's meaning is a rewriter bug
//! they catch, so a verdict lost here is the analyser's.
//!
//! Each variant is written to a folder under `CARGO_TARGET_TMPDIR` and checked the way
//! `deferlint PATH` checks a folder (its discovery, the fixture's edition for Rust, every rule
//! at least at `warn`, pedantic rules only in their own folder, as the fixture tests do). The
//! test prints a table per language, rewrite × rule, of kept / applicable, bad and good counted
//! apart, lists the variants that lost their verdict with what was reported, and fails when a
//! language's bad or good share is below [`MIN_KEPT`].

use std::collections::{BTreeMap, BTreeSet};
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::Path;

use deferlint_core::diagnostic::Level;
use deferlint_core::driver;
use deferlint_core::source::Language;
use deferlint_core::source::LineIndex;
use deferlint_core::unit::Edition;
use deferlint_rules::{RULES, RuleSet};
use deferlint_testkit::fixture::{self as support, FixtureText};
use deferlint_testkit::metamorph::go::GoRewriter;
use deferlint_testkit::metamorph::rust::rust_variants;
use deferlint_testkit::metamorph::{FixtureVariants, Rewritten, VariantFile};

/// The share of (fixture, rewrite) pairs that must keep their verdict, per language, bad and
/// good apart.
const MIN_KEPT: f64 = 0.95;

/// Shares known to be below [`MIN_KEPT`] while the engine catches up with the rewrites, as
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

/// Lints a folder as `deferlint PATH` (`--edition` for Rust) would, and returns `(file
/// relative to the folder, line, rule, message)` for every finding.
fn lint_folder(
    folder: &Path,
    rule_folder: &str,
    edition: Edition,
) -> Vec<(String, u32, String, String)> {
    let (sources, mut crates) = deferlint_cli::discover_for_benchmark(&[folder.to_path_buf()])
        .unwrap_or_else(|error| panic!("{}: {error}", folder.display()));
    for unit in &mut crates {
        if unit.language == Language::Rust {
            unit.edition = edition;
        }
    }
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
        // One file of a variant may hold no marker and no header (a Rust module the code moved
        // into): the markers of all its files together are the expectation.
        let text = support::parse_module_text(
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
    let edition = fixture
        .header("edition")
        .and_then(|header| header.value.as_deref())
        .and_then(Edition::parse)
        .unwrap_or_default();
    let findings = lint_folder(&folder, &fixture.rule_folder, edition);
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

/// The Rust variants: the rewriter is a library, so they are always there.
fn rust_variants_of_fixtures() -> Vec<FixtureVariants> {
    support::fixture_paths(&["rs"])
        .iter()
        .map(|path| rust_variants(path))
        .collect()
}

/// One language's variants checked: the outcomes of those that apply, and how many do not, per
/// rewrite.
struct LanguageOutcomes {
    language: &'static str,
    outcomes: Vec<Outcome>,
    not_applicable: BTreeMap<&'static str, usize>,
}

impl LanguageOutcomes {
    fn check(language: &'static str, work: &Path, all: &[FixtureVariants]) -> LanguageOutcomes {
        let mut outcomes = Vec::new();
        let mut not_applicable: BTreeMap<&str, usize> = BTreeMap::new();
        for variants in all {
            let fixture = support::read_fixture(&variants.fixture);
            for (rewrite, rewritten) in &variants.variants {
                match rewritten {
                    Rewritten::Variant(files) => {
                        outcomes.push(check_variant(work, &fixture, rewrite, files));
                    }
                    Rewritten::NotApplicable(_) => {
                        *not_applicable.entry(rewrite).or_default() += 1;
                    }
                }
            }
        }
        LanguageOutcomes {
            language,
            outcomes,
            not_applicable,
        }
    }

    /// `(kept, applicable)` of the bad or of the good fixtures' variants.
    fn share(&self, bad: bool) -> (usize, usize) {
        let applicable: Vec<&Outcome> = self.outcomes.iter().filter(|o| o.bad == bad).collect();
        let kept = applicable.iter().filter(|o| o.kept()).count();
        (kept, applicable.len())
    }

    /// The table, the totals and the lost variants.
    fn report(&self) -> String {
        let (bad_kept, bad_all) = self.share(true);
        let (good_kept, good_all) = self.share(false);
        let exact = self
            .outcomes
            .iter()
            .filter(|o| o.bad && o.kept() && o.exact)
            .count();
        let mut report = String::new();
        let _ = writeln!(
            report,
            "\n{} metamorphic variants: kept / applicable (bad; good)\n",
            self.language
        );
        report.push_str(&table(&self.outcomes));
        let _ = writeln!(
            report,
            "\n{} bad fixtures' variants: {bad_kept} / {bad_all} keep their verdict ({exact} also \
             on the marked lines); good fixtures' variants: {good_kept} / {good_all} stay silent",
            self.language
        );
        let _ = writeln!(report, "not applicable: {:?}", self.not_applicable);
        let lost: Vec<&Outcome> = self.outcomes.iter().filter(|o| !o.kept()).collect();
        if !lost.is_empty() {
            let _ = writeln!(report, "\n{} lost variants:", self.language);
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
        report
    }

    /// Each share, bad and good, against [`MIN_KEPT`]: `(bad, below the threshold, what to
    /// say)`.
    /// What falls short of [`MIN_KEPT`], bad and good apart. A language with no variant of a
    /// kind falls short too: the rewriters must have applied somewhere.
    fn shortfalls(&self) -> Vec<String> {
        [true, false]
            .into_iter()
            .filter_map(|bad| {
                let (kept, all) = self.share(bad);
                let ratio = if all == 0 {
                    0.0
                } else {
                    kept as f64 / all as f64
                };
                let which = if bad { "bad" } else { "good" };
                (ratio < MIN_KEPT).then(|| {
                    format!(
                        "{kept} / {all} ({:.1} %) of the {} {which} fixtures' variants keep \
                         their verdict; at least {:.0} % must",
                        ratio * 100.0,
                        self.language,
                        MIN_KEPT * 100.0
                    )
                })
            })
            .collect()
    }
}

#[test]
fn variants_keep_their_fixtures_verdict() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("metamorphic");
    let mut languages = Vec::new();
    if let Some(go) = go_variants() {
        languages.push(LanguageOutcomes::check("Go", &work, &go));
    }
    languages.push(LanguageOutcomes::check(
        "Rust",
        &work,
        &rust_variants_of_fixtures(),
    ));
    let report: String = languages.iter().map(LanguageOutcomes::report).collect();
    let shortfalls: Vec<String> = languages
        .iter()
        .flat_map(LanguageOutcomes::shortfalls)
        .collect();
    // Straight to stderr, past the test harness's capture: the table is the point.
    let _ = std::io::stderr().lock().write_all(report.as_bytes());
    fs::create_dir_all(&work).unwrap();
    let report_path = work.join("report.txt");
    fs::write(&report_path, &report).unwrap();
    assert!(
        shortfalls.is_empty(),
        "{}; see the lists above or {}",
        shortfalls.join("; "),
        report_path.display()
    );
}
