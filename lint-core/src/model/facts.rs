//! Facts: what a frontend keeps of one file once its syntax tree is dropped.
//!
//! Names are still unresolved here (paths as written, per module); the program model resolves
//! them across the files of a crate or package. Function bodies become a small tree of events
//! in execution order, with the drop points of the source language already placed: for Rust,
//! locals are released in reverse declaration order at the end of their scope and temporaries
//! at the end of their statement, as the compiler does it.

use crate::source::Span;

/// A string from the source: an identifier or a path segment.
pub type Sym = Box<str>;

macro_rules! index_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }

            pub fn from_index(index: usize) -> $name {
                $name(u32::try_from(index).expect("index fits in u32"))
            }
        }
    };
}

index_type!(
    /// A module of a file: 0 is the file's own module, others are inline `mod x { }` blocks.
    ModIdx
);
index_type!(
    /// A function of a file: items, methods, closures, async blocks and defer bodies.
    FnIdx
);
index_type!(
    /// A body arena of a file: one per item function, shared by the closures inside it.
    BodyIdx
);
index_type!(
    /// A local variable in a body arena (parameters included).
    LocalId
);
index_type!(
    /// A value expression in a body arena.
    ValueId
);
index_type!(
    /// A call in a body arena.
    CallId
);
index_type!(
    /// A temporary in a body arena.
    TempId
);
index_type!(
    /// An `impl` block of a file.
    ImplIdx
);

/// Everything a frontend learned from one file.
#[derive(Clone, Debug, Default)]
pub struct FileFacts {
    /// Problems that kept parts of the file from being understood.
    pub problems: Vec<FileProblem>,
    /// Inline modules; index 0 is the file itself and has no entry here.
    pub inline_modules: Vec<InlineModule>,
    pub mod_decls: Vec<ModDecl>,
    pub uses: Vec<UseFact>,
    pub adts: Vec<AdtFact>,
    pub aliases: Vec<AliasFact>,
    pub statics: Vec<StaticFact>,
    pub impls: Vec<ImplFact>,
    pub traits: Vec<TraitFact>,
    pub functions: Vec<FnFact>,
    pub bodies: Vec<Body>,
    /// Byte length of the file, for statistics.
    pub byte_len: u32,
    /// The Go package clause (`package main`); `None` for Rust.
    pub package_name: Option<Sym>,
    /// Items marked as test code (`#[test]`, `#[cfg(test)]`), from their first attribute to
    /// their end; a whole `_test.go` file. Suppression comments there say nothing when test
    /// code is not checked.
    pub test_regions: Vec<Span>,
    /// The file's `// deferlint: allow(..)` comments, when it has any. The driver takes them
    /// out before the program is built and applies them to the unit's findings.
    pub suppressions: Option<Box<crate::suppress::FileSuppressions>>,
}

/// A problem in one file: the file does not parse, or a construct is too deep.
#[derive(Clone, Debug)]
pub struct FileProblem {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug)]
pub struct InlineModule {
    pub parent: ModIdx,
    pub name: Sym,
    /// Declared under `#[cfg(test)]` (or inside test code).
    pub is_test: bool,
}

/// `mod name;`: a module whose items live in another file.
#[derive(Clone, Debug)]
pub struct ModDecl {
    pub parent: ModIdx,
    pub name: Sym,
    /// The value of a `#[path = "..."]` attribute.
    pub path_attribute: Option<String>,
    /// Declared under `#[cfg(test)]` (or inside test code).
    pub is_test: bool,
}

/// `use a::b as c;` flattened: one fact per imported name.
#[derive(Clone, Debug)]
pub struct UseFact {
    pub module: ModIdx,
    /// The name it is known by in `module`; `None` for a glob import.
    pub alias: Option<Sym>,
    /// The path as written, from the first segment (`crate`, `self`, `super`, a crate name...).
    pub path: Vec<Sym>,
    /// The path began with `::`.
    pub leading_colon: bool,
}

/// A path as written in an expression or a type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PathExpr {
    pub segments: Vec<Sym>,
    /// Generic arguments given anywhere in the path (`HashMap::<K, V>::new`, `Arc<T>`).
    pub args: Vec<TypeExpr>,
    /// `<T>::f` or `<T as Trait>::f`: the `T`.
    pub qself: Option<Box<TypeExpr>>,
    pub leading_colon: bool,
}

impl PathExpr {
    pub fn last(&self) -> &str {
        self.segments.last().map(|segment| &**segment).unwrap_or("")
    }
}

/// A type as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TypeExpr {
    Path(PathExpr),
    Ref {
        mutable: bool,
        inner: Box<TypeExpr>,
    },
    Ptr {
        mutable: bool,
        inner: Box<TypeExpr>,
    },
    Tuple(Vec<TypeExpr>),
    /// `[T]` and `[T; N]`.
    Slice(Box<TypeExpr>),
    /// `impl Trait` and `dyn Trait`: the trait paths.
    Traits(Vec<PathExpr>),
    /// `fn(..) -> ..`.
    FnPointer,
    Never,
    /// `_` or anything the frontend does not model.
    Unknown,
}

/// What kind of data type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdtKind {
    Struct,
    Enum,
    Union,
}

/// A struct, enum or union with the types of its fields (all variants of an enum together).
#[derive(Clone, Debug)]
pub struct AdtFact {
    pub module: ModIdx,
    pub name: Sym,
    pub kind: AdtKind,
    pub generics: Vec<Sym>,
    pub fields: Vec<FieldFact>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct FieldFact {
    /// The field name, or its position for tuple fields (`"0"`).
    pub name: Sym,
    pub ty: TypeExpr,
    /// A Go embedded field: its fields and methods are promoted to the outer struct.
    pub embedded: bool,
}

/// `type Name<G> = Ty;`
#[derive(Clone, Debug)]
pub struct AliasFact {
    pub module: ModIdx,
    pub name: Sym,
    pub generics: Vec<Sym>,
    pub ty: TypeExpr,
}

/// How a static lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaticKind {
    /// `static X: T`.
    Static,
    /// `static mut X: T`: every access is unsynchronised unless the code adds its own.
    StaticMut,
    /// A `thread_local!` key: one value per thread.
    ThreadLocal,
    /// `const X: T`: a new value at every use.
    Const,
}

#[derive(Clone, Debug)]
pub struct StaticFact {
    pub module: ModIdx,
    pub name: Sym,
    pub ty: TypeExpr,
    pub kind: StaticKind,
    pub span: Span,
    /// The function holding the initializer's events, when it has any.
    pub init: Option<FnIdx>,
}

#[derive(Clone, Debug)]
pub struct ImplFact {
    pub module: ModIdx,
    pub self_ty: TypeExpr,
    pub trait_path: Option<PathExpr>,
    pub is_unsafe: bool,
    pub generics: Vec<Sym>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct TraitFact {
    pub module: ModIdx,
    pub name: Sym,
}

/// How a method takes `self`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelfKind {
    Value,
    Ref,
    RefMut,
}

/// What a function is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FnKind {
    /// A free function.
    Free,
    /// A function in an `impl` block.
    Method {
        impl_idx: ImplIdx,
        self_kind: Option<SelfKind>,
    },
    /// A provided method of a trait.
    TraitMethod {
        trait_name: Sym,
        self_kind: Option<SelfKind>,
    },
    /// A closure (`move` or not).
    Closure { parent: FnIdx, is_move: bool },
    /// An `async { }` block.
    AsyncBlock { parent: FnIdx, is_move: bool },
    /// The statements of a `defer! { }`-style macro: they run when the enclosing scope ends.
    DeferBody { parent: FnIdx, macro_name: Sym },
    /// The initializer of a static, a `thread_local!` or a `lazy_static!`.
    StaticInit,
}

impl FnKind {
    pub fn parent(&self) -> Option<FnIdx> {
        match self {
            FnKind::Closure { parent, .. }
            | FnKind::AsyncBlock { parent, .. }
            | FnKind::DeferBody { parent, .. } => Some(*parent),
            _ => None,
        }
    }
}

/// One function of a file.
#[derive(Clone, Debug)]
pub struct FnFact {
    pub module: ModIdx,
    pub name: Sym,
    pub kind: FnKind,
    /// The arena holding this function's locals, values and calls (shared with the closures it
    /// contains, so that a closure's use of a captured variable is the same local).
    pub body: BodyIdx,
    pub params: Vec<LocalId>,
    pub ret: Option<TypeExpr>,
    pub generics: Vec<Sym>,
    pub is_async: bool,
    /// The function's name (items) or its header (closures, blocks, defer bodies).
    pub span: Span,
    pub nodes: Vec<Node>,
    /// Locals of enclosing functions this closure or block uses.
    pub captures: Vec<LocalId>,
    /// Values the function returns (`return x`, the body's tail, `?` excluded).
    pub returns: Vec<ValueId>,
    /// Marked `#[test]`, or inside a `#[cfg(test)]` module.
    pub is_test: bool,
    /// Callable from outside the crate: `pub` (not `pub(crate)`), or a trait method.
    pub is_public: bool,
}

/// A node of a function's event tree, in execution order.
#[derive(Clone, Debug)]
pub enum Node {
    Event(Event),
    /// Exactly one arm runs (`if`/`else`, `match`).
    Branch(Vec<Vec<Node>>),
    /// The body runs zero or more times.
    Loop(Vec<Node>),
}

/// Where a value lives: a local variable or a temporary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    Local(LocalId),
    Temp(TempId),
}

/// Why a slot's value is dropped at a release point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReleaseReason {
    /// The end of the scope that declared it.
    ScopeEnd,
    /// The end of the statement that created a temporary.
    StatementEnd,
    /// An early exit (`return`, `?`, `break`, `continue`) leaves the scope.
    EarlyExit,
    /// `drop(x)` or a value handed straight to `drop`.
    Explicit,
    /// The old value is overwritten by an assignment.
    Overwritten,
}

/// Something that happens when control reaches it.
#[derive(Clone, Debug)]
pub enum Event {
    /// A call, after its receiver and arguments were evaluated.
    Call(CallId),
    /// A slot starts owning its value (a `let` binding, a pattern binding, a temporary).
    Bind(Slot),
    /// A slot's value is dropped here, if the slot still owns it.
    Release {
        slot: Slot,
        span: Span,
        reason: ReleaseReason,
    },
    /// A local is used by value (moved, unless its type is `Copy`).
    Move { local: LocalId, span: Span },
    /// `target = value` (also compound assignment).
    Assign {
        target: ValueId,
        value: ValueId,
        span: Span,
    },
    /// A closure or async block is created here.
    Closure(FnIdx),
    /// A path ends here: `return`, `break`, `continue`, a diverging call.
    Exit { span: Span },
    /// A place is read where no call shows it (Go: `m[k]` as a value, `range m`).
    Read { value: ValueId, span: Span },
    /// A condition rules out nil here (`if m != nil {`, `if m[k] > 0 {`).
    NonNil { value: ValueId },
    /// Rust's `.await`: the task may be suspended here while other tasks run.
    Suspend { span: Span },
}

/// The arena of one item function.
#[derive(Clone, Debug, Default)]
pub struct Body {
    pub locals: Vec<LocalFact>,
    pub values: Vec<Value>,
    /// The function (closure, block) whose code holds each value, so that what a closure
    /// reaches is known even though it shares its parent's arena.
    pub value_fns: Vec<FnIdx>,
    pub calls: Vec<CallFact>,
    pub temps: Vec<TempFact>,
}

impl Body {
    pub fn value(&self, id: ValueId) -> &Value {
        &self.values[id.index()]
    }

    pub fn value_fn(&self, id: ValueId) -> FnIdx {
        self.value_fns[id.index()]
    }

    pub fn call(&self, id: CallId) -> &CallFact {
        &self.calls[id.index()]
    }

    pub fn local(&self, id: LocalId) -> &LocalFact {
        &self.locals[id.index()]
    }
}

/// How a local came to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalOrigin {
    /// A function parameter (`self` included).
    Param,
    /// `let` with an identifier pattern.
    Let,
    /// A binding inside a pattern (`Some(x)`, `(a, b)`, `if let`, `match` arms).
    Pattern,
    /// The hidden guard a `defer!`-style macro creates.
    DeferGuard,
    /// A `for` loop variable.
    ForLoop,
}

#[derive(Clone, Debug)]
pub struct LocalFact {
    pub name: Sym,
    pub ty: Option<TypeExpr>,
    pub init: Option<ValueId>,
    pub origin: LocalOrigin,
    /// Bound with `ref` or through a reference pattern: it does not own a value.
    pub by_ref: bool,
    pub span: Span,
    /// Declared inside a loop body: a new variable at every iteration (Go's `c := ..` in a
    /// `for` body), so goroutines started in the loop each capture their own.
    pub in_loop: bool,
}

#[derive(Clone, Debug)]
pub struct TempFact {
    pub value: ValueId,
    pub span: Span,
    /// The value of a whole expression statement (`expr;`), dropped at its `;`.
    pub statement_value: bool,
}

/// A value expression, in the terms the analyses need: which object it is (for aliasing), what
/// type it has, and where it came from.
#[derive(Clone, Debug)]
pub enum Value {
    Unknown,
    Literal,
    Local(LocalId),
    Path(PathExpr),
    Field {
        base: ValueId,
        name: Sym,
    },
    Index {
        base: ValueId,
    },
    Deref(ValueId),
    Ref {
        inner: ValueId,
        mutable: bool,
    },
    /// `&raw mut x`, `addr_of_mut!(x)`, `ptr::addr_of!(x)`.
    RawRef {
        inner: ValueId,
        mutable: bool,
    },
    Cast {
        inner: ValueId,
        ty: TypeExpr,
    },
    Call(CallId),
    Try(ValueId),
    Await(ValueId),
    Struct {
        path: PathExpr,
        fields: Vec<(Sym, ValueId)>,
        rest: Option<ValueId>,
        span: Span,
    },
    Tuple(Vec<ValueId>),
    Array(Vec<ValueId>),
    Closure(FnIdx),
    /// What a pattern like `Some(x)`, `Ok(x)` or `Err(x)` takes out of a value.
    Payload {
        of: ValueId,
        constructor: Sym,
    },
    /// A value from one of several places (`if`/`match` arms, block tails).
    Either(Vec<ValueId>),
    /// An element taken out of an iterated value (`for x in v`).
    Element(ValueId),
    /// A macro the frontend does not model.
    Macro(Sym),
}

/// Who is called.
#[derive(Clone, Debug)]
pub enum Callee {
    /// `path(args)`: a function, an associated function, a tuple struct or a variant.
    Path(PathExpr),
    /// `receiver.name(args)`.
    Method {
        receiver: ValueId,
        name: Sym,
        turbofish: Vec<TypeExpr>,
    },
    /// `(expr)(args)`, calling a closure or a function pointer.
    Dynamic(ValueId),
}

#[derive(Clone, Debug)]
pub struct CallFact {
    pub callee: Callee,
    pub args: Vec<ValueId>,
    /// The whole call expression.
    pub span: Span,
    /// From the method name (or the path's last segment) to the closing parenthesis: the part
    /// an edit such as `unwrap()` → `unwrap_or_else(..)` replaces.
    pub tail_span: Span,
    /// The function whose body makes the call.
    pub function: FnIdx,
    /// The call sits inside a loop of that function.
    pub in_loop: bool,
}

impl FileFacts {
    /// Facts for a file that could not be understood at all.
    pub fn with_problem(span: Span, message: String) -> FileFacts {
        FileFacts {
            problems: vec![FileProblem { span, message }],
            ..FileFacts::default()
        }
    }
}
