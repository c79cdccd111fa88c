//! Comments found by a small lexer that skips literals, for the frontends and suppressions:
//! suppression directives are line comments, and the Rust frontend blanks doc comments before
//! syn sees the file.

use crate::source::Language;

/// One comment: `start` is the offset of `//` or `/*`; `end` is the end of a line comment's
/// line (before `\r\n`) or just after a block comment's `*/` (the end of the text when it is
/// not closed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Comment {
    pub start: usize,
    pub end: usize,
    pub kind: CommentKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CommentKind {
    Line,
    Block,
}

/// Every comment of the text, in order, skipping literals. Rust: strings with escapes, raw
/// strings (`r#".."#`, `br".."`), character literals told apart from lifetimes, nested block
/// comments. Go: interpreted and raw (backquoted) strings, runes, block comments. Lexing
/// errors (an unterminated literal) end the scan at the end of the text, which can only miss
/// comments, never invent one.
pub(crate) fn comments(text: &str, language: Language) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut comments = Vec::new();
    let mut position = 0;
    while position < bytes.len() {
        position = match bytes[position] {
            b'/' if bytes.get(position + 1) == Some(&b'/') => {
                let mut end = text[position..]
                    .find('\n')
                    .map_or(bytes.len(), |index| position + index);
                let next = end;
                if end > position && bytes[end - 1] == b'\r' {
                    end -= 1;
                }
                comments.push(Comment {
                    start: position,
                    end,
                    kind: CommentKind::Line,
                });
                next
            }
            b'/' if bytes.get(position + 1) == Some(&b'*') => {
                let end = skip_block_comment(bytes, position, language == Language::Rust);
                comments.push(Comment {
                    start: position,
                    end,
                    kind: CommentKind::Block,
                });
                end
            }
            b'"' => skip_quoted(bytes, position, b'"', language == Language::Go),
            b'`' if language == Language::Go => bytes[position + 1..]
                .iter()
                .position(|&byte| byte == b'`')
                .map_or(bytes.len(), |index| position + 1 + index + 1),
            b'\'' => match language {
                Language::Go => skip_quoted(bytes, position, b'\'', true),
                Language::Rust => skip_char_or_lifetime(text, position),
            },
            b'r' if language == Language::Rust => {
                raw_string_end(bytes, position).unwrap_or(position + 1)
            }
            _ => position + 1,
        };
    }
    comments
}

/// The end of a literal that starts with `quote` at `start`, after backslash escapes; Go's
/// interpreted strings and runes cannot span lines, so a newline ends them there.
fn skip_quoted(bytes: &[u8], start: usize, quote: u8, stops_at_newline: bool) -> usize {
    let mut position = start + 1;
    while position < bytes.len() {
        match bytes[position] {
            b'\\' => position += 2,
            byte if byte == quote => return position + 1,
            b'\n' if stops_at_newline => return position,
            _ => position += 1,
        }
    }
    bytes.len()
}

fn skip_block_comment(bytes: &[u8], start: usize, nests: bool) -> usize {
    let mut depth = 1;
    let mut position = start + 2;
    while position < bytes.len() {
        if nests && bytes[position] == b'/' && bytes.get(position + 1) == Some(&b'*') {
            depth += 1;
            position += 2;
        } else if bytes[position] == b'*' && bytes.get(position + 1) == Some(&b'/') {
            depth -= 1;
            position += 2;
            if depth == 0 {
                return position;
            }
        } else {
            position += 1;
        }
    }
    bytes.len()
}

/// Rust: `'x'` and `'\n'` are character literals, `'a` in `&'a T` or `'outer:` is a lifetime
/// or a label, which has no closing quote.
fn skip_char_or_lifetime(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    if bytes.get(start + 1) == Some(&b'\\') {
        return skip_quoted(bytes, start, b'\'', true);
    }
    match text[start + 1..].chars().next() {
        Some(character) if bytes.get(start + 1 + character.len_utf8()) == Some(&b'\'') => {
            start + 1 + character.len_utf8() + 1
        }
        _ => start + 1,
    }
}

/// The end of a raw string literal (`r".."`, `r#".."#`, `br".."`, `cr".."`) whose `r` is at
/// `start`, or `None` when the `r` is part of an identifier or a raw identifier (`r#type`).
fn raw_string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let is_identifier_byte =
        |byte: u8| byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80;
    let starts_a_token =
        |position: usize| position == 0 || !is_identifier_byte(bytes[position - 1]);
    let prefixed =
        start > 0 && matches!(bytes[start - 1], b'b' | b'c') && starts_a_token(start - 1);
    if !(starts_a_token(start) || prefixed) {
        return None;
    }
    let hashes = bytes[start + 1..]
        .iter()
        .take_while(|&&byte| byte == b'#')
        .count();
    let open = start + 1 + hashes;
    if bytes.get(open) != Some(&b'"') {
        return None;
    }
    let mut position = open + 1;
    while position < bytes.len() {
        if bytes[position] == b'"'
            && bytes[position + 1..]
                .iter()
                .take(hashes)
                .filter(|&&byte| byte == b'#')
                .count()
                == hashes
        {
            return Some(position + 1 + hashes);
        }
        position += 1;
    }
    Some(bytes.len())
}
