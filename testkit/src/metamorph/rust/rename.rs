//! `rename`: every identifier the program declares (functions but `main`, types, traits,
//! variants, fields, methods of its inherent impls and own traits, statics, consts, modules,
//! locals and parameters) gets a fresh name of the same case style, the same new name for one
//! name everywhere it is the program's own. Since the renaming is one-to-one onto fresh
//! names, what each name resolves to stays as it was, shadowing included, provided every
//! place that names the program's own thing is renamed and no place that names a library's
//! thing is. So names are renamed by where they stand:
//! - a path is the program's when it starts at `crate`, `self`, `super`, `Self` or a name the
//!   program declares; a path from a library (`std::thread::spawn`, an imported name) keeps
//!   every segment;
//! - a method call or declaration is renamed only for methods of the program's inherent
//!   impls and own traits, and never for a name that a library type or trait has as a method
//!   ([`LIBRARY_METHODS`], and the methods of library traits the program implements): a call
//!   `m.insert(..)` on a `HashMap` looks like a call of the program's `insert`;
//! - a field is renamed where it is accessed, declared, or written in a struct expression or
//!   pattern of the program's type (shorthand fields spelled out when the field and the
//!   binding get different names);
//! - names in the bodies of macros whose syntax is known (`println!` and its inline format
//!   arguments, `defer!`, `thread_local!`, `matches!`, ...) are renamed like code; a name of
//!   the program inside any other macro makes the rewrite not applicable.
//!
//! Names that are not the program's own keep theirs: imported names, the prelude, macros,
//! generic parameters, `main`, and everything a `#[path]` module file names.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use syn::visit::Visit;

use super::library_methods::LIBRARY_METHODS;
use super::resolve::{self, EXTERNAL_CRATES};
use super::source::{self, Edits, Fresh, MacroArgs, Source};
use crate::metamorph::Rewritten;

/// Fields of library structs that programs read or write by name.
const LIBRARY_FIELDS: &[&str] = &["start", "end", "status", "stdout", "stderr"];

/// Names of the prelude and the language that no declaration of the program takes.
const RESERVED: &[&str] = &[
    "main",
    "self",
    "Self",
    "super",
    "crate",
    "Some",
    "None",
    "Ok",
    "Err",
    "Option",
    "Result",
    "Vec",
    "String",
    "Box",
    "drop",
    "Copy",
    "Send",
    "Sized",
    "Sync",
    "Unpin",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
    "ToOwned",
    "Clone",
    "PartialEq",
    "PartialOrd",
    "Eq",
    "Ord",
    "AsRef",
    "AsMut",
    "Into",
    "From",
    "Default",
    "Iterator",
    "Extend",
    "IntoIterator",
    "DoubleEndedIterator",
    "ExactSizeIterator",
    "ToString",
    "TryFrom",
    "TryInto",
    "FromIterator",
    "Future",
    "IntoFuture",
    "size_of",
    "size_of_val",
    "align_of",
    "align_of_val",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "f32",
    "f64",
    "bool",
    "char",
    "str",
];

/// What kind of declaration a name has; a name may have several.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Function,
    Type,
    Trait,
    Variant,
    Static,
    Const,
    Module,
    Method,
    AssocConst,
    Field,
    Local,
}

impl Kind {
    /// The word fresh names of this kind are made of.
    fn base(self) -> &'static str {
        match self {
            Kind::Function => "func",
            Kind::Type => "Type",
            Kind::Trait => "Trait",
            Kind::Variant => "Variant",
            Kind::Static => "STATIC",
            Kind::Const | Kind::AssocConst => "CONST",
            Kind::Module => "module",
            Kind::Method => "method",
            Kind::Field => "field",
            Kind::Local => "var",
        }
    }
}

/// What the program declares, and the names that must keep theirs.
#[derive(Default)]
struct Declarations {
    kinds: BTreeMap<String, BTreeSet<Kind>>,
    /// Names that are not the program's own anywhere they are written.
    reserved: BTreeSet<String>,
    /// Methods of library traits the program implements (`drop`, `fmt`, `poll`).
    library_trait_methods: BTreeSet<String>,
    /// The program's own traits, for telling its trait impls from the library's.
    own_traits: BTreeSet<String>,
}

impl Declarations {
    fn declare(&mut self, name: &str, kind: Kind) {
        self.kinds.entry(name.to_owned()).or_default().insert(kind);
    }

    fn has(&self, name: &str, kind: Kind) -> bool {
        self.kinds
            .get(name)
            .is_some_and(|kinds| kinds.contains(&kind))
    }

    fn renamable(&self, name: &str) -> bool {
        self.kinds.contains_key(name) && !self.reserved.contains(name) && !name.starts_with("r#")
    }

    fn method_renamable(&self, name: &str) -> bool {
        self.renamable(name)
            && self.has(name, Kind::Method)
            && LIBRARY_METHODS.binary_search(&name).is_err()
            && !self.library_trait_methods.contains(name)
    }

    fn field_renamable(&self, name: &str) -> bool {
        self.renamable(name) && self.has(name, Kind::Field) && !LIBRARY_FIELDS.contains(&name)
    }

    /// An associated item named after a type of the program: a method, a variant or a
    /// constant.
    fn assoc_renamable(&self, name: &str) -> bool {
        self.method_renamable(name)
            || (self.renamable(name)
                && (self.has(name, Kind::Variant) || self.has(name, Kind::AssocConst)))
    }
}

/// Collects the declarations (first pass).
struct Collector<'d> {
    decls: &'d mut Declarations,
}

impl Collector<'_> {
    fn impl_trait_is_own(&self, item: &syn::ItemImpl) -> Option<bool> {
        item.trait_.as_ref().map(|(path, _)| {
            let first = path
                .segments
                .first()
                .map(|segment| segment.ident.to_string());
            let last = path
                .segments
                .last()
                .map(|segment| segment.ident.to_string());
            matches!(first.as_deref(), Some("crate" | "self" | "super"))
                || last.is_some_and(|last| self.decls.own_traits.contains(&last))
        })
    }
}

impl<'a> Visit<'a> for Collector<'_> {
    fn visit_item_fn(&mut self, item: &'a syn::ItemFn) {
        self.decls
            .declare(&item.sig.ident.to_string(), Kind::Function);
        syn::visit::visit_item_fn(self, item);
    }

    fn visit_item_struct(&mut self, item: &'a syn::ItemStruct) {
        self.decls.declare(&item.ident.to_string(), Kind::Type);
        syn::visit::visit_item_struct(self, item);
    }

    fn visit_item_enum(&mut self, item: &'a syn::ItemEnum) {
        self.decls.declare(&item.ident.to_string(), Kind::Type);
        syn::visit::visit_item_enum(self, item);
    }

    fn visit_item_union(&mut self, item: &'a syn::ItemUnion) {
        self.decls.declare(&item.ident.to_string(), Kind::Type);
        syn::visit::visit_item_union(self, item);
    }

    fn visit_item_type(&mut self, item: &'a syn::ItemType) {
        self.decls.declare(&item.ident.to_string(), Kind::Type);
        syn::visit::visit_item_type(self, item);
    }

    fn visit_item_trait(&mut self, item: &'a syn::ItemTrait) {
        self.decls.declare(&item.ident.to_string(), Kind::Trait);
        for trait_item in &item.items {
            match trait_item {
                syn::TraitItem::Fn(function) => self
                    .decls
                    .declare(&function.sig.ident.to_string(), Kind::Method),
                syn::TraitItem::Const(constant) => self
                    .decls
                    .declare(&constant.ident.to_string(), Kind::AssocConst),
                // Associated types keep their names: `Self::Output` and the like.
                syn::TraitItem::Type(ty) => {
                    self.decls.reserved.insert(ty.ident.to_string());
                }
                _ => {}
            }
        }
        syn::visit::visit_item_trait(self, item);
    }

    fn visit_item_const(&mut self, item: &'a syn::ItemConst) {
        self.decls.declare(&item.ident.to_string(), Kind::Const);
        syn::visit::visit_item_const(self, item);
    }

    fn visit_item_static(&mut self, item: &'a syn::ItemStatic) {
        self.decls.declare(&item.ident.to_string(), Kind::Static);
        syn::visit::visit_item_static(self, item);
    }

    fn visit_item_mod(&mut self, item: &'a syn::ItemMod) {
        if item.content.is_none() && source::path_attribute(&item.attrs).is_none() {
            // Its file is found by its name.
            self.decls.reserved.insert(item.ident.to_string());
        } else {
            self.decls.declare(&item.ident.to_string(), Kind::Module);
        }
        syn::visit::visit_item_mod(self, item);
    }

    fn visit_item_macro(&mut self, item: &'a syn::ItemMacro) {
        if let Some(ident) = &item.ident {
            self.decls.reserved.insert(ident.to_string());
        }
        syn::visit::visit_item_macro(self, item);
    }

    fn visit_item_extern_crate(&mut self, item: &'a syn::ItemExternCrate) {
        self.decls.reserved.insert(item.ident.to_string());
        if let Some((_, rename)) = &item.rename {
            self.decls.reserved.insert(rename.to_string());
        }
    }

    fn visit_item_impl(&mut self, item: &'a syn::ItemImpl) {
        let own_trait = self.impl_trait_is_own(item);
        for impl_item in &item.items {
            match (impl_item, own_trait) {
                (syn::ImplItem::Fn(function), None | Some(true)) => self
                    .decls
                    .declare(&function.sig.ident.to_string(), Kind::Method),
                (syn::ImplItem::Const(constant), None | Some(true)) => self
                    .decls
                    .declare(&constant.ident.to_string(), Kind::AssocConst),
                (syn::ImplItem::Fn(function), Some(false)) => {
                    self.decls
                        .library_trait_methods
                        .insert(function.sig.ident.to_string());
                }
                (syn::ImplItem::Const(constant), Some(false)) => {
                    self.decls.reserved.insert(constant.ident.to_string());
                }
                (syn::ImplItem::Type(ty), _) => {
                    self.decls.reserved.insert(ty.ident.to_string());
                }
                _ => {}
            }
        }
        syn::visit::visit_item_impl(self, item);
    }

    fn visit_variant(&mut self, variant: &'a syn::Variant) {
        self.decls
            .declare(&variant.ident.to_string(), Kind::Variant);
        syn::visit::visit_variant(self, variant);
    }

    fn visit_field(&mut self, field: &'a syn::Field) {
        if let Some(ident) = &field.ident {
            self.decls.declare(&ident.to_string(), Kind::Field);
        }
        syn::visit::visit_field(self, field);
    }

    fn visit_pat_ident(&mut self, pat: &'a syn::PatIdent) {
        // A capitalised name in a pattern is a constant, a unit struct or a variant, not a
        // new binding (the fixtures have no warnings, so bindings are snake case).
        let name = pat.ident.to_string();
        if !name.starts_with(|character: char| character.is_ascii_uppercase()) {
            self.decls.declare(&name, Kind::Local);
        }
        syn::visit::visit_pat_ident(self, pat);
    }

    fn visit_generic_param(&mut self, param: &'a syn::GenericParam) {
        match param {
            syn::GenericParam::Type(ty) => {
                self.decls.reserved.insert(ty.ident.to_string());
            }
            syn::GenericParam::Const(constant) => {
                self.decls.reserved.insert(constant.ident.to_string());
            }
            syn::GenericParam::Lifetime(_) => {}
        }
        syn::visit::visit_generic_param(self, param);
    }

    fn visit_item_use(&mut self, item: &'a syn::ItemUse) {
        for leaf in resolve::use_leaves(&item.tree) {
            let root = leaf.root().to_owned();
            let internal = matches!(root.as_str(), "crate" | "self" | "super");
            if !internal || leaf.visible != leaf.name {
                // A library's name, or a new name for one of the program's (kept as is).
                if !leaf.glob {
                    self.decls.reserved.insert(leaf.visible.clone());
                }
            }
        }
    }

    fn visit_macro(&mut self, mac: &'a syn::Macro) {
        match source::parse_macro_args(mac) {
            Some(MacroArgs::ThreadLocal(statics)) => {
                for local in &statics {
                    self.decls.declare(&local.ident.to_string(), Kind::Static);
                }
                source::visit_macro_args(self, &MacroArgs::ThreadLocal(statics));
            }
            Some(args) => source::visit_macro_args(self, &args),
            None => {}
        }
    }
}

/// Whether a name is written in the snake, camel or screaming case, for a fresh name of the
/// same style.
fn styled(base: &str, original: &str, number: usize) -> String {
    let trimmed = original.trim_start_matches('_');
    let underscores = &original[..original.len() - trimmed.len()];
    let letters: Vec<char> = trimmed.chars().filter(char::is_ascii_alphabetic).collect();
    let screaming =
        !letters.is_empty() && letters.iter().all(char::is_ascii_uppercase) && letters.len() > 1;
    let camel = trimmed.starts_with(|character: char| character.is_ascii_uppercase());
    let word = if screaming || (camel && letters.len() == 1) {
        format!("{}_{number}", base.to_ascii_uppercase())
    } else if camel {
        let mut chars = base.chars();
        let first = chars.next().unwrap().to_ascii_uppercase();
        format!("{first}{}{number}", chars.as_str().to_ascii_lowercase())
    } else {
        format!("{}{number}", base.to_ascii_lowercase())
    };
    format!("{underscores}{word}")
}

/// The names of the program in macro bodies whose syntax is not known.
fn names_in_unknown_macros(file: &syn::File) -> BTreeSet<String> {
    struct Finder(BTreeSet<String>);
    impl<'a> Visit<'a> for Finder {
        fn visit_macro(&mut self, mac: &'a syn::Macro) {
            match source::parse_macro_args(mac) {
                Some(args) => source::visit_macro_args(self, &args),
                None => source::collect_idents(mac.tokens.clone(), &mut self.0),
            }
        }
    }
    let mut finder = Finder(BTreeSet::new());
    finder.visit_file(file);
    finder.0
}

/// Where a path's next segment stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum After {
    /// A module of the program (or the crate root): the next segment is an item.
    Module,
    /// A type or trait of the program: the next segment is an associated item.
    Type,
    /// Anything else (a library path): nothing more is renamed.
    Foreign,
}

/// Renames (second pass).
struct Renamer<'d> {
    decls: &'d Declarations,
    names: &'d BTreeMap<String, String>,
    edits: Vec<(Range<usize>, String)>,
}

impl Renamer<'_> {
    fn rename(&mut self, ident: &syn::Ident, allowed: bool) {
        if !allowed {
            return;
        }
        if let Some(new) = self.names.get(&ident.to_string()) {
            self.edits.push((source::range_of(ident), new.clone()));
        }
    }

    fn new_name(&self, name: &str, allowed: bool) -> String {
        if allowed {
            if let Some(new) = self.names.get(name) {
                return new.clone();
            }
        }
        name.to_owned()
    }

    /// Renames the segments of a path that are the program's; says what the last segment is.
    fn path(&mut self, path: &syn::Path) -> After {
        let mut after = if path.leading_colon.is_some() {
            After::Foreign
        } else {
            After::Module
        };
        for (index, segment) in path.segments.iter().enumerate() {
            let name = segment.ident.to_string();
            after = if index == 0 && after == After::Module {
                match name.as_str() {
                    "crate" | "self" | "super" => After::Module,
                    "Self" => After::Type,
                    _ if self.decls.renamable(&name) => {
                        self.rename(&segment.ident, true);
                        kind_of_segment(&name)
                    }
                    _ => After::Foreign,
                }
            } else {
                match after {
                    After::Module if name == "super" => After::Module,
                    After::Module => {
                        self.rename(&segment.ident, self.decls.renamable(&name));
                        kind_of_segment(&name)
                    }
                    After::Type => {
                        self.rename(&segment.ident, self.decls.assoc_renamable(&name));
                        After::Foreign
                    }
                    After::Foreign => After::Foreign,
                }
            };
            self.visit_path_arguments(&segment.arguments);
        }
        after
    }

    /// A field of a struct expression or pattern, shorthand or not.
    fn field(&mut self, member: &syn::Member, shorthand: bool, own: bool) -> bool {
        let syn::Member::Named(ident) = member else {
            return false;
        };
        let name = ident.to_string();
        let field = self.new_name(&name, own && self.decls.field_renamable(&name));
        if !shorthand {
            self.rename(ident, own && self.decls.field_renamable(&name));
            return false;
        }
        let binding = self.new_name(&name, self.decls.renamable(&name));
        if field == binding {
            if field != name {
                self.edits.push((source::range_of(ident), field));
            }
        } else {
            self.edits
                .push((source::range_of(ident), format!("{field}: {binding}")));
        }
        true
    }

    fn format_string(&mut self, literal: &syn::Expr) {
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(string),
            ..
        }) = literal
        else {
            return;
        };
        let range = source::range_of(string);
        let text = string.token().to_string();
        for (at, name) in source::inline_format_args(&text) {
            if self.decls.renamable(name) {
                if let Some(new) = self.names.get(name) {
                    let start = range.start + at;
                    self.edits.push((start..start + name.len(), new.clone()));
                }
            }
        }
    }

    fn use_tree(&mut self, tree: &syn::UseTree, after: After) {
        match tree {
            syn::UseTree::Path(path) => {
                let name = path.ident.to_string();
                let next = match (after, name.as_str()) {
                    (After::Module, "crate" | "self" | "super") => After::Module,
                    (After::Module, _) if self.decls.renamable(&name) => {
                        self.rename(&path.ident, true);
                        kind_of_segment(&name)
                    }
                    (After::Type, _) => {
                        self.rename(&path.ident, self.decls.assoc_renamable(&name));
                        After::Foreign
                    }
                    _ => After::Foreign,
                };
                self.use_tree(&path.tree, next);
            }
            syn::UseTree::Name(name) => self.use_leaf(&name.ident, after),
            syn::UseTree::Rename(rename) => self.use_leaf(&rename.ident, after),
            syn::UseTree::Glob(_) => {}
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.use_tree(tree, after);
                }
            }
        }
    }

    fn use_leaf(&mut self, ident: &syn::Ident, after: After) {
        let name = ident.to_string();
        match after {
            After::Module => self.rename(ident, self.decls.renamable(&name)),
            After::Type => self.rename(ident, self.decls.assoc_renamable(&name)),
            After::Foreign => {}
        }
    }
}

/// After a segment of the program: a type or trait when capitalised, else a module (or a
/// function, after which nothing follows).
fn kind_of_segment(name: &str) -> After {
    if name.starts_with(|character: char| character.is_ascii_uppercase()) {
        After::Type
    } else {
        After::Module
    }
}

impl<'a> Visit<'a> for Renamer<'_> {
    fn visit_attribute(&mut self, _: &'a syn::Attribute) {}

    fn visit_item_fn(&mut self, item: &'a syn::ItemFn) {
        self.rename(
            &item.sig.ident,
            self.decls.renamable(&item.sig.ident.to_string()),
        );
        syn::visit::visit_item_fn(self, item);
    }

    fn visit_item_struct(&mut self, item: &'a syn::ItemStruct) {
        self.rename(&item.ident, self.decls.renamable(&item.ident.to_string()));
        syn::visit::visit_item_struct(self, item);
    }

    fn visit_item_enum(&mut self, item: &'a syn::ItemEnum) {
        self.rename(&item.ident, self.decls.renamable(&item.ident.to_string()));
        syn::visit::visit_item_enum(self, item);
    }

    fn visit_item_union(&mut self, item: &'a syn::ItemUnion) {
        self.rename(&item.ident, self.decls.renamable(&item.ident.to_string()));
        syn::visit::visit_item_union(self, item);
    }

    fn visit_item_type(&mut self, item: &'a syn::ItemType) {
        self.rename(&item.ident, self.decls.renamable(&item.ident.to_string()));
        syn::visit::visit_item_type(self, item);
    }

    fn visit_item_trait(&mut self, item: &'a syn::ItemTrait) {
        self.rename(&item.ident, self.decls.renamable(&item.ident.to_string()));
        syn::visit::visit_item_trait(self, item);
    }

    fn visit_trait_item_fn(&mut self, item: &'a syn::TraitItemFn) {
        let name = item.sig.ident.to_string();
        self.rename(&item.sig.ident, self.decls.method_renamable(&name));
        syn::visit::visit_trait_item_fn(self, item);
    }

    fn visit_trait_item_const(&mut self, item: &'a syn::TraitItemConst) {
        self.rename(&item.ident, self.decls.renamable(&item.ident.to_string()));
        syn::visit::visit_trait_item_const(self, item);
    }

    fn visit_item_const(&mut self, item: &'a syn::ItemConst) {
        self.rename(&item.ident, self.decls.renamable(&item.ident.to_string()));
        syn::visit::visit_item_const(self, item);
    }

    fn visit_item_static(&mut self, item: &'a syn::ItemStatic) {
        self.rename(&item.ident, self.decls.renamable(&item.ident.to_string()));
        syn::visit::visit_item_static(self, item);
    }

    fn visit_item_mod(&mut self, item: &'a syn::ItemMod) {
        self.rename(&item.ident, self.decls.renamable(&item.ident.to_string()));
        syn::visit::visit_item_mod(self, item);
    }

    fn visit_item_use(&mut self, item: &'a syn::ItemUse) {
        let after = if item.leading_colon.is_some() {
            After::Foreign
        } else {
            After::Module
        };
        self.use_tree(&item.tree, after);
    }

    fn visit_item_impl(&mut self, item: &'a syn::ItemImpl) {
        let own_trait = item.trait_.as_ref().map(|(path, _)| {
            let last = path
                .segments
                .last()
                .map(|segment| segment.ident.to_string());
            let first = path
                .segments
                .first()
                .map(|segment| segment.ident.to_string());
            matches!(first.as_deref(), Some("crate" | "self" | "super"))
                || last.is_some_and(|last| self.decls.own_traits.contains(&last))
        });
        for impl_item in &item.items {
            match (impl_item, own_trait) {
                (syn::ImplItem::Fn(function), None | Some(true)) => {
                    let name = function.sig.ident.to_string();
                    self.rename(&function.sig.ident, self.decls.method_renamable(&name));
                }
                (syn::ImplItem::Const(constant), None | Some(true)) => {
                    let name = constant.ident.to_string();
                    self.rename(&constant.ident, self.decls.renamable(&name));
                }
                _ => {}
            }
        }
        syn::visit::visit_item_impl(self, item);
    }

    fn visit_variant(&mut self, variant: &'a syn::Variant) {
        self.rename(
            &variant.ident,
            self.decls.renamable(&variant.ident.to_string()),
        );
        syn::visit::visit_variant(self, variant);
    }

    fn visit_field(&mut self, field: &'a syn::Field) {
        if let Some(ident) = &field.ident {
            self.rename(ident, self.decls.field_renamable(&ident.to_string()));
        }
        syn::visit::visit_field(self, field);
    }

    fn visit_pat_ident(&mut self, pat: &'a syn::PatIdent) {
        self.rename(&pat.ident, self.decls.renamable(&pat.ident.to_string()));
        if let Some((_, subpat)) = &pat.subpat {
            self.visit_pat(subpat);
        }
    }

    fn visit_path(&mut self, path: &'a syn::Path) {
        self.path(path);
    }

    fn visit_expr_method_call(&mut self, call: &'a syn::ExprMethodCall) {
        let name = call.method.to_string();
        self.rename(&call.method, self.decls.method_renamable(&name));
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_field(&mut self, field: &'a syn::ExprField) {
        if let syn::Member::Named(ident) = &field.member {
            self.rename(ident, self.decls.field_renamable(&ident.to_string()));
        }
        self.visit_expr(&field.base);
    }

    fn visit_expr_struct(&mut self, expr: &'a syn::ExprStruct) {
        let own = match &expr.qself {
            Some(qself) => {
                self.visit_qself(qself);
                true
            }
            None => self.path(&expr.path) != After::Foreign,
        };
        for field in &expr.fields {
            let shorthand = field.colon_token.is_none();
            if !self.field(&field.member, shorthand, own) {
                self.visit_expr(&field.expr);
            }
        }
        if let Some(rest) = &expr.rest {
            self.visit_expr(rest);
        }
    }

    fn visit_pat_struct(&mut self, pat: &'a syn::PatStruct) {
        let own = match &pat.qself {
            Some(qself) => {
                self.visit_qself(qself);
                true
            }
            None => self.path(&pat.path) != After::Foreign,
        };
        for field in &pat.fields {
            let shorthand = field.colon_token.is_none();
            if self.field(&field.member, shorthand, own) {
                // `Foo { ref mut x }`: the binding's modifiers stay before the field.
                if let syn::Pat::Ident(ident) = &*field.pat {
                    if let Some((_, subpat)) = &ident.subpat {
                        self.visit_pat(subpat);
                    }
                }
            } else {
                self.visit_pat(&field.pat);
            }
        }
    }

    fn visit_macro(&mut self, mac: &'a syn::Macro) {
        let Some(args) = source::parse_macro_args(mac) else {
            return;
        };
        match &args {
            MacroArgs::ThreadLocal(statics) => {
                for local in statics {
                    self.rename(&local.ident, self.decls.renamable(&local.ident.to_string()));
                }
            }
            MacroArgs::Exprs {
                exprs,
                format: Some(index),
            } => {
                if let Some(format) = exprs.get(*index) {
                    self.format_string(format);
                }
            }
            _ => {}
        }
        source::visit_macro_args(self, &args);
    }
}

/// `rename`.
pub(crate) fn rename(source: &Source) -> Rewritten {
    let mut decls = Declarations::default();
    decls.reserved.extend(
        RESERVED
            .iter()
            .chain(EXTERNAL_CRATES)
            .map(|name| (*name).to_owned()),
    );
    for module in &source.path_modules {
        if let Ok(file) = syn::parse_file(&module.text) {
            decls.reserved.extend(source::idents_of(&file));
        }
    }
    // The program's traits first: an impl of one is the program's, its methods renamed.
    for item in all_traits(&source.file) {
        decls.own_traits.insert(item);
    }
    Collector { decls: &mut decls }.visit_file(&source.file);

    let renamable: Vec<(&String, Kind)> = decls
        .kinds
        .iter()
        .filter(|(name, _)| decls.renamable(name))
        .map(|(name, kinds)| (name, *kinds.iter().next().unwrap()))
        .collect();
    let hidden: Vec<&String> = names_in_unknown_macros(&source.file)
        .into_iter()
        .filter(|name| decls.renamable(name))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter_map(|name| decls.kinds.get_key_value(&name).map(|(name, _)| name))
        .collect();
    if !hidden.is_empty() {
        return Rewritten::NotApplicable(format!(
            "a macro whose syntax is not known names {}",
            hidden
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if renamable.is_empty() {
        return Rewritten::NotApplicable("the program declares no name of its own".to_owned());
    }
    let mut fresh = Fresh::new(source);
    let mut numbers: BTreeMap<String, usize> = BTreeMap::new();
    let mut names = BTreeMap::new();
    for (name, kind) in renamable {
        let new = loop {
            let number = numbers.entry(kind.base().to_owned()).or_insert(0);
            *number += 1;
            let candidate = styled(kind.base(), name, *number);
            if source.idents.contains(&candidate) || names.values().any(|taken| *taken == candidate)
            {
                continue;
            }
            break fresh.plain(&candidate);
        };
        names.insert(name.clone(), new);
    }
    let mut renamer = Renamer {
        decls: &decls,
        names: &names,
        edits: Vec::new(),
    };
    renamer.visit_file(&source.file);
    let mut edits = Edits::default();
    renamer
        .edits
        .sort_by_key(|(range, _)| (range.start, range.end));
    renamer.edits.dedup();
    for (range, text) in renamer.edits {
        edits.replace(range, text);
    }
    Rewritten::Variant(source.variant(&edits))
}

/// The names of every trait the program declares.
fn all_traits(file: &syn::File) -> BTreeSet<String> {
    struct Traits(BTreeSet<String>);
    impl<'a> Visit<'a> for Traits {
        fn visit_item_trait(&mut self, item: &'a syn::ItemTrait) {
            self.0.insert(item.ident.to_string());
            syn::visit::visit_item_trait(self, item);
        }
    }
    let mut traits = Traits(BTreeSet::new());
    traits.visit_file(file);
    traits.0
}
