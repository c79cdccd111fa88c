//! `Cargo.toml` for `deferlint PATH`: a package's name, edition and targets, inferred the way
//! cargo infers them, without running cargo (which may be missing, and which would need the
//! whole workspace to be valid).

use std::path::{Path, PathBuf};

use deferlint_core::driver::{Edition, TargetKind};
use toml::{Table, Value};

use super::features::PackageFeatures;
use super::{PlannedTarget, absolute, name_of};

/// What a `Cargo.toml` declares.
#[derive(Debug)]
pub(super) enum Manifest {
    Package(PackageManifest),
    /// `[workspace]` without `[package]`: nothing to check itself; its folder is walked on.
    WorkspaceOnly,
}

#[derive(Debug)]
pub(super) struct PackageManifest {
    pub name: String,
    /// `package.version`, inherited from the workspace when it says so; `0.0.0` when absent,
    /// as cargo has it since 1.75.
    pub version: String,
    pub edition: Edition,
    pub lib_name: Option<String>,
    /// Targets whose root file exists, with absolute paths.
    pub targets: Vec<PlannedTarget>,
    /// `[features]` and the implicit features of optional dependencies.
    pub features: PackageFeatures,
}

/// Reads the `Cargo.toml` at `manifest_path` (an absolute path).
pub(super) fn read_manifest(manifest_path: &Path) -> Result<Manifest, String> {
    let table = read_table(manifest_path)?;
    let Some(package) = table.get("package").and_then(Value::as_table) else {
        return if table.contains_key("workspace") {
            Ok(Manifest::WorkspaceOnly)
        } else {
            Err("it has neither `[package]` nor `[workspace]`".to_string())
        };
    };
    let name = package
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| "`package.name` is missing or not a string".to_string())?
        .to_string();
    let dir = manifest_path.parent().unwrap_or(Path::new("/"));
    let edition = edition(package, dir);
    let version = version(package, dir);
    let (targets, lib_name) = targets(dir, &table, package, &name);
    let features = PackageFeatures::from_manifest(&table);
    Ok(Manifest::Package(PackageManifest {
        name,
        version,
        edition,
        lib_name,
        targets,
        features,
    }))
}

fn read_table(path: &Path) -> Result<Table, String> {
    let text = std::fs::read_to_string(path).map_err(|error| error.to_string())?;
    toml::from_str(&text).map_err(|error| error.to_string().trim_end().to_string())
}

/// `package.edition`: absent means 2015, as in cargo; `edition.workspace = true` reads the
/// workspace's `[workspace.package]`; anything that cannot be worked out means 2021.
fn edition(package: &Table, dir: &Path) -> Edition {
    match package.get("edition") {
        None => Edition::E2015,
        Some(Value::String(text)) => Edition::parse(text).unwrap_or_default(),
        Some(Value::Table(inherit))
            if inherit.get("workspace").and_then(Value::as_bool) == Some(true) =>
        {
            workspace_edition(package, dir).unwrap_or_default()
        }
        Some(_) => Edition::default(),
    }
}

/// `package.version`: absent means `0.0.0`, as in cargo; `version.workspace = true` reads the
/// workspace's `[workspace.package]`.
fn version(package: &Table, dir: &Path) -> String {
    let inherited = |value: &Value| {
        value.get("workspace").and_then(Value::as_bool) == Some(true) && value.as_table().is_some()
    };
    match package.get("version") {
        Some(Value::String(text)) => text.clone(),
        Some(value) if inherited(value) => {
            workspace_package_key(package, dir, "version").unwrap_or_else(|| "0.0.0".to_string())
        }
        _ => "0.0.0".to_string(),
    }
}

/// The workspace root is `package.workspace` when given, else the nearest folder from the
/// package's own upwards whose `Cargo.toml` has `[workspace]`, as cargo finds it.
fn workspace_edition(package: &Table, dir: &Path) -> Option<Edition> {
    Edition::parse(&workspace_package_key(package, dir, "edition")?)
}

/// A string of the workspace's `[workspace.package]`, for a key a package inherits.
fn workspace_package_key(package: &Table, dir: &Path, key: &str) -> Option<String> {
    let workspace_table = match package.get("workspace").and_then(Value::as_str) {
        Some(root) => read_table(&dir.join(root).join("Cargo.toml")).ok()?,
        None => dir.ancestors().find_map(|ancestor| {
            let table = read_table(&ancestor.join("Cargo.toml")).ok()?;
            table.contains_key("workspace").then_some(table)
        })?,
    };
    Some(
        workspace_table
            .get("workspace")?
            .get("package")?
            .get(key)?
            .as_str()?
            .to_string(),
    )
}

/// The kinds of target cargo discovers in folders, with the keys that declare or disable them.
struct TargetSection {
    kind: TargetKind,
    /// `[[bin]]`, `[[example]]`, ...
    key: &'static str,
    /// `package.autobins`, ...
    auto_key: &'static str,
    folder: &'static str,
}

const SECTIONS: [TargetSection; 4] = [
    TargetSection {
        kind: TargetKind::Bin,
        key: "bin",
        auto_key: "autobins",
        folder: "src/bin",
    },
    TargetSection {
        kind: TargetKind::Example,
        key: "example",
        auto_key: "autoexamples",
        folder: "examples",
    },
    TargetSection {
        kind: TargetKind::Test,
        key: "test",
        auto_key: "autotests",
        folder: "tests",
    },
    TargetSection {
        kind: TargetKind::Bench,
        key: "bench",
        auto_key: "autobenches",
        folder: "benches",
    },
];

fn targets(
    dir: &Path,
    table: &Table,
    package: &Table,
    package_name: &str,
) -> (Vec<PlannedTarget>, Option<String>) {
    let mut targets = Vec::new();
    let lib = table.get("lib").and_then(Value::as_table);
    let lib_path = path_in(
        dir,
        lib.and_then(|lib| lib.get("path"))
            .and_then(Value::as_str)
            .unwrap_or("src/lib.rs"),
    );
    let mut lib_name = None;
    if lib_path.is_file() {
        let name = lib
            .and_then(|lib| lib.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| package_name.replace('-', "_"));
        lib_name = Some(name.clone());
        targets.push(PlannedTarget {
            kind: TargetKind::Lib,
            name,
            path: lib_path,
        });
    }
    for section in &SECTIONS {
        targets.extend(section_targets(dir, table, package, package_name, section));
    }
    let build_script = match package.get("build") {
        Some(Value::String(path)) => Some(path_in(dir, path)),
        Some(Value::Boolean(false)) => None,
        _ => Some(dir.join("build.rs")),
    };
    if let Some(path) = build_script.filter(|path| path.is_file()) {
        targets.push(PlannedTarget {
            kind: TargetKind::BuildScript,
            name: "build-script-build".to_string(),
            path,
        });
    }
    (targets, lib_name)
}

/// Declared targets first; then, unless `auto*` is false, the discovered ones no declared
/// target already names or points at.
fn section_targets(
    dir: &Path,
    table: &Table,
    package: &Table,
    package_name: &str,
    section: &TargetSection,
) -> Vec<PlannedTarget> {
    let discovered = discover(dir, section, package_name);
    let mut targets: Vec<PlannedTarget> = Vec::new();
    let declared = table
        .get(section.key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for entry in declared.iter().filter_map(Value::as_table) {
        let Some(name) = entry.get("name").and_then(Value::as_str) else {
            continue;
        };
        let path = match entry.get("path").and_then(Value::as_str) {
            Some(path) => path_in(dir, path),
            None => match discovered.iter().find(|(found, _)| found == name) {
                Some((_, path)) => path.clone(),
                None => continue,
            },
        };
        if path.is_file() {
            targets.push(PlannedTarget {
                kind: section.kind,
                name: name.to_string(),
                path,
            });
        }
    }
    if package.get(section.auto_key).and_then(Value::as_bool) != Some(false) {
        for (name, path) in discovered {
            if !targets
                .iter()
                .any(|target| target.name == name || target.path == path)
            {
                targets.push(PlannedTarget {
                    kind: section.kind,
                    name,
                    path,
                });
            }
        }
    }
    targets
}

/// `<folder>/*.rs` and `<folder>/*/main.rs`, and for binaries `src/main.rs`, sorted.
fn discover(dir: &Path, section: &TargetSection, package_name: &str) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    if section.kind == TargetKind::Bin {
        let main = dir.join("src/main.rs");
        if main.is_file() {
            found.push((package_name.to_string(), main));
        }
    }
    let Ok(entries) = std::fs::read_dir(dir.join(section.folder)) else {
        return found;
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    paths.sort();
    for path in paths {
        if path.is_file() && path.extension().is_some_and(|extension| extension == "rs") {
            found.push((name_of(&path), path));
        } else if path.join("main.rs").is_file() {
            found.push((name_of(&path), path.join("main.rs")));
        }
    }
    found
}

fn path_in(dir: &Path, relative: &str) -> PathBuf {
    let joined = dir.join(relative);
    absolute(&joined).unwrap_or(joined)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::test_support::TempTree;

    fn package(manifest: Manifest) -> PackageManifest {
        match manifest {
            Manifest::Package(package) => package,
            Manifest::WorkspaceOnly => panic!("expected a package"),
        }
    }

    fn summary(package: &PackageManifest, root: &Path) -> Vec<String> {
        package
            .targets
            .iter()
            .map(|target| {
                let path = target
                    .path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                format!("{} {} {path}", target.kind.cargo_name(), target.name)
            })
            .collect()
    }

    #[test]
    fn targets_are_inferred_like_cargo() {
        let tree = TempTree::new(&[
            (
                "Cargo.toml",
                "[package]\nname = \"my-tool\"\nedition = \"2018\"\n\n[[bin]]\nname = \"extra\"\npath = \"tools/extra.rs\"\n\n[[test]]\nname = \"slow\"\n",
            ),
            ("src/lib.rs", ""),
            ("src/main.rs", ""),
            ("src/bin/a.rs", ""),
            ("src/bin/b/main.rs", ""),
            ("src/bin/b/helper.rs", ""),
            ("tools/extra.rs", ""),
            ("tests/slow.rs", ""),
            ("tests/fast.rs", ""),
            ("examples/demo.rs", ""),
            ("benches/speed/main.rs", ""),
            ("build.rs", ""),
        ]);
        let package = package(read_manifest(&tree.path("Cargo.toml")).unwrap());
        assert_eq!(package.name, "my-tool");
        assert_eq!(package.edition, Edition::E2018);
        assert_eq!(package.lib_name.as_deref(), Some("my_tool"));
        assert_eq!(
            summary(&package, tree.root()),
            [
                "lib my_tool src/lib.rs",
                "bin extra tools/extra.rs",
                "bin my-tool src/main.rs",
                "bin a src/bin/a.rs",
                "bin b src/bin/b/main.rs",
                "example demo examples/demo.rs",
                "test slow tests/slow.rs",
                "test fast tests/fast.rs",
                "bench speed benches/speed/main.rs",
                "custom-build build-script-build build.rs",
            ]
        );
    }

    #[test]
    fn declared_lib_and_disabled_discovery() {
        let tree = TempTree::new(&[
            (
                "Cargo.toml",
                "[package]\nname = \"p\"\nautobins = false\nbuild = false\n\n[lib]\nname = \"core_lib\"\npath = \"lib/core.rs\"\n",
            ),
            ("lib/core.rs", ""),
            ("src/main.rs", ""),
            ("build.rs", ""),
        ]);
        let package = package(read_manifest(&tree.path("Cargo.toml")).unwrap());
        assert_eq!(package.edition, Edition::E2015);
        assert_eq!(summary(&package, tree.root()), ["lib core_lib lib/core.rs"]);
    }

    #[test]
    fn edition_inherited_from_the_workspace() {
        let tree = TempTree::new(&[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"a\"]\n\n[workspace.package]\nedition = \"2024\"\n",
            ),
            (
                "a/Cargo.toml",
                "[package]\nname = \"a\"\nedition.workspace = true\n",
            ),
            (
                "b/Cargo.toml",
                "[package]\nname = \"b\"\nedition = { workspace = true }\nworkspace = \"../nowhere\"\n",
            ),
        ]);
        assert!(matches!(
            read_manifest(&tree.path("Cargo.toml")).unwrap(),
            Manifest::WorkspaceOnly
        ));
        assert_eq!(
            package(read_manifest(&tree.path("a/Cargo.toml")).unwrap()).edition,
            Edition::E2024
        );
        assert_eq!(
            package(read_manifest(&tree.path("b/Cargo.toml")).unwrap()).edition,
            Edition::E2021
        );
    }

    #[test]
    fn versions_are_read_inherited_or_cargos_default() {
        let tree = TempTree::new(&[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"*\"]\n\n[workspace.package]\nversion = \"2.3.4\"\n",
            ),
            (
                "own/Cargo.toml",
                "[package]\nname = \"own\"\nversion = \"0.1.0\"\n",
            ),
            (
                "inherits/Cargo.toml",
                "[package]\nname = \"inherits\"\nversion.workspace = true\n",
            ),
            ("none/Cargo.toml", "[package]\nname = \"none\"\n"),
        ]);
        let version = |name: &str| {
            package(read_manifest(&tree.path(&format!("{name}/Cargo.toml"))).unwrap()).version
        };
        assert_eq!(version("own"), "0.1.0");
        assert_eq!(version("inherits"), "2.3.4");
        assert_eq!(version("none"), "0.0.0");
    }

    #[test]
    fn broken_manifests_are_errors_not_panics() {
        let tree = TempTree::new(&[
            ("bad/Cargo.toml", "[package\nname = "),
            ("empty/Cargo.toml", ""),
            ("nameless/Cargo.toml", "[package]\nversion = \"1.0.0\"\n"),
        ]);
        assert!(read_manifest(&tree.path("bad/Cargo.toml")).is_err());
        assert!(
            read_manifest(&tree.path("empty/Cargo.toml"))
                .unwrap_err()
                .contains("neither")
        );
        assert!(
            read_manifest(&tree.path("nameless/Cargo.toml"))
                .unwrap_err()
                .contains("package.name")
        );
        assert!(read_manifest(&tree.path("missing/Cargo.toml")).is_err());
    }
}
