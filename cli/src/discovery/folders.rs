//! `deferlint [PATH]...`: walks the paths; a folder with a `Cargo.toml` that has `[package]`
//! is a package, other `.rs` files are loose, `.go` files group by folder as Go packages do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use deferlint_core::driver::{Edition, TargetKind};
use deferlint_core::render::json;
use deferlint_core::source::Language;

use super::features::FeatureRequest;
use super::loose::{self, LooseUnit};
use super::manifest::{Manifest, PackageManifest, read_manifest};
use super::{
    Discovered, DisplayBase, PlannedTarget, SkipRules, UnitPlan, absolute, build, name_of, slashes,
};

/// Discovers the units under `paths`. `edition` is for loose Rust files; `target_dir` is
/// cargo's target folder when it is not the usual `target/`; `features` apply to every
/// package found (its default features unless they say otherwise).
pub fn discover_folders(
    paths: &[PathBuf],
    edition: Option<Edition>,
    target_dir: Option<&Path>,
    features: &FeatureRequest,
) -> Result<Discovered> {
    let skip = SkipRules {
        target_dirs: target_dir.map(absolute).transpose()?.into_iter().collect(),
        nested_packages: false,
    };
    let roots = checked_roots(paths)?;
    let mut plans = Vec::new();
    let mut warnings = Vec::new();
    let mut unreadable_folders = Vec::new();
    for (given, root) in &roots {
        let display = DisplayBase {
            absolute: root.clone(),
            shown: slashes(given),
        };
        if root.is_dir() {
            plan_folder(
                root,
                &display,
                edition.unwrap_or_default(),
                features,
                &skip,
                &mut plans,
                &mut warnings,
                &mut unreadable_folders,
            )?;
        } else if root.file_name().is_some_and(|name| name == "Cargo.toml") {
            let dir = root.parent().unwrap_or(Path::new("/")).to_path_buf();
            let display = DisplayBase {
                absolute: dir.clone(),
                shown: slashes(given.parent().unwrap_or(Path::new(""))),
            };
            plan_folder(
                &dir,
                &display,
                edition.unwrap_or_default(),
                features,
                &skip,
                &mut plans,
                &mut warnings,
                &mut unreadable_folders,
            )?;
        } else {
            plans.push(single_file(
                given,
                root,
                display,
                edition.unwrap_or_default(),
            )?);
        }
    }
    let mut discovered = build(plans, warnings);
    discovered.unreadable_folders = unreadable_folders;
    Ok(discovered)
}

/// The paths as given and as absolute paths. A path that does not exist is an error; a path
/// inside another given path is dropped, so that no file is checked twice.
fn checked_roots(paths: &[PathBuf]) -> Result<Vec<(PathBuf, PathBuf)>> {
    let mut roots: Vec<(PathBuf, PathBuf)> = Vec::new();
    for given in paths {
        if let Err(error) = std::fs::metadata(given) {
            if error.kind() == std::io::ErrorKind::NotFound {
                bail!("`{}` does not exist", given.display());
            }
            bail!("cannot read `{}`: {error}", given.display());
        }
        roots.push((given.clone(), absolute(given)?));
    }
    // Canonical paths see through symbolic links, so `.` and a link to it count as one.
    let canonical: Vec<PathBuf> = roots
        .iter()
        .map(|(_, root)| std::fs::canonicalize(root).unwrap_or_else(|_| root.clone()))
        .collect();
    let keep: Vec<bool> = (0..roots.len())
        .map(|index| {
            !(0..roots.len()).any(|other| {
                other != index
                    && canonical[index].starts_with(&canonical[other])
                    && (canonical[index] != canonical[other] || other < index)
            })
        })
        .collect();
    Ok(roots
        .into_iter()
        .zip(keep)
        .filter_map(|(root, keep)| keep.then_some(root))
        .collect())
}

fn plan_folder(
    root: &Path,
    display: &DisplayBase,
    edition: Edition,
    features: &FeatureRequest,
    skip: &SkipRules,
    plans: &mut Vec<UnitPlan>,
    warnings: &mut Vec<String>,
    unreadable_folders: &mut Vec<String>,
) -> Result<()> {
    let files = skip.walk(root, display, unreadable_folders)?;
    let mut packages: BTreeMap<PathBuf, (PackageManifest, Vec<PathBuf>)> = BTreeMap::new();
    for manifest_path in files
        .iter()
        .filter(|path| path.file_name().is_some_and(|name| name == "Cargo.toml"))
    {
        let dir = manifest_path.parent().unwrap_or(root).to_path_buf();
        match read_manifest(manifest_path) {
            Ok(Manifest::Package(package)) => {
                packages.insert(dir, (package, Vec::new()));
            }
            Ok(Manifest::WorkspaceOnly) => {}
            Err(reason) => warnings.push(format!(
                "could not read `{}` ({reason}); the `.rs` files beside it are checked as loose files",
                display.name(manifest_path)
            )),
        }
    }
    let mut loose_files = Vec::new();
    let mut go_packages: BTreeMap<(PathBuf, String), Vec<(PathBuf, bool)>> = BTreeMap::new();
    for file in files {
        match Language::of_path(&file) {
            Some(Language::Rust) => {
                let owner = file
                    .ancestors()
                    .skip(1)
                    .take_while(|dir| dir.starts_with(root))
                    .find(|dir| packages.contains_key(*dir));
                match owner {
                    Some(dir) => packages
                        .get_mut(dir)
                        .map(|(_, files)| files.push(file.clone()))
                        .unwrap_or_default(),
                    None => loose_files.push(file),
                }
            }
            Some(Language::Go) if !ignored_by_go(root, &file) => {
                let header = go_header(&file);
                go_packages
                    .entry((file.parent().unwrap_or(root).to_path_buf(), header.package))
                    .or_default()
                    .push((file, header.has_main));
            }
            _ => {}
        }
    }
    for (dir, (package, files)) in packages {
        plans.push(package_plan(dir, package, files, display, features));
    }
    for unit in loose::group(&loose_files) {
        plans.push(loose_plan(unit, edition, display));
    }
    // Go packages group into their module (the folder of the nearest `go.mod`), analysed as
    // one unit so that types, methods and spawning helpers of one package are seen from the
    // others; a module larger than `GO_MODULE_UNIT_LIMIT` is analysed package by package.
    let mut modules: BTreeMap<Option<GoModule>, Vec<GoPackage>> = BTreeMap::new();
    for ((dir, package), files) in go_packages {
        // Several `func main` in one `package main` folder: stand-alone programs (`go run
        // file.go` examples), each a unit of its own.
        let programs = files.iter().filter(|(_, has_main)| *has_main).count();
        if package == "main" && programs > 1 {
            for (file, _) in files {
                plans.push(go_plan(&dir, None, vec![file], edition, display));
            }
            continue;
        }
        let files: Vec<PathBuf> = files.into_iter().map(|(file, _)| file).collect();
        modules
            .entry(go_module_of(&dir))
            .or_default()
            .push((dir, files));
    }
    for (module, packages) in modules {
        let size: u64 = packages
            .iter()
            .flat_map(|(_, files)| files.iter())
            .filter_map(|file| std::fs::metadata(file).ok())
            .map(|metadata| metadata.len())
            .sum();
        match module {
            Some((module_dir, module_path)) if size <= GO_MODULE_UNIT_LIMIT => {
                let files = packages.into_iter().flat_map(|(_, files)| files).collect();
                plans.push(go_plan(
                    &module_dir,
                    Some(module_path),
                    files,
                    edition,
                    display,
                ));
            }
            module => {
                for (dir, files) in packages {
                    let module_path = module.as_ref().map(|(_, path)| path.clone());
                    let root = module
                        .as_ref()
                        .map_or(dir.clone(), |(root, _)| root.clone());
                    let mut plan = go_plan(&root, module_path, files, edition, display);
                    plan.name = name_of(&dir);
                    plans.push(plan);
                }
            }
        }
    }
    Ok(())
}

/// A Go module: its folder and its module path.
type GoModule = (PathBuf, String);
/// A Go package: its folder and its files.
type GoPackage = (PathBuf, Vec<PathBuf>);

/// A Go module of more source than this is analysed package by package: the analysis of one
/// unit runs on one thread, and its memory grows with the unit.
const GO_MODULE_UNIT_LIMIT: u64 = 12 * 1024 * 1024;

/// A Go unit: the files of a module (`root` its folder, `module_path` from its `go.mod`), or
/// of a package.
fn go_plan(
    root: &Path,
    module_path: Option<String>,
    files: Vec<PathBuf>,
    edition: Edition,
    display: &DisplayBase,
) -> UnitPlan {
    UnitPlan {
        language: Language::Go,
        name: module_path.clone().unwrap_or_else(|| name_of(root)),
        lib_name: module_path,
        edition,
        root_dir: root.to_path_buf(),
        targets: Vec::new(),
        files,
        package_id: None,
        manifest_path: None,
        features: None,
        display: display.clone(),
    }
}

/// The module a Go package folder belongs to: the nearest folder at or above it with a
/// `go.mod`, and the module path that file declares.
fn go_module_of(dir: &Path) -> Option<GoModule> {
    for folder in dir.ancestors() {
        let manifest = folder.join("go.mod");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let path = text.lines().find_map(|line| {
            let rest = line.trim().strip_prefix("module")?;
            let rest = rest.trim();
            (!rest.is_empty()).then(|| rest.trim_matches('"').to_string())
        })?;
        return Some((folder.to_path_buf(), path));
    }
    None
}

/// What discovery needs of a Go file: its package clause and whether it declares `main`.
struct GoHeader {
    package: String,
    has_main: bool,
}

/// Reads a Go file's package clause (the first line that is not blank or a comment) and
/// whether it has `func main()`. An unreadable file gets an empty package name; the engine
/// reports it when it reads it.
fn go_header(file: &Path) -> GoHeader {
    let text = std::fs::read(file)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    let mut in_block = false;
    let mut package = String::new();
    for line in text.lines() {
        let mut line = line.trim();
        if in_block {
            match line.find("*/") {
                Some(end) => {
                    in_block = false;
                    line = line[end + 2..].trim();
                }
                None => continue,
            }
        }
        if line.starts_with("/*") {
            if !line.contains("*/") {
                in_block = true;
            }
            continue;
        }
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("package ") {
            package = rest
                .split(|c: char| c.is_whitespace() || c == ';' || c == '/')
                .next()
                .unwrap_or("")
                .to_string();
        }
        break;
    }
    let has_main = text.contains("\nfunc main()");
    GoHeader { package, has_main }
}

/// The go tool ignores `testdata` folders and folders starting with `_`.
fn ignored_by_go(root: &Path, file: &Path) -> bool {
    let relative = file
        .parent()
        .and_then(|dir| dir.strip_prefix(root).ok())
        .unwrap_or(Path::new(""));
    relative.components().any(|component| {
        let name = component.as_os_str().to_string_lossy();
        name == "testdata" || name.starts_with('_')
    })
}

fn package_plan(
    dir: PathBuf,
    package: PackageManifest,
    mut files: Vec<PathBuf>,
    display: &DisplayBase,
    features: &FeatureRequest,
) -> UnitPlan {
    // A target may point outside the package folder (`path = "../shared/lib.rs"`).
    for target in &package.targets {
        if !files.contains(&target.path) {
            files.push(target.path.clone());
        }
    }
    files.sort();
    // The id cargo would give it, so that JSON consumers match it with cargo's own messages.
    let package_id = json::path_package_id(&dir, &package.name, &package.version);
    let features = package.features.enabled(&package.name, features);
    UnitPlan {
        language: Language::Rust,
        name: package.name,
        lib_name: package.lib_name,
        edition: package.edition,
        manifest_path: Some(dir.join("Cargo.toml")),
        root_dir: dir,
        targets: package.targets,
        files,
        package_id: Some(package_id),
        features: Some(features),
        display: display.clone(),
    }
}

fn loose_plan(unit: LooseUnit, edition: Edition, display: &DisplayBase) -> UnitPlan {
    let targets = unit.roots.iter().map(|root| loose_target(root)).collect();
    UnitPlan {
        language: Language::Rust,
        name: name_of(&unit.dir),
        lib_name: None,
        edition,
        root_dir: unit.dir,
        targets,
        files: unit.files,
        package_id: None,
        manifest_path: None,
        features: None,
        display: display.clone(),
    }
}

/// `rustc file.rs` builds a binary unless the file is a library by name.
fn loose_target(path: &Path) -> PlannedTarget {
    let name = name_of(path);
    let kind = if name == "lib" {
        TargetKind::Lib
    } else {
        TargetKind::Bin
    };
    PlannedTarget {
        kind,
        name,
        path: path.to_path_buf(),
    }
}

fn single_file(
    given: &Path,
    path: &Path,
    display: DisplayBase,
    edition: Edition,
) -> Result<UnitPlan> {
    let Some(language) = Language::of_path(path) else {
        bail!(
            "`{}` is not a Rust (`.rs`) or Go (`.go`) file, a folder, or a `Cargo.toml`",
            given.display()
        );
    };
    let targets = if language == Language::Rust {
        vec![loose_target(path)]
    } else {
        Vec::new()
    };
    Ok(UnitPlan {
        language,
        name: name_of(path),
        lib_name: None,
        edition,
        root_dir: path.parent().unwrap_or(Path::new("/")).to_path_buf(),
        targets,
        files: vec![path.to_path_buf()],
        package_id: None,
        manifest_path: None,
        features: None,
        display,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::test_support::TempTree;
    use deferlint_core::driver::CrateInput;

    /// One line per unit, with file names shown relative to `root`.
    fn describe(discovered: &Discovered, root: &Path) -> Vec<String> {
        let prefix = format!("{}/", slashes(root));
        discovered
            .crates
            .iter()
            .map(|input: &CrateInput| {
                let files: Vec<&str> = input
                    .files
                    .iter()
                    .map(|&file| {
                        let name = discovered.sources.get(file).display_name.as_str();
                        name.strip_prefix(&prefix).unwrap_or(name)
                    })
                    .collect();
                let targets: Vec<String> = input
                    .targets
                    .iter()
                    .map(|target| format!("{}:{}", target.kind.cargo_name(), target.name))
                    .collect();
                format!(
                    "{:?} {} {} [{}] [{}]",
                    input.language,
                    input.name,
                    input.edition.as_str(),
                    targets.join(" "),
                    files.join(" ")
                )
            })
            .collect()
    }

    #[test]
    fn packages_loose_files_and_go_packages() {
        let tree = TempTree::new(&[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"crates/*\"]\n[workspace.package]\nedition = \"2024\"\n",
            ),
            (
                "crates/a/Cargo.toml",
                "[package]\nname = \"a\"\nedition.workspace = true\n",
            ),
            ("crates/a/src/lib.rs", "mod target;\n"),
            ("crates/a/src/target/mod.rs", ""),
            ("crates/a/target/debug/build/out.rs", ""),
            ("crates/a/.hidden/x.rs", ""),
            ("crates/a/vendor/v.rs", ""),
            (
                "crates/b/Cargo.toml",
                "[package]\nname = \"b\"\nedition = \"2018\"\n",
            ),
            ("crates/b/src/main.rs", ""),
            (
                "crates/b/nested/Cargo.toml",
                "[package]\nname = \"nested\"\n[lib]\npath = \"lib.rs\"\n",
            ),
            ("crates/b/nested/lib.rs", ""),
            ("custom-target/CACHEDIR.TAG", ""),
            ("custom-target/gen.rs", ""),
            ("scripts/one.rs", "fn main() {}\n"),
            ("scripts/two.rs", "mod helper;\n"),
            ("scripts/two/helper.rs", ""),
            ("go/svc/main.go", "package main\n"),
            ("go/svc/main_test.go", "package main\n"),
            ("go/svc/testdata/fixture.go", "package x\n"),
            ("notes.txt", ""),
        ]);
        let discovered = discover_folders(
            &[tree.root().to_path_buf()],
            None,
            None,
            &FeatureRequest::default(),
        )
        .unwrap();
        let expected = [
            "Rust a 2024 [lib:a] [crates/a/src/lib.rs crates/a/src/target/mod.rs]",
            "Rust b 2018 [bin:b] [crates/b/src/main.rs]",
            "Rust nested 2015 [lib:nested] [crates/b/nested/lib.rs]",
            "Rust scripts 2021 [bin:one bin:two] [scripts/one.rs scripts/two/helper.rs scripts/two.rs]",
            "Go svc 2021 [] [go/svc/main.go go/svc/main_test.go]",
        ];
        assert_eq!(describe(&discovered, tree.root()), expected);
        assert!(discovered.warnings.is_empty(), "{:?}", discovered.warnings);
    }

    #[test]
    fn go_files_group_by_package_clause_and_stand_alone_programs_split() {
        let tree = TempTree::new(&[
            ("lib/store.go", "// Package store.\npackage store\n"),
            ("lib/store_extra.go", "/* a\n block */\npackage store\n"),
            ("lib/store_test.go", "package store_test\n"),
            ("examples/one.go", "package main\n\nfunc main() {}\n"),
            ("examples/two.go", "package main\n\nfunc main() {}\n"),
        ]);
        let discovered = discover_folders(
            &[tree.root().to_path_buf()],
            None,
            None,
            &FeatureRequest::default(),
        )
        .unwrap();
        assert_eq!(
            describe(&discovered, tree.root()),
            [
                "Go examples 2021 [] [examples/one.go]",
                "Go examples 2021 [] [examples/two.go]",
                "Go lib 2021 [] [lib/store.go lib/store_extra.go]",
                "Go lib 2021 [] [lib/store_test.go]",
            ]
        );
    }

    #[test]
    fn single_files_missing_paths_and_other_files() {
        let tree = TempTree::new(&[("a.rs", ""), ("b.go", ""), ("c.txt", "")]);
        let discovered = discover_folders(
            &[tree.path("a.rs"), tree.path("b.go")],
            Some(Edition::E2018),
            None,
            &FeatureRequest::default(),
        )
        .unwrap();
        assert_eq!(discovered.crates.len(), 2);
        assert_eq!(discovered.crates[0].edition, Edition::E2018);
        assert_eq!(discovered.crates[0].targets.len(), 1);
        assert_eq!(discovered.crates[1].language, Language::Go);
        let missing =
            discover_folders(&[tree.path("nope")], None, None, &FeatureRequest::default())
                .unwrap_err()
                .to_string();
        assert!(missing.ends_with("nope` does not exist"), "{missing}");
        let text = discover_folders(
            &[tree.path("c.txt")],
            None,
            None,
            &FeatureRequest::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(text.contains("is not a Rust"), "{text}");
    }

    #[test]
    fn nested_paths_are_checked_once_and_broken_manifests_warn() {
        let tree = TempTree::new(&[("Cargo.toml", "[package"), ("src/lib.rs", "")]);
        let discovered = discover_folders(
            &[tree.path("src"), tree.root().to_path_buf()],
            None,
            None,
            &FeatureRequest::default(),
        )
        .unwrap();
        assert_eq!(discovered.sources.len(), 1);
        assert_eq!(discovered.crates.len(), 1);
        assert_eq!(discovered.warnings.len(), 1);
        assert!(
            discovered.warnings[0].contains("Cargo.toml"),
            "{:?}",
            discovered.warnings
        );
    }
}
