//! Just enough name resolution for the rewrites that change names or where they come from:
//! the modules of the crate (the root and inline modules), what each defines, and what its
//! `use` items import, explicitly or by glob. Names are resolved as rustc does in the cases
//! the fixtures have: an item of the module or an explicit import beats a glob import, and two
//! globs that bring different items of one name make it ambiguous.

use std::collections::BTreeSet;

use super::source::{self, MacroArgs};

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
        self.prefix.first().map_or(self.name.as_str(), String::as_str)
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
        syn::Item::ExternCrate(item) => item.rename.as_ref().map_or(&item.ident, |(_, rename)| rename),
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
