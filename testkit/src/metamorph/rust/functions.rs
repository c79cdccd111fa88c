//! Rewrites of function bodies: run the body of a spawning function (or `main`) twice in a
//! loop (`outer-loop`), call the old body through an extra function (`fn-layer`), or run it as
//! a closure handed to a generic helper (`generic-fn-once`). Each edit opens and closes around
//! the body where it stands, on the lines of the body's braces, so that no line of the body
//! moves and the markers stay where they were.

use std::collections::BTreeSet;

use syn::visit::Visit;

use super::source::{self, Edits, Fresh, Source, after_open_brace, at_close_brace, tokens_text};
use crate::metamorph::Rewritten;

/// Where a function is declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FnOwner {
    /// A free function, at any depth (modules, function bodies).
    Free,
    /// A method of an inherent `impl`.
    Inherent,
    /// A method of a trait `impl`; `drop` says whether it is `Drop::drop`.
    TraitImpl { drop: bool },
    /// A provided method of a trait.
    TraitDefault,
}

/// One function with a body.
pub(crate) struct FnSite<'a> {
    pub owner: FnOwner,
    pub attrs: &'a [syn::Attribute],
    pub sig: &'a syn::Signature,
    pub block: &'a syn::Block,
}

impl FnSite<'_> {
    pub fn name(&self) -> String {
        self.sig.ident.to_string()
    }

    pub fn is_main(&self) -> bool {
        self.owner == FnOwner::Free && self.sig.ident == "main"
    }

    fn is_test(&self) -> bool {
        self.attrs.iter().any(|attr| {
            attr.path()
                .segments
                .last()
                .is_some_and(|segment| segment.ident == "test")
        })
    }

    fn returns_unit(&self) -> bool {
        match &self.sig.output {
            syn::ReturnType::Default => true,
            syn::ReturnType::Type(_, ty) => {
                matches!(&**ty, syn::Type::Tuple(tuple) if tuple.elems.is_empty())
            }
        }
    }

    fn returns_never(&self) -> bool {
        matches!(&self.sig.output, syn::ReturnType::Type(_, ty) if matches!(&**ty, syn::Type::Never(_)))
    }

    fn is_unsafe(&self) -> bool {
        matches!(self.sig.safety, syn::Safety::Unsafe(_))
    }
}

/// Every function with a body in the file, in text order (functions in macro bodies left out).
pub(crate) fn functions(file: &syn::File) -> Vec<FnSite<'_>> {
    let mut collector = FnCollector::default();
    collector.visit_file(file);
    collector
        .sites
        .sort_by_key(|site| source::range_of(&site.block.brace_token.span.open()).start);
    collector.sites
}

#[derive(Default)]
struct FnCollector<'a> {
    sites: Vec<FnSite<'a>>,
    /// The impls being walked: whether each implements `Drop` (or another trait:
    /// `Some(false)`), innermost last.
    impls: Vec<Option<bool>>,
}

impl<'a> Visit<'a> for FnCollector<'a> {
    fn visit_item_fn(&mut self, item: &'a syn::ItemFn) {
        self.sites.push(FnSite {
            owner: FnOwner::Free,
            attrs: &item.attrs,
            sig: &item.sig,
            block: &item.block,
        });
        syn::visit::visit_item_fn(self, item);
    }

    fn visit_item_impl(&mut self, item: &'a syn::ItemImpl) {
        let trait_ = item.trait_.as_ref().map(|(path, _)| {
            path.segments
                .last()
                .is_some_and(|segment| segment.ident == "Drop")
        });
        self.impls.push(trait_);
        syn::visit::visit_item_impl(self, item);
        self.impls.pop();
    }

    fn visit_impl_item_fn(&mut self, item: &'a syn::ImplItemFn) {
        let trait_ = *self.impls.last().unwrap();
        self.sites.push(FnSite {
            owner: match trait_ {
                None => FnOwner::Inherent,
                Some(drop) => FnOwner::TraitImpl { drop },
            },
            attrs: &item.attrs,
            sig: &item.sig,
            block: &item.block,
        });
        syn::visit::visit_impl_item_fn(self, item);
    }

    fn visit_trait_item_fn(&mut self, item: &'a syn::TraitItemFn) {
        if let Some(block) = &item.default {
            self.sites.push(FnSite {
                owner: FnOwner::TraitDefault,
                attrs: &item.attrs,
                sig: &item.sig,
                block,
            });
        }
        syn::visit::visit_trait_item_fn(self, item);
    }
}

/// The names of every `static` of the crate: items at any depth and `thread_local!` keys.
pub(crate) fn static_names(file: &syn::File) -> BTreeSet<String> {
    struct Statics(BTreeSet<String>);
    impl<'a> Visit<'a> for Statics {
        fn visit_item_static(&mut self, item: &'a syn::ItemStatic) {
            self.0.insert(item.ident.to_string());
            syn::visit::visit_item_static(self, item);
        }
        fn visit_macro(&mut self, mac: &'a syn::Macro) {
            if let Some(source::MacroArgs::ThreadLocal(statics)) = source::parse_macro_args(mac) {
                self.0
                    .extend(statics.iter().map(|local| local.ident.to_string()));
            }
        }
    }
    let mut statics = Statics(BTreeSet::new());
    statics.visit_file(file);
    statics.0
}

/// Names that spawn a thread or a task when called: the library's, and what `use` items
/// renamed them to (`use std::thread::spawn as go;`).
fn spawn_names(file: &syn::File) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = ["spawn", "spawn_blocking", "spawn_local", "spawn_scoped"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    struct Renames<'n>(&'n mut BTreeSet<String>);
    impl<'a> Visit<'a> for Renames<'_> {
        fn visit_use_rename(&mut self, rename: &'a syn::UseRename) {
            if rename.ident.to_string().starts_with("spawn") {
                self.0.insert(rename.rename.to_string());
            }
        }
    }
    Renames(&mut names).visit_file(file);
    names
}

/// Whether a body spawns threads or tasks: calls a spawn function or method, or opens a
/// thread scope (`thread::scope`, rayon's `scope` and `join`).
fn spawns(block: &syn::Block, spawn_names: &BTreeSet<String>) -> bool {
    fn walk(tokens: proc_macro2::TokenStream, names: &BTreeSet<String>) -> bool {
        let tokens: Vec<proc_macro2::TokenTree> = tokens.into_iter().collect();
        for (index, token) in tokens.iter().enumerate() {
            match token {
                proc_macro2::TokenTree::Ident(ident) => {
                    let name = ident.to_string();
                    let called = matches!(
                        tokens.get(index + 1),
                        Some(proc_macro2::TokenTree::Group(group))
                            if group.delimiter() == proc_macro2::Delimiter::Parenthesis
                    ) || matches!(tokens.get(index + 1), Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == ':');
                    let after_path = |prefixes: &[&str]| {
                        index >= 3
                            && matches!(&tokens[index - 1], proc_macro2::TokenTree::Punct(p) if p.as_char() == ':')
                            && matches!(&tokens[index - 3], proc_macro2::TokenTree::Ident(prefix) if prefixes.contains(&prefix.to_string().as_str()))
                    };
                    if called
                        && (names.contains(&name)
                            || (name == "scope" && after_path(&["thread", "rayon"]))
                            || (name == "join" && after_path(&["rayon"])))
                    {
                        return true;
                    }
                }
                proc_macro2::TokenTree::Group(group) if walk(group.stream(), names) => return true,
                _ => {}
            }
        }
        false
    }
    walk(quote::ToTokens::to_token_stream(block), spawn_names)
}

/// Whether a parameter's type may be used again in a second pass of a loop: a reference, or a
/// primitive that is `Copy`.
fn reusable_param_type(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Reference(_) => true,
        syn::Type::Paren(inner) => reusable_param_type(&inner.elem),
        syn::Type::Path(path) if path.qself.is_none() => {
            path.path.get_ident().is_some_and(|ident| {
                matches!(
                    ident.to_string().as_str(),
                    "u8" | "u16"
                        | "u32"
                        | "u64"
                        | "u128"
                        | "usize"
                        | "i8"
                        | "i16"
                        | "i32"
                        | "i64"
                        | "i128"
                        | "isize"
                        | "f32"
                        | "f64"
                        | "bool"
                        | "char"
                )
            })
        }
        _ => false,
    }
}

/// Whether a method's receiver is a reference: `&self`, `&mut self`, `self: &Arc<Self>`.
fn receiver_is_reference(receiver: &syn::Receiver) -> bool {
    match &receiver.kind {
        syn::ReceiverKind::Reference(..) => true,
        syn::ReceiverKind::Typed(_, ty) => matches!(&**ty, syn::Type::Reference(_)),
        _ => false,
    }
}

/// `outer-loop`: the body of every function that spawns threads or tasks, and of `main`, runs
/// twice. The tail stays the tail of the loop's body: its temporaries are then dropped where
/// they were (after the body's locals in edition 2021), which a `;` would change.
pub(crate) fn outer_loop(source: &Source) -> Rewritten {
    let statics = static_names(&source.file);
    let spawn_names = spawn_names(&source.file);
    let mut fresh = Fresh::new(source);
    let counter = fresh.plain("_iteration");
    let mut edits = Edits::default();
    let mut reasons = BTreeSet::new();
    for site in functions(&source.file) {
        if !(site.is_main() || spawns(site.block, &spawn_names)) {
            continue;
        }
        let name = site.name();
        if !site.returns_unit() {
            reasons.insert(format!("`{name}` returns a value"));
            continue;
        }
        if site.sig.constness.is_some() {
            reasons.insert(format!(
                "`{name}` is a `const fn`, which cannot loop with `for`"
            ));
            continue;
        }
        let moved_param = site.sig.inputs.iter().find_map(|input| match input {
            syn::FnArg::Receiver(receiver) => {
                (!receiver_is_reference(receiver)).then(|| "`self`".to_owned())
            }
            syn::FnArg::Typed(typed) => {
                (!reusable_param_type(&typed.ty)).then(|| format!("`{}`", tokens_text(&typed.pat)))
            }
        });
        if let Some(param) = moved_param {
            reasons.insert(format!(
                "`{name}` takes {param} by value, which a second pass could not use again"
            ));
            continue;
        }
        let named_statics: Vec<String> = source::idents_of(site.block)
            .intersection(&statics)
            .cloned()
            .collect();
        if !named_statics.is_empty() {
            reasons.insert(format!(
                "`{name}` uses the static {}, made once outside the loop: a second pass would start from what the first left",
                named_statics.join(", ")
            ));
            continue;
        }
        edits.insert(
            after_open_brace(site.block),
            format!(" for {counter} in 0..2 {{"),
        );
        edits.insert(at_close_brace(site.block), "} ");
    }
    finish(
        source,
        edits,
        reasons,
        "no function spawns threads or tasks",
    )
}

/// The variant, or why there is none.
pub(crate) fn finish(
    source: &Source,
    edits: Edits,
    reasons: BTreeSet<String>,
    nothing: &str,
) -> Rewritten {
    if !edits.is_empty() {
        return Rewritten::Variant(source.variant(&edits));
    }
    if reasons.is_empty() {
        Rewritten::NotApplicable(nothing.to_owned())
    } else {
        Rewritten::NotApplicable(reasons.into_iter().collect::<Vec<_>>().join("; "))
    }
}

/// The generic arguments that call a function with its own type and const parameters:
/// `::<T, N>`, or nothing. Lifetimes are left to inference (late-bound ones cannot be given).
fn turbofish(generics: &syn::Generics) -> String {
    let args: Vec<String> = generics
        .params
        .iter()
        .filter_map(|param| match param {
            syn::GenericParam::Type(ty) => Some(ty.ident.to_string()),
            syn::GenericParam::Const(constant) => Some(constant.ident.to_string()),
            syn::GenericParam::Lifetime(_) => None,
        })
        .collect();
    if args.is_empty() {
        String::new()
    } else {
        format!("::<{}>", args.join(", "))
    }
}

/// Attributes that belong to the function the caller sees, not to its copy.
fn stays_on_outer(attr: &syn::Attribute) -> bool {
    let path = attr.path();
    let last = path
        .segments
        .last()
        .map(|segment| segment.ident.to_string())
        .unwrap_or_default();
    matches!(
        last.as_str(),
        "main" | "test" | "doc" | "no_mangle" | "export_name" | "link_section"
    )
}

/// `fn-layer`: every free function and inherent method keeps its signature and calls a new
/// function with the old body.
pub(crate) fn fn_layer(source: &Source) -> Rewritten {
    let mut fresh = Fresh::new(source);
    let mut edits = Edits::default();
    let mut reasons = BTreeSet::new();
    for site in functions(&source.file) {
        if !matches!(site.owner, FnOwner::Free | FnOwner::Inherent) || site.is_test() {
            continue;
        }
        let name = site.name();
        if site.sig.variadic.is_some() {
            reasons.insert(format!("`{name}` is variadic"));
            continue;
        }
        let mut args = Vec::new();
        let mut mut_tokens = Vec::new();
        let mut plain = true;
        for input in &site.sig.inputs {
            match input {
                syn::FnArg::Receiver(receiver) => {
                    args.push("self".to_owned());
                    if matches!(receiver.kind, syn::ReceiverKind::Value) {
                        if let Some(mutability) = &receiver.mutability {
                            mut_tokens.push(source::range_of(mutability));
                        }
                    }
                }
                syn::FnArg::Typed(typed) => match &*typed.pat {
                    syn::Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {
                        args.push(ident.ident.to_string());
                        if let Some(mutability) = &ident.mutability {
                            mut_tokens.push(source::range_of(mutability));
                        }
                    }
                    _ => plain = false,
                },
            }
        }
        if !plain {
            reasons.insert(format!(
                "`{name}` has a parameter bound by a pattern, which a caller cannot pass on by name"
            ));
            continue;
        }
        let inner_name = fresh.plain(&format!("{name}_inner"));
        let mut inner_sig = site.sig.clone();
        inner_sig.ident = syn::Ident::new(&inner_name, site.sig.ident.span());
        let inner_attrs: String = site
            .attrs
            .iter()
            .filter(|attr| !stays_on_outer(attr))
            .map(|attr| format!("{} ", tokens_text(attr)))
            .collect();
        let callee = match site.owner {
            FnOwner::Inherent => format!("Self::{inner_name}"),
            _ => inner_name.clone(),
        };
        let mut call = format!(
            "{callee}{}({})",
            turbofish(&site.sig.generics),
            args.join(", ")
        );
        if site.sig.asyncness.is_some() {
            call.push_str(".await");
        }
        if site.is_unsafe() {
            call = format!("unsafe {{ {call} }}");
        }
        // The outer function passes its parameters on: it needs no `mut` of its own.
        for range in mut_tokens {
            let end = source.text[range.end..]
                .find(|character: char| !character.is_whitespace())
                .map_or(range.end, |at| range.end + at);
            edits.replace(range.start..end, "");
        }
        edits.insert(
            after_open_brace(site.block),
            format!(" {call} }} {inner_attrs}{} {{", tokens_text(&inner_sig)),
        );
    }
    finish(
        source,
        edits,
        reasons,
        "no free function or inherent method",
    )
}

/// `generic-fn-once`: every function body (not `async`, `unsafe` or `const`) runs as a closure
/// handed to a generic helper. The closure is annotated with the function's return type, so
/// that `return` and the tail coerce to it as they did (`Box<dyn Trait>`).
pub(crate) fn generic_fn_once(source: &Source) -> Rewritten {
    let mut fresh = Fresh::new(source);
    let helper = fresh.numbered("call_once");
    let mut edits = Edits::default();
    let mut reasons = BTreeSet::new();
    for site in functions(&source.file) {
        let name = site.name();
        if site.sig.asyncness.is_some() {
            reasons.insert(format!(
                "`{name}` is `async`: its body is a future, not a closure's"
            ));
            continue;
        }
        if site.is_unsafe() {
            reasons.insert(format!("`{name}` is an `unsafe fn`"));
            continue;
        }
        if site.sig.constness.is_some() {
            reasons.insert(format!(
                "`{name}` is a `const fn`, which cannot call closures"
            ));
            continue;
        }
        if site.returns_never() {
            reasons.insert(format!(
                "`{name}` returns `!`, which a generic result cannot be on stable Rust"
            ));
            continue;
        }
        let annotation = match &site.sig.output {
            syn::ReturnType::Type(_, ty) if !mentions_impl_trait(ty) => {
                format!(" -> {}", tokens_text(ty))
            }
            _ => String::new(),
        };
        edits.insert(
            after_open_brace(site.block),
            format!(" crate::{helper}(||{annotation} {{"),
        );
        edits.insert(at_close_brace(site.block), "}) ");
    }
    if edits.is_empty() {
        return finish(source, edits, reasons, "no function");
    }
    edits.insert(
        source.text.len(),
        format!(
            "{}\nfn {helper}<R, F: FnOnce() -> R>(f: F) -> R {{\n    f()\n}}\n",
            if source.text.ends_with('\n') {
                ""
            } else {
                "\n"
            }
        ),
    );
    Rewritten::Variant(source.variant(&edits))
}

/// Whether a type mentions `impl Trait`, which a closure's return type cannot.
fn mentions_impl_trait(ty: &syn::Type) -> bool {
    struct Finder(bool);
    impl<'a> Visit<'a> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'a syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    finder.visit_type(ty);
    finder.0
}
