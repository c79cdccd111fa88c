//! Just enough name resolution for the rewrites that change names or where they come from:
//! the modules of the crate (the root and inline modules), what each defines, and what its
//! `use` items import, explicitly or by glob. Names are resolved as rustc does in the cases
//! the fixtures have: an item of the module or an explicit import beats a glob import, and two
//! globs that bring different items of one name make it ambiguous.

use std::collections::BTreeSet;

use super::source::{self, MacroArgs};
use super::std_exports::STD_EXPORTS;

/// One leaf of a `use` tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UseLeaf {
    /// The path up to the imported name, without a leading `::`: `["std", "sync"]` for
    /// `std::sync::Mutex`, the module for a glob.
    pub prefix: Vec<String>,
    /// The imported name as written (`self` for `a::b::{self}`); empty for a glob.
    pub name: String,
    /// The name it is visible by (the rename, or the name; for `self`, the last prefix
    /// segment); empty for a glob.
    pub visible: String,
    pub glob: bool,
}

impl UseLeaf {
    /// The full path of what a non-glob leaf imports.
    pub fn full_path(&self) -> Vec<String> {
        let mut path = self.prefix.clone();
        if self.name != "self" {
            path.push(self.name.clone());
        }
        path
    }

    pub fn root(&self) -> &str {
        self.prefix
            .first()
            .map_or(self.name.as_str(), String::as_str)
    }
}

/// The leaves of a `use` tree.
pub(crate) fn use_leaves(tree: &syn::UseTree) -> Vec<UseLeaf> {
    fn walk(tree: &syn::UseTree, prefix: &mut Vec<String>, leaves: &mut Vec<UseLeaf>) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                walk(&path.tree, prefix, leaves);
                prefix.pop();
            }
            syn::UseTree::Name(name) => {
                let name = name.ident.to_string();
                let visible = if name == "self" {
                    prefix.last().cloned().unwrap_or_default()
                } else {
                    name.clone()
                };
                leaves.push(UseLeaf {
                    prefix: prefix.clone(),
                    name,
                    visible,
                    glob: false,
                });
            }
            syn::UseTree::Rename(rename) => leaves.push(UseLeaf {
                prefix: prefix.clone(),
                name: rename.ident.to_string(),
                visible: rename.rename.to_string(),
                glob: false,
            }),
            syn::UseTree::Glob(_) => leaves.push(UseLeaf {
                prefix: prefix.clone(),
                name: String::new(),
                visible: String::new(),
                glob: true,
            }),
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    walk(tree, prefix, leaves);
                }
            }
        }
    }
    let mut leaves = Vec::new();
    walk(tree, &mut Vec::new(), &mut leaves);
    leaves
}

/// One module of the crate: the root, or an inline `mod name { .. }`.
pub(crate) struct Module<'a> {
    /// The names from the crate root down: empty for the root.
    pub path: Vec<String>,
    pub items: &'a [syn::Item],
    /// The inline module's item, `None` for the root.
    pub item: Option<&'a syn::ItemMod>,
    pub uses: Vec<UseLeaf>,
    /// Names of the items defined in it (macro-made statics of `thread_local!` included).
    pub defined: BTreeSet<String>,
}

impl Module<'_> {
    /// Names imported explicitly (not by a glob).
    pub fn explicit_imports(&self) -> BTreeSet<String> {
        self.uses
            .iter()
            .filter(|leaf| !leaf.glob)
            .map(|leaf| leaf.visible.clone())
            .collect()
    }

    pub fn globs(&self) -> Vec<&UseLeaf> {
        self.uses.iter().filter(|leaf| leaf.glob).collect()
    }
}

/// Every module of the crate, the root first, inline modules in text order. `#[path]` and
/// other out-of-line modules are not read.
pub(crate) fn modules(file: &syn::File) -> Vec<Module<'_>> {
    fn walk<'a>(
        items: &'a [syn::Item],
        item: Option<&'a syn::ItemMod>,
        path: Vec<String>,
        modules: &mut Vec<Module<'a>>,
    ) {
        let (uses, defined) = scope_names(items.iter());
        modules.push(Module {
            path: path.clone(),
            items,
            item,
            uses,
            defined,
        });
        for inner in items {
            if let syn::Item::Mod(module) = inner {
                if let Some((_, inner_items)) = &module.content {
                    let mut inner_path = path.clone();
                    inner_path.push(module.ident.to_string());
                    walk(inner_items, Some(module), inner_path, modules);
                }
            }
        }
    }
    let mut modules = Vec::new();
    walk(&file.items, None, Vec::new(), &mut modules);
    modules
}

/// The `use` leaves and the names defined by a list of items (a module's, or a block's).
pub(crate) fn scope_names<'a>(
    items: impl Iterator<Item = &'a syn::Item>,
) -> (Vec<UseLeaf>, BTreeSet<String>) {
    let mut uses = Vec::new();
    let mut defined = BTreeSet::new();
    for item in items {
        match item {
            syn::Item::Use(item_use) => uses.extend(use_leaves(&item_use.tree)),
            syn::Item::Macro(item_macro) => {
                if let Some(ident) = &item_macro.ident {
                    defined.insert(ident.to_string());
                } else if let Some(MacroArgs::ThreadLocal(statics)) =
                    source::parse_macro_args(&item_macro.mac)
                {
                    defined.extend(statics.iter().map(|local| local.ident.to_string()));
                }
            }
            other => {
                if let Some(name) = item_name(other) {
                    defined.insert(name);
                }
            }
        }
    }
    (uses, defined)
}

/// The name an item defines, for items that define one.
pub(crate) fn item_name(item: &syn::Item) -> Option<String> {
    let ident = match item {
        syn::Item::Const(item) => &item.ident,
        syn::Item::Enum(item) => &item.ident,
        syn::Item::ExternCrate(item) => item
            .rename
            .as_ref()
            .map_or(&item.ident, |(_, rename)| rename),
        syn::Item::Fn(item) => &item.sig.ident,
        syn::Item::Mod(item) => &item.ident,
        syn::Item::Static(item) => &item.ident,
        syn::Item::Struct(item) => &item.ident,
        syn::Item::Trait(item) => &item.ident,
        syn::Item::TraitAlias(item) => &item.ident,
        syn::Item::Type(item) => &item.ident,
        syn::Item::Union(item) => &item.ident,
        syn::Item::Macro(item) => item.ident.as_ref()?,
        _ => return None,
    };
    Some(ident.to_string())
}

/// The crates a path may start with besides the crate's own modules: the standard library and
/// the libraries the fixtures build with.
pub(crate) const EXTERNAL_CRATES: &[&str] = &[
    "std",
    "core",
    "alloc",
    "tokio",
    "dashmap",
    "parking_lot",
    "scopeguard",
    "lock_api",
    "rayon",
];

/// What a glob import of a standard library module (or enum) brings: `None` when the path is
/// not one the table knows. `core::` and `alloc::` paths are read as `std::`'s, whose modules
/// export at least as much.
pub(crate) fn std_exports(path: &[String]) -> Option<&'static [&'static str]> {
    let (root, rest) = path.split_first()?;
    if !matches!(root.as_str(), "std" | "core" | "alloc") || rest.is_empty() {
        return None;
    }
    let key = format!("std::{}", rest.join("::"));
    STD_EXPORTS
        .binary_search_by(|(module, _)| (*module).cmp(key.as_str()))
        .ok()
        .map(|index| STD_EXPORTS[index].1)
}

/// One scope of names: a module, or a block with items of its own.
struct Scope {
    uses: Vec<UseLeaf>,
    defined: BTreeSet<String>,
    module: bool,
}

/// The scopes in force where a walk of the crate is, for resolving the paths that name library
/// items: which library item a name was imported as, explicitly or by a glob of a std module.
pub(crate) struct Scopes {
    stack: Vec<Scope>,
}

impl Scopes {
    /// The crate root's scope.
    pub fn new(file: &syn::File) -> Scopes {
        let (uses, defined) = scope_names(file.items.iter());
        Scopes {
            stack: vec![Scope {
                uses,
                defined,
                module: true,
            }],
        }
    }

    /// Enters an inline module (`false` for one whose items are in another file: not
    /// entered).
    pub fn enter_module(&mut self, item: &syn::ItemMod) -> bool {
        let Some((_, items)) = &item.content else {
            return false;
        };
        let (uses, defined) = scope_names(items.iter());
        self.stack.push(Scope {
            uses,
            defined,
            module: true,
        });
        true
    }

    /// Enters a block when it has items of its own (`false` otherwise: not entered).
    pub fn enter_block(&mut self, block: &syn::Block) -> bool {
        let items = block.stmts.iter().filter_map(|stmt| match stmt {
            syn::Stmt::Item(item) => Some(item),
            _ => None,
        });
        let (uses, defined) = scope_names(items);
        if uses.is_empty() && defined.is_empty() {
            return false;
        }
        self.stack.push(Scope {
            uses,
            defined,
            module: false,
        });
        true
    }

    /// Leaves what the last `enter_*` that returned `true` entered.
    pub fn leave(&mut self) {
        self.stack.pop();
    }

    /// Whether the walk is in the crate root's module (its functions' blocks included).
    pub fn in_root_module(&self) -> bool {
        self.stack.iter().filter(|scope| scope.module).count() == 1
    }

    /// The full path of a library item a name refers to, by the imports in force; `None` for
    /// the program's own items and for names no import brings.
    pub fn library_name(&self, name: &str) -> Option<Vec<String>> {
        if EXTERNAL_CRATES.contains(&name) {
            return Some(vec![name.to_owned()]);
        }
        for scope in self.stack.iter().rev() {
            if scope.defined.contains(name) {
                return None;
            }
            if let Some(leaf) = scope
                .uses
                .iter()
                .find(|leaf| !leaf.glob && leaf.visible == name)
            {
                let path = leaf.full_path();
                // An import of the crate's own items names no library item.
                if matches!(
                    path.first().map(String::as_str),
                    None | Some("crate" | "self" | "super")
                ) {
                    return None;
                }
                return Some(path);
            }
            let mut found = Vec::new();
            for glob in scope.uses.iter().filter(|leaf| leaf.glob) {
                match std_exports(&glob.prefix) {
                    Some(exports) if exports.contains(&name) => found.push(glob.prefix.clone()),
                    Some(_) => {}
                    // A glob of unknown exports may bring the name: say nothing.
                    None => return None,
                }
            }
            if found.len() == 1 {
                let mut path = found.remove(0);
                path.push(name.to_owned());
                return Some(path);
            }
            if !found.is_empty() || scope.module {
                return None;
            }
        }
        None
    }

    /// The full library path of a path's first `count` segments, if it names a library item.
    pub fn library_path(&self, path: &syn::Path, count: usize) -> Option<Vec<String>> {
        let segments: Vec<String> = path
            .segments
            .iter()
            .take(count)
            .map(|segment| segment.ident.to_string())
            .collect();
        if path.leading_colon.is_some() {
            return Some(segments);
        }
        let mut full = self.library_name(segments.first()?)?;
        full.extend(segments[1..].iter().cloned());
        Some(full)
    }
}
