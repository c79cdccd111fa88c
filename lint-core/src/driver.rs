//! The pipeline from discovered crates to findings: parse and lower every file in parallel,
//! build each crate's program model, run the analyses and hand them to the rules.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use rayon::prelude::*;

use crate::analysis::Analyses;
use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::model::Program;
use crate::model::extensions::Extensions;
use crate::model::facts::FileFacts;
use crate::source::{FileId, Language, SourceMap, Span};
use crate::suppress::{self, FileSuppressions};
pub use crate::unit::{CrateInput, Edition, FeatureSet, TargetKind, TargetRoot};

/// A diagnostic with the unit and target it belongs to.
#[derive(Clone, Debug)]
pub struct Finding {
    pub crate_index: usize,
    /// The index into the unit's `targets` of a target whose module tree holds the file.
    pub target_index: Option<usize>,
    pub diagnostic: Diagnostic,
}

/// What a run produced.
#[derive(Clone, Debug, Default)]
pub struct RunOutput {
    /// Sorted by file, line, column and rule.
    pub findings: Vec<Finding>,
    /// The files and bytes checked of each unit, by its index.
    pub unit_sizes: Vec<(usize, u64)>,
    /// Time spent in each phase, summed over threads.
    pub timings: Timings,
}

impl RunOutput {
    /// The files the run checked, over all units.
    pub fn files_checked(&self) -> usize {
        self.unit_sizes.iter().map(|(files, _)| files).sum()
    }
}

/// Thread time per phase of a run.
#[derive(Clone, Debug, Default)]
pub struct Timings {
    /// Reading, parsing and lowering files.
    pub lower: std::time::Duration,
    /// Building program models (name and type resolution).
    pub build: std::time::Duration,
    /// Graphs and analyses.
    pub analyses: std::time::Duration,
    /// Rules.
    pub rules: std::time::Duration,
}

/// Phase times accumulated from several threads, in nanoseconds.
#[derive(Default)]
struct PhaseClock {
    lower: AtomicU64,
    build: AtomicU64,
    analyses: AtomicU64,
    rules: AtomicU64,
}

impl PhaseClock {
    fn add(counter: &AtomicU64, started: Instant) {
        counter.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }

    fn timings(&self) -> Timings {
        let read =
            |counter: &AtomicU64| std::time::Duration::from_nanos(counter.load(Ordering::Relaxed));
        Timings {
            lower: read(&self.lower),
            build: read(&self.build),
            analyses: read(&self.analyses),
            rules: read(&self.rules),
        }
    }
}

/// What the rules crate offers the driver: the checks to run on each analysed program.
pub trait Checker: Sync {
    fn check(&self, program: &Program, analyses: &Analyses) -> Vec<Diagnostic>;

    /// Test code of this language is checked. For Go, `_test.go` files are read only when it
    /// is: otherwise they are left out of the package altogether, so that their goroutines and
    /// globals do not count either.
    fn checks_tests(&self, language: Language) -> bool {
        let _ = language;
        true
    }

    /// Every rule name a suppression comment may name; any other name is an
    /// `invalid-suppression` error.
    fn rule_names(&self) -> Vec<&'static str>;

    /// Whether the rule runs on units of this language in this run (it exists and is not set
    /// to allow): only then can a suppression of it be called unused.
    fn rule_runs(&self, name: &str, language: Language) -> bool;
}

/// How the `parse-error` of a file that could not be read starts (the reason follows), so that
/// the cli can tell a file it could not check at all from a file with a syntax error.
pub const UNREADABLE_FILE: &str = "could not read the file";

/// The `parse-error` of a file that is not UTF-8: nothing of it was checked either.
pub const NOT_UTF8_FILE: &str = "the file is not valid UTF-8";

/// Reads, parses and lowers one file; a file that cannot be read or parsed yields facts with a
/// problem, never an error for the run. `features` are the unit's enabled cargo features, when
/// known (Rust code they configure out is left out).
pub fn lower_file(
    sources: &SourceMap,
    file: FileId,
    edition: Edition,
    extensions: &Extensions,
    features: Option<&FeatureSet>,
) -> FileFacts {
    let source = sources.get(file);
    let text = match source.read() {
        Ok(bytes) => bytes.into_owned(),
        Err(error) => {
            return FileFacts::with_problem(
                Span::new(file, 0, 0),
                format!("{UNREADABLE_FILE}: {error}"),
            );
        }
    };
    let text = match String::from_utf8(text) {
        Ok(text) => text,
        Err(error) => {
            let offset = error.utf8_error().valid_up_to() as u32;
            return FileFacts::with_problem(
                Span::new(file, offset, offset),
                NOT_UTF8_FILE.to_string(),
            );
        }
    };
    let mut facts = match source.language {
        Language::Rust => {
            crate::frontend::rust::lower_file(file, &text, edition, extensions, features)
        }
        Language::Go => {
            let mut facts = crate::frontend::go::lower_file(file, &text, source.is_go_test());
            facts.outside_default_build =
                !crate::frontend::go::build::in_default_build(&source.path, &text);
            facts
        }
    };
    // Found while the text is in memory, so that no file is read twice.
    facts.suppressions = crate::suppress::scan(file, &text, source.language);
    facts
}

/// A Go file the default build leaves out (`//go:build dev`, `_windows.go`) is not part of
/// its package when the package has files the default build compiles: only its package
/// clause is kept, so that a development copy of a function, or another system's version of
/// it, does not run alongside the default one. A package all of whose files are left out (a
/// `//go:build tools` script run with `go run`, a package for one system only) is kept whole:
/// it is a program of its own, with nothing to be confused with.
fn leave_out_files_outside_the_default_build(
    sources: &SourceMap,
    files: &mut [(FileId, FileFacts)],
) {
    let package = |file: FileId, facts: &FileFacts| {
        (
            sources
                .get(file)
                .path
                .parent()
                .map(std::path::Path::to_path_buf),
            facts.package_name.clone(),
        )
    };
    let built: std::collections::HashSet<_> = files
        .iter()
        .filter(|(_, facts)| !facts.outside_default_build)
        .map(|(file, facts)| package(*file, facts))
        .collect();
    for (file, facts) in files.iter_mut() {
        if facts.outside_default_build && built.contains(&package(*file, facts)) {
            *facts = FileFacts {
                package_name: facts.package_name.take(),
                byte_len: facts.byte_len,
                outside_default_build: true,
                ..FileFacts::default()
            };
        }
    }
}

/// A unit's index with its files' facts, waiting for its analysis.
type LoweredUnit = (usize, Vec<(FileId, FileFacts)>);

/// A unit's index, findings, and files and bytes checked.
type UnitOutput = (usize, Vec<Finding>, usize, u64);

/// How much source one batch of units lowers at once (see [`run`]).
const BATCH_BYTES: u64 = 8_000_000;

/// What [`run_with_store`] reports as it goes, from any thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// One file was read and lowered.
    FileLowered,
    /// One unit's analysis ended.
    UnitAnalysed,
}

/// The stack of the threads that parse and analyse. syn, the lowering and the analyses recurse
/// on syntax trees: files nested deeper than [`crate::frontend::nesting::MAX_NESTING`] are
/// skipped, and up to that depth the costliest construct measured needs about 72 MiB in a debug
/// build (closures in closures, 7 KiB a level), less in a release build. The stack is reserved
/// address space: memory is only used as deep as a file goes.
pub const WORKER_STACK_SIZE: usize = 256 << 20;

/// Runs the whole pipeline over the given units, on as many threads as the calling rayon pool
/// has (`-j`), each with a [`WORKER_STACK_SIZE`] stack.
pub fn run(sources: &SourceMap, crates: &[CrateInput], checker: &dyn Checker) -> RunOutput {
    run_with_store(sources, crates, checker, &|_| {}, None)
}

/// Where the driver may find a file's facts instead of lowering it, and what it tells of the
/// facts it lowered (`--cache-dir` keeps them on disk). Units are indices into the run's
/// `crates`. Facts must be what [`lower_file`] gives for the file's bytes, edition and
/// extensions.
pub trait FactStore: Sync {
    /// The facts of one file of a unit, when known.
    fn load(&self, unit: usize, file: FileId) -> Option<FileFacts>;
    /// Facts just lowered, because `load` had none.
    fn lowered(&self, unit: usize, file: FileId, facts: &FileFacts);
}

/// [`run`], telling `progress` of each file lowered and each unit analysed, and taking facts
/// from `store` where it has them.
pub fn run_with_store(
    sources: &SourceMap,
    crates: &[CrateInput],
    checker: &dyn Checker,
    progress: &(dyn Fn(Progress) + Sync),
    store: Option<&dyn FactStore>,
) -> RunOutput {
    // A pool of its own, because the caller's threads have small stacks, and because rayon runs
    // a lone file on the calling thread. Where the system refuses such threads, the caller's
    // threads do; only files nested less deeply fit in their stacks.
    let run = || run_on_current_pool(sources, crates, checker, progress, store);
    match large_stack_pool() {
        Some(pool) => pool.install(run),
        None => run(),
    }
}

/// The pool of threads with [`WORKER_STACK_SIZE`] stacks for the calling context: as many
/// threads as the calling pool has (`-j`), or rayon's default outside a pool (all cores, or
/// `RAYON_NUM_THREADS`). Pools are made once per thread count and kept: the fixture tests and
/// the fuzzer run thousands of small runs, for which starting threads would cost the most.
fn large_stack_pool() -> Option<Arc<rayon::ThreadPool>> {
    static POOLS: Mutex<Vec<(Option<usize>, Arc<rayon::ThreadPool>)>> = Mutex::new(Vec::new());
    let threads = rayon::current_thread_index().map(|_| rayon::current_num_threads());
    let mut pools = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, pool)) = pools.iter().find(|(count, _)| *count == threads) {
        return Some(Arc::clone(pool));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .stack_size(WORKER_STACK_SIZE)
        .thread_name(|index| format!("deferlint-{index}"))
        .build()
        .ok()?;
    let pool = Arc::new(pool);
    pools.push((threads, Arc::clone(&pool)));
    Some(pool)
}

fn run_on_current_pool(
    sources: &SourceMap,
    crates: &[CrateInput],
    checker: &dyn Checker,
    progress: &(dyn Fn(Progress) + Sync),
    store: Option<&dyn FactStore>,
) -> RunOutput {
    let clock = PhaseClock::default();
    // A unit's facts stay in memory until its analysis ends, so the number of units in flight
    // is what bounds memory. Units go in batches of about `BATCH_BYTES` of source, biggest
    // first; a batch lowers all its files in parallel (one file per task, so that small units
    // share the cores too), then each unit's analysis is spawned as its own task, which the
    // other threads pick up while this one lowers the next batch. (Nested parallel iterators
    // over units, the obvious shape, let a waiting thread start other units and so keep
    // hundreds of them in memory at once.)
    let sizes: Vec<u64> = crates
        .par_iter()
        .map(|input| {
            input
                .files
                .iter()
                .map(|&file| {
                    std::fs::metadata(&sources.get(file).path).map_or(0, |meta| meta.len())
                })
                .sum()
        })
        .collect();
    let mut order: Vec<usize> = (0..crates.len()).collect();
    order.sort_by_key(|&index| (std::cmp::Reverse(sizes[index]), index));
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut batch_bytes = 0;
    for index in order {
        if batches.is_empty() || batch_bytes + sizes[index] > BATCH_BYTES {
            batches.push(Vec::new());
            batch_bytes = 0;
        }
        batches.last_mut().expect("a batch").push(index);
        batch_bytes += sizes[index];
    }
    let results: Mutex<Vec<UnitOutput>> = Mutex::new(Vec::with_capacity(crates.len()));
    // Lowered units waiting for their analysis, with their bytes of source.
    let pending: Mutex<(VecDeque<LoweredUnit>, u64)> = Mutex::new((VecDeque::new(), 0));
    let analyse_one = || {
        let job = {
            let mut queue = pending.lock().expect("no panic while holding the queue");
            let job = queue.0.pop_front();
            if let Some((crate_index, _)) = &job {
                queue.1 -= sizes[*crate_index];
            }
            job
        };
        let Some((crate_index, unit_files)) = job else {
            return false;
        };
        let bytes: u64 = unit_files
            .iter()
            .map(|(_, facts)| u64::from(facts.byte_len))
            .sum();
        let count = unit_files.len();
        let findings = check_crate(
            sources,
            crate_index,
            &crates[crate_index],
            unit_files,
            checker,
            &clock,
        );
        results
            .lock()
            .expect("no panic while holding the results")
            .push((crate_index, findings, count, bytes));
        progress(Progress::UnitAnalysed);
        true
    };
    rayon::scope(|scope| {
        for batch in &batches {
            // Backpressure: with few threads, lowering would outrun the analyses and keep
            // every unit's facts waiting; past the budget this thread analyses first. One unit
            // alone waiting is left to the other threads, which take it while this one lowers
            // the next batch: a unit bigger than the budget would otherwise be analysed by
            // this thread while the others have nothing to do.
            while {
                let queue = pending.lock().expect("no panic while holding the queue");
                queue.1 > BATCH_BYTES && queue.0.len() > 1
            } && analyse_one()
            {}
            let files: Vec<(usize, FileId)> = batch
                .iter()
                .flat_map(|&crate_index| {
                    let input = &crates[crate_index];
                    let skip_tests =
                        input.language == Language::Go && !checker.checks_tests(input.language);
                    input
                        .files
                        .iter()
                        .filter(move |&&file| !(skip_tests && sources.get(file).is_go_test()))
                        .map(move |&file| (crate_index, file))
                })
                .collect();
            let mut lowered: Vec<(usize, FileId, FileFacts)> = files
                .into_par_iter()
                .map(|(crate_index, file)| {
                    let input = &crates[crate_index];
                    let started = Instant::now();
                    let stored = store.and_then(|store| store.load(crate_index, file));
                    let facts = stored.unwrap_or_else(|| {
                        let facts = lower_file(
                            sources,
                            file,
                            input.edition,
                            &input.extensions,
                            input.features.as_deref(),
                        );
                        if let Some(store) = store {
                            store.lowered(crate_index, file, &facts);
                        }
                        facts
                    });
                    PhaseClock::add(&clock.lower, started);
                    progress(Progress::FileLowered);
                    (crate_index, file, facts)
                })
                .collect();
            for &crate_index in batch.iter().rev() {
                let split = lowered.partition_point(|(index, _, _)| *index != crate_index);
                let mut unit_files: Vec<(FileId, FileFacts)> = lowered
                    .split_off(split)
                    .into_iter()
                    .map(|(_, file, facts)| (file, facts))
                    .collect();
                leave_out_files_outside_the_default_build(sources, &mut unit_files);
                {
                    let mut queue = pending.lock().expect("no panic while holding the queue");
                    queue.0.push_back((crate_index, unit_files));
                    queue.1 += sizes[crate_index];
                }
                // Each task analyses whichever unit is next, if this thread has not already.
                let analyse_one = &analyse_one;
                scope.spawn(move |_| {
                    analyse_one();
                });
            }
        }
    });
    let results = results
        .into_inner()
        .expect("no analysis panics while holding the lock");
    let mut findings = Vec::new();
    let mut unit_sizes = vec![(0, 0); crates.len()];
    for (crate_index, crate_findings, count, bytes) in results {
        findings.extend(crate_findings);
        unit_sizes[crate_index] = (count, bytes);
    }
    sort_findings(&mut findings);
    RunOutput {
        findings,
        unit_sizes,
        timings: clock.timings(),
    }
}

/// Sorts findings into the documented output order (file, line, column, rule, message) and
/// removes those that repeat one before them there.
pub fn sort_findings(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| a.diagnostic.sort_key().cmp(&b.diagnostic.sort_key()));
    findings.dedup_by(|a, b| a.diagnostic.sort_key() == b.diagnostic.sort_key());
}

fn check_crate(
    sources: &SourceMap,
    crate_index: usize,
    input: &CrateInput,
    mut files: Vec<(FileId, FileFacts)>,
    checker: &dyn Checker,
    clock: &PhaseClock,
) -> Vec<Finding> {
    Program::leave_out_configured_out_files(sources, input, &mut files);
    let suppressions: Vec<(FileId, Box<FileSuppressions>)> = files
        .iter_mut()
        .filter_map(|(file, facts)| Some((*file, facts.suppressions.take()?)))
        .collect();
    let mut parse_errors = Vec::new();
    for (file, facts) in &files {
        for problem in &facts.problems {
            parse_errors.push((
                *file,
                Diagnostic::new(
                    "parse-error",
                    Severity::Warning,
                    problem.message.clone(),
                    Label::new(problem.span, ""),
                ),
            ));
        }
    }
    let started = Instant::now();
    let program = Program::build(sources, input, files);
    PhaseClock::add(&clock.build, started);
    // A Rust file of a package that no target reaches through `mod` declarations is not
    // compiled by cargo (a parser's test data, a script named `.rs`): it is still checked,
    // so that no code is skipped, but its syntax is not ours to report. A file that could
    // not be read is reported wherever it is.
    let mut diagnostics: Vec<Diagnostic> = parse_errors
        .into_iter()
        .filter(|(file, diagnostic)| {
            input.language != Language::Rust
                || input.targets.is_empty()
                || program.target_of_file(*file).is_some()
                || diagnostic.message.starts_with(UNREADABLE_FILE)
                || diagnostic.message.starts_with(NOT_UTF8_FILE)
        })
        .map(|(_, diagnostic)| diagnostic)
        .collect();
    let started = Instant::now();
    let analyses = Analyses::compute(&program);
    PhaseClock::add(&clock.analyses, started);
    let started = Instant::now();
    diagnostics.extend(checker.check(&program, &analyses));
    // A suppression of a rule that did not look at its line says nothing: the rule is off, is
    // for the other language, or the line is test code that is not checked.
    let rule_ran_at = |name: &str, span: Span| {
        checker.rule_runs(name, input.language)
            && (checker.checks_tests(input.language) || !program.is_test_location(span))
    };
    let suppression_reports = suppress::apply(
        &mut diagnostics,
        &suppressions,
        &checker.rule_names(),
        &rule_ran_at,
    );
    diagnostics.extend(suppression_reports);
    PhaseClock::add(&clock.rules, started);
    diagnostics
        .into_iter()
        .map(|diagnostic| {
            let target_index = program.target_of_file(diagnostic.primary.span.file);
            Finding {
                crate_index,
                target_index,
                diagnostic,
            }
        })
        .collect()
}
