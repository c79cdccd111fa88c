//! Configuration files: `deferlint.toml`, `[workspace.metadata.deferlint]` and
//! `[package.metadata.deferlint]`, with the same keys in all three.
//!
//! ```toml
//! exclude = ["generated/", "*.pb.rs"]
//! spawn-functions = ["my_pool::Pool::submit"]
//! defer-macros = ["on_scope_exit"]
//! defer-guards = ["OnDrop::new"]
//! map-types = ["ConcurrentCache"]
//! sharded-map-types = ["ShardedMap"]
//! mutex-types = ["SpinLock"]
//! rwlock-types = ["ShardLock"]
//!
//! [rules]
//! contended-map-write-in-defer = "warn"
//! ```
//!
//! Each unit has its own chain of layers, later ones winning for rule levels and all of them
//! adding names and exclusions: the nearest `deferlint.toml` above the unit's folder, the
//! workspace's `Cargo.toml`, the package's `Cargo.toml`; the command line's `-A/-W/-D` come
//! last. Not `[lints.deferlint]`: cargo hands unknown lint tools to rustc, which rejects them
//! (E0602) and fails the user's build.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use deferlint_core::diagnostic::Level;
use deferlint_core::driver::CrateInput;
use deferlint_core::model::extensions::Extensions;
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use toml::Spanned;

use crate::levels;

/// The configuration file's name.
pub const FILE_NAME: &str = "deferlint.toml";

/// What the configuration says for one unit.
#[derive(Debug, Default)]
pub struct UnitConfig {
    /// Rule levels in the order they apply, before the command line's.
    pub levels: Vec<(Level, String)>,
    pub extensions: Extensions,
    pub exclude: Vec<Arc<Exclusion>>,
    /// The files the levels came from, for messages.
    pub sources: Vec<PathBuf>,
}

/// Paths a layer leaves out, relative to the folder of the file that lists them.
#[derive(Debug)]
pub struct Exclusion {
    base: PathBuf,
    set: GlobSet,
}

impl Exclusion {
    pub fn excludes(&self, path: &Path) -> bool {
        path.strip_prefix(&self.base)
            .is_ok_and(|relative| self.set.is_match(relative))
    }
}

/// Reads the configuration of every unit, caching files that several units share.
#[derive(Debug, Default)]
pub struct Loader {
    /// The nearest `deferlint.toml` at or above a folder.
    nearest_file: HashMap<PathBuf, Option<PathBuf>>,
    /// The workspace manifest at or above a folder.
    nearest_workspace: HashMap<PathBuf, Option<PathBuf>>,
    parsed: HashMap<(PathBuf, Section), Option<Arc<Layer>>>,
}

/// Where in a file a layer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Section {
    File,
    WorkspaceMetadata,
    PackageMetadata,
}

/// One file's settings, checked.
#[derive(Debug)]
struct Layer {
    path: PathBuf,
    levels: Vec<(Level, String)>,
    extensions: Extensions,
    exclude: Option<Arc<Exclusion>>,
}

impl Loader {
    /// The configuration of one unit. A configuration that is not valid is an error naming the
    /// file, the line and the valid choices.
    pub fn unit(&mut self, unit: &CrateInput) -> Result<UnitConfig> {
        let mut config = UnitConfig::default();
        let mut layers: Vec<Arc<Layer>> = Vec::new();
        if let Some(file) = self.nearest(&unit.root_dir, Section::File) {
            layers.extend(self.layer(&file, Section::File)?);
        }
        if let Some(manifest) = &unit.manifest_path {
            let package_dir = manifest.parent().unwrap_or(Path::new("."));
            if let Some(workspace) = self.nearest(package_dir, Section::WorkspaceMetadata) {
                layers.extend(self.layer(&workspace, Section::WorkspaceMetadata)?);
            }
            layers.extend(self.layer(manifest, Section::PackageMetadata)?);
        }
        for layer in layers {
            config.levels.extend(layer.levels.iter().cloned());
            config.extensions.extend(&layer.extensions);
            if let Some(exclude) = &layer.exclude {
                config.exclude.push(exclude.clone());
            }
            if !config.sources.contains(&layer.path) {
                config.sources.push(layer.path.clone());
            }
        }
        Ok(config)
    }

    /// The nearest `deferlint.toml`, or workspace manifest, at or above `folder`.
    fn nearest(&mut self, folder: &Path, section: Section) -> Option<PathBuf> {
        let cache = match section {
            Section::File => &mut self.nearest_file,
            _ => &mut self.nearest_workspace,
        };
        let mut visited = Vec::new();
        let mut found = None;
        let mut current = Some(folder);
        while let Some(dir) = current {
            if let Some(cached) = cache.get(dir) {
                found = cached.clone();
                break;
            }
            visited.push(dir.to_path_buf());
            let candidate = match section {
                Section::File => dir.join(FILE_NAME),
                _ => dir.join("Cargo.toml"),
            };
            let is_match = match section {
                Section::File => candidate.is_file(),
                _ => candidate.is_file() && declares_workspace(&candidate),
            };
            if is_match {
                found = Some(candidate);
                break;
            }
            current = dir.parent();
        }
        for dir in visited {
            cache.insert(dir, found.clone());
        }
        found
    }

    fn layer(&mut self, path: &Path, section: Section) -> Result<Option<Arc<Layer>>> {
        let key = (path.to_path_buf(), section);
        if let Some(layer) = self.parsed.get(&key) {
            return Ok(layer.clone());
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read `{}`", path.display()))?;
        let layer = parse_layer(path, &text, section)?.map(Arc::new);
        self.parsed.insert(key, layer.clone());
        Ok(layer)
    }
}

/// Whether a manifest has a `[workspace]` table. A manifest that does not parse has none here;
/// discovery reports it.
fn declares_workspace(manifest: &Path) -> bool {
    std::fs::read_to_string(manifest)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .is_some_and(|table| table.contains_key("workspace"))
}

/// The keys outside `[rules]`, for the hint when one is written inside it.
const TOP_LEVEL_KEYS: &[&str] = &[
    "exclude",
    "spawn-functions",
    "defer-macros",
    "defer-guards",
    "map-types",
    "sharded-map-types",
    "mutex-types",
    "rwlock-types",
];

/// The keys of a layer, spelled as in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    spawn_functions: Vec<Spanned<String>>,
    #[serde(default)]
    defer_macros: Vec<Spanned<String>>,
    #[serde(default)]
    defer_guards: Vec<Spanned<String>>,
    #[serde(default)]
    map_types: Vec<Spanned<String>>,
    #[serde(default)]
    sharded_map_types: Vec<Spanned<String>>,
    #[serde(default)]
    mutex_types: Vec<Spanned<String>>,
    #[serde(default)]
    rwlock_types: Vec<Spanned<String>>,
}

/// A manifest's `metadata.deferlint` tables; everything else in it is cargo's business.
#[derive(Debug, Deserialize)]
struct Manifest {
    workspace: Option<MetadataHolder>,
    package: Option<MetadataHolder>,
}

#[derive(Debug, Deserialize)]
struct MetadataHolder {
    metadata: Option<Metadata>,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    deferlint: Option<RawConfig>,
}

fn parse_layer(path: &Path, text: &str, section: Section) -> Result<Option<Layer>> {
    let raw = match section {
        Section::File => toml::from_str::<RawConfig>(text).map(Some),
        Section::WorkspaceMetadata | Section::PackageMetadata => {
            // A manifest that is not TOML at all is cargo's (or discovery's) to report.
            if text.parse::<toml::Table>().is_err() {
                return Ok(None);
            }
            toml::from_str::<Manifest>(text).map(|manifest| {
                let holder = match section {
                    Section::WorkspaceMetadata => manifest.workspace,
                    _ => manifest.package,
                };
                holder
                    .and_then(|holder| holder.metadata)
                    .and_then(|metadata| metadata.deferlint)
            })
        }
    };
    let raw = match raw {
        Ok(Some(raw)) => raw,
        Ok(None) => return Ok(None),
        Err(error) => {
            let at = error
                .span()
                .map(|span| location(text, span.start))
                .unwrap_or_default();
            return Err(anyhow!(
                "invalid configuration in `{}{at}`: {}",
                path.display(),
                error.message().trim_end()
            ));
        }
    };
    let invalid = |span: std::ops::Range<usize>, message: String| {
        anyhow!(
            "invalid configuration in `{}{}`: {message}",
            path.display(),
            location(text, span.start)
        )
    };
    let mut levels = Vec::new();
    for (name, level) in raw.rules {
        let bare = name
            .get_ref()
            .strip_prefix("deferlint::")
            .unwrap_or(name.get_ref());
        if !levels::valid_names().contains(&bare) {
            // TOML puts every key after `[rules]` in that table.
            let hint = if TOP_LEVEL_KEYS.contains(&bare) {
                format!("; `{bare}` is a top-level key: write it before the `[rules]` table")
            } else {
                String::new()
            };
            return Err(invalid(
                name.span(),
                format!(
                    "unknown rule `{}`; valid names are {}{hint}",
                    name.get_ref(),
                    levels::valid_names().join(", ")
                ),
            ));
        }
        let parsed = match level.get_ref() {
            toml::Value::String(text) => Level::parse(text),
            _ => None,
        };
        let Some(parsed) = parsed else {
            return Err(invalid(
                level.span(),
                format!(
                    "`{}` is not a level for `{bare}`; valid levels are \"allow\", \"warn\" and \"deny\"",
                    level.get_ref()
                ),
            ));
        };
        levels.push((parsed, bare.to_string()));
    }
    // Macro names may be written with their `!`.
    let names = |entries: Vec<Spanned<String>>, macros: bool| -> Result<Vec<String>> {
        let mut checked = Vec::new();
        for entry in entries {
            let text = entry.get_ref().trim();
            let text = if macros {
                text.trim_end_matches('!')
            } else {
                text
            };
            let valid =
                !text.is_empty() && text.trim_start_matches("::").split("::").all(is_identifier);
            if !valid {
                return Err(invalid(
                    entry.span(),
                    format!(
                        "`{}` is not a Rust path; write a name such as `submit` or a path such as `my_pool::Pool::submit`",
                        entry.get_ref()
                    ),
                ));
            }
            checked.push(text.to_string());
        }
        Ok(checked)
    };
    let extensions = Extensions {
        spawn_functions: names(raw.spawn_functions, false)?,
        defer_macros: names(raw.defer_macros, true)?,
        defer_guards: names(raw.defer_guards, false)?,
        map_types: names(raw.map_types, false)?,
        sharded_map_types: names(raw.sharded_map_types, false)?,
        mutex_types: names(raw.mutex_types, false)?,
        rwlock_types: names(raw.rwlock_types, false)?,
    };
    let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let exclude = if raw.exclude.is_empty() {
        None
    } else {
        let mut builder = GlobSetBuilder::new();
        for pattern in &raw.exclude {
            for glob in exclusion_globs(pattern.get_ref()) {
                let glob = Glob::new(&glob).map_err(|error| {
                    invalid(
                        pattern.span(),
                        format!("`{}` is not a valid pattern: {error}", pattern.get_ref()),
                    )
                })?;
                builder.add(glob);
            }
        }
        let set = builder
            .build()
            .map_err(|error| anyhow!("invalid exclusion in `{}`: {error}", path.display()))?;
        Some(Arc::new(Exclusion { base, set }))
    };
    Ok(Some(Layer {
        path: path.to_path_buf(),
        levels,
        extensions,
        exclude,
    }))
}

/// A pattern as `.gitignore` reads it: without a `/` inside, it matches a file or folder name
/// at any depth; with one, a path from the configuration's folder. A folder matches
/// everything under it.
fn exclusion_globs(pattern: &str) -> Vec<String> {
    let trimmed = pattern.trim().trim_end_matches('/');
    let anchored = trimmed.contains('/');
    let trimmed = trimmed.trim_start_matches("./").trim_start_matches('/');
    let base = if anchored || trimmed.starts_with("**") {
        trimmed.to_string()
    } else {
        format!("**/{trimmed}")
    };
    vec![base.clone(), format!("{base}/**")]
}

fn is_identifier(segment: &str) -> bool {
    let segment = segment.strip_prefix("r#").unwrap_or(segment);
    let mut chars = segment.chars();
    chars
        .next()
        .is_some_and(|first| first.is_alphabetic() || first == '_')
        && chars.all(|rest| rest.is_alphanumeric() || rest == '_')
}

/// `:line:column` of a byte offset, both 1-based.
fn location(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before[line_start..].chars().count() + 1;
    format!(":{line}:{column}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<Layer>> {
        parse_layer(Path::new("/w/deferlint.toml"), text, Section::File)
    }

    #[test]
    fn every_key_is_read() {
        let layer = parse(
            "exclude = [\"gen/\"]\nspawn-functions = [\"Pool::submit\"]\ndefer-macros = [\"on_exit!\"]\n\
             defer-guards = [\"OnDrop::new\"]\nmap-types = [\"Cache\"]\nsharded-map-types = [\"Shards\"]\n\
             mutex-types = [\"Spin\"]\nrwlock-types = [\"Rw\"]\n[rules]\nlock-reentered-in-defer = \"warn\"\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            layer.levels,
            [(Level::Warn, "lock-reentered-in-defer".to_string())]
        );
        assert_eq!(layer.extensions.spawn_functions, ["Pool::submit"]);
        assert_eq!(layer.extensions.defer_macros, ["on_exit"]);
        assert_eq!(layer.extensions.rwlock_types, ["Rw"]);
        let exclude = layer.exclude.unwrap();
        assert!(exclude.excludes(Path::new("/w/src/gen/a.rs")));
        assert!(!exclude.excludes(Path::new("/w/src/general.rs")));
    }

    #[test]
    fn errors_name_the_line_and_the_choices() {
        let error = parse("exclude = []\nspawn-function = []\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("deferlint.toml:2:1"), "{error}");
        assert!(error.contains("spawn-functions"), "{error}");
        let error = parse("[rules]\nno-such-rule = \"deny\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains(":2:1") && error.contains("unknown rule `no-such-rule`"));
        assert!(error.contains("lock-reentered-in-defer"), "{error}");
        let error = parse("[rules]\nlock-reentered-in-defer = \"loud\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(":2:") && error.contains("\"allow\""),
            "{error}"
        );
        let error = parse("[rules]\nexclude = [\"x\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("write it before the `[rules]` table"),
            "{error}"
        );
        let error = parse("mutex-types = [\"my lock\"]\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("not a Rust path"), "{error}");
    }

    #[test]
    fn exclusions_read_like_gitignore() {
        assert_eq!(exclusion_globs("gen/"), ["**/gen", "**/gen/**"]);
        assert_eq!(exclusion_globs("src/gen"), ["src/gen", "src/gen/**"]);
        assert_eq!(exclusion_globs("/x.rs"), ["x.rs", "x.rs/**"]);
        assert_eq!(exclusion_globs("*.pb.rs"), ["**/*.pb.rs", "**/*.pb.rs/**"]);
    }

    #[test]
    fn manifests_keep_workspace_and_package_tables_apart() {
        let manifest = "[package]\nname = \"a\"\n[package.metadata.deferlint]\nmutex-types = [\"Spin\"]\n\
                        [workspace.metadata.deferlint]\nmap-types = [\"Cache\"]\n";
        let path = Path::new("/w/Cargo.toml");
        let package = parse_layer(path, manifest, Section::PackageMetadata)
            .unwrap()
            .unwrap();
        assert_eq!(package.extensions.mutex_types, ["Spin"]);
        assert!(package.extensions.map_types.is_empty());
        let workspace = parse_layer(path, manifest, Section::WorkspaceMetadata)
            .unwrap()
            .unwrap();
        assert_eq!(workspace.extensions.map_types, ["Cache"]);
        let error = parse_layer(
            path,
            "[package]\nname = \"a\"\n[package.metadata.deferlint]\nexclud = []\n",
            Section::PackageMetadata,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("Cargo.toml:4:1"), "{error}");
        assert!(
            parse_layer(path, "not toml [", Section::PackageMetadata)
                .unwrap()
                .is_none()
        );
    }
}
