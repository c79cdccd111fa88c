//! `other-module`: every item of the crate root but `fn main` (and what must stay at the root:
//! `macro_rules!`, `extern crate`, `#[path]` modules, `use` items) moves into `mod helpers;`
//! in `helpers.rs`. Items move by whole lines, with the comments above them and their markers.
//! What `main.rs` and other modules reach of the moved items becomes `pub(crate)`; `main.rs`
//! imports the names it uses, and `helpers.rs` gets the root's `use` items, their crate paths
//! pointed at where the items now are.

use std::collections::BTreeSet;
use std::ops::Range;

use super::resolve::{self, UseLeaf};
use super::source::{self, Edits, MacroArgs, Source};
use crate::metamorph::{Rewritten, VariantFile};

/// Whether an item stays in the crate root.
fn stays_at_root(item: &syn::Item) -> bool {
    match item {
        syn::Item::Fn(function) => function.sig.ident == "main",
        syn::Item::ExternCrate(_) | syn::Item::Use(_) => true,
        syn::Item::Macro(item_macro) => item_macro.ident.is_some(),
        syn::Item::Mod(module) => module.content.is_none(),
        _ => false,
    }
}

/// Makes a declaration with visibility `vis` that starts (past its attributes) at `at`
/// visible to the whole crate. `None` for `pub(in path)`, whose path the move changes.
fn crate_visible(vis: &syn::Visibility, at: usize, edits: &mut Edits) -> Option<()> {
    match vis {
        syn::Visibility::Inherited => edits.insert(at, "pub(crate) "),
        syn::Visibility::Public(_) => {}
        syn::Visibility::Restricted(restricted) => {
            match (
                restricted.in_token.is_some(),
                source::tokens_text(&restricted.path).as_str(),
            ) {
                (false, "crate") => {}
                (false, "self") => edits.replace(source::range_of(restricted), "pub(crate)"),
                _ => return None,
            }
        }
    }
    Some(())
}

/// Edits that make an item, and what other modules reach of it, visible to the whole crate.
/// `None` when the item has a visibility the move would break (`pub(in path)`) or defines
/// names in a macro whose syntax is not known.
fn widen(item: &syn::Item, edits: &mut Edits) -> Option<()> {
    let mut make_crate_visible =
        |vis: &syn::Visibility, first: Range<usize>| crate_visible(vis, first.start, edits);
    match item {
        syn::Item::Const(item) => {
            make_crate_visible(&item.vis, source::range_of(&item.const_token))?
        }
        syn::Item::Enum(item) => make_crate_visible(&item.vis, source::range_of(&item.enum_token))?,
        syn::Item::Fn(item) => make_crate_visible(&item.vis, signature_start(&item.sig))?,
        syn::Item::Static(item) => {
            make_crate_visible(&item.vis, source::range_of(&item.static_token))?
        }
        syn::Item::Trait(item) => {
            let start = item
                .unsafety
                .as_ref()
                .map(source::range_of)
                .unwrap_or_else(|| source::range_of(&item.trait_token));
            make_crate_visible(&item.vis, start)?
        }
        syn::Item::Type(item) => make_crate_visible(&item.vis, source::range_of(&item.type_token))?,
        syn::Item::Union(item) => {
            make_crate_visible(&item.vis, source::range_of(&item.union_token))?;
            for field in &item.fields.named {
                make_crate_visible(&field.vis, field_start(field))?;
            }
        }
        syn::Item::Struct(item) => {
            make_crate_visible(&item.vis, source::range_of(&item.struct_token))?;
            for field in &item.fields {
                make_crate_visible(&field.vis, field_start(field))?;
            }
        }
        syn::Item::Impl(item) if item.trait_.is_none() => {
            for impl_item in &item.items {
                match impl_item {
                    syn::ImplItem::Fn(function) => {
                        make_crate_visible(&function.vis, signature_start(&function.sig))?
                    }
                    syn::ImplItem::Const(constant) => {
                        make_crate_visible(&constant.vis, source::range_of(&constant.const_token))?
                    }
                    syn::ImplItem::Type(ty) => {
                        make_crate_visible(&ty.vis, source::range_of(&ty.type_token))?
                    }
                    _ => {}
                }
            }
        }
        syn::Item::Mod(module) => {
            make_crate_visible(&module.vis, source::range_of(&module.mod_token))?;
            // What the module showed its parent, the root, it must now show the crate.
            for inner in &module.content.as_ref()?.1 {
                if let Some(syn::Visibility::Restricted(restricted)) = item_visibility(inner) {
                    if restricted.in_token.is_none()
                        && source::tokens_text(&restricted.path) == "super"
                    {
                        edits.replace(source::range_of(restricted), "pub(crate)");
                    }
                }
            }
        }
        syn::Item::Macro(item_macro) => {
            let Some(MacroArgs::ThreadLocal(statics)) = source::parse_macro_args(&item_macro.mac)
            else {
                return None;
            };
            for local in &statics {
                make_crate_visible(&local.vis, source::range_of(&local.static_token))?;
            }
        }
        syn::Item::ForeignMod(_) | syn::Item::TraitAlias(_) | syn::Item::Verbatim(_) => {
            return None;
        }
        _ => {}
    }
    Some(())
}

fn signature_start(sig: &syn::Signature) -> Range<usize> {
    if let Some(constness) = &sig.constness {
        return source::range_of(constness);
    }
    if let Some(asyncness) = &sig.asyncness {
        return source::range_of(asyncness);
    }
    if let syn::Safety::Unsafe(unsafety) = &sig.safety {
        return source::range_of(unsafety);
    }
    if let Some(abi) = &sig.abi {
        return source::range_of(abi);
    }
    source::range_of(&sig.fn_token)
}

fn field_start(field: &syn::Field) -> Range<usize> {
    match &field.ident {
        Some(ident) => source::range_of(ident),
        None => source::range_of(&field.ty),
    }
}

fn item_visibility(item: &syn::Item) -> Option<&syn::Visibility> {
    Some(match item {
        syn::Item::Const(item) => &item.vis,
        syn::Item::Enum(item) => &item.vis,
        syn::Item::Fn(item) => &item.vis,
        syn::Item::Mod(item) => &item.vis,
        syn::Item::Static(item) => &item.vis,
        syn::Item::Struct(item) => &item.vis,
        syn::Item::Trait(item) => &item.vis,
        syn::Item::Type(item) => &item.vis,
        syn::Item::Union(item) => &item.vis,
        syn::Item::Use(item) => &item.vis,
        _ => return None,
    })
}

/// A `use` leaf written as an absolute path, for a file where the crate root's relative
/// paths no longer hold: what moved is under `crate::helpers`, what stayed (`#[path]` modules,
/// `stayed`) under `crate`, and other crates' paths are as they were.
fn absolute_leaf(leaf: &UseLeaf, moved: &BTreeSet<String>, stayed: &BTreeSet<String>) -> String {
    let mut path = if leaf.glob {
        leaf.prefix.clone()
    } else {
        leaf.full_path()
    };
    let root = path.first().cloned().unwrap_or_default();
    if root == "crate" || root == "self" {
        path.remove(0);
    } else if !moved.contains(&root) && !stayed.contains(&root) {
        return leaf_statement(&path, leaf);
    }
    if path.first().is_some_and(|first| moved.contains(first)) {
        path.insert(0, "helpers".to_owned());
    }
    path.insert(0, "crate".to_owned());
    leaf_statement(&path, leaf)
}

fn leaf_statement(path: &[String], leaf: &UseLeaf) -> String {
    let joined = path.join("::");
    if leaf.glob {
        format!("use {joined}::*;")
    } else if path.last() != Some(&leaf.visible) {
        format!("use {joined} as {};", leaf.visible)
    } else {
        format!("use {joined};")
    }
}

/// `other-module`.
pub(crate) fn other_module(source: &Source) -> Rewritten {
    let items = &source.file.items;
    if !items.iter().any(|item| !stays_at_root(item)) {
        return Rewritten::NotApplicable("no item but `main` to move".to_owned());
    }
    let moved: BTreeSet<String> = items
        .iter()
        .filter(|item| !stays_at_root(item))
        .flat_map(|item| match item {
            syn::Item::Macro(item_macro) => match source::parse_macro_args(&item_macro.mac) {
                Some(MacroArgs::ThreadLocal(statics)) => statics
                    .iter()
                    .map(|local| local.ident.to_string())
                    .collect(),
                _ => Vec::new(),
            },
            other => resolve::item_name(other).into_iter().collect(),
        })
        .collect();
    let stayed: BTreeSet<String> = items
        .iter()
        .filter(|item| matches!(item, syn::Item::Mod(_)) && stays_at_root(item))
        .filter_map(resolve::item_name)
        .collect();
    let mut edits = Edits::default();
    for item in items.iter().filter(|item| !stays_at_root(item)) {
        if widen(item, &mut edits).is_none() {
            return Rewritten::NotApplicable(format!(
                "`{}` has a visibility or a macro body the move cannot carry over",
                resolve::item_name(item).unwrap_or_else(|| "an item".to_owned())
            ));
        }
    }

    // Each item owns its lines, with the comments and blank lines above it; what comes before
    // the first item (the headers) stays at the top of `main.rs`.
    let mut chunks: Vec<(Range<usize>, bool)> = Vec::new();
    let mut previous_end = None;
    for item in items {
        let range = source::range_of(item);
        let start = match previous_end {
            Some(end) => end,
            None => source.line_start(range.start),
        };
        if start > range.start {
            return Rewritten::NotApplicable(
                "two items share a line, which a move by whole lines cannot split".to_owned(),
            );
        }
        let end = source.line_end(range.end);
        chunks.push((start..end, stays_at_root(item)));
        previous_end = Some(end);
    }
    let header_end = chunks[0].0.start;
    let tail_start = previous_end.unwrap();

    // Names that code outside `helpers` reaches: those `main` and the other items that stay
    // use, the moved traits (for their methods), and what `crate::NAME` paths and `#[path]`
    // modules name.
    let mut reached: BTreeSet<String> = BTreeSet::new();
    for item in items
        .iter()
        .filter(|item| stays_at_root(item) && !matches!(item, syn::Item::Use(_)))
    {
        reached.extend(source::idents_of(item));
    }
    for module in &source.path_modules {
        if let Ok(file) = syn::parse_file(&module.text) {
            reached.extend(source::idents_of(&file));
        }
    }
    reached.extend(crate_paths(&source.file));
    for item in items {
        if let syn::Item::Trait(item_trait) = item {
            reached.insert(item_trait.ident.to_string());
        }
    }
    let imported: Vec<&String> = moved
        .iter()
        .filter(|name| reached.contains(*name))
        .collect();

    let mut main_text = String::new();
    let mut helpers_text = String::new();
    main_text.push_str(&source.text[..header_end]);
    let uses: Vec<UseLeaf> = items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Use(item_use) => Some(resolve::use_leaves(&item_use.tree)),
            _ => None,
        })
        .flatten()
        .collect();
    for leaf in &uses {
        helpers_text.push_str(&absolute_leaf(leaf, &moved, &stayed));
        helpers_text.push('\n');
    }
    // What stays at the root and the moved code may name: `#[path]` modules.
    for item in items {
        if let syn::Item::Mod(module) = item {
            if module.content.is_none() {
                helpers_text.push_str(&format!("use crate::{};\n", module.ident));
            }
        }
    }
    let edited = |range: Range<usize>| edits.apply_within(&source.text, range);
    for (index, (range, stays)) in chunks.iter().enumerate() {
        // The headers and the comments above the first item stay at the top of `main.rs`.
        let range = if index == 0 {
            header_end..range.end
        } else {
            range.clone()
        };
        let item = &items[index];
        if *stays {
            let text = match item {
                syn::Item::Use(item_use) if use_needs_rewrite(item_use, &moved) => {
                    let leaves = resolve::use_leaves(&item_use.tree);
                    let item_range = source::range_of(item_use);
                    let mut text = source.text[range.start..item_range.start].to_owned();
                    text.push_str(
                        &leaves
                            .iter()
                            .map(|leaf| absolute_leaf(leaf, &moved, &stayed))
                            .collect::<Vec<_>>()
                            .join(" "),
                    );
                    text.push_str(&source.text[item_range.end..range.end]);
                    text
                }
                _ => edited(range),
            };
            main_text.push_str(&text);
        } else {
            if !helpers_text.ends_with("\n\n") {
                helpers_text.push('\n');
            }
            helpers_text.push_str(edited(range).trim_start_matches('\n'));
        }
    }
    main_text.push_str(&source.text[tail_start..]);
    if !main_text.ends_with('\n') {
        main_text.push('\n');
    }
    main_text.push_str("\nmod helpers;\n");
    if !imported.is_empty() {
        main_text.push_str(&format!(
            "use crate::helpers::{{{}}};\n",
            imported
                .iter()
                .map(|name| name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut files = vec![
        VariantFile {
            path: "main.rs".to_owned(),
            text: main_text,
        },
        VariantFile {
            path: "helpers.rs".to_owned(),
            text: format!(
                "//! The fixture's items, moved out of the crate root.\n\n{helpers_text}"
            ),
        },
    ];
    files.extend(source.path_modules.iter().cloned());
    Rewritten::Variant(files)
}

/// Whether a root `use` item names a moved item by a relative path.
fn use_needs_rewrite(item_use: &syn::ItemUse, moved: &BTreeSet<String>) -> bool {
    resolve::use_leaves(&item_use.tree).iter().any(|leaf| {
        let path = if leaf.glob {
            leaf.prefix.clone()
        } else {
            leaf.full_path()
        };
        match path.first().map(String::as_str) {
            Some("self" | "crate") => path.get(1).is_some_and(|name| moved.contains(name)),
            Some(root) => moved.contains(root),
            None => false,
        }
    })
}

/// The names that follow `crate::` anywhere in the file.
fn crate_paths(file: &syn::File) -> BTreeSet<String> {
    fn walk(tokens: proc_macro2::TokenStream, names: &mut BTreeSet<String>) {
        let tokens: Vec<proc_macro2::TokenTree> = tokens.into_iter().collect();
        for (index, token) in tokens.iter().enumerate() {
            match token {
                proc_macro2::TokenTree::Ident(ident) if ident == "crate" => {
                    if let Some(proc_macro2::TokenTree::Ident(next)) = tokens.get(index + 3) {
                        names.insert(next.to_string());
                    }
                }
                proc_macro2::TokenTree::Group(group) => walk(group.stream(), names),
                _ => {}
            }
        }
    }
    let mut names = BTreeSet::new();
    walk(quote::ToTokens::to_token_stream(file), &mut names);
    names
}
