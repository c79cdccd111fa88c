//! Facts: what a frontend keeps of one file once its syntax tree is dropped.
//!
//! Names are still unresolved here (paths as written, per module); the program model resolves
//! them across the files of a crate or package. Function bodies become a small tree of events
//! in execution order, with the drop points of the source language already placed: for Rust,
//! locals are released in reverse declaration order at the end of their scope and temporaries
//! at the end of their statement, as the compiler does it.

use crate::source::{FileId, Span};

/// A string from the source: an identifier or a path segment.
pub type Sym = Box<str>;

macro_rules! index_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
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
    /// Items marked as test code (`#[test]`, `#[cfg(test)]`), from their first attribute
    /// (doc comments are blanked before parsing, so not from one of those) to their end; a
    /// whole `_test.go` file. Suppression comments there say nothing when test
    /// code is not checked.
    pub test_regions: Vec<Span>,
    /// The file's `// deferlint: allow(..)` comments, when it has any. The driver takes them
    /// out before the program is built and applies them to the unit's findings.
    pub suppressions: Option<Box<crate::suppress::FileSuppressions>>,
    /// A Go file the default build leaves out (`//go:build dev`, `_windows.go`).
    #[serde(default)]
    pub outside_default_build: bool,
}

/// A problem in one file: the file does not parse, or a construct is too deep.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FileProblem {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct InlineModule {
    pub parent: ModIdx,
    pub name: Sym,
    /// Declared under `#[cfg(test)]` (or inside test code).
    pub is_test: bool,
}

/// `mod name;`: a module whose items live in another file.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ModDecl {
    pub parent: ModIdx,
    pub name: Sym,
    /// The value of a `#[path = "..."]` attribute.
    pub path_attribute: Option<String>,
    /// Declared under `#[cfg(test)]` (or inside test code).
    pub is_test: bool,
    /// Under a `#[cfg(..)]` the unit's features make false (`#[cfg(feature = "x")] mod x;`
    /// without `x`): the module is not compiled, and its file is left out.
    #[serde(default)]
    pub configured_out: bool,
}

/// `use a::b as c;` flattened: one fact per imported name.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AdtKind {
    Struct,
    Enum,
    Union,
}

/// A struct, enum or union with the types of its fields (all variants of an enum together).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct AdtFact {
    pub module: ModIdx,
    pub name: Sym,
    pub kind: AdtKind,
    pub generics: Vec<Sym>,
    pub fields: Vec<FieldFact>,
    pub span: Span,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FieldFact {
    /// The field name, or its position for tuple fields (`"0"`).
    pub name: Sym,
    pub ty: TypeExpr,
    /// A Go embedded field: its fields and methods are promoted to the outer struct.
    pub embedded: bool,
}

/// `type Name<G> = Ty;`
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct AliasFact {
    pub module: ModIdx,
    pub name: Sym,
    pub generics: Vec<Sym>,
    pub ty: TypeExpr,
}

/// How a static lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct StaticFact {
    pub module: ModIdx,
    pub name: Sym,
    pub ty: TypeExpr,
    pub kind: StaticKind,
    pub span: Span,
    /// The function holding the initializer's events, when it has any.
    pub init: Option<FnIdx>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ImplFact {
    pub module: ModIdx,
    pub self_ty: TypeExpr,
    pub trait_path: Option<PathExpr>,
    pub is_unsafe: bool,
    pub generics: Vec<Sym>,
    pub span: Span,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TraitFact {
    pub module: ModIdx,
    pub name: Sym,
}

/// How a method takes `self`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SelfKind {
    Value,
    Ref,
    RefMut,
}

/// What a function is.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum Node {
    Event(Event),
    /// Exactly one arm runs (`if`/`else`, `match`).
    Branch(Vec<Vec<Node>>),
    /// The body runs zero or more times.
    Loop(Vec<Node>),
}

/// Where a path that ends goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ExitKind {
    /// Out of the function: `return`, `?`, a panic, a diverging call, the process's exit.
    #[default]
    Function,
    /// To another place of the same function: `break`, `continue`, `goto`.
    Jump,
}

/// Where a value lives: a local variable or a temporary.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Slot {
    Local(LocalId),
    Temp(TempId),
}

/// Why a slot's value is dropped at a release point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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
    Exit { span: Span, kind: ExitKind },
    /// A place is read where no call shows it (Go: `m[k]` as a value, `range m`).
    Read { value: ValueId, span: Span },
    /// A condition rules out nil here (`if m != nil {`, `if m[k] > 0 {`).
    NonNil { value: ValueId },
    /// Rust's `.await`: the task may be suspended here while other tasks run.
    Suspend { span: Span },
    /// Rust: an output macro (`println!`, `writeln!`, `tracing::warn!`) runs here; the value is
    /// its [`Value::Macro`].
    Output { value: ValueId },
}

/// The arena of one item function.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
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

    /// The value a local was initialised with, through locals bound from locals (a few
    /// levels); any other value is itself.
    pub fn initial_value(&self, mut value: ValueId) -> ValueId {
        for _ in 0..8 {
            match self.value(value) {
                Value::Local(local) => match self.local(*local).init {
                    Some(init) => value = init,
                    None => return value,
                },
                _ => return value,
            }
        }
        value
    }

    /// What a field of a tuple or struct literal read where it is made, or through the local
    /// holding it, is: the value given there (`(x, ()).0`, `let pair = (x, ()); pair.0`,
    /// `Holder { inner: x }.inner`).
    pub fn literal_field(&self, base: ValueId, name: &str) -> Option<ValueId> {
        match self.value(self.initial_value(base)) {
            Value::Tuple(elements) => elements.get(name.parse::<usize>().ok()?).copied(),
            Value::Struct { fields, .. } => fields
                .iter()
                .find(|(field, _)| &**field == name)
                .map(|(_, value)| *value),
            _ => None,
        }
    }
}

/// The name of the frontend's pseudo-call at the end of a Go `for range` loop, on what it
/// ranged over (a join when that is a channel).
pub const RANGE_END: &str = "<range-end>";

/// How a local came to be.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TempFact {
    pub value: ValueId,
    pub span: Span,
    /// The value of a whole expression statement (`expr;`), dropped at its `;`.
    pub statement_value: bool,
}

/// A value expression, in the terms the analyses need: which object it is (for aliasing), what
/// type it has, and where it came from.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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
    /// A macro the frontend does not model, by the last segment of its name, with its span.
    Macro {
        name: Sym,
        span: Span,
    },
}

/// Who is called.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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

impl CallFact {
    /// What binds to the callee's parameters, in order: the receiver first, then the
    /// arguments.
    pub fn positional_operands(&self) -> Vec<ValueId> {
        match &self.callee {
            Callee::Method { receiver, .. } => std::iter::once(*receiver)
                .chain(self.args.iter().copied())
                .collect(),
            _ => self.args.clone(),
        }
    }

    /// The value a `Some(x)` or `Ok(x)` wraps: the variant is transparent to what designates
    /// which object (a guard, a lock, a shared map).
    pub fn wrapped_variant(&self) -> Option<ValueId> {
        match (&self.callee, self.args.as_slice()) {
            (Callee::Path(path), [inner]) if matches!(path.last(), "Some" | "Ok") => Some(*inner),
            _ => None,
        }
    }
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

/// Facts written to and read from text (`--cache-dir` keeps each file's). A file's id depends
/// on the order in which a run found its files, so spans are written without it: a span of the
/// file as its two offsets, read back into the file being read, and `Span::default()` (which
/// the frontends and analyses use for "no place") as `null`.
impl FileFacts {
    /// The facts as JSON; `None` when they could not be read back as they are: a span of
    /// another file, or, in file 0, a span at offset 0 that reads the same as "no place"
    /// (spans are written without their file), or JSON nested deeper than the reader allows
    /// (a type of a hundred pointers).
    pub fn to_json(&self, file: FileId) -> Option<String> {
        let json = with_file(&WRITING_FILE, file, || serde_json::to_string(self).ok())?;
        (json_depth(&json) <= MAX_JSON_DEPTH).then_some(json)
    }

    /// Facts written by [`FileFacts::to_json`], with every span in `file`.
    pub fn from_json(file: FileId, text: &str) -> serde_json::Result<FileFacts> {
        with_file(&READING_FILE, file, || serde_json::from_str(text))
    }
}

/// How deeply JSON read by [`FileFacts::from_json`] may nest: serde_json stops at 128 levels
/// rather than overflow the stack on a file it did not write.
const MAX_JSON_DEPTH: usize = 120;

/// How deeply a JSON text nests (arrays and objects), outside its strings.
fn json_depth(json: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0);
    let (mut in_string, mut escaped) = (false, false);
    for byte in json.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Runs `f` with `key` set to `file` on this thread.
fn with_file<R>(
    key: &'static std::thread::LocalKey<std::cell::Cell<Option<FileId>>>,
    file: FileId,
    f: impl FnOnce() -> R,
) -> R {
    let outer = key.with(|cell| cell.replace(Some(file)));
    let result = f();
    key.with(|cell| cell.set(outer));
    result
}

thread_local! {
    /// The file whose facts this thread is writing or reading, for the spans in them.
    static WRITING_FILE: std::cell::Cell<Option<FileId>> = const { std::cell::Cell::new(None) };
    static READING_FILE: std::cell::Cell<Option<FileId>> = const { std::cell::Cell::new(None) };
}

impl serde::Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error;
        let writing = WRITING_FILE
            .with(std::cell::Cell::get)
            .ok_or_else(|| S::Error::custom("a span is written only within FileFacts::to_json"))?;
        if *self == Span::default() {
            if writing == Span::default().file {
                return Err(S::Error::custom(
                    "a span at offset 0 of file 0 is ambiguous",
                ));
            }
            serializer.serialize_none()
        } else if self.file == writing {
            serializer.serialize_some(&(self.lo, self.hi))
        } else {
            Err(S::Error::custom("a span of another file"))
        }
    }
}

impl<'de> serde::Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Span, D::Error> {
        let Some((lo, hi)) = Option::<(u32, u32)>::deserialize(deserializer)? else {
            return Ok(Span::default());
        };
        let file = READING_FILE.with(std::cell::Cell::get).ok_or_else(|| {
            serde::de::Error::custom("a span is read only within FileFacts::from_json")
        })?;
        Ok(Span::new(file, lo, hi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit::Edition;

    const RUST: &str = "use std::sync::Mutex;\n\
        struct Guard<'a>(&'a Mutex<Vec<u32>>);\n\
        impl Drop for Guard<'_> {\n    fn drop(&mut self) { self.0.lock().unwrap().push(1); } // deferlint: allow(poisoned-lock-unwrap-in-defer) known\n}\n\
        #[cfg(test)] mod tests { #[test] fn t() {} }\n";

    /// Facts read back are the facts lowered, with every span in the file they are read into.
    #[test]
    fn facts_read_back_equal_the_facts_lowered_in_that_file() {
        let extensions = crate::model::extensions::Extensions::default();
        let lowered = |file| {
            let mut facts =
                crate::frontend::rust::lower_file(file, RUST, Edition::E2021, &extensions, None);
            facts.suppressions = crate::suppress::scan(file, RUST, crate::source::Language::Rust);
            facts
        };
        let written = lowered(FileId(3)).to_json(FileId(3)).unwrap();
        let read = FileFacts::from_json(FileId(7), &written).unwrap();
        assert_eq!(format!("{read:?}"), format!("{:?}", lowered(FileId(7))));
        assert!(read.suppressions.is_some() && !read.test_regions.is_empty());
        assert!(!format!("{read:?}").contains("FileId(3)"));
    }

    #[test]
    fn spans_are_read_only_into_a_file() {
        let facts = FileFacts::with_problem(Span::new(FileId(1), 2, 3), "x".into());
        let written = facts.to_json(FileId(1)).unwrap();
        assert!(serde_json::from_str::<FileFacts>(&written).is_err());
        let read = FileFacts::from_json(FileId(4), &written).unwrap();
        assert_eq!(read.problems[0].span, Span::new(FileId(4), 2, 3));
    }

    /// `Span::default()` means "no place" to the analyses (a Go function's end-of-body
    /// release, for one): it stays that, whatever file the facts are read into.
    #[test]
    fn no_place_stays_no_place_and_ambiguous_spans_are_not_written() {
        let mut facts = FileFacts::with_problem(Span::new(FileId(2), 5, 6), "x".into());
        facts.test_regions.push(Span::default());
        let read = FileFacts::from_json(FileId(9), &facts.to_json(FileId(2)).unwrap()).unwrap();
        assert_eq!(read.test_regions, [Span::default()]);
        assert_eq!(read.problems[0].span, Span::new(FileId(9), 5, 6));
        // In file 0, offset 0 cannot be told from "no place"; nor can another file's span be
        // written without its file.
        let at_start = FileFacts::with_problem(Span::new(FileId(0), 0, 0), "x".into());
        assert_eq!(at_start.to_json(FileId(0)), None);
        assert_eq!(facts.to_json(FileId(3)), None);
    }

    /// Found by the `go_frontend` fuzz target: a type of hundreds of pointers makes facts
    /// nested deeper than serde_json reads. Such facts are not written (the file is lowered
    /// on every run); facts just under the limit read back.
    #[test]
    fn facts_too_deep_to_read_back_are_not_written() {
        let deep = format!("package main\n\nvar x {}int\n", "*".repeat(300));
        let facts = crate::frontend::go::lower_file(FileId(1), &deep, false);
        assert_eq!(facts.to_json(FileId(1)), None);
        let shallow = format!("package main\n\nvar x {}int\n", "*".repeat(20));
        let facts = crate::frontend::go::lower_file(FileId(1), &shallow, false);
        let written = facts.to_json(FileId(1)).unwrap();
        let read = FileFacts::from_json(FileId(1), &written).unwrap();
        assert_eq!(format!("{read:?}"), format!("{facts:?}"));
        assert_eq!(json_depth(r#"{"a": ["[[{", {"b": "\\\"["}]}"#), 3);
    }

    /// Every Go and Rust fixture's facts read back as they were lowered.
    #[test]
    fn every_fixture_round_trips() {
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");
        let extensions = crate::model::extensions::Extensions::default();
        let mut checked = 0;
        for folder in std::fs::read_dir(fixtures).unwrap() {
            for entry in std::fs::read_dir(folder.unwrap().path()).unwrap() {
                let path = entry.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let lower = |file| match path.extension().and_then(|e| e.to_str()) {
                    Some("go") => Some(crate::frontend::go::lower_file(file, &text, false)),
                    Some("rs") => Some(crate::frontend::rust::lower_file(
                        file,
                        &text,
                        Edition::E2021,
                        &extensions,
                        None,
                    )),
                    _ => None,
                };
                let Some(facts) = lower(FileId(5)) else {
                    continue;
                };
                let written = facts
                    .to_json(FileId(5))
                    .expect("facts of a file are written");
                let read = FileFacts::from_json(FileId(6), &written).unwrap();
                let expected = lower(FileId(6)).unwrap();
                assert_eq!(
                    format!("{read:?}"),
                    format!("{expected:?}"),
                    "{}",
                    path.display()
                );
                checked += 1;
            }
        }
        assert!(checked > 100, "{checked} fixtures");
    }
}
