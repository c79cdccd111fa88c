//! `--fix`: applies the machine-applicable edits of the findings to the files, in rounds, as
//! `cargo fix` and `ruff --fix` do. A round lints, chooses per file the suggestions that fit
//! together (`deferlint_core::fix`), makes sure git can undo the change, writes each changed
//! file atomically, and puts back any file that no longer parses. The next round lints the new
//! text; the last lint is what the run reports.
//!
//! The git check covers the files a round is about to write, not the whole working tree: the
//! point is that no uncommitted work is overwritten, and a file `--fix` does not touch is not
//! at risk. A file outside any git repository, or any file when git is not installed, cannot be
//! restored either and is refused the same way. `--allow-dirty` skips the check.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use deferlint_core::diagnostic::Edit;
use deferlint_core::driver::{self, CrateInput, Edition, RunOutput};
use deferlint_core::fix::{SuggestionOutcome, apply_suggestions, machine_applicable};
use deferlint_core::model::extensions::Extensions;
use deferlint_core::source::{FileId, SourceMap, relative_to};

use crate::output;

/// A fix can make another fixable finding appear (or its own finding again, if the rule is
/// wrong), so rounds go on while something changes, up to this many.
const MAX_ROUNDS: usize = 4;

/// What `--fix` was asked to do besides fixing.
#[derive(Clone, Copy, Debug)]
pub struct FixOptions {
    /// `--allow-dirty`: write files git could not restore.
    pub allow_dirty: bool,
    /// `--quiet`: no report of what was fixed (problems are still reported).
    pub quiet: bool,
}

/// What a `--fix` run did.
#[derive(Debug)]
pub struct Fixed {
    /// The last lint: the findings that are left.
    pub output: RunOutput,
    /// Findings fixed, by file and rule.
    fixed: BTreeMap<FileId, BTreeMap<&'static str, usize>>,
    /// Files whose fixes did not parse and were put back.
    rolled_back: HashSet<FileId>,
}

/// Fixes what can be fixed, reports it on stderr, and returns the findings that are left.
/// `lint` is one whole run of the checks over `sources`, exactly as a run without `--fix`
/// makes it.
pub fn run(
    sources: &SourceMap,
    crates: &[CrateInput],
    options: FixOptions,
    mut lint: impl FnMut() -> Result<RunOutput>,
) -> Result<Fixed> {
    let editions = editions_by_file(crates);
    let mut working_tree = WorkingTree::default();
    // Files put back after a fix broke them: they are left alone from then on.
    let mut rolled_back: HashSet<FileId> = HashSet::new();
    let mut fixed: BTreeMap<FileId, BTreeMap<&'static str, usize>> = BTreeMap::new();
    // A rule bug is reported once, not once per round.
    let mut reported_bugs: HashSet<String> = HashSet::new();
    let mut output = lint()?;
    let mut rounds = 0;
    loop {
        let fixes = fixes_by_file(&output, &rolled_back);
        if fixes.is_empty() {
            break;
        }
        if rounds == MAX_ROUNDS {
            output::warning(&format!(
                "stopped fixing after {MAX_ROUNDS} rounds; findings with fixes are left"
            ));
            break;
        }
        rounds += 1;
        if !options.allow_dirty {
            working_tree.check_can_write(sources, fixes.keys().copied())?;
        }
        let mut changed_any = false;
        // Two names of one file (a symbolic link) must not both be fixed in one round: the
        // second's offsets are into the text the first replaced.
        let mut written_this_round: HashSet<PathBuf> = HashSet::new();
        for (file, file_fixes) in fixes {
            let path = &sources.get(file).path;
            let name = &sources.get(file).display_name;
            if written_this_round.contains(&canonical(path)) {
                continue;
            }
            let original = fs::read(path)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .with_context(|| format!("could not read `{name}` to fix it"))?;
            let edits: Vec<&[Edit]> = file_fixes.iter().map(|fix| fix.edits).collect();
            let applied = apply_suggestions(&original, &edits);
            for (fix, outcome) in file_fixes.iter().zip(&applied.outcomes) {
                if *outcome == SuggestionOutcome::Invalid
                    && reported_bugs.insert(format!("{}:{name}", fix.rule))
                {
                    output::warning(&format!(
                        "the fix for {} in {name} does not fit the file; left unchanged (this is a bug in deferlint, please report it)",
                        fix.rule
                    ));
                }
            }
            if !applied.changed_anything() {
                continue;
            }
            let edition = editions.get(&file).copied().unwrap_or_default();
            let problems_before =
                driver::lower_file(sources, file, edition, &Extensions::default(), None)
                    .problems
                    .len();
            write_atomically(path, applied.text.as_bytes())
                .with_context(|| format!("could not write the fixes to `{name}`"))?;
            working_tree.written.insert(canonical(path));
            written_this_round.insert(canonical(path));
            let applied_rules: BTreeSet<&'static str> = file_fixes
                .iter()
                .zip(&applied.outcomes)
                .filter(|(_, outcome)| outcome.fixes_its_finding())
                .map(|(fix, _)| fix.rule)
                .collect();
            if driver::lower_file(sources, file, edition, &Extensions::default(), None)
                .problems
                .len()
                > problems_before
            {
                write_atomically(path, original.as_bytes())
                    .with_context(|| format!("could not put `{name}` back as it was"))?;
                rolled_back.insert(file);
                let rules: Vec<&str> = applied_rules.into_iter().collect();
                output::warning(&format!(
                    "the fix for {} in {name} did not parse; left unchanged (this is a bug in deferlint, please report it)",
                    rules.join(", ")
                ));
                continue;
            }
            changed_any = true;
            let counts = fixed.entry(file).or_default();
            for (fix, outcome) in file_fixes.iter().zip(&applied.outcomes) {
                if outcome.fixes_its_finding() {
                    *counts.entry(fix.rule).or_default() += 1;
                }
            }
        }
        if !changed_any {
            break;
        }
        output = lint()?;
    }
    let fixed = Fixed {
        output,
        fixed,
        rolled_back,
    };
    if !options.quiet {
        output::stderr(&fixed.report(sources));
    }
    Ok(fixed)
}

/// One machine-applicable suggestion of a finding.
struct Fix<'a> {
    rule: &'static str,
    edits: &'a [Edit],
}

/// The first machine-applicable suggestion of every finding, by file. A suggestion with edits
/// in several files is not applied (no rule makes one): each file is fixed on its own.
fn fixes_by_file<'a>(
    output: &'a RunOutput,
    rolled_back: &HashSet<FileId>,
) -> BTreeMap<FileId, Vec<Fix<'a>>> {
    let mut fixes: BTreeMap<FileId, Vec<Fix<'a>>> = BTreeMap::new();
    for finding in &output.findings {
        let Some(suggestion) = machine_applicable(&finding.diagnostic).next() else {
            continue;
        };
        let Some(file) = suggestion.edits.first().map(|edit| edit.span.file) else {
            continue;
        };
        if rolled_back.contains(&file) || suggestion.edits.iter().any(|edit| edit.span.file != file)
        {
            continue;
        }
        fixes.entry(file).or_default().push(Fix {
            rule: finding.diagnostic.rule,
            edits: &suggestion.edits,
        });
    }
    fixes
}

fn editions_by_file(crates: &[CrateInput]) -> HashMap<FileId, Edition> {
    crates
        .iter()
        .flat_map(|input| input.files.iter().map(|&file| (file, input.edition)))
        .collect()
}

impl Fixed {
    /// `deferlint: fixed 3 findings in 2 files: a ×1, b ×2`, then one line per file.
    fn report(&self, sources: &SourceMap) -> String {
        let counted = |count: usize, noun: &str| {
            format!("{count} {noun}{}", if count == 1 { "" } else { "s" })
        };
        let list = |counts: &BTreeMap<&'static str, usize>| {
            counts
                .iter()
                .map(|(rule, count)| format!("{rule} ×{count}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut total: BTreeMap<&'static str, usize> = BTreeMap::new();
        for counts in self.fixed.values() {
            for (rule, count) in counts {
                *total.entry(rule).or_default() += count;
            }
        }
        if total.is_empty() && !self.rolled_back.is_empty() {
            return "deferlint: fixed nothing: the fixes did not parse\n".to_string();
        }
        if total.is_empty() {
            return "deferlint: nothing to fix: no finding has a machine-applicable fix\n"
                .to_string();
        }
        let mut text = format!(
            "deferlint: fixed {} in {}: {}\n",
            counted(total.values().sum(), "finding"),
            counted(self.fixed.len(), "file"),
            list(&total)
        );
        for (file, counts) in &self.fixed {
            text.push_str(&format!(
                "  {}: {}\n",
                sources.get(*file).display_name,
                list(counts)
            ));
        }
        text
    }
}

/// What git knows about the files `--fix` writes, asked once per folder and repository.
#[derive(Debug, Default)]
struct WorkingTree {
    /// The repository root of each folder asked about; `None` outside any repository.
    roots: HashMap<PathBuf, Option<PathBuf>>,
    /// `git status` of each repository: paths relative to its root, with their status code.
    statuses: HashMap<PathBuf, Vec<(String, String)>>,
    /// Whether `git` could not be started at all.
    git_missing: bool,
    /// Files this run has written: uncommitted now, but only by `--fix` itself.
    written: HashSet<PathBuf>,
}

impl WorkingTree {
    /// Fails, naming the files, if any of them has uncommitted changes or is not in a git
    /// repository.
    fn check_can_write(
        &mut self,
        sources: &SourceMap,
        files: impl Iterator<Item = FileId>,
    ) -> Result<()> {
        let mut refused = Vec::new();
        for file in files {
            let source = sources.get(file);
            let path = canonical(&source.path);
            if self.written.contains(&path) {
                continue;
            }
            if let Some(reason) = self.why_not_restorable(&path)? {
                refused.push(format!("  * {} ({reason})", source.display_name));
            }
        }
        if refused.is_empty() {
            return Ok(());
        }
        bail!(
            "`--fix` would change files that have uncommitted changes or are not under git, so its edits could not be undone; commit or stash the changes first, or pass `--allow-dirty` to fix them anyway:\n{}",
            refused.join("\n")
        )
    }

    /// Why git could not give the file back as it is now, if it could not.
    fn why_not_restorable(&mut self, path: &Path) -> Result<Option<&'static str>> {
        let folder = path.parent().unwrap_or(path).to_path_buf();
        if !self.roots.contains_key(&folder) {
            let root = self.repository_root(&folder);
            self.roots.insert(folder.clone(), root);
        }
        let Some(root) = self.roots[&folder].clone() else {
            return Ok(Some(if self.git_missing {
                "git was not found"
            } else {
                "not in a git repository"
            }));
        };
        if !self.statuses.contains_key(&root) {
            let statuses = git_status(&root)?;
            self.statuses.insert(root.clone(), statuses);
        }
        // `git status` names files relative to the repository's root.
        let relative = relative_to(path, &root).unwrap_or_default();
        Ok(self.statuses[&root]
            .iter()
            .find(|(_, entry)| {
                *entry == relative || (entry.ends_with('/') && relative.starts_with(entry.as_str()))
            })
            .map(|(code, _)| describe_status(code)))
    }

    fn repository_root(&mut self, folder: &Path) -> Option<PathBuf> {
        let output = match Command::new("git")
            .arg("-C")
            .arg(folder)
            .args(["rev-parse", "--show-toplevel"])
            .output()
        {
            Ok(output) => output,
            Err(_) => {
                self.git_missing = true;
                return None;
            }
        };
        if !output.status.success() {
            return None;
        }
        let root = String::from_utf8(output.stdout).ok()?;
        Some(canonical(Path::new(root.trim_end_matches(['\n', '\r']))))
    }
}

/// `git status --porcelain -z --ignored` at a repository root: (status code, path) pairs. A
/// path that ends with `/` is an untracked or ignored folder and covers everything in it.
fn git_status(root: &Path) -> Result<Vec<(String, String)>> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["status", "--porcelain", "-z", "--ignored"])
        .output()
        .context("could not run `git status`")?;
    if !output.status.success() {
        bail!(
            "`git status` failed in `{}`: {}",
            root.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(parse_porcelain(&String::from_utf8_lossy(&output.stdout)))
}

/// Entries are `XY path`, NUL-terminated; a rename or copy is followed by its source path as
/// one more NUL-terminated field, and both paths count as changed.
fn parse_porcelain(text: &str) -> Vec<(String, String)> {
    let mut entries = Vec::new();
    let mut fields = text.split('\0').filter(|field| !field.is_empty());
    while let Some(field) = fields.next() {
        let (Some(code), Some(path)) = (field.get(..2), field.get(3..)) else {
            continue;
        };
        if code.contains(['R', 'C']) {
            if let Some(source) = fields.next() {
                entries.push((code.to_string(), source.to_string()));
            }
        }
        entries.push((code.to_string(), path.to_string()));
    }
    entries
}

fn describe_status(code: &str) -> &'static str {
    match code {
        "??" => "untracked",
        "!!" => "ignored by git",
        _ if !code.starts_with(' ') && !code.ends_with(' ') => "staged and modified",
        _ if code.starts_with(' ') => "modified",
        _ => "staged",
    }
}

/// The real path, through symbolic links (so that a link is not replaced by a file), or the
/// path as given if it cannot be resolved.
fn canonical(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Writes a temporary file beside the real one and renames it over it, so that the file is
/// never seen half-written; the file keeps its permissions.
fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let target = canonical(path);
    let permissions = fs::metadata(&target)?.permissions();
    let folder = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (temporary, mut file) = create_temporary(folder, &name)?;
    let written = file
        .write_all(contents)
        .and_then(|()| file.sync_all())
        .and_then(|()| fs::set_permissions(&temporary, permissions))
        .and_then(|()| fs::rename(&temporary, &target));
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// A new file named after the one it will replace; a name left by a run that was killed is
/// skipped, never reused.
fn create_temporary(folder: &Path, name: &str) -> std::io::Result<(PathBuf, fs::File)> {
    let mut attempt = 0;
    loop {
        let temporary = folder.join(format!(
            ".{name}.deferlint-fix-{}-{attempt}",
            std::process::id()
        ));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)
        {
            Ok(file) => return Ok((temporary, file)),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deferlint_core::diagnostic::{Applicability, Diagnostic, Label, Severity};
    use deferlint_core::driver::Finding;
    use deferlint_core::source::{Language, Span};
    use std::cell::Cell;

    /// A folder with one file, `main.rs`, removed when dropped.
    struct OneFile {
        folder: PathBuf,
        sources: SourceMap,
    }

    impl OneFile {
        fn new(text: &str) -> OneFile {
            static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let unique = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let folder = std::env::temp_dir().join(format!(
                "deferlint-fix-unit-{}-{unique}",
                std::process::id()
            ));
            let _ = fs::remove_dir_all(&folder);
            fs::create_dir_all(&folder).unwrap();
            fs::write(folder.join("main.rs"), text).unwrap();
            let mut sources = SourceMap::new();
            sources.add(folder.join("main.rs"), "main.rs".into(), Language::Rust);
            OneFile { folder, sources }
        }

        fn text(&self) -> String {
            fs::read_to_string(self.folder.join("main.rs")).unwrap()
        }

        /// Fixes the file with a lint that reports one finding whose suggestion `edit` makes
        /// from the file's current text; returns what the run did and how often it linted.
        fn fix(
            &self,
            applicability: Applicability,
            edit: impl Fn(&str) -> Option<(u32, u32, String)>,
        ) -> (Fixed, usize) {
            let lints = Cell::new(0);
            let lint = || {
                lints.set(lints.get() + 1);
                let mut output = RunOutput::default();
                if let Some((lo, hi, replacement)) = edit(&self.text()) {
                    let span = Span::new(FileId(0), lo, hi);
                    let diagnostic = Diagnostic::new(
                        "test-rule",
                        Severity::Error,
                        "message",
                        Label::new(span, ""),
                    )
                    .with_suggestion(
                        "help",
                        vec![Edit { span, replacement }],
                        applicability,
                    );
                    output.findings.push(Finding {
                        crate_index: 0,
                        target_index: None,
                        diagnostic,
                    });
                }
                Ok(output)
            };
            let options = FixOptions {
                allow_dirty: true,
                quiet: true,
            };
            let fixed = run(&self.sources, &[], options, lint).unwrap();
            (fixed, lints.get())
        }
    }

    impl Drop for OneFile {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.folder);
        }
    }

    #[test]
    fn a_fix_that_does_not_parse_is_rolled_back_and_not_tried_again() {
        let file = OneFile::new("fn main() {}\n");
        // Deleting the closing brace leaves a function without its body's end.
        let (fixed, lints) = file.fix(Applicability::MachineApplicable, |text| {
            text.find('}')
                .map(|brace| (brace as u32, brace as u32 + 1, String::new()))
        });
        assert_eq!(file.text(), "fn main() {}\n");
        assert_eq!(fixed.rolled_back, HashSet::from([FileId(0)]));
        assert!(fixed.fixed.is_empty());
        assert_eq!(lints, 1, "nothing changed, so nothing to lint again");
        assert_eq!(fixed.output.findings.len(), 1, "the finding is still there");
    }

    #[test]
    fn rounds_go_on_while_fixes_apply_and_stop_at_the_cap() {
        let file = OneFile::new("fn main() {}\n");
        // A rule whose fix never makes its finding go away.
        let (fixed, lints) = file.fix(Applicability::MachineApplicable, |_| {
            Some((0, 0, "// again\n".to_string()))
        });
        assert_eq!(
            file.text(),
            format!("{}fn main() {{}}\n", "// again\n".repeat(MAX_ROUNDS))
        );
        assert_eq!(lints, MAX_ROUNDS + 1);
        assert_eq!(fixed.fixed[&FileId(0)]["test-rule"], MAX_ROUNDS);
    }

    #[test]
    fn a_second_round_fixes_what_the_first_made_fixable() {
        let file = OneFile::new("fn main() {}\n");
        // The first fix adds a line the second fix completes; then nothing is left.
        let (fixed, lints) = file.fix(Applicability::MachineApplicable, |text| {
            if !text.contains("// first") {
                Some((0, 0, "// first\n".to_string()))
            } else if !text.contains(", second") {
                let end = text.find('\n').unwrap() as u32;
                Some((end, end, ", second".to_string()))
            } else {
                None
            }
        });
        assert_eq!(file.text(), "// first, second\nfn main() {}\n");
        assert_eq!(lints, 3);
        assert!(fixed.output.findings.is_empty());
    }

    #[test]
    fn suggestions_that_are_not_machine_applicable_are_left_alone() {
        for applicability in [
            Applicability::MaybeIncorrect,
            Applicability::HasPlaceholders,
        ] {
            let file = OneFile::new("fn main() {}\n");
            let (fixed, lints) = file.fix(applicability, |_| Some((0, 0, "// x\n".into())));
            assert_eq!(file.text(), "fn main() {}\n");
            assert_eq!(lints, 1);
            assert!(fixed.fixed.is_empty());
        }
    }

    #[cfg(unix)]
    #[test]
    fn writing_keeps_the_permissions_and_leaves_no_temporary_file() {
        use std::os::unix::fs::PermissionsExt;
        let file = OneFile::new("old\n");
        let path = file.folder.join("main.rs");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&path, b"new\n").unwrap();
        assert_eq!(file.text(), "new\n");
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        let names: Vec<_> = fs::read_dir(&file.folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["main.rs"]);
    }

    #[cfg(unix)]
    #[test]
    fn writing_through_a_symbolic_link_changes_the_file_it_points_to() {
        let file = OneFile::new("old\n");
        let link = file.folder.join("link.rs");
        std::os::unix::fs::symlink(file.folder.join("main.rs"), &link).unwrap();
        write_atomically(&link, b"new\n").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(file.text(), "new\n");
    }

    #[test]
    fn porcelain_entries_with_renames_and_folders() {
        let entries = parse_porcelain(
            " M src/lib.rs\0R  new.rs\0old.rs\0?? scratch/\0!! target/\0A  added file.rs\0",
        );
        let pairs: Vec<(&str, &str)> = entries
            .iter()
            .map(|(code, path)| (code.as_str(), path.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                (" M", "src/lib.rs"),
                ("R ", "old.rs"),
                ("R ", "new.rs"),
                ("??", "scratch/"),
                ("!!", "target/"),
                ("A ", "added file.rs"),
            ]
        );
    }

    #[test]
    fn statuses_are_described() {
        assert_eq!(describe_status(" M"), "modified");
        assert_eq!(describe_status("M "), "staged");
        assert_eq!(describe_status("MM"), "staged and modified");
        assert_eq!(describe_status("??"), "untracked");
        assert_eq!(describe_status("!!"), "ignored by git");
    }
}
