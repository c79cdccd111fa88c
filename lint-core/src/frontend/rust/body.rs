//! Lowering of function bodies into event trees, with Rust's drop order placed explicitly:
//! locals are released in reverse declaration order at the end of their scope (parameters
//! last), temporaries at the end of their statement in reverse creation order, `if let`
//! scrutinee and block-tail temporaries as the file's edition says, and early exits (`return`,
//! `?`, `break`, `continue`) release what they leave.

use proc_macro2::Span as SynSpan;
use syn::{Expr, Pat, Stmt};

use super::FileCx;
use super::items::ItemContext;
use super::macros::{
    is_defer_macro, is_diverging_macro, mentions_modelled_code, parse_expressions, parse_statements,
};
use super::types::{path_expr, self_type, sym, type_expr};
use crate::model::facts::ExitKind;
use crate::model::facts::{
    Body, BodyIdx, CallFact, CallId, Callee, Event, FnFact, FnIdx, FnKind, ImplIdx, LocalFact,
    LocalId, LocalOrigin, ModIdx, Node, ReleaseReason, SelfKind, Slot, Sym, TempFact, TempId,
    TypeExpr, Value, ValueId,
};
use crate::source::Span;
use crate::unit::Edition;

/// Where a function's syntax comes from.
pub(crate) enum FnSource<'a> {
    Item(&'a syn::ItemFn),
    ImplMethod(&'a syn::ImplItemFn),
    TraitMethod(&'a syn::TraitItemFn),
    StaticInit(&'a Expr),
}

/// Lowers an item function (with everything nested in its body) and returns its index.
pub(crate) fn lower_function(
    cx: &mut FileCx<'_>,
    source: FnSource<'_>,
    module: ModIdx,
    kind: FnKind,
    impl_idx: Option<ImplIdx>,
    is_test: bool,
) -> FnIdx {
    // Trait methods can be called from anywhere through the trait.
    let is_trait_impl =
        impl_idx.is_some_and(|index| cx.facts.impls[index.index()].trait_path.is_some());
    let (name, sig, block, span): (Sym, Option<&syn::Signature>, Option<&syn::Block>, Span) =
        match &source {
            FnSource::Item(item) => (
                sym(&item.sig.ident),
                Some(&item.sig),
                Some(&*item.block),
                cx.span(item.sig.ident.span()),
            ),
            FnSource::ImplMethod(item) => (
                sym(&item.sig.ident),
                Some(&item.sig),
                Some(&item.block),
                cx.span(item.sig.ident.span()),
            ),
            FnSource::TraitMethod(item) => (
                sym(&item.sig.ident),
                Some(&item.sig),
                item.default.as_ref(),
                cx.span(item.sig.ident.span()),
            ),
            FnSource::StaticInit(expr) => {
                ("<static>".into(), None, None, cx.span(start_span(expr)))
            }
        };
    let body_idx = cx.push_body(Body::default());
    let fn_idx = cx.push_function(FnFact {
        module,
        name,
        kind,
        body: body_idx,
        params: Vec::new(),
        ret: sig.and_then(|sig| match &sig.output {
            syn::ReturnType::Type(_, ty) => Some(type_expr(ty)),
            syn::ReturnType::Default => None,
        }),
        generics: sig
            .map(|sig| super::types::generic_names(&sig.generics))
            .unwrap_or_default(),
        is_async: sig.is_some_and(|sig| sig.asyncness.is_some()),
        span,
        nodes: Vec::new(),
        captures: Vec::new(),
        returns: Vec::new(),
        is_test,
        is_public: match &source {
            FnSource::Item(item) => matches!(item.vis, syn::Visibility::Public(_)),
            FnSource::ImplMethod(item) => {
                matches!(item.vis, syn::Visibility::Public(_)) || is_trait_impl
            }
            FnSource::TraitMethod(_) => true,
            FnSource::StaticInit(_) => false,
        },
    });
    let mut lowerer = Lowerer {
        cx,
        module,
        body_idx,
        body: Body::default(),
        scopes: Vec::new(),
        temp_scopes: Vec::new(),
        frames: vec![Frame::new(fn_idx, 0, 0, false)],
        pending_loop_context: false,
        statement_value: false,
        is_test,
    };
    let end = block
        .map(|block| lowerer.cx.span(block.brace_token.span.close()))
        .unwrap_or(span);
    lowerer.push_scope(end);
    lowerer.open_temp_scope();
    let mut params = Vec::new();
    if let Some(sig) = sig {
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(receiver) => {
                    let self_kind = super::items::self_kind(sig);
                    let ty = match &receiver.kind {
                        syn::ReceiverKind::Typed(_, ty) => type_expr(ty),
                        _ => match self_kind {
                            Some(SelfKind::Ref) => TypeExpr::Ref {
                                mutable: false,
                                inner: Box::new(self_type()),
                            },
                            Some(SelfKind::RefMut) => TypeExpr::Ref {
                                mutable: true,
                                inner: Box::new(self_type()),
                            },
                            _ => self_type(),
                        },
                    };
                    let span = lowerer.cx.span(receiver.self_token.span);
                    let by_ref = matches!(self_kind, Some(SelfKind::Ref | SelfKind::RefMut));
                    params.push(lowerer.declare_local(
                        "self".into(),
                        Some(ty),
                        None,
                        LocalOrigin::Param,
                        by_ref,
                        span,
                    ));
                }
                syn::FnArg::Typed(typed) => {
                    let ty = type_expr(&typed.ty);
                    let unknown = lowerer.value(Value::Unknown);
                    let before = lowerer.body.locals.len();
                    lowerer.bind_pattern(&typed.pat, unknown, LocalOrigin::Param, Some(ty));
                    params.extend((before..lowerer.body.locals.len()).map(LocalId::from_index));
                }
            }
        }
    }
    let result = match &source {
        FnSource::StaticInit(expr) => Some(lowerer.expr(expr, Usage::Move)),
        _ => block.map(|block| lowerer.block(block, Usage::Move)),
    };
    if let Some(result) = result {
        lowerer.frame_mut().returns.push(result);
    }
    lowerer.close_temp_scope(end);
    lowerer.pop_scope();
    let frame = lowerer.frames.pop().expect("the item frame");
    let returns = frame.returns.clone();
    let nodes = frame.into_nodes();
    let body = std::mem::take(&mut lowerer.body);
    cx.facts.bodies[body_idx.index()] = body;
    let function = &mut cx.facts.functions[fn_idx.index()];
    function.nodes = nodes;
    function.params = params;
    function.returns = returns;
    fn_idx
}

/// How an expression's value is used, which decides whether a temporary is created.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Usage {
    /// Moved into a binding, an argument, a field, a return: no temporary.
    Move,
    /// Borrowed as a place (method receiver, `&`, `*`, field base, scrutinee): a value
    /// expression gets a temporary that lives until the end of the enclosing statement.
    Borrow,
    /// The value of an expression statement, dropped at the end of the statement.
    Discard,
}

/// One function being lowered (an item, a closure, an async block or a defer body) within the
/// shared arena.
struct Frame {
    fn_idx: FnIdx,
    /// Scopes below this index belong to enclosing functions: names found there are captures.
    scope_base: usize,
    temp_base: usize,
    /// Node lists: the function's own, and one per branch arm or loop body being built.
    nodes: Vec<Vec<Node>>,
    /// (scope count, temp-scope count) at the entry of each enclosing loop, for `break` and
    /// `continue`.
    loops: Vec<(usize, usize)>,
    /// Runs many times: inside a loop here or in an enclosing function, or a closure handed to
    /// an iterator adapter.
    loop_context: bool,
    captures: Vec<LocalId>,
    returns: Vec<ValueId>,
}

impl Frame {
    fn new(fn_idx: FnIdx, scope_base: usize, temp_base: usize, loop_context: bool) -> Frame {
        Frame {
            fn_idx,
            scope_base,
            temp_base,
            nodes: vec![Vec::new()],
            loops: Vec::new(),
            loop_context,
            captures: Vec::new(),
            returns: Vec::new(),
        }
    }

    fn into_nodes(mut self) -> Vec<Node> {
        self.nodes.pop().unwrap_or_default()
    }

    fn in_loop(&self) -> bool {
        self.loop_context || !self.loops.is_empty()
    }
}

struct Scope {
    names: Vec<(Sym, LocalId)>,
    /// Slots owned by this scope, in declaration order.
    owned: Vec<Slot>,
    close: Span,
}

/// The body of a closure-like function.
enum ClosureBody<'a> {
    Expr(&'a Expr),
    Block(&'a syn::Block),
    Statements(&'a [Stmt], Span),
}

struct Lowerer<'c, 't> {
    cx: &'c mut FileCx<'t>,
    module: ModIdx,
    body_idx: BodyIdx,
    body: Body,
    scopes: Vec<Scope>,
    temp_scopes: Vec<Vec<TempId>>,
    frames: Vec<Frame>,
    /// The next closure lowered is an argument of an iterator adapter.
    pending_loop_context: bool,
    /// The next discarded value is a whole expression statement's.
    statement_value: bool,
    is_test: bool,
}

impl Lowerer<'_, '_> {
    fn frame(&self) -> &Frame {
        self.frames.last().expect("a frame")
    }

    fn frame_mut(&mut self) -> &mut Frame {
        self.frames.last_mut().expect("a frame")
    }

    fn emit(&mut self, event: Event) {
        self.frame_mut()
            .nodes
            .last_mut()
            .expect("a node list")
            .push(Node::Event(event));
    }

    fn emit_node(&mut self, node: Node) {
        self.frame_mut()
            .nodes
            .last_mut()
            .expect("a node list")
            .push(node);
    }

    /// Runs `f` collecting the nodes it emits, instead of emitting them.
    fn capture<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> (Vec<Node>, R) {
        self.frame_mut().nodes.push(Vec::new());
        let result = f(self);
        let nodes = self.frame_mut().nodes.pop().expect("the captured list");
        (nodes, result)
    }

    fn span(&self, span: SynSpan) -> Span {
        self.cx.span(span)
    }

    fn value(&mut self, value: Value) -> ValueId {
        let id = ValueId::from_index(self.body.values.len());
        self.body.values.push(value);
        let function = self.frame().fn_idx;
        self.body.value_fns.push(function);
        id
    }

    fn unknown(&mut self) -> ValueId {
        self.value(Value::Unknown)
    }

    // ----- scopes, locals, temporaries -----

    fn push_scope(&mut self, close: Span) {
        self.scopes.push(Scope {
            names: Vec::new(),
            owned: Vec::new(),
            close,
        });
    }

    fn pop_scope(&mut self) {
        let scope = self.scopes.pop().expect("a scope");
        for slot in scope.owned.into_iter().rev() {
            self.emit(Event::Release {
                slot,
                span: scope.close,
                reason: ReleaseReason::ScopeEnd,
            });
        }
    }

    fn declare_local(
        &mut self,
        name: Sym,
        ty: Option<TypeExpr>,
        init: Option<ValueId>,
        origin: LocalOrigin,
        by_ref: bool,
        span: Span,
    ) -> LocalId {
        let id = LocalId::from_index(self.body.locals.len());
        let in_loop = self.frame().in_loop();
        self.body.locals.push(LocalFact {
            name: name.clone(),
            ty,
            init,
            origin,
            by_ref,
            span,
            in_loop,
        });
        let scope = self.scopes.last_mut().expect("a scope");
        scope.names.push((name, id));
        if !by_ref {
            scope.owned.push(Slot::Local(id));
        }
        self.emit(Event::Bind(Slot::Local(id)));
        id
    }

    /// A local of that name is in scope.
    fn is_local_name(&self, name: &str) -> bool {
        self.scopes.iter().any(|scope| {
            scope
                .names
                .iter()
                .any(|(candidate, _)| &**candidate == name)
        })
    }

    fn lookup(&mut self, name: &str) -> Option<LocalId> {
        for (index, scope) in self.scopes.iter().enumerate().rev() {
            if let Some((_, local)) = scope
                .names
                .iter()
                .rev()
                .find(|(candidate, _)| &**candidate == name)
            {
                let local = *local;
                // Every function between the declaring scope and here captures it.
                for frame in self.frames.iter_mut().rev() {
                    if frame.scope_base <= index {
                        break;
                    }
                    if !frame.captures.contains(&local) {
                        frame.captures.push(local);
                    }
                }
                return Some(local);
            }
        }
        None
    }

    fn open_temp_scope(&mut self) {
        self.temp_scopes.push(Vec::new());
    }

    fn close_temp_scope(&mut self, span: Span) {
        let temps = self.temp_scopes.pop().expect("a temp scope");
        for temp in temps.into_iter().rev() {
            self.emit(Event::Release {
                slot: Slot::Temp(temp),
                span,
                reason: ReleaseReason::StatementEnd,
            });
        }
    }

    fn new_temp(&mut self, value: ValueId, span: Span) -> TempId {
        let id = TempId::from_index(self.body.temps.len());
        self.body.temps.push(TempFact {
            value,
            span,
            statement_value: false,
        });
        match self.temp_scopes.last_mut() {
            Some(scope) => scope.push(id),
            None => {
                // A temporary outside any statement (a static initializer): it lives as long as
                // the innermost scope.
                if let Some(scope) = self.scopes.last_mut() {
                    scope.owned.push(Slot::Temp(id));
                }
            }
        }
        self.emit(Event::Bind(Slot::Temp(id)));
        id
    }

    /// A value expression used as a place or discarded lives in a temporary.
    fn maybe_temp(&mut self, value: ValueId, usage: Usage, span: Span) -> ValueId {
        if usage != Usage::Move && is_value_expression(&self.body.values[value.index()]) {
            let temp = self.new_temp(value, span);
            if usage == Usage::Discard && std::mem::take(&mut self.statement_value) {
                self.body.temps[temp.index()].statement_value = true;
            }
        }
        value
    }

    /// Releases what an early exit leaves: the current frame's temporaries, innermost first,
    /// then its scopes down to `scope_floor`.
    fn release_for_exit(&mut self, scope_floor: usize, temp_floor: usize, span: Span) {
        let mut releases = Vec::new();
        for temps in self.temp_scopes[temp_floor.min(self.temp_scopes.len())..]
            .iter()
            .rev()
        {
            for &temp in temps.iter().rev() {
                releases.push(Slot::Temp(temp));
            }
        }
        for scope in self.scopes[scope_floor.min(self.scopes.len())..]
            .iter()
            .rev()
        {
            for &slot in scope.owned.iter().rev() {
                releases.push(slot);
            }
        }
        for slot in releases {
            self.emit(Event::Release {
                slot,
                span,
                reason: ReleaseReason::EarlyExit,
            });
        }
    }

    fn push_call(
        &mut self,
        callee: Callee,
        args: Vec<ValueId>,
        span: Span,
        tail_span: Span,
    ) -> CallId {
        let id = CallId::from_index(self.body.calls.len());
        let function = self.frame().fn_idx;
        let in_loop = self.frame().in_loop();
        self.body.calls.push(CallFact {
            callee,
            args,
            span,
            tail_span,
            function,
            in_loop,
        });
        self.emit(Event::Call(id));
        id
    }

    // ----- statements and blocks -----

    fn block(&mut self, block: &syn::Block, usage: Usage) -> ValueId {
        let close = self.span(block.brace_token.span.close());
        self.statements(&block.stmts, close, usage)
    }

    fn statements(&mut self, statements: &[Stmt], close: Span, usage: Usage) -> ValueId {
        self.push_scope(close);
        let mut result = None;
        let count = statements.len();
        for (index, statement) in statements.iter().enumerate() {
            let last = index + 1 == count;
            if self.cx.is_configured_out(statement_attributes(statement)) {
                continue;
            }
            match statement {
                Stmt::Local(local) => self.let_statement(local),
                Stmt::Item(item) => {
                    let context = ItemContext {
                        in_test: self.is_test,
                    };
                    self.cx
                        .lower_items(std::slice::from_ref(item), self.module, context);
                }
                Stmt::Expr(expr, semi) => {
                    if last && semi.is_none() {
                        result = Some(self.tail(expr, usage));
                    } else {
                        let end = match semi {
                            Some(semi) => self.span(semi.span),
                            None => self.span(end_span(expr)),
                        };
                        self.open_temp_scope();
                        self.statement_value = semi.is_some();
                        self.expr(expr, Usage::Discard);
                        self.statement_value = false;
                        self.close_temp_scope(end);
                    }
                }
                Stmt::Macro(statement) => {
                    let end = match &statement.semi_token {
                        Some(semi) => self.span(semi.span),
                        None => self.span(statement.mac.delimiter.span().close()),
                    };
                    self.open_temp_scope();
                    self.macro_call(&statement.mac, Usage::Discard);
                    self.close_temp_scope(end);
                }
            }
        }
        self.pop_scope();
        match result {
            Some(value) => value,
            None => self.unknown(),
        }
    }

    /// A block's tail expression: in edition 2024 its temporaries are dropped before the
    /// block's locals; before 2024 they belong to the enclosing statement and outlive them.
    fn tail(&mut self, expr: &Expr, usage: Usage) -> ValueId {
        if self.cx.edition >= Edition::E2024 {
            self.open_temp_scope();
            let value = self.expr(expr, usage);
            let end = self.span(end_span(expr));
            self.close_temp_scope(end);
            value
        } else {
            self.expr(expr, usage)
        }
    }

    fn let_statement(&mut self, local: &syn::Local) {
        let end = self.span(local.semi_token.span);
        self.open_temp_scope();
        let wildcard = is_wildcard(&local.pat);
        let init = match &local.init {
            Some(init) => {
                let value = if wildcard {
                    self.expr(&init.expr, Usage::Discard)
                } else {
                    self.let_initializer(&init.expr)
                };
                if let Some((_, diverge)) = &init.diverge {
                    let (nodes, _) = self.capture(|lowerer| {
                        lowerer.expr(diverge, Usage::Discard);
                        let span = lowerer.span(end_span(diverge));
                        lowerer.emit(Event::Exit {
                            span,
                            kind: ExitKind::Function,
                        });
                    });
                    self.emit_node(Node::Branch(vec![nodes, Vec::new()]));
                }
                Some(value)
            }
            None => None,
        };
        if !wildcard {
            let value = match init {
                Some(value) => value,
                None => self.unknown(),
            };
            let has_init = local.init.is_some();
            self.bind_let_pattern(&local.pat, value, has_init);
        }
        self.close_temp_scope(end);
    }

    /// `let x = &temporary();` extends the temporary to the enclosing block.
    fn let_initializer(&mut self, expr: &Expr) -> ValueId {
        if let Expr::Reference(reference) = strip_parens(expr) {
            let inner_expr = strip_parens(&reference.expr);
            // `&place` borrows the place; only a value expression makes a temporary.
            let usage = if matches!(
                inner_expr,
                Expr::Path(_)
                    | Expr::Field(_)
                    | Expr::Index(_)
                    | Expr::Unary(syn::ExprUnary {
                        op: syn::UnOp::Deref(_),
                        ..
                    })
            ) {
                Usage::Borrow
            } else {
                Usage::Move
            };
            let inner = self.expr(inner_expr, usage);
            if is_value_expression(&self.body.values[inner.index()]) {
                let span = self.span(start_span(inner_expr));
                let id = TempId::from_index(self.body.temps.len());
                self.body.temps.push(TempFact {
                    value: inner,
                    span,
                    statement_value: false,
                });
                self.scopes
                    .last_mut()
                    .expect("a scope")
                    .owned
                    .push(Slot::Temp(id));
                self.emit(Event::Bind(Slot::Temp(id)));
            }
            return self.value(Value::Ref {
                inner,
                mutable: reference.mutability.is_some(),
            });
        }
        self.expr(expr, Usage::Move)
    }

    fn bind_let_pattern(&mut self, pat: &Pat, value: ValueId, has_init: bool) {
        match pat {
            Pat::Ident(ident) if ident.subpat.is_none() => {
                let span = self.span(ident.ident.span());
                let init = if has_init { Some(value) } else { None };
                self.declare_local(
                    sym(&ident.ident),
                    None,
                    init,
                    LocalOrigin::Let,
                    ident.by_ref.is_some(),
                    span,
                );
            }
            Pat::Type(typed) => match &*typed.pat {
                Pat::Ident(ident) if ident.subpat.is_none() => {
                    let span = self.span(ident.ident.span());
                    let init = if has_init { Some(value) } else { None };
                    let ty = type_expr(&typed.ty);
                    self.declare_local(
                        sym(&ident.ident),
                        Some(ty),
                        init,
                        LocalOrigin::Let,
                        ident.by_ref.is_some(),
                        span,
                    );
                }
                inner => {
                    self.bind_pattern(inner, value, LocalOrigin::Let, Some(type_expr(&typed.ty)))
                }
            },
            _ => self.bind_pattern(pat, value, LocalOrigin::Let, None),
        }
    }

    /// Binds every name of a pattern matched against `value`.
    fn bind_pattern(
        &mut self,
        pat: &Pat,
        value: ValueId,
        origin: LocalOrigin,
        ty: Option<TypeExpr>,
    ) {
        match pat {
            Pat::Ident(ident) => {
                let name = sym(&ident.ident);
                // In `match` and `if let`, a capitalised identifier is a constant or a unit
                // variant (`None`, `MAX`), not a binding.
                let is_binding = origin != LocalOrigin::Pattern
                    || !name.starts_with(|c: char| c.is_ascii_uppercase());
                if is_binding {
                    let span = self.span(ident.ident.span());
                    self.declare_local(
                        name,
                        ty,
                        Some(value),
                        origin.clone(),
                        ident.by_ref.is_some(),
                        span,
                    );
                }
                if let Some((_, subpattern)) = &ident.subpat {
                    self.bind_pattern(subpattern, value, origin, None);
                }
            }
            Pat::Type(typed) => {
                self.bind_pattern(&typed.pat, value, origin, Some(type_expr(&typed.ty)))
            }
            Pat::TupleStruct(tuple) => {
                let constructor = tuple
                    .path
                    .segments
                    .last()
                    .map(|segment| sym(&segment.ident))
                    .unwrap_or_default();
                let payload =
                    matches!(&*constructor, "Some" | "Ok" | "Err") && tuple.elems.len() == 1;
                for (index, element) in tuple.elems.iter().enumerate() {
                    // `Some(_)` binds nothing: the value is not moved out of the scrutinee.
                    if matches!(element, Pat::Wild(_) | Pat::Rest(_)) {
                        continue;
                    }
                    let element_value = if payload {
                        self.value(Value::Payload {
                            of: value,
                            constructor: constructor.clone(),
                        })
                    } else {
                        self.value(Value::Field {
                            base: value,
                            name: index.to_string().into_boxed_str(),
                        })
                    };
                    self.bind_pattern(element, element_value, origin.clone(), None);
                }
            }
            Pat::Struct(structure) => {
                for field in &structure.fields {
                    let name = match &field.member {
                        syn::Member::Named(ident) => sym(ident),
                        syn::Member::Unnamed(index) => index.index.to_string().into_boxed_str(),
                    };
                    let field_value = self.value(Value::Field { base: value, name });
                    self.bind_pattern(&field.pat, field_value, origin.clone(), None);
                }
            }
            Pat::Tuple(tuple) => {
                for (index, element) in tuple.elems.iter().enumerate() {
                    let element_value = self.value(Value::Field {
                        base: value,
                        name: index.to_string().into_boxed_str(),
                    });
                    self.bind_pattern(element, element_value, origin.clone(), None);
                }
            }
            Pat::Slice(slice) => {
                for element in &slice.elems {
                    let element_value = self.value(Value::Element(value));
                    self.bind_pattern(element, element_value, origin.clone(), None);
                }
            }
            Pat::Reference(reference) => {
                let inner = self.value(Value::Deref(value));
                self.bind_pattern(&reference.pat, inner, origin, None);
            }
            Pat::Or(or) => {
                if let Some(first) = or.cases.first() {
                    self.bind_pattern(first, value, origin, ty);
                }
            }
            Pat::Paren(paren) => self.bind_pattern(&paren.pat, value, origin, ty),
            Pat::Guard(guard) => {
                self.bind_pattern(&guard.pat, value, origin, ty);
                self.expr(&guard.guard, Usage::Move);
            }
            _ => {}
        }
    }

    // ----- expressions -----

    fn expr(&mut self, expr: &Expr, usage: Usage) -> ValueId {
        match expr {
            Expr::Array(array) => {
                let elements = array
                    .elems
                    .iter()
                    .map(|element| self.expr(element, Usage::Move))
                    .collect();
                let value = self.value(Value::Array(elements));
                self.maybe_temp(value, usage, self.cx.span(array.bracket_token.span.open()))
            }
            Expr::Assign(assign) => {
                let value = self.expr(&assign.right, Usage::Move);
                let target = self.expr(&assign.left, Usage::Borrow);
                let span = self.span(assign.eq_token.span);
                self.emit(Event::Assign {
                    target,
                    value,
                    span,
                });
                self.unknown()
            }
            Expr::Async(block) => {
                let span = self.span(block.async_token.span);
                let parent = self.frame().fn_idx;
                let kind = FnKind::AsyncBlock {
                    parent,
                    is_move: block.capture.is_some(),
                };
                self.closure_like(
                    kind,
                    &[],
                    ClosureBody::Block(&block.block),
                    block.capture.is_some(),
                    span,
                )
            }
            Expr::Await(await_expr) => {
                let base = self.expr(&await_expr.base, Usage::Move);
                let span = self.cx.span(await_expr.await_token.span);
                self.emit(Event::Suspend { span });
                let value = self.value(Value::Await(base));
                self.maybe_temp(value, usage, self.cx.span(await_expr.await_token.span))
            }
            Expr::Binary(binary) => self.binary(binary),
            Expr::Block(block) => self.block(&block.block, usage),
            Expr::Break(break_expr) => {
                if let Some(value) = &break_expr.expr {
                    self.expr(value, Usage::Move);
                }
                let span = self.span(break_expr.break_token.span);
                self.loop_exit(span);
                self.unknown()
            }
            Expr::Call(call) => self.call(call, usage),
            Expr::Cast(cast) => {
                let inner = self.expr(&cast.expr, Usage::Move);
                self.value(Value::Cast {
                    inner,
                    ty: type_expr(&cast.ty),
                })
            }
            Expr::Closure(closure) => {
                let span = self.span(closure.inputs_begin.span);
                let parent = self.frame().fn_idx;
                let is_move = closure.capture.is_some();
                let inputs: Vec<&Pat> = closure.inputs.iter().collect();
                if closure.asyncness.is_some() {
                    let kind = FnKind::AsyncBlock { parent, is_move };
                    self.closure_like(
                        kind,
                        &inputs,
                        ClosureBody::Expr(&closure.body),
                        is_move,
                        span,
                    )
                } else {
                    let kind = FnKind::Closure { parent, is_move };
                    self.closure_like(
                        kind,
                        &inputs,
                        ClosureBody::Expr(&closure.body),
                        is_move,
                        span,
                    )
                }
            }
            Expr::Const(block) => self.block(&block.block, usage),
            Expr::Continue(continue_expr) => {
                let span = self.span(continue_expr.continue_token.span);
                self.loop_exit(span);
                self.unknown()
            }
            Expr::Field(field) => {
                let base = self.expr(&field.base, Usage::Borrow);
                let name = match &field.member {
                    syn::Member::Named(ident) => sym(ident),
                    syn::Member::Unnamed(index) => index.index.to_string().into_boxed_str(),
                };
                self.value(Value::Field { base, name })
            }
            Expr::ForLoop(for_loop) => self.for_loop(for_loop),
            Expr::Group(group) => self.expr(&group.expr, usage),
            Expr::If(if_expr) => self.if_expr(if_expr, usage),
            Expr::Index(index) => {
                let base = self.expr(&index.expr, Usage::Borrow);
                self.expr(&index.index, Usage::Move);
                self.value(Value::Index { base })
            }
            Expr::Let(let_expr) => {
                // A `let` outside an `if`/`while` condition (inside `matches!`-like macros or
                // let chains in other positions): bind in the current scope.
                let scrutinee = self.expr(&let_expr.expr, Usage::Borrow);
                self.bind_pattern(&let_expr.pat, scrutinee, LocalOrigin::Pattern, None);
                self.value(Value::Literal)
            }
            Expr::Lit(_) => self.value(Value::Literal),
            Expr::Loop(loop_expr) => {
                let close = self.span(loop_expr.body.brace_token.span.close());
                self.loop_body(|lowerer| {
                    lowerer.statements(&loop_expr.body.stmts, close, Usage::Discard);
                });
                self.unknown()
            }
            Expr::Macro(mac) => self.macro_call(&mac.mac, usage),
            Expr::Match(match_expr) => self.match_expr(match_expr, usage),
            Expr::MethodCall(call) => self.method_call(call, usage),
            Expr::Paren(paren) => self.expr(&paren.expr, usage),
            Expr::Path(path) => self.path_value(path, usage),
            Expr::Range(range) => {
                if let Some(start) = &range.start {
                    self.expr(start, Usage::Move);
                }
                if let Some(end) = &range.end {
                    self.expr(end, Usage::Move);
                }
                self.value(Value::Literal)
            }
            Expr::RawAddr(raw) => {
                let inner = self.expr(&raw.expr, Usage::Borrow);
                let mutable = matches!(raw.mutability, syn::PointerMutability::Mut(_));
                self.value(Value::RawRef { inner, mutable })
            }
            Expr::Reference(reference) => {
                let inner = self.expr(&reference.expr, Usage::Borrow);
                self.value(Value::Ref {
                    inner,
                    mutable: reference.mutability.is_some(),
                })
            }
            Expr::Repeat(repeat) => {
                let element = self.expr(&repeat.expr, Usage::Move);
                self.value(Value::Array(vec![element]))
            }
            Expr::Return(return_expr) => {
                if let Some(value) = &return_expr.expr {
                    let value = self.expr(value, Usage::Move);
                    self.frame_mut().returns.push(value);
                }
                let span = self.span(return_expr.return_token.span);
                let (scope_base, temp_base) = (self.frame().scope_base, self.frame().temp_base);
                self.release_for_exit(scope_base, temp_base, span);
                self.emit(Event::Exit {
                    span,
                    kind: ExitKind::Function,
                });
                self.unknown()
            }
            Expr::Struct(structure) => {
                let kept: Vec<&syn::FieldValue> = structure
                    .fields
                    .iter()
                    .filter(|field| !self.cx.is_configured_out(&field.attrs))
                    .collect();
                let fields = kept
                    .into_iter()
                    .map(|field| {
                        let name = match &field.member {
                            syn::Member::Named(ident) => sym(ident),
                            syn::Member::Unnamed(index) => index.index.to_string().into_boxed_str(),
                        };
                        (name, self.expr(&field.expr, Usage::Move))
                    })
                    .collect();
                let rest = structure
                    .rest
                    .as_ref()
                    .map(|rest| self.expr(rest, Usage::Borrow));
                let path = path_expr(&structure.path, structure.qself.as_ref());
                let span = self
                    .cx
                    .span_between(start_span(expr), structure.brace_token.span.close());
                let value = self.value(Value::Struct {
                    path,
                    fields,
                    rest,
                    span,
                });
                self.maybe_temp(value, usage, span)
            }
            Expr::Try(try_expr) => {
                let inner = self.expr(&try_expr.expr, Usage::Move);
                let span = self.span(try_expr.question_token.span);
                let (scope_base, temp_base) = (self.frame().scope_base, self.frame().temp_base);
                let (exit, _) = self.capture(|lowerer| {
                    lowerer.release_for_exit(scope_base, temp_base, span);
                    lowerer.emit(Event::Exit {
                        span,
                        kind: ExitKind::Function,
                    });
                });
                self.emit_node(Node::Branch(vec![exit, Vec::new()]));
                let value = self.value(Value::Try(inner));
                self.maybe_temp(value, usage, span)
            }
            Expr::TryBlock(block) => self.block(&block.block, usage),
            Expr::Tuple(tuple) => {
                let elements = tuple
                    .elems
                    .iter()
                    .map(|element| self.expr(element, Usage::Move))
                    .collect();
                self.value(Value::Tuple(elements))
            }
            Expr::Unary(unary) => match unary.op {
                syn::UnOp::Deref(_) => {
                    let inner = self.expr(&unary.expr, Usage::Borrow);
                    self.value(Value::Deref(inner))
                }
                _ => {
                    self.expr(&unary.expr, Usage::Move);
                    self.value(Value::Literal)
                }
            },
            Expr::Unsafe(block) => self.block(&block.block, usage),
            Expr::While(while_expr) => self.while_loop(while_expr),
            Expr::Yield(yield_expr) => {
                if let Some(value) = &yield_expr.expr {
                    self.expr(value, Usage::Move);
                }
                self.unknown()
            }
            _ => self.unknown(),
        }
    }

    fn binary(&mut self, binary: &syn::ExprBinary) -> ValueId {
        use syn::BinOp;
        match binary.op {
            BinOp::And(_) | BinOp::Or(_) => {
                self.expr(&binary.left, Usage::Move);
                let (right, _) = self.capture(|lowerer| lowerer.expr(&binary.right, Usage::Move));
                self.emit_node(Node::Branch(vec![right, Vec::new()]));
                self.value(Value::Literal)
            }
            BinOp::AddAssign(_)
            | BinOp::SubAssign(_)
            | BinOp::MulAssign(_)
            | BinOp::DivAssign(_)
            | BinOp::RemAssign(_)
            | BinOp::BitXorAssign(_)
            | BinOp::BitAndAssign(_)
            | BinOp::BitOrAssign(_)
            | BinOp::ShlAssign(_)
            | BinOp::ShrAssign(_) => {
                self.expr(&binary.right, Usage::Move);
                let target = self.expr(&binary.left, Usage::Borrow);
                let value = self.value(Value::Literal);
                let span = self.span(start_span(&binary.right));
                self.emit(Event::Assign {
                    target,
                    value,
                    span,
                });
                self.unknown()
            }
            _ => {
                self.expr(&binary.left, Usage::Move);
                self.expr(&binary.right, Usage::Move);
                self.value(Value::Literal)
            }
        }
    }

    fn path_value(&mut self, path: &syn::ExprPath, usage: Usage) -> ValueId {
        if path.qself.is_none()
            && path.path.leading_colon.is_none()
            && path.path.segments.len() == 1
        {
            let segment = &path.path.segments[0];
            if segment.arguments.is_none() {
                let name = segment.ident.to_string();
                if let Some(local) = self.lookup(&name) {
                    if usage == Usage::Move {
                        let span = self.span(segment.ident.span());
                        self.emit(Event::Move { local, span });
                    }
                    return self.value(Value::Local(local));
                }
            }
        }
        self.value(Value::Path(path_expr(&path.path, path.qself.as_ref())))
    }

    /// The local a bare path names, if any.
    fn local_of(&mut self, expr: &Expr) -> Option<LocalId> {
        match strip_parens(expr) {
            Expr::Path(path)
                if path.qself.is_none()
                    && path.path.segments.len() == 1
                    && path.path.leading_colon.is_none() =>
            {
                self.lookup(&path.path.segments[0].ident.to_string())
            }
            _ => None,
        }
    }

    fn call(&mut self, call: &syn::ExprCall, usage: Usage) -> ValueId {
        let span = self
            .cx
            .span_between(start_span(&call.func), call.paren_token.span.close());
        let names_local = |path: &syn::ExprPath| {
            path.qself.is_none()
                && path.path.leading_colon.is_none()
                && path.path.segments.len() == 1
                && self.is_local_name(&path.path.segments[0].ident.to_string())
        };
        // A call of a local (`visitor(k, v)`, `f()`) calls the value it holds: a closure, a
        // function, a func-typed parameter.
        if let Expr::Path(path) = strip_parens(&call.func)
            && !names_local(path)
        {
            let segments: Vec<String> = path
                .path
                .segments
                .iter()
                .map(|segment| segment.ident.to_string())
                .collect();
            let last = segments.last().map(String::as_str).unwrap_or("");
            let in_mem = segments.len() == 1
                || segments
                    .get(segments.len().wrapping_sub(2))
                    .is_some_and(|s| s == "mem");
            if last == "drop" && in_mem && call.args.len() == 1 && path.qself.is_none() {
                return self.explicit_drop(&call.args[0], span);
            }
            let tail = self.cx.span_between(
                path.path.segments.last().expect("a segment").ident.span(),
                call.paren_token.span.close(),
            );
            let args = call
                .args
                .iter()
                .map(|arg| self.expr(arg, Usage::Move))
                .collect();
            let callee = Callee::Path(path_expr(&path.path, path.qself.as_ref()));
            let id = self.push_call(callee, args, span, tail);
            if matches!(last, "exit" | "abort") && segments.iter().any(|s| s == "process") {
                // Diverging: nothing after it runs, and no destructor runs either.
                self.emit(Event::Exit {
                    span,
                    kind: ExitKind::Function,
                });
            }
            let value = self.value(Value::Call(id));
            return self.maybe_temp(value, usage, span);
        }
        let function = self.expr(&call.func, Usage::Borrow);
        let args = call
            .args
            .iter()
            .map(|arg| self.expr(arg, Usage::Move))
            .collect();
        let tail = self.span(call.paren_token.span.close());
        let id = self.push_call(Callee::Dynamic(function), args, span, tail);
        let value = self.value(Value::Call(id));
        self.maybe_temp(value, usage, span)
    }

    /// `drop(x)`: the value is dropped right here.
    fn explicit_drop(&mut self, arg: &Expr, span: Span) -> ValueId {
        if let Some(local) = self.local_of(arg) {
            self.emit(Event::Release {
                slot: Slot::Local(local),
                span,
                reason: ReleaseReason::Explicit,
            });
        } else {
            let value = self.expr(arg, Usage::Move);
            let temp = TempId::from_index(self.body.temps.len());
            self.body.temps.push(TempFact {
                value,
                span,
                statement_value: false,
            });
            self.emit(Event::Bind(Slot::Temp(temp)));
            self.emit(Event::Release {
                slot: Slot::Temp(temp),
                span,
                reason: ReleaseReason::Explicit,
            });
        }
        self.value(Value::Literal)
    }

    fn method_call(&mut self, call: &syn::ExprMethodCall, usage: Usage) -> ValueId {
        let receiver = self.expr(&call.receiver, Usage::Borrow);
        let name = sym(&call.method);
        let iterates = is_iterator_adapter(&name, &call.receiver);
        let mut args = Vec::with_capacity(call.args.len());
        for arg in &call.args {
            self.pending_loop_context = iterates;
            args.push(self.expr(arg, Usage::Move));
            self.pending_loop_context = false;
        }
        let turbofish = call
            .turbofish
            .as_ref()
            .map(|turbofish| {
                turbofish
                    .args
                    .iter()
                    .filter_map(|arg| match arg {
                        syn::GenericArgument::Type(ty) => Some(type_expr(ty)),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let span = self
            .cx
            .span_between(start_span(&call.receiver), call.paren_token.span.close());
        let tail = self
            .cx
            .span_between(call.method.span(), call.paren_token.span.close());
        let id = self.push_call(
            Callee::Method {
                receiver,
                name,
                turbofish,
            },
            args,
            span,
            tail,
        );
        let value = self.value(Value::Call(id));
        self.maybe_temp(value, usage, tail)
    }

    fn closure_like(
        &mut self,
        kind: FnKind,
        inputs: &[&Pat],
        body: ClosureBody<'_>,
        is_move: bool,
        span: Span,
    ) -> ValueId {
        let loop_context = self.frame().in_loop() || std::mem::take(&mut self.pending_loop_context);
        let parent = self.frame().fn_idx;
        let fn_idx = self.cx.push_function(FnFact {
            module: self.module,
            name: match &kind {
                FnKind::AsyncBlock { .. } => "{async block}".into(),
                FnKind::DeferBody { .. } => "{defer}".into(),
                _ => "{closure}".into(),
            },
            kind,
            body: self.body_idx,
            params: Vec::new(),
            ret: None,
            generics: Vec::new(),
            is_async: false,
            span,
            nodes: Vec::new(),
            captures: Vec::new(),
            returns: Vec::new(),
            is_test: self.is_test,
            is_public: false,
        });
        let _ = parent;
        let end = match &body {
            ClosureBody::Expr(expr) => self.span(end_span(expr)),
            ClosureBody::Block(block) => self.span(block.brace_token.span.close()),
            ClosureBody::Statements(_, close) => *close,
        };
        self.frames.push(Frame::new(
            fn_idx,
            self.scopes.len(),
            self.temp_scopes.len(),
            loop_context,
        ));
        self.push_scope(end);
        let mut params = Vec::new();
        for input in inputs {
            let unknown = self.unknown();
            let before = self.body.locals.len();
            self.bind_pattern(input, unknown, LocalOrigin::Param, None);
            params.extend((before..self.body.locals.len()).map(LocalId::from_index));
        }
        self.open_temp_scope();
        let result = match body {
            ClosureBody::Expr(expr) => self.expr(expr, Usage::Move),
            ClosureBody::Block(block) => self.block(block, Usage::Move),
            ClosureBody::Statements(statements, close) => {
                self.statements(statements, close, Usage::Move)
            }
        };
        self.frame_mut().returns.push(result);
        self.close_temp_scope(end);
        self.pop_scope();
        let frame = self.frames.pop().expect("the closure frame");
        let captures = frame.captures.clone();
        let returns = frame.returns.clone();
        let nodes = frame.into_nodes();
        let function = &mut self.cx.facts.functions[fn_idx.index()];
        function.nodes = nodes;
        function.params = params;
        function.captures = captures.clone();
        function.returns = returns;
        self.emit(Event::Closure(fn_idx));
        if is_move {
            for local in captures {
                self.emit(Event::Move { local, span });
            }
        }
        self.value(Value::Closure(fn_idx))
    }

    fn loop_body(&mut self, f: impl FnOnce(&mut Self)) {
        let marker = (self.scopes.len(), self.temp_scopes.len());
        let (nodes, _) = self.capture(|lowerer| {
            lowerer.frame_mut().loops.push(marker);
            f(lowerer);
            lowerer.frame_mut().loops.pop();
        });
        self.emit_node(Node::Loop(nodes));
    }

    /// `break` / `continue`: release what the loop body holds, then end the path.
    fn loop_exit(&mut self, span: Span) {
        let (scope_floor, temp_floor) = self
            .frame()
            .loops
            .last()
            .copied()
            .unwrap_or((self.frame().scope_base, self.frame().temp_base));
        self.release_for_exit(scope_floor, temp_floor, span);
        self.emit(Event::Exit {
            span,
            kind: ExitKind::Jump,
        });
    }

    fn for_loop(&mut self, for_loop: &syn::ExprForLoop) -> ValueId {
        let iterable = self.expr(&for_loop.expr, Usage::Move);
        let element = self.value(Value::Element(iterable));
        let close = self.span(for_loop.body.brace_token.span.close());
        self.loop_body(|lowerer| {
            lowerer.push_scope(close);
            lowerer.bind_pattern(&for_loop.pat, element, LocalOrigin::ForLoop, None);
            lowerer.statements(&for_loop.body.stmts, close, Usage::Discard);
            lowerer.pop_scope();
        });
        self.unknown()
    }

    fn while_loop(&mut self, while_expr: &syn::ExprWhile) -> ValueId {
        let close = self.span(while_expr.body.brace_token.span.close());
        self.loop_body(|lowerer| {
            lowerer.open_temp_scope();
            lowerer.push_scope(close);
            let is_let = lowerer.condition(&while_expr.cond);
            if !is_let {
                // A plain condition is a terminating scope: its temporaries drop before the body.
                let scope = lowerer.scopes.pop().expect("the binding scope");
                let end = lowerer.span(end_span(&while_expr.cond));
                lowerer.close_temp_scope(end);
                lowerer.scopes.push(scope);
                lowerer.statements(&while_expr.body.stmts, close, Usage::Discard);
                lowerer.pop_scope();
                lowerer.open_temp_scope();
                lowerer.close_temp_scope(close);
            } else {
                lowerer.statements(&while_expr.body.stmts, close, Usage::Discard);
                lowerer.pop_scope();
                lowerer.close_temp_scope(close);
            }
        });
        self.unknown()
    }

    /// Lowers a condition; `let` parts bind into the current scope. Returns whether it had any.
    fn condition(&mut self, condition: &Expr) -> bool {
        match strip_parens(condition) {
            Expr::Let(let_expr) => {
                let scrutinee = self.expr(&let_expr.expr, Usage::Borrow);
                self.bind_pattern(&let_expr.pat, scrutinee, LocalOrigin::Pattern, None);
                true
            }
            Expr::Binary(binary)
                if matches!(binary.op, syn::BinOp::And(_)) && contains_let(condition) =>
            {
                self.condition(&binary.left);
                self.condition(&binary.right);
                true
            }
            other => {
                self.expr(other, Usage::Move);
                false
            }
        }
    }

    fn if_expr(&mut self, if_expr: &syn::ExprIf, usage: Usage) -> ValueId {
        let then_close = self.span(if_expr.then_branch.brace_token.span.close());
        if !contains_let(&if_expr.cond) {
            self.open_temp_scope();
            self.expr(&if_expr.cond, Usage::Move);
            let end = self.span(end_span(&if_expr.cond));
            self.close_temp_scope(end);
            let (then_nodes, then_value) =
                self.capture(|lowerer| lowerer.block(&if_expr.then_branch, usage));
            let (else_nodes, else_value) = self.capture(|lowerer| {
                if_expr
                    .else_branch
                    .as_ref()
                    .map(|(_, else_expr)| lowerer.expr(else_expr, usage))
            });
            self.emit_node(Node::Branch(vec![then_nodes, else_nodes]));
            let mut values = vec![then_value];
            values.extend(else_value);
            return self.value(Value::Either(values));
        }
        // `if let` and let chains. In edition 2024 the scrutinee's temporaries drop before the
        // `else` block; before, they live until the end of the whole statement.
        let edition_2024 = self.cx.edition >= Edition::E2024;
        if edition_2024 {
            self.open_temp_scope();
        }
        let (first, rest) = split_let_chain(&if_expr.cond);
        let first_scrutinee = match first {
            Expr::Let(let_expr) => Some((self.expr(&let_expr.expr, Usage::Borrow), &*let_expr.pat)),
            other => {
                self.expr(other, Usage::Move);
                None
            }
        };
        let scrutinee_temps: Vec<TempId> = if edition_2024 {
            self.temp_scopes.last().cloned().unwrap_or_default()
        } else {
            Vec::new()
        };
        let (then_nodes, then_value) = self.capture(|lowerer| {
            lowerer.push_scope(then_close);
            if let Some((scrutinee, pat)) = first_scrutinee {
                lowerer.bind_pattern(pat, scrutinee, LocalOrigin::Pattern, None);
            }
            for part in &rest {
                lowerer.condition(part);
            }
            let value = lowerer.block(&if_expr.then_branch, usage);
            lowerer.pop_scope();
            value
        });
        let (else_nodes, else_value) = self.capture(|lowerer| {
            if edition_2024 {
                let span = lowerer.span(if_expr.if_token.span);
                for &temp in scrutinee_temps.iter().rev() {
                    lowerer.emit(Event::Release {
                        slot: Slot::Temp(temp),
                        span,
                        reason: ReleaseReason::StatementEnd,
                    });
                }
            }
            if_expr
                .else_branch
                .as_ref()
                .map(|(_, else_expr)| lowerer.expr(else_expr, usage))
        });
        self.emit_node(Node::Branch(vec![then_nodes, else_nodes]));
        if edition_2024 {
            // On the `then` path the temporaries drop after the block; on the `else` path they
            // were released already, and a second release is a no-op.
            self.close_temp_scope(then_close);
        }
        let mut values = vec![then_value];
        values.extend(else_value);
        self.value(Value::Either(values))
    }

    fn match_expr(&mut self, match_expr: &syn::ExprMatch, usage: Usage) -> ValueId {
        let scrutinee = self.expr(&match_expr.expr, Usage::Borrow);
        let mut arms = Vec::with_capacity(match_expr.arms.len());
        let mut values = Vec::with_capacity(match_expr.arms.len());
        for arm in &match_expr.arms {
            if self.cx.is_configured_out(&arm.attrs) {
                continue;
            }
            let close = self.span(end_span(&arm.body));
            let (nodes, value) = self.capture(|lowerer| {
                lowerer.push_scope(close);
                lowerer.bind_pattern(&arm.pat, scrutinee, LocalOrigin::Pattern, None);
                let value = lowerer.expr(&arm.body, usage);
                lowerer.pop_scope();
                value
            });
            arms.push(nodes);
            values.push(value);
        }
        self.emit_node(Node::Branch(arms));
        self.value(Value::Either(values))
    }

    fn macro_call(&mut self, mac: &syn::Macro, usage: Usage) -> ValueId {
        let name = mac
            .path
            .segments
            .last()
            .map(|segment| segment.ident.to_string())
            .unwrap_or_default();
        if is_defer_macro(&name) || self.cx.extensions.is_defer_macro(&name) {
            self.defer_macro(mac, &name);
            return self.unknown();
        }
        match name.as_str() {
            "addr_of" | "addr_of_mut" => {
                if let Ok(inner) = syn::parse2::<Expr>(mac.tokens.clone()) {
                    let inner = self.expr(&inner, Usage::Borrow);
                    return self.value(Value::RawRef {
                        inner,
                        mutable: name == "addr_of_mut",
                    });
                }
                self.unknown()
            }
            "thread_local" | "lazy_static" => {
                let context = ItemContext {
                    in_test: self.is_test,
                };
                self.cx.lower_item_macro(mac, self.module, context);
                self.unknown()
            }
            "vec" => {
                let elements = parse_expressions(mac.tokens.clone())
                    .iter()
                    .map(|element| self.expr(element, Usage::Move))
                    .collect();
                let value = self.value(Value::Array(elements));
                let span = self.span(mac.delimiter.span().open());
                self.maybe_temp(value, usage, span)
            }
            _ => {
                // Most macro arguments are plain values (format arguments, assertions): parsing
                // them again costs more than the rest of the lowering, so only arguments that
                // mention something the analyses model are parsed.
                let delimiter = mac.delimiter.span();
                let inside = self.cx.span_between(delimiter.open(), delimiter.close());
                if mentions_modelled_code(self.cx.text(inside)) {
                    for expression in parse_expressions(mac.tokens.clone()) {
                        self.expr(&expression, Usage::Borrow);
                    }
                }
                let span = self.span(mac.delimiter.span().open());
                if is_diverging_macro(&name) {
                    // A panic unwinds, dropping what is alive; `unreachable!()` claims its path
                    // never runs, so nothing is dropped there that could be reported.
                    if name != "unreachable" {
                        let (scope_base, temp_base) =
                            (self.frame().scope_base, self.frame().temp_base);
                        self.release_for_exit(scope_base, temp_base, span);
                    }
                    self.emit(Event::Exit {
                        span,
                        kind: ExitKind::Function,
                    });
                }
                let whole = match mac.path.segments.first() {
                    Some(first) => self.cx.span_between(first.ident.span(), delimiter.close()),
                    None => span,
                };
                let output = crate::model::known::rust_macro_effect(&name).is_some();
                let value = self.value(Value::Macro {
                    name: name.into_boxed_str(),
                    span: whole,
                });
                if output {
                    self.emit(Event::Output { value });
                }
                value
            }
        }
    }

    /// `defer! { .. }`: a hidden guard local in the current scope whose drop runs the body.
    fn defer_macro(&mut self, mac: &syn::Macro, name: &str) {
        let Some(statements) = parse_statements(mac.tokens.clone()) else {
            return;
        };
        let span = self.cx.span_between(
            mac.path.segments.first().expect("a segment").ident.span(),
            mac.delimiter.span().close(),
        );
        let close = self.span(mac.delimiter.span().close());
        let parent = self.frame().fn_idx;
        let kind = FnKind::DeferBody {
            parent,
            macro_name: name.into(),
        };
        let closure = self.closure_like(
            kind,
            &[],
            ClosureBody::Statements(&statements, close),
            false,
            span,
        );
        self.declare_local(
            format!("<{name}>").into_boxed_str(),
            None,
            Some(closure),
            LocalOrigin::DeferGuard,
            false,
            span,
        );
    }
}

fn strip_parens(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(paren) => strip_parens(&paren.expr),
        Expr::Group(group) => strip_parens(&group.expr),
        other => other,
    }
}

fn is_wildcard(pat: &Pat) -> bool {
    match pat {
        Pat::Wild(_) => true,
        Pat::Type(typed) => is_wildcard(&typed.pat),
        _ => false,
    }
}

fn contains_let(expr: &Expr) -> bool {
    match strip_parens(expr) {
        Expr::Let(_) => true,
        Expr::Binary(binary) if matches!(binary.op, syn::BinOp::And(_)) => {
            contains_let(&binary.left) || contains_let(&binary.right)
        }
        _ => false,
    }
}

/// Splits `a && b && c` into `a` and `[b, c]`.
fn split_let_chain(expr: &Expr) -> (&Expr, Vec<&Expr>) {
    let mut parts = Vec::new();
    fn collect<'e>(expr: &'e Expr, parts: &mut Vec<&'e Expr>) {
        match strip_parens(expr) {
            Expr::Binary(binary) if matches!(binary.op, syn::BinOp::And(_)) => {
                collect(&binary.left, parts);
                collect(&binary.right, parts);
            }
            other => parts.push(other),
        }
    }
    collect(expr, &mut parts);
    let first = parts.remove(0);
    (first, parts)
}

/// Values that are produced (not places), so that borrowing or discarding them creates a
/// temporary.
fn is_value_expression(value: &Value) -> bool {
    matches!(
        value,
        Value::Call(_)
            | Value::Struct { .. }
            | Value::Try(_)
            | Value::Await(_)
            | Value::Array(_)
            | Value::Macro { .. }
            | Value::Either(_)
    )
}

/// Methods whose closure argument runs once per element.
fn is_iterator_adapter(name: &str, receiver: &Expr) -> bool {
    match name {
        "for_each"
        | "try_for_each"
        | "for_each_concurrent"
        | "try_for_each_concurrent"
        | "for_each_init"
        | "for_each_with" => true,
        "map" | "flat_map" | "filter_map" | "filter" | "fold" | "try_fold" | "any" | "all"
        | "find" | "inspect" | "map_init" | "map_with" | "scan" => is_iterator_expr(receiver),
        _ => false,
    }
}

fn is_iterator_expr(expr: &Expr) -> bool {
    match strip_parens(expr) {
        Expr::Range(_) => true,
        Expr::MethodCall(call) => {
            let name = call.method.to_string();
            matches!(
                name.as_str(),
                "iter"
                    | "into_iter"
                    | "iter_mut"
                    | "par_iter"
                    | "par_iter_mut"
                    | "into_par_iter"
                    | "par_bridge"
                    | "chars"
                    | "bytes"
                    | "lines"
                    | "drain"
                    | "keys"
                    | "values"
                    | "values_mut"
                    | "enumerate"
                    | "zip"
                    | "windows"
                    | "chunks"
                    | "step_by"
                    | "rev"
                    | "take"
                    | "skip"
                    | "cycle"
            ) || is_iterator_expr(&call.receiver)
        }
        _ => false,
    }
}

/// The first token of an expression, found without turning the expression into tokens.
pub(crate) fn start_span(expr: &Expr) -> SynSpan {
    match expr {
        Expr::Array(e) => e.bracket_token.span.open(),
        Expr::Assign(e) => start_span(&e.left),
        Expr::Async(e) => e.async_token.span,
        Expr::Await(e) => start_span(&e.base),
        Expr::Binary(e) => start_span(&e.left),
        Expr::Block(e) => e.block.brace_token.span.open(),
        Expr::Break(e) => e.break_token.span,
        Expr::Call(e) => start_span(&e.func),
        Expr::Cast(e) => start_span(&e.expr),
        Expr::Closure(e) => e
            .capture
            .map(|token| token.span)
            .unwrap_or(e.inputs_begin.span),
        Expr::Continue(e) => e.continue_token.span,
        Expr::Field(e) => start_span(&e.base),
        Expr::ForLoop(e) => e.for_token.span,
        Expr::Group(e) => start_span(&e.expr),
        Expr::If(e) => e.if_token.span,
        Expr::Index(e) => start_span(&e.expr),
        Expr::Let(e) => e.let_token.span,
        Expr::Lit(e) => e.lit.span(),
        Expr::Loop(e) => e.loop_token.span,
        Expr::Macro(e) => path_start(&e.mac.path),
        Expr::Match(e) => e.match_token.span,
        Expr::MethodCall(e) => start_span(&e.receiver),
        Expr::Paren(e) => e.paren_token.span.open(),
        Expr::Path(e) => match &e.qself {
            Some(qself) => qself.lt_token.span,
            None => path_start(&e.path),
        },
        Expr::Reference(e) => e.and_token.span,
        Expr::RawAddr(e) => e.and_token.span,
        Expr::Return(e) => e.return_token.span,
        Expr::Struct(e) => path_start(&e.path),
        Expr::Try(e) => start_span(&e.expr),
        Expr::Tuple(e) => e.paren_token.span.open(),
        Expr::Unary(e) => match &e.op {
            syn::UnOp::Deref(token) => token.span,
            syn::UnOp::Not(token) => token.span,
            syn::UnOp::Neg(token) => token.span,
            _ => start_span(&e.expr),
        },
        Expr::Unsafe(e) => e.unsafe_token.span,
        Expr::While(e) => e.while_token.span,
        _ => SynSpan::call_site(),
    }
}

fn path_start(path: &syn::Path) -> SynSpan {
    match (&path.leading_colon, path.segments.first()) {
        (Some(colon), _) => colon.spans[0],
        (None, Some(segment)) => segment.ident.span(),
        (None, None) => SynSpan::call_site(),
    }
}

/// The last token of an expression, found cheaply; falls back to the first token.
pub(crate) fn end_span(expr: &Expr) -> SynSpan {
    match expr {
        Expr::Array(e) => e.bracket_token.span.close(),
        Expr::Await(e) => e.await_token.span,
        Expr::Block(e) => e.block.brace_token.span.close(),
        Expr::Call(e) => e.paren_token.span.close(),
        Expr::Field(e) => match &e.member {
            syn::Member::Named(ident) => ident.span(),
            syn::Member::Unnamed(index) => index.span,
        },
        Expr::ForLoop(e) => e.body.brace_token.span.close(),
        Expr::If(e) => match &e.else_branch {
            Some((_, else_expr)) => end_span(else_expr),
            None => e.then_branch.brace_token.span.close(),
        },
        Expr::Index(e) => e.bracket_token.span.close(),
        Expr::Loop(e) => e.body.brace_token.span.close(),
        Expr::Macro(e) => e.mac.delimiter.span().close(),
        Expr::Match(e) => e.brace_token.span.close(),
        Expr::MethodCall(e) => e.paren_token.span.close(),
        Expr::Paren(e) => e.paren_token.span.close(),
        Expr::Path(e) => e
            .path
            .segments
            .last()
            .map(|segment| segment.ident.span())
            .unwrap_or_else(|| start_span(expr)),
        Expr::Reference(e) => end_span(&e.expr),
        Expr::Struct(e) => e.brace_token.span.close(),
        Expr::Try(e) => e.question_token.span,
        Expr::Tuple(e) => e.paren_token.span.close(),
        Expr::Unary(e) => end_span(&e.expr),
        Expr::Unsafe(e) => e.block.brace_token.span.close(),
        Expr::While(e) => e.body.brace_token.span.close(),
        Expr::Closure(e) => end_span(&e.body),
        Expr::Async(e) => e.block.brace_token.span.close(),
        Expr::Binary(e) => end_span(&e.right),
        Expr::Assign(e) => end_span(&e.right),
        Expr::Lit(e) => e.lit.span(),
        _ => start_span(expr),
    }
}

/// The attributes written on a statement: on a `let`, an item, a macro, or the expression of
/// an expression statement (`#[cfg(..)] { .. }`, `#[cfg(..)] call();`).
fn statement_attributes(statement: &Stmt) -> &[syn::Attribute] {
    match statement {
        Stmt::Local(local) => &local.attrs,
        // Items check their own attributes as they are lowered.
        Stmt::Item(_) => &[],
        Stmt::Macro(statement) => &statement.attrs,
        Stmt::Expr(expr, _) => expression_attributes(expr),
    }
}

/// The outer attributes of the expression kinds that start a statement.
fn expression_attributes(expr: &Expr) -> &[syn::Attribute] {
    match expr {
        Expr::Assign(expr) => &expr.attrs,
        Expr::Async(expr) => &expr.attrs,
        Expr::Await(expr) => &expr.attrs,
        Expr::Block(expr) => &expr.attrs,
        Expr::Call(expr) => &expr.attrs,
        Expr::ForLoop(expr) => &expr.attrs,
        Expr::If(expr) => &expr.attrs,
        Expr::Loop(expr) => &expr.attrs,
        Expr::Macro(expr) => &expr.attrs,
        Expr::Match(expr) => &expr.attrs,
        Expr::MethodCall(expr) => &expr.attrs,
        Expr::Path(expr) => &expr.attrs,
        Expr::Return(expr) => &expr.attrs,
        Expr::Try(expr) => &expr.attrs,
        Expr::Unsafe(expr) => &expr.attrs,
        Expr::While(expr) => &expr.attrs,
        _ => &[],
    }
}
