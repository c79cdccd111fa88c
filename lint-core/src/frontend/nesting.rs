//! How deeply a file nests, measured on its tokens before any parser sees it. syn parses
//! expressions, types and patterns by recursion, and the lowering, the drop of syntax trees
//! and several analyses recurse on the trees too: a file nested deep enough overflows any
//! stack, which aborts the process. Such a file is skipped with a `parse-error` instead.
//!
//! The depth of a token is an upper estimate of how deep the syntax tree is at that point: one
//! level per enclosing bracket, plus one per operator, keyword and bracketed group met since
//! the last place where siblings start over (a `;`, a `,` that separates items, the end of a
//! block statement; in Go, also a line end where Go inserts a semicolon). Identifiers and
//! literals do not count. So `((x))` is 2 deep, `a.b().c()` 4, `1 + 2 + 3` 2, and a chain of
//! 100,000 calls, which syn parses in a loop but which still makes a tree 100,000 deep, is
//! 200,000 deep.

use crate::model::facts::FileFacts;
use crate::source::{FileId, Language, Span};

/// Files deeper than this are skipped. Real code stays far below: over the 17,389 files of 626
/// crates of a cargo registry (622 MB of Rust) the deepest measures 224 (syn's `expr.rs`, long
/// `else if` chains), and over the Go 1.19 sources 7,100 (`time/tzdata/zipdata.go`, a string
/// constant of 7,100 concatenated literals; the next is 944). At this depth every construct
/// tried, 75 of them, runs through the whole pipeline of a debug build with a third of
/// the driver's worker stack size; the costliest (closures in closures, calls of calls,
/// nested generic arguments) take about 7 KiB of stack per level.
pub const MAX_NESTING: u32 = 10_000;

/// The deepest point of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nesting {
    /// The depth of the deepest token.
    pub depth: u32,
    /// The byte offset of the first token deeper than [`MAX_NESTING`], or of the deepest token
    /// when none is.
    pub offset: u32,
}

impl Nesting {
    pub fn is_too_deep(self) -> bool {
        self.depth > MAX_NESTING
    }

    /// The `parse-error` message for a file too deep to parse.
    pub fn message(self) -> String {
        format!(
            "nested {} deep; deferlint skips files nested deeper than {MAX_NESTING}",
            self.depth
        )
    }
}

/// The facts of a file too deep to parse, when it is: one problem at the first token too deep.
pub(crate) fn skip_if_too_deep(file: FileId, text: &str, language: Language) -> Option<FileFacts> {
    let nesting = measure(text, language);
    if !nesting.is_too_deep() {
        return None;
    }
    let mut facts = FileFacts::with_problem(
        Span::new(file, nesting.offset, nesting.offset.saturating_add(1)),
        nesting.message(),
    );
    facts.byte_len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    Some(facts)
}

/// Measures how deeply `text` nests, in one pass over its bytes.
pub fn measure(text: &str, language: Language) -> Nesting {
    let mut scan = Scan {
        bytes: text.as_bytes(),
        language,
        position: 0,
        levels: vec![Level::default()],
        deepest: Nesting {
            depth: 0,
            offset: 0,
        },
        first_too_deep: None,
        after_block: false,
        semicolon_at_newline: false,
    };
    scan.run();
    match scan.first_too_deep {
        Some(offset) => Nesting {
            depth: scan.deepest.depth,
            offset,
        },
        None => scan.deepest,
    }
}

/// One level of brackets.
#[derive(Clone, Copy, Debug, Default)]
struct Level {
    /// The depth of the bracket that opened this level.
    base: u32,
    /// Tokens counted since siblings last started over.
    run: u32,
    /// `run` when the outermost open `<` was met: once all are closed, the generic arguments
    /// count as one token (`A<B> + C<D>` bounds are siblings).
    run_before_angles: u32,
    /// Open `<` of generic arguments: their commas do not start siblings over (`A<x, A<x,
    /// ...>>` nests).
    angles: u32,
    /// Inside the `|...|` parameters of a closure, whose commas do not start siblings over
    /// either (`|a, b| |a, b| ...` nests).
    in_closure_parameters: bool,
    /// A `match` was met since siblings last started over: the next `{` holds match arms.
    saw_match: bool,
    /// The level holds the arms of a Rust `match`.
    holds_arms: bool,
    /// In the pattern of an arm (up to its `=>` or `if` guard), where `A | B | C` are flat
    /// alternatives rather than nested operators: tables of hundreds of alternatives are
    /// common in generated code.
    in_pattern: bool,
    /// The closing byte of the bracket that opened this level.
    closing: u8,
}

impl Level {
    fn start_over(&mut self) {
        self.run = 0;
        self.angles = 0;
        self.in_closure_parameters = false;
        self.saw_match = false;
        self.in_pattern = self.holds_arms;
    }
}

/// What a token is, as far as depth goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    Open(u8),
    Close,
    Semicolon,
    Comma,
    /// An identifier, a literal or a lifetime: never deeper by itself.
    Name,
    Keyword(Keyword),
    /// An operator or other punctuation.
    Punct(Punct),
    /// The `#` of an attribute, which starts an item, a field, a statement or an arm: a
    /// sibling of what came before.
    Attribute,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keyword {
    /// `as` and `else`, which continue the expression before them.
    Continuing,
    Match,
    If,
    /// `return`, `break`, `continue` and `fallthrough`, after which Go inserts a semicolon
    /// at a line end.
    Ending,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Punct {
    /// `<`, `<<`, `>` or `>>`, by how many generic brackets they open (or close, when
    /// negative), which they may do in Rust.
    Angles(i32),
    /// A single `|`: an or-pattern, a bitwise or, or a closure's parameters.
    Pipe,
    /// `$`, which starts a repetition or a metavariable in a macro's body, not a continuation.
    Dollar,
    FatArrow,
    /// Rust's `&&`, which is also two `&` of a reference to a reference (`&&&&x` nests four
    /// deep).
    TwoReferences,
    /// `++` and `--`, after which Go inserts a semicolon at a line end.
    Step,
    Other,
}

struct Scan<'t> {
    bytes: &'t [u8],
    language: Language,
    position: usize,
    levels: Vec<Level>,
    deepest: Nesting,
    first_too_deep: Option<u32>,
    /// A `}` just closed a Rust block: siblings start over unless the next token continues an
    /// expression (`} else`, `}.method()`).
    after_block: bool,
    /// Go inserts a semicolon at the next line end (after a name, a literal, `)`, `]`, `}`,
    /// `++`, `--`, `return`, `break`, `continue`, `fallthrough`).
    semicolon_at_newline: bool,
}

impl Scan<'_> {
    fn run(&mut self) {
        while let Some((offset, token)) = self.next_token() {
            self.take(offset, token);
        }
    }

    fn level(&mut self) -> &mut Level {
        // The outermost level is never popped.
        self.levels.last_mut().unwrap()
    }

    fn take(&mut self, offset: usize, token: Token) {
        if std::mem::take(&mut self.after_block) {
            let continues = matches!(token, Token::Keyword(Keyword::Continuing) | Token::Punct(_))
                && token != Token::Punct(Punct::Dollar);
            if !continues {
                self.level().start_over();
            }
        }
        self.semicolon_at_newline = self.language == Language::Go
            && matches!(
                token,
                Token::Close
                    | Token::Name
                    | Token::Keyword(Keyword::Ending)
                    | Token::Punct(Punct::Step)
            );
        match token {
            Token::Open(closing) => {
                let holds_arms = closing == b'}' && std::mem::take(&mut self.level().saw_match);
                let base = self.count(offset);
                self.levels.push(Level {
                    base,
                    closing,
                    holds_arms,
                    in_pattern: holds_arms,
                    ..Level::default()
                });
            }
            Token::Close => {
                if self.levels.len() > 1 {
                    let level = self.levels.pop().unwrap();
                    self.after_block = self.language == Language::Rust && level.closing == b'}';
                }
            }
            Token::Semicolon => self.level().start_over(),
            Token::Attribute => {
                self.level().start_over();
                self.count(offset);
            }
            Token::Comma => {
                let level = self.level();
                if level.angles == 0 && !level.in_closure_parameters {
                    level.start_over();
                }
            }
            Token::Name => {}
            Token::Keyword(keyword) => {
                let level = self.level();
                match keyword {
                    Keyword::Match => level.saw_match = true,
                    Keyword::If => level.in_pattern = false,
                    _ => {}
                }
                self.count(offset);
            }
            Token::Punct(punct) => {
                let level = self.level();
                match punct {
                    Punct::Angles(angles) => {
                        if level.angles == 0 && angles > 0 {
                            level.run_before_angles = level.run;
                        }
                        let was_open = level.angles > 0;
                        level.angles = level.angles.saturating_add_signed(angles);
                        if was_open && level.angles == 0 {
                            level.run = level.run_before_angles;
                        }
                    }
                    // Alternatives of a pattern are siblings.
                    Punct::Pipe if level.in_pattern => {
                        level.run = 0;
                        return;
                    }
                    Punct::Pipe => level.in_closure_parameters = !level.in_closure_parameters,
                    Punct::FatArrow => level.in_pattern = false,
                    Punct::TwoReferences => {
                        self.count(offset);
                    }
                    Punct::Dollar | Punct::Step | Punct::Other => {}
                }
                self.count(offset);
            }
        }
    }

    /// Counts one token at the current level and returns its depth.
    fn count(&mut self, offset: usize) -> u32 {
        let level = self.level();
        level.run = level.run.saturating_add(1);
        let depth = level.base.saturating_add(level.run);
        let offset = u32::try_from(offset).unwrap_or(u32::MAX);
        if depth > self.deepest.depth {
            self.deepest = Nesting { depth, offset };
        }
        if depth > MAX_NESTING && self.first_too_deep.is_none() {
            self.first_too_deep = Some(offset);
        }
        depth
    }

    fn peek(&self, ahead: usize) -> u8 {
        self.bytes.get(self.position + ahead).copied().unwrap_or(0)
    }

    /// The next token and its offset; skips white space and comments, and, in Go, starts
    /// siblings over at a line end where Go inserts a semicolon.
    fn next_token(&mut self) -> Option<(usize, Token)> {
        loop {
            let byte = *self.bytes.get(self.position)?;
            match byte {
                b'\n' => {
                    self.position += 1;
                    self.newline();
                }
                b' ' | b'\t' | b'\r' | 0x0b | 0x0c => self.position += 1,
                b'/' if self.peek(1) == b'/' => {
                    while self.position < self.bytes.len() && self.bytes[self.position] != b'\n' {
                        self.position += 1;
                    }
                }
                b'/' if self.peek(1) == b'*' => self.block_comment(),
                _ => break,
            }
        }
        let start = self.position;
        let token = self.token();
        Some((start, token))
    }

    fn newline(&mut self) {
        if std::mem::take(&mut self.semicolon_at_newline) {
            self.level().start_over();
        }
    }

    /// A block comment: nested in Rust, not in Go; in Go one that spans lines acts as a line end.
    fn block_comment(&mut self) {
        self.position += 2;
        let mut depth = 1;
        let mut spans_lines = false;
        while depth > 0 && self.position < self.bytes.len() {
            match (self.bytes[self.position], self.peek(1)) {
                (b'*', b'/') => {
                    depth -= 1;
                    self.position += 2;
                }
                (b'/', b'*') if self.language == Language::Rust => {
                    depth += 1;
                    self.position += 2;
                }
                (byte, _) => {
                    spans_lines |= byte == b'\n';
                    self.position += 1;
                }
            }
        }
        if spans_lines {
            self.newline();
        }
    }

    fn token(&mut self) -> Token {
        let byte = self.bytes[self.position];
        match byte {
            b'(' | b'[' | b'{' => {
                self.position += 1;
                Token::Open(match byte {
                    b'(' => b')',
                    b'[' => b']',
                    _ => b'}',
                })
            }
            b')' | b']' | b'}' => {
                self.position += 1;
                Token::Close
            }
            b';' => {
                self.position += 1;
                Token::Semicolon
            }
            b',' => {
                self.position += 1;
                Token::Comma
            }
            b'#' if self.language == Language::Rust && matches!(self.peek(1), b'[' | b'!') => {
                self.position += 1;
                Token::Attribute
            }
            b'"' => {
                self.quoted(b'"');
                Token::Name
            }
            b'`' if self.language == Language::Go => {
                self.position += 1;
                self.skip_past(b'`');
                Token::Name
            }
            b'\'' => {
                match self.language {
                    Language::Rust => self.rust_quote(),
                    Language::Go => self.quoted(b'\''),
                }
                Token::Name
            }
            b'0'..=b'9' => {
                self.number();
                Token::Name
            }
            byte if byte == b'_' || byte.is_ascii_alphabetic() || byte >= 0x80 => self.word(),
            _ => self.punct(),
        }
    }

    /// A string or Go rune from its opening quote to the matching unescaped one.
    fn quoted(&mut self, quote: u8) {
        self.position += 1;
        while self.position < self.bytes.len() {
            match self.bytes[self.position] {
                b'\\' => self.position += 2,
                byte if byte == quote => {
                    self.position += 1;
                    return;
                }
                // A Go rune never spans lines; an unclosed one must not swallow the file.
                b'\n' if quote == b'\'' => return,
                _ => self.position += 1,
            }
        }
        self.position = self.position.min(self.bytes.len());
    }

    fn skip_past(&mut self, end: u8) {
        while self.position < self.bytes.len() {
            self.position += 1;
            if self.bytes[self.position - 1] == end {
                return;
            }
        }
    }

    /// A Rust character literal (`'a'`, `'\n'`, `'é'`) or a lifetime or label (`'a`).
    fn rust_quote(&mut self) {
        if self.peek(1) == b'\\' {
            self.quoted(b'\'');
            return;
        }
        let rest = &self.bytes[self.position + 1..];
        let width = match rest.first() {
            Some(&byte) if byte < 0x80 => 1,
            Some(&byte) if byte >= 0xf0 => 4,
            Some(&byte) if byte >= 0xe0 => 3,
            Some(_) => 2,
            None => 0,
        };
        if rest.get(width) == Some(&b'\'') {
            self.position += 1 + width + 1;
        } else {
            self.position += 1;
            self.word_bytes();
        }
    }

    fn number(&mut self) {
        let after_dot = self.position > 0 && self.bytes[self.position - 1] == b'.';
        self.word_bytes();
        // `1.5` is one literal, but `x.0.1` is two fields and `1..2` a range.
        if !after_dot && self.peek(0) == b'.' && self.peek(1).is_ascii_digit() {
            self.position += 1;
            self.word_bytes();
        }
    }

    fn word_bytes(&mut self) {
        while self.position < self.bytes.len() {
            let byte = self.bytes[self.position];
            if byte == b'_' || byte.is_ascii_alphanumeric() || byte >= 0x80 {
                self.position += 1;
            } else {
                break;
            }
        }
    }

    /// An identifier or keyword, or a Rust literal with a prefix (`b"..."`, `r#"..."#`,
    /// `b'x'`, `c"..."`).
    fn word(&mut self) -> Token {
        if self.language == Language::Rust && self.rust_prefixed_literal() {
            return Token::Name;
        }
        let start = self.position;
        self.word_bytes();
        let word = &self.bytes[start..self.position];
        if self.language == Language::Rust && word == b"r" && self.peek(0) == b'#' {
            // A raw identifier, `r#type`.
            self.position += 1;
            self.word_bytes();
            return Token::Name;
        }
        let keywords: &[&[u8]] = match self.language {
            Language::Rust => RUST_KEYWORDS,
            Language::Go => GO_KEYWORDS,
        };
        if !keywords.contains(&word) {
            return Token::Name;
        }
        Token::Keyword(match (self.language, word) {
            (Language::Rust, b"as" | b"else") => Keyword::Continuing,
            (Language::Rust, b"match") => Keyword::Match,
            (Language::Rust, b"if") => Keyword::If,
            (Language::Go, b"return" | b"break" | b"continue" | b"fallthrough") => Keyword::Ending,
            _ => Keyword::Other,
        })
    }

    fn rust_prefixed_literal(&mut self) -> bool {
        let rest = &self.bytes[self.position..];
        let prefix = match rest {
            [b'b' | b'c', b'r', ..] => 2,
            [b'r' | b'b' | b'c', ..] => 1,
            _ => return false,
        };
        let raw = rest[prefix - 1] == b'r';
        if raw {
            let hashes = rest[prefix..]
                .iter()
                .take_while(|&&byte| byte == b'#')
                .count();
            if rest.get(prefix + hashes) != Some(&b'"') {
                return false;
            }
            self.position += prefix + hashes + 1;
            let mut closing = vec![b'"'];
            closing.extend(std::iter::repeat_n(b'#', hashes));
            while self.position < self.bytes.len() {
                if self.bytes[self.position..].starts_with(&closing) {
                    self.position += closing.len();
                    return true;
                }
                self.position += 1;
            }
            return true;
        }
        match rest.get(1) {
            Some(b'"') => {
                self.position += 1;
                self.quoted(b'"');
                true
            }
            Some(b'\'') if rest[0] == b'b' => {
                self.position += 1;
                self.quoted(b'\'');
                true
            }
            _ => false,
        }
    }

    /// An operator: the longest of the multi-byte ones that matches, else one byte.
    fn punct(&mut self) -> Token {
        let rest = &self.bytes[self.position..];
        let operators = match self.language {
            Language::Rust => RUST_OPERATORS,
            Language::Go => GO_OPERATORS,
        };
        let operator = operators
            .iter()
            .find(|operator| rest.starts_with(operator))
            .copied()
            .unwrap_or(&rest[..1]);
        self.position += operator.len();
        Token::Punct(match (self.language, operator) {
            (Language::Rust, b"<") => Punct::Angles(1),
            (Language::Rust, b"<<") => Punct::Angles(2),
            (Language::Rust, b">") => Punct::Angles(-1),
            (Language::Rust, b">>") => Punct::Angles(-2),
            (Language::Rust, b"|") => Punct::Pipe,
            (Language::Rust, b"=>") => Punct::FatArrow,
            (Language::Rust, b"&&") => Punct::TwoReferences,
            (Language::Rust, b"$") => Punct::Dollar,
            (Language::Go, b"++" | b"--") => Punct::Step,
            _ => Punct::Other,
        })
    }
}

/// Multi-byte operators, longest first.
const RUST_OPERATORS: &[&[u8]] = &[
    b"<<=", b">>=", b"...", b"..=", b"::", b"->", b"=>", b"==", b"!=", b"<=", b">=", b"&&", b"||",
    b"+=", b"-=", b"*=", b"/=", b"%=", b"^=", b"&=", b"|=", b"<<", b">>", b"..",
];

const GO_OPERATORS: &[&[u8]] = &[
    b"<<=", b">>=", b"&^=", b"...", b"&&", b"||", b"<-", b"++", b"--", b"==", b"!=", b"<=", b">=",
    b":=", b"+=", b"-=", b"*=", b"/=", b"%=", b"&=", b"|=", b"^=", b"<<", b">>", b"&^",
];

const RUST_KEYWORDS: &[&[u8]] = &[
    b"abstract",
    b"as",
    b"async",
    b"await",
    b"become",
    b"box",
    b"break",
    b"const",
    b"continue",
    b"crate",
    b"do",
    b"dyn",
    b"else",
    b"enum",
    b"extern",
    b"final",
    b"fn",
    b"for",
    b"gen",
    b"if",
    b"impl",
    b"in",
    b"let",
    b"loop",
    b"macro",
    b"match",
    b"mod",
    b"move",
    b"mut",
    b"override",
    b"priv",
    b"pub",
    b"ref",
    b"return",
    b"static",
    b"struct",
    b"trait",
    b"try",
    b"type",
    b"typeof",
    b"unsafe",
    b"unsized",
    b"use",
    b"virtual",
    b"where",
    b"while",
    b"yield",
];

const GO_KEYWORDS: &[&[u8]] = &[
    b"break",
    b"case",
    b"chan",
    b"const",
    b"continue",
    b"default",
    b"defer",
    b"else",
    b"fallthrough",
    b"for",
    b"func",
    b"go",
    b"goto",
    b"if",
    b"import",
    b"interface",
    b"map",
    b"package",
    b"range",
    b"return",
    b"select",
    b"struct",
    b"switch",
    b"type",
    b"var",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn rust(text: &str) -> u32 {
        measure(text, Language::Rust).depth
    }

    fn go(text: &str) -> u32 {
        measure(text, Language::Go).depth
    }

    #[test]
    fn brackets_operators_and_keywords_count_names_and_literals_do_not() {
        assert_eq!(rust("((x))"), 2);
        assert_eq!(rust("a.b().c()"), 4);
        assert_eq!(rust("1 + 2 + 3"), 2);
        assert_eq!(rust("x as u8 as u16"), 2);
        assert_eq!(rust("!!!!x"), 4);
        assert_eq!(rust("&&&&x"), 4);
        assert_eq!(rust("|| || || 1"), 3);
        assert_eq!(rust(""), 0);
        assert_eq!(rust("// (((((\n/* (( /* (( */ (( */ x"), 0);
    }

    #[test]
    fn siblings_start_over() {
        // Statements, items, arguments and match arms are siblings, however many there are.
        let statements = "fn f() { a.b(); c.d(); }\n".repeat(1000);
        assert_eq!(rust(&statements), 5);
        let arguments = format!("f({})", "a + b, ".repeat(1000));
        assert_eq!(rust(&arguments), 2);
        let arms = format!("match x {{ {} }}", "A => { f() } ".repeat(1000));
        assert_eq!(rust(&arms), 5);
        let alternatives = format!(
            "match c {{ {}'z' => 1, _ => 2 }}",
            "'a'..='b' | ".repeat(1000)
        );
        assert_eq!(rust(&alternatives), 3);
        // A bitwise or nests.
        assert_eq!(rust(&format!("x = 1{}", " | 1".repeat(1000))), 1001);
        let go_statements = format!("func f() {{\n{}}}\n", "\ta.b(c)\n".repeat(1000));
        assert_eq!(go(&go_statements), 5);
    }

    #[test]
    fn nesting_through_separators_keeps_counting() {
        // `else if` chains, block results used as values, generic arguments and closure
        // parameters nest although they hold `}` and `,`.
        assert_eq!(rust(&"if a {} else ".repeat(100)), 300);
        assert_eq!(rust(&format!("x{}", "{}.f()".repeat(100))), 300);
        assert_eq!(
            rust(&format!("{}u8{}", "A<x, ".repeat(100), ">".repeat(100))),
            149
        );
        assert_eq!(rust(&format!("{}1", "|a, b| ".repeat(100))), 200);
        // A Go expression that goes on over line ends.
        assert_eq!(go(&format!("x := a{}", ".\n\tb()".repeat(100))), 201);
        assert_eq!(go(&"if a {} else ".repeat(100)), 300);
    }

    #[test]
    fn strings_characters_and_lifetimes_hide_nothing() {
        assert_eq!(
            rust(r####"let x = "((\"((" ; f(r#"(("#, b"((", '(', '\'', b'(', 'é');"####),
            2
        );
        assert_eq!(rust("fn f<'a>(x: &'a u8) -> &'a u8 { x }"), 6);
        assert_eq!(go("x := `((\n((` + \"((\" + '('"), 3);
        // A tuple field of a tuple field is not a float.
        assert_eq!(rust("x.0.0.0"), 3);
        assert_eq!(rust("1.5 + 1..2"), 2);
    }

    #[test]
    fn the_first_token_too_deep_is_reported() {
        let n = MAX_NESTING as usize + 1_000;
        let text = format!("fn f() {{ {}1{} }}", "(".repeat(n), ")".repeat(n));
        let nesting = measure(&text, Language::Rust);
        assert!(nesting.is_too_deep());
        assert_eq!(nesting.depth, MAX_NESTING + 1_003);
        assert_eq!(text.as_bytes()[nesting.offset as usize], b'(');
        assert_eq!(nesting.offset, 9 + MAX_NESTING - 3);
        assert_eq!(
            nesting.message(),
            "nested 11003 deep; deferlint skips files nested deeper than 10000"
        );
        let n = MAX_NESTING as usize - 3;
        let at_the_limit = format!("fn f() {{ {}1{} }}", "(".repeat(n), ")".repeat(n));
        let nesting = measure(&at_the_limit, Language::Rust);
        assert_eq!(nesting.depth, MAX_NESTING);
        assert!(!nesting.is_too_deep());
    }
}
