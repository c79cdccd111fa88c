//! `cargo deferlint`: the workspace's packages and targets as `cargo metadata --no-deps` reports
//! them, one unit per package.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use cargo_metadata::{Metadata, MetadataCommand, Package};
use deferlint_core::driver::{Edition, TargetKind};
use deferlint_core::source::Language;

use super::features::{FeatureRequest, PackageFeatures};
use super::{Discovered, DisplayBase, PlannedTarget, SkipRules, UnitPlan, absolute, build};
use crate::args::CargoSelection;

/// Discovers the selected packages of the workspace around the current folder or
/// `--manifest-path`, each with the features `features` enable in it.
pub fn discover_cargo(
    selection: &CargoSelection,
    target_dir: Option<&Path>,
    features: &FeatureRequest,
) -> Result<Discovered> {
    let mut command = MetadataCommand::new();
    command.no_deps();
    if let Some(manifest_path) = &selection.manifest_path {
        command.manifest_path(manifest_path);
    }
    let metadata = command.exec().map_err(|error| match error {
        cargo_metadata::Error::CargoMetadata { stderr } => {
            let detail = stderr.trim();
            anyhow!(
                "`cargo metadata` failed: {}\n\
                 help: run `cargo deferlint` inside a cargo workspace or pass `--manifest-path`; \
                 `deferlint PATH` checks any folder",
                detail.strip_prefix("error: ").unwrap_or(detail)
            )
        }
        other => anyhow!(other).context("could not run `cargo metadata`"),
    })?;
    let mut target_dirs = vec![metadata.target_directory.clone().into_std_path_buf()];
    if let Some(target_dir) = target_dir {
        target_dirs.push(absolute(target_dir)?);
    }
    let skip = SkipRules {
        target_dirs,
        nested_packages: true,
    };
    let display = DisplayBase {
        absolute: metadata.workspace_root.clone().into_std_path_buf(),
        shown: String::new(),
    };
    let mut packages = selected_packages(&metadata, selection)?;
    packages.sort_by(|a, b| a.manifest_path.cmp(&b.manifest_path));
    let mut plans = Vec::with_capacity(packages.len());
    let mut unreadable_folders = Vec::new();
    for package in packages {
        plans.push(package_plan(
            package,
            &skip,
            &display,
            features,
            &mut unreadable_folders,
        )?);
    }
    let mut discovered = build(plans, Vec::new());
    discovered.unreadable_folders = unreadable_folders;
    discovered.root = Some(metadata.workspace_root.clone().into_std_path_buf());
    Ok(discovered)
}

/// Cargo's selection: `-p` picks packages by name, `name@version` or package id; `--workspace`
/// picks every member but `--exclude`d ones; with neither, the default members, which cargo
/// computes from `default-members` or the package of the current folder.
fn selected_packages<'a>(
    metadata: &'a Metadata,
    selection: &CargoSelection,
) -> Result<Vec<&'a Package>> {
    let members = metadata.workspace_packages();
    if !selection.packages.is_empty() {
        let mut selected: Vec<&Package> = Vec::new();
        for spec in &selection.packages {
            let Some(package) = members.iter().find(|package| matches_spec(package, spec)) else {
                let names: Vec<String> = members
                    .iter()
                    .map(|package| package.name.to_string())
                    .collect();
                bail!(
                    "package `{spec}` is not a member of the workspace; members are {}",
                    names.join(", ")
                );
            };
            if !selected.iter().any(|chosen| chosen.id == package.id) {
                selected.push(package);
            }
        }
        return Ok(selected);
    }
    if selection.workspace {
        for spec in &selection.exclude {
            if !members.iter().any(|package| matches_spec(package, spec)) {
                bail!("excluded package `{spec}` is not a member of the workspace");
            }
        }
        return Ok(members
            .into_iter()
            .filter(|package| {
                !selection
                    .exclude
                    .iter()
                    .any(|spec| matches_spec(package, spec))
            })
            .collect());
    }
    // Cargo older than 1.71 does not report default members; all members is the safe choice.
    if metadata.workspace_default_members.is_available() {
        Ok(metadata.workspace_default_packages())
    } else {
        Ok(members)
    }
}

fn matches_spec(package: &Package, spec: &str) -> bool {
    let name: &str = package.name.as_ref();
    spec == name || spec == package.id.repr || spec == format!("{name}@{}", package.version)
}

fn package_plan(
    package: &Package,
    skip: &SkipRules,
    display: &DisplayBase,
    features: &FeatureRequest,
    unreadable_folders: &mut Vec<String>,
) -> Result<UnitPlan> {
    let manifest_path = package.manifest_path.clone().into_std_path_buf();
    let root_dir = manifest_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let targets: Vec<PlannedTarget> = package
        .targets
        .iter()
        .filter_map(|target| {
            let kind = target.kind.iter().find_map(target_kind)?;
            Some(PlannedTarget {
                kind,
                name: target.name.clone(),
                path: absolute(target.src_path.as_std_path()).ok()?,
            })
        })
        .collect();
    let mut files: Vec<PathBuf> = skip
        .walk(&root_dir, display, unreadable_folders)
        .with_context(|| format!("could not list the files of package `{}`", package.name))?
        .into_iter()
        .filter(|path| Language::of_path(path) == Some(Language::Rust))
        .collect();
    // Targets can live outside the package folder (`path = "../shared/main.rs"`).
    for target in &targets {
        if !files.contains(&target.path) && target.path.is_file() {
            files.push(target.path.clone());
        }
    }
    files.sort();
    // A target whose file is missing would make cargo fail too; it is left out rather than
    // given a file that cannot be read.
    let targets: Vec<PlannedTarget> = targets
        .into_iter()
        .filter(|target| files.contains(&target.path))
        .collect();
    let lib_name = targets
        .iter()
        .find(|target| target.kind == TargetKind::Lib)
        .map(|target| target.name.replace('-', "_"));
    Ok(UnitPlan {
        language: Language::Rust,
        name: package.name.to_string(),
        lib_name,
        // Editions newer than this build knows are closest to the newest it knows.
        edition: Edition::parse(package.edition.as_str()).unwrap_or(Edition::E2024),
        root_dir,
        targets,
        files,
        package_id: Some(package.id.repr.clone()),
        manifest_path: Some(manifest_path),
        features: Some(
            PackageFeatures::from_metadata(&package.features).enabled(&package.name, features),
        ),
        display: display.clone(),
    })
}

fn target_kind(kind: &cargo_metadata::TargetKind) -> Option<TargetKind> {
    use cargo_metadata::TargetKind as Cargo;
    match kind {
        Cargo::Lib
        | Cargo::RLib
        | Cargo::ProcMacro
        | Cargo::CDyLib
        | Cargo::StaticLib
        | Cargo::DyLib => Some(TargetKind::Lib),
        Cargo::Bin => Some(TargetKind::Bin),
        Cargo::Test => Some(TargetKind::Test),
        Cargo::Example => Some(TargetKind::Example),
        Cargo::Bench => Some(TargetKind::Bench),
        Cargo::CustomBuild => Some(TargetKind::BuildScript),
        _ => None,
    }
}
