//! Lowering of items: modules, `use`, data types, aliases, statics, impls, traits, functions,
//! and item macros (`thread_local!`, `lazy_static!`, and `cfg`-style macros wrapping items).

use syn::{Attribute, Fields, ImplItem, Item, TraitItem, UseTree};

use super::FileCx;
use super::body::{FnSource, lower_function};
use super::macros::{self, StaticDecl};
use super::types::{generic_names, path_expr, sym, type_expr};
use crate::model::facts::{
    AdtFact, AdtKind, AliasFact, FieldFact, FnKind, ImplFact, ImplIdx, InlineModule, ModDecl,
    ModIdx, SelfKind, StaticFact, StaticKind, Sym, TraitFact, UseFact,
};

/// What enclosing items say about the items inside.
#[derive(Clone, Copy, Default)]
pub(crate) struct ItemContext {
    /// Inside `#[cfg(test)]`.
    pub(crate) in_test: bool,
}

pub(crate) fn is_test_attribute(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let path = attr.path();
        let last = path
            .segments
            .last()
            .map(|segment| segment.ident.to_string())
            .unwrap_or_default();
        if last == "test" {
            return true;
        }
        if path.is_ident("cfg") {
            if let syn::Meta::List(list) = &attr.meta {
                let text = list.tokens.to_string();
                return text == "test"
                    || text.starts_with("test ")
                    || text.contains("(test)")
                    || text.contains("test,");
            }
        }
        false
    })
}

fn path_attribute(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| {
        if !attr.path().is_ident("path") {
            return None;
        }
        match &attr.meta {
            syn::Meta::NameValue(name_value) => match &name_value.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }) => Some(text.value()),
                _ => None,
            },
            _ => None,
        }
    })
}

impl FileCx<'_> {
    pub(crate) fn lower_items(&mut self, items: &[Item], module: ModIdx, context: ItemContext) {
        for item in items {
            if self.is_configured_out(item_attributes(item)) {
                // A `mod name;` left out is still recorded, so that its file is not taken
                // for a module no declaration reached: the module tree leaves it out.
                if let Item::Mod(declaration) = item {
                    if declaration.content.is_none() {
                        self.facts.mod_decls.push(ModDecl {
                            parent: module,
                            name: sym(&declaration.ident),
                            path_attribute: path_attribute(&declaration.attrs),
                            is_test: context.in_test || is_test_attribute(&declaration.attrs),
                            configured_out: true,
                        });
                    }
                }
                continue;
            }
            self.lower_item(item, module, context);
        }
    }

    fn lower_item(&mut self, item: &Item, module: ModIdx, context: ItemContext) {
        match item {
            Item::Fn(function) => {
                self.push_test_region(&function.attrs, function.block.brace_token.span.close());
                let in_test = context.in_test || is_test_attribute(&function.attrs);
                lower_function(
                    self,
                    FnSource::Item(function),
                    module,
                    FnKind::Free,
                    None,
                    in_test,
                );
            }
            Item::Impl(block) => self.lower_impl(block, module, context),
            Item::Struct(item) => {
                let fields = self.lower_fields(&item.fields);
                self.push_adt(module, &item.ident, AdtKind::Struct, &item.generics, fields);
            }
            Item::Enum(item) => {
                let fields = item
                    .variants
                    .iter()
                    .filter(|variant| !self.is_configured_out(&variant.attrs))
                    .flat_map(|variant| self.lower_fields(&variant.fields))
                    .collect();
                self.push_adt(module, &item.ident, AdtKind::Enum, &item.generics, fields);
            }
            Item::Union(item) => {
                let fields = item
                    .fields
                    .named
                    .iter()
                    .filter(|field| !self.is_configured_out(&field.attrs))
                    .filter_map(|field| {
                        Some(FieldFact {
                            name: sym(field.ident.as_ref()?),
                            ty: type_expr(&field.ty),
                            embedded: false,
                        })
                    })
                    .collect();
                self.push_adt(module, &item.ident, AdtKind::Union, &item.generics, fields);
            }
            Item::Type(alias) => self.facts.aliases.push(AliasFact {
                module,
                name: sym(&alias.ident),
                generics: generic_names(&alias.generics),
                ty: type_expr(&alias.ty),
            }),
            Item::Static(item) => {
                let kind = match item.mutability {
                    syn::StaticMutability::Mut(_) => StaticKind::StaticMut,
                    _ => StaticKind::Static,
                };
                let declaration = StaticDecl {
                    name: sym(&item.ident),
                    ty: type_expr(&item.ty),
                    kind,
                    name_span: item.ident.span(),
                };
                self.push_static(module, declaration, Some(&item.expr), context);
            }
            Item::Const(item) => {
                let declaration = StaticDecl {
                    name: sym(&item.ident),
                    ty: type_expr(&item.ty),
                    kind: StaticKind::Const,
                    name_span: item.ident.span(),
                };
                self.push_static(module, declaration, None, context);
            }
            Item::Mod(item) => {
                let in_test = context.in_test || is_test_attribute(&item.attrs);
                match &item.content {
                    Some((brace, items)) => {
                        self.push_test_region(&item.attrs, brace.span.close());
                        let index = ModIdx::from_index(self.facts.inline_modules.len() + 1);
                        self.facts.inline_modules.push(InlineModule {
                            parent: module,
                            name: sym(&item.ident),
                            is_test: in_test,
                        });
                        self.lower_items(items, index, ItemContext { in_test });
                    }
                    None => self.facts.mod_decls.push(ModDecl {
                        parent: module,
                        name: sym(&item.ident),
                        path_attribute: path_attribute(&item.attrs),
                        is_test: in_test,
                        configured_out: false,
                    }),
                }
            }
            Item::Use(item) => {
                let mut prefix = Vec::new();
                self.lower_use_tree(
                    module,
                    &item.tree,
                    &mut prefix,
                    item.leading_colon.is_some(),
                );
            }
            Item::ExternCrate(item) => {
                let alias = item
                    .rename
                    .as_ref()
                    .map(|(_, ident)| sym(ident))
                    .unwrap_or_else(|| sym(&item.ident));
                self.facts.uses.push(UseFact {
                    module,
                    alias: Some(alias),
                    path: vec![sym(&item.ident)],
                    leading_colon: true,
                });
            }
            Item::Trait(item) => {
                self.facts.traits.push(TraitFact {
                    module,
                    name: sym(&item.ident),
                });
                for trait_item in &item.items {
                    if let TraitItem::Fn(method) = trait_item {
                        if method.default.is_some() && !self.is_configured_out(&method.attrs) {
                            let kind = FnKind::TraitMethod {
                                trait_name: sym(&item.ident),
                                self_kind: self_kind(&method.sig),
                            };
                            lower_function(
                                self,
                                FnSource::TraitMethod(method),
                                module,
                                kind,
                                None,
                                context.in_test,
                            );
                        }
                    }
                }
            }
            Item::Macro(item) => self.lower_item_macro(&item.mac, module, context),
            _ => {}
        }
    }

    /// Records an item marked as test code, from its first attribute to `end`, so that
    /// suppression comments inside it can be told apart when test code is not checked.
    fn push_test_region(&mut self, attrs: &[Attribute], end: proc_macro2::Span) {
        if let Some(first) = attrs.first().filter(|_| is_test_attribute(attrs)) {
            let region = self.span_between(first.pound_token.spans[0], end);
            self.facts.test_regions.push(region);
        }
    }

    fn push_adt(
        &mut self,
        module: ModIdx,
        ident: &syn::Ident,
        kind: AdtKind,
        generics: &syn::Generics,
        fields: Vec<FieldFact>,
    ) {
        let span = self.span(ident.span());
        self.facts.adts.push(AdtFact {
            module,
            name: sym(ident),
            kind,
            generics: generic_names(generics),
            fields,
            span,
        });
    }

    pub(crate) fn push_static(
        &mut self,
        module: ModIdx,
        declaration: StaticDecl,
        init: Option<&syn::Expr>,
        context: ItemContext,
    ) {
        let span = self.span(declaration.name_span);
        let init = init.map(|expr| {
            lower_function(
                self,
                FnSource::StaticInit(expr),
                module,
                FnKind::StaticInit,
                None,
                context.in_test,
            )
        });
        self.facts.statics.push(StaticFact {
            module,
            name: declaration.name,
            ty: declaration.ty,
            kind: declaration.kind,
            span,
            init,
        });
    }

    fn lower_impl(&mut self, block: &syn::ItemImpl, module: ModIdx, context: ItemContext) {
        let impl_idx = ImplIdx::from_index(self.facts.impls.len());
        self.push_test_region(&block.attrs, block.brace_token.span.close());
        let in_test = context.in_test || is_test_attribute(&block.attrs);
        self.facts.impls.push(ImplFact {
            module,
            self_ty: type_expr(&block.self_ty),
            trait_path: block.trait_.as_ref().map(|(path, _)| path_expr(path, None)),
            is_unsafe: block.unsafety.is_some(),
            generics: generic_names(&block.generics),
            span: self.span(block.impl_token.span),
        });
        for item in &block.items {
            match item {
                ImplItem::Fn(method) if self.is_configured_out(&method.attrs) => {}
                ImplItem::Macro(item) if self.is_configured_out(&item.attrs) => {}
                ImplItem::Fn(method) => {
                    let kind = FnKind::Method {
                        impl_idx,
                        self_kind: self_kind(&method.sig),
                    };
                    self.push_test_region(&method.attrs, method.block.brace_token.span.close());
                    let in_test = in_test || is_test_attribute(&method.attrs);
                    lower_function(
                        self,
                        FnSource::ImplMethod(method),
                        module,
                        kind,
                        Some(impl_idx),
                        in_test,
                    );
                }
                ImplItem::Macro(item) => self.lower_item_macro(&item.mac, module, context),
                _ => {}
            }
        }
    }

    fn lower_use_tree(
        &mut self,
        module: ModIdx,
        tree: &UseTree,
        prefix: &mut Vec<Sym>,
        leading_colon: bool,
    ) {
        match tree {
            UseTree::Path(path) => {
                prefix.push(sym(&path.ident));
                self.lower_use_tree(module, &path.tree, prefix, leading_colon);
                prefix.pop();
            }
            UseTree::Name(name) => {
                let ident = sym(&name.ident);
                if &*ident == "self" {
                    if let Some(last) = prefix.last().cloned() {
                        self.facts.uses.push(UseFact {
                            module,
                            alias: Some(last),
                            path: prefix.clone(),
                            leading_colon,
                        });
                    }
                } else {
                    let mut path = prefix.clone();
                    path.push(ident.clone());
                    self.facts.uses.push(UseFact {
                        module,
                        alias: Some(ident),
                        path,
                        leading_colon,
                    });
                }
            }
            UseTree::Rename(rename) => {
                let mut path = prefix.clone();
                let ident = sym(&rename.ident);
                if &*ident != "self" {
                    path.push(ident);
                }
                let alias = sym(&rename.rename);
                if &*alias != "_" {
                    self.facts.uses.push(UseFact {
                        module,
                        alias: Some(alias),
                        path,
                        leading_colon,
                    });
                }
            }
            UseTree::Glob(_) => {
                self.facts.uses.push(UseFact {
                    module,
                    alias: None,
                    path: prefix.clone(),
                    leading_colon,
                });
            }
            UseTree::Group(group) => {
                for tree in &group.items {
                    self.lower_use_tree(module, tree, prefix, leading_colon);
                }
            }
        }
    }

    /// Item macros: `thread_local!` and `lazy_static!` declare statics; any other macro whose
    /// body (or whose braced groups, as in `cfg_if!`) parses as items is lowered as those items,
    /// since crates such as tokio wrap most of their code in `cfg_*!` macros.
    pub(crate) fn lower_item_macro(
        &mut self,
        mac: &syn::Macro,
        module: ModIdx,
        context: ItemContext,
    ) {
        let name = mac
            .path
            .segments
            .last()
            .map(|segment| segment.ident.to_string())
            .unwrap_or_default();
        match name.as_str() {
            "thread_local" => {
                for (declaration, init) in macros::parse_thread_local(mac.tokens.clone()) {
                    self.push_static(module, declaration, init.as_ref(), context);
                }
            }
            "lazy_static" => {
                for (declaration, init) in macros::parse_lazy_static(mac.tokens.clone()) {
                    self.push_static(module, declaration, init.as_ref(), context);
                }
            }
            "macro_rules" => {}
            _ => {
                if let Some(items) = macros::parse_items(mac.tokens.clone()) {
                    self.lower_items(&items, module, context);
                }
            }
        }
    }
}

/// The attributes written on an item.
fn item_attributes(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(item) => &item.attrs,
        Item::Enum(item) => &item.attrs,
        Item::ExternCrate(item) => &item.attrs,
        Item::Fn(item) => &item.attrs,
        Item::ForeignMod(item) => &item.attrs,
        Item::Impl(item) => &item.attrs,
        Item::Macro(item) => &item.attrs,
        Item::Mod(item) => &item.attrs,
        Item::Static(item) => &item.attrs,
        Item::Struct(item) => &item.attrs,
        Item::Trait(item) => &item.attrs,
        Item::TraitAlias(item) => &item.attrs,
        Item::Type(item) => &item.attrs,
        Item::Union(item) => &item.attrs,
        Item::Use(item) => &item.attrs,
        _ => &[],
    }
}

impl FileCx<'_> {
    /// The fields of a struct or of one enum variant, but those `cfg`'d out.
    fn lower_fields(&self, fields: &Fields) -> Vec<FieldFact> {
        let kept = |field: &&syn::Field| !self.is_configured_out(&field.attrs);
        match fields {
            Fields::Named(named) => named
                .named
                .iter()
                .filter(kept)
                .filter_map(|field| {
                    Some(FieldFact {
                        name: sym(field.ident.as_ref()?),
                        ty: type_expr(&field.ty),
                        embedded: false,
                    })
                })
                .collect(),
            // Positions are counted over the fields that are compiled.
            Fields::Unnamed(unnamed) => unnamed
                .unnamed
                .iter()
                .filter(kept)
                .enumerate()
                .map(|(index, field)| FieldFact {
                    name: index.to_string().into_boxed_str(),
                    ty: type_expr(&field.ty),
                    embedded: false,
                })
                .collect(),
            Fields::Unit => Vec::new(),
        }
    }
}

pub(crate) fn self_kind(sig: &syn::Signature) -> Option<SelfKind> {
    match sig.inputs.first()? {
        syn::FnArg::Receiver(receiver) => Some(match &receiver.kind {
            syn::ReceiverKind::Reference(_, _, Some(_)) => SelfKind::RefMut,
            syn::ReceiverKind::Reference(_, _, None) => SelfKind::Ref,
            _ => SelfKind::Value,
        }),
        syn::FnArg::Typed(_) => None,
    }
}
