//! The Rust frontend: syn parses a file, one walk over the tree keeps facts, then the tree and
//! proc-macro2's span table for this thread are dropped.

mod body;
mod cfg;
mod items;
mod macros;
mod old_editions;
mod types;

use proc_macro2::Span as SynSpan;

use crate::model::extensions::Extensions;
use crate::model::facts::{Body, BodyIdx, FileFacts, FileProblem, FnFact, FnIdx, ModIdx};
use crate::source::{FileId, Language, Span};
use crate::unit::{Edition, FeatureSet};

/// Parses and lowers one Rust file. Never panics on bad input: a file that does not parse
/// yields facts holding one problem. Code under a `#[cfg(..)]` that `features` makes
/// definitely false is left out; with `None` every item is read.
pub fn lower_file(
    file: FileId,
    text: &str,
    edition: Edition,
    extensions: &Extensions,
    features: Option<&FeatureSet>,
) -> FileFacts {
    if let Some(facts) = super::nesting::skip_if_too_deep(file, text, Language::Rust) {
        return facts;
    }
    let (offset, original) = strip_prefix(text);
    // Blanking keeps every byte that is not in a doc comment, so a file that parses with its
    // doc comments parses without them (the `rust_frontend` fuzz target checks it).
    let mut facts = lower_content(
        file,
        offset,
        &blank_doc_comments(original),
        edition,
        extensions,
        features,
    );
    facts.byte_len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    // Spans of this file are no longer needed; without this the thread's span table would grow
    // with every file parsed on it.
    proc_macro2::extra::invalidate_current_thread_spans();
    facts
}

/// Lowers the text of a file after its byte-order mark and shebang line (`offset` bytes in);
/// when the whole does not parse, the facts are those of the items that do.
fn lower_content(
    file: FileId,
    offset: u32,
    content: &str,
    edition: Edition,
    extensions: &Extensions,
    features: Option<&FeatureSet>,
) -> FileFacts {
    let mut cx = FileCx::new(file, offset, content, edition, extensions, features);
    let parsed = if content.len() < LARGE_FILE_BYTES {
        syn::parse_str::<syn::File>(content).map(|syntax| {
            cx.lower_file_items(&syntax.attrs, &syntax.items);
        })
    } else {
        // A large file is lowered item by item as it is parsed, each item's tree dropped
        // before the next is built: a 20 MB file of functions took 2.4 GB as one syn tree.
        let streamed = lower_large_file(&mut cx, content);
        if streamed.is_err() {
            // Start again from nothing: the tolerant path lowers every item that parses.
            cx = FileCx::new(file, offset, content, edition, extensions, features);
        }
        streamed
    };
    if parsed.is_ok() {
        return cx.facts;
    }
    // Syntax of an older edition that syn does not parse (anonymous trait method parameters,
    // bare closure trait objects), rewritten; the spans are mapped back to the file's text.
    let Some(rewrite) = old_editions::rewrite(content, edition) else {
        return lower_tolerantly(cx, content, None);
    };
    let mut cx = FileCx::new(file, offset, &rewrite.text, edition, extensions, features);
    cx.original = Some((content, &rewrite));
    let parsed = syn::parse_str::<syn::File>(&rewrite.text).map(|syntax| {
        cx.lower_file_items(&syntax.attrs, &syntax.items);
    });
    if parsed.is_ok() {
        return cx.facts;
    }
    let mut cx = FileCx::new(file, offset, &rewrite.text, edition, extensions, features);
    cx.original = Some((content, &rewrite));
    lower_tolerantly(cx, &rewrite.text, Some(&rewrite))
}

/// Lowers every item that parses, and reports the others as problems. `content` is the text
/// `cx` was made for: the file's, or `rewrite`'s.
fn lower_tolerantly(
    mut cx: FileCx<'_>,
    content: &str,
    rewrite: Option<&old_editions::Rewrite>,
) -> FileFacts {
    // Keep what parses: every item but the broken ones (a file in the middle of an edit,
    // syntax syn does not know).
    let (attrs, items, errors) = parse_items_tolerantly(content);
    cx.lower_file_items(&attrs, &items);
    for error in errors {
        let range = error.span().byte_range();
        let (start, end) = match rewrite {
            Some(rewrite) => (
                rewrite.original(range.start as u32),
                rewrite.original(range.end as u32),
            ),
            None => (range.start as u32, range.end as u32),
        };
        let span = Span::new(cx.file, cx.offset + start, cx.offset + end);
        cx.facts.problems.push(FileProblem {
            span,
            message: format!(
                "could not parse this item ({error}); the rest of the file is checked"
            ),
        });
    }
    cx.facts
}

/// Files smaller than this are parsed as they are; in larger ones, data tables are elided
/// first (see [`elide_data_tables`]).
const LARGE_FILE_BYTES: usize = 256 * 1024;

/// Initializers of more tokens than this, made of literals only, are data tables.
const DATA_TABLE_TOKENS: usize = 4096;

/// Parses a whole file. A large file's data tables are left out of the tree: syn would build
/// an expression per number, and encoding_rs's 2.5 MB of tables take 300 MB as syn trees,
/// more than the rest of a 240 MB corpus needs at any one time. Nothing in a table of
/// literals matters to the analyses.
fn parse_file(content: &str) -> syn::Result<syn::File> {
    if content.len() < LARGE_FILE_BYTES {
        return syn::parse_str(content);
    }
    let tokens: proc_macro2::TokenStream = content.parse()?;
    syn::parse2(elide_data_tables(tokens))
}

/// Parses a large file's items one at a time, data tables elided, lowering each as it comes.
fn lower_large_file(cx: &mut FileCx<'_>, content: &str) -> syn::Result<()> {
    use syn::parse::{ParseStream, Parser};
    let tokens: proc_macro2::TokenStream = content.parse()?;
    let parser = |input: ParseStream<'_>| -> syn::Result<()> {
        let attrs = input.call(syn::Attribute::parse_inner)?;
        if cx.is_configured_out(&attrs) {
            return Ok(());
        }
        while !input.is_empty() {
            let item: syn::Item = input.parse()?;
            cx.lower_items(
                std::slice::from_ref(&item),
                ModIdx(0),
                items::ItemContext::default(),
            );
        }
        Ok(())
    };
    parser.parse2(elide_data_tables(tokens))
}

/// Replaces each large initializer made only of literals (`static T: [u16; N] = [..];`, at
/// the top level or in inline modules) with an empty one of the same delimiter and span.
fn elide_data_tables(tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    use proc_macro2::{Delimiter, Group, TokenTree};
    let mut kept: Vec<TokenTree> = Vec::new();
    for tree in tokens {
        // Looks back at what is already kept: the trees are moved, never cloned.
        let is_punct = |back: usize, ch: char| {
            kept.len() >= back
                && matches!(&kept[kept.len() - back], TokenTree::Punct(punct) if punct.as_char() == ch)
        };
        let is_ident = |back: usize, name: &str| {
            kept.len() >= back
                && matches!(&kept[kept.len() - back], TokenTree::Ident(ident) if ident == name)
        };
        let replacement = match &tree {
            TokenTree::Group(group)
                if group.delimiter() == Delimiter::Bracket
                    && (is_punct(1, '=') || (is_punct(1, '&') && is_punct(2, '=')))
                    && data_tokens(&group.stream())
                        .is_some_and(|count| count > DATA_TABLE_TOKENS) =>
            {
                let mut empty = Group::new(Delimiter::Bracket, proc_macro2::TokenStream::new());
                empty.set_span(group.span());
                Some(empty)
            }
            TokenTree::Group(group)
                if group.delimiter() == Delimiter::Brace && is_ident(2, "mod") =>
            {
                let mut inner = Group::new(Delimiter::Brace, elide_data_tables(group.stream()));
                inner.set_span(group.span());
                Some(inner)
            }
            _ => None,
        };
        kept.push(replacement.map_or(tree, TokenTree::Group));
    }
    kept.into_iter().collect()
}

/// The number of tokens of a stream made only of literals, names, signs and nested arrays or
/// tuples; `None` as soon as it holds anything else (a block, a closure, a macro).
fn data_tokens(tokens: &proc_macro2::TokenStream) -> Option<usize> {
    use proc_macro2::{Delimiter, TokenTree};
    let mut count = 0;
    for tree in tokens.clone() {
        count += 1;
        match tree {
            TokenTree::Literal(_) | TokenTree::Ident(_) => {}
            TokenTree::Punct(punct) if matches!(punct.as_char(), ',' | '-' | '.' | ':') => {}
            TokenTree::Group(group)
                if matches!(
                    group.delimiter(),
                    Delimiter::Bracket | Delimiter::Parenthesis
                ) =>
            {
                count += data_tokens(&group.stream())?;
            }
            _ => return None,
        }
    }
    Some(count)
}

/// Parses a file and drops the tree, as syn does it with nothing left out: the baseline the
/// benchmark compares the whole analysis with. Returns whether the file parsed.
pub fn parse_only(text: &str) -> bool {
    if super::nesting::measure(text, Language::Rust).is_too_deep() {
        return false;
    }
    let (_, content) = strip_prefix(text);
    let parsed = syn::parse_str::<syn::File>(content).is_ok();
    proc_macro2::extra::invalidate_current_thread_spans();
    parsed
}

/// Parses a file and drops the tree the way the analysis parses it: doc comments blanked and
/// a large file's data tables elided. The benchmark's second baseline: the whole analysis
/// against this one measures what comes after parsing.
pub fn parse_as_analysed(text: &str) -> bool {
    if super::nesting::measure(text, Language::Rust).is_too_deep() {
        return false;
    }
    let (_, content) = strip_prefix(text);
    let parsed = parse_file(&blank_doc_comments(content)).is_ok();
    proc_macro2::extra::invalidate_current_thread_spans();
    parsed
}

/// The text with its doc comments (`///`, `//!`, `/** .. */`, `/*! .. */`) turned into spaces,
/// line ends kept, every other byte where it was. proc-macro2 makes each doc comment an
/// attribute holding a string literal, which syn then parses; nothing in them matters to the
/// analyses, and in documented crates they are a third of the text or more (tokio: 41 %).
/// Parsing without them takes about 30 % less time there.
fn blank_doc_comments(content: &str) -> std::borrow::Cow<'_, str> {
    use super::comments::{CommentKind, comments};
    let has_docs = ["///", "//!", "/**", "/*!"]
        .iter()
        .any(|marker| content.contains(marker));
    if !has_docs {
        return std::borrow::Cow::Borrowed(content);
    }
    let mut bytes = content.as_bytes().to_vec();
    let mut blanked = false;
    for comment in comments(content, Language::Rust) {
        let text = &content[comment.start..comment.end];
        let is_doc = match comment.kind {
            CommentKind::Line => {
                (text.starts_with("///") && !text.starts_with("////")) || text.starts_with("//!")
            }
            // An unclosed block comment is left for syn to reject.
            CommentKind::Block => {
                text.len() >= 5
                    && text.ends_with("*/")
                    && ((text.starts_with("/**") && !text.starts_with("/***"))
                        || text.starts_with("/*!"))
            }
        };
        if is_doc {
            for byte in &mut bytes[comment.start..comment.end] {
                if !matches!(*byte, b'\n' | b'\r') {
                    *byte = b' ';
                }
            }
            blanked = true;
        }
    }
    if !blanked {
        return std::borrow::Cow::Borrowed(content);
    }
    // Whole comments are blanked, so no multi-byte character is cut.
    std::borrow::Cow::Owned(String::from_utf8(bytes).expect("comments end on character boundaries"))
}

/// Parses a file item by item, skipping each item that does not parse up to its end (a `;` or
/// a braced group at the top level).
fn parse_items_tolerantly(content: &str) -> (Vec<syn::Attribute>, Vec<syn::Item>, Vec<syn::Error>) {
    use syn::parse::discouraged::Speculative;
    use syn::parse::{ParseStream, Parser};
    let parser = |input: ParseStream<'_>| {
        let mut items = Vec::new();
        let mut errors = Vec::new();
        let attrs = input.call(syn::Attribute::parse_inner).unwrap_or_default();
        while !input.is_empty() {
            let fork = input.fork();
            match fork.parse::<syn::Item>() {
                Ok(item) => {
                    input.advance_to(&fork);
                    items.push(item);
                }
                Err(error) => {
                    errors.push(error);
                    while !input.is_empty() {
                        match input.parse::<proc_macro2::TokenTree>()? {
                            proc_macro2::TokenTree::Punct(punct) if punct.as_char() == ';' => break,
                            proc_macro2::TokenTree::Group(group)
                                if group.delimiter() == proc_macro2::Delimiter::Brace =>
                            {
                                if input.peek(syn::Token![;]) {
                                    input.parse::<syn::Token![;]>()?;
                                }
                                break;
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        Ok((attrs, items, errors))
    };
    match parser.parse_str(content) {
        Ok(result) => result,
        Err(error) => (Vec::new(), Vec::new(), vec![error]),
    }
}

/// Offsets just after each `\n`.
fn memchr_newlines(content: &str) -> impl Iterator<Item = u32> + '_ {
    content
        .bytes()
        .enumerate()
        .filter(|(_, byte)| *byte == b'\n')
        .map(|(index, _)| index as u32 + 1)
}

/// Byte-order mark and shebang line, which `syn::parse_file` would strip: strip them here so
/// that span offsets can be shifted back to offsets into the file.
fn strip_prefix(text: &str) -> (u32, &str) {
    let mut content = text;
    let mut offset = 0usize;
    if let Some(rest) = content.strip_prefix('\u{feff}') {
        offset += text.len() - rest.len();
        content = rest;
    }
    if content.starts_with("#!") && !content[2..].trim_start().starts_with('[') {
        let end = content.find('\n').unwrap_or(content.len());
        offset += end;
        content = &content[end..];
    }
    (offset as u32, content)
}

/// The state of lowering one file.
pub(crate) struct FileCx<'t> {
    pub(crate) file: FileId,
    offset: u32,
    /// The text syn parsed (after a byte-order mark and a shebang line).
    content: &'t str,
    /// Byte offsets of the line starts of `content`.
    line_starts: Vec<u32>,
    /// Every character is one byte: columns are byte offsets.
    ascii: bool,
    pub(crate) edition: Edition,
    /// The project's own defer macros.
    pub(crate) extensions: &'t Extensions,
    /// The unit's enabled cargo features, when known: code `cfg`'d out by them is skipped.
    features: Option<&'t FeatureSet>,
    pub(crate) facts: FileFacts,
    /// When `content` is a rewrite of older-edition syntax: the text it rewrote, and the
    /// rewrite, which maps offsets back to it.
    original: Option<(&'t str, &'t old_editions::Rewrite)>,
}

impl<'t> FileCx<'t> {
    fn new(
        file: FileId,
        offset: u32,
        content: &'t str,
        edition: Edition,
        extensions: &'t Extensions,
        features: Option<&'t FeatureSet>,
    ) -> FileCx<'t> {
        let mut line_starts = vec![0];
        line_starts.extend(memchr_newlines(content));
        FileCx {
            file,
            offset,
            content,
            line_starts,
            ascii: content.is_ascii(),
            edition,
            extensions,
            features,
            facts: FileFacts::default(),
            original: None,
        }
    }

    /// Whether a `#[cfg(..)]` among `attrs` is definitely false for the unit's features.
    pub(crate) fn is_configured_out(&self, attrs: &[syn::Attribute]) -> bool {
        !attrs.is_empty() && cfg::is_configured_out(attrs, self.features)
    }

    /// The items of a whole file, unless its inner attributes (`#![cfg(feature = "x")]`)
    /// leave the file out.
    fn lower_file_items(&mut self, attrs: &[syn::Attribute], items: &[syn::Item]) {
        if !self.is_configured_out(attrs) {
            self.lower_items(items, ModIdx(0), items::ItemContext::default());
        }
    }

    /// A proc-macro2 span as a byte span of the file. proc-macro2 knows lines and character
    /// columns cheaply; its byte offsets go through a cache that costs more than this.
    pub(crate) fn span(&self, span: SynSpan) -> Span {
        let mut lo = self.byte_offset(span.start());
        let mut hi = self.byte_offset(span.end());
        if let Some((_, rewrite)) = self.original {
            (lo, hi) = (rewrite.original(lo), rewrite.original(hi));
        }
        Span::new(self.file, self.offset + lo, self.offset + hi)
    }

    /// The source text of a span of this file.
    pub(crate) fn text(&self, span: Span) -> &'t str {
        let lo = span.lo.saturating_sub(self.offset) as usize;
        let hi = span.hi.saturating_sub(self.offset) as usize;
        let text = self.original.map_or(self.content, |(original, _)| original);
        text.get(lo..hi).unwrap_or("")
    }

    fn byte_offset(&self, position: proc_macro2::LineColumn) -> u32 {
        let Some(&line_start) = self.line_starts.get(position.line.wrapping_sub(1)) else {
            return 0;
        };
        if self.ascii {
            return line_start + position.column as u32;
        }
        let line = &self.content[line_start as usize..];
        let within = line
            .char_indices()
            .nth(position.column)
            .map(|(index, _)| index)
            .unwrap_or_else(|| line.find('\n').unwrap_or(line.len()));
        line_start + within as u32
    }

    pub(crate) fn span_between(&self, start: SynSpan, end: SynSpan) -> Span {
        self.span(start).to(self.span(end))
    }

    pub(crate) fn push_function(&mut self, function: FnFact) -> FnIdx {
        let index = FnIdx::from_index(self.facts.functions.len());
        self.facts.functions.push(function);
        index
    }

    pub(crate) fn push_body(&mut self, body: Body) -> BodyIdx {
        let index = BodyIdx::from_index(self.facts.bodies.len());
        self.facts.bodies.push(body);
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of data tables above the size where they are elided, with code around them.
    fn table_file() -> String {
        let numbers: Vec<String> = (0..60_000).map(|number| number.to_string()).collect();
        format!(
            "pub static TABLE: [u32; 60000] = [{}];\n\
             mod inner {{ pub const PAIRS: &[(u8, i8)] = &[{}]; }}\n\
             pub static LAZY: [fn() -> u8; 1] = [|| 1];\n\
             pub fn after() {{}}\n",
            numbers.join(", "),
            vec!["(1, -1)"; 2_000].join(", ")
        )
    }

    #[test]
    fn large_data_tables_are_elided_and_the_rest_kept() {
        let text = table_file();
        assert!(text.len() > LARGE_FILE_BYTES);
        let tokens: proc_macro2::TokenStream = text.parse().unwrap();
        let elided = elide_data_tables(tokens).to_string();
        assert!(
            elided.contains("TABLE : [u32 ; 60000] = [] ;"),
            "{}",
            &elided[..200]
        );
        assert!(elided.contains("PAIRS : & [(u8 , i8)] = & [] ;"));
        // A closure is code, never data.
        assert!(elided.contains("[|| 1]"));
        let facts = lower_file(
            FileId(0),
            &text,
            Edition::E2021,
            &Extensions::default(),
            None,
        );
        assert!(facts.problems.is_empty());
        assert!(facts.statics.len() >= 2);
        assert!(!facts.functions.is_empty());
    }

    #[test]
    fn large_files_are_lowered_item_by_item_and_a_broken_item_starts_over() {
        let good: String = (0..12_000)
            .map(|index| format!("pub fn f{index}() {{ let x = {index}; }}\n"))
            .collect();
        assert!(good.len() > LARGE_FILE_BYTES);
        let facts = lower_file(
            FileId(0),
            &good,
            Edition::E2021,
            &Extensions::default(),
            None,
        );
        assert!(facts.problems.is_empty());
        assert_eq!(facts.functions.len(), 12_000);
        // A broken item halfway: the streamed half is thrown away, the tolerant parse keeps
        // every function that parses, once.
        let broken = good.replacen("pub fn f3000()", "pub fn f3000() ->", 1);
        let facts = lower_file(
            FileId(0),
            &broken,
            Edition::E2021,
            &Extensions::default(),
            None,
        );
        assert_eq!(facts.problems.len(), 1);
        assert_eq!(facts.functions.len(), 11_999);
    }

    #[test]
    fn small_tables_and_code_are_not_data() {
        let small: proc_macro2::TokenStream = "[1, 2, 3]".parse().unwrap();
        assert_eq!(data_tokens(&small), Some(6));
        let code: proc_macro2::TokenStream = "[{ f() }, 2]".parse().unwrap();
        assert_eq!(data_tokens(&code), None);
        let macro_call: proc_macro2::TokenStream = "[m!(1), 2]".parse().unwrap();
        assert_eq!(data_tokens(&macro_call), None);
    }
}

#[cfg(test)]
mod doc_comment_tests {
    use super::*;

    #[test]
    fn doc_comments_are_blanked_and_nothing_else() {
        let text = "//! crate doc\n/// outer \u{e9}\r\nfn f() -> &'static str { \"/// not a comment\" }\n\
                    //// not doc\n/*** not doc */ /**/ /** doc */ /*! inner */\n\
                    let c = '/'; let r = r#\"//! raw\"#; 'a: loop {}\n// plain\n/** unclosed";
        let blanked = blank_doc_comments(text);
        let mut expected = text.to_string();
        for doc in [
            "//! crate doc",
            "/// outer \u{e9}",
            "/** doc */",
            "/*! inner */",
        ] {
            expected = expected.replacen(doc, &" ".repeat(doc.len()), 1);
        }
        assert_eq!(blanked, expected);
        assert!(matches!(
            blank_doc_comments("fn f() {}"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    /// Every Rust fixture lowers to the same facts with its doc comments as without them.
    #[test]
    fn blanking_changes_no_fact() {
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");
        let extensions = Extensions::default();
        let mut with_docs = 0;
        for folder in std::fs::read_dir(fixtures).unwrap() {
            for entry in std::fs::read_dir(folder.unwrap().path()).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_none_or(|extension| extension != "rs") {
                    continue;
                }
                let text = document(&std::fs::read_to_string(&path).unwrap());
                let (offset, content) = strip_prefix(&text);
                let plain = lower_content(
                    FileId(1),
                    offset,
                    content,
                    Edition::E2021,
                    &extensions,
                    None,
                );
                let mut blanked = lower_file(FileId(1), &text, Edition::E2021, &extensions, None);
                blanked.byte_len = 0;
                assert_eq!(
                    format!("{plain:?}"),
                    format!("{blanked:?}"),
                    "{}",
                    path.display()
                );
                with_docs += usize::from(blank_doc_comments(content) != content);
            }
        }
        assert!(with_docs > 100, "{with_docs} fixtures have doc comments");
    }

    /// The text with doc comments of every kind before its items, fields, statements and
    /// match arms, as documented crates have them.
    fn document(text: &str) -> String {
        let mut documented = String::from("//! A crate.\n/*! More of it. */\n");
        for line in text.lines() {
            let code = line.trim_start();
            let indent = &line[..line.len() - code.len()];
            let starts = |words: &[&str]| words.iter().any(|word| code.starts_with(word));
            if starts(&[
                "fn ",
                "pub ",
                "struct ",
                "enum ",
                "impl ",
                "let ",
                "use ",
                "mod ",
                "const ",
                "static ",
                "trait ",
                "type ",
                "async fn",
                "unsafe impl",
            ]) {
                documented.push_str(&format!(
                    "{indent}/// Docs with `code`, \\ and \"quotes\" \u{e9}.\n"
                ));
                documented.push_str(&format!("{indent}/** Block docs. */\n"));
            }
            documented.push_str(line);
            documented.push('\n');
        }
        documented
    }
}
