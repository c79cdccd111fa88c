//! What one unit of analysis is: a cargo package, a folder of loose Rust files or a Go module,
//! with its edition, targets and files. Discovery makes these; the model and the frontends read
//! them; the driver runs the pipeline over them.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use crate::model::extensions::Extensions;
use crate::source::{FileId, Language};

/// A Rust edition, where the drop order of temporaries differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Edition {
    E2015,
    E2018,
    #[default]
    E2021,
    E2024,
}

impl Edition {
    pub fn parse(text: &str) -> Option<Edition> {
        match text {
            "2015" => Some(Edition::E2015),
            "2018" => Some(Edition::E2018),
            "2021" => Some(Edition::E2021),
            "2024" => Some(Edition::E2024),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Edition::E2015 => "2015",
            Edition::E2018 => "2018",
            Edition::E2021 => "2021",
            Edition::E2024 => "2024",
        }
    }
}

/// The cargo features enabled for a package, as cargo computes them for a build: the default
/// feature (unless `--no-default-features`), the features asked for, and everything they
/// enable in turn. The Rust frontend leaves out code under a `#[cfg(..)]` that these make
/// definitely false.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FeatureSet {
    enabled: BTreeSet<String>,
}

impl FeatureSet {
    pub fn new<I, S>(features: I) -> FeatureSet
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        FeatureSet {
            enabled: features.into_iter().map(Into::into).collect(),
        }
    }

    pub fn contains(&self, feature: &str) -> bool {
        self.enabled.contains(feature)
    }

    /// The enabled features, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.enabled.iter().map(String::as_str)
    }
}

/// The kind of a cargo target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TargetKind {
    Lib,
    Bin,
    Test,
    Example,
    Bench,
    BuildScript,
}

impl TargetKind {
    /// The name cargo uses in `target.kind`.
    pub fn cargo_name(self) -> &'static str {
        match self {
            TargetKind::Lib => "lib",
            TargetKind::Bin => "bin",
            TargetKind::Test => "test",
            TargetKind::Example => "example",
            TargetKind::Bench => "bench",
            TargetKind::BuildScript => "custom-build",
        }
    }
}

/// The root file of one target of a crate.
#[derive(Clone, Debug)]
pub struct TargetRoot {
    pub kind: TargetKind,
    /// The target's name as cargo knows it (`my-tool`), not the crate name.
    pub name: String,
    pub file: FileId,
}

/// One unit of analysis: a cargo package (all its targets together, so that a binary's spawns
/// see the library's types), a folder of loose Rust files, or a Go module (package by package when the module is very large).
#[derive(Clone, Debug)]
pub struct CrateInput {
    pub language: Language,
    /// The package name, or the folder / Go module name.
    pub name: String,
    /// The library's crate name (`my_lib`), by which the package's other targets refer to it.
    pub lib_name: Option<String>,
    pub edition: Edition,
    pub root_dir: PathBuf,
    /// Target roots. Files that no root reaches through `mod` declarations are analysed as
    /// extra roots, so that no file is silently skipped.
    pub targets: Vec<TargetRoot>,
    /// Every file of the unit.
    pub files: Vec<FileId>,
    /// Cargo's package id and manifest, when the unit came from `cargo metadata`.
    pub package_id: Option<String>,
    pub manifest_path: Option<PathBuf>,
    /// The unit's configured spawn functions, defer macros and guards, maps and locks.
    pub extensions: Arc<Extensions>,
    /// The package's enabled cargo features; `None` when they are not known (loose files, Go
    /// units, callers that do not say), and then code under every `cfg(feature = ..)` is read.
    pub features: Option<Arc<FeatureSet>>,
}
