//! The speed benchmark: for the same files in the same run and on the same threads, the time
//! of the whole analysis (`deferlint` on the folders, from reading files to diagnostics)
//! against the time to only read and parse those files (syn for Rust, tree-sitter for Go).
//! Prints both, their ratio, files/s and MB/s, per language. For Rust it also times the parse
//! the way the analysis parses (doc comments blanked, data tables of large files elided): the
//! ratio to that one is the cost of everything after parsing.
//!
//! `cargo bench -p deferlint --bench pipeline -- PATH...`, or `bench/run.sh`, which prepares
//! a corpus of popular crates first.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use deferlint_core::driver::{self, CrateInput};
use deferlint_core::source::{Language, SourceMap};
use deferlint_rules::RuleSet;
use rayon::prelude::*;

/// Rounds of the main measurement; the growth and thread measurements take fewer.
const ROUNDS: usize = 3;

fn main() {
    let mut paths: Vec<PathBuf> = std::env::args()
        .skip(1)
        .filter(|argument| !argument.starts_with("--"))
        .map(PathBuf::from)
        .collect();
    if paths.is_empty() {
        if let Ok(list) = std::env::var("DEFERLINT_BENCH_LIST") {
            let text = std::fs::read_to_string(&list).expect("the package list");
            paths = text
                .lines()
                .filter(|line| !line.is_empty())
                .map(PathBuf::from)
                .collect();
        }
    }
    if paths.is_empty() {
        eprintln!(
            "usage: cargo bench -p deferlint --bench pipeline -- PATH... (or DEFERLINT_BENCH_LIST=FILE)"
        );
        std::process::exit(2);
    }
    let (sources, crates) = deferlint_cli::discover_for_benchmark(&paths).expect("discovery");
    let rules = RuleSet::default();
    let quick = std::env::var_os("DEFERLINT_BENCH_QUICK").is_some();
    for language in [Language::Rust, Language::Go] {
        let units: Vec<CrateInput> = crates
            .iter()
            .filter(|input| input.language == language)
            .cloned()
            .collect();
        let corpus = Corpus::new(language, &sources, units);
        if corpus.files.is_empty() {
            continue;
        }
        let (name, parser) = match language {
            Language::Rust => ("Rust", "syn"),
            Language::Go => ("Go", "tree-sitter"),
        };
        println!(
            "{name} corpus: {} units, {} files, {:.1} MB, {} threads; parse only = read + {parser}",
            corpus.units.len(),
            corpus.files.len(),
            corpus.megabytes(),
            rayon::current_num_threads()
        );
        let all = measure(&corpus, &sources, &rules, ROUNDS);
        all.print("100 %", &corpus);
        if quick {
            continue;
        }
        // Growth: the same measurement on the first quarter and half of the corpus (by bytes,
        // units in path order), which should take a quarter and a half of the time.
        for (label, fraction) in [("25 %", 0.25), ("50 %", 0.5)] {
            let part = corpus.prefix(fraction, &sources);
            measure(&part, &sources, &rules, ROUNDS).print(label, &part);
        }
        // Scaling: one thread against all of them.
        let one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("a thread pool");
        let single = one_thread.install(|| measure(&corpus, &sources, &rules, 1));
        single.print("1 thread", &corpus);
        println!(
            "  speed-up with {} threads: parse only {:.2}x, full analysis {:.2}x",
            rayon::current_num_threads(),
            single.parse.as_secs_f64() / all.parse.as_secs_f64(),
            single.full.as_secs_f64() / all.full.as_secs_f64()
        );
    }
}

/// One language's units and their files.
struct Corpus {
    language: Language,
    units: Vec<CrateInput>,
    /// The files the run checks: Go test files are left out unless tests are checked.
    files: Vec<PathBuf>,
    bytes: u64,
}

impl Corpus {
    fn new(language: Language, sources: &SourceMap, units: Vec<CrateInput>) -> Corpus {
        let files: Vec<PathBuf> = units
            .iter()
            .flat_map(|unit| unit.files.iter())
            .map(|&file| sources.get(file))
            .filter(|file| !file.is_go_test())
            .map(|file| file.path.clone())
            .collect();
        let bytes = files
            .iter()
            .map(|path| std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(0))
            .sum();
        Corpus {
            language,
            units,
            files,
            bytes,
        }
    }

    fn megabytes(&self) -> f64 {
        self.bytes as f64 / 1_000_000.0
    }

    /// The first units, in path order, holding about `fraction` of the bytes.
    fn prefix(&self, fraction: f64, sources: &SourceMap) -> Corpus {
        let mut units = self.units.clone();
        units.sort_by(|a, b| a.root_dir.cmp(&b.root_dir));
        let budget = (self.bytes as f64 * fraction) as u64;
        let mut taken = Vec::new();
        let mut bytes = 0;
        for unit in units {
            if bytes >= budget {
                break;
            }
            bytes += unit
                .files
                .iter()
                .map(|&file| {
                    std::fs::metadata(&sources.get(file).path).map_or(0, |meta| meta.len())
                })
                .sum::<u64>();
            taken.push(unit);
        }
        Corpus::new(self.language, sources, taken)
    }
}

/// Median times of one corpus.
struct Measurement {
    parse: Duration,
    /// Rust: the parse as the analysis does it; Go: the same as `parse`.
    parse_as_analysed: Duration,
    full: Duration,
    findings: usize,
}

impl Measurement {
    fn print(&self, label: &str, corpus: &Corpus) {
        let rate = |time: Duration| {
            format!(
                "{:>8.3} s {:>7.0} files/s {:>6.1} MB/s",
                time.as_secs_f64(),
                corpus.files.len() as f64 / time.as_secs_f64(),
                corpus.megabytes() / time.as_secs_f64()
            )
        };
        println!(
            "  {label:<8} ({:>6.1} MB) parse only {} | full {} | ratio {:.2} ({} findings)",
            corpus.megabytes(),
            rate(self.parse),
            rate(self.full),
            self.full.as_secs_f64() / self.parse.as_secs_f64(),
            self.findings
        );
        if self.parse_as_analysed != self.parse {
            println!(
                "  {label:<8}            parse as analysed {} | ratio of full to it {:.2}",
                rate(self.parse_as_analysed),
                self.full.as_secs_f64() / self.parse_as_analysed.as_secs_f64(),
            );
        }
    }
}

/// Times the whole analysis of a corpus against reading and parsing its files, alternating
/// the two, and keeps the medians.
fn measure(corpus: &Corpus, sources: &SourceMap, rules: &RuleSet, rounds: usize) -> Measurement {
    // Warm the page cache so that both measurements read from memory.
    let _ = parse_only(corpus.language, &corpus.files, false);
    let mut parse_times = Vec::new();
    let mut analysed_times = Vec::new();
    let mut full_times = Vec::new();
    let mut findings = 0;
    let rust = corpus.language == Language::Rust;
    for round in 0..rounds {
        // Alternate the order so that no side always runs on a warmer machine.
        let mut full_run = || {
            let (time, count) = full(sources, &corpus.units, rules);
            full_times.push(time);
            findings = count;
        };
        if round % 2 == 1 {
            full_run();
        }
        parse_times.push(parse_only(corpus.language, &corpus.files, false));
        if rust {
            analysed_times.push(parse_only(corpus.language, &corpus.files, true));
        }
        if round % 2 == 0 {
            full_run();
        }
    }
    let parse = median(&mut parse_times);
    Measurement {
        parse,
        parse_as_analysed: if rust {
            median(&mut analysed_times)
        } else {
            parse
        },
        full: median(&mut full_times),
        findings,
    }
}

/// Reads and parses every file, dropping each tree: the baseline, with syn or tree-sitter as
/// they are, or (`as_analysed`, Rust) as the analysis parses.
fn parse_only(language: Language, files: &[PathBuf], as_analysed: bool) -> Duration {
    use deferlint_core::frontend::{go, rust};
    let started = Instant::now();
    files.par_iter().for_each(|path| {
        if let Ok(text) = std::fs::read_to_string(path) {
            std::hint::black_box(match language {
                Language::Rust if as_analysed => rust::parse_as_analysed(&text),
                Language::Rust => rust::parse_only(&text),
                Language::Go => go::parse_only(&text),
            });
        }
    });
    started.elapsed()
}

fn full(sources: &SourceMap, crates: &[CrateInput], rules: &RuleSet) -> (Duration, usize) {
    let started = Instant::now();
    let output = driver::run(sources, crates, rules);
    let elapsed = started.elapsed();
    if std::env::var_os("DEFERLINT_BENCH_PHASES").is_some() {
        eprintln!("phases (thread time): {:?}", output.timings);
    }
    (elapsed, output.findings.len())
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}
