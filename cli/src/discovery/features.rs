//! Cargo features: which ones a package has (`package.features` from `cargo metadata`, or the
//! `[features]` table of a `Cargo.toml` with the implicit features of optional dependencies)
//! and which ones `--features`, `--all-features` and `--no-default-features` enable, as cargo
//! computes them for the packages a command builds.

use std::collections::{BTreeMap, BTreeSet};

use deferlint_core::driver::FeatureSet;
use toml::{Table, Value};

/// The feature flags of the command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeatureRequest {
    /// `--features`/`-F` values, split at commas and spaces: `name` for every checked
    /// package, `package/name` for one package (or, when `package` is not a checked package,
    /// a dependency feature, as cargo reads it for the packages it builds).
    pub features: Vec<String>,
    pub all_features: bool,
    pub no_default_features: bool,
}

impl FeatureRequest {
    /// The request of the raw flag values (`-F a,b -F "c d"`).
    pub fn new(values: &[String], all_features: bool, no_default_features: bool) -> Self {
        FeatureRequest {
            features: values
                .iter()
                .flat_map(|value| value.split([',', ' ']))
                .filter(|name| !name.is_empty())
                .map(str::to_string)
                .collect(),
            all_features,
            no_default_features,
        }
    }
}

/// A package's features: each feature with what it enables, implicit features of optional
/// dependencies included (`foo = ["dep:foo"]`, as `cargo metadata` lists them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackageFeatures {
    table: BTreeMap<String, Vec<String>>,
}

impl PackageFeatures {
    /// `package.features` of `cargo metadata`, which already lists implicit features.
    pub fn from_metadata(table: &BTreeMap<String, Vec<String>>) -> Self {
        PackageFeatures {
            table: table.clone(),
        }
    }

    /// The `[features]` table of a manifest, plus a feature for each optional dependency that
    /// no feature names with `dep:` (cargo's implicit features). Values that are not strings
    /// are skipped: cargo would reject the manifest.
    pub fn from_manifest(manifest: &Table) -> Self {
        let mut table: BTreeMap<String, Vec<String>> = manifest
            .get("features")
            .and_then(Value::as_table)
            .map(|features| {
                features
                    .iter()
                    .map(|(name, enables)| {
                        let enables = enables
                            .as_array()
                            .map(|list| {
                                list.iter()
                                    .filter_map(Value::as_str)
                                    .map(str::to_string)
                                    .collect()
                            })
                            .unwrap_or_default();
                        (name.clone(), enables)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let named_with_dep: BTreeSet<&str> = table
            .values()
            .flatten()
            .filter_map(|entry| entry.strip_prefix("dep:"))
            .collect();
        let implicit: Vec<String> = optional_dependencies(manifest)
            .into_iter()
            .filter(|name| !named_with_dep.contains(name.as_str()) && !table.contains_key(name))
            .collect();
        for name in implicit {
            let enables = vec![format!("dep:{name}")];
            table.insert(name, enables);
        }
        PackageFeatures { table }
    }

    /// The features enabled in `package` (its name) by `request`: every feature with
    /// `--all-features`; else `default` unless `--no-default-features`, and the requested
    /// features that name one of this package's features or are meant for it; then whatever
    /// these enable, transitively. Requested names the package does not have are ignored
    /// (cargo would stop with an error; the code that `cfg`s on them is then left out).
    pub fn enabled(&self, package: &str, request: &FeatureRequest) -> FeatureSet {
        if request.all_features {
            return FeatureSet::new(self.table.keys().cloned());
        }
        let mut enabled = BTreeSet::new();
        let mut pending: Vec<String> = Vec::new();
        if !request.no_default_features {
            pending.push("default".to_string());
        }
        for requested in &request.features {
            match requested.split_once('/') {
                Some((owner, feature)) if owner == package => pending.push(feature.to_string()),
                // `dependency/feature`: read as an entry of a feature list of this package.
                Some(_) => self.enable_entry(requested, &mut pending),
                None => pending.push(requested.clone()),
            }
        }
        while let Some(feature) = pending.pop() {
            let Some(enables) = self.table.get(&feature) else {
                continue;
            };
            if !enabled.insert(feature) {
                continue;
            }
            for entry in enables {
                self.enable_entry(entry, &mut pending);
            }
        }
        FeatureSet::new(enabled)
    }

    /// What one entry of a feature's list enables among this package's features: `other`
    /// enables `other`; `dep:x` and `x/feature` enable `x` when it is the implicit feature of
    /// an optional dependency; `x?/feature` enables nothing here (it only turns on a feature
    /// of `x` if something else enables `x`). Features of dependencies themselves do not
    /// matter: only this package's code is checked.
    fn enable_entry(&self, entry: &str, pending: &mut Vec<String>) {
        let dependency = if let Some(dependency) = entry.strip_prefix("dep:") {
            dependency
        } else if let Some((dependency, _)) = entry.split_once('/') {
            if dependency.ends_with('?') {
                return;
            }
            dependency
        } else {
            pending.push(entry.to_string());
            return;
        };
        if self.is_implicit(dependency) {
            pending.push(dependency.to_string());
        }
    }

    /// Whether `name` is the implicit feature of an optional dependency (`name = ["dep:name"]`).
    fn is_implicit(&self, name: &str) -> bool {
        self.table.get(name).is_some_and(|enables| {
            enables.len() == 1 && enables[0].strip_prefix("dep:") == Some(name)
        })
    }
}

/// The names (as the manifest keys them, renames included) of the optional dependencies:
/// `[dependencies]`, `[build-dependencies]` and their `[target.'..']` forms.
fn optional_dependencies(manifest: &Table) -> Vec<String> {
    let sections = ["dependencies", "build-dependencies", "build_dependencies"];
    let mut tables: Vec<&Table> = sections
        .iter()
        .filter_map(|section| manifest.get(*section).and_then(Value::as_table))
        .collect();
    if let Some(targets) = manifest.get("target").and_then(Value::as_table) {
        for target in targets.values().filter_map(Value::as_table) {
            tables.extend(
                sections
                    .iter()
                    .filter_map(|section| target.get(*section).and_then(Value::as_table)),
            );
        }
    }
    tables
        .into_iter()
        .flat_map(|table| table.iter())
        .filter(|(_, spec)| {
            spec.get("optional")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        })
        .map(|(name, _)| name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(text: &str) -> PackageFeatures {
        PackageFeatures::from_manifest(&toml::from_str(text).unwrap())
    }

    fn enabled(features: &PackageFeatures, words: &str) -> Vec<String> {
        let mut values = Vec::new();
        let (mut all, mut no_default) = (false, false);
        for word in words.split_whitespace() {
            match word {
                "--all-features" => all = true,
                "--no-default-features" => no_default = true,
                value => values.push(value.to_string()),
            }
        }
        let request = FeatureRequest::new(&values, all, no_default);
        features
            .enabled("pkg", &request)
            .iter()
            .map(str::to_string)
            .collect()
    }

    const MANIFEST: &str = r#"
        [package]
        name = "pkg"
        [features]
        default = ["a"]
        a = ["inner"]
        inner = []
        b = []
        uses-dep = ["dep:hidden"]
        serde-support = ["serde/derive"]
        weak = ["log?/std"]
        [dependencies]
        serde = { version = "1", optional = true }
        log = { version = "0.4", optional = true }
        hidden = { version = "1", optional = true }
        plain = "1"
        [target.'cfg(unix)'.dependencies]
        nix = { version = "0.29", optional = true }
    "#;

    #[test]
    fn default_features_are_closed_transitively() {
        let features = manifest(MANIFEST);
        assert_eq!(enabled(&features, ""), ["a", "default", "inner"]);
        assert_eq!(enabled(&features, "--no-default-features"), [] as [&str; 0]);
        assert_eq!(enabled(&features, "--no-default-features b"), ["b"]);
    }

    #[test]
    fn optional_dependencies_are_implicit_features_unless_named_with_dep() {
        let features = manifest(MANIFEST);
        // `hidden` is named with `dep:`, so it is no feature.
        assert_eq!(
            enabled(&features, "--no-default-features uses-dep hidden"),
            ["uses-dep"]
        );
        assert_eq!(enabled(&features, "--no-default-features nix"), ["nix"]);
        // `serde/derive` turns on the optional dependency, so its implicit feature.
        assert_eq!(
            enabled(&features, "--no-default-features serde-support"),
            ["serde", "serde-support"]
        );
        // `log?/std` does not turn `log` on.
        assert_eq!(enabled(&features, "--no-default-features weak"), ["weak"]);
        assert_eq!(
            enabled(&features, "--no-default-features weak,log"),
            ["log", "weak"]
        );
    }

    #[test]
    fn all_features_and_package_qualified_features() {
        let features = manifest(MANIFEST);
        assert_eq!(
            enabled(&features, "--all-features --no-default-features"),
            [
                "a",
                "b",
                "default",
                "inner",
                "log",
                "nix",
                "serde",
                "serde-support",
                "uses-dep",
                "weak"
            ]
        );
        // `pkg/b` is for this package, `other/b` for another one; `serde/std` is a dependency
        // feature, which turns the dependency on.
        assert_eq!(
            enabled(&features, "--no-default-features pkg/b other/inner"),
            ["b"]
        );
        assert_eq!(
            enabled(&features, "--no-default-features serde/std"),
            ["serde"]
        );
        // Names the package does not have are ignored.
        assert_eq!(
            enabled(&features, "--no-default-features nope"),
            [] as [&str; 0]
        );
    }

    #[test]
    fn metadata_tables_are_taken_as_cargo_lists_them() {
        let table: BTreeMap<String, Vec<String>> = [
            ("default", vec!["std"]),
            ("std", vec!["once/std"]),
            ("once", vec!["dep:once"]),
            ("extra", vec![]),
        ]
        .into_iter()
        .map(|(name, enables)| {
            (
                name.to_string(),
                enables.into_iter().map(str::to_string).collect(),
            )
        })
        .collect();
        let features = PackageFeatures::from_metadata(&table);
        assert_eq!(enabled(&features, ""), ["default", "once", "std"]);
    }

    #[test]
    fn feature_flags_split_at_commas_and_spaces() {
        let request = FeatureRequest::new(&["a,b".to_string(), "c d".to_string()], false, false);
        assert_eq!(request.features, ["a", "b", "c", "d"]);
    }
}
