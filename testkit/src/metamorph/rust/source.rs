//! A fixture as the rewrites see it: its text with every `//~^` marker already moved onto the
//! line it points at, the syn tree (whose spans give byte offsets into that text), and the
//! tools every rewrite shares: text edits applied from offsets of the original text, fresh
//! names that no identifier of the program uses, and the bodies of the macros that hold code
//! (`defer!`, `println!`, `thread_local!`, ...), parsed so that rewrites see the code in them.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::ops::Range;
use std::path::Path;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::metamorph::VariantFile;

/// A parsed fixture.
pub(crate) struct Source {
    /// The text the offsets refer to: the fixture's, with `//~^` markers moved.
    pub text: String,
    pub file: syn::File,
    /// Every identifier written in the file, macro bodies included: fresh names avoid them.
    pub idents: BTreeSet<String>,
    /// Whether the fixture is built with edition 2024 (`//@ edition: 2024`).
    pub edition_2024: bool,
    /// Files that `#[path]` module declarations point at, copied into every variant as they
    /// are (their path relative to the variant's folder, and their text).
    pub path_modules: Vec<VariantFile>,
}

impl Source {
    /// Parses a fixture's text. `dir` is the fixture's folder, where `#[path]` modules are.
    pub fn parse(text: &str, dir: Option<&Path>) -> Result<Source, String> {
        let text = normalize_markers(text);
        let file = syn::parse_file(&text).map_err(|error| {
            let at = error.span().start();
            format!(
                "syn cannot parse the fixture ({error} at {}:{})",
                at.line, at.column
            )
        })?;
        let mut idents = BTreeSet::new();
        collect_idents(file.to_token_stream(), &mut idents);
        let mut path_modules = Vec::new();
        for item in &file.items {
            let syn::Item::Mod(module) = item else {
                continue;
            };
            let Some(path) = path_attribute(&module.attrs) else {
                continue;
            };
            let Some(dir) = dir else {
                return Err(format!(
                    "`#[path = \"{path}\"]` module without a folder to read it from"
                ));
            };
            let module_text = fs::read_to_string(dir.join(&path))
                .map_err(|error| format!("cannot read the `#[path]` module {path}: {error}"))?;
            if let Ok(module_file) = syn::parse_file(&module_text) {
                collect_idents(module_file.to_token_stream(), &mut idents);
            }
            path_modules.push(VariantFile {
                path,
                text: module_text,
            });
        }
        let edition_2024 = text.lines().any(|line| {
            line.trim()
                .strip_prefix("//@")
                .and_then(|header| header.trim().strip_prefix("edition:"))
                .is_some_and(|edition| edition.trim() == "2024")
        });
        Ok(Source {
            text,
            file,
            edition_2024,
            idents,
            path_modules,
        })
    }

    /// The offset where the line holding `offset` starts.
    pub fn line_start(&self, offset: usize) -> usize {
        self.text[..offset].rfind('\n').map_or(0, |at| at + 1)
    }

    /// The offset just past the end of the line holding `offset` (past its `\n`, or the end
    /// of the text).
    pub fn line_end(&self, offset: usize) -> usize {
        self.text[offset..]
            .find('\n')
            .map_or(self.text.len(), |at| offset + at + 1)
    }

    /// The main file of a variant made by `edits`, with the `#[path]` modules beside it.
    pub fn variant(&self, edits: &Edits) -> Vec<VariantFile> {
        let mut files = vec![VariantFile {
            path: "main.rs".to_owned(),
            text: edits.apply(&self.text),
        }];
        files.extend(self.path_modules.iter().cloned());
        files
    }
}

/// The value of a `#[path = "..."]` attribute.
pub(crate) fn path_attribute(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| {
        let syn::Meta::NameValue(name_value) = &attr.meta else {
            return None;
        };
        if !name_value.path.is_ident("path") {
            return None;
        }
        match &name_value.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(path),
                ..
            }) => Some(path.value()),
            _ => None,
        }
    })
}

/// Puts every `//~^` marker at the end of the line it points at, as `//~`, and drops the line
/// that held it when nothing else is on it: a rewrite that moves code then moves its marker
/// with it.
pub(crate) fn normalize_markers(text: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut appended: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut kept: Vec<String> = Vec::with_capacity(lines.len());
    let mut dropped = BTreeSet::new();
    for (index, line) in lines.iter().enumerate() {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (*line, ""),
        };
        let Some(at) = body.find("//~^") else {
            kept.push((*line).to_owned());
            continue;
        };
        // A marker ends its line: everything from the first `//~^` on is markers.
        let (code, markers) = body.split_at(at);
        for marker in markers.split("//~").skip(1) {
            let carets = marker.len() - marker.trim_start_matches('^').len();
            let rule = marker[carets..].trim();
            let target = index.saturating_sub(carets);
            appended
                .entry(target)
                .or_default()
                .push(format!("//~ {rule}"));
        }
        if code.trim().is_empty() {
            dropped.insert(index);
            kept.push(String::new());
        } else {
            kept.push(format!("{}{newline}", code.trim_end()));
        }
    }
    let mut out = String::with_capacity(text.len());
    for (index, line) in kept.iter().enumerate() {
        if dropped.contains(&index) {
            continue;
        }
        match appended.get(&index) {
            Some(markers) => {
                let (body, newline) = match line.strip_suffix('\n') {
                    Some(body) => (body, "\n"),
                    None => (line.as_str(), ""),
                };
                out.push_str(body.trim_end());
                for marker in markers {
                    out.push(' ');
                    out.push_str(marker);
                }
                out.push_str(newline);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// Text edits on one text, by offsets of the original: replacements and insertions that do
/// not overlap, applied at once.
#[derive(Debug, Default)]
pub(crate) struct Edits {
    edits: Vec<Edit>,
}

#[derive(Debug)]
struct Edit {
    range: Range<usize>,
    text: String,
    /// Insertions at one offset keep the order they were made in.
    order: usize,
}

impl Edits {
    pub fn insert(&mut self, at: usize, text: impl Into<String>) {
        self.replace(at..at, text);
    }

    pub fn replace(&mut self, range: Range<usize>, text: impl Into<String>) {
        let order = self.edits.len();
        self.edits.push(Edit {
            range,
            text: text.into(),
            order,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// The edited text. Overlapping edits are a bug of the rewrite that made them.
    pub fn apply(&self, text: &str) -> String {
        self.apply_within(text, 0..text.len())
    }

    /// The edited text of a range of the text, with the edits that lie inside it.
    pub fn apply_within(&self, text: &str, within: Range<usize>) -> String {
        let mut edits: Vec<&Edit> = self
            .edits
            .iter()
            .filter(|edit| {
                // An insertion where the range ends belongs to the text that follows.
                let insertion_at_end = edit.range.is_empty()
                    && edit.range.start == within.end
                    && within.end < text.len();
                edit.range.start >= within.start
                    && edit.range.end <= within.end
                    && !insertion_at_end
            })
            .collect();
        edits.sort_by_key(|edit| (edit.range.start, edit.range.end, edit.order));
        let mut out = String::with_capacity(within.len() + 256);
        let mut cursor = within.start;
        for edit in edits {
            assert!(
                edit.range.start >= cursor,
                "overlapping edits at {:?} (text so far ends at {cursor}): {:?}",
                edit.range,
                edit.text
            );
            out.push_str(&text[cursor..edit.range.start]);
            out.push_str(&edit.text);
            cursor = edit.range.end;
        }
        out.push_str(&text[cursor..within.end]);
        out
    }
}

/// Fresh names for one rewrite of one program: a name no identifier of the program uses and
/// that this rewrite did not hand out before.
pub(crate) struct Fresh<'a> {
    taken: &'a BTreeSet<String>,
    given: BTreeSet<String>,
}

impl<'a> Fresh<'a> {
    pub fn new(source: &'a Source) -> Fresh<'a> {
        Fresh {
            taken: &source.idents,
            given: BTreeSet::new(),
        }
    }

    /// `base` followed by the smallest number that makes it fresh: `tmp1`, `tmp2`, ...
    pub fn numbered(&mut self, base: &str) -> String {
        (1..)
            .map(|number| format!("{base}{number}"))
            .find(|name| self.is_free(name))
            .map(|name| self.take(name))
            .unwrap()
    }

    /// `base` itself when it is fresh, else [`Fresh::numbered`].
    pub fn plain(&mut self, base: &str) -> String {
        if self.is_free(base) {
            return self.take(base.to_owned());
        }
        self.numbered(base)
    }

    fn is_free(&self, name: &str) -> bool {
        !self.taken.contains(name) && !self.given.contains(name)
    }

    fn take(&mut self, name: String) -> String {
        self.given.insert(name.clone());
        name
    }
}

/// Byte offsets of a node in the text it was parsed from.
pub(crate) fn range_of(node: &impl Spanned) -> Range<usize> {
    node.span().byte_range()
}

pub(crate) fn span_range(span: Span) -> Range<usize> {
    span.byte_range()
}

/// The offset just past a block's `{`.
pub(crate) fn after_open_brace(block: &syn::Block) -> usize {
    block.brace_token.span.open().byte_range().end
}

/// The offset of a block's `}`.
pub(crate) fn at_close_brace(block: &syn::Block) -> usize {
    block.brace_token.span.close().byte_range().start
}

/// Tokens as Rust text on one line, without the comments of the source: what a rewrite copies
/// of a signature, a type or an attribute. Spaced as people write these (`&mut Vec<T>`, not
/// `& mut Vec < T >`); the spacing is only for the reader, the tokens are the same.
pub(crate) fn tokens_text(node: &impl ToTokens) -> String {
    let mut out = String::new();
    write_tokens(node.to_token_stream(), &mut out);
    out
}

/// What the last written token was, for the spacing of the next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    Start,
    Word,
    /// A punctuation after which nothing is spaced (`&`, `::`, `<`, `'`, `#`, `.`, `!`, `?`).
    Tight,
    /// A punctuation followed by a space (`,`, `;`, `:`, `=`, `->`, `+`).
    Spaced,
    Close,
}

fn write_tokens(tokens: TokenStream, out: &mut String) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut last = Last::Start;
    let mut index = 0;
    while index < tokens.len() {
        match &tokens[index] {
            TokenTree::Ident(ident) => {
                if matches!(last, Last::Word | Last::Spaced | Last::Close) {
                    out.push(' ');
                }
                out.push_str(&ident.to_string());
                last = Last::Word;
            }
            TokenTree::Literal(literal) => {
                if matches!(last, Last::Word | Last::Spaced | Last::Close) {
                    out.push(' ');
                }
                out.push_str(&literal.to_string());
                last = Last::Word;
            }
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    proc_macro2::Delimiter::Parenthesis => ("(", ")"),
                    proc_macro2::Delimiter::Bracket => ("[", "]"),
                    proc_macro2::Delimiter::Brace => ("{ ", " }"),
                    proc_macro2::Delimiter::None => ("", ""),
                };
                // A call, an index or a macro's arguments hug what they follow; a block does not.
                let hugs = open != "{ " && matches!(last, Last::Word | Last::Tight | Last::Close);
                if !hugs && last != Last::Start && last != Last::Tight {
                    out.push(' ');
                }
                out.push_str(open);
                write_tokens(group.stream(), out);
                out.push_str(close);
                last = Last::Close;
            }
            TokenTree::Punct(_) => {
                // A run of joint punctuation is one operator (`::`, `->`, `=>`, `'a`).
                let mut operator = String::new();
                while let Some(TokenTree::Punct(punct)) = tokens.get(index) {
                    operator.push(punct.as_char());
                    if punct.spacing() == proc_macro2::Spacing::Alone || punct.as_char() == '\'' {
                        break;
                    }
                    index += 1;
                }
                let spaced_before = matches!(last, Last::Word | Last::Spaced | Last::Close);
                let (space_before, next) = match operator.as_str() {
                    "," | ";" | ":" => (false, Last::Spaced),
                    // `: ::std::x` must not become `:::std::x`.
                    "::" => (last == Last::Spaced, Last::Tight),
                    "." => (false, Last::Tight),
                    "&" | "&&" | "*" | "?" | "'" | "#" => (spaced_before, Last::Tight),
                    // A macro's `!` hugs its name; the never type does not hug `->`.
                    "!" => (last == Last::Spaced, Last::Tight),
                    _ if operator.chars().all(|character| character == '<') => {
                        (last == Last::Spaced, Last::Tight)
                    }
                    _ if operator.chars().all(|character| character == '>') => (false, Last::Close),
                    _ => (last != Last::Start, Last::Spaced),
                };
                if space_before {
                    out.push(' ');
                }
                out.push_str(&operator);
                last = next;
            }
        }
        index += 1;
    }
}

/// Every identifier in a token stream, groups included.
pub(crate) fn collect_idents(tokens: TokenStream, into: &mut BTreeSet<String>) {
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => {
                into.insert(ident.to_string());
            }
            TokenTree::Group(group) => collect_idents(group.stream(), into),
            TokenTree::Literal(literal) => {
                // Inline arguments of format strings name identifiers too.
                let text = literal.to_string();
                if text.starts_with('"') || text.starts_with("r\"") || text.starts_with("r#") {
                    for (_, name) in inline_format_args(&text) {
                        into.insert(name.to_owned());
                    }
                }
            }
            TokenTree::Punct(_) => {}
        }
    }
}

/// The identifiers of a token stream (groups included).
pub(crate) fn idents_of(node: &impl ToTokens) -> BTreeSet<String> {
    let mut idents = BTreeSet::new();
    collect_idents(node.to_token_stream(), &mut idents);
    idents
}

/// The names used as inline arguments of a format string literal as written (`"{name}"`,
/// `"{name:?}"`, `"{name:>width$}"`): `(offset in the literal's text, name)`.
pub(crate) fn inline_format_args(literal: &str) -> Vec<(usize, &str)> {
    let bytes = literal.as_bytes();
    let mut names = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'{' if bytes.get(index + 1) == Some(&b'{') => index += 2,
            b'}' if bytes.get(index + 1) == Some(&b'}') => index += 2,
            b'{' => {
                let start = index + 1;
                let mut end = start;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_')
                {
                    end += 1;
                }
                let name = &literal[start..end];
                if is_identifier(name) && matches!(bytes.get(end), Some(b'}' | b':')) {
                    names.push((start, name));
                }
                // Widths and precisions given by name (`{:>width$}`).
                let close = literal[end..].find('}').map_or(bytes.len(), |at| end + at);
                let spec = &literal[end..close];
                let mut spec_at = 0;
                while let Some(dollar) = spec[spec_at..].find('$') {
                    let dollar = spec_at + dollar;
                    let word_start = spec[..dollar]
                        .rfind(|character: char| {
                            !(character.is_ascii_alphanumeric() || character == '_')
                        })
                        .map_or(0, |at| at + 1);
                    let word = &spec[word_start..dollar];
                    if is_identifier(word) {
                        names.push((end + word_start, word));
                    }
                    spec_at = dollar + 1;
                }
                index = close + 1;
            }
            _ => index += 1,
        }
    }
    names
}

/// Whether a word is an identifier (not a number, not empty).
pub(crate) fn is_identifier(word: &str) -> bool {
    word.chars()
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && word
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || character == '_')
        && word != "_"
}

/// The last segment of a macro's path: `println` for `std::println!`.
pub(crate) fn macro_name(mac: &syn::Macro) -> String {
    mac.path
        .segments
        .last()
        .map(|segment| segment.ident.to_string())
        .unwrap_or_default()
}

/// The code a macro call holds, as far as its syntax is known.
pub(crate) enum MacroArgs {
    /// `defer! { stmts }`.
    Stmts(Vec<syn::Stmt>),
    /// Arguments separated by commas (`println!`, `assert_eq!`, `vec!`, ...); `format` is the
    /// index of the format string, for the format macros.
    Exprs {
        exprs: Vec<syn::Expr>,
        format: Option<usize>,
    },
    /// `vec![elem; count]`.
    Repeat(syn::Expr, syn::Expr),
    /// `matches!(expr, pattern if guard)`.
    Matches(syn::Expr, syn::Pat, Option<syn::Expr>),
    /// `thread_local! { static NAME: Type = init; ... }`.
    ThreadLocal(Vec<ThreadLocalStatic>),
}

/// One static of a `thread_local!`.
pub(crate) struct ThreadLocalStatic {
    pub vis: syn::Visibility,
    pub static_token: syn::Token![static],
    pub ident: syn::Ident,
    pub ty: syn::Type,
    pub init: syn::Expr,
}

/// The index of the format string among a format macro's arguments.
fn format_string_index(name: &str) -> Option<usize> {
    match name {
        "println" | "print" | "eprintln" | "eprint" | "format" | "format_args" | "panic"
        | "unreachable" | "todo" | "unimplemented" => Some(0),
        "write" | "writeln" | "assert" | "debug_assert" => Some(1),
        "assert_eq" | "assert_ne" | "debug_assert_eq" | "debug_assert_ne" => Some(2),
        _ => None,
    }
}

/// Parses the body of a macro call whose syntax is known. `None` for other macros.
pub(crate) fn parse_macro_args(mac: &syn::Macro) -> Option<MacroArgs> {
    let name = macro_name(mac);
    let tokens = mac.tokens.clone();
    match name.as_str() {
        "defer" => syn::Block::parse_within
            .parse2(tokens)
            .ok()
            .map(MacroArgs::Stmts),
        "matches" | "assert_matches" | "debug_assert_matches" => {
            let parser = |input: ParseStream<'_>| {
                let expr: syn::Expr = input.parse()?;
                input.parse::<syn::Token![,]>()?;
                let pat = syn::Pat::parse_multi_with_leading_vert(input)?;
                let guard = if input.peek(syn::Token![if]) {
                    input.parse::<syn::Token![if]>()?;
                    Some(input.parse::<syn::Expr>()?)
                } else {
                    None
                };
                let _ = input.parse::<Option<syn::Token![,]>>()?;
                // `assert_matches!` may carry a message: not modelled.
                if !input.is_empty() {
                    return Err(input.error("more than a pattern"));
                }
                Ok(MacroArgs::Matches(expr, pat, guard))
            };
            parser.parse2(tokens).ok()
        }
        "thread_local" => parse_thread_local
            .parse2(tokens)
            .ok()
            .map(MacroArgs::ThreadLocal),
        "vec" => {
            let repeat = |input: ParseStream<'_>| {
                let elem: syn::Expr = input.parse()?;
                input.parse::<syn::Token![;]>()?;
                let count: syn::Expr = input.parse()?;
                Ok(MacroArgs::Repeat(elem, count))
            };
            repeat
                .parse2(tokens.clone())
                .ok()
                .or_else(|| comma_exprs(tokens, None))
        }
        "println" | "print" | "eprintln" | "eprint" | "format" | "format_args" | "panic"
        | "unreachable" | "todo" | "unimplemented" | "write" | "writeln" | "assert"
        | "debug_assert" | "assert_eq" | "assert_ne" | "debug_assert_eq" | "debug_assert_ne"
        | "dbg" | "addr_of" | "addr_of_mut" | "join" | "try_join" | "pin" => {
            comma_exprs(tokens, format_string_index(&name))
        }
        _ => None,
    }
}

fn comma_exprs(tokens: TokenStream, format: Option<usize>) -> Option<MacroArgs> {
    Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated
        .parse2(tokens)
        .ok()
        .map(|exprs| MacroArgs::Exprs {
            exprs: exprs.into_iter().collect(),
            format,
        })
}

fn parse_thread_local(input: ParseStream<'_>) -> syn::Result<Vec<ThreadLocalStatic>> {
    let mut statics = Vec::new();
    while !input.is_empty() {
        input.call(syn::Attribute::parse_outer)?;
        let vis: syn::Visibility = input.parse()?;
        let static_token: syn::Token![static] = input.parse()?;
        let ident: syn::Ident = input.parse()?;
        input.parse::<syn::Token![:]>()?;
        let ty: syn::Type = input.parse()?;
        input.parse::<syn::Token![=]>()?;
        // `const { init }` parses as a const block expression.
        let init: syn::Expr = input.parse()?;
        statics.push(ThreadLocalStatic {
            vis,
            static_token,
            ident,
            ty,
            init,
        });
        if input.is_empty() {
            break;
        }
        input.parse::<syn::Token![;]>()?;
    }
    Ok(statics)
}

/// Visits the code in a macro call's body with `visitor`, as far as its syntax is known.
pub(crate) fn visit_macro_args<'ast, V: Visit<'ast> + ?Sized>(
    visitor: &mut V,
    args: &'ast MacroArgs,
) {
    match args {
        MacroArgs::Stmts(stmts) => {
            for stmt in stmts {
                visitor.visit_stmt(stmt);
            }
        }
        MacroArgs::Exprs { exprs, .. } => {
            for expr in exprs {
                visitor.visit_expr(expr);
            }
        }
        MacroArgs::Repeat(elem, count) => {
            visitor.visit_expr(elem);
            visitor.visit_expr(count);
        }
        MacroArgs::Matches(expr, pat, guard) => {
            visitor.visit_expr(expr);
            visitor.visit_pat(pat);
            if let Some(guard) = guard {
                visitor.visit_expr(guard);
            }
        }
        MacroArgs::ThreadLocal(statics) => {
            for local in statics {
                visitor.visit_type(&local.ty);
                visitor.visit_expr(&local.init);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_markers_move_onto_their_line() {
        let text =
            "fn main() {\n    a(); //~ one\n    b();\n    //~^ two\n    c(); //~^^ three\n}\n";
        assert_eq!(
            normalize_markers(text),
            "fn main() {\n    a(); //~ one\n    b(); //~ two //~ three\n    c();\n}\n"
        );
    }

    #[test]
    fn inline_format_arguments_are_found_with_their_offsets() {
        let literal = r#""{count} {{skip}} {name:?} {0} {:>width$.prec$} {x:width$}""#;
        let found: Vec<&str> = inline_format_args(literal)
            .into_iter()
            .map(|(at, name)| {
                assert_eq!(&literal[at..at + name.len()], name);
                name
            })
            .collect();
        assert_eq!(found, ["count", "name", "width", "prec", "x", "width"]);
    }

    #[test]
    fn copied_tokens_are_spaced_as_people_write_them() {
        let sig: syn::Signature = syn::parse_str(
            "unsafe fn get<'a, 'b: 'a, T: ?Sized + Debug, const N: usize>(&'a mut self, x: ::std::vec::Vec<Vec<[u8; N]>>, f: &dyn Fn(&T) -> !) -> Option<&'b T> where T: Send + 'a",
        )
        .unwrap();
        assert_eq!(
            tokens_text(&sig),
            "unsafe fn get<'a, 'b: 'a, T: ?Sized + Debug, const N: usize>(&'a mut self, x: ::std::vec::Vec<Vec<[u8; N]>>, f: &dyn Fn(&T) -> !) -> Option<&'b T> where T: Send + 'a"
        );
        let attr: syn::Attribute = syn::Attribute::parse_outer
            .parse_str("#[allow(clippy::type_complexity, dead_code)]")
            .unwrap()
            .remove(0);
        assert_eq!(
            tokens_text(&attr),
            "#[allow(clippy::type_complexity, dead_code)]"
        );
    }

    #[test]
    fn edits_apply_in_text_order_with_insertions_in_the_order_made() {
        let mut edits = Edits::default();
        edits.insert(3, "b");
        edits.replace(3..4, "X");
        edits.insert(3, "c");
        edits.insert(0, "<");
        assert_eq!(edits.apply("abcdef"), "<abcbcXef");
    }
}
