//! `--cache-dir`: each unit's findings kept on disk, keyed by everything that decides them, so
//! that a run in which a unit's files did not change skips its parsing and analysis.
//!
//! Opt-in: without the flag (or `DEFERLINT_CACHE_DIR`) deferlint writes nothing.
//!
//! An entry is one JSON file per unit, named after the unit's identity (language, root, name),
//! so a unit never has more than one entry and the folder does not grow with edits. It holds
//! the key it was made for, a hash of:
//! - this binary (version, size and modification time of the executable), so that another
//!   build of deferlint never reads an entry it did not write;
//! - the rules that run and their levels, and whether test code is checked;
//! - the unit: language, names, edition, extensions from the configuration, target roots, and
//!   each file's path and bytes.
//!
//! An entry whose key differs, or that cannot be read or understood, is a miss: the unit is
//! analysed and the entry written again (atomically, through a temporary file and a rename,
//! so that two runs at once never see half an entry). A cache that cannot be written is
//! reported once and the run goes on without it.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use deferlint_core::diagnostic::{
    Applicability, Diagnostic, Edit, Help, Label, Severity, Suggestion,
};
use deferlint_core::driver::{CrateInput, Finding, RunOutput};
use deferlint_core::source::{FileId, SourceMap, Span};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The format of an entry; a change makes older entries misses.
const FORMAT: u32 = 1;

/// The cache folder of a run and what is true of every entry it reads or writes.
pub struct Cache {
    dir: PathBuf,
    /// The binary and the rule set, hashed once.
    run_key: u64,
    /// Rule names as the diagnostics carry them (`&'static str`), to map names read back.
    rule_names: HashMap<String, &'static str>,
}

/// A unit found in the cache, or the key to store it under after its analysis.
pub enum Lookup {
    Hit(UnitResult),
    Miss(u64),
}

/// What the run produced for one unit.
pub struct UnitResult {
    pub findings: Vec<Finding>,
    pub files: usize,
    pub bytes: u64,
}

impl Cache {
    /// `rules` describes the rule set (names, levels, whether tests are checked) and
    /// `rule_names` is every name a diagnostic may carry.
    pub fn new(dir: &Path, rules: &str, rule_names: &[&'static str]) -> Cache {
        let mut hasher = StableHasher::default();
        FORMAT.hash(&mut hasher);
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        // Another build of the same version (a developer's) must not read this one's entries.
        match std::env::current_exe().and_then(std::fs::metadata) {
            Ok(meta) => {
                meta.len().hash(&mut hasher);
                meta.modified().ok().hash(&mut hasher);
            }
            // Unknown binary: entries are never trusted across runs.
            Err(_) => std::process::id().hash(&mut hasher),
        }
        rules.hash(&mut hasher);
        Cache {
            dir: dir.to_path_buf(),
            run_key: hasher.finish(),
            rule_names: rule_names
                .iter()
                .map(|&name| (name.to_string(), name))
                .collect(),
        }
    }

    /// Reads the unit's files and looks its entry up. `None` when a file cannot be read: the
    /// run reports that, and such a unit is never cached.
    pub fn lookup(&self, sources: &SourceMap, unit: &CrateInput) -> Option<Lookup> {
        let key = self.unit_key(sources, unit)?;
        let entry = std::fs::read(self.entry_path(unit))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Entry>(&bytes).ok())
            .filter(|entry| entry.key == format!("{key:016x}"));
        Some(match entry.and_then(|entry| self.restore(entry, unit)) {
            Some(result) => Lookup::Hit(result),
            None => Lookup::Miss(key),
        })
    }

    /// Writes the unit's entry. Findings whose spans are outside the unit's files are not
    /// cached (the unit is then analysed on every run).
    pub fn store(
        &self,
        sources: &SourceMap,
        unit: &CrateInput,
        key: u64,
        result: &UnitResult,
    ) -> std::io::Result<()> {
        let index: HashMap<FileId, u32> = unit
            .files
            .iter()
            .enumerate()
            .map(|(position, &file)| (file, position as u32))
            .collect();
        let Some(findings) = result
            .findings
            .iter()
            .map(|finding| StoredFinding::new(finding, &index))
            .collect::<Option<Vec<_>>>()
        else {
            return Ok(());
        };
        let entry = Entry {
            key: format!("{key:016x}"),
            unit: describe_unit(sources, unit),
            files: result.files,
            bytes: result.bytes,
            findings,
        };
        std::fs::create_dir_all(&self.dir)?;
        let path = self.entry_path(unit);
        let temporary = path.with_extension(format!("{}.tmp", std::process::id()));
        let text = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        std::fs::write(&temporary, text)?;
        std::fs::rename(&temporary, &path).inspect_err(|_| {
            let _ = std::fs::remove_file(&temporary);
        })
    }

    fn entry_path(&self, unit: &CrateInput) -> PathBuf {
        let mut hasher = StableHasher::default();
        unit.language.hash(&mut hasher);
        unit.root_dir.hash(&mut hasher);
        unit.name.hash(&mut hasher);
        self.dir.join(format!("{:016x}.json", hasher.finish()))
    }

    fn unit_key(&self, sources: &SourceMap, unit: &CrateInput) -> Option<u64> {
        let mut hasher = StableHasher::default();
        self.run_key.hash(&mut hasher);
        describe_unit(sources, unit).hash(&mut hasher);
        // Each file on its own thread (a big unit is most of an editor's run), then in order.
        let files: Option<Vec<u64>> = unit
            .files
            .par_iter()
            .map(|&file| {
                let source = sources.get(file);
                let mut hasher = StableHasher::default();
                source.path.hash(&mut hasher);
                source.read().ok()?.hash(&mut hasher);
                Some(hasher.finish())
            })
            .collect();
        files?.hash(&mut hasher);
        Some(hasher.finish())
    }

    fn restore(&self, entry: Entry, unit: &CrateInput) -> Option<UnitResult> {
        let findings = entry
            .findings
            .into_iter()
            .map(|stored| stored.restore(&unit.files, &self.rule_names))
            .collect::<Option<Vec<_>>>()?;
        Some(UnitResult {
            findings,
            files: entry.files,
            bytes: entry.bytes,
        })
    }
}

/// Runs the pipeline through the cache: units whose entry matches are taken from it, the
/// others go to `run` (given their indices into `crates`) and are stored. Returns the whole
/// output, as one run without the cache would, and the first error writing the cache.
pub fn run_cached(
    cache: &Cache,
    sources: &SourceMap,
    crates: &[CrateInput],
    run: impl FnOnce(&[usize]) -> RunOutput,
) -> (RunOutput, Option<std::io::Error>) {
    let lookups: Vec<Option<Lookup>> = crates
        .par_iter()
        .map(|unit| cache.lookup(sources, unit))
        .collect();
    let mut output = RunOutput::default();
    let mut missing = Vec::new();
    let mut keys = HashMap::new();
    for (index, lookup) in lookups.into_iter().enumerate() {
        match lookup {
            Some(Lookup::Hit(result)) => {
                output
                    .findings
                    .extend(result.findings.into_iter().map(|finding| Finding {
                        crate_index: index,
                        ..finding
                    }));
                output.files_checked += result.files;
                output.bytes_checked += result.bytes;
            }
            Some(Lookup::Miss(key)) => {
                keys.insert(index, key);
                missing.push(index);
            }
            None => missing.push(index),
        }
    }
    let mut error = None;
    if !missing.is_empty() {
        let fresh = run(&missing);
        // Each unit's share of the fresh run, by index into `crates`.
        let mut per_unit: HashMap<usize, Vec<Finding>> = HashMap::new();
        for finding in &fresh.findings {
            per_unit
                .entry(finding.crate_index)
                .or_default()
                .push(finding.clone());
        }
        for &index in &missing {
            let Some(&key) = keys.get(&index) else {
                continue;
            };
            let unit = &crates[index];
            let (files, bytes) = unit_size(sources, unit);
            let result = UnitResult {
                findings: per_unit.remove(&index).unwrap_or_default(),
                files,
                bytes,
            };
            if let Err(failure) = cache.store(sources, unit, key, &result) {
                error.get_or_insert(failure);
            }
        }
        output.findings.extend(fresh.findings);
        output.files_checked += fresh.files_checked;
        output.bytes_checked += fresh.bytes_checked;
        output.timings = fresh.timings;
    }
    // The order and deduplication of one run over every unit.
    output
        .findings
        .sort_by(|a, b| a.diagnostic.sort_key().cmp(&b.diagnostic.sort_key()));
    output
        .findings
        .dedup_by(|a, b| a.diagnostic.sort_key() == b.diagnostic.sort_key());
    (output, error)
}

/// The files and bytes the run counts as checked for a unit.
fn unit_size(sources: &SourceMap, unit: &CrateInput) -> (usize, u64) {
    let bytes = unit
        .files
        .iter()
        .filter_map(|&file| sources.get(file).read().ok().map(|text| text.len() as u64))
        .sum();
    (unit.files.len(), bytes)
}

/// What decides a unit's findings besides its files' bytes, without `FileId`s (which depend on
/// the order of discovery).
fn describe_unit(sources: &SourceMap, unit: &CrateInput) -> String {
    let targets: Vec<String> = unit
        .targets
        .iter()
        .map(|target| {
            format!(
                "{}:{}:{}",
                target.kind.cargo_name(),
                target.name,
                sources.get(target.file).path.display()
            )
        })
        .collect();
    format!(
        "{:?} {:?} {:?} {} {} {:?} {:?}",
        unit.language,
        unit.name,
        unit.lib_name,
        unit.edition.as_str(),
        unit.root_dir.display(),
        targets,
        unit.extensions,
    )
}

/// std's SipHash with fixed keys: the same bytes give the same hash in every run of one
/// binary, and the binary is part of every key.
type StableHasher = std::hash::DefaultHasher;

#[derive(Serialize, Deserialize)]
struct Entry {
    key: String,
    /// For a person looking at the folder.
    unit: String,
    files: usize,
    bytes: u64,
    findings: Vec<StoredFinding>,
}

/// A span as an index into the unit's files and byte offsets.
#[derive(Serialize, Deserialize)]
struct StoredSpan(u32, u32, u32);

#[derive(Serialize, Deserialize)]
struct StoredLabel {
    span: StoredSpan,
    message: String,
}

#[derive(Serialize, Deserialize)]
struct StoredHelp {
    message: String,
    /// The edits and whether a tool may apply them.
    suggestion: Option<(Vec<(StoredSpan, String)>, String)>,
}

#[derive(Serialize, Deserialize)]
struct StoredFinding {
    target_index: Option<usize>,
    rule: String,
    error: bool,
    message: String,
    primary: StoredLabel,
    secondary: Vec<StoredLabel>,
    notes: Vec<String>,
    helps: Vec<StoredHelp>,
}

impl StoredFinding {
    fn new(finding: &Finding, index: &HashMap<FileId, u32>) -> Option<StoredFinding> {
        let span = |span: Span| Some(StoredSpan(*index.get(&span.file)?, span.lo, span.hi));
        let label = |label: &Label| {
            Some(StoredLabel {
                span: span(label.span)?,
                message: label.message.clone(),
            })
        };
        let diagnostic = &finding.diagnostic;
        let helps = diagnostic
            .helps
            .iter()
            .map(|help| {
                let suggestion = match &help.suggestion {
                    Some(suggestion) => Some((
                        suggestion
                            .edits
                            .iter()
                            .map(|edit| Some((span(edit.span)?, edit.replacement.clone())))
                            .collect::<Option<Vec<_>>>()?,
                        suggestion.applicability.as_str().to_string(),
                    )),
                    None => None,
                };
                Some(StoredHelp {
                    message: help.message.clone(),
                    suggestion,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(StoredFinding {
            target_index: finding.target_index,
            rule: diagnostic.rule.to_string(),
            error: diagnostic.severity == Severity::Error,
            message: diagnostic.message.clone(),
            primary: label(&diagnostic.primary)?,
            secondary: diagnostic
                .secondary
                .iter()
                .map(label)
                .collect::<Option<Vec<_>>>()?,
            notes: diagnostic.notes.clone(),
            helps,
        })
    }

    fn restore(
        self,
        files: &[FileId],
        rule_names: &HashMap<String, &'static str>,
    ) -> Option<Finding> {
        let span = |StoredSpan(file, lo, hi): StoredSpan| {
            Some(Span::new(*files.get(file as usize)?, lo, hi))
        };
        let label = |label: StoredLabel| Some(Label::new(span(label.span)?, label.message));
        let helps = self
            .helps
            .into_iter()
            .map(|help| {
                let suggestion = match help.suggestion {
                    Some((edits, applicability)) => Some(Suggestion {
                        edits: edits
                            .into_iter()
                            .map(|(at, replacement)| {
                                Some(Edit {
                                    span: span(at)?,
                                    replacement,
                                })
                            })
                            .collect::<Option<Vec<_>>>()?,
                        applicability: Applicability::parse(&applicability)?,
                    }),
                    None => None,
                };
                Some(Help {
                    message: help.message,
                    suggestion,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let mut diagnostic = Diagnostic::new(
            rule_names.get(&self.rule)?,
            if self.error {
                Severity::Error
            } else {
                Severity::Warning
            },
            self.message,
            label(self.primary)?,
        );
        diagnostic.secondary = self
            .secondary
            .into_iter()
            .map(label)
            .collect::<Option<Vec<_>>>()?;
        diagnostic.notes = self.notes;
        diagnostic.helps = helps;
        Some(Finding {
            crate_index: 0,
            target_index: self.target_index,
            diagnostic,
        })
    }
}
