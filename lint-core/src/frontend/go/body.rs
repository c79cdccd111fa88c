//! Lowering of Go function bodies into event trees. Go has no destructors: the only slots are
//! the guards of `defer` statements, bound in the function's outermost scope where they are
//! registered and released last-in-first-out at every `return`, at a `panic`, and at the end
//! of the body. `os.Exit` and `log.Fatal*` end the path without releasing them.

use tree_sitter::Node;

use super::fields::{FieldExt, field_ids};

use super::{GoCx, simple_path};
use crate::model::facts::ExitKind;
use crate::model::facts::{
    Body, BodyIdx, CallFact, CallId, Callee, Event, FnFact, FnIdx, FnKind, ImplIdx, LocalFact,
    LocalId, LocalOrigin, ModIdx, Node as FactNode, PathExpr, ReleaseReason, Slot, Sym, TypeExpr,
    Value, ValueId,
};
use crate::source::Span;

/// Lowers a function or method declaration.
pub(crate) fn lower_function(
    cx: &mut GoCx<'_>,
    node: Node<'_>,
    kind: FnKind,
    _impl_idx: Option<ImplIdx>,
) -> FnIdx {
    let name_node = node.field(field_ids().name);
    let name: Sym = name_node
        .map(|name| cx.sym(name))
        .unwrap_or_else(|| "<function>".into());
    let span = name_node
        .map(|name| cx.span(name))
        .unwrap_or_else(|| cx.span(node));
    // `main` and `init` are entry points; a method may be called `init` too.
    let is_public = name.starts_with(|c: char| c.is_ascii_uppercase())
        || (matches!(kind, FnKind::Free) && matches!(&*name, "main" | "init"));
    let ret = node
        .field(field_ids().result)
        .map(|result| result_type(cx, result));
    let mut lowerer = Lowerer::start(cx, name, kind, span, ret, is_public);
    let mut params = Vec::new();
    if let Some(receiver) = node.field(field_ids().receiver) {
        params.extend(lowerer.parameters(receiver, LocalOrigin::Param));
    }
    if let Some(parameters) = node.field(field_ids().parameters) {
        params.extend(lowerer.parameters(parameters, LocalOrigin::Param));
    }
    if let Some(result) = node.field(field_ids().result) {
        // Named results are locals declared without a value: they start as zero values.
        if result.kind() == "parameter_list" {
            lowerer.parameters(result, LocalOrigin::Let);
        }
    }
    if let Some(body) = node.field(field_ids().body) {
        lowerer.block_statements(body);
    }
    lowerer.finish(params)
}

/// Lowers the initializer of a package-level `var` as a function of its own.
pub(crate) fn lower_static_init(cx: &mut GoCx<'_>, value: Node<'_>) -> FnIdx {
    let span = cx.span(value);
    let mut lowerer = Lowerer::start(cx, "<static>".into(), FnKind::StaticInit, span, None, false);
    let result = lowerer.expr(value, Usage::Value);
    lowerer.frame_mut().returns.push(result);
    lowerer.finish(Vec::new())
}

/// A function's result type: one type, or a tuple for several results (`(T, error)`,
/// `(a, b int)`), which `x, err := f()` takes apart by position.
fn result_type(cx: &GoCx<'_>, result: Node<'_>) -> TypeExpr {
    if result.kind() == "parameter_list" {
        let mut cursor = result.walk();
        let declarations: Vec<Node<'_>> = result.named_children(&mut cursor).collect();
        let mut types = Vec::new();
        for declaration in declarations {
            let ty = declaration
                .field(field_ids().ty)
                .map(|ty| cx.type_expr(ty))
                .unwrap_or(TypeExpr::Unknown);
            let mut cursor = declaration.walk();
            let names = declaration
                .fields_of(field_ids().name, &mut cursor)
                .count()
                .max(1);
            for _ in 0..names {
                types.push(ty.clone());
            }
        }
        return match types.len() {
            0 => TypeExpr::Unknown,
            1 => types.pop().unwrap_or(TypeExpr::Unknown),
            _ => TypeExpr::Tuple(types),
        };
    }
    cx.type_expr(result)
}

/// How an expression's value is used.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Usage {
    /// Read: an index expression here reads the map or slice.
    Value,
    /// The left side of an assignment: written, not read.
    Target,
}

struct Frame {
    fn_idx: FnIdx,
    scope_base: usize,
    nodes: Vec<Vec<FactNode>>,
    loop_depth: u32,
    loop_context: bool,
    captures: Vec<LocalId>,
    returns: Vec<ValueId>,
    /// The `defer` guards registered in this function, in registration order.
    defers: Vec<LocalId>,
}

impl Frame {
    fn new(fn_idx: FnIdx, scope_base: usize, loop_context: bool) -> Frame {
        Frame {
            fn_idx,
            scope_base,
            nodes: vec![Vec::new()],
            loop_depth: 0,
            loop_context,
            captures: Vec::new(),
            returns: Vec::new(),
            defers: Vec::new(),
        }
    }

    fn in_loop(&self) -> bool {
        self.loop_context || self.loop_depth > 0
    }
}

/// Adds a function of the body `body` to the file's facts; its nodes are filled when its
/// frame closes.
fn push_function(
    cx: &mut GoCx<'_>,
    name: Sym,
    kind: FnKind,
    body: BodyIdx,
    ret: Option<TypeExpr>,
    span: Span,
    is_public: bool,
) -> FnIdx {
    let fn_idx = FnIdx::from_index(cx.facts.functions.len());
    cx.facts.functions.push(FnFact {
        module: ModIdx(0),
        name,
        kind,
        body,
        params: Vec::new(),
        ret,
        generics: Vec::new(),
        is_async: false,
        span,
        nodes: Vec::new(),
        captures: Vec::new(),
        returns: Vec::new(),
        is_test: cx.is_test_file,
        is_public,
    });
    fn_idx
}

struct Lowerer<'c, 't> {
    cx: &'c mut GoCx<'t>,
    body_idx: BodyIdx,
    body: Body,
    scopes: Vec<Vec<(Sym, LocalId)>>,
    frames: Vec<Frame>,
}

impl<'c, 't> Lowerer<'c, 't> {
    fn start(
        cx: &'c mut GoCx<'t>,
        name: Sym,
        kind: FnKind,
        span: Span,
        ret: Option<TypeExpr>,
        is_public: bool,
    ) -> Lowerer<'c, 't> {
        let body_idx = BodyIdx::from_index(cx.facts.bodies.len());
        cx.facts.bodies.push(Body::default());
        let fn_idx = push_function(cx, name, kind, body_idx, ret, span, is_public);
        Lowerer {
            cx,
            body_idx,
            body: Body::default(),
            scopes: vec![Vec::new()],
            frames: vec![Frame::new(fn_idx, 0, false)],
        }
    }

    fn finish(mut self, params: Vec<LocalId>) -> FnIdx {
        let end = self.frames[0].nodes.len();
        debug_assert_eq!(end, 1);
        self.release_defers(Span::default(), ReleaseReason::ScopeEnd);
        let frame = self.frames.pop().expect("the function's frame");
        let fn_idx = frame.fn_idx;
        let function = &mut self.cx.facts.functions[fn_idx.index()];
        function.nodes = frame.nodes.into_iter().next().unwrap_or_default();
        function.params = params;
        function.returns = frame.returns;
        self.cx.facts.bodies[self.body_idx.index()] = std::mem::take(&mut self.body);
        fn_idx
    }

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
            .push(FactNode::Event(event));
    }

    fn emit_node(&mut self, node: FactNode) {
        self.frame_mut()
            .nodes
            .last_mut()
            .expect("a node list")
            .push(node);
    }

    fn capture<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> (Vec<FactNode>, R) {
        self.frame_mut().nodes.push(Vec::new());
        let result = f(self);
        let nodes = self.frame_mut().nodes.pop().expect("the captured list");
        (nodes, result)
    }

    fn span(&self, node: Node<'_>) -> Span {
        self.cx.span(node)
    }

    fn value(&mut self, value: Value) -> ValueId {
        let id = ValueId::from_index(self.body.values.len());
        self.body.values.push(value);
        let function = self.frame().fn_idx;
        self.body.value_fns.push(function);
        id
    }

    fn literal(&mut self) -> ValueId {
        self.value(Value::Literal)
    }

    // ----- names -----

    fn declare(
        &mut self,
        name: Sym,
        ty: Option<TypeExpr>,
        init: Option<ValueId>,
        origin: LocalOrigin,
        span: Span,
    ) -> LocalId {
        let id = LocalId::from_index(self.body.locals.len());
        let in_loop = self.frame().in_loop();
        self.body.locals.push(LocalFact {
            name: name.clone(),
            ty,
            init,
            origin,
            by_ref: false,
            span,
            in_loop,
        });
        if &*name != "_" {
            self.scopes.last_mut().expect("a scope").push((name, id));
        }
        id
    }

    fn lookup(&mut self, name: &str) -> Option<LocalId> {
        for (index, scope) in self.scopes.iter().enumerate().rev() {
            if let Some(&(_, local)) = scope
                .iter()
                .rev()
                .find(|(candidate, _)| &**candidate == name)
            {
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

    fn with_scope<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        self.scopes.push(Vec::new());
        let result = f(self);
        self.scopes.pop();
        result
    }

    fn parameters(&mut self, list: Node<'_>, origin: LocalOrigin) -> Vec<LocalId> {
        let mut locals = Vec::new();
        let mut cursor = list.walk();
        let declarations: Vec<Node<'_>> = list.named_children(&mut cursor).collect();
        for declaration in declarations {
            let ty = declaration
                .field(field_ids().ty)
                .map(|ty| self.cx.type_expr(ty));
            let mut cursor = declaration.walk();
            let names: Vec<Node<'_>> = declaration
                .fields_of(field_ids().name, &mut cursor)
                .collect();
            if names.is_empty() {
                // An unnamed parameter still takes an argument.
                let span = self.span(declaration);
                locals.push(self.declare("_".into(), ty.clone(), None, origin.clone(), span));
            }
            for name in names {
                let sym = self.cx.sym(name);
                let span = self.span(name);
                locals.push(self.declare(sym, ty.clone(), None, origin.clone(), span));
            }
        }
        locals
    }

    // ----- calls -----

    fn push_call(
        &mut self,
        callee: Callee,
        args: Vec<ValueId>,
        span: Span,
        tail_span: Span,
    ) -> ValueId {
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
        self.value(Value::Call(id))
    }

    fn path_call(&mut self, name: &str, args: Vec<ValueId>, span: Span) -> ValueId {
        self.push_call(Callee::Path(simple_path(name)), args, span, span)
    }

    /// A call that does not return: the path ends, after the deferred calls when they run.
    fn diverge(&mut self, span: Span, runs_defers: bool) {
        if runs_defers {
            self.release_defers(span, ReleaseReason::EarlyExit);
        }
        self.emit(Event::Exit {
            span,
            kind: ExitKind::Function,
        });
    }

    /// Releases the registered defers, last first.
    fn release_defers(&mut self, span: Span, reason: ReleaseReason) {
        let defers = self.frame().defers.clone();
        for local in defers.into_iter().rev() {
            self.emit(Event::Release {
                slot: Slot::Local(local),
                span,
                reason,
            });
        }
    }

    // ----- statements -----

    fn block_statements(&mut self, block: Node<'_>) {
        self.with_scope(|lowerer| {
            let mut cursor = block.walk();
            let children: Vec<Node<'_>> = block.named_children(&mut cursor).collect();
            for child in children {
                if child.kind() == "statement_list" {
                    let mut cursor = child.walk();
                    let statements: Vec<Node<'_>> = child.named_children(&mut cursor).collect();
                    for statement in statements {
                        lowerer.statement(statement);
                    }
                } else {
                    lowerer.statement(child);
                }
            }
        });
    }

    fn statement_list(&mut self, node: Node<'_>) {
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        for child in children {
            if child.kind() == "statement_list" {
                self.statement_list(child);
            } else {
                self.statement(child);
            }
        }
    }

    fn statement(&mut self, node: Node<'_>) {
        match node.kind() {
            "expression_statement" => {
                if let Some(expr) = node.named_child(0) {
                    self.expr(expr, Usage::Value);
                }
            }
            "short_var_declaration" => self.short_var_declaration(node),
            "assignment_statement" => self.assignment(node),
            "inc_statement" | "dec_statement" => {
                if let Some(target) = node.named_child(0) {
                    let target = self.expr(target, Usage::Target);
                    let value = self.literal();
                    let span = self.span(node);
                    self.emit(Event::Assign {
                        target,
                        value,
                        span,
                    });
                }
            }
            "var_declaration" => self.var_declaration(node),
            "return_statement" => {
                if let Some(list) = node.named_child(0) {
                    let values = self.expression_list(list);
                    self.frame_mut().returns.extend(values);
                }
                let span = self.span(node);
                self.release_defers(span, ReleaseReason::EarlyExit);
                self.emit(Event::Exit {
                    span,
                    kind: ExitKind::Function,
                });
            }
            "if_statement" => self.if_statement(node),
            "for_statement" => self.for_statement(node),
            "expression_switch_statement" | "type_switch_statement" => self.switch_statement(node),
            "select_statement" => self.select_statement(node),
            "block" => self.block_statements(node),
            "labeled_statement" => {
                let mut cursor = node.walk();
                let inner: Vec<Node<'_>> = node
                    .named_children(&mut cursor)
                    .filter(|child| child.kind() != "label_name")
                    .collect();
                for statement in inner {
                    self.statement(statement);
                }
            }
            "break_statement" | "continue_statement" | "goto_statement" => {
                let span = self.span(node);
                self.emit(Event::Exit {
                    span,
                    kind: ExitKind::Jump,
                });
            }
            "go_statement" => self.go_statement(node),
            "defer_statement" => self.defer_statement(node),
            "send_statement" => {
                let channel = node
                    .field(field_ids().channel)
                    .map(|channel| self.expr(channel, Usage::Value));
                let value = node
                    .field(field_ids().value)
                    .map(|value| self.expr(value, Usage::Value));
                let span = self.span(node);
                let args = channel.into_iter().chain(value).collect();
                self.path_call("<send>", args, span);
            }
            "type_declaration" => self.cx_type_declaration(node),
            _ => {}
        }
    }

    fn cx_type_declaration(&mut self, node: Node<'_>) {
        // A type declared in a function body is a package type for the analyses.
        let facts_before = self.cx.facts.adts.len();
        let _ = facts_before;
        let mut cursor = node.walk();
        for spec in node.named_children(&mut cursor) {
            let (Some(name), Some(ty)) = (spec.field(field_ids().name), spec.field(field_ids().ty))
            else {
                continue;
            };
            if ty.kind() == "struct_type" {
                let fields = self.cx.struct_fields(ty);
                let span = self.span(name);
                let name = self.cx.sym(name);
                self.cx.facts.adts.push(crate::model::facts::AdtFact {
                    module: ModIdx(0),
                    name,
                    kind: crate::model::facts::AdtKind::Struct,
                    generics: Vec::new(),
                    fields,
                    span,
                });
            }
        }
    }

    fn expression_list(&mut self, list: Node<'_>) -> Vec<ValueId> {
        let mut cursor = list.walk();
        let expressions: Vec<Node<'_>> = list.named_children(&mut cursor).collect();
        expressions
            .into_iter()
            .map(|expression| self.expr(expression, Usage::Value))
            .collect()
    }

    fn short_var_declaration(&mut self, node: Node<'_>) {
        let Some(left) = node.field(field_ids().left) else {
            return;
        };
        let right = node.field(field_ids().right);
        let values = match right {
            Some(right) => self.expression_list(right),
            None => Vec::new(),
        };
        let mut cursor = left.walk();
        let names: Vec<Node<'_>> = left.named_children(&mut cursor).collect();
        let count = names.len();
        for (index, name) in names.into_iter().enumerate() {
            let init = self.nth_value(&values, index, count);
            let sym = self.cx.sym(name);
            let span = self.span(name);
            // Redeclaration in the same scope assigns.
            let existing = self.scopes.last().and_then(|scope| {
                scope
                    .iter()
                    .rev()
                    .find(|(candidate, _)| *candidate == sym)
                    .map(|(_, id)| *id)
            });
            match (existing, init) {
                (Some(local), Some(value)) => {
                    let target = self.value(Value::Local(local));
                    self.emit(Event::Assign {
                        target,
                        value,
                        span,
                    });
                }
                (Some(_), None) => {}
                (None, _) => {
                    self.declare(sym, None, init, LocalOrigin::Let, span);
                }
            }
        }
    }

    /// The value the `index`-th of `count` names gets from a right-hand side: its own
    /// expression, or the result at that position of one call returning several
    /// (`a, err := f()`). `v, ok := m[k]` and the like give only the first name a value.
    fn nth_value(&mut self, values: &[ValueId], index: usize, count: usize) -> Option<ValueId> {
        if values.len() != 1 || count < 2 {
            return values.get(index).copied();
        }
        let value = values[0];
        let is_call = match self.body.value(value) {
            Value::Call(call) => !matches!(
                &self.body.call(*call).callee,
                Callee::Path(path) if path.last().starts_with('<')
            ),
            _ => false,
        };
        if is_call {
            Some(self.value(Value::Field {
                base: value,
                name: index.to_string().into(),
            }))
        } else {
            (index == 0).then_some(value)
        }
    }

    fn var_declaration(&mut self, node: Node<'_>) {
        let mut specs = Vec::new();
        super::collect_kind(node, "var_spec", &mut specs);
        for spec in specs {
            let ty = spec.field(field_ids().ty).map(|ty| self.cx.type_expr(ty));
            let values = match spec.field(field_ids().value) {
                Some(list) => self.expression_list(list),
                None => Vec::new(),
            };
            let mut cursor = spec.walk();
            let names: Vec<Node<'_>> = spec.fields_of(field_ids().name, &mut cursor).collect();
            let count = names.len();
            for (index, name) in names.into_iter().enumerate() {
                let init = self.nth_value(&values, index, count);
                let sym = self.cx.sym(name);
                let span = self.span(name);
                self.declare(sym, ty.clone(), init, LocalOrigin::Let, span);
            }
        }
    }

    fn assignment(&mut self, node: Node<'_>) {
        let (Some(left), Some(right)) =
            (node.field(field_ids().left), node.field(field_ids().right))
        else {
            return;
        };
        let operator = node
            .field(field_ids().operator)
            .map(|operator| self.cx.text(operator))
            .unwrap_or("=");
        let values = self.expression_list(right);
        let mut cursor = left.walk();
        let targets: Vec<Node<'_>> = left.named_children(&mut cursor).collect();
        let span = self.span(node);
        let count = targets.len();
        for (index, target) in targets.into_iter().enumerate() {
            let target = self.expr(target, Usage::Target);
            let value = match self.nth_value(&values, index, count) {
                Some(value) if operator == "=" => value,
                _ => self.literal(),
            };
            self.emit(Event::Assign {
                target,
                value,
                span,
            });
        }
    }

    fn if_statement(&mut self, node: Node<'_>) {
        // `if debug { .. }` with `const debug = false`: the branch is dead code.
        if node.field(field_ids().initializer).is_none() {
            if let Some(condition) = node
                .field(field_ids().condition)
                .filter(|condition| condition.kind() == "identifier")
            {
                let name = self.cx.text(condition);
                if self.lookup(name).is_none() {
                    if let Some(&truth) = self.cx.bool_consts.get(name) {
                        let taken = if truth {
                            node.field(field_ids().consequence)
                        } else {
                            node.field(field_ids().alternative)
                        };
                        if let Some(taken) = taken {
                            if taken.kind() == "if_statement" {
                                self.if_statement(taken);
                            } else {
                                self.block_statements(taken);
                            }
                        }
                        return;
                    }
                }
            }
        }
        self.with_scope(|lowerer| {
            if let Some(initializer) = node.field(field_ids().initializer) {
                lowerer.statement(initializer);
            }
            let condition = node.field(field_ids().condition);
            if let Some(condition) = condition {
                lowerer.expr(condition, Usage::Value);
            }
            let (then_nodes, _) = lowerer.capture(|lowerer| {
                if let Some(condition) = condition {
                    lowerer.narrow(condition, true);
                }
                if let Some(consequence) = node.field(field_ids().consequence) {
                    lowerer.block_statements(consequence);
                }
            });
            let (else_nodes, _) = lowerer.capture(|lowerer| {
                if let Some(condition) = condition {
                    lowerer.narrow(condition, false);
                }
                if let Some(alternative) = node.field(field_ids().alternative) {
                    if alternative.kind() == "if_statement" {
                        lowerer.if_statement(alternative);
                    } else {
                        lowerer.block_statements(alternative);
                    }
                }
            });
            lowerer.emit_node(FactNode::Branch(vec![then_nodes, else_nodes]));
        });
    }

    /// What a condition tells about nil maps where it is `holds`: `m != nil`, `m[k] > 0`,
    /// `m[k] != x`, `len(m) > 0` rule out a nil `m` (a nil map reads as empty); `m == nil` does
    /// on the other branch. `a && b` holds both.
    fn narrow(&mut self, condition: Node<'_>, holds: bool) {
        match condition.kind() {
            "parenthesized_expression" => {
                if let Some(inner) = condition.named_child(0) {
                    self.narrow(inner, holds);
                }
            }
            "unary_expression" => {
                let negated = condition
                    .field(field_ids().operator)
                    .is_some_and(|operator| self.cx.text(operator) == "!");
                if let (true, Some(operand)) = (negated, condition.field(field_ids().operand)) {
                    self.narrow(operand, !holds);
                }
            }
            // `if mu.TryLock() {`, `if !mu.TryLock() { return }`: where the attempt succeeded,
            // the mutex is held, as after a `Lock` made at the attempt.
            "call_expression" if holds => {
                let Some(function) = condition
                    .field(field_ids().function)
                    .filter(|function| function.kind() == "selector_expression")
                else {
                    return;
                };
                let (Some(operand), Some(field)) = (
                    function.field(field_ids().operand),
                    function.field(field_ids().field),
                ) else {
                    return;
                };
                let acquired = match self.cx.text(field) {
                    "TryLock" => "Lock",
                    "TryRLock" => "RLock",
                    _ => return,
                };
                let receiver = self.expr(operand, Usage::Value);
                let span = self.span(condition);
                self.push_call(
                    Callee::Method {
                        receiver,
                        name: acquired.into(),
                        turbofish: Vec::new(),
                    },
                    Vec::new(),
                    span,
                    span,
                );
            }
            "binary_expression" => {
                let operator = condition
                    .field(field_ids().operator)
                    .map(|operator| self.cx.text(operator))
                    .unwrap_or("");
                let (Some(left), Some(right)) = (
                    condition.field(field_ids().left),
                    condition.field(field_ids().right),
                ) else {
                    return;
                };
                match (operator, holds) {
                    ("&&", true) => {
                        self.narrow(left, true);
                        self.narrow(right, true);
                    }
                    ("||", false) => {
                        self.narrow(left, false);
                        self.narrow(right, false);
                    }
                    ("!=", true) | ("==", false) if right.kind() == "nil" => self.non_nil(left),
                    (">" | "!=", true) => match left.kind() {
                        "index_expression" => {
                            if let Some(operand) = left.field(field_ids().operand) {
                                self.non_nil(operand);
                            }
                        }
                        "call_expression" => {
                            let is_len = left
                                .field(field_ids().function)
                                .is_some_and(|function| self.cx.text(function) == "len");
                            if let Some(argument) = left
                                .field(field_ids().arguments)
                                .and_then(|arguments| arguments.named_child(0))
                            {
                                if is_len {
                                    self.non_nil(argument);
                                }
                            }
                        }
                        _ => {}
                    },
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn non_nil(&mut self, node: Node<'_>) {
        if matches!(node.kind(), "identifier" | "selector_expression") {
            let value = self.expr(node, Usage::Target);
            self.emit(Event::NonNil { value });
        }
    }

    fn for_statement(&mut self, node: Node<'_>) {
        self.with_scope(|lowerer| {
            let mut cursor = node.walk();
            let clause = node
                .named_children(&mut cursor)
                .find(|child| child.kind() != "block");
            let mut range_element = None;
            match clause {
                Some(clause) if clause.kind() == "for_clause" => {
                    if let Some(initializer) = clause.field(field_ids().initializer) {
                        lowerer.statement(initializer);
                    }
                }
                Some(clause) if clause.kind() == "range_clause" => {
                    if let Some(right) = clause.field(field_ids().right) {
                        let iterated = lowerer.expr(right, Usage::Value);
                        let span = lowerer.span(right);
                        lowerer.emit(Event::Read {
                            value: iterated,
                            span,
                        });
                        range_element = Some((iterated, clause.field(field_ids().left)));
                    }
                }
                _ => {}
            }
            let (body, _) = lowerer.capture(|lowerer| {
                lowerer.frame_mut().loop_depth += 1;
                lowerer.with_scope(|lowerer| {
                    match clause {
                        Some(clause) if clause.kind() == "for_clause" => {
                            if let Some(condition) = clause.field(field_ids().condition) {
                                lowerer.expr(condition, Usage::Value);
                            }
                        }
                        Some(clause) if clause.kind() != "range_clause" => {
                            lowerer.expr(clause, Usage::Value);
                        }
                        _ => {}
                    }
                    if let Some((iterated, Some(left))) = range_element {
                        let mut cursor = left.walk();
                        let names: Vec<Node<'_>> = left.named_children(&mut cursor).collect();
                        for (index, name) in names.into_iter().enumerate() {
                            let element = if index == 0 {
                                lowerer.literal()
                            } else {
                                lowerer.value(Value::Element(iterated))
                            };
                            if name.kind() == "identifier" {
                                let sym = lowerer.cx.sym(name);
                                let span = lowerer.span(name);
                                let local = lowerer.declare(
                                    sym,
                                    None,
                                    Some(element),
                                    LocalOrigin::ForLoop,
                                    span,
                                );
                                // Bound at every iteration: where the loop analysis places it.
                                lowerer.emit(Event::Bind(Slot::Local(local)));
                            }
                        }
                    }
                    if let Some(body) = node.field(field_ids().body) {
                        lowerer.block_statements(body);
                    }
                    if let Some(clause) = clause.filter(|clause| clause.kind() == "for_clause") {
                        if let Some(update) = clause.field(field_ids().update) {
                            lowerer.statement(update);
                        }
                    }
                });
                lowerer.frame_mut().loop_depth -= 1;
            });
            lowerer.emit_node(FactNode::Loop(body));
            if let Some((iterated, _)) = range_element {
                let span = lowerer.span(node);
                lowerer.path_call(crate::model::facts::RANGE_END, vec![iterated], span);
            }
        });
    }

    fn switch_statement(&mut self, node: Node<'_>) {
        self.with_scope(|lowerer| {
            if let Some(initializer) = node.field(field_ids().initializer) {
                lowerer.statement(initializer);
            }
            if let Some(value) = node.field(field_ids().value) {
                lowerer.expr(value, Usage::Value);
            }
            let mut cursor = node.walk();
            let cases: Vec<Node<'_>> = node
                .named_children(&mut cursor)
                .filter(|child| {
                    matches!(
                        child.kind(),
                        "expression_case" | "default_case" | "type_case"
                    )
                })
                .collect();
            let has_default = cases.iter().any(|case| case.kind() == "default_case");
            let mut arms = Vec::new();
            for case in cases {
                let (nodes, _) = lowerer.capture(|lowerer| {
                    lowerer.with_scope(|lowerer| {
                        if let Some(values) = case.field(field_ids().value) {
                            lowerer.expression_list(values);
                        }
                        lowerer.case_statements(case);
                    });
                });
                arms.push(nodes);
            }
            if !has_default {
                arms.push(Vec::new());
            }
            lowerer.emit_node(FactNode::Branch(arms));
        });
    }

    fn case_statements(&mut self, case: Node<'_>) {
        let mut cursor = case.walk();
        let lists: Vec<Node<'_>> = case
            .named_children(&mut cursor)
            .filter(|child| child.kind() == "statement_list")
            .collect();
        for list in lists {
            self.statement_list(list);
        }
    }

    fn select_statement(&mut self, node: Node<'_>) {
        let mut cursor = node.walk();
        let cases: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        let mut arms = Vec::new();
        for case in cases {
            let (nodes, _) = self.capture(|lowerer| {
                lowerer.with_scope(|lowerer| {
                    if let Some(communication) = case.field(field_ids().communication) {
                        if communication.kind() == "receive_statement" {
                            let received = communication
                                .field(field_ids().right)
                                .map(|right| lowerer.expr(right, Usage::Value));
                            if let Some(left) = communication.field(field_ids().left) {
                                let mut cursor = left.walk();
                                let names: Vec<Node<'_>> =
                                    left.named_children(&mut cursor).collect();
                                for (index, name) in names.into_iter().enumerate() {
                                    if name.kind() == "identifier" {
                                        let sym = lowerer.cx.sym(name);
                                        let span = lowerer.span(name);
                                        let init = if index == 0 { received } else { None };
                                        lowerer.declare(
                                            sym,
                                            None,
                                            init,
                                            LocalOrigin::Pattern,
                                            span,
                                        );
                                    }
                                }
                            }
                        } else {
                            lowerer.statement(communication);
                        }
                    }
                    lowerer.case_statements(case);
                });
            });
            arms.push(nodes);
        }
        self.emit_node(FactNode::Branch(arms));
    }

    /// `go f(x)`: a closure making the call is spawned.
    fn go_statement(&mut self, node: Node<'_>) {
        let Some(call) = node.named_child(0) else {
            return;
        };
        let span = self.span(node);
        let parent = self.frame().fn_idx;
        let closure = self.wrapper(
            FnKind::Closure {
                parent,
                is_move: false,
            },
            call,
            span,
            "{goroutine}",
        );
        let go_span = Span::new(span.file, span.lo, span.lo + 2);
        self.push_call(
            Callee::Path(simple_path("go")),
            vec![closure],
            span,
            go_span,
        );
    }

    /// `defer f(x)`: a guard registered in the function's outermost scope runs the call.
    fn defer_statement(&mut self, node: Node<'_>) {
        let Some(call) = node.named_child(0) else {
            return;
        };
        let span = self.span(node);
        let parent = self.frame().fn_idx;
        let closure = self.wrapper(
            FnKind::DeferBody {
                parent,
                macro_name: "defer".into(),
            },
            call,
            span,
            "{defer}",
        );
        let id = LocalId::from_index(self.body.locals.len());
        self.body.locals.push(LocalFact {
            name: "<defer>".into(),
            ty: None,
            init: Some(closure),
            origin: LocalOrigin::DeferGuard,
            by_ref: false,
            span,
            in_loop: false,
        });
        self.frame_mut().defers.push(id);
        self.emit(Event::Bind(Slot::Local(id)));
    }

    /// Starts a closure of this body (a function literal, or the wrapper of a `go`/`defer`
    /// call): its code is lowered into a frame of its own until [`Self::close_closure`].
    fn open_closure(
        &mut self,
        name: Sym,
        kind: FnKind,
        ret: Option<TypeExpr>,
        span: Span,
    ) -> FnIdx {
        let loop_context = self.frame().in_loop();
        let fn_idx = push_function(self.cx, name, kind, self.body_idx, ret, span, false);
        self.frames
            .push(Frame::new(fn_idx, self.scopes.len(), loop_context));
        fn_idx
    }

    /// Ends the closure [`Self::open_closure`] started, where it is created.
    fn close_closure(&mut self, fn_idx: FnIdx, params: Vec<LocalId>) -> ValueId {
        let frame = self.frames.pop().expect("the closure's frame");
        let function = &mut self.cx.facts.functions[fn_idx.index()];
        function.nodes = frame.nodes.into_iter().next().unwrap_or_default();
        function.captures = frame.captures;
        function.returns = frame.returns;
        function.params = params;
        self.emit(Event::Closure(fn_idx));
        self.value(Value::Closure(fn_idx))
    }

    /// A closure whose body is one call expression.
    fn wrapper(&mut self, kind: FnKind, call: Node<'_>, span: Span, name: &str) -> ValueId {
        // `defer trace("x")()`, `defer atexit.OnError(..)()`: the function value is evaluated
        // at the statement (Go evaluates it there), so the call making it runs now, in this
        // function; only the call of what it returns is deferred (or run by the goroutine).
        const MADE_NOW: &str = "{function value}";
        let made_now = (call.kind() == "call_expression")
            .then(|| call.field(field_ids().function))
            .flatten()
            .filter(|function| {
                let mut inner = *function;
                while inner.kind() == "parenthesized_expression" {
                    match inner.named_child(0) {
                        Some(next) => inner = next,
                        None => break,
                    }
                }
                inner.kind() == "call_expression"
            })
            .map(|function| {
                let value = self.expr(function, Usage::Value);
                let local_span = self.span(function);
                self.declare(
                    MADE_NOW.into(),
                    None,
                    Some(value),
                    LocalOrigin::Let,
                    local_span,
                )
            });
        let fn_idx = self.open_closure(name.into(), kind, None, span);
        self.with_scope(|lowerer| match made_now {
            Some(_) => {
                let local = lowerer.lookup(MADE_NOW).expect("just declared");
                let callee = lowerer.value(Value::Local(local));
                let mut args = Vec::new();
                if let Some(arguments) = call.field(field_ids().arguments) {
                    let mut cursor = arguments.walk();
                    let children: Vec<Node<'_>> = arguments.named_children(&mut cursor).collect();
                    for argument in children {
                        args.extend(lowerer.argument(argument));
                    }
                }
                let call_span = lowerer.span(call);
                let end = Span::new(call_span.file, call_span.hi.saturating_sub(1), call_span.hi);
                lowerer.push_call(Callee::Dynamic(callee), args, call_span, end);
            }
            None => {
                lowerer.expr(call, Usage::Value);
            }
        });
        self.close_closure(fn_idx, Vec::new())
    }

    fn func_literal(&mut self, node: Node<'_>) -> ValueId {
        let span = self.span(node);
        let parent = self.frame().fn_idx;
        let ret = node
            .field(field_ids().result)
            .map(|result| result_type(self.cx, result));
        let fn_idx = self.open_closure(
            "{closure}".into(),
            FnKind::Closure {
                parent,
                is_move: false,
            },
            ret,
            Span::new(span.file, span.lo, span.lo + 4),
        );
        let params = self.with_scope(|lowerer| {
            let params = match node.field(field_ids().parameters) {
                Some(parameters) => lowerer.parameters(parameters, LocalOrigin::Param),
                None => Vec::new(),
            };
            if let Some(result) = node.field(field_ids().result) {
                if result.kind() == "parameter_list" {
                    lowerer.parameters(result, LocalOrigin::Let);
                }
            }
            if let Some(body) = node.field(field_ids().body) {
                lowerer.block_statements(body);
            }
            lowerer.release_defers(span, ReleaseReason::ScopeEnd);
            params
        });
        self.close_closure(fn_idx, params)
    }

    // ----- expressions -----

    fn expr(&mut self, node: Node<'_>, usage: Usage) -> ValueId {
        match node.kind() {
            "identifier" => {
                let name = self.cx.text(node);
                if let Some(local) = self.lookup(name) {
                    return self.value(Value::Local(local));
                }
                // `_ = f()`: the blank identifier stores nothing anywhere.
                if name == "_" {
                    return self.literal();
                }
                self.value(Value::Path(simple_path(name)))
            }
            "nil" => self.value(Value::Path(simple_path("nil"))),
            "int_literal"
            | "float_literal"
            | "imaginary_literal"
            | "rune_literal"
            | "interpreted_string_literal"
            | "raw_string_literal"
            | "true"
            | "false"
            | "iota" => self.literal(),
            "parenthesized_expression" => match node.named_child(0) {
                Some(inner) => self.expr(inner, usage),
                None => self.literal(),
            },
            "selector_expression" => {
                let (Some(operand), Some(field)) = (
                    node.field(field_ids().operand),
                    node.field(field_ids().field),
                ) else {
                    return self.literal();
                };
                if let Some(package) = self.package_name(operand) {
                    let path = PathExpr {
                        segments: vec![package, self.cx.sym(field)],
                        args: Vec::new(),
                        qself: None,
                        leading_colon: false,
                    };
                    return self.value(Value::Path(path));
                }
                let base = self.expr(operand, Usage::Value);
                let name = self.cx.sym(field);
                self.value(Value::Field { base, name })
            }
            "index_expression" => {
                let Some(operand) = node.field(field_ids().operand) else {
                    return self.literal();
                };
                let base = self.expr(operand, Usage::Value);
                if let Some(index) = node.field(field_ids().index) {
                    self.expr(index, Usage::Value);
                }
                let value = self.value(Value::Index { base });
                if usage == Usage::Value {
                    let span = self.span(node);
                    self.emit(Event::Read { value, span });
                }
                value
            }
            "slice_expression" => {
                let Some(operand) = node.field(field_ids().operand) else {
                    return self.literal();
                };
                for field in ["start", "end", "capacity"] {
                    if let Some(bound) = node.child_by_field_name(field) {
                        self.expr(bound, Usage::Value);
                    }
                }
                self.expr(operand, Usage::Value)
            }
            "call_expression" => self.call(node),
            "unary_expression" => {
                let operator = node
                    .field(field_ids().operator)
                    .map(|operator| self.cx.text(operator))
                    .unwrap_or("");
                let Some(operand) = node.field(field_ids().operand) else {
                    return self.literal();
                };
                match operator {
                    "&" => {
                        let inner = self.expr(operand, Usage::Target);
                        self.value(Value::Ref {
                            inner,
                            mutable: true,
                        })
                    }
                    "*" => {
                        let inner = self.expr(operand, Usage::Value);
                        self.value(Value::Deref(inner))
                    }
                    "<-" => {
                        let channel = self.expr(operand, Usage::Value);
                        let span = self.span(node);
                        self.path_call("<recv>", vec![channel], span)
                    }
                    _ => {
                        self.expr(operand, Usage::Value);
                        self.literal()
                    }
                }
            }
            "binary_expression" => {
                if let Some(left) = node.field(field_ids().left) {
                    self.expr(left, Usage::Value);
                }
                let operator = node
                    .field(field_ids().operator)
                    .map(|operator| self.cx.text(operator))
                    .unwrap_or("");
                if let Some(right) = node.field(field_ids().right) {
                    if matches!(operator, "&&" | "||") {
                        let (nodes, _) = self.capture(|lowerer| lowerer.expr(right, Usage::Value));
                        self.emit_node(FactNode::Branch(vec![nodes, Vec::new()]));
                    } else {
                        self.expr(right, Usage::Value);
                    }
                }
                self.literal()
            }
            "composite_literal" => self.composite_literal(node),
            "func_literal" => self.func_literal(node),
            "type_assertion_expression" | "type_conversion_expression" => {
                if let Some(operand) = node.field(field_ids().operand) {
                    let inner = self.expr(operand, usage);
                    if node.kind() == "type_conversion_expression" {
                        return inner;
                    }
                }
                self.value(Value::Unknown)
            }
            _ => self.value(Value::Unknown),
        }
    }

    /// The import a name stands for, when it is not shadowed by a local.
    fn package_name(&mut self, operand: Node<'_>) -> Option<Sym> {
        if operand.kind() != "identifier" {
            return None;
        }
        let name = self.cx.text(operand);
        if self.lookup(name).is_some() || !self.cx.imports.contains_key(name) {
            return None;
        }
        Some(name.into())
    }

    fn call(&mut self, node: Node<'_>) -> ValueId {
        let span = self.span(node);
        let Some(mut function) = node.field(field_ids().function) else {
            return self.literal();
        };
        // An instantiation of a generic function (`each[string](xs, f)`, `pkg.Map[K, V](m)`):
        // the function itself, its type arguments aside.
        while matches!(function.kind(), "index_expression" | "generic_type") {
            let inner = function
                .field(field_ids().operand)
                .or_else(|| function.field(field_ids().ty));
            match inner {
                Some(inner)
                    if matches!(inner.kind(), "identifier" | "selector_expression")
                        && self.generic_function_name(inner) =>
                {
                    function = inner
                }
                _ => break,
            }
        }
        let arguments = node.field(field_ids().arguments);
        // `make(map[K]V)`, `new(T)`: the first argument is a type.
        let mut type_args = Vec::new();
        let mut args = Vec::new();
        if let Some(arguments) = arguments {
            let mut cursor = arguments.walk();
            let children: Vec<Node<'_>> = arguments.named_children(&mut cursor).collect();
            for (index, argument) in children.into_iter().enumerate() {
                let is_type = index == 0
                    && (is_type_node(argument.kind())
                        || (matches!(argument.kind(), "identifier" | "selector_expression")
                            && function.kind() == "identifier"
                            && matches!(self.cx.text(function), "make" | "new")
                            && self.lookup(self.cx.text(function)).is_none()));
                if is_type {
                    type_args.push(self.cx.type_expr(argument));
                } else {
                    args.extend(self.argument(argument));
                }
            }
        }
        let end = Span::new(span.file, span.hi.saturating_sub(1), span.hi);
        match function.kind() {
            "identifier" => {
                let name = self.cx.text(function);
                if let Some(local) = self.lookup(name) {
                    let callee = self.value(Value::Local(local));
                    return self.push_call(Callee::Dynamic(callee), args, span, end);
                }
                let mut path = simple_path(name);
                path.args = type_args;
                let tail = self.span(function).to(end);
                let value = self.push_call(Callee::Path(path), args, span, tail);
                if name == "panic" {
                    self.diverge(span, true);
                }
                value
            }
            "selector_expression" => {
                let (Some(operand), Some(field)) = (
                    function.field(field_ids().operand),
                    function.field(field_ids().field),
                ) else {
                    return self.literal();
                };
                let tail = self.span(field).to(end);
                if let Some(package) = self.package_name(operand) {
                    let import = self.cx.imports.get(&package).cloned().unwrap_or_default();
                    let name = self.cx.sym(field);
                    let path = PathExpr {
                        segments: vec![package, name.clone()],
                        args: type_args,
                        qself: None,
                        leading_colon: false,
                    };
                    let value = self.push_call(Callee::Path(path), args, span, tail);
                    match (&*import, &*name) {
                        // Deferred calls do not run.
                        ("os", "Exit") | ("log", "Fatal" | "Fatalf" | "Fatalln") => {
                            self.diverge(span, false)
                        }
                        // Deferred calls run.
                        ("log", "Panic" | "Panicf" | "Panicln") | ("runtime", "Goexit") => {
                            self.diverge(span, true)
                        }
                        _ => {}
                    }
                    return value;
                }
                let receiver = self.expr(operand, Usage::Value);
                let name = self.cx.sym(field);
                let stops_test = matches!(
                    &*name,
                    "Fatal" | "Fatalf" | "FailNow" | "Skip" | "Skipf" | "SkipNow"
                );
                let value = self.push_call(
                    Callee::Method {
                        receiver,
                        name,
                        turbofish: Vec::new(),
                    },
                    args,
                    span,
                    tail,
                );
                if stops_test {
                    // `t.Fatal` ends the test's goroutine through `runtime.Goexit`.
                    self.diverge(span, true);
                }
                value
            }
            _ => {
                let callee = self.expr(function, Usage::Value);
                self.push_call(Callee::Dynamic(callee), args, span, end)
            }
        }
    }

    /// A call's argument: an expression, or the slice of `xs...`.
    fn argument(&mut self, argument: Node<'_>) -> Option<ValueId> {
        let argument = match argument.kind() {
            "variadic_argument" => argument.named_child(0)?,
            _ => argument,
        };
        Some(self.expr(argument, Usage::Value))
    }

    /// A name that is not a local (a local indexed and called is a slice or map of funcs),
    /// so `name[T]` before a call is a generic function's instantiation.
    fn generic_function_name(&mut self, node: Node<'_>) -> bool {
        match node.kind() {
            "identifier" => self.lookup(self.cx.text(node)).is_none(),
            "selector_expression" => node
                .field(field_ids().operand)
                .is_some_and(|operand| self.package_name(operand).is_some()),
            _ => false,
        }
    }

    fn composite_literal(&mut self, node: Node<'_>) -> ValueId {
        let ty_node = node.field(field_ids().ty);
        let ty = ty_node.map(|ty| self.cx.type_expr(ty));
        self.literal_of_type(node, ty_node.map(|ty| ty.kind()), ty)
    }

    /// A composite literal (`T{..}`, `map[K]V{..}`, `[]T{..}`), or an element literal whose
    /// type the enclosing literal gives (`{..}` in `map[string]map[int]bool{"a": {}}`): a
    /// struct literal with its fields, or an allocation whose elements are the values given.
    fn literal_of_type(
        &mut self,
        node: Node<'_>,
        ty_kind: Option<&str>,
        ty: Option<TypeExpr>,
    ) -> ValueId {
        let span = self.span(node);
        // What an element written `{..}` is: the map's value type, the slice's element type.
        let element_ty = match &ty {
            Some(TypeExpr::Path(path))
                if path.segments.len() == 1 && &*path.segments[0] == "map" =>
            {
                path.args.get(1).cloned()
            }
            Some(TypeExpr::Slice(element)) => Some((**element).clone()),
            _ => None,
        };
        let mut fields = Vec::new();
        let body = match node.kind() {
            "literal_value" => Some(node),
            _ => node.field(field_ids().body),
        };
        if let Some(body) = body {
            let mut cursor = body.walk();
            let elements: Vec<Node<'_>> = body.named_children(&mut cursor).collect();
            for element in elements {
                if element.kind() == "keyed_element" {
                    let key = element.field(field_ids().key);
                    let value = element
                        .field(field_ids().value)
                        .and_then(|value| value.named_child(0));
                    let key_name = key
                        .and_then(|key| key.named_child(0))
                        .filter(|key| key.kind() == "identifier")
                        .map(|key| self.cx.sym(key));
                    if let Some(key) = key.and_then(|key| key.named_child(0)) {
                        if key.kind() != "identifier" {
                            self.expr(key, Usage::Value);
                        }
                    }
                    if let Some(value) = value {
                        let lowered = if value.kind() == "literal_value" {
                            self.element_literal(value, element_ty.clone())
                        } else {
                            self.expr(value, Usage::Value)
                        };
                        match key_name {
                            Some(name) => fields.push((name, lowered)),
                            // A map literal keyed by an expression: the value is an element.
                            None => fields.push((fields.len().to_string().into(), lowered)),
                        }
                    }
                } else if let Some(inner) = element.named_child(0) {
                    // A positional element sets the field of its position.
                    let position: Sym = fields.len().to_string().into();
                    let value = if inner.kind() != "literal_value" {
                        self.expr(inner, Usage::Value)
                    } else {
                        self.element_literal(inner, element_ty.clone())
                    };
                    fields.push((position, value));
                }
            }
        }
        match (ty_kind, ty) {
            (Some("type_identifier" | "qualified_type" | "generic_type"), Some(ty)) => {
                let path = match ty {
                    TypeExpr::Path(path) => path,
                    _ => simple_path("<composite>"),
                };
                self.value(Value::Struct {
                    path,
                    fields,
                    rest: None,
                    span,
                })
            }
            (_, ty) => {
                // A map, slice or array literal: its values are its elements.
                let path = PathExpr {
                    segments: vec!["<composite>".into()],
                    args: vec![ty.unwrap_or(TypeExpr::Unknown)],
                    qself: None,
                    leading_colon: false,
                };
                let elements = fields.into_iter().map(|(_, value)| value).collect();
                self.push_call(Callee::Path(path), elements, span, span)
            }
        }
    }

    /// An element literal written without its type (`{..}`), of the type the enclosing
    /// literal gives, when it gives one.
    fn element_literal(&mut self, node: Node<'_>, ty: Option<TypeExpr>) -> ValueId {
        let kind = match &ty {
            Some(TypeExpr::Path(path)) if &*path.segments[0] != "map" => Some("type_identifier"),
            Some(TypeExpr::Ref { inner, .. }) => {
                // `[]*T{{..}}`: each element is `&T{..}`.
                let inner = (**inner).clone();
                let value = self.literal_of_type(node, Some("type_identifier"), Some(inner));
                return self.value(Value::Ref {
                    inner: value,
                    mutable: true,
                });
            }
            _ => None,
        };
        self.literal_of_type(node, kind, ty)
    }
}

fn is_type_node(kind: &str) -> bool {
    matches!(
        kind,
        "map_type"
            | "slice_type"
            | "array_type"
            | "channel_type"
            | "pointer_type"
            | "struct_type"
            | "interface_type"
            | "function_type"
            | "qualified_type"
            | "type_identifier"
            | "generic_type"
            | "implicit_length_array_type"
    )
}
