//! The speed benchmark: for the same files in the same run and on the same threads, the time
//! of the whole analysis (`deferlint` on the folders, from reading files to diagnostics)
//! against the time to only read and parse those files (syn for Rust, tree-sitter for Go).
//! Prints both, their ratio, files/s and MB/s, per language.
//!
//! `cargo bench -p deferlint --bench pipeline -- PATH...`, or `bench/run.sh`, which prepares
//! a corpus of popular crates first.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use deferlint_core::driver;
use deferlint_core::source::Language;
use deferlint_rules::RuleSet;
use rayon::prelude::*;

const ROUNDS: usize = 5;

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
    for language in [Language::Rust, Language::Go] {
        // The files the run checks: Go test files are left out unless tests are checked.
        let files: Vec<PathBuf> = sources
            .iter()
            .filter(|(_, file)| file.language == language)
            .filter(|(_, file)| !file.is_go_test())
            .map(|(_, file)| file.path.clone())
            .collect();
        let units: Vec<_> = crates
            .iter()
            .filter(|input| input.language == language)
            .cloned()
            .collect();
        if files.is_empty() {
            continue;
        }
        measure(language, &sources, &units, &files, &rules);
    }
}

/// Times the whole analysis of one language's units against reading and parsing their files,
/// alternating the two, and prints both with their ratio.
fn measure(
    language: Language,
    sources: &deferlint_core::source::SourceMap,
    units: &[deferlint_core::driver::CrateInput],
    files: &[PathBuf],
    rules: &RuleSet,
) {
    let bytes: u64 = files
        .iter()
        .map(|path| std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(0))
        .sum();
    // Warm the page cache so that both measurements read from memory.
    let _ = parse_only(language, files);
    let mut parse_times = Vec::new();
    let mut full_times = Vec::new();
    let mut findings = 0;
    for round in 0..ROUNDS {
        // Alternate the order so that neither side always runs on a warmer machine.
        if round % 2 == 0 {
            parse_times.push(parse_only(language, files));
            let (time, count) = full(sources, units, rules);
            full_times.push(time);
            findings = count;
        } else {
            let (time, count) = full(sources, units, rules);
            full_times.push(time);
            findings = count;
            parse_times.push(parse_only(language, files));
        }
    }
    let parse = median(&mut parse_times);
    let full = median(&mut full_times);
    let megabytes = bytes as f64 / 1_000_000.0;
    let (name, parser) = match language {
        Language::Rust => ("Rust", "syn"),
        Language::Go => ("Go", "tree-sitter"),
    };
    println!(
        "{name} corpus: {} packages, {} files, {:.1} MB, {} threads",
        units.len(),
        files.len(),
        megabytes,
        rayon::current_num_threads()
    );
    println!(
        "  parse only (read + {parser}): {:>8.3} s  {:>8.0} files/s  {:>6.1} MB/s",
        parse.as_secs_f64(),
        files.len() as f64 / parse.as_secs_f64(),
        megabytes / parse.as_secs_f64()
    );
    println!(
        "  full analysis: {:>8.3} s  {:>8.0} files/s  {:>6.1} MB/s  ({findings} findings)",
        full.as_secs_f64(),
        files.len() as f64 / full.as_secs_f64(),
        megabytes / full.as_secs_f64()
    );
    println!(
        "  ratio full / parse only: {:.2}",
        full.as_secs_f64() / parse.as_secs_f64()
    );
}

/// Reads and parses every file, dropping each tree: the baseline.
fn parse_only(language: Language, files: &[PathBuf]) -> Duration {
    let started = Instant::now();
    files.par_iter().for_each(|path| {
        if let Ok(text) = std::fs::read_to_string(path) {
            match language {
                Language::Rust => {
                    std::hint::black_box(deferlint_core::frontend::rust::parse_only(&text));
                }
                Language::Go => {
                    std::hint::black_box(deferlint_core::frontend::go::parse_only(&text));
                }
            }
        }
    });
    started.elapsed()
}

fn full(
    sources: &deferlint_core::source::SourceMap,
    crates: &[deferlint_core::driver::CrateInput],
    rules: &RuleSet,
) -> (Duration, usize) {
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
