//! `--baseline FILE` and `--write-baseline FILE`: reading, writing (atomically) and applying a
//! baseline file. The format, the fingerprint and the matching live in
//! `deferlint_core::baseline`; this module does the file I/O and makes paths relative to the
//! baseline file's folder, so that a baseline works from any current folder and on any
//! machine where it sits at the same place in the repository.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use deferlint_core::baseline::{Baseline, BaselineEntry, fingerprint};
use deferlint_core::driver::Finding;
use deferlint_core::source::{FileId, LineIndex, SourceMap};
use deferlint_core::suppress::INVALID_SUPPRESSION;

/// What applying a baseline left out and found fixed.
#[derive(Debug, Default)]
pub struct BaselineOutcome {
    /// Findings the baseline covers, no longer reported.
    pub covered: usize,
    /// Baseline entries no current finding matched.
    pub fixed: usize,
}

/// Reads a baseline file; every problem names the file.
pub fn read(path: &Path) -> Result<Baseline> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read the baseline `{}`", path.display()))?;
    Baseline::parse(&text)
        .map_err(|error| anyhow!("cannot use the baseline `{}`: {error}", path.display()))
}

/// Writes the findings as a baseline: to a temporary file beside the target, then renamed over
/// it, so that a failed write never leaves half a baseline. Returns how many were written.
pub fn write(path: &Path, sources: &SourceMap, findings: &[Finding]) -> Result<usize> {
    let recorded: Vec<&Finding> = findings.iter().filter(|f| recordable(f)).collect();
    let baseline = Baseline::new(entries(path, sources, &recorded));
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| anyhow!("`{}` is not a file name", path.display()))?;
    let mut temporary_name = file_name.to_os_string();
    temporary_name.push(format!(".{}.tmp", std::process::id()));
    let temporary = folder.join(temporary_name);
    let written = std::fs::File::create(&temporary)
        .and_then(|mut file| {
            file.write_all(baseline.to_json().as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, path));
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(anyhow!(
            "could not write the baseline `{}`: {error}",
            path.display()
        ));
    }
    Ok(baseline.findings.len())
}

/// Drops the findings the baseline covers from `findings`.
pub fn apply(
    baseline: &Baseline,
    baseline_path: &Path,
    sources: &SourceMap,
    findings: &mut Vec<Finding>,
) -> BaselineOutcome {
    let recorded: Vec<&Finding> = findings.iter().filter(|f| recordable(f)).collect();
    let comparison = baseline.compare(&entries(baseline_path, sources, &recorded));
    let mut covered = comparison.covered.iter();
    let before = findings.len();
    // `covered` follows the recordable findings in order; the others are always kept.
    findings.retain(|finding| !(recordable(finding) && *covered.next().unwrap_or(&false)));
    BaselineOutcome {
        covered: before - findings.len(),
        fixed: comparison.fixed.len(),
    }
}

/// Every finding but an invalid suppression comment, which is an input error, not a finding
/// to accept.
fn recordable(finding: &Finding) -> bool {
    finding.diagnostic.rule != INVALID_SUPPRESSION
}

/// The baseline entries of findings, reading each of their files once.
fn entries(baseline_path: &Path, sources: &SourceMap, findings: &[&Finding]) -> Vec<BaselineEntry> {
    let base = baseline_folder(baseline_path);
    let mut texts: BTreeMap<FileId, (String, LineIndex, String)> = BTreeMap::new();
    findings
        .iter()
        .map(|finding| {
            let diagnostic = &finding.diagnostic;
            let file = diagnostic.primary.span.file;
            let (text, index, path) = texts.entry(file).or_insert_with(|| {
                // A file that cannot be read again (it was read moments ago) fingerprints as
                // empty: its findings then match only entries made the same way.
                let text = sources.get(file).read_text().unwrap_or_default();
                let index = LineIndex::new(&text);
                (text, index, relative_path(base.as_deref(), sources, file))
            });
            BaselineEntry {
                rule: diagnostic.rule.to_string(),
                path: path.clone(),
                fingerprint: fingerprint(text, diagnostic.primary.span),
                line: index.line_column(text, diagnostic.primary.span.lo).line,
                message: diagnostic.message.clone(),
            }
        })
        .collect()
}

/// The baseline file's folder, canonical; `None` when it does not exist.
fn baseline_folder(baseline_path: &Path) -> Option<PathBuf> {
    let folder = match baseline_path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    folder.canonicalize().ok()
}

/// A file's path relative to the baseline's folder, with `/` separators (`../src/lib.rs` when
/// the baseline sits in a sibling folder); its display name when either cannot be resolved.
fn relative_path(base: Option<&Path>, sources: &SourceMap, file: FileId) -> String {
    let source = sources.get(file);
    let (Some(base), Ok(target)) = (base, source.path.canonicalize()) else {
        return source.display_name.clone();
    };
    let base: Vec<Component<'_>> = base.components().collect();
    let target: Vec<Component<'_>> = target.components().collect();
    let common = base.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); base.len() - common];
    parts.extend(
        target[common..]
            .iter()
            .map(|component| component.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use deferlint_core::source::Language;

    #[test]
    fn paths_are_relative_to_the_baseline_folder() {
        let root = std::env::temp_dir().join(format!("deferlint-baseline-{}", std::process::id()));
        std::fs::create_dir_all(root.join("ci")).unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/lib.rs"), "fn f() {}\n").unwrap();
        let mut sources = SourceMap::new();
        let file = sources.add(root.join("src/lib.rs"), "shown".into(), Language::Rust);
        let from_root = baseline_folder(&root.join("baseline.json"));
        let from_ci = baseline_folder(&root.join("ci/baseline.json"));
        assert_eq!(
            relative_path(from_root.as_deref(), &sources, file),
            "src/lib.rs"
        );
        assert_eq!(
            relative_path(from_ci.as_deref(), &sources, file),
            "../src/lib.rs"
        );
        assert_eq!(relative_path(None, &sources, file), "shown");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
