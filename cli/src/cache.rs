//! `--cache-dir`: each unit's findings and each file's facts kept on disk, keyed by everything
//! that decides them, so that a run skips the work whose inputs did not change: a unit whose
//! files, rules and configuration are the same is not analysed at all, and in a unit that
//! changed only the changed files are parsed again.
//!
//! Opt-in: without the flag (or `DEFERLINT_CACHE_DIR`) deferlint writes nothing.
//!
//! Entries are named after what they are for, not after their content, so that each has one
//! entry at most and the folder does not grow with edits:
//! - `<unit>.json`, named after the unit's identity (language, root, name): the unit's
//!   findings, under the hash of this binary (version, size and modification time of the
//!   executable, so that another build never reads an entry it did not write), the rules that
//!   run, their levels and whether test code is checked, the unit (language, names, edition,
//!   enabled features, configured extensions, target roots), and each file's path and bytes.
//! - `facts/<file>`, named after the unit and the file's path: the file's facts as JSON (spans
//!   without their file, read back into the file of this run), under the hash of the binary,
//!   the unit's language, edition, enabled features and extensions, and the file's path and
//!   bytes.
//!
//! Whatever does not match, or cannot be read or understood, is a miss: the work is done and
//! the file written again (atomically, through a temporary file and a rename, so that two runs
//! at once never see half a file). A cache that cannot be written is reported once and the run
//! goes on without it.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use deferlint_core::diagnostic::{
    Applicability, Diagnostic, Edit, Help, Label, Severity, Suggestion,
};
use deferlint_core::driver::{self, CrateInput, FactStore, Finding, RunOutput};
use deferlint_core::model::facts::FileFacts;
use deferlint_core::source::{FileId, SourceMap, Span};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The format of the files; a change makes older ones misses.
const FORMAT: u32 = 2;

/// The cache folder of a run and what is true of every entry it reads or writes.
pub struct Cache {
    dir: PathBuf,
    /// This binary, hashed once: part of every key.
    binary_key: u64,
    /// The binary and the rule set: part of every unit's key.
    run_key: u64,
    /// Rule names as the diagnostics carry them (`&'static str`), to map names read back.
    rule_names: HashMap<String, &'static str>,
}

/// A unit found in the cache, or what its analysis needs to store it.
pub enum Lookup {
    Hit(UnitResult),
    Miss(Miss),
}

/// A unit to analyse: the key to store its findings under, and each file's hash (path and
/// bytes), in the order of the unit's files.
pub struct Miss {
    key: u64,
    file_hashes: Vec<u64>,
}

/// What the run produced for one unit: its findings, and the files and bytes it checked.
pub struct UnitResult {
    pub findings: Vec<Finding>,
    pub size: (usize, u64),
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
        let binary_key = hasher.finish();
        rules.hash(&mut hasher);
        Cache {
            dir: dir.to_path_buf(),
            binary_key,
            run_key: hasher.finish(),
            rule_names: rule_names
                .iter()
                .map(|&name| (name.to_string(), name))
                .collect(),
        }
    }

    /// The folder the entries are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads the unit's files and looks its entry up. `None` when a file cannot be read: the
    /// run reports that, and such a unit is never cached.
    pub fn lookup(&self, sources: &SourceMap, unit: &CrateInput) -> Option<Lookup> {
        // Each file on its own thread (a big unit is most of an editor's run).
        let file_hashes: Vec<u64> = unit
            .files
            .par_iter()
            .map(|&file| {
                let source = sources.get(file);
                let mut hasher = StableHasher::default();
                source.path.hash(&mut hasher);
                source.read().ok()?.hash(&mut hasher);
                Some(hasher.finish())
            })
            .collect::<Option<_>>()?;
        let mut hasher = StableHasher::default();
        self.run_key.hash(&mut hasher);
        describe_unit(sources, unit).hash(&mut hasher);
        file_hashes.hash(&mut hasher);
        let key = hasher.finish();
        let entry = std::fs::read(self.entry_path(unit, "json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Entry>(&bytes).ok())
            .filter(|entry| entry.key == format!("{key:016x}"));
        Some(match entry.and_then(|entry| self.restore(entry, unit)) {
            Some(result) => Lookup::Hit(result),
            None => Lookup::Miss(Miss { key, file_hashes }),
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
            files: result.size.0,
            bytes: result.size.1,
            findings,
        };
        let text = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        self.write(&self.entry_path(unit, "json"), &text)
    }

    /// Writes a file of the cache through a temporary file and a rename.
    fn write(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(path.parent().unwrap_or(&self.dir))?;
        let temporary = path.with_extension(format!("{}.tmp", std::process::id()));
        std::fs::write(&temporary, bytes)?;
        std::fs::rename(&temporary, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&temporary);
        })
    }

    fn entry_path(&self, unit: &CrateInput, extension: &str) -> PathBuf {
        let mut hasher = StableHasher::default();
        unit.language.hash(&mut hasher);
        unit.root_dir.hash(&mut hasher);
        unit.name.hash(&mut hasher);
        self.dir
            .join(format!("{:016x}.{extension}", hasher.finish()))
    }

    /// Where each file's facts are kept, and the key they must have: the binary, what the
    /// frontends are given besides the bytes (language, edition, the enabled features, which
    /// decide what `cfg` leaves out, the configured extensions, which name defer macros) and
    /// the file's path and bytes.
    fn fact_entries(
        &self,
        sources: &SourceMap,
        unit: &CrateInput,
        file_hashes: &[u64],
    ) -> HashMap<FileId, (PathBuf, u64)> {
        let mut base = StableHasher::default();
        self.binary_key.hash(&mut base);
        unit.language.hash(&mut base);
        unit.edition.as_str().hash(&mut base);
        describe_features(unit).hash(&mut base);
        format!("{:?}", unit.extensions).hash(&mut base);
        let unit_entry = self.entry_path(unit, "");
        unit.files
            .iter()
            .zip(file_hashes)
            .map(|(&file, file_hash)| {
                let mut key = base.clone();
                file_hash.hash(&mut key);
                let mut name = StableHasher::default();
                unit_entry.hash(&mut name);
                sources.get(file).path.hash(&mut name);
                let path = self
                    .dir
                    .join("facts")
                    .join(format!("{:016x}", name.finish()));
                (file, (path, key.finish()))
            })
            .collect()
    }

    fn restore(&self, entry: Entry, unit: &CrateInput) -> Option<UnitResult> {
        let findings = entry
            .findings
            .into_iter()
            .map(|stored| stored.restore(&unit.files, &self.rule_names))
            .collect::<Option<Vec<_>>>()?;
        Some(UnitResult {
            findings,
            size: (entry.files, entry.bytes),
        })
    }
}

/// The facts of the files of the units a run analyses, each in a file of its own under
/// `facts/`, named after the unit and the file's path: an edit rewrites only its file's entry.
struct FactFiles<'a> {
    cache: &'a Cache,
    /// By the run's unit index (an index into the units given to the driver): each file's
    /// entry and the key its facts must have.
    units: Vec<Option<HashMap<FileId, (PathBuf, u64)>>>,
    /// The first error writing an entry.
    error: Mutex<Option<std::io::Error>>,
}

impl FactFiles<'_> {
    fn entry(&self, unit: usize, file: FileId) -> Option<&(PathBuf, u64)> {
        self.units.get(unit)?.as_ref()?.get(&file)
    }
}

impl FactStore for FactFiles<'_> {
    fn load(&self, unit: usize, file: FileId) -> Option<FileFacts> {
        let (path, key) = self.entry(unit, file)?;
        let text = std::fs::read_to_string(path).ok()?;
        let facts = text.strip_prefix(&format!("{key:016x}\n"))?;
        FileFacts::from_json(file, facts).ok()
    }

    fn lowered(&self, unit: usize, file: FileId, facts: &FileFacts) {
        let Some((path, key)) = self.entry(unit, file) else {
            return;
        };
        // Facts that cannot be written without their file are lowered on every run.
        let Some(json) = facts.to_json(file) else {
            return;
        };
        let text = format!("{key:016x}\n{json}");
        if let Err(error) = self.cache.write(path, text.as_bytes())
            && let Ok(mut first) = self.error.lock()
        {
            first.get_or_insert(error);
        }
    }
}

/// Runs the pipeline through the cache: units whose entry matches are taken from it, the
/// others go to `run` (given their indices into `crates`, and the facts the cache has for
/// their files; its output's findings and unit sizes indexed as `crates`) and are stored. Returns the whole output, as one run without the cache would,
/// and the first error writing the cache.
pub fn run_cached(
    cache: &Cache,
    sources: &SourceMap,
    crates: &[CrateInput],
    run: impl FnOnce(&[usize], &dyn FactStore) -> RunOutput,
) -> (RunOutput, Option<std::io::Error>) {
    let lookups: Vec<Option<Lookup>> = crates
        .par_iter()
        .map(|unit| cache.lookup(sources, unit))
        .collect();
    let mut hits = Vec::new();
    // The units to analyse, and what their entries need (`None`: a file cannot be read).
    let mut missing = Vec::new();
    let mut misses = Vec::new();
    for (index, lookup) in lookups.into_iter().enumerate() {
        match lookup {
            Some(Lookup::Hit(result)) => hits.push((index, result)),
            Some(Lookup::Miss(miss)) => {
                missing.push(index);
                misses.push(Some(miss));
            }
            None => {
                missing.push(index);
                misses.push(None);
            }
        }
    }
    let mut error = None;
    let mut output = if missing.is_empty() {
        RunOutput {
            unit_sizes: vec![(0, 0); crates.len()],
            ..RunOutput::default()
        }
    } else {
        let facts = FactFiles {
            cache,
            units: missing
                .iter()
                .zip(&misses)
                .map(|(&index, miss)| {
                    let miss = miss.as_ref()?;
                    Some(cache.fact_entries(sources, &crates[index], &miss.file_hashes))
                })
                .collect(),
            error: Mutex::new(None),
        };
        let fresh = run(&missing, &facts);
        error = facts.error.into_inner().ok().flatten();
        // Each unit's share of the fresh run, by index into `crates`.
        let mut per_unit: HashMap<usize, Vec<Finding>> = HashMap::new();
        for finding in &fresh.findings {
            per_unit
                .entry(finding.crate_index)
                .or_default()
                .push(finding.clone());
        }
        for (&index, miss) in missing.iter().zip(&misses) {
            let Some(miss) = miss else {
                continue;
            };
            let result = UnitResult {
                findings: per_unit.remove(&index).unwrap_or_default(),
                size: fresh.unit_sizes[index],
            };
            if let Err(failure) = cache.store(sources, &crates[index], miss.key, &result) {
                error.get_or_insert(failure);
            }
        }
        fresh
    };
    for (index, result) in hits {
        output
            .findings
            .extend(result.findings.into_iter().map(|finding| Finding {
                crate_index: index,
                ..finding
            }));
        output.unit_sizes[index] = result.size;
    }
    // The order and deduplication of one run over every unit.
    driver::sort_findings(&mut output.findings);
    (output, error)
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
        "{:?} {:?} {:?} {} {} {} {:?} {:?}",
        unit.language,
        unit.name,
        unit.lib_name,
        unit.edition.as_str(),
        describe_features(unit),
        unit.root_dir.display(),
        targets,
        unit.extensions,
    )
}

/// The unit's enabled features as part of a key: `*` when unknown (everything is read), else
/// the sorted names.
fn describe_features(unit: &CrateInput) -> String {
    match &unit.features {
        None => "*".to_string(),
        Some(features) => {
            let names: Vec<&str> = features.iter().collect();
            format!("features[{}]", names.join(","))
        }
    }
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
