//! Rewrites of imports: explicit imports from the standard library become glob imports of the
//! same modules (`glob-std`), and a glob import of another crate that exports names like std's
//! is added to every module (`glob-foreign`). Both must leave every name the program uses
//! resolving to what it did: an item of the module or an explicit import beats a glob, a glob
//! beats the prelude (so a glob must not bring a different item of a prelude name that the
//! program uses, like `std::thread::Result`), and two globs that bring different items of one
//! used name make it ambiguous.

use std::collections::{BTreeMap, BTreeSet};

use super::functions;
use super::resolve::{self, Module, UseLeaf, std_exports};
use super::source::{self, Edits, Source, tokens_text};
use crate::metamorph::Rewritten;

/// What `tokio::sync` exports (tokio 1.54): the crate `glob-foreign` imports from, which has a
/// `Mutex` and a `RwLock` of its own.
const TOKIO_SYNC_EXPORTS: &[&str] = &[
    "AcquireError",
    "Barrier",
    "BarrierWaitResult",
    "MappedMutexGuard",
    "Mutex",
    "MutexGuard",
    "Notify",
    "OnceCell",
    "OwnedMappedMutexGuard",
    "OwnedMutexGuard",
    "OwnedRwLockMappedWriteGuard",
    "OwnedRwLockReadGuard",
    "OwnedRwLockWriteGuard",
    "OwnedSemaphorePermit",
    "RwLock",
    "RwLockMappedWriteGuard",
    "RwLockReadGuard",
    "RwLockWriteGuard",
    "Semaphore",
    "SemaphorePermit",
    "SetError",
    "SetOnce",
    "SetOnceError",
    "TryAcquireError",
    "TryLockError",
    "broadcast",
    "futures",
    "mpsc",
    "oneshot",
    "watch",
];

/// The names of the prelude, each with the module whose item it is: a glob of that module
/// brings the same item and changes nothing.
fn prelude_module(name: &str, edition_2024: bool) -> Option<&'static str> {
    let module = match name {
        "Copy" | "Send" | "Sized" | "Sync" | "Unpin" => "std::marker",
        "Drop" | "Fn" | "FnMut" | "FnOnce" | "AsyncFn" | "AsyncFnMut" | "AsyncFnOnce" => "std::ops",
        "drop" | "size_of" | "size_of_val" | "align_of" | "align_of_val" => "std::mem",
        "Box" => "std::boxed",
        "ToOwned" => "std::borrow",
        "Clone" => "std::clone",
        "PartialEq" | "PartialOrd" | "Eq" | "Ord" => "std::cmp",
        "AsRef" | "AsMut" | "Into" | "From" | "TryFrom" | "TryInto" => "std::convert",
        "Default" => "std::default",
        "Iterator"
        | "Extend"
        | "IntoIterator"
        | "DoubleEndedIterator"
        | "ExactSizeIterator"
        | "FromIterator" => "std::iter",
        "Option" | "Some" | "None" => "std::option",
        "Result" | "Ok" | "Err" => "std::result",
        "String" | "ToString" => "std::string",
        "Vec" => "std::vec",
        "Debug" => "std::fmt",
        "Hash" => "std::hash",
        "Future" | "IntoFuture" if edition_2024 => "std::future",
        _ => return None,
    };
    Some(module)
}

/// Whether two std paths that export one name export the same item: a module re-exports what
/// its submodules define (`std::collections::HashMap` is `hash_map::HashMap`, `std::sync::Mutex`
/// is `poison::Mutex`), and an enum's variants are what its module's glob of it brings.
fn same_std_item(first: &[String], second: &[String]) -> bool {
    let normalize = |path: &[String]| -> Vec<String> {
        let mut path: Vec<String> = path.to_vec();
        if let Some(root) = path
            .first_mut()
            .filter(|root| *root == "core" || *root == "alloc")
        {
            *root = "std".to_owned();
        }
        path
    };
    let (first, second) = (normalize(first), normalize(second));
    let nested = |outer: &[String], inner: &[String]| {
        inner.len() == outer.len() + 1
            && inner.starts_with(outer)
            && matches!(outer.join("::").as_str(), "std::collections" | "std::sync")
            && !matches!(
                inner.last().map(String::as_str),
                Some("mpmc" | "nonpoison" | "oneshot")
            )
    };
    first == second || nested(&first, &second) || nested(&second, &first)
}

/// Who provides a name through the globs of a module.
enum Provider<'p> {
    /// A glob of a module whose exports are known, with its path.
    Known(&'p [String]),
    /// A glob of a module whose exports are not known: it may or may not.
    Unknown,
}

/// The globs of a module that may provide `name`.
fn providers<'p>(globs: &'p [Vec<String>], name: &str) -> Vec<Provider<'p>> {
    globs
        .iter()
        .filter_map(|glob| {
            if glob.first().map(String::as_str) == Some("tokio")
                && glob.get(1).map(String::as_str) == Some("sync")
                && glob.len() == 2
            {
                return TOKIO_SYNC_EXPORTS
                    .contains(&name)
                    .then_some(Provider::Known(glob.as_slice()));
            }
            match std_exports(glob) {
                Some(exports) => exports
                    .contains(&name)
                    .then_some(Provider::Known(glob.as_slice())),
                None => Some(Provider::Unknown),
            }
        })
        .collect()
}

/// Why the globs of a module (`globs`, with `new_globs` among them) would change what a name
/// the module uses resolves to, or `None`. `explicit` are the names the module defines or
/// imports explicitly after the rewrite, which no glob can change; `converted` the names that
/// were imported explicitly before, with the module they came from, which must now come from
/// a glob of the same item (and may then shadow the prelude, as their import did).
fn glob_conflict(
    module: &Module<'_>,
    explicit: &BTreeSet<String>,
    converted: &BTreeMap<String, Vec<String>>,
    globs: &[Vec<String>],
    new_globs: &[Vec<String>],
    edition_2024: bool,
) -> Option<String> {
    let used = source::idents_of(&ItemsTokens(module.items));
    for name in used.difference(explicit) {
        let found = providers(globs, name);
        let new: Vec<&[String]> = found
            .iter()
            .filter_map(|provider| match provider {
                Provider::Known(path) if new_globs.iter().any(|glob| glob.as_slice() == *path) => {
                    Some(*path)
                }
                _ => None,
            })
            .collect();
        if new.is_empty() && !converted.contains_key(name) {
            continue;
        }
        if found
            .iter()
            .any(|provider| matches!(provider, Provider::Unknown))
        {
            return Some(format!(
                "`{name}` could also come from a glob import of unknown exports"
            ));
        }
        let known: Vec<&[String]> = found
            .iter()
            .filter_map(|provider| match provider {
                Provider::Known(path) => Some(*path),
                Provider::Unknown => None,
            })
            .collect();
        let Some(first) = known.first() else {
            return Some(format!("`{name}` would come from no glob import"));
        };
        if known.iter().any(|path| !same_std_item(path, first)) {
            return Some(format!(
                "`{name}` would come from two glob imports ({})",
                known
                    .iter()
                    .map(|path| format!("{}::*", path.join("::")))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(origin) = converted.get(name) {
            if !same_std_item(first, origin) {
                return Some(format!(
                    "`{name}` would come from `{}::*`, not from `{}`",
                    first.join("::"),
                    origin.join("::")
                ));
            }
            continue;
        }
        if let Some(prelude) = prelude_module(name, edition_2024) {
            let prelude: Vec<String> = prelude.split("::").map(str::to_owned).collect();
            let enum_of_prelude =
                |path: &[String]| path.len() == prelude.len() + 1 && path.starts_with(&prelude);
            if !known
                .iter()
                .all(|path| same_std_item(path, &prelude) || enum_of_prelude(path))
            {
                return Some(format!(
                    "`{}::*` would shadow the prelude's `{name}`",
                    new[0].join("::")
                ));
            }
        }
    }
    None
}

/// The tokens of a module's items, for the names it uses.
struct ItemsTokens<'a>(&'a [syn::Item]);

impl quote::ToTokens for ItemsTokens<'_> {
    fn to_tokens(&self, tokens: &mut proc_macro2::TokenStream) {
        for item in self.0 {
            item.to_tokens(tokens);
        }
    }
}

/// The path of a leaf as written, for a `use` item of its own.
fn leaf_text(leaf: &UseLeaf, leading_colon: bool) -> String {
    let colon = if leading_colon { "::" } else { "" };
    let path = leaf.full_path().join("::");
    if leaf.visible != leaf.name && leaf.name != "self" {
        format!("{colon}{path} as {}", leaf.visible)
    } else {
        format!("{colon}{path}")
    }
}

/// `glob-std`: `use std::sync::{Arc, Mutex};` becomes `use std::sync::*;`, in every module
/// where no used name changes its meaning.
pub(crate) fn glob_std(source: &Source) -> Rewritten {
    let mut edits = Edits::default();
    let mut reasons = BTreeSet::new();
    for module in resolve::modules(&source.file) {
        let mut module_edits = Vec::new();
        let mut converted: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut new_globs: Vec<Vec<String>> = Vec::new();
        for item in module.items {
            let syn::Item::Use(item_use) = item else {
                continue;
            };
            if !matches!(item_use.vis, syn::Visibility::Inherited) {
                continue;
            }
            let leaves = resolve::use_leaves(&item_use.tree);
            let mut globs_here: Vec<Vec<String>> = Vec::new();
            let mut kept: Vec<&UseLeaf> = Vec::new();
            for leaf in &leaves {
                let globbable = !leaf.glob
                    && leaf.name != "self"
                    && leaf.visible == leaf.name
                    && std_exports(&leaf.prefix)
                        .is_some_and(|exports| exports.contains(&leaf.name.as_str()));
                if globbable {
                    converted.insert(leaf.visible.clone(), leaf.prefix.clone());
                    if !globs_here.contains(&leaf.prefix) {
                        globs_here.push(leaf.prefix.clone());
                    }
                } else {
                    kept.push(leaf);
                }
            }
            if globs_here.is_empty() {
                continue;
            }
            let attrs: String = item_use
                .attrs
                .iter()
                .map(|attr| format!("{} ", tokens_text(attr)))
                .collect();
            let colon = item_use.leading_colon.is_some();
            let mut text: Vec<String> = globs_here
                .iter()
                .map(|glob| {
                    format!(
                        "{attrs}use {}{}::*;",
                        if colon { "::" } else { "" },
                        glob.join("::")
                    )
                })
                .collect();
            text.extend(
                kept.iter()
                    .map(|leaf| format!("{attrs}use {};", leaf_text(leaf, colon))),
            );
            module_edits.push((source::range_of(item_use), text.join(" ")));
            new_globs.extend(globs_here);
        }
        if module_edits.is_empty() {
            continue;
        }
        let mut explicit: BTreeSet<String> = module
            .explicit_imports()
            .into_iter()
            .filter(|name| !converted.contains_key(name))
            .collect();
        explicit.extend(module.defined.iter().cloned());
        let mut globs: Vec<Vec<String>> = module
            .globs()
            .iter()
            .map(|leaf| leaf.prefix.clone())
            .collect();
        globs.extend(new_globs.iter().cloned());
        if let Some(conflict) = glob_conflict(
            &module,
            &explicit,
            &converted,
            &globs,
            &new_globs,
            source.edition_2024,
        ) {
            reasons.insert(format!("in {}: {conflict}", module_name(&module)));
            continue;
        }
        for (range, text) in module_edits {
            edits.replace(range, text);
        }
    }
    functions::finish(
        source,
        edits,
        reasons,
        "no explicit import from the standard library",
    )
}

fn module_name(module: &Module<'_>) -> String {
    if module.path.is_empty() {
        "the crate root".to_owned()
    } else {
        format!("module `{}`", module.path.join("::"))
    }
}

/// `glob-foreign`: `use tokio::sync::*;` in the crate root and every inline module where no
/// used name changes its meaning.
pub(crate) fn glob_foreign(source: &Source) -> Rewritten {
    let import = "use tokio::sync::*;";
    let tokio_sync = vec!["tokio".to_owned(), "sync".to_owned()];
    let mut edits = Edits::default();
    let mut reasons = BTreeSet::new();
    for module in resolve::modules(&source.file) {
        let mut explicit = module.explicit_imports();
        explicit.extend(module.defined.iter().cloned());
        let mut globs: Vec<Vec<String>> = module
            .globs()
            .iter()
            .map(|leaf| leaf.prefix.clone())
            .collect();
        if globs.contains(&tokio_sync) {
            reasons.insert(format!(
                "{} already imports `tokio::sync::*`",
                module_name(&module)
            ));
            continue;
        }
        globs.push(tokio_sync.clone());
        if let Some(conflict) = glob_conflict(
            &module,
            &explicit,
            &BTreeMap::new(),
            &globs,
            std::slice::from_ref(&tokio_sync),
            source.edition_2024,
        ) {
            reasons.insert(format!("in {}: {conflict}", module_name(&module)));
            continue;
        }
        match module.item {
            // On the line of the module's `{`: no line moves.
            Some(item) => {
                let (brace, _) = item.content.as_ref().unwrap();
                edits.insert(
                    source::span_range(brace.span.open()).end,
                    format!(" {import}"),
                );
            }
            None => edits.insert(
                source.text.len(),
                format!(
                    "{}\n{import}\n",
                    if source.text.ends_with('\n') {
                        ""
                    } else {
                        "\n"
                    }
                ),
            ),
        }
    }
    functions::finish(source, edits, reasons, "no module")
}
