//! The module tree of a crate, built from `mod` declarations the way rustc finds module files,
//! and name resolution over it: modules, `use` items (renames and globs), `self`, `super`,
//! `crate`, and the package's library name from its other targets.

use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

use crate::model::facts::{FileFacts, ModIdx, Sym};
use crate::model::types::AdtId;

/// A module of the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AliasId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StaticId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FunctionId(pub u32);

impl FunctionId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Something a name can stand for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemRef {
    Module(ModuleId),
    Adt(AdtId),
    Alias(AliasId),
    Static(StaticId),
    Function(FunctionId),
    Trait,
}

impl ItemRef {
    fn is_type_like(self) -> bool {
        matches!(
            self,
            ItemRef::Module(_) | ItemRef::Adt(_) | ItemRef::Alias(_) | ItemRef::Trait
        )
    }
}

#[derive(Clone, Debug)]
pub struct UseEntry {
    pub alias: Option<Sym>,
    pub path: Vec<Sym>,
}

#[derive(Clone, Debug)]
pub struct Module {
    pub parent: Option<ModuleId>,
    pub name: Sym,
    /// The crate root this module belongs to.
    pub root: ModuleId,
    /// The program-local index of the file holding this module.
    pub file: u32,
    /// The target whose tree holds this module.
    pub target: Option<usize>,
    /// Under `#[cfg(test)]`, here or in an enclosing module.
    pub is_test: bool,
    pub names: HashMap<Sym, Vec<ItemRef>>,
    pub uses: Vec<UseEntry>,
}

/// What a path resolves to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// An item of the program, and the segments after it (associated items).
    Item(ItemRef, Vec<Sym>),
    /// A path outside the program (a dependency, `std`, or a prelude name), made absolute where
    /// `use` items allowed it.
    External(Vec<Sym>),
}

/// The module tree and the file → module mapping.
#[derive(Debug, Default)]
pub struct ModuleTree {
    pub modules: Vec<Module>,
    /// For each program file, the module of each of its `ModIdx`.
    pub file_modules: Vec<Vec<ModuleId>>,
    /// The library target's root module, named by `lib_name` from other targets.
    pub lib_root: Option<ModuleId>,
    pub lib_name: Option<Sym>,
    /// Files (program-local indices) of modules whose `mod` declaration is configured out by
    /// the unit's features, or that only such a module declares: no module holds them.
    pub configured_out_files: Vec<u32>,
    /// Names already looked up, by module, name and namespace. An entry of `None` while a
    /// lookup is under way cuts cycles of `use` and glob imports.
    lookups: RefCell<HashMap<(ModuleId, Sym, bool), Option<Resolved>>>,
    /// Go: the packages of the unit by import path.
    go_packages: HashMap<Sym, ModuleId>,
}

impl ModuleTree {
    /// Builds the tree: target roots first, following `mod` declarations to module files; files
    /// no root reaches are attached by their path under a target's directory, or become roots
    /// of their own.
    pub fn build(
        paths: &[PathBuf],
        facts: &[&FileFacts],
        targets: &[(usize, u32, bool)],
        lib_name: Option<&str>,
    ) -> ModuleTree {
        let mut tree = ModuleTree {
            modules: Vec::new(),
            file_modules: vec![Vec::new(); paths.len()],
            lib_root: None,
            lib_name: lib_name.map(Into::into),
            configured_out_files: Vec::new(),
            lookups: RefCell::default(),
            go_packages: HashMap::default(),
        };
        let mut configured_out = vec![false; paths.len()];
        let by_path: HashMap<&Path, u32> = paths
            .iter()
            .enumerate()
            .map(|(index, path)| (path.as_path(), index as u32))
            .collect();
        // A file to follow, whether it is a root (or a `#[path]` file) whose children live
        // beside it, and whether it belongs to a module configured out.
        let mut queue: Vec<(u32, bool, bool)> = Vec::new();
        for &(target, file, is_lib) in targets {
            if !tree.file_modules[file as usize].is_empty() {
                continue;
            }
            let root = tree.new_module(None, "crate".into(), None, file, Some(target));
            if is_lib && tree.lib_root.is_none() {
                tree.lib_root = Some(root);
            }
            tree.assign_file(file, root, facts[file as usize]);
            queue.push((file, true, false));
        }
        while let Some((file, is_root, file_configured_out)) = queue.pop() {
            let path = &paths[file as usize];
            let file_facts = &facts[file as usize];
            let stem = path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .unwrap_or("");
            let parent_dir = path.parent().unwrap_or(Path::new(""));
            let children_dir = if is_root || stem == "mod" {
                parent_dir.to_path_buf()
            } else {
                parent_dir.join(stem)
            };
            for declaration in &file_facts.mod_decls {
                let mut dir = children_dir.clone();
                for name in inline_path(file_facts, declaration.parent) {
                    dir.push(&*name);
                }
                let candidates: Vec<PathBuf> = match &declaration.path_attribute {
                    Some(attribute) if declaration.parent.index() == 0 => {
                        vec![parent_dir.join(attribute)]
                    }
                    Some(attribute) => vec![dir.join(attribute)],
                    None => vec![
                        dir.join(format!("{}.rs", declaration.name)),
                        dir.join(&*declaration.name).join("mod.rs"),
                    ],
                };
                let found = candidates
                    .iter()
                    .filter_map(|candidate| by_path.get(candidate.as_path()).copied())
                    .find(|&child| {
                        tree.file_modules[child as usize].is_empty()
                            && !configured_out[child as usize]
                    });
                if file_configured_out || declaration.configured_out {
                    if let Some(child) = found {
                        configured_out[child as usize] = true;
                        tree.configured_out_files.push(child);
                        queue.push((child, declaration.path_attribute.is_some(), true));
                    }
                    continue;
                }
                let parent_module = tree.file_modules[file as usize][declaration.parent.index()];
                let target = tree.modules[parent_module.0 as usize].target;
                let root = tree.modules[parent_module.0 as usize].root;
                let child_module = tree.new_module(
                    Some(parent_module),
                    declaration.name.clone(),
                    Some(root),
                    found.unwrap_or(file),
                    target,
                );
                tree.modules[child_module.0 as usize].is_test |= declaration.is_test;
                tree.add_name(
                    parent_module,
                    declaration.name.clone(),
                    ItemRef::Module(child_module),
                );
                if let Some(child) = found {
                    tree.assign_file(child, child_module, facts[child as usize]);
                    // A `#[path]` file is treated like a `mod.rs`: its children live beside it.
                    queue.push((child, declaration.path_attribute.is_some(), false));
                }
            }
        }
        // Files no `mod` declaration reached.
        let target_dirs: Vec<(PathBuf, ModuleId)> = targets
            .iter()
            .filter_map(|&(_, file, _)| {
                let module = *tree.file_modules[file as usize].first()?;
                Some((paths[file as usize].parent()?.to_path_buf(), module))
            })
            .collect();
        for file in 0..paths.len() as u32 {
            if !tree.file_modules[file as usize].is_empty() || configured_out[file as usize] {
                continue;
            }
            let module = tree.attach_orphan(&paths[file as usize], file, &target_dirs);
            tree.assign_file(file, module, facts[file as usize]);
        }
        tree
    }

    /// A Go package: one module holding every file's items; each file's imports join it (files
    /// of one package seldom give one name two meanings).
    /// A Go unit: a module (the folder of a `go.mod`, `module_path` its import path) or a
    /// lone package. Each package (a folder, and its package clause) is a module of the tree;
    /// an import of another package of the module resolves to that package's module, so that
    /// `shared.NewStore()` and `shared.Store` are the program's own.
    pub fn build_go(
        paths: &[PathBuf],
        facts: &[&FileFacts],
        root_dir: &Path,
        module_path: Option<&str>,
    ) -> ModuleTree {
        let mut tree = ModuleTree {
            modules: Vec::new(),
            file_modules: vec![Vec::new(); facts.len()],
            lib_root: None,
            lib_name: None,
            configured_out_files: Vec::new(),
            lookups: RefCell::default(),
            go_packages: HashMap::default(),
        };
        let mut packages: HashMap<(PathBuf, Sym), ModuleId> = HashMap::default();
        for (file, facts) in facts.iter().enumerate() {
            let dir = paths[file]
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let package_name: Sym = facts.package_name.clone().unwrap_or_else(|| "".into());
            let key = (dir.clone(), package_name.clone());
            let module = match packages.get(&key) {
                Some(&module) => module,
                None => {
                    let module =
                        tree.new_module(None, package_name.clone(), None, file as u32, Some(0));
                    packages.insert(key, module);
                    // The package's import path: the module's path and the folder below it.
                    // An external test package (`x_test`) is not importable.
                    if !package_name.ends_with("_test") {
                        if let (Some(module_path), Ok(relative)) =
                            (module_path, dir.strip_prefix(root_dir))
                        {
                            let relative = relative
                                .components()
                                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                                .collect::<Vec<_>>()
                                .join("/");
                            let import_path = if relative.is_empty() {
                                module_path.to_string()
                            } else {
                                format!("{module_path}/{relative}")
                            };
                            tree.go_packages.insert(import_path.into(), module);
                        }
                    }
                    module
                }
            };
            tree.file_modules[file] = vec![module];
            for entry in &facts.uses {
                let data = &mut tree.modules[module.0 as usize];
                if !data
                    .uses
                    .iter()
                    .any(|existing| existing.alias == entry.alias)
                {
                    data.uses.push(UseEntry {
                        alias: entry.alias.clone(),
                        path: entry.path.clone(),
                    });
                }
            }
        }
        tree
    }

    fn new_module(
        &mut self,
        parent: Option<ModuleId>,
        name: Sym,
        root: Option<ModuleId>,
        file: u32,
        target: Option<usize>,
    ) -> ModuleId {
        let id = ModuleId(self.modules.len() as u32);
        let is_test = parent.is_some_and(|parent| self.modules[parent.0 as usize].is_test);
        self.modules.push(Module {
            parent,
            name,
            root: root.unwrap_or(id),
            file,
            target,
            is_test,
            names: HashMap::default(),
            uses: Vec::new(),
        });
        id
    }

    fn add_name(&mut self, module: ModuleId, name: Sym, item: ItemRef) {
        self.modules[module.0 as usize]
            .names
            .entry(name)
            .or_default()
            .push(item);
    }

    /// Gives a file its module (for `ModIdx` 0) and creates its inline modules.
    fn assign_file(&mut self, file: u32, module: ModuleId, facts: &FileFacts) {
        self.modules[module.0 as usize].file = file;
        let mut modules = vec![module];
        for inline in &facts.inline_modules {
            let parent = modules[inline.parent.index()];
            let root = self.modules[parent.0 as usize].root;
            let target = self.modules[parent.0 as usize].target;
            let child =
                self.new_module(Some(parent), inline.name.clone(), Some(root), file, target);
            self.modules[child.0 as usize].is_test |= inline.is_test;
            self.add_name(parent, inline.name.clone(), ItemRef::Module(child));
            modules.push(child);
        }
        for entry in &facts.uses {
            let module = modules[entry.module.index()];
            self.modules[module.0 as usize].uses.push(UseEntry {
                alias: entry.alias.clone(),
                path: entry.path.clone(),
            });
        }
        self.file_modules[file as usize] = modules;
    }

    /// A file outside the tree: under a target's directory it becomes the module its path
    /// names (`src/a/b.rs` → `crate::a::b`), else a root of its own.
    fn attach_orphan(
        &mut self,
        path: &Path,
        file: u32,
        target_dirs: &[(PathBuf, ModuleId)],
    ) -> ModuleId {
        for (dir, root) in target_dirs {
            let Ok(relative) = path.strip_prefix(dir) else {
                continue;
            };
            let mut components: Vec<String> = relative
                .components()
                .filter_map(|component| component.as_os_str().to_str().map(str::to_string))
                .collect();
            let Some(last) = components.pop() else {
                continue;
            };
            let stem = last.trim_end_matches(".rs").to_string();
            if stem != "mod" {
                components.push(stem);
            }
            let mut module = *root;
            for name in components {
                let existing = self.modules[module.0 as usize]
                    .names
                    .get(name.as_str())
                    .and_then(|items| {
                        items.iter().find_map(|item| match item {
                            ItemRef::Module(child) => Some(*child),
                            _ => None,
                        })
                    });
                module = match existing {
                    Some(child) => child,
                    None => {
                        let target = self.modules[module.0 as usize].target;
                        let root = self.modules[module.0 as usize].root;
                        let child = self.new_module(
                            Some(module),
                            name.as_str().into(),
                            Some(root),
                            file,
                            target,
                        );
                        self.add_name(module, name.as_str().into(), ItemRef::Module(child));
                        child
                    }
                };
            }
            if module != *root
                && self
                    .file_modules
                    .iter()
                    .all(|modules| modules.first() != Some(&module))
            {
                return module;
            }
        }
        self.new_module(None, "crate".into(), None, file, None)
    }

    pub fn module(&self, id: ModuleId) -> &Module {
        &self.modules[id.0 as usize]
    }

    /// Registers an item under its name.
    pub fn define(&mut self, module: ModuleId, name: Sym, item: ItemRef) {
        self.add_name(module, name, item);
    }

    /// Resolves a path as written in `module`.
    pub fn resolve(
        &self,
        module: ModuleId,
        segments: &[Sym],
        leading_colon: bool,
    ) -> Option<Resolved> {
        self.resolve_with_depth(module, segments, leading_colon, 0)
    }

    fn resolve_with_depth(
        &self,
        module: ModuleId,
        segments: &[Sym],
        leading_colon: bool,
        depth: u32,
    ) -> Option<Resolved> {
        if depth > 12 || segments.is_empty() {
            return None;
        }
        if leading_colon {
            return Some(Resolved::External(segments.to_vec()));
        }
        let (mut current, mut rest) = match &*segments[0] {
            "crate" => (ItemRef::Module(self.module(module).root), &segments[1..]),
            "self" => (ItemRef::Module(module), &segments[1..]),
            "super" => {
                let mut current = module;
                let mut index = 0;
                while index < segments.len() && &*segments[index] == "super" {
                    current = self.module(current).parent.unwrap_or(current);
                    index += 1;
                }
                (ItemRef::Module(current), &segments[index..])
            }
            first => match self.lookup(module, first, depth, segments.len() > 1) {
                Some(Resolved::Item(item, extra)) if extra.is_empty() => (item, &segments[1..]),
                Some(Resolved::Item(item, mut extra)) => {
                    extra.extend(segments[1..].iter().cloned());
                    return Some(Resolved::Item(item, extra));
                }
                Some(Resolved::External(mut path)) => {
                    path.extend(segments[1..].iter().cloned());
                    return Some(Resolved::External(path));
                }
                None => return Some(Resolved::External(segments.to_vec())),
            },
        };
        while let (ItemRef::Module(inner), Some(next)) = (current, rest.first()) {
            match self.lookup(inner, next, depth, rest.len() > 1) {
                Some(Resolved::Item(item, extra)) => {
                    if !extra.is_empty() {
                        let mut extra = extra;
                        extra.extend(rest[1..].iter().cloned());
                        return Some(Resolved::Item(item, extra));
                    }
                    current = item;
                    rest = &rest[1..];
                }
                Some(Resolved::External(mut path)) => {
                    path.extend(rest[1..].iter().cloned());
                    return Some(Resolved::External(path));
                }
                None => return None,
            }
        }
        Some(Resolved::Item(current, rest.to_vec()))
    }

    /// A name in a module: its items, its `use` names, then its globs; at a crate root, also
    /// the library's name.
    fn lookup(
        &self,
        module: ModuleId,
        name: &str,
        depth: u32,
        want_namespace: bool,
    ) -> Option<Resolved> {
        let key = (module, Sym::from(name), want_namespace);
        if let Some(found) = self.lookups.borrow().get(&key) {
            return found.clone();
        }
        self.lookups.borrow_mut().insert(key.clone(), None);
        let found = self.lookup_uncached(module, name, depth, want_namespace);
        self.lookups.borrow_mut().insert(key, found.clone());
        found
    }

    fn lookup_uncached(
        &self,
        module: ModuleId,
        name: &str,
        depth: u32,
        want_namespace: bool,
    ) -> Option<Resolved> {
        let data = self.module(module);
        if let Some(items) = data.names.get(name) {
            let item = if want_namespace {
                items
                    .iter()
                    .copied()
                    .find(|item| item.is_type_like())
                    .unwrap_or(items[0])
            } else {
                items
                    .iter()
                    .copied()
                    .find(|item| !matches!(item, ItemRef::Module(_)))
                    .unwrap_or(items[0])
            };
            return Some(Resolved::Item(item, Vec::new()));
        }
        for entry in &data.uses {
            if entry.alias.as_deref() == Some(name) {
                // A Go import of a package of the same module.
                if let Some(&package) = entry
                    .path
                    .first()
                    .and_then(|path| self.go_packages.get(path))
                {
                    return Some(Resolved::Item(ItemRef::Module(package), Vec::new()));
                }
                return self.resolve_use_path(module, &entry.path, depth + 1);
            }
        }
        let mut external_glob = None;
        for entry in &data.uses {
            // Glob chains (`use super::*` both ways) branch at every level: keep them shallow.
            if entry.alias.is_some() || depth > 6 {
                continue;
            }
            match self.resolve_use_path(module, &entry.path, depth + 1) {
                Some(Resolved::Item(ItemRef::Module(inner), extra))
                    if extra.is_empty() && inner != module =>
                {
                    if let Some(found) = self.lookup(inner, name, depth + 3, want_namespace) {
                        return Some(found);
                    }
                }
                Some(Resolved::External(path)) if external_glob.is_none() => {
                    let mut path = path;
                    path.push(name.into());
                    external_glob = Some(Resolved::External(path));
                }
                _ => {}
            }
        }
        if let (Some(lib_name), Some(lib_root)) = (&self.lib_name, self.lib_root) {
            if &**lib_name == name {
                return Some(Resolved::Item(ItemRef::Module(lib_root), Vec::new()));
            }
        }
        // A glob never shadows a crate name (the extern prelude): `std`, `core`, `alloc`, and
        // the crates this module's own `use` paths start from.
        let crate_name = matches!(name, "std" | "core" | "alloc")
            || data
                .uses
                .iter()
                .any(|entry| entry.path.len() > 1 && &*entry.path[0] == name);
        if crate_name {
            return None;
        }
        external_glob
    }

    /// A `use` path: relative to the module first, else a crate name.
    fn resolve_use_path(&self, module: ModuleId, path: &[Sym], depth: u32) -> Option<Resolved> {
        if depth > 12 || path.is_empty() {
            return None;
        }
        self.resolve_with_depth(module, path, false, depth)
    }
}

/// The names of the inline modules from a file's top down to `module`.
fn inline_path(facts: &FileFacts, module: ModIdx) -> Vec<Sym> {
    let mut names = Vec::new();
    let mut current = module;
    while current.index() != 0 {
        let inline = &facts.inline_modules[current.index() - 1];
        names.push(inline.name.clone());
        current = inline.parent;
    }
    names.reverse();
    names
}
