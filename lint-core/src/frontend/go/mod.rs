//! The Go frontend: tree-sitter-go parses a file, one walk lowers it into the same facts as
//! the Rust frontend, and the tree is dropped. Go's `defer` becomes a guard slot in the
//! function's outermost scope (released last-in-first-out at every return and at a panic,
//! never at `os.Exit`), and `go f(x)` becomes a spawn of a closure that makes the call.

mod body;
pub mod build;
mod fields;

use std::cell::RefCell;

use rustc_hash::FxHashMap as HashMap;
use tree_sitter::{Node, Parser};

use self::fields::{FieldExt, field_ids};

use crate::model::facts::{
    AdtFact, AdtKind, AliasFact, FieldFact, FileFacts, FileProblem, FnKind, ImplFact, ImplIdx,
    ModIdx, PathExpr, SelfKind, StaticFact, StaticKind, Sym, TypeExpr, UseFact,
};
use crate::source::{FileId, Language, Span};

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parses and lowers one Go file. Syntax errors are reported once per file and the rest of the
/// tree, which tree-sitter recovers, is still lowered.
pub fn lower_file(file: FileId, text: &str, is_test_file: bool) -> FileFacts {
    // tree-sitter parses without recursion, but the lowering and the analyses recurse.
    if let Some(facts) = super::nesting::skip_if_too_deep(file, text, Language::Go) {
        return facts;
    }
    let parse = |source: &str| {
        PARSER.with(|parser| {
            let mut parser = parser.borrow_mut();
            let parser = parser.get_or_insert_with(new_parser);
            parser.parse(source, None)
        })
    };
    let mut tree = parse(text);
    // Go 1.26's `new(expr)`, which tree-sitter-go does not parse yet, is read as `&(expr)`:
    // the same bytes, and what it means to the analyses (a pointer to a fresh value), when
    // that removes errors.
    let mut source = std::borrow::Cow::Borrowed(text);
    if let Some(errors) = tree
        .as_ref()
        .map(|tree| error_count(tree.root_node()))
        .filter(|errors| *errors > 0)
    {
        if let Some(patched) = new_of_expressions_as_addresses(text) {
            if let Some(reparsed) = parse(&patched) {
                if error_count(reparsed.root_node()) < errors {
                    tree = Some(reparsed);
                    source = std::borrow::Cow::Owned(patched);
                }
            }
        }
    }
    let mut cx = GoCx::new(file, &source);
    cx.is_test_file = is_test_file;
    match tree {
        Some(tree) => {
            let root = tree.root_node();
            if root.has_error() {
                if let Some(error) = first_error(root) {
                    cx.facts.problems.push(FileProblem {
                        span: cx.span(error),
                        message:
                            "could not parse part of this Go file; the rest of the file is checked"
                                .to_string(),
                    });
                }
            }
            cx.lower_source_file(root);
        }
        None => cx.facts.problems.push(FileProblem {
            span: Span::new(file, 0, 0),
            message: "could not parse this Go file".to_string(),
        }),
    }
    let mut facts = cx.facts;
    facts.byte_len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    if is_test_file {
        facts.test_regions.push(Span::new(file, 0, facts.byte_len));
    }
    facts
}

/// Parses a file and drops the tree: the baseline the benchmark compares the whole analysis
/// with. Returns whether the file parsed without errors.
pub fn parse_only(text: &str) -> bool {
    if super::nesting::measure(text, Language::Go).is_too_deep() {
        return false;
    }
    PARSER.with(|parser| {
        let mut parser = parser.borrow_mut();
        let parser = parser.get_or_insert_with(new_parser);
        parser
            .parse(text, None)
            .is_some_and(|tree| !tree.root_node().has_error())
    })
}

fn new_parser() -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_go::LANGUAGE.into())
        .expect("the Go grammar matches the tree-sitter version");
    parser
}

/// How many syntax errors (error and missing nodes) a tree has.
fn error_count(node: Node<'_>) -> usize {
    if node.is_error() || node.is_missing() {
        return 1;
    }
    let mut cursor = node.walk();
    node.children(&mut cursor)
        .filter(|child| child.has_error())
        .map(error_count)
        .sum()
}

/// The text with each `new(` whose argument is an expression, not a type (Go 1.26:
/// `new(uint64(m.ID))`), written `&  (` instead: the same length, so every offset stays, and
/// an expression tree-sitter-go parses. `None` when there is none.
fn new_of_expressions_as_addresses(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let packages = imported_names(text);
    let mut patched: Option<Vec<u8>> = None;
    let mut from = 0;
    while let Some(found) = text[from..].find("new(") {
        let at = from + found;
        from = at + 4;
        let preceded = at > 0 && {
            let before = bytes[at - 1];
            before.is_ascii_alphanumeric() || before == b'_' || before == b'.'
        };
        if preceded || is_type_argument(&text[at + 4..], &packages) {
            continue;
        }
        patched.get_or_insert_with(|| bytes.to_vec())[at..at + 4].copy_from_slice(b"&  (");
    }
    patched.and_then(|patched| String::from_utf8(patched).ok())
}

/// The names a file's imports bind (`http` for `"net/http"`, the alias when there is one,
/// `yaml` for `"gopkg.in/yaml.v3"`, `chi` for `".../chi/v5"`), read from its text.
fn imported_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_block = false;
    for line in text.lines() {
        let line = line.trim();
        let spec = if in_block {
            if line.starts_with(')') {
                in_block = false;
                continue;
            }
            line
        } else if let Some(rest) = line.strip_prefix("import") {
            let rest = rest.trim_start();
            if rest.starts_with('(') {
                in_block = true;
                continue;
            }
            rest
        } else {
            continue;
        };
        let Some(quote) = spec.find('"') else {
            continue;
        };
        let alias = spec[..quote].trim();
        let path = spec[quote + 1..].split('"').next().unwrap_or("");
        if !alias.is_empty() {
            names.push(alias.to_string());
            continue;
        }
        let mut parts = path.rsplit('/');
        let mut last = parts.next().unwrap_or(path);
        if last.len() > 1 && last.starts_with('v') && last[1..].chars().all(|c| c.is_ascii_digit())
        {
            last = parts.next().unwrap_or(last);
        }
        let last = last.split('.').next().unwrap_or(last);
        names.push(last.replace('-', "_"));
    }
    names
}

/// The text after `new(` starts with a type: a type literal, or a (qualified, possibly
/// instantiated) type name alone up to the closing parenthesis. A name with more than one
/// selector, or whose first part is not an imported package, is an expression
/// (`new(c.limit.Value)`), and so is a pointer dereference that an operator follows
/// (`new(*dimmed > 0)`).
fn is_type_argument(rest: &str, packages: &[String]) -> bool {
    let rest = rest.trim_start();
    if let Some(pointee) = rest.strip_prefix('*') {
        return is_type_argument(pointee, packages);
    }
    // A slice, array or map type, unless a composite literal of it (`[]int{1}`) follows.
    if rest.starts_with('[') || rest.starts_with("map[") {
        return !composite_literal_before_close(rest);
    }
    const TYPE_STARTS: &[&str] = &[
        "chan ",
        "chan<-",
        "<-chan",
        "func(",
        "func (",
        "struct{",
        "struct {",
        "interface{",
        "interface {",
    ];
    if TYPE_STARTS.iter().any(|start| rest.starts_with(start)) {
        return true;
    }
    let starts_name = rest.starts_with(|c: char| c.is_alphabetic() || c == '_');
    let name_end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(rest.len());
    let after = rest[name_end..].trim_start();
    let name = &rest[..name_end];
    let qualified_type = match name.split_once('.') {
        None => true,
        Some((package, member)) => {
            !member.contains('.') && packages.iter().any(|known| known == package)
        }
    };
    starts_name
        && qualified_type
        && (after.starts_with(')') || (after.starts_with('[') && type_arguments_close(after)))
}

/// `[..]` after a type name holds type arguments and the argument of `new` ends after it
/// (`new(List[int])`), rather than an index into a value that more follows or whose index is
/// a number or an expression (`new(peers[0].ID)`, `new(counts[k])` stays a type only when `k`
/// could name one).
fn type_arguments_close(rest: &str) -> bool {
    let mut depth = 0i32;
    for (index, c) in rest.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    let inside = &rest[1..index];
                    let after = rest[index + 1..].trim_start();
                    let type_like = !inside
                        .trim_start()
                        .starts_with(|c: char| c.is_ascii_digit())
                        && inside.chars().all(|c| {
                            c.is_alphanumeric()
                                || matches!(c, '_' | '.' | ',' | '*' | '[' | ']' | ' ')
                        });
                    return type_like && after.starts_with(')');
                }
            }
            _ => {}
        }
    }
    false
}

/// A `{` at the outermost level before the parenthesis that closes the argument.
fn composite_literal_before_close(rest: &str) -> bool {
    let mut depth = 0i32;
    for c in rest.chars() {
        match c {
            '(' | '[' => depth += 1,
            ']' => depth -= 1,
            ')' if depth == 0 => return false,
            ')' => depth -= 1,
            '{' if depth == 0 => return true,
            _ => {}
        }
    }
    false
}

fn first_error(node: Node<'_>) -> Option<Node<'_>> {
    if node.is_error() || node.is_missing() {
        return Some(node);
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        if child.has_error() {
            if let Some(found) = first_error(child) {
                return Some(found);
            }
        }
    }
    None
}

/// The state of lowering one Go file.
pub(crate) struct GoCx<'t> {
    pub(crate) file: FileId,
    pub(crate) text: &'t str,
    pub(crate) facts: FileFacts,
    /// Import names of this file (`http` for `net/http`).
    pub(crate) imports: HashMap<Sym, Sym>,
    /// The `impl` fact of each receiver type's methods.
    impls: HashMap<Sym, ImplIdx>,
    /// A `_test.go` file: all its code is test code.
    pub(crate) is_test_file: bool,
    /// Package-level boolean constants of this file and their values (`const debug = false`):
    /// branches they rule out are dead code.
    pub(crate) bool_consts: HashMap<Sym, bool>,
}

impl<'t> GoCx<'t> {
    fn new(file: FileId, text: &'t str) -> GoCx<'t> {
        GoCx {
            file,
            text,
            facts: FileFacts::default(),
            imports: HashMap::default(),
            impls: HashMap::default(),
            is_test_file: false,
            bool_consts: HashMap::default(),
        }
    }

    pub(crate) fn span(&self, node: Node<'_>) -> Span {
        Span::new(self.file, node.start_byte() as u32, node.end_byte() as u32)
    }

    pub(crate) fn text(&self, node: Node<'_>) -> &'t str {
        self.text.get(node.byte_range()).unwrap_or("")
    }

    pub(crate) fn sym(&self, node: Node<'_>) -> Sym {
        self.text(node).into()
    }

    fn lower_source_file(&mut self, root: Node<'_>) {
        let mut cursor = root.walk();
        let children: Vec<Node<'_>> = root.named_children(&mut cursor).collect();
        // Imports first: function bodies need to know which names are packages.
        for child in &children {
            match child.kind() {
                "package_clause" => {
                    if let Some(name) = child.named_child(0) {
                        self.facts.package_name = Some(self.sym(name));
                    }
                }
                "import_declaration" => self.lower_imports(*child),
                "const_declaration" => self.record_bool_consts(*child),
                _ => {}
            }
        }
        for child in children {
            match child.kind() {
                "function_declaration" => {
                    body::lower_function(self, child, FnKind::Free, None);
                }
                "method_declaration" => self.lower_method(child),
                "type_declaration" => self.lower_type_declaration(child),
                "var_declaration" => self.lower_package_vars(child),
                _ => {}
            }
        }
    }

    fn lower_imports(&mut self, node: Node<'_>) {
        let mut specs = Vec::new();
        collect_kind(node, "import_spec", &mut specs);
        for spec in specs {
            let Some(path_node) = spec.field(field_ids().path) else {
                continue;
            };
            let path = self
                .text(path_node)
                .trim_matches(|c| c == '"' || c == '`')
                .to_string();
            let alias: String = match spec.field(field_ids().name) {
                Some(name) if name.kind() == "package_identifier" => self.text(name).to_string(),
                Some(_) => continue,
                None => default_import_name(&path),
            };
            self.imports
                .insert(alias.as_str().into(), path.as_str().into());
            self.facts.uses.push(UseFact {
                module: ModIdx(0),
                alias: Some(alias.as_str().into()),
                path: vec![path.as_str().into()],
                leading_colon: true,
            });
        }
    }

    fn record_bool_consts(&mut self, node: Node<'_>) {
        let mut specs = Vec::new();
        collect_kind(node, "const_spec", &mut specs);
        for spec in specs {
            let (Some(name), Some(value)) =
                (spec.field(field_ids().name), spec.field(field_ids().value))
            else {
                continue;
            };
            let Some(value) = value.named_child(0) else {
                continue;
            };
            let truth = match value.kind() {
                "true" => true,
                "false" => false,
                _ => continue,
            };
            self.bool_consts.insert(self.sym(name), truth);
        }
    }

    fn lower_method(&mut self, node: Node<'_>) {
        let Some(receiver) = node.field(field_ids().receiver) else {
            return;
        };
        let Some(declaration) = receiver.named_child(0) else {
            return;
        };
        let Some(receiver_type) = declaration.field(field_ids().ty) else {
            return;
        };
        let (type_name, pointer) = receiver_type_name(self, receiver_type);
        let Some(type_name) = type_name else { return };
        let impl_idx = match self.impls.get(&type_name) {
            Some(&index) => index,
            None => {
                let index = ImplIdx::from_index(self.facts.impls.len());
                self.facts.impls.push(ImplFact {
                    module: ModIdx(0),
                    self_ty: TypeExpr::Path(simple_path(&type_name)),
                    trait_path: None,
                    is_unsafe: false,
                    generics: Vec::new(),
                    span: self.span(receiver_type),
                });
                self.impls.insert(type_name, index);
                index
            }
        };
        let self_kind = if pointer {
            SelfKind::RefMut
        } else {
            SelfKind::Value
        };
        body::lower_function(
            self,
            node,
            FnKind::Method {
                impl_idx,
                self_kind: Some(self_kind),
            },
            Some(impl_idx),
        );
    }

    fn lower_type_declaration(&mut self, node: Node<'_>) {
        let mut cursor = node.walk();
        for spec in node.named_children(&mut cursor) {
            let (Some(name), Some(ty)) = (spec.field(field_ids().name), spec.field(field_ids().ty))
            else {
                continue;
            };
            let name_sym = self.sym(name);
            if ty.kind() == "struct_type" {
                let fields = self.struct_fields(ty);
                let span = self.span(name);
                self.facts.adts.push(AdtFact {
                    module: ModIdx(0),
                    name: name_sym,
                    kind: AdtKind::Struct,
                    generics: Vec::new(),
                    fields,
                    span,
                });
            } else {
                let ty = self.type_expr(ty);
                self.facts.aliases.push(AliasFact {
                    module: ModIdx(0),
                    name: name_sym,
                    generics: Vec::new(),
                    ty,
                });
            }
        }
    }

    fn struct_fields(&mut self, node: Node<'_>) -> Vec<FieldFact> {
        let mut declarations = Vec::new();
        collect_kind(node, "field_declaration", &mut declarations);
        let mut fields = Vec::new();
        for declaration in declarations {
            let Some(ty_node) = declaration.field(field_ids().ty) else {
                continue;
            };
            let ty = self.type_expr(ty_node);
            let mut cursor = declaration.walk();
            let names: Vec<Node<'_>> = declaration
                .fields_of(field_ids().name, &mut cursor)
                .collect();
            if names.is_empty() {
                // An embedded field is named by its type.
                let name = embedded_name(self, ty_node);
                fields.push(FieldFact {
                    name,
                    ty,
                    embedded: true,
                });
            } else {
                for name in names {
                    fields.push(FieldFact {
                        name: self.sym(name),
                        ty: ty.clone(),
                        embedded: false,
                    });
                }
            }
        }
        fields
    }

    fn lower_package_vars(&mut self, node: Node<'_>) {
        let mut specs = Vec::new();
        collect_kind(node, "var_spec", &mut specs);
        for spec in specs {
            let declared = spec.field(field_ids().ty).map(|ty| self.type_expr(ty));
            let mut cursor = spec.walk();
            let names: Vec<Node<'_>> = spec.fields_of(field_ids().name, &mut cursor).collect();
            let values: Vec<Node<'_>> = match spec.field(field_ids().value) {
                Some(list) => {
                    let mut cursor = list.walk();
                    list.named_children(&mut cursor).collect()
                }
                None => Vec::new(),
            };
            for (index, name) in names.into_iter().enumerate() {
                // `var m = map[K]V{}`: the type the initializer spells out.
                let ty = declared.clone().or_else(|| {
                    values
                        .get(index)
                        .and_then(|&value| self.initializer_type(value))
                });
                let init = values
                    .get(index)
                    .map(|&value| body::lower_static_init(self, value));
                let span = self.span(name);
                self.facts.statics.push(StaticFact {
                    module: ModIdx(0),
                    name: self.sym(name),
                    ty: ty.clone().unwrap_or(TypeExpr::Unknown),
                    kind: StaticKind::Static,
                    span,
                    init,
                });
            }
        }
    }

    /// The type an initializer spells out: a composite literal (`map[K]V{}`, `T{..}`), `&T{..}`,
    /// `make(T, ..)` or `new(T)`. Other expressions need type inference: `None`.
    fn initializer_type(&self, node: Node<'_>) -> Option<TypeExpr> {
        match node.kind() {
            "composite_literal" => node.field(field_ids().ty).map(|ty| self.type_expr(ty)),
            "parenthesized_expression" => self.initializer_type(node.named_child(0)?),
            "unary_expression" => {
                let operator = node.field(field_ids().operator)?;
                let operand = node.field(field_ids().operand)?;
                (self.text(operator) == "&" && operand.kind() == "composite_literal").then(|| {
                    TypeExpr::Ref {
                        mutable: true,
                        inner: Box::new(
                            self.initializer_type(operand).unwrap_or(TypeExpr::Unknown),
                        ),
                    }
                })
            }
            "call_expression" => {
                let function = node.field(field_ids().function)?;
                let arguments = node.field(field_ids().arguments)?;
                let ty = self.type_expr(arguments.named_child(0)?);
                match self.text(function) {
                    "make" => Some(ty),
                    "new" => Some(TypeExpr::Ref {
                        mutable: true,
                        inner: Box::new(ty),
                    }),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// A Go type as a type expression. Pointers are references (Go dereferences them for
    /// field and method access); `map[K]V` is the path `map` with two arguments.
    pub(crate) fn type_expr(&self, node: Node<'_>) -> TypeExpr {
        match node.kind() {
            // `make(T)` and `new(T)` parse a named type as an expression.
            "type_identifier" | "identifier" => TypeExpr::Path(simple_path(self.text(node))),
            "selector_expression" => {
                let (Some(package), Some(name)) = (
                    node.field(field_ids().operand),
                    node.field(field_ids().field),
                ) else {
                    return TypeExpr::Unknown;
                };
                if package.kind() != "identifier" {
                    return TypeExpr::Unknown;
                }
                TypeExpr::Path(PathExpr {
                    segments: vec![self.sym(package), self.sym(name)],
                    args: Vec::new(),
                    qself: None,
                    leading_colon: false,
                })
            }
            "qualified_type" => {
                let (Some(package), Some(name)) = (
                    node.field(field_ids().package),
                    node.field(field_ids().name),
                ) else {
                    return TypeExpr::Unknown;
                };
                TypeExpr::Path(PathExpr {
                    segments: vec![self.sym(package), self.sym(name)],
                    args: Vec::new(),
                    qself: None,
                    leading_colon: false,
                })
            }
            "map_type" => {
                let key = node
                    .field(field_ids().key)
                    .map(|key| self.type_expr(key))
                    .unwrap_or(TypeExpr::Unknown);
                let value = node
                    .field(field_ids().value)
                    .map(|value| self.type_expr(value))
                    .unwrap_or(TypeExpr::Unknown);
                TypeExpr::Path(PathExpr {
                    segments: vec!["map".into()],
                    args: vec![key, value],
                    qself: None,
                    leading_colon: false,
                })
            }
            "pointer_type" => match node.named_child(0) {
                Some(inner) => TypeExpr::Ref {
                    mutable: true,
                    inner: Box::new(self.type_expr(inner)),
                },
                None => TypeExpr::Unknown,
            },
            "slice_type" | "array_type" | "implicit_length_array_type" => {
                match node.field(field_ids().element) {
                    Some(element) => TypeExpr::Slice(Box::new(self.type_expr(element))),
                    None => TypeExpr::Unknown,
                }
            }
            "channel_type" => {
                let value = node
                    .field(field_ids().value)
                    .map(|value| self.type_expr(value))
                    .unwrap_or(TypeExpr::Unknown);
                TypeExpr::Path(PathExpr {
                    segments: vec!["chan".into()],
                    args: vec![value],
                    qself: None,
                    leading_colon: false,
                })
            }
            "generic_type" => match node.field(field_ids().ty) {
                Some(inner) => self.type_expr(inner),
                None => TypeExpr::Unknown,
            },
            "parenthesized_type" => match node.named_child(0) {
                Some(inner) => self.type_expr(inner),
                None => TypeExpr::Unknown,
            },
            "function_type" => TypeExpr::FnPointer,
            _ => TypeExpr::Unknown,
        }
    }
}

pub(crate) fn simple_path(name: &str) -> PathExpr {
    PathExpr {
        segments: vec![name.into()],
        args: Vec::new(),
        qself: None,
        leading_colon: false,
    }
}

/// The package name Go gives an import path by default: its last element, without a `.vN`
/// or `-go` decoration.
fn default_import_name(path: &str) -> String {
    let last = path.rsplit('/').next().unwrap_or(path);
    let last = if last.starts_with('v')
        && last[1..].chars().all(|c| c.is_ascii_digit())
        && path.contains('/')
    {
        // `github.com/x/y/v2` is package `y`.
        path.rsplit('/').nth(1).unwrap_or(last)
    } else {
        last
    };
    let name = last.split('.').next().unwrap_or(last);
    name.strip_prefix("go-").unwrap_or(name).replace('-', "_")
}

/// `T` or `*T` (or `T[P]`) of a receiver: the type's name and whether it is a pointer.
fn receiver_type_name(cx: &GoCx<'_>, node: Node<'_>) -> (Option<Sym>, bool) {
    match node.kind() {
        "pointer_type" => match node.named_child(0) {
            Some(inner) => (receiver_type_name(cx, inner).0, true),
            None => (None, true),
        },
        "type_identifier" => (Some(cx.sym(node)), false),
        "generic_type" => match node.field(field_ids().ty) {
            Some(inner) => receiver_type_name(cx, inner),
            None => (None, false),
        },
        "parenthesized_type" => match node.named_child(0) {
            Some(inner) => receiver_type_name(cx, inner),
            None => (None, false),
        },
        _ => (None, false),
    }
}

/// The name of an embedded field: `Mutex` for `sync.Mutex`, `Base` for `*Base`.
fn embedded_name(cx: &GoCx<'_>, node: Node<'_>) -> Sym {
    match node.kind() {
        "qualified_type" => node
            .field(field_ids().name)
            .map(|name| cx.sym(name))
            .unwrap_or_default(),
        "pointer_type" => node
            .named_child(0)
            .map(|inner| embedded_name(cx, inner))
            .unwrap_or_default(),
        "generic_type" => node
            .field(field_ids().ty)
            .map(|inner| embedded_name(cx, inner))
            .unwrap_or_default(),
        _ => cx.sym(node),
    }
}

/// Every descendant of `node` of one kind, in order, not looking inside matches.
pub(crate) fn collect_kind<'tree>(node: Node<'tree>, kind: &str, out: &mut Vec<Node<'tree>>) {
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        if child.kind() == kind {
            out.push(child);
        } else {
            collect_kind(child, kind, out);
        }
    }
}
