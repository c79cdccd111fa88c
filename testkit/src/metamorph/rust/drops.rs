//! Rewrites of `Drop` bodies: the body moves into a free function, a method of a new trait
//! (called directly or through `&mut dyn`, with or without a second implementation of the
//! trait), or a closure handed to a helper. The body stays on its lines: the edit closes
//! `drop` and its `impl` right after `drop`'s `{` and opens the new function there, so the
//! old closing braces close the new function and its `impl`.

use std::collections::BTreeSet;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit::Visit;

use super::functions;
use super::source::{self, Edits, Fresh, Source, after_open_brace, at_close_brace, tokens_text};
use crate::metamorph::Rewritten;

/// One `impl Drop for T { fn drop(&mut self) { .. } }`.
struct DropSite<'a> {
    item: &'a syn::ItemImpl,
    block: &'a syn::Block,
}

impl DropSite<'_> {
    /// `impl<..>` generics, as written after `impl`.
    fn impl_generics(&self) -> String {
        tokens_text(&self.item.generics)
    }

    /// The `where` clause with a space before it, or nothing.
    fn where_clause(&self) -> String {
        self.item
            .generics
            .where_clause
            .as_ref()
            .map(|clause| format!(" {}", tokens_text(clause)))
            .unwrap_or_default()
    }

    fn self_ty(&self) -> String {
        tokens_text(&self.item.self_ty)
    }
}

fn drop_sites(file: &syn::File) -> Vec<DropSite<'_>> {
    #[derive(Default)]
    struct Finder<'a>(Vec<DropSite<'a>>);
    impl<'a> Visit<'a> for Finder<'a> {
        fn visit_item_impl(&mut self, item: &'a syn::ItemImpl) {
            let is_drop = item.trait_.as_ref().is_some_and(|(path, _)| {
                path.segments
                    .last()
                    .is_some_and(|segment| segment.ident == "Drop")
            });
            if is_drop {
                let drop_fn = item.items.iter().find_map(|impl_item| match impl_item {
                    syn::ImplItem::Fn(function) if function.sig.ident == "drop" => Some(function),
                    _ => None,
                });
                if let Some(drop_fn) = drop_fn {
                    self.0.push(DropSite {
                        item,
                        block: &drop_fn.block,
                    });
                }
            }
            syn::visit::visit_item_impl(self, item);
        }
    }
    let mut finder = Finder::default();
    finder.visit_file(file);
    finder.0
}

fn appended(source: &Source, items: &str) -> String {
    format!(
        "{}\n{items}",
        if source.text.ends_with('\n') {
            ""
        } else {
            "\n"
        }
    )
}

/// `drop-to-helper-fn`: the body of `drop` moves into a free function taking `this: &mut T`.
pub(crate) fn drop_to_helper_fn(source: &Source) -> Rewritten {
    let mut fresh = Fresh::new(source);
    let this = fresh.plain("this");
    let mut edits = Edits::default();
    let mut reasons = BTreeSet::new();
    for site in drop_sites(&source.file) {
        let self_ty = site.self_ty();
        // A body that does not use `self` gets a parameter it does not use either.
        let this = if count_ident(site.block.to_token_stream(), "self") == 0 {
            format!("_{this}")
        } else {
            this.clone()
        };
        let Some(body_edits) = self_to_this(site.block, &this, &site.item.self_ty) else {
            reasons.insert(format!(
                "the `Drop` of `{self_ty}` names `Self` or `self` where it cannot be spelled out"
            ));
            continue;
        };
        let helper = fresh.numbered("drop_helper");
        edits.insert(
            after_open_brace(site.block),
            format!(
                " {helper}(self) }} }} fn {helper}{}({this}: &mut {self_ty}){} {{",
                site.impl_generics(),
                site.where_clause()
            ),
        );
        for (range, text) in body_edits {
            edits.replace(range, text);
        }
        // The `impl`'s own `}` has nothing left to close: `drop`'s closes the helper.
        let impl_close = source::span_range(site.item.brace_token.span.close());
        edits.replace(impl_close, "");
    }
    functions::finish(source, edits, reasons, "no `Drop` impl")
}

/// The edits that turn a `drop` body into the body of a free function: `self` becomes
/// `this`, and `Self` the implementing type (with a turbofish where an expression names it).
/// `None` where a `Self` or `self` is in code whose syntax is not known (an unknown macro) or
/// where `Self` starts a longer type path.
fn self_to_this(
    block: &syn::Block,
    this: &str,
    self_ty: &syn::Type,
) -> Option<Vec<(std::ops::Range<usize>, String)>> {
    let mut edits = Vec::new();
    // `self` tokens, except in module paths (`self::x`).
    fn walk_self(
        tokens: TokenStream,
        this: &str,
        edits: &mut Vec<(std::ops::Range<usize>, String)>,
    ) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (index, token) in tokens.iter().enumerate() {
            match token {
                TokenTree::Ident(ident) if ident == "self" => {
                    let module_path = matches!(tokens.get(index + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':');
                    if !module_path {
                        edits.push((ident.span().byte_range(), this.to_owned()));
                    }
                }
                TokenTree::Group(group) => walk_self(group.stream(), this, edits),
                _ => {}
            }
        }
    }
    walk_self(block.to_token_stream(), this, &mut edits);

    let written = count_ident(block.to_token_stream(), "Self");
    if written == 0 {
        return Some(edits);
    }
    let syn::Type::Path(self_path) = self_ty else {
        return None;
    };
    let mut expression_path = self_path.clone();
    if let Some(last) = expression_path.path.segments.last_mut() {
        if let syn::PathArguments::AngleBracketed(args) = &mut last.arguments {
            args.colon2_token = Some(Default::default());
        }
    }
    let mut finder = SelfFinder {
        type_text: tokens_text(self_ty),
        expr_text: tokens_text(&expression_path),
        edits: Vec::new(),
    };
    finder.visit_block(block);
    if finder.edits.len() != written {
        return None;
    }
    edits.extend(finder.edits);
    Some(edits)
}

fn count_ident(tokens: TokenStream, name: &str) -> usize {
    tokens
        .into_iter()
        .map(|token| match token {
            TokenTree::Ident(ident) if ident == name => 1,
            TokenTree::Group(group) => count_ident(group.stream(), name),
            _ => 0,
        })
        .sum()
}

/// Finds every `Self` of a body where the syntax says what it is: a type (`Vec<Self>`), or
/// the first segment of an expression's or a pattern's path (`Self::new()`, `Self { .. }`).
struct SelfFinder {
    type_text: String,
    expr_text: String,
    edits: Vec<(std::ops::Range<usize>, String)>,
}

impl SelfFinder {
    fn path(&mut self, path: &syn::Path, type_position: bool) {
        let Some(first) = path.segments.first() else {
            return;
        };
        if first.ident != "Self" || path.leading_colon.is_some() {
            return;
        }
        if type_position && path.segments.len() > 1 {
            // `Self::Assoc` would need the trait spelled out.
            return;
        }
        let text = if type_position {
            &self.type_text
        } else {
            &self.expr_text
        };
        self.edits
            .push((source::range_of(&first.ident), text.clone()));
    }
}

impl<'a> Visit<'a> for SelfFinder {
    fn visit_type_path(&mut self, ty: &'a syn::TypePath) {
        if ty.qself.is_none() {
            self.path(&ty.path, true);
        }
        syn::visit::visit_type_path(self, ty);
    }

    fn visit_expr_path(&mut self, expr: &'a syn::ExprPath) {
        if expr.qself.is_none() {
            self.path(&expr.path, false);
        }
        syn::visit::visit_expr_path(self, expr);
    }

    fn visit_expr_struct(&mut self, expr: &'a syn::ExprStruct) {
        if expr.qself.is_none() {
            self.path(&expr.path, false);
        }
        syn::visit::visit_expr_struct(self, expr);
    }

    fn visit_pat_struct(&mut self, pat: &'a syn::PatStruct) {
        if pat.qself.is_none() {
            self.path(&pat.path, false);
        }
        syn::visit::visit_pat_struct(self, pat);
    }

    fn visit_pat_tuple_struct(&mut self, pat: &'a syn::PatTupleStruct) {
        if pat.qself.is_none() {
            self.path(&pat.path, false);
        }
        syn::visit::visit_pat_tuple_struct(self, pat);
    }

    fn visit_macro(&mut self, mac: &'a syn::Macro) {
        // The arguments live only here: visit them as a visitor of their own lifetime.
        if let Some(args) = source::parse_macro_args(mac) {
            source::visit_macro_args(self, &args);
        }
    }
}

/// The trait-based rewrites: how `drop` calls the new trait's method.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TraitCall {
    /// `crate::CleanupN::cleanup(self)`.
    Direct,
    /// `let this: &mut dyn CleanupN = self; this.cleanup();`.
    Dyn,
    /// As `Dyn`, with a second implementation of the trait used in `main`.
    DynWithSecondImpl,
}

/// `drop-to-trait-method`: the body moves into the method of a new trait.
pub(crate) fn drop_to_trait_method(source: &Source) -> Rewritten {
    drop_to_trait(source, TraitCall::Direct)
}

/// `drop-via-dyn`: as `drop-to-trait-method`, called through `&mut dyn`.
pub(crate) fn drop_via_dyn(source: &Source) -> Rewritten {
    drop_to_trait(source, TraitCall::Dyn)
}

/// `drop-via-dyn-2`: as `drop-via-dyn`, with a second implementation of the trait, which
/// `main` uses through a `&mut dyn` of its own.
pub(crate) fn drop_via_dyn_2(source: &Source) -> Rewritten {
    drop_to_trait(source, TraitCall::DynWithSecondImpl)
}

fn drop_to_trait(source: &Source, call: TraitCall) -> Rewritten {
    let mut fresh = Fresh::new(source);
    let method = fresh.plain("cleanup");
    let this = fresh.plain("this");
    let mut edits = Edits::default();
    let mut items = String::new();
    let mut main_calls = String::new();
    let main = source.file.items.iter().find_map(|item| match item {
        syn::Item::Fn(function) if function.sig.ident == "main" => Some(function),
        _ => None,
    });
    if call == TraitCall::DynWithSecondImpl && main.is_none() {
        return Rewritten::NotApplicable(
            "no `main` to use the trait's second implementation in".to_owned(),
        );
    }
    for site in drop_sites(&source.file) {
        let trait_name = fresh.numbered("Cleanup");
        let calls = match call {
            TraitCall::Direct => format!("crate::{trait_name}::{method}(self)"),
            TraitCall::Dyn | TraitCall::DynWithSecondImpl => {
                format!("let {this}: &mut dyn crate::{trait_name} = self; {this}.{method}();")
            }
        };
        edits.insert(
            after_open_brace(site.block),
            format!(
                " {calls} }} }} impl{} crate::{trait_name} for {}{} {{ fn {method}(&mut self) {{",
                site.impl_generics(),
                site.self_ty(),
                site.where_clause()
            ),
        );
        items.push_str(&format!(
            "trait {trait_name} {{\n    fn {method}(&mut self);\n}}\n"
        ));
        if call == TraitCall::DynWithSecondImpl {
            let noop = fresh.numbered("NoopCleanup");
            let noop_fn = fresh.numbered("noop_cleanup");
            let value = fresh.numbered("noop");
            items.push_str(&format!(
                "\nstruct {noop};\n\nimpl {trait_name} for {noop} {{\n    fn {method}(&mut self) {{}}\n}}\n\n\
                 fn {noop_fn}() {{\n    let mut {value} = {noop};\n    let {this}: &mut dyn {trait_name} = &mut {value};\n    {this}.{method}();\n}}\n"
            ));
            main_calls.push_str(&format!(" {noop_fn}();"));
        }
    }
    if edits.is_empty() {
        return Rewritten::NotApplicable("no `Drop` impl".to_owned());
    }
    if let Some(main) = main.filter(|_| !main_calls.is_empty()) {
        edits.insert(after_open_brace(&main.block), main_calls);
    }
    edits.insert(source.text.len(), appended(source, &items));
    Rewritten::Variant(source.variant(&edits))
}

/// `drop-to-closure`: the body of `drop` runs as a closure handed to a helper.
pub(crate) fn drop_to_closure(source: &Source) -> Rewritten {
    let mut fresh = Fresh::new(source);
    let helper = fresh.numbered("run_cleanup");
    let mut edits = Edits::default();
    for site in drop_sites(&source.file) {
        edits.insert(
            after_open_brace(site.block),
            format!(" crate::{helper}(|| {{"),
        );
        edits.insert(at_close_brace(site.block), "}) ");
    }
    if edits.is_empty() {
        return Rewritten::NotApplicable("no `Drop` impl".to_owned());
    }
    edits.insert(
        source.text.len(),
        appended(
            source,
            &format!("fn {helper}<F: FnOnce()>(f: F) {{\n    f()\n}}\n"),
        ),
    );
    Rewritten::Variant(source.variant(&edits))
}
