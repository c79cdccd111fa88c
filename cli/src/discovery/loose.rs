//! Loose Rust files, outside any cargo package: which of them are crate roots and which are
//! modules of another (`mod name;`), so that a folder of scripts and a small `rustc main.rs`
//! program both come out as the units rustc would see.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{absolute, name_of};

/// Loose files that belong together: the crate roots of one folder and every file their
/// `mod` declarations reach, wherever it is.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct LooseUnit {
    pub dir: PathBuf,
    /// Files no other loose file declares as a module, sorted.
    pub roots: Vec<PathBuf>,
    /// Every file of the unit, sorted.
    pub files: Vec<PathBuf>,
}

/// Groups absolute paths of loose `.rs` files into units.
pub(super) fn group(files: &[PathBuf]) -> Vec<LooseUnit> {
    let known: BTreeSet<&PathBuf> = files.iter().collect();
    let mut parent: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    let mut children: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for file in &known {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for declaration in module_declarations(&text) {
            for candidate in declaration.candidates(file) {
                if &candidate != *file
                    && known.contains(&candidate)
                    && !parent.contains_key(&candidate)
                {
                    parent.insert(candidate.clone(), file.to_path_buf());
                    children
                        .entry(file.to_path_buf())
                        .or_default()
                        .push(candidate);
                }
            }
        }
    }
    // Roots are files nobody declares; files only reached through a cycle of declarations
    // become roots too, so that every file is checked.
    let mut root_of: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    let assign = |root: &PathBuf, root_of: &mut BTreeMap<PathBuf, PathBuf>| {
        let mut stack = vec![root.clone()];
        while let Some(file) = stack.pop() {
            if root_of.contains_key(&file) {
                continue;
            }
            root_of.insert(file.clone(), root.clone());
            stack.extend(children.get(&file).into_iter().flatten().cloned());
        }
    };
    let mut roots: Vec<PathBuf> = Vec::new();
    for file in known.iter().filter(|file| !parent.contains_key(**file)) {
        roots.push(file.to_path_buf());
        assign(file, &mut root_of);
    }
    for file in &known {
        if !root_of.contains_key(*file) {
            roots.push(file.to_path_buf());
            assign(file, &mut root_of);
        }
    }
    let mut units: BTreeMap<PathBuf, LooseUnit> = BTreeMap::new();
    for root in &roots {
        let dir = root.parent().map(Path::to_path_buf).unwrap_or_default();
        units
            .entry(dir.clone())
            .or_insert_with(|| LooseUnit {
                dir,
                roots: Vec::new(),
                files: Vec::new(),
            })
            .roots
            .push(root.clone());
    }
    for (file, root) in root_of {
        let dir = root.parent().map(Path::to_path_buf).unwrap_or_default();
        if let Some(unit) = units.get_mut(&dir) {
            unit.files.push(file);
        }
    }
    units
        .into_values()
        .map(|mut unit| {
            unit.roots.sort();
            unit.files.sort();
            unit
        })
        .collect()
}

/// `mod name;`, with its `#[path = "..."]` if any.
#[derive(Debug, PartialEq, Eq)]
struct ModuleDeclaration {
    name: String,
    path_attribute: Option<String>,
}

impl ModuleDeclaration {
    /// Where the module's file can be. Whether the declaring file owns its folder (`main.rs`,
    /// `mod.rs`, a crate root) or not (`a.rs`, whose modules live in `a/`) is not known before
    /// the roots are, so both places count.
    fn candidates(&self, declaring_file: &Path) -> Vec<PathBuf> {
        let dir = declaring_file.parent().unwrap_or(Path::new("/"));
        if let Some(path) = &self.path_attribute {
            let joined = dir.join(path);
            return vec![absolute(&joined).unwrap_or(joined)];
        }
        let own_folder = dir.join(name_of(declaring_file));
        [dir, own_folder.as_path()]
            .into_iter()
            .flat_map(|base| {
                [
                    base.join(format!("{}.rs", self.name)),
                    base.join(&self.name).join("mod.rs"),
                ]
            })
            .collect()
    }
}

/// A line-based look for `mod name;`, enough to group files. A declaration hidden in a block
/// comment or a string may be taken for real; the cost is only a file grouped with a sibling.
fn module_declarations(text: &str) -> Vec<ModuleDeclaration> {
    let mut declarations = Vec::new();
    let mut path_attribute: Option<String> = None;
    for line in text.lines() {
        let mut rest = line.trim();
        if rest.starts_with("//") {
            continue;
        }
        while let Some(attribute) = rest.strip_prefix("#[") {
            let Some(end) = attribute.find(']') else {
                break;
            };
            if let Some(path) = path_attribute_value(&attribute[..end]) {
                path_attribute = Some(path);
            }
            rest = attribute[end + 1..].trim_start();
        }
        if rest.is_empty() || rest.starts_with("#[") {
            continue;
        }
        if let Some(name) = declared_module(strip_visibility(rest)) {
            declarations.push(ModuleDeclaration {
                name: name.to_string(),
                path_attribute: path_attribute.take(),
            });
        }
        path_attribute = None;
    }
    declarations
}

/// `path = "x.rs"` → `x.rs`.
fn path_attribute_value(attribute: &str) -> Option<String> {
    let value = attribute
        .trim()
        .strip_prefix("path")?
        .trim_start()
        .strip_prefix('=')?
        .trim();
    Some(value.strip_prefix('"')?.strip_suffix('"')?.to_string())
}

fn strip_visibility(item: &str) -> &str {
    let Some(rest) = item.strip_prefix("pub") else {
        return item;
    };
    let trimmed = rest.trim_start();
    if let Some(restricted) = trimmed.strip_prefix('(') {
        return restricted
            .find(')')
            .map(|end| restricted[end + 1..].trim_start())
            .unwrap_or(item);
    }
    if rest.starts_with(char::is_whitespace) {
        trimmed
    } else {
        item
    }
}

/// `mod name;` → `name`; an inline `mod name { ... }` declares no file.
fn declared_module(item: &str) -> Option<&str> {
    let rest = item.strip_prefix("mod")?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = rest.trim_start();
    let rest = rest.strip_prefix("r#").unwrap_or(rest);
    let end = rest
        .find(|character: char| !(character.is_alphanumeric() || character == '_'))
        .unwrap_or(rest.len());
    let (name, tail) = rest.split_at(end);
    (!name.is_empty() && tail.trim_start().starts_with(';')).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::test_support::TempTree;

    #[test]
    fn declarations_are_found_with_visibility_and_path_attributes() {
        let text = "mod a;\npub mod b ;\npub(crate) mod r#c;\n#[path = \"x/d.rs\"]\nmod d;\n#[cfg(test)] mod e;\nmod inline { }\n// mod f;\nmodule g;\n#[path = \"ignored.rs\"]\nfn h() {}\nmod i;\n";
        let names: Vec<(String, Option<String>)> = module_declarations(text)
            .into_iter()
            .map(|declaration| (declaration.name, declaration.path_attribute))
            .collect();
        assert_eq!(
            names,
            [
                ("a".to_string(), None),
                ("b".to_string(), None),
                ("c".to_string(), None),
                ("d".to_string(), Some("x/d.rs".to_string())),
                ("e".to_string(), None),
                ("i".to_string(), None),
            ]
        );
    }

    #[test]
    fn modules_join_the_unit_of_their_root() {
        let tree = TempTree::new(&[
            ("main.rs", "mod util;\nmod nested;\nfn main() {}\n"),
            ("util.rs", "pub fn f() {}\n"),
            ("nested/mod.rs", "mod deeper;\n"),
            ("nested/deeper.rs", ""),
            ("script.rs", "fn main() {}\n"),
            ("other/tool.rs", "mod part;\n"),
            ("other/tool/part.rs", ""),
            ("cycle/a.rs", "#[path = \"b.rs\"] mod b;\n"),
            ("cycle/b.rs", "#[path = \"a.rs\"] mod a;\n"),
        ]);
        let files: Vec<PathBuf> = [
            "main.rs",
            "util.rs",
            "nested/mod.rs",
            "nested/deeper.rs",
            "script.rs",
            "other/tool.rs",
            "other/tool/part.rs",
            "cycle/a.rs",
            "cycle/b.rs",
        ]
        .iter()
        .map(|relative| tree.path(relative))
        .collect();
        let units = group(&files);
        let relative = |paths: &[PathBuf]| -> Vec<String> {
            paths
                .iter()
                .map(|path| {
                    path.strip_prefix(tree.root())
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/")
                })
                .collect()
        };
        let summary: Vec<(String, Vec<String>, Vec<String>)> = units
            .iter()
            .map(|unit| {
                (
                    relative(std::slice::from_ref(&unit.dir)).join(""),
                    relative(&unit.roots),
                    relative(&unit.files),
                )
            })
            .collect();
        let strings = |items: &[&str]| {
            items
                .iter()
                .map(|item| item.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            summary,
            [
                (
                    String::new(),
                    strings(&["main.rs", "script.rs"]),
                    strings(&[
                        "main.rs",
                        "nested/deeper.rs",
                        "nested/mod.rs",
                        "script.rs",
                        "util.rs"
                    ])
                ),
                (
                    "cycle".to_string(),
                    strings(&["cycle/a.rs"]),
                    strings(&["cycle/a.rs", "cycle/b.rs"])
                ),
                (
                    "other".to_string(),
                    strings(&["other/tool.rs"]),
                    strings(&["other/tool/part.rs", "other/tool.rs"])
                ),
            ]
        );
    }
}
