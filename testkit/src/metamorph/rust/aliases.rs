//! `type-aliases`: the library types the analyses care about (maps, locks, smart pointers,
//! cells) are reached through type aliases declared in the crate, in type positions and in
//! expression paths (`MapAlias1::new()`), each alias with as many generic parameters as the
//! type takes without its defaults. A use with another number of arguments (a custom hasher),
//! or a constructor that fixes a default parameter (`with_hasher`), keeps the type's own name.

use std::collections::{BTreeMap, BTreeSet};

use syn::visit::Visit;

use super::functions;
use super::resolve::Scopes;
use super::source::{self, Edits, Fresh, Source};
use crate::metamorph::Rewritten;

/// `(canonical path, generic parameters without defaults, alias name base)`.
const ALIASED_TYPES: &[(&str, usize, &str)] = &[
    ("dashmap::DashMap", 2, "ShardedMapAlias"),
    ("parking_lot::Mutex", 1, "LockAlias"),
    ("parking_lot::RwLock", 1, "LockAlias"),
    ("std::cell::RefCell", 1, "CellAlias"),
    ("std::collections::BTreeMap", 2, "MapAlias"),
    ("std::collections::BTreeSet", 1, "SetAlias"),
    ("std::collections::HashMap", 2, "MapAlias"),
    ("std::collections::HashSet", 1, "SetAlias"),
    ("std::rc::Rc", 1, "RcAlias"),
    ("std::sync::Arc", 1, "ArcAlias"),
    ("std::sync::Mutex", 1, "LockAlias"),
    ("std::sync::RwLock", 1, "LockAlias"),
    ("tokio::sync::Mutex", 1, "LockAlias"),
    ("tokio::sync::RwLock", 1, "LockAlias"),
];

/// Constructors that fix a parameter the alias leaves at its default.
const PINNING_CONSTRUCTORS: &[&str] = &[
    "with_hasher",
    "with_capacity_and_hasher",
    "with_hasher_and_shard_amount",
    "with_capacity_and_hasher_and_shard_amount",
    "new_in",
    "with_capacity_in",
    "from_raw_in",
    "new_uninit_in",
];

/// The canonical path of a library type that a full path names, if it is one of
/// [`ALIASED_TYPES`] (`std::collections::hash_map::HashMap` is `std::collections::HashMap`).
fn aliased_type(path: &[String]) -> Option<(&'static str, usize, &'static str)> {
    let mut path: Vec<&str> = path.iter().map(String::as_str).collect();
    if matches!(path.first(), Some(&"core" | &"alloc")) {
        path[0] = "std";
    }
    if path.len() == 4 && path[1] == "collections" {
        // `std::collections::hash_map::HashMap` and the like.
        path.remove(2);
    }
    let text = path.join("::");
    ALIASED_TYPES
        .iter()
        .find(|(canonical, _, _)| *canonical == text)
        .copied()
}

/// Walks the crate with the scopes in force, and finds the uses of the aliased types.
struct Finder<'s> {
    scopes: Scopes,
    fresh: Fresh<'s>,
    /// canonical path → alias name.
    aliases: BTreeMap<&'static str, String>,
    edits: Vec<(std::ops::Range<usize>, String)>,
    skipped: BTreeSet<String>,
}

impl Finder<'_> {
    fn alias_for(&mut self, canonical: &'static str, base: &str) -> String {
        if let Some(name) = self.aliases.get(canonical) {
            return name.clone();
        }
        let name = self.fresh.numbered(base);
        self.aliases.insert(canonical, name.clone());
        name
    }

    fn alias_path(&mut self, canonical: &'static str, base: &str) -> String {
        let name = self.alias_for(canonical, base);
        if !self.scopes.in_root_module() {
            format!("crate::{name}")
        } else {
            name
        }
    }

    /// Replaces the type at segment `index` of a path (and the segments before it) with the
    /// alias, when the path names an aliased type there with the right number of arguments.
    fn try_path(&mut self, path: &syn::Path, index: usize, type_position: bool) -> bool {
        let Some(full) = self.scopes.library_path(path, index + 1) else {
            return false;
        };
        let Some((canonical, arity, base)) = aliased_type(&full) else {
            return false;
        };
        let segment = &path.segments[index];
        let given = match &segment.arguments {
            syn::PathArguments::None => 0,
            syn::PathArguments::AngleBracketed(args) => args
                .args
                .iter()
                .filter(|arg| matches!(arg, syn::GenericArgument::Type(_)))
                .count(),
            syn::PathArguments::Parenthesized(_) => return false,
        };
        let name = canonical.rsplit("::").next().unwrap_or(canonical);
        // An expression may leave the arguments to inference (`HashMap::new()`).
        let inferred = given == 0 && !type_position;
        if given != arity && !inferred {
            self.skipped.insert(format!(
                "`{name}` with {given} type arguments, which an alias of {arity} cannot take"
            ));
            return true;
        }
        if let Some(next) = path.segments.get(index + 1) {
            if PINNING_CONSTRUCTORS.contains(&next.ident.to_string().as_str()) {
                self.skipped.insert(format!(
                    "`{name}::{}` fixes a parameter the alias leaves at its default",
                    next.ident
                ));
                return true;
            }
        }
        let start = match &path.leading_colon {
            Some(colon) => source::range_of(colon).start,
            None => source::range_of(&path.segments[0].ident).start,
        };
        let end = source::range_of(&segment.ident).end;
        let alias = self.alias_path(canonical, base);
        self.edits.push((start..end, alias));
        true
    }
}

impl<'a> Visit<'a> for Finder<'_> {
    fn visit_item_mod(&mut self, item: &'a syn::ItemMod) {
        if self.scopes.enter_module(item) {
            syn::visit::visit_item_mod(self, item);
            self.scopes.leave();
        }
    }

    fn visit_item_use(&mut self, _: &'a syn::ItemUse) {
        // Imports keep the type's own path.
    }

    fn visit_block(&mut self, block: &'a syn::Block) {
        let entered = self.scopes.enter_block(block);
        syn::visit::visit_block(self, block);
        if entered {
            self.scopes.leave();
        }
    }

    fn visit_type_path(&mut self, ty: &'a syn::TypePath) {
        if ty.qself.is_none() && !ty.path.segments.is_empty() {
            let last = ty.path.segments.len() - 1;
            self.try_path(&ty.path, last, true);
        }
        syn::visit::visit_type_path(self, ty);
    }

    fn visit_expr_path(&mut self, expr: &'a syn::ExprPath) {
        if expr.qself.is_none() {
            // `HashMap::new`, `std::sync::Arc::clone`: the type is one of the segments before
            // the last.
            for index in 0..expr.path.segments.len().saturating_sub(1) {
                if self.try_path(&expr.path, index, false) {
                    break;
                }
            }
        }
        syn::visit::visit_expr_path(self, expr);
    }

    fn visit_macro(&mut self, mac: &'a syn::Macro) {
        if let Some(args) = source::parse_macro_args(mac) {
            source::visit_macro_args(self, &args);
        }
    }
}

/// `type-aliases`.
pub(crate) fn type_aliases(source: &Source) -> Rewritten {
    let mut finder = Finder {
        scopes: Scopes::new(&source.file),
        fresh: Fresh::new(source),
        aliases: BTreeMap::new(),
        edits: Vec::new(),
        skipped: BTreeSet::new(),
    };
    finder.visit_file(&source.file);
    let mut edits = Edits::default();
    for (range, text) in &finder.edits {
        edits.replace(range.clone(), text.clone());
    }
    if edits.is_empty() {
        let nothing = "the fixture names none of the aliased library types";
        return functions::finish(source, edits, finder.skipped, nothing);
    }
    let mut declarations = String::new();
    for (canonical, alias) in &finder.aliases {
        let (_, arity, _) = ALIASED_TYPES
            .iter()
            .find(|(path, _, _)| path == canonical)
            .unwrap();
        let params = if *arity == 2 { "K, V" } else { "T" };
        declarations.push_str(&format!(
            "type {alias}<{params}> = {canonical}<{params}>;\n"
        ));
    }
    edits.insert(
        source.text.len(),
        format!(
            "{}\n{declarations}",
            if source.text.ends_with('\n') {
                ""
            } else {
                "\n"
            }
        ),
    );
    Rewritten::Variant(source.variant(&edits))
}
