//! Parsing the bodies of macros whose contents are ordinary Rust: statements (`defer!`),
//! comma-separated expressions (`vec!`, `println!`, `assert_eq!`...), items (`cfg_if!`,
//! `cfg_rt!`), and static declarations (`thread_local!`, `lazy_static!`).

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::{Token, Type};

use super::types::{sym, type_expr};
use crate::model::facts::{StaticKind, Sym, TypeExpr};

/// One static declared by a macro.
pub(crate) struct StaticDecl {
    pub(crate) name: Sym,
    pub(crate) ty: TypeExpr,
    pub(crate) kind: StaticKind,
    pub(crate) name_span: proc_macro2::Span,
}

/// Macros whose body runs when the enclosing scope ends (scopeguard and look-alikes).
pub(crate) fn is_defer_macro(name: &str) -> bool {
    matches!(
        name,
        "defer" | "defer_on_unwind" | "defer_on_success" | "defer_lite"
    )
}

/// Macros that never return.
pub(crate) fn is_diverging_macro(name: &str) -> bool {
    matches!(name, "panic" | "unreachable" | "todo" | "unimplemented")
}

/// Whether a macro's input mentions code the analyses model: locks, map writes, spawns,
/// drops, defer guards, closures, or a call of anything but the accessors format arguments and
/// assertions are made of. Other macro input is not parsed at all: parsing it again would cost
/// more than the rest of the lowering.
pub(crate) fn mentions_modelled_code(text: &str) -> bool {
    const WORDS: &[&str] = &[
        "lock", "read(", "write(", "borrow", "insert", "remove", "entry", "clear", "retain",
        "extend", "drain", "append", "get_mut", "spawn", "drop", "forget", "upgrade", "guard",
        "defer", "exit", "abort", "|", "with(", "async",
    ];
    if WORDS.iter().any(|word| text.contains(word)) {
        return true;
    }
    let bytes = text.as_bytes();
    let mut position = 0;
    while let Some(found) = text[position..].find('(') {
        let open = position + found;
        let mut start = open;
        while start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            start -= 1;
        }
        let name = &text[start..open];
        if !name.is_empty() && !is_plain_accessor(name) {
            return true;
        }
        position = open + 1;
    }
    false
}

/// Calls that format arguments and assertions are made of, which never lead to modelled code.
fn is_plain_accessor(name: &str) -> bool {
    matches!(
        name,
        "len"
            | "is_empty"
            | "to_string"
            | "to_owned"
            | "clone"
            | "as_str"
            | "as_ref"
            | "unwrap"
            | "expect"
            | "is_some"
            | "is_none"
            | "is_ok"
            | "is_err"
            | "display"
            | "iter"
            | "get"
            | "count"
            | "map"
            | "collect"
            | "into"
            | "from"
            | "format"
            | "Some"
            | "Ok"
            | "Err"
            | "matches"
            | "contains"
            | "starts_with"
            | "ends_with"
            | "keys"
            | "values"
            | "first"
            | "last"
            | "load"
            | "name"
            | "id"
            | "type_name"
            | "size_of"
            | "stringify"
            | "concat"
            | "line"
            | "file"
            | "column"
            | "as_secs"
            | "as_millis"
            | "elapsed"
            | "now"
            | "abs"
            | "min"
            | "max"
            | "to_vec"
            | "join"
            | "debug"
    )
}

/// The statements of a `defer! { .. }` body.
pub(crate) fn parse_statements(tokens: TokenStream) -> Option<Vec<syn::Stmt>> {
    syn::Block::parse_within.parse2(tokens).ok()
}

/// Every top-level comma- or semicolon-separated piece of a macro's input that parses as an
/// expression. Pieces that do not (`target: "x"`, patterns, format specifiers of tracing) are
/// skipped, so that any function-like macro yields the expressions it most likely evaluates.
pub(crate) fn parse_expressions(tokens: TokenStream) -> Vec<syn::Expr> {
    let mut expressions = Vec::new();
    let mut chunk: Vec<TokenTree> = Vec::new();
    let mut flush = |chunk: &mut Vec<TokenTree>| {
        if !chunk.is_empty() {
            let stream: TokenStream = chunk.drain(..).collect();
            if let Ok(expression) = syn::parse2::<syn::Expr>(stream) {
                expressions.push(expression);
            }
        }
    };
    for tree in tokens {
        match &tree {
            TokenTree::Punct(punct) if punct.as_char() == ',' || punct.as_char() == ';' => {
                flush(&mut chunk)
            }
            _ => chunk.push(tree),
        }
    }
    flush(&mut chunk);
    expressions
}

/// The body of an item macro as items, or else the items of each braced group in it.
pub(crate) fn parse_items(tokens: TokenStream) -> Option<Vec<syn::Item>> {
    // Items start with a name (`pub`, `fn`, a macro's path) or an attribute. Other input,
    // such as windows-sys's tens of thousands of `link!("kernel32.dll" "system" fn ..)`, is
    // not tried as a file: building syn's buffer only to fail costs as much as parsing it.
    let may_be_items = match tokens.clone().into_iter().next() {
        Some(TokenTree::Ident(_)) => true,
        Some(TokenTree::Punct(punct)) => matches!(punct.as_char(), '#' | ':'),
        _ => false,
    };
    if may_be_items {
        if let Ok(file) = syn::parse2::<syn::File>(tokens.clone()) {
            return Some(file.items);
        }
    }
    let mut items = Vec::new();
    for tree in tokens {
        if let TokenTree::Group(group) = tree {
            if group.delimiter() == Delimiter::Brace {
                if let Some(inner) = parse_items(group.stream()) {
                    items.extend(inner);
                }
            }
        }
    }
    if items.is_empty() { None } else { Some(items) }
}

/// `thread_local! { [pub] static NAME: T = [const] init; ... }`
pub(crate) fn parse_thread_local(tokens: TokenStream) -> Vec<(StaticDecl, Option<syn::Expr>)> {
    let parser = |input: ParseStream<'_>| {
        let mut declarations = Vec::new();
        while !input.is_empty() {
            input.call(syn::Attribute::parse_outer)?;
            input.parse::<syn::Visibility>()?;
            input.parse::<Token![static]>()?;
            let ident: syn::Ident = input.parse()?;
            input.parse::<Token![:]>()?;
            let ty: Type = input.parse()?;
            input.parse::<Token![=]>()?;
            if input.peek(Token![const]) && input.peek2(syn::token::Brace) {
                input.parse::<Token![const]>()?;
            }
            let init: syn::Expr = input.parse()?;
            if input.peek(Token![;]) {
                input.parse::<Token![;]>()?;
            }
            let declaration = StaticDecl {
                name: sym(&ident),
                ty: type_expr(&ty),
                kind: StaticKind::ThreadLocal,
                name_span: ident.span(),
            };
            declarations.push((declaration, Some(init)));
        }
        Ok(declarations)
    };
    parser.parse2(tokens).unwrap_or_default()
}

/// `lazy_static! { [pub] static ref NAME: T = init; ... }`
pub(crate) fn parse_lazy_static(tokens: TokenStream) -> Vec<(StaticDecl, Option<syn::Expr>)> {
    let parser = |input: ParseStream<'_>| {
        let mut declarations = Vec::new();
        while !input.is_empty() {
            input.call(syn::Attribute::parse_outer)?;
            input.parse::<syn::Visibility>()?;
            input.parse::<Token![static]>()?;
            input.parse::<Token![ref]>()?;
            let ident: syn::Ident = input.parse()?;
            input.parse::<Token![:]>()?;
            let ty: Type = input.parse()?;
            input.parse::<Token![=]>()?;
            let init: syn::Expr = input.parse()?;
            input.parse::<Token![;]>()?;
            let declaration = StaticDecl {
                name: sym(&ident),
                ty: type_expr(&ty),
                kind: StaticKind::Static,
                name_span: ident.span(),
            };
            declarations.push((declaration, Some(init)));
        }
        Ok(declarations)
    };
    parser.parse2(tokens).unwrap_or_default()
}
