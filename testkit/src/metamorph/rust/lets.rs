//! Rewrites that route the value of every `let x = E;` through something before it reaches
//! `x`: a second binding, an `Option`, a tuple, a `match`, a block's tail, a struct's field.
//! The statement keeps its annotation and initializer and binds a fresh `tmpN` instead, so
//! that coercions, temporaries and their lifetime extension stay as they were; `tmpN` is then
//! moved into `x`, so nothing more is dropped and `x` is dropped where it was. All of it is
//! written on the line where the statement ends.

use std::collections::BTreeSet;

use syn::visit::Visit;

use super::functions;
use super::source::{self, Edits, Fresh, Source, tokens_text};
use crate::metamorph::Rewritten;

/// How the value travels from `tmpN` to `x`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Rebinding,
    Option,
    Tuple,
    Match,
    BlockTail,
    StructField,
}

/// One `let` with a plain identifier pattern and an initializer.
struct LetSite {
    /// The pattern's binding (`mut x`), replaced by `tmpN`.
    binding: std::ops::Range<usize>,
    /// Just past the statement's `;`.
    end: usize,
    name: String,
    mutable: bool,
    /// The statement's attributes, as written, for the new binding too.
    attrs: String,
}

fn let_sites(file: &syn::File) -> (Vec<LetSite>, BTreeSet<String>) {
    #[derive(Default)]
    struct Finder {
        sites: Vec<LetSite>,
        skipped: BTreeSet<String>,
    }
    impl<'a> Visit<'a> for Finder {
        fn visit_local(&mut self, local: &'a syn::Local) {
            syn::visit::visit_local(self, local);
            let Some(init) = &local.init else {
                return;
            };
            let pat = match &local.pat {
                syn::Pat::Type(typed) => &*typed.pat,
                pat => pat,
            };
            let syn::Pat::Ident(ident) = pat else {
                return;
            };
            if init.diverge.is_some() {
                return;
            }
            if ident.by_ref.is_some() || ident.subpat.is_some() {
                self.skipped.insert(format!(
                    "`let {}` binds by reference or with `@`, which a move would change",
                    tokens_text(ident)
                ));
                return;
            }
            self.sites.push(LetSite {
                binding: source::range_of(ident),
                end: source::range_of(&local.semi_token).end,
                name: ident.ident.to_string(),
                mutable: ident.mutability.is_some(),
                attrs: local
                    .attrs
                    .iter()
                    .map(|attr| format!("{} ", tokens_text(attr)))
                    .collect(),
            });
        }

        fn visit_macro(&mut self, mac: &'a syn::Macro) {
            if let Some(args) = source::parse_macro_args(mac) {
                source::visit_macro_args(self, &args);
            }
        }
    }
    let mut finder = Finder::default();
    finder.visit_file(file);
    // Numbers follow the text, macro bodies included.
    finder.sites.sort_by_key(|site| site.binding.start);
    (finder.sites, finder.skipped)
}

/// Routes every `let`'s value as `route` says.
pub(crate) fn route_lets(source: &Source, route: Route) -> Rewritten {
    let (sites, skipped) = let_sites(&source.file);
    let mut fresh = Fresh::new(source);
    let holder = (route == Route::StructField).then(|| fresh.numbered("FieldHolder"));
    let value = (route == Route::Match).then(|| fresh.plain("value"));
    let mut edits = Edits::default();
    for site in &sites {
        let tmp = fresh.numbered("tmp");
        let mutability = if site.mutable { "mut " } else { "" };
        let binding = format!("{}{mutability}{}", site.attrs, site.name);
        let statement = match route {
            Route::Rebinding => format!("let {binding} = {tmp};"),
            Route::Option => format!("let {binding} = Some({tmp}).unwrap();"),
            Route::Tuple => {
                let pair = fresh.numbered("pair");
                format!("let {pair} = ({tmp}, ()); let {binding} = {pair}.0;")
            }
            Route::Match => {
                let value = value.as_deref().unwrap();
                format!(
                    "let {binding} = match Some({tmp}) {{ Some({value}) => {value}, None => unreachable!() }};"
                )
            }
            Route::BlockTail => {
                let inner = fresh.numbered("inner");
                format!("let {binding} = {{ let {inner} = {tmp}; {inner} }};")
            }
            Route::StructField => {
                let holder = holder.as_deref().unwrap();
                format!("let {binding} = crate::{holder} {{ inner: {tmp} }}.inner;")
            }
        };
        edits.replace(site.binding.clone(), tmp);
        edits.insert(site.end, format!(" {statement}"));
    }
    if edits.is_empty() {
        let mut reasons = skipped;
        if reasons.is_empty() {
            reasons.insert("no `let` binds a plain identifier with an initializer".to_owned());
        }
        return functions::finish(source, edits, reasons, "");
    }
    if let Some(holder) = holder {
        edits.insert(
            source.text.len(),
            format!(
                "{}\nstruct {holder}<T> {{\n    inner: T,\n}}\n",
                if source.text.ends_with('\n') {
                    ""
                } else {
                    "\n"
                }
            ),
        );
    }
    Rewritten::Variant(source.variant(&edits))
}
