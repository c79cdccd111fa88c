//! Go build constraints: which files `go build` compiles by default. A file whose
//! `//go:build` line (or legacy `// +build` lines) or `_GOOS`/`_GOARCH` name suffix leaves it
//! out of the default build is not part of the package the analysis sees: a `//go:build dev`
//! file that starts a second copy of a goroutine, or the Windows and Linux versions of one
//! function, would otherwise count as code that runs together.
//!
//! The default build is the one `go vet` checks on a Linux amd64 machine: `GOOS=linux`,
//! `GOARCH=amd64`, `unix`, the `gc` compiler with cgo, and every `go1.N` release tag; any other
//! tag (`dev`, `integration`, `ignore`) is off.

use std::path::Path;

/// The operating systems Go knows (`go tool dist list`), for file name suffixes.
const KNOWN_OS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasip1",
    "windows",
    "zos",
];

/// The architectures Go knows, for file name suffixes.
const KNOWN_ARCH: &[&str] = &[
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "armbe",
    "arm64",
    "arm64be",
    "loong64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "ppc",
    "ppc64",
    "ppc64le",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
];

const GOOS: &str = "linux";
const GOARCH: &str = "amd64";

/// A build tag is set in the default build.
fn tag_set(tag: &str) -> bool {
    matches!(tag, GOOS | GOARCH | "unix" | "gc" | "cgo")
        || tag
            .strip_prefix("go1.")
            .is_some_and(|minor| !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()))
}

/// The file is compiled by the default build: its name and its constraint lines allow it.
pub fn in_default_build(path: &Path, text: &str) -> bool {
    name_allows(path) && constraints_allow(text)
}

/// `name_GOOS.go`, `name_GOARCH.go` and `name_GOOS_GOARCH.go` (before a `_test` suffix) are
/// built only for that system and architecture.
fn name_allows(path: &Path) -> bool {
    let Some(stem) = path.file_stem().and_then(|stem| stem.to_str()) else {
        return true;
    };
    let stem = stem.strip_suffix("_test").unwrap_or(stem);
    let parts: Vec<&str> = stem.split('_').collect();
    // The first element is the name itself: `linux.go` is not constrained.
    let suffixes = &parts[1.min(parts.len())..];
    match suffixes {
        [.., os, arch] if KNOWN_OS.contains(os) && KNOWN_ARCH.contains(arch) => {
            *os == GOOS && *arch == GOARCH
        }
        [.., last] if KNOWN_OS.contains(last) => *last == GOOS,
        [.., last] if KNOWN_ARCH.contains(last) => *last == GOARCH,
        _ => true,
    }
}

/// The constraint lines before the package clause allow the file: the `//go:build`
/// expression when there is one, else every `// +build` line.
fn constraints_allow(text: &str) -> bool {
    let mut legacy: Vec<&str> = Vec::new();
    let mut in_block_comment = false;
    for line in text.lines() {
        let line = line.trim();
        if in_block_comment {
            if line.contains("*/") {
                in_block_comment = false;
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if line.starts_with("/*") {
            in_block_comment = !line.contains("*/");
            continue;
        }
        let Some(comment) = line.strip_prefix("//") else {
            // The package clause (or anything else): constraints only come before it.
            break;
        };
        if let Some(expression) = comment.strip_prefix("go:build") {
            if expression.starts_with(|c: char| c.is_whitespace()) {
                return Expression::parse(expression).is_none_or(|expr| expr.holds());
            }
        }
        if let Some(options) = comment.trim_start().strip_prefix("+build") {
            if options.is_empty() || options.starts_with(|c: char| c.is_whitespace()) {
                legacy.push(options);
            }
        }
    }
    // `// +build a,b c`: the options of a line are alternatives, each a conjunction of
    // possibly negated tags; every line must hold.
    legacy.iter().all(|line| {
        line.split_whitespace().any(|option| {
            option.split(',').all(|term| match term.strip_prefix('!') {
                Some(tag) => !tag_set(tag),
                None => tag_set(term),
            })
        })
    })
}

/// A `//go:build` expression.
#[derive(Debug)]
enum Expression {
    Tag(String),
    Not(Box<Expression>),
    And(Box<Expression>, Box<Expression>),
    Or(Box<Expression>, Box<Expression>),
}

impl Expression {
    /// `None` for an expression that does not parse: such a file is left in.
    fn parse(text: &str) -> Option<Expression> {
        let tokens = tokenize(text)?;
        let mut parser = Parser {
            tokens: &tokens,
            at: 0,
        };
        let expression = parser.or()?;
        (parser.at == tokens.len()).then_some(expression)
    }

    fn holds(&self) -> bool {
        match self {
            Expression::Tag(tag) => tag_set(tag),
            Expression::Not(inner) => !inner.holds(),
            Expression::And(left, right) => left.holds() && right.holds(),
            Expression::Or(left, right) => left.holds() || right.holds(),
        }
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    Tag(String),
    Not,
    And,
    Or,
    Open,
    Close,
}

fn tokenize(text: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '!' => {
                chars.next();
                tokens.push(Token::Not);
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '&' | '|' => {
                chars.next();
                if chars.next() != Some(c) {
                    return None;
                }
                tokens.push(if c == '&' { Token::And } else { Token::Or });
            }
            c if c.is_alphanumeric() || c == '_' || c == '.' => {
                let mut tag = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_alphanumeric() || c == '_' || c == '.' {
                        tag.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(Token::Tag(tag));
            }
            _ => return None,
        }
    }
    Some(tokens)
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
}

impl Parser<'_> {
    fn eat(&mut self, token: &Token) -> bool {
        if self.tokens.get(self.at) == Some(token) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Option<Expression> {
        let mut left = self.and()?;
        while self.eat(&Token::Or) {
            left = Expression::Or(Box::new(left), Box::new(self.and()?));
        }
        Some(left)
    }

    fn and(&mut self) -> Option<Expression> {
        let mut left = self.not()?;
        while self.eat(&Token::And) {
            left = Expression::And(Box::new(left), Box::new(self.not()?));
        }
        Some(left)
    }

    fn not(&mut self) -> Option<Expression> {
        if self.eat(&Token::Not) {
            return Some(Expression::Not(Box::new(self.not()?)));
        }
        if self.eat(&Token::Open) {
            let inner = self.or()?;
            return self.eat(&Token::Close).then_some(inner);
        }
        match self.tokens.get(self.at) {
            Some(Token::Tag(tag)) => {
                self.at += 1;
                Some(Expression::Tag(tag.clone()))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built(name: &str, text: &str) -> bool {
        in_default_build(Path::new(name), text)
    }

    #[test]
    fn build_lines_are_evaluated_for_linux_amd64() {
        assert!(built("a.go", "package a\n"));
        assert!(!built("a.go", "//go:build dev\n\npackage a\n"));
        assert!(built("a.go", "//go:build !dev\n\npackage a\n"));
        assert!(built(
            "a.go",
            "// Copyright\n\n//go:build linux && (amd64 || arm64)\n\npackage a\n"
        ));
        assert!(!built("a.go", "//go:build windows || darwin\npackage a\n"));
        assert!(built(
            "a.go",
            "//go:build unix && go1.21 && cgo\npackage a\n"
        ));
        assert!(!built("a.go", "//go:build ignore\npackage main\n"));
        // A constraint after the package clause is only a comment.
        assert!(built("a.go", "package a\n\n//go:build dev\n"));
        // An expression that does not parse leaves the file in.
        assert!(built("a.go", "//go:build linux &&\npackage a\n"));
    }

    #[test]
    fn legacy_build_lines_are_alternatives_of_conjunctions_on_every_line() {
        assert!(built("a.go", "// +build linux darwin\n\npackage a\n"));
        assert!(!built(
            "a.go",
            "// +build darwin,amd64 windows\n\npackage a\n"
        ));
        assert!(!built(
            "a.go",
            "// +build linux\n// +build 386\n\npackage a\n"
        ));
        assert!(built("a.go", "// +build !windows\n\npackage a\n"));
        // `//go:build` wins over `// +build`.
        assert!(built(
            "a.go",
            "//go:build linux\n// +build windows\n\npackage a\n"
        ));
    }

    #[test]
    fn file_name_suffixes_name_the_system_and_architecture() {
        assert!(built("conn_linux.go", "package a\n"));
        assert!(!built("conn_windows.go", "package a\n"));
        assert!(!built("conn_windows_test.go", "package a\n"));
        assert!(built("asm_amd64.go", "package a\n"));
        assert!(!built("asm_arm64.go", "package a\n"));
        assert!(built("sys_linux_amd64.go", "package a\n"));
        assert!(!built("sys_linux_arm.go", "package a\n"));
        // The whole name is not a suffix.
        assert!(built("windows.go", "package a\n"));
        assert!(built("my_service.go", "package a\n"));
    }
}
