//! Discovery: which files to check and how they group into units (cargo packages, folders of
//! loose Rust files, Go packages). `cargo deferlint` asks `cargo metadata`; `deferlint PATH`
//! walks the paths and reads `Cargo.toml` files itself.

mod cargo;
mod features;
mod folders;
mod loose;
mod manifest;
#[cfg(test)]
mod test_support;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use deferlint_core::driver::{CrateInput, Edition, FeatureSet, TargetKind, TargetRoot};
use deferlint_core::source::{FileId, Language, SourceMap};
use walkdir::{DirEntry, WalkDir};

pub use cargo::discover_cargo;
pub use features::FeatureRequest;
pub use folders::discover_folders;

/// The files of a run and their units.
#[derive(Debug, Default)]
pub struct Discovered {
    pub sources: SourceMap,
    pub crates: Vec<CrateInput>,
    /// Problems that did not stop discovery, such as a `Cargo.toml` that does not parse.
    pub warnings: Vec<String>,
    /// Folders that could not be read, each with the reason: the files in them are not
    /// checked, which fails the run unless `--keep-going`.
    pub unreadable_folders: Vec<String>,
    /// The folder shown file names are relative to, when it is not the current one: the
    /// workspace root for `cargo deferlint`.
    pub root: Option<std::path::PathBuf>,
}

/// A unit before its files have [`FileId`]s.
#[derive(Debug)]
struct UnitPlan {
    language: Language,
    name: String,
    lib_name: Option<String>,
    edition: Edition,
    root_dir: PathBuf,
    targets: Vec<PlannedTarget>,
    /// Absolute paths, sorted.
    files: Vec<PathBuf>,
    package_id: Option<String>,
    manifest_path: Option<PathBuf>,
    /// The package's enabled features; `None` for loose files and Go units.
    features: Option<FeatureSet>,
    display: DisplayBase,
}

#[derive(Debug)]
struct PlannedTarget {
    kind: TargetKind,
    name: String,
    path: PathBuf,
}

/// How file names are shown: relative to `absolute`, behind `shown`, with `/` separators. For
/// `cargo deferlint`, `absolute` is the workspace root and `shown` is empty; for
/// `deferlint PATH`, they are the path as given and as the user typed it, so shown names open
/// from where the user is.
#[derive(Clone, Debug)]
struct DisplayBase {
    absolute: PathBuf,
    shown: String,
}

impl DisplayBase {
    fn name(&self, path: &Path) -> String {
        let Ok(relative) = path.strip_prefix(&self.absolute) else {
            return slashes(path);
        };
        let relative = slashes(relative);
        match (self.shown.is_empty(), relative.is_empty()) {
            (true, _) => relative,
            (false, true) => self.shown.clone(),
            (false, false) => format!("{}/{relative}", self.shown),
        }
    }
}

fn slashes(path: &Path) -> String {
    let mut joined = String::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::RootDir => joined.push('/'),
            Component::Prefix(prefix) => joined.push_str(&prefix.as_os_str().to_string_lossy()),
            Component::ParentDir | Component::Normal(_) => {
                if !joined.is_empty() && !joined.ends_with('/') {
                    joined.push('/');
                }
                joined.push_str(&component.as_os_str().to_string_lossy());
            }
        }
    }
    joined
}

/// Turns plans into the [`SourceMap`] and [`CrateInput`]s. File ids follow the paths' order,
/// so that ids, and so the output, are the same on every run and read top to bottom. A file
/// that two units share (a target path pointing outside its package) keeps one id.
fn build(plans: Vec<UnitPlan>, warnings: Vec<String>) -> Discovered {
    let mut all_files: BTreeMap<&Path, &UnitPlan> = BTreeMap::new();
    for plan in &plans {
        let target_paths = plan.targets.iter().map(|target| target.path.as_path());
        for path in plan.files.iter().map(PathBuf::as_path).chain(target_paths) {
            all_files.entry(path).or_insert(plan);
        }
    }
    let mut sources = SourceMap::new();
    let mut ids: BTreeMap<PathBuf, FileId> = BTreeMap::new();
    for (path, plan) in &all_files {
        ids.insert(
            path.to_path_buf(),
            sources.add(path.to_path_buf(), plan.display.name(path), plan.language),
        );
    }
    let crates = plans
        .into_iter()
        .map(|plan| CrateInput {
            language: plan.language,
            lib_name: plan.lib_name,
            edition: plan.edition,
            targets: plan
                .targets
                .iter()
                .map(|target| TargetRoot {
                    kind: target.kind,
                    name: target.name.clone(),
                    file: ids[&target.path],
                })
                .collect(),
            files: plan.files.iter().map(|path| ids[path]).collect(),
            name: plan.name,
            root_dir: plan.root_dir,
            package_id: plan.package_id,
            manifest_path: plan.manifest_path,
            extensions: Default::default(),
            features: plan.features.map(std::sync::Arc::new),
        })
        .collect();
    Discovered {
        sources,
        crates,
        warnings,
        unreadable_folders: Vec::new(),
        root: None,
    }
}

/// Which folders a walk never enters.
#[derive(Debug, Default)]
struct SkipRules {
    /// Cargo's target folders known by path (`cargo metadata`, `--target-dir`).
    target_dirs: Vec<PathBuf>,
    /// Skip folders holding their own `Cargo.toml`: when checking one package, those are other
    /// packages.
    nested_packages: bool,
}

impl SkipRules {
    /// Hidden folders, `vendor/`, and cargo's target folders. A folder named `target` is only
    /// skipped when it is cargo's (beside a `Cargo.toml`, or tagged as a cache), because
    /// `src/target/` can be an ordinary module folder.
    fn skips(&self, entry: &DirEntry) -> bool {
        if entry.depth() == 0 || !entry.file_type().is_dir() {
            return false;
        }
        let path = entry.path();
        let name = entry.file_name().to_string_lossy();
        name.starts_with('.')
            || name == "vendor"
            || path.join("CACHEDIR.TAG").is_file()
            || (name == "target"
                && path
                    .parent()
                    .is_some_and(|parent| parent.join("Cargo.toml").is_file()))
            || self.target_dirs.iter().any(|target_dir| target_dir == path)
            || (self.nested_packages && path.join("Cargo.toml").is_file())
    }

    /// Every file under `root` (sorted, so that runs are deterministic) that the rules let
    /// through. Symbolic links to files are followed; links to folders are not, to avoid loops.
    /// A link that leads nowhere (dangling, or a loop of links) is listed, so that the run
    /// reports it as a file it could not read rather than skipping it without a word. A folder
    /// that cannot be read is added to `unreadable_folders`, and the rest is walked.
    fn walk(
        &self,
        root: &Path,
        display: &DisplayBase,
        unreadable_folders: &mut Vec<String>,
    ) -> Result<Vec<PathBuf>> {
        let mut files = Vec::new();
        let walker = WalkDir::new(root)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| !self.skips(entry));
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                // A folder that cannot be listed, the given one included: its files are not
                // checked, and the caller decides whether that fails the run.
                Err(error) if error.path().is_some() && error.loop_ancestor().is_none() => {
                    let path = error.path().unwrap_or(root);
                    let reason = error
                        .io_error()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| error.to_string());
                    unreadable_folders.push(format!("`{}` ({reason})", display.name(path)));
                    continue;
                }
                Err(error) => {
                    return Err(error).with_context(|| {
                        format!("could not read the folder `{}`", root.display())
                    });
                }
            };
            let is_file = entry.file_type().is_file()
                || (entry.path_is_symlink()
                    && (entry.path().is_file() || std::fs::metadata(entry.path()).is_err()));
            if is_file {
                files.push(entry.into_path());
            }
        }
        Ok(files)
    }
}

/// An absolute path without `.` and `..` components, without touching the file system (so
/// symbolic links stay as the user wrote them).
fn absolute(path: &Path) -> Result<PathBuf> {
    let absolute = std::path::absolute(path)
        .with_context(|| format!("could not resolve `{}`", path.display()))?;
    let mut normal = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    Ok(normal)
}

/// A unit or target name from a file or folder name.
fn name_of(path: &Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "root".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_relative_with_slashes() {
        let base = DisplayBase {
            absolute: PathBuf::from("/w"),
            shown: String::new(),
        };
        assert_eq!(
            base.name(Path::new("/w/crates/a/src/lib.rs")),
            "crates/a/src/lib.rs"
        );
        let base = DisplayBase {
            absolute: PathBuf::from("/w/x"),
            shown: "../x".into(),
        };
        assert_eq!(base.name(Path::new("/w/x/a.rs")), "../x/a.rs");
        assert_eq!(base.name(Path::new("/w/x")), "../x");
        assert_eq!(base.name(Path::new("/elsewhere/b.rs")), "/elsewhere/b.rs");
    }

    #[test]
    fn absolute_paths_are_lexically_normal() {
        assert_eq!(
            absolute(Path::new("/a/./b/../c")).unwrap(),
            PathBuf::from("/a/c")
        );
    }
}
