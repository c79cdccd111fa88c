//! Syntax of older editions that rustc accepts and syn does not parse, rewritten before a
//! second parse of a file that failed the first:
//! - edition 2015: trait methods with anonymous parameters (`fn visit(&mut self, u8);` becomes
//!   `fn visit(&mut self, _: u8);`), and `async` and `await`, which are identifiers there
//!   (`let async = 1;` becomes `let asyn_ = 1;`, same length);
//! - editions 2015 and 2018: a trait object without `dyn` of a closure trait with a return
//!   type and more bounds, in a type argument or behind a reference (`Box<Fn(u8) -> u8 +
//!   Send>` becomes `Box<dyn Fn(u8) -> u8 + Send>`). Other bare trait objects parse as paths.
//!
//! Text is only inserted or replaced by text of the same length, and [`Rewrite::original`]
//! maps an offset of the rewritten text back to the file's, so that every span still points
//! at the file as it is on disk.

use proc_macro2::{Delimiter, TokenStream, TokenTree};

use crate::unit::Edition;

/// A rewritten text and the insertions that made it.
#[derive(Debug)]
pub(crate) struct Rewrite {
    pub(crate) text: String,
    /// Insertions as (offset in the original text, length), sorted.
    insertions: Vec<(u32, u32)>,
}

impl Rewrite {
    /// The offset in the original text of an offset in the rewritten one; an offset inside
    /// inserted text maps to where it was inserted.
    pub(crate) fn original(&self, rewritten: u32) -> u32 {
        let mut shift = 0;
        for &(at, len) in &self.insertions {
            let start = at + shift;
            if rewritten < start {
                break;
            }
            if rewritten < start + len {
                return at;
            }
            shift += len;
        }
        rewritten - shift
    }
}

/// One edit: at `offset` of the original text, replace `removed` bytes with `text`.
struct Edit {
    offset: usize,
    removed: usize,
    text: &'static str,
}

/// The text rewritten for its edition, or `None` when nothing needed rewriting (or the text
/// does not even split into tokens).
pub(crate) fn rewrite(content: &str, edition: Edition) -> Option<Rewrite> {
    if edition > Edition::E2018 {
        return None;
    }
    let tokens: TokenStream = content.parse().ok()?;
    let mut edits = Vec::new();
    collect_edits(tokens, edition, false, &mut edits);
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|edit| edit.offset);
    let mut text = String::with_capacity(content.len() + 4 * edits.len());
    let mut insertions = Vec::new();
    let mut copied = 0;
    for edit in edits {
        if edit.offset < copied {
            continue;
        }
        text.push_str(&content[copied..edit.offset]);
        text.push_str(edit.text);
        if edit.removed == 0 {
            insertions.push((edit.offset as u32, edit.text.len() as u32));
        }
        copied = edit.offset + edit.removed;
    }
    text.push_str(&content[copied..]);
    Some(Rewrite { text, insertions })
}

/// Finds the edits in one token stream and, recursively, in its groups. `in_trait` is true for
/// the body of a trait.
fn collect_edits(tokens: TokenStream, edition: Edition, in_trait: bool, edits: &mut Vec<Edit>) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    // A `trait` keyword was seen at this level, and its body is still to come.
    let mut pending_trait = false;
    for (index, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                if edition == Edition::E2015 && (name == "async" || name == "await") {
                    edits.push(Edit {
                        offset: ident.span().byte_range().start,
                        removed: name.len(),
                        text: if name == "async" { "asyn_" } else { "awai_" },
                    });
                }
                if name == "trait" {
                    pending_trait = true;
                }
                if matches!(name.as_str(), "Fn" | "FnMut" | "FnOnce")
                    && is_bare_closure_trait_object(&trees, index)
                {
                    edits.push(Edit {
                        offset: ident.span().byte_range().start,
                        removed: 0,
                        text: "dyn ",
                    });
                }
                if in_trait && edition == Edition::E2015 && name == "fn" {
                    if let Some(params) = parameters_of(&trees, index) {
                        name_anonymous_parameters(params, edits);
                    }
                }
            }
            TokenTree::Punct(punct) if punct.as_char() == ';' => pending_trait = false,
            TokenTree::Group(group) => {
                let is_trait_body = pending_trait && group.delimiter() == Delimiter::Brace;
                if is_trait_body {
                    pending_trait = false;
                }
                collect_edits(group.stream(), edition, is_trait_body, edits);
            }
            _ => {}
        }
    }
}

/// The parameter list of the `fn` at `index`: the parentheses after its name and generics.
fn parameters_of(trees: &[TokenTree], index: usize) -> Option<TokenStream> {
    let mut at = index + 2;
    let mut angle_depth = 0usize;
    while let Some(tree) = trees.get(at) {
        match tree {
            TokenTree::Punct(punct) if punct.as_char() == '<' => angle_depth += 1,
            TokenTree::Punct(punct) if punct.as_char() == '>' && !follows_minus(trees, at) => {
                angle_depth = angle_depth.saturating_sub(1);
            }
            TokenTree::Group(group)
                if angle_depth == 0 && group.delimiter() == Delimiter::Parenthesis =>
            {
                return Some(group.stream());
            }
            _ if angle_depth == 0 => return None,
            _ => {}
        }
        at += 1;
    }
    None
}

/// The `>` at `index` is the end of a `->`.
fn follows_minus(trees: &[TokenTree], index: usize) -> bool {
    index > 0 && matches!(&trees[index - 1], TokenTree::Punct(punct) if punct.as_char() == '-')
}

/// `Fn(..)` at `index` starts a type that needs `dyn`: it is followed by its parentheses and
/// a `->` or a `+` (without either it parses as a path), and stands where a type does, not a
/// bound: after `<`, `,`, `&`, `&mut`, `&'a`, or the `=` of a type alias.
fn is_bare_closure_trait_object(trees: &[TokenTree], index: usize) -> bool {
    let is_punct = |at: usize, ch: char| matches!(trees.get(at), Some(TokenTree::Punct(punct)) if punct.as_char() == ch);
    let has_parameters = matches!(
        trees.get(index + 1),
        Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Parenthesis
    );
    let followed = has_parameters
        && ((is_punct(index + 2, '-') && is_punct(index + 3, '>')) || is_punct(index + 2, '+'));
    if !followed || index == 0 {
        return false;
    }
    let before = index - 1;
    match &trees[before] {
        TokenTree::Punct(punct) => match punct.as_char() {
            // `<` of a type argument, not the second of a `<<`.
            '<' => !(before > 0 && is_punct(before - 1, '<')),
            ',' | '&' => true,
            '=' => is_type_alias(&trees[..before]),
            _ => false,
        },
        TokenTree::Ident(ident) if ident == "mut" => before > 0 && is_punct(before - 1, '&'),
        // A lifetime: `&'a Fn(..)`.
        TokenTree::Ident(_) => {
            before > 1 && is_punct(before - 1, '\'') && is_punct(before - 2, '&')
        }
        _ => false,
    }
}

/// The tokens before an `=` are a type alias's: `type` comes after the last `;` or block.
fn is_type_alias(before: &[TokenTree]) -> bool {
    before
        .iter()
        .rev()
        .take_while(|tree| match tree {
            TokenTree::Punct(punct) => punct.as_char() != ';',
            TokenTree::Group(group) => group.delimiter() != Delimiter::Brace,
            _ => true,
        })
        .any(|tree| matches!(tree, TokenTree::Ident(ident) if ident == "type"))
}

/// Gives each anonymous parameter of a trait method (a type alone) the name `_`.
fn name_anonymous_parameters(params: TokenStream, edits: &mut Vec<Edit>) {
    let trees: Vec<TokenTree> = params.into_iter().collect();
    let mut start = 0;
    let mut angle_depth = 0usize;
    for index in 0..=trees.len() {
        let at_comma = match trees.get(index) {
            None => true,
            Some(TokenTree::Punct(punct)) => match punct.as_char() {
                '<' => {
                    angle_depth += 1;
                    false
                }
                // The `>` of `->` closes nothing.
                '>' if !follows_minus(&trees, index) => {
                    angle_depth = angle_depth.saturating_sub(1);
                    false
                }
                ',' => angle_depth == 0,
                _ => false,
            },
            _ => false,
        };
        if !at_comma {
            continue;
        }
        let parameter = &trees[start..index];
        start = index + 1;
        if parameter.is_empty() || is_named(parameter) || is_self(parameter) {
            continue;
        }
        edits.push(Edit {
            offset: parameter[0].span().byte_range().start,
            removed: 0,
            text: "_: ",
        });
    }
}

/// A parameter with a pattern: a `:` of its own at its top level (not one of `::`).
fn is_named(parameter: &[TokenTree]) -> bool {
    parameter.iter().enumerate().any(|(index, tree)| {
        let TokenTree::Punct(punct) = tree else {
            return false;
        };
        let is_colon = |at: usize| matches!(parameter.get(at), Some(TokenTree::Punct(other)) if other.as_char() == ':');
        punct.as_char() == ':'
            && punct.spacing() == proc_macro2::Spacing::Alone
            && !(index > 0 && is_colon(index - 1))
    })
}

/// `self`, `mut self`, `&self`, `&mut self`, `&'a self`, `&'a mut self`.
fn is_self(parameter: &[TokenTree]) -> bool {
    matches!(parameter.last(), Some(TokenTree::Ident(ident)) if ident == "self")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(content: &str, edition: Edition) -> String {
        rewrite(content, edition).map_or_else(|| content.to_string(), |rewrite| rewrite.text)
    }

    #[test]
    fn anonymous_trait_method_parameters_are_named() {
        let content = "trait Visitor {\n    fn visit<F: Fn(u8)>(&mut self, u8);\n    fn two(&self, &str, HashMap<u8, Vec<u8>>, Box<Fn(u8) -> u8>) -> bool;\n    fn named((a, b): (u8, u8), c: ::std::string::String);\n}\nfn free(x: u8) {}\n";
        let expected = "trait Visitor {\n    fn visit<F: Fn(u8)>(&mut self, _: u8);\n    fn two(&self, _: &str, _: HashMap<u8, Vec<u8>>, _: Box<dyn Fn(u8) -> u8>) -> bool;\n    fn named((a, b): (u8, u8), c: ::std::string::String);\n}\nfn free(x: u8) {}\n";
        assert_eq!(rewritten(content, Edition::E2015), expected);
        assert!(syn::parse_str::<syn::File>(expected).is_ok());
    }

    #[test]
    fn closure_trait_objects_get_dyn_where_they_are_types() {
        let content = "type Action = Fn(&u8) + Send + Sync;\nfn f(a: Box<Fn(u8) -> u8 + Send>, b: &'a Fn() -> u8, c: &mut FnMut() -> u8) where F: Fn() -> u8 + Send { let x = y == Fn(1) + 2; }\n";
        let expected = "type Action = dyn Fn(&u8) + Send + Sync;\nfn f(a: Box<dyn Fn(u8) -> u8 + Send>, b: &'a dyn Fn() -> u8, c: &mut dyn FnMut() -> u8) where F: Fn() -> u8 + Send { let x = y == Fn(1) + 2; }\n";
        assert_eq!(rewritten(content, Edition::E2018), expected);
        assert!(syn::parse_str::<syn::File>(expected).is_ok());
        assert!(rewrite(content, Edition::E2021).is_none());
    }

    #[test]
    fn edition_2015_identifiers_keep_their_length_and_offsets_map_back() {
        let content = "fn main() { let async = 1; s.await; let s = \"async\"; }\n";
        let rewrite = rewrite(content, Edition::E2015).unwrap();
        assert_eq!(
            rewrite.text,
            "fn main() { let asyn_ = 1; s.awai_; let s = \"async\"; }\n"
        );
        assert_eq!(rewrite.original(20), 20);
        let non_ascii = super::rewrite(
            "const É: &str = \"é\";\ntrait T { fn f(u8); }",
            Edition::E2015,
        )
        .unwrap();
        assert_eq!(
            non_ascii.text,
            "const É: &str = \"é\";\ntrait T { fn f(_: u8); }"
        );
        let inserted = super::rewrite("trait T { fn f(u8); }", Edition::E2015).unwrap();
        assert_eq!(inserted.text, "trait T { fn f(_: u8); }");
        // `_: ` maps to where it was inserted, what follows it back by its length.
        assert_eq!(inserted.original(15), 15);
        assert_eq!(inserted.original(17), 15);
        assert_eq!(inserted.original(18), 15);
        assert_eq!(inserted.original(20), 17);
    }
}
