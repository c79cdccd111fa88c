//! Rewrites of library calls into other spellings of the same call, which the analyser must
//! know as well: a thread spawned through `std::thread::Builder` (`thread-spawn-via-builder`),
//! a task spawned through the runtime's `Handle` (`task-spawn-via-handle`), and an `Arc` or `Rc`
//! cloned by method call rather than by `Arc::clone` (`clone-via-method`). Each call is
//! recognised by what its path resolves to through the imports in force, not by its spelling.

use std::collections::BTreeSet;
use std::ops::Range;

use syn::visit::Visit;

use super::functions;
use super::resolve::Scopes;
use super::source::{self, Edits, Source};
use crate::metamorph::Rewritten;

/// Which rewrite of calls.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallRewrite {
    /// `thread::spawn(f)` → `std::thread::Builder::new().spawn(f).unwrap()`, and `s.spawn(f)` in
    /// `thread::scope(|s| ..)` → `std::thread::Builder::new().spawn_scoped(s, f).unwrap()`.
    ThreadBuilder,
    /// `tokio::spawn(f)` → `tokio::runtime::Handle::current().spawn(f)`, and the same for
    /// `spawn_blocking`.
    TaskHandle,
    /// `Arc::clone(&x)` → `x.clone()`.
    CloneMethod,
}

struct Finder {
    rewrite: CallRewrite,
    scopes: Scopes,
    /// The closure parameters of `thread::scope` calls being walked: the scope handles.
    scope_handles: Vec<String>,
    edits: Vec<(Range<usize>, String)>,
}

/// A library path with its root as std's (`core::`, `alloc::` read as `std::`).
fn normalized(path: Vec<String>) -> Vec<String> {
    let mut path = path;
    if let Some(root) = path
        .first_mut()
        .filter(|root| *root == "core" || *root == "alloc")
    {
        *root = "std".to_owned();
    }
    path
}

/// Whether an expression can be a method call's receiver without parentheses.
fn postfix_safe(expr: &syn::Expr) -> bool {
    matches!(
        expr,
        syn::Expr::Path(_)
            | syn::Expr::Field(_)
            | syn::Expr::MethodCall(_)
            | syn::Expr::Call(_)
            | syn::Expr::Index(_)
            | syn::Expr::Paren(_)
    )
}

impl Finder {
    fn call(&mut self, call: &syn::ExprCall) {
        let syn::Expr::Path(func) = &*call.func else {
            return;
        };
        if func.qself.is_some() {
            return;
        }
        let count = func.path.segments.len();
        let Some(full) = self.scopes.library_path(&func.path, count).map(normalized) else {
            return;
        };
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        let callee = source::range_of(&func.path);
        let last = func.path.segments.last().unwrap();
        // The callee up to its name, leaving any turbofish in place.
        let name_range = callee.start..source::range_of(&last.ident).end;
        match (self.rewrite, full.as_slice()) {
            (CallRewrite::ThreadBuilder, ["std", "thread", "spawn"]) => {
                self.edits
                    .push((name_range, "std::thread::Builder::new().spawn".to_owned()));
                let end = source::range_of(call).end;
                self.edits.push((end..end, ".unwrap()".to_owned()));
            }
            (CallRewrite::TaskHandle, ["tokio", "spawn"] | ["tokio", "task", "spawn"]) => {
                self.edits.push((
                    name_range,
                    "tokio::runtime::Handle::current().spawn".to_owned(),
                ));
            }
            (CallRewrite::TaskHandle, ["tokio", "task", "spawn_blocking"]) => {
                self.edits.push((
                    name_range,
                    "tokio::runtime::Handle::current().spawn_blocking".to_owned(),
                ));
            }
            (CallRewrite::CloneMethod, ["std", "sync" | "rc", "Arc" | "Rc", "clone"])
                if call.args.len() == 1 =>
            {
                let Some(syn::Expr::Reference(reference)) = call.args.first() else {
                    return;
                };
                if reference.mutability.is_some() {
                    return;
                }
                let inner = source::range_of(&*reference.expr);
                let whole = source::range_of(call);
                let (open, close) = if postfix_safe(&reference.expr) {
                    ("", "")
                } else {
                    ("(", ")")
                };
                self.edits.push((whole.start..inner.start, open.to_owned()));
                self.edits
                    .push((inner.end..whole.end, format!("{close}.clone()")));
            }
            _ => {}
        }
    }

    /// `s.spawn(f)` on the handle of a `thread::scope`.
    fn scoped_spawn(&mut self, call: &syn::ExprMethodCall) {
        if self.rewrite != CallRewrite::ThreadBuilder
            || call.method != "spawn"
            || call.turbofish.is_some()
        {
            return;
        }
        let syn::Expr::Path(receiver) = &*call.receiver else {
            return;
        };
        let Some(handle) = receiver.path.get_ident().map(ToString::to_string) else {
            return;
        };
        if !self.scope_handles.contains(&handle) || call.args.len() != 1 {
            return;
        }
        let whole = source::range_of(call);
        let argument = source::range_of(call.args.first().unwrap());
        self.edits.push((
            whole.start..argument.start,
            format!("std::thread::Builder::new().spawn_scoped({handle}, "),
        ));
        self.edits
            .push((argument.end..whole.end, ").unwrap()".to_owned()));
    }

    /// The scope handle a `thread::scope(|s| ..)` call names, if it is one.
    fn scope_handle(&self, call: &syn::ExprCall) -> Option<String> {
        let syn::Expr::Path(func) = &*call.func else {
            return None;
        };
        let full = normalized(
            self.scopes
                .library_path(&func.path, func.path.segments.len())?,
        );
        if full != ["std", "thread", "scope"] {
            return None;
        }
        let Some(syn::Expr::Closure(closure)) = call.args.first() else {
            return None;
        };
        match closure.inputs.first()? {
            syn::Pat::Ident(ident) => Some(ident.ident.to_string()),
            _ => None,
        }
    }
}

impl<'a> Visit<'a> for Finder {
    fn visit_item_mod(&mut self, item: &'a syn::ItemMod) {
        if self.scopes.enter_module(item) {
            syn::visit::visit_item_mod(self, item);
            self.scopes.leave();
        }
    }

    fn visit_block(&mut self, block: &'a syn::Block) {
        let entered = self.scopes.enter_block(block);
        syn::visit::visit_block(self, block);
        if entered {
            self.scopes.leave();
        }
    }

    fn visit_expr_call(&mut self, call: &'a syn::ExprCall) {
        self.call(call);
        let handle = self.scope_handle(call);
        if let Some(handle) = &handle {
            self.scope_handles.push(handle.clone());
        }
        syn::visit::visit_expr_call(self, call);
        if handle.is_some() {
            self.scope_handles.pop();
        }
    }

    fn visit_expr_method_call(&mut self, call: &'a syn::ExprMethodCall) {
        self.scoped_spawn(call);
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_macro(&mut self, mac: &'a syn::Macro) {
        if let Some(args) = source::parse_macro_args(mac) {
            source::visit_macro_args(self, &args);
        }
    }
}

/// Rewrites every call that `rewrite` is about.
pub(crate) fn rewrite_calls(source: &Source, rewrite: CallRewrite) -> Rewritten {
    let mut finder = Finder {
        rewrite,
        scopes: Scopes::new(&source.file),
        scope_handles: Vec::new(),
        edits: Vec::new(),
    };
    finder.visit_file(&source.file);
    let mut edits = Edits::default();
    for (range, text) in finder.edits {
        edits.replace(range, text);
    }
    let nothing = match rewrite {
        CallRewrite::ThreadBuilder => "no `std::thread::spawn` call and no scoped `spawn`",
        CallRewrite::TaskHandle => "no `tokio::spawn` or `spawn_blocking` call",
        CallRewrite::CloneMethod => "no `Arc::clone(&x)` or `Rc::clone(&x)` call",
    };
    functions::finish(source, edits, BTreeSet::new(), nothing)
}
