//! The `deferlint` and `cargo-deferlint` programs: parse the command line, find the files,
//! run the engine with the configured rules, print the findings and choose the exit code.
//! Both binaries call [`main`]; the program's name tells them apart.

/// syn and the lowering allocate a node per token and per fact: glibc's allocator took about a
/// third of all instructions; mimalloc is much cheaper for many small, short-lived blocks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod args;
mod baseline;
mod cache;
mod config;
mod discovery;
mod exit;
mod fix;
mod levels;
mod output;
mod targets;

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use deferlint_core::diagnostic::Severity;
use deferlint_core::driver::{self, RunOutput};
use deferlint_core::render::{github, human, json, sarif, short};
use deferlint_core::suppress::INVALID_SUPPRESSION;
use deferlint_rules::{RULES, find_rule};

use crate::args::{Invocation, MessageFormat, Mode};
use crate::discovery::Discovered;
use crate::exit::Exit;
use crate::levels::Levels;

/// Finds the units under the given folders as `deferlint PATH...` does, for the benchmark.
#[doc(hidden)]
pub fn discover_for_benchmark(
    paths: &[std::path::PathBuf],
) -> Result<(
    deferlint_core::source::SourceMap,
    Vec<deferlint_core::driver::CrateInput>,
)> {
    let discovered =
        discovery::discover_folders(paths, None, None, &discovery::FeatureRequest::default())?;
    Ok((discovered.sources, discovered.crates))
}

/// Runs the program with the process's arguments.
pub fn main() -> ExitCode {
    let arguments: Vec<OsString> = std::env::args_os().collect();
    // A panic is a bug, but the exit code must still say "error" (2), not "findings" or
    // cargo's 101; the panic hook has already printed the message.
    let exit = std::panic::catch_unwind(move || run(arguments)).unwrap_or_else(|_| {
        output::error("internal error: deferlint panicked; this is a bug, please report it with the message above");
        Exit::Error
    });
    exit.into()
}

fn run(arguments: Vec<OsString>) -> Exit {
    let invocation = match args::parse(arguments) {
        Ok(invocation) => invocation,
        Err(error) => {
            // `--help` and `--version` are "errors" that go to stdout and succeed.
            let _ = error.print();
            return if error.use_stderr() {
                Exit::Error
            } else {
                Exit::Clean
            };
        }
    };
    match execute(&invocation) {
        Ok(exit) => exit,
        Err(error) => {
            output::error(&format!("{error:#}"));
            Exit::Error
        }
    }
}

fn execute(invocation: &Invocation) -> Result<Exit> {
    let common = &invocation.common;
    if common.list_rules {
        output::stdout(&rule_table())?;
        return Ok(Exit::Clean);
    }
    if let Some(name) = &common.explain {
        output::stdout(&explain(name)?)?;
        return Ok(Exit::Clean);
    }
    // Checked before discovery, so that a misspelt rule fails fast.
    let mut levels = Levels::from_flags(&invocation.level_flags)?;
    // Read before the run, so that a bad baseline fails fast.
    let accepted = match common.baseline.as_deref() {
        Some(path) => Some((path, baseline::read(path)?)),
        None => None,
    };
    // A Go test file named on the command line is checked, whatever the target flags say.
    let names_test_file = matches!(&invocation.mode, Mode::Folders { paths, .. }
        if paths.iter().any(|path| path.is_file()
            && path.to_string_lossy().ends_with("_test.go")));
    let include_tests = common.compat.includes_tests() || names_test_file;
    let target_selection = targets::TargetSelection::from_flags(&common.compat)?;
    levels.rules.include_tests(include_tests);
    // Decided before the run so that a bad CARGO_TERM_COLOR fails fast.
    let color = output::stderr_color(common.color)?;
    let started = Instant::now();
    let target_dir = common.compat.target_dir.as_deref();
    let features = common.compat.feature_request();
    let Discovered {
        sources,
        mut crates,
        warnings,
        unreadable_folders,
        root,
    } = match &invocation.mode {
        Mode::Folders { paths, .. } => {
            discovery::discover_folders(paths, common.edition, target_dir, &features)?
        }
        Mode::Cargo(selection) => discovery::discover_cargo(selection, target_dir, &features)?,
    };
    if !common.quiet {
        for warning in &warnings {
            output::warning(warning);
        }
        for folder in &unreadable_folders {
            output::warning(&format!(
                "could not read the folder {folder}; the files in it are not checked"
            ));
        }
        // With paths given, an empty run is an error, reported with the summary.
        if sources.is_empty() && !matches!(invocation.mode, Mode::Folders { given: true, .. }) {
            output::warning("no Rust or Go files to check");
        }
    }
    if let Some(selection) = &target_selection {
        selection.check_exists(&crates)?;
    }
    let unit_levels = apply_configuration(
        &sources,
        &mut crates,
        &invocation.level_flags,
        include_tests,
    )?;
    let rules = Levels::union(&unit_levels).unwrap_or(levels.rules);
    // One whole run of the checks; `--fix` makes several.
    let cache = common
        .cache_dir
        .as_deref()
        .map(|dir| cache::Cache::new(dir, &rules.describe(), &all_diagnostic_names()));
    let cache_warned = std::sync::atomic::AtomicBool::new(false);
    // Counted before levels drop findings, since `-A parse-error` must not hide that a file
    // was never checked; the last round of `--fix` is the one that counts.
    let unchecked_files = std::cell::Cell::new(UncheckedFiles::default());
    let lint = || -> Result<RunOutput> {
        // The units given by their indices into `crates`, with findings indexed the same way.
        // The facts of `store` are by index into `units`.
        let run_units = |units: &[usize], store: Option<&dyn driver::FactStore>| {
            let progress = output::RunProgress::new(
                units.iter().map(|&unit| crates[unit].files.len()).sum(),
                common.quiet,
            );
            let report = |event| progress.report(event);
            let mut output = if units.len() == crates.len() {
                driver::run_with_store(&sources, &crates, &rules, &report, store)
            } else {
                let subset: Vec<_> = units.iter().map(|&unit| crates[unit].clone()).collect();
                driver::run_with_store(&sources, &subset, &rules, &report, store)
            };
            for finding in &mut output.findings {
                finding.crate_index = units[finding.crate_index];
            }
            let mut unit_sizes = vec![(0, 0); crates.len()];
            for (&unit, &size) in units.iter().zip(&output.unit_sizes) {
                unit_sizes[unit] = size;
            }
            output.unit_sizes = unit_sizes;
            progress.finish();
            output
        };
        let run = || match &cache {
            Some(cache) => {
                let (output, error) =
                    cache::run_cached(cache, &sources, &crates, |units, store| {
                        run_units(units, Some(store))
                    });
                if let Some(error) = error
                    && !common.quiet
                    && !cache_warned.swap(true, std::sync::atomic::Ordering::Relaxed)
                {
                    output::warning(&format!(
                        "could not write the cache in `{}`: {error}",
                        cache.dir().display()
                    ));
                }
                output
            }
            None => run_units(&(0..crates.len()).collect::<Vec<_>>(), None),
        };
        let mut output = match common.jobs {
            Some(jobs) => rayon::ThreadPoolBuilder::new()
                .num_threads(jobs.get())
                .build()
                .context("could not start the worker threads")?
                .install(run),
            None => run(),
        };
        if let Some(selection) = &target_selection {
            output
                .findings
                .retain(|finding| selection.keeps(&crates, finding));
        }
        unchecked_files.set(UncheckedFiles::count(&output.findings));
        output
            .findings
            .retain_mut(|finding| unit_levels[finding.crate_index].relevel(finding));
        Ok(output)
    };
    let output = if common.fix {
        let options = fix::FixOptions {
            allow_dirty: common.allow_dirty,
            quiet: common.quiet,
        };
        fix::run(&sources, &crates, options, lint)?.output
    } else {
        lint()?
    };
    let unchecked = unchecked_files.get();
    let files_checked = output.files_checked() - unchecked.total();
    // Without `--keep-going`, a file or folder that could not be read fails the run: a gate
    // must not pass on code it never saw.
    let read_failures = if common.compat.keep_going {
        0
    } else {
        unchecked.unreadable + unreadable_folders.len()
    };
    // Paths were given and not one file of them could be checked.
    let nothing_checked =
        matches!(invocation.mode, Mode::Folders { given: true, .. }) && files_checked == 0;
    let mut findings = output.findings;
    let invalid_suppressions = findings
        .iter()
        .filter(|finding| finding.diagnostic.rule == INVALID_SUPPRESSION)
        .count();
    if let Some(path) = common
        .write_baseline
        .as_deref()
        .filter(|_| invalid_suppressions == 0 && read_failures == 0)
    {
        let written = baseline::write(path, &sources, &findings)?;
        if !common.quiet {
            output::stderr(&format!(
                "deferlint: wrote {} to `{}`\n",
                counted(written, "finding"),
                path.display()
            ));
        }
        return Ok(Exit::Clean);
    }
    let baseline_outcome =
        accepted.map(|(path, accepted)| baseline::apply(&accepted, path, &sources, &mut findings));
    let error_count = findings
        .iter()
        .filter(|finding| finding.diagnostic.severity == Severity::Error)
        .count();
    let warning_count = findings.len() - error_count;
    match invocation.message_format {
        MessageFormat::Human => output::stderr(&human::render(
            &sources,
            &findings,
            &human::HumanOptions { color },
        )),
        MessageFormat::Short => output::stderr(&short::render(&sources, &findings)),
        MessageFormat::Json { ansi_rendered } => {
            let options = json::JsonOptions {
                ansi_rendered,
                // Cargo's `success`: false whenever the run fails, with exit code 1 or 2.
                success: error_count == 0
                    && read_failures == 0
                    && invalid_suppressions == 0
                    && !nothing_checked,
                explanation: rule_explanation,
            };
            output::stdout(&json::render(&sources, &crates, &findings, &options))?;
        }
        MessageFormat::Sarif => {
            let rules = sarif_rules();
            let root = repository_root(root.as_deref())?;
            let options = sarif::SarifOptions {
                tool_version: env!("CARGO_PKG_VERSION"),
                information_uri: env!("CARGO_PKG_REPOSITORY"),
                rules: &rules,
                root: &root,
            };
            output::stdout(&sarif::render(&sources, &findings, &options))?;
        }
        MessageFormat::Github => {
            let root = repository_root(root.as_deref())?;
            output::stdout(&github::render(&sources, &findings, &root))?;
        }
    }
    if !common.quiet && !invocation.message_format.is_machine_readable() {
        output::stderr(&summary(
            error_count,
            warning_count,
            files_checked,
            unchecked.total(),
            started.elapsed().as_secs_f64(),
        ));
        if let Some(outcome) = &baseline_outcome {
            output::stderr(&baseline_note(outcome));
        }
    }
    let not_written = if common.write_baseline.is_some() {
        "; the baseline was not written"
    } else {
        ""
    };
    let mut failed = false;
    if read_failures > 0 {
        let mut what = Vec::new();
        if unchecked.unreadable > 0 {
            what.push(counted(unchecked.unreadable, "file"));
        }
        if !unreadable_folders.is_empty() {
            what.push(counted(unreadable_folders.len(), "folder"));
        }
        output::error(&format!(
            "{} could not be read{not_written}; `--keep-going` checks the rest without failing",
            what.join(" and ")
        ));
        failed = true;
    }
    if nothing_checked {
        output::error("no Rust or Go file was checked in the paths given");
        failed = true;
    }
    if invalid_suppressions > 0 {
        output::error(&format!(
            "{} (a malformed `deferlint:` comment){not_written}",
            counted(invalid_suppressions, "invalid suppression comment")
        ));
        failed = true;
    }
    if failed {
        return Ok(Exit::Error);
    }
    Ok(if error_count > 0 {
        Exit::Findings
    } else {
        Exit::Clean
    })
}

/// Reads each unit's configuration: leaves out its excluded files, hands the engine its
/// extensions, and returns its levels (configuration first, then the command line's flags).
fn apply_configuration(
    sources: &deferlint_core::source::SourceMap,
    crates: &mut [deferlint_core::driver::CrateInput],
    flags: &[(deferlint_core::diagnostic::Level, String)],
    include_tests: bool,
) -> Result<Vec<Levels>> {
    let mut loader = config::Loader::default();
    let mut unit_levels = Vec::with_capacity(crates.len());
    for unit in crates.iter_mut() {
        let unit_config = loader.unit(unit)?;
        if !unit_config.exclude.is_empty() {
            let excluded = |file: &deferlint_core::source::FileId| {
                let path = &sources.get(*file).path;
                unit_config
                    .exclude
                    .iter()
                    .any(|exclusion| exclusion.excludes(path))
            };
            unit.files.retain(|file| !excluded(file));
            unit.targets.retain(|target| !excluded(&target.file));
        }
        if !unit_config.extensions.is_empty() {
            unit.extensions = std::sync::Arc::new(unit_config.extensions);
        }
        let mut layered = unit_config.levels;
        layered.extend(flags.iter().cloned());
        let mut levels = Levels::from_flags(&layered)?;
        levels.rules.include_tests(include_tests);
        unit_levels.push(levels);
    }
    Ok(unit_levels)
}

/// `1 file`, `2 files`.
fn counted(count: usize, noun: &str) -> String {
    format!("{count} {noun}{}", if count == 1 { "" } else { "s" })
}

/// `deferlint: 3 findings in the baseline; 2 baseline findings are fixed, run --write-baseline
/// to update it`.
fn baseline_note(outcome: &baseline::BaselineOutcome) -> String {
    let mut note = format!(
        "deferlint: {} in the baseline",
        counted(outcome.covered, "finding")
    );
    if outcome.fixed > 0 {
        let verb = if outcome.fixed == 1 { "is" } else { "are" };
        note.push_str(&format!(
            "; {} {verb} fixed, run --write-baseline to update it",
            counted(outcome.fixed, "baseline finding")
        ));
    }
    note.push('\n');
    note
}

/// Files of the run that were not checked at all: not readable, or not UTF-8. Told apart from
/// other parse errors by the engine's messages for them.
#[derive(Clone, Copy, Debug, Default)]
struct UncheckedFiles {
    unreadable: usize,
    not_utf8: usize,
}

impl UncheckedFiles {
    fn count(findings: &[deferlint_core::driver::Finding]) -> UncheckedFiles {
        let mut unchecked = UncheckedFiles::default();
        for finding in findings {
            let diagnostic = &finding.diagnostic;
            if diagnostic.rule != PARSE_ERROR {
                continue;
            }
            if diagnostic.message.starts_with(driver::UNREADABLE_FILE) {
                unchecked.unreadable += 1;
            } else if diagnostic.message == driver::NOT_UTF8_FILE {
                unchecked.not_utf8 += 1;
            }
        }
        unchecked
    }

    fn total(self) -> usize {
        self.unreadable + self.not_utf8
    }
}

/// `deferlint: 3 errors, 1 warning in 42 files (0.12s)`, with `, 2 files not checked` before
/// the time when some could not be read.
fn summary(errors: usize, warnings: usize, files: usize, unchecked: usize, seconds: f64) -> String {
    let findings = if errors + warnings == 0 {
        "no findings".to_string()
    } else {
        format!(
            "{}, {}",
            counted(errors, "error"),
            counted(warnings, "warning")
        )
    };
    let unchecked = if unchecked == 0 {
        String::new()
    } else {
        format!(", {} not checked", counted(unchecked, "file"))
    };
    format!(
        "deferlint: {findings} in {}{unchecked} ({seconds:.2}s)\n",
        counted(files, "file")
    )
}

/// The tool's diagnostic for files and items that could not be read or parsed.
const PARSE_ERROR: &str = "parse-error";

/// The tool's own diagnostics are named like rules in `-A`/`-D` and `--explain`, so they are
/// documented here, next to the rules' own docs.
const PARSE_ERROR_SUMMARY: &str = "a file could not be read or parsed; the rest of the run goes on";
const PARSE_ERROR_DOCS: &str = "### What it does\n\
Reports a file that could not be read (missing, not UTF-8) or parsed. The file is skipped and the rest of \
the run goes on, so one bad file never hides the findings of the others.\n\n\
It is a warning: it fails the run only with `-D parse-error`. `-D warnings` leaves it a \
warning, since it says where deferlint's parser gave up, not that the code is wrong: a gate on \
`-D warnings` fails on hazards, not on the parser. `-A parse-error` hides it.\n";
const UNUSED_SUPPRESSION_SUMMARY: &str =
    "a `// deferlint: allow(rule)` comment, or a rule name in it, suppressed nothing";
const INVALID_SUPPRESSION_SUMMARY: &str = "a `deferlint:` comment is not a well-formed suppression";
const INVALID_SUPPRESSION_DOCS: &str = "### What it does\n\
Reports a comment that starts with `deferlint:` but is not a well-formed suppression \
(`// deferlint: allow(rule-name, ..) reason`). It is always an error: the run exits with 2, and \
`--write-baseline` writes nothing, whatever the levels say. (A well-formed comment that names a \
rule deferlint does not have is `unknown-rule`, a warning.)\n\n\
### Why is this bad?\n\
A malformed comment suppresses nothing, so the finding it was meant to excuse stays, while the \
comment looks like it excuses it. Failing the run makes the mistake visible at once.\n\n\
### Example\n\
```rust\n\
// deferlint: allow poisoned-lock-unwrap-in-defer (the names go in parentheses)\n\
let mut map = self.map.lock().unwrap();\n\
```\n\n\
### Use instead\n\
Name the rules inside `allow(..)`, with the reason after the parenthesis: \
`// deferlint: allow(poisoned-lock-unwrap-in-defer) no task panics with the lock held`.\n";
const UNKNOWN_RULE_SUMMARY: &str = "a suppression comment names a rule deferlint does not have";
const UNKNOWN_RULE_DOCS: &str = "### What it does\n\
Reports a rule name in a suppression comment, `// deferlint: allow(rule-name) reason`, that no \
rule has, with the closest valid name when there is one (`help: did you mean`, an edit that \
may be applied by hand). The other names of the comment still suppress their findings.\n\n\
It is a warning, as rustc's `unknown_lints`, so that a comment written for another version of \
deferlint does not fail the build: `-D unknown-rule` or `-D warnings` makes it fail the run, \
`-A unknown-rule` hides it.\n\n\
### Why is this bad?\n\
A misspelt rule name suppresses nothing: the finding it was meant to excuse stays, and the \
comment looks like it excuses it.\n\n\
### Example\n\
```rust\n\
// deferlint: allow(poisoned-lock-unwrap) the rule is `poisoned-lock-unwrap-in-defer`\n\
let mut map = self.map.lock().unwrap();\n\
```\n\n\
### Use instead\n\
Name the rule as `--list-rules` prints it.\n";
const UNUSED_SUPPRESSION_DOCS: &str = "### What it does\n\
Reports a suppression comment, `// deferlint: allow(rule-name) reason`, or a rule name in its list, that \
suppressed no finding in this run. A comment after code covers the findings of the rules it names on \
its own line; a comment alone on its line covers the next line that is not itself a comment. The \
finding carries a machine-applicable edit that removes the comment (its whole line when it stands \
alone) or the unused names from its list.\n\n\
A name is reported only where its rule ran: not when the rule is set to allow, not for a rule of the \
other language, and not in test code when test code is not checked (without `--all-targets` or \
`--tests`), since then nothing says whether the suppression is still needed.\n\n\
It is a warning: `-D unused-suppression` or `-D warnings` makes it fail the run, `-A unused-suppression` \
hides it. A comment that starts with `deferlint:` but is not a suppression, or names no rule, is an \
`invalid-suppression` error instead, and the run exits with 2.\n\n\
### Why is this bad?\n\
A suppression that suppresses nothing is left over: the code it excused was fixed or moved. Kept, it \
silently hides the next finding of the same rule on that line, a new hazard nobody has looked at.\n\n\
### Example\n\
```rust\n\
impl Drop for Registration {\n\
    fn drop(&mut self) {\n\
        // deferlint: allow(poisoned-lock-unwrap-in-defer) the lock is never held across a panic\n\
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);\n\
        map.remove(&self.id);\n\
    }\n\
}\n\
```\n\n\
The lock is recovered from poisoning, so `poisoned-lock-unwrap-in-defer` reports nothing here.\n\n\
### Use instead\n\
```rust\n\
impl Drop for Registration {\n\
    fn drop(&mut self) {\n\
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);\n\
        map.remove(&self.id);\n\
    }\n\
}\n\
```\n";

/// The root code scanning and GitHub annotations resolve paths against: the repository holding
/// the workspace root (`cargo deferlint`) or the current folder, else that folder itself.
fn repository_root(workspace_root: Option<&std::path::Path>) -> Result<std::path::PathBuf> {
    let start = match workspace_root {
        Some(root) => root.to_path_buf(),
        None => std::env::current_dir().context("could not read the current folder")?,
    };
    Ok(start
        .ancestors()
        .find(|folder| folder.join(".git").exists())
        .unwrap_or(&start)
        .to_path_buf())
}

/// Every name a diagnostic may carry: the rules and the tool diagnostics.
fn all_diagnostic_names() -> Vec<&'static str> {
    RULES
        .iter()
        .map(|rule| rule.meta.name)
        .chain(deferlint_rules::TOOL_DIAGNOSTICS.iter().copied())
        .chain([INVALID_SUPPRESSION])
        .collect()
}

/// The SARIF descriptors of every rule and tool diagnostic.
fn sarif_rules() -> Vec<sarif::RuleDescriptor> {
    let mut descriptors: Vec<sarif::RuleDescriptor> = RULES
        .iter()
        .map(|rule| {
            let meta = rule.meta;
            let mut tags = vec![
                "concurrency".to_string(),
                meta.category.as_str().to_string(),
            ];
            tags.extend(
                meta.languages
                    .iter()
                    .map(|language| format!("{language:?}").to_lowercase()),
            );
            sarif::RuleDescriptor {
                id: meta.name.to_string(),
                summary: meta.summary.to_string(),
                documentation: meta.documentation(),
                default_level: sarif_level(meta.default_level()),
                precision: match meta.category {
                    deferlint_rules::Category::Correctness => "high",
                    deferlint_rules::Category::Suspicious => "medium",
                    deferlint_rules::Category::Pedantic => "low",
                },
                tags,
            }
        })
        .collect();
    for name in deferlint_rules::TOOL_DIAGNOSTICS {
        let (summary, documentation) = tool_diagnostic_docs(name);
        descriptors.push(sarif::RuleDescriptor {
            id: name.to_string(),
            summary: summary.to_string(),
            documentation: documentation.to_string(),
            default_level: "warning",
            precision: "very-high",
            tags: vec!["tool".to_string()],
        });
    }
    descriptors.push(sarif::RuleDescriptor {
        id: INVALID_SUPPRESSION.to_string(),
        summary: INVALID_SUPPRESSION_SUMMARY.to_string(),
        documentation: INVALID_SUPPRESSION_DOCS.to_string(),
        default_level: "error",
        precision: "very-high",
        tags: vec!["tool".to_string()],
    });
    descriptors
}

fn sarif_level(level: deferlint_core::diagnostic::Level) -> &'static str {
    match level {
        deferlint_core::diagnostic::Level::Deny => "error",
        deferlint_core::diagnostic::Level::Warn => "warning",
        deferlint_core::diagnostic::Level::Allow => "none",
    }
}

/// The summary and docs of a tool diagnostic.
fn tool_diagnostic_docs(name: &str) -> (&'static str, &'static str) {
    match name {
        deferlint_core::suppress::UNUSED_SUPPRESSION => {
            (UNUSED_SUPPRESSION_SUMMARY, UNUSED_SUPPRESSION_DOCS)
        }
        deferlint_core::suppress::UNKNOWN_RULE => (UNKNOWN_RULE_SUMMARY, UNKNOWN_RULE_DOCS),
        _ => (PARSE_ERROR_SUMMARY, PARSE_ERROR_DOCS),
    }
}

fn rule_table() -> String {
    let mut rows: Vec<[String; 4]> = vec![[
        "NAME".into(),
        "LANGUAGES".into(),
        "DEFAULT".into(),
        "SUMMARY".into(),
    ]];
    for rule in RULES {
        let languages: Vec<String> = rule
            .meta
            .languages
            .iter()
            .map(|language| format!("{language:?}"))
            .collect();
        rows.push([
            rule.meta.name.to_string(),
            languages.join(", "),
            rule.meta.default_level().as_str().to_string(),
            rule.meta.summary.to_string(),
        ]);
    }
    for name in deferlint_rules::TOOL_DIAGNOSTICS {
        rows.push([
            name.to_string(),
            "Rust, Go".into(),
            "warn".into(),
            tool_diagnostic_docs(name).0.into(),
        ]);
    }
    rows.push([
        INVALID_SUPPRESSION.to_string(),
        "Rust, Go".into(),
        // Always: no flag lowers it.
        "deny".into(),
        INVALID_SUPPRESSION_SUMMARY.into(),
    ]);
    let width = |column: usize| {
        rows.iter()
            .map(|row| row[column].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2)];
    let mut table = String::new();
    for row in &rows {
        table.push_str(&format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {}\n",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        ));
    }
    table
}

fn explain(name: &str) -> Result<String> {
    let bare = name.strip_prefix("deferlint::").unwrap_or(name);
    if let Some(rule) = find_rule(bare) {
        let meta = rule.meta;
        let languages: Vec<String> = meta
            .languages
            .iter()
            .map(|language| format!("{language:?}"))
            .collect();
        return Ok(format!(
            "{} ({}, {} by default; {})\n\n{}",
            meta.name,
            meta.category.as_str(),
            meta.default_level().as_str(),
            languages.join(", "),
            meta.documentation()
        ));
    }
    if bare == INVALID_SUPPRESSION {
        return Ok(format!(
            "{bare} (tool diagnostic, always an error, exit code 2; Rust, Go)\n\n{INVALID_SUPPRESSION_DOCS}"
        ));
    }
    if deferlint_rules::TOOL_DIAGNOSTICS.contains(&bare) {
        return Ok(format!(
            "{bare} (tool diagnostic, warn by default; Rust, Go)\n\n{}",
            tool_diagnostic_docs(bare).1
        ));
    }
    let mut names = levels::valid_names();
    names.retain(|candidate| *candidate != "warnings");
    anyhow::bail!(
        "unknown rule `{name}`; valid names are {}",
        names.join(", ")
    )
}

fn rule_explanation(rule: &str) -> Option<String> {
    find_rule(rule).map(|rule| rule.meta.documentation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_with_plurals() {
        assert_eq!(
            summary(3, 1, 42, 0, 0.123),
            "deferlint: 3 errors, 1 warning in 42 files (0.12s)\n"
        );
        assert_eq!(
            summary(0, 0, 1, 0, 0.0),
            "deferlint: no findings in 1 file (0.00s)\n"
        );
        assert_eq!(
            summary(1, 0, 2, 1, 1.0),
            "deferlint: 1 error, 0 warnings in 2 files, 1 file not checked (1.00s)\n"
        );
    }
}
