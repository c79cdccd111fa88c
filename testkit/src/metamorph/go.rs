//! Go rewrites, made by a Go program of our own under `testkit/go-rewriter/` (standard
//! library only), which has go/types and so knows every identifier's object and every
//! expression's type: a rewrite that keeps a Go program's meaning needs to know which
//! variables a closure captures, their types and method sets, and which identifiers are the
//! program's own.
//!
//! [`GoRewriter::build`] builds that program once into a folder the caller gives (again only
//! when its sources or the Go toolchain change); [`GoRewriter::rewrite`] runs it on fixtures
//! and reads its JSON answer (one object per fixture and line, see `go-rewriter/main.go`)
//! into [`FixtureVariants`].

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::{FixtureVariants, Rewritten, VariantFile};
use crate::proofs::go::{find_go, go_version};

/// The Go rewrites, in the order the rewriter gives them.
pub const GO_REWRITES: &[&str] = &[
    "outer-loop",
    "goroutine-body-to-func",
    "goroutine-body-to-method",
    "defer-body-to-func",
    "defer-body-to-method",
    "defer-call-to-literal",
    "map-via-param",
    "map-via-field",
    "map-via-alias",
    "map-via-pointer",
    "map-via-package-var",
    "call-via-interface",
    "call-via-interface-2",
    "call-via-method-value",
    "call-via-func-field",
    "loop-via-callback",
    "second-package",
    "rename",
];

/// Why the Go rewrites could not be made.
#[derive(Debug)]
pub enum GoRewriterError {
    /// No `go` toolchain: the caller decides whether that fails a test or skips it.
    GoMissing,
    /// The rewriter did not build.
    Build(String),
    /// The rewriter could not run, or its answer was not what the protocol says.
    Run(String),
    /// Fixtures that the rewriter could not rewrite: a fixture that does not type-check, or a
    /// rewrite that failed (a bug of the rewriter), one message each.
    Fixtures(Vec<String>),
}

impl fmt::Display for GoRewriterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GoRewriterError::GoMissing => write!(
                f,
                "go not found (not on PATH, nor /usr/lib/go/bin/go, nor /usr/local/go/bin/go): \
                 the Go rewriter cannot be built"
            ),
            GoRewriterError::Build(message) => {
                write!(f, "the Go rewriter did not build: {message}")
            }
            GoRewriterError::Run(message) => write!(f, "the Go rewriter failed: {message}"),
            GoRewriterError::Fixtures(messages) => write!(
                f,
                "the Go rewriter could not rewrite {} fixtures:\n\n{}",
                messages.len(),
                messages.join("\n\n")
            ),
        }
    }
}

impl std::error::Error for GoRewriterError {}

/// The built rewriter.
#[derive(Debug)]
pub struct GoRewriter {
    binary: PathBuf,
    go_root: Option<String>,
}

/// The rewriter's sources.
pub fn go_rewriter_sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("go-rewriter")
}

impl GoRewriter {
    /// Builds the rewriter with the `go` that [`find_go`] finds, into `cache_dir`.
    pub fn build(cache_dir: &Path) -> Result<GoRewriter, GoRewriterError> {
        let go = find_go().ok_or(GoRewriterError::GoMissing)?;
        GoRewriter::build_with(&go, cache_dir)
    }

    /// Builds the rewriter with `go` into `cache_dir`, named after a hash of its sources and
    /// the Go version: an unchanged rewriter is not built again.
    pub fn build_with(go: &Path, cache_dir: &Path) -> Result<GoRewriter, GoRewriterError> {
        let version = go_version(go).map_err(GoRewriterError::Build)?;
        let sources = go_rewriter_sources();
        let mut hasher = DefaultHasher::new();
        version.hash(&mut hasher);
        let mut files: Vec<PathBuf> = fs::read_dir(&sources)
            .map_err(|error| GoRewriterError::Build(format!("{}: {error}", sources.display())))?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| {
                path.extension()
                    .is_some_and(|extension| extension == "go" || extension == "mod")
            })
            .collect();
        files.sort();
        for file in &files {
            let text = fs::read(file)
                .map_err(|error| GoRewriterError::Build(format!("{}: {error}", file.display())))?;
            (file.file_name(), text).hash(&mut hasher);
        }
        fs::create_dir_all(cache_dir)
            .map_err(|error| GoRewriterError::Build(format!("{}: {error}", cache_dir.display())))?;
        let binary = cache_dir.join(format!("go-rewriter-{:016x}", hasher.finish()));
        let go_root = go_env_root(go);
        if !binary.is_file() {
            // A name of this process's own, renamed into place: two builds at once never
            // leave half a binary under the final name.
            let partial = cache_dir.join(format!(
                "go-rewriter-{:016x}.{}.partial",
                hasher.finish(),
                std::process::id()
            ));
            let output = Command::new(go)
                .arg("build")
                .arg("-o")
                .arg(&partial)
                .arg(".")
                .current_dir(&sources)
                .env_remove("GOFLAGS")
                .env("GOWORK", "off")
                .env("GOTOOLCHAIN", "local")
                .env("GO111MODULE", "on")
                .stdin(Stdio::null())
                .output()
                .map_err(|error| {
                    GoRewriterError::Build(format!("cannot run {}: {error}", go.display()))
                })?;
            if !output.status.success() {
                let _ = fs::remove_file(&partial);
                return Err(GoRewriterError::Build(
                    String::from_utf8_lossy(&output.stderr)
                        .trim_end()
                        .to_owned(),
                ));
            }
            fs::rename(&partial, &binary).map_err(|error| {
                GoRewriterError::Build(format!("{}: {error}", binary.display()))
            })?;
        }
        Ok(GoRewriter { binary, go_root })
    }

    /// Rewrites the fixtures: every rewrite of [`GO_REWRITES`] for each, in order.
    pub fn rewrite(&self, fixtures: &[PathBuf]) -> Result<Vec<FixtureVariants>, GoRewriterError> {
        let mut command = Command::new(&self.binary);
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_remove("GOFLAGS")
            .env("GO111MODULE", "off");
        // The rewriter type-checks the standard library from the sources of the toolchain
        // that built it.
        if let Some(root) = &self.go_root {
            command.env("GOROOT", root);
        }
        let mut child = command
            .spawn()
            .map_err(|error| GoRewriterError::Run(format!("{}: {error}", self.binary.display())))?;
        let mut stdin = child.stdin.take().unwrap();
        let list: String = fixtures
            .iter()
            .map(|path| format!("{}\n", path.display()))
            .collect();
        let writer = std::thread::spawn(move || stdin.write_all(list.as_bytes()));
        let output = child
            .wait_with_output()
            .map_err(|error| GoRewriterError::Run(error.to_string()))?;
        writer
            .join()
            .unwrap()
            .map_err(|error| GoRewriterError::Run(format!("writing the fixture list: {error}")))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let mut answers = BTreeMap::new();
        for line in stdout.lines().filter(|line| !line.trim().is_empty()) {
            let answer: JsonFixture = serde_json::from_str(line)
                .map_err(|error| GoRewriterError::Run(format!("bad JSON ({error}): {line}")))?;
            answers.insert(PathBuf::from(&answer.path), answer);
        }
        let mut failures = Vec::new();
        let mut variants = Vec::new();
        for fixture in fixtures {
            let Some(answer) = answers.remove(fixture) else {
                return Err(GoRewriterError::Run(format!(
                    "no answer for {} ({}):\n{stderr}",
                    fixture.display(),
                    output.status
                )));
            };
            if let Some(error) = answer.error {
                failures.push(format!("{}: {error}", fixture.display()));
                continue;
            }
            variants.push(fixture_variants(fixture, answer.rewrites)?);
        }
        if !failures.is_empty() {
            return Err(GoRewriterError::Fixtures(failures));
        }
        if !output.status.success() {
            return Err(GoRewriterError::Run(format!(
                "{}:\n{stderr}",
                output.status
            )));
        }
        Ok(variants)
    }
}

/// `go env GOROOT`, when it answers.
fn go_env_root(go: &Path) -> Option<String> {
    let output = Command::new(go)
        .args(["env", "GOROOT"])
        .env("GOTOOLCHAIN", "local")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let root = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    (output.status.success() && !root.is_empty()).then_some(root)
}

#[derive(Deserialize)]
struct JsonFixture {
    path: String,
    #[serde(default)]
    rewrites: Vec<JsonRewrite>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct JsonRewrite {
    rewrite: String,
    #[serde(default)]
    files: Vec<JsonFile>,
    #[serde(default)]
    not_applicable: Option<String>,
}

#[derive(Deserialize)]
struct JsonFile {
    path: String,
    text: String,
}

/// Checks that the answer for one fixture has every rewrite in order, each either files or a
/// reason.
fn fixture_variants(
    fixture: &Path,
    rewrites: Vec<JsonRewrite>,
) -> Result<FixtureVariants, GoRewriterError> {
    let names: Vec<&str> = rewrites
        .iter()
        .map(|rewrite| rewrite.rewrite.as_str())
        .collect();
    if names != GO_REWRITES {
        return Err(GoRewriterError::Run(format!(
            "{}: rewrites {names:?}, expected {GO_REWRITES:?}",
            fixture.display()
        )));
    }
    let variants = GO_REWRITES
        .iter()
        .zip(rewrites)
        .map(|(name, rewrite)| {
            let made = match (rewrite.not_applicable, rewrite.files.is_empty()) {
                (Some(reason), true) => Rewritten::NotApplicable(reason),
                (None, false) => Rewritten::Variant(
                    rewrite
                        .files
                        .into_iter()
                        .map(|file| VariantFile {
                            path: file.path,
                            text: file.text,
                        })
                        .collect(),
                ),
                _ => {
                    return Err(GoRewriterError::Run(format!(
                        "{}: rewrite {name} has both files and a reason, or neither",
                        fixture.display()
                    )));
                }
            };
            Ok((*name, made))
        })
        .collect::<Result<_, _>>()?;
    Ok(FixtureVariants {
        fixture: fixture.to_owned(),
        variants,
    })
}
