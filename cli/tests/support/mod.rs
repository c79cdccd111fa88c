//! Helpers for the integration tests: temporary project trees and runs of the built binaries.

#![allow(dead_code)] // Each test crate uses a different part of this module.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A folder tree in the temporary folder, removed when dropped.
pub struct TempTree {
    root: PathBuf,
}

impl TempTree {
    /// Creates the files, given as (relative path, contents). The name includes the process id
    /// and a counter because test threads and processes share the temporary folder.
    pub fn new(files: &[(&str, &[u8])]) -> TempTree {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!(
            "deferlint-cli-test-{}-{unique}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        for (relative, contents) in files {
            let path = root.join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, contents).unwrap();
        }
        TempTree { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }
}

impl Drop for TempTree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            // A signal has no code; -1 fails every assertion on codes.
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }
}

/// A command for one of the binaries, in `dir`, with the environment variables that change
/// colour or cargo's behaviour removed so that tests see the same thing everywhere.
fn command(binary: &str, dir: &Path) -> Command {
    let mut command = Command::new(binary);
    command
        .current_dir(dir)
        .env_remove("CARGO_TERM_COLOR")
        .env_remove("NO_COLOR");
    command
}

/// Runs `deferlint ARGS` in `dir`.
pub fn deferlint(dir: &Path, args: &[&str]) -> Run {
    command(env!("CARGO_BIN_EXE_deferlint"), dir)
        .args(args)
        .output()
        .expect("the binary runs")
        .into()
}

/// Runs `deferlint ARGS` in `dir` with extra environment variables.
pub fn deferlint_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = command(env!("CARGO_BIN_EXE_deferlint"), dir);
    command.args(args).envs(env.iter().copied());
    command.output().expect("the binary runs").into()
}

/// Runs `cargo deferlint ARGS` in `dir` the way cargo runs a subcommand: the binary with
/// `deferlint` as its first argument.
pub fn cargo_deferlint(dir: &Path, args: &[&str]) -> Run {
    command(env!("CARGO_BIN_EXE_cargo-deferlint"), dir)
        .arg("deferlint")
        .args(args)
        .output()
        .expect("the binary runs")
        .into()
}

/// Asserts the run failed with a message and without a panic.
pub fn assert_usage_error(run: &Run, expected_message: &str) {
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.starts_with("error: "), "{run:#?}");
    assert!(
        run.stderr.contains(expected_message),
        "expected `{expected_message}` in {run:#?}"
    );
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
}

/// A fixture (a path under `fixtures/`) without its `//~` markers.
pub fn fixture_without_markers(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(relative);
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .map(|line| {
            line.split_once("//~")
                .map_or(line, |(code, _)| code.trim_end())
        })
        .collect();
    lines.join("\n") + "\n"
}

/// A Go file that does not parse. Today every Go file yields a `parse-error` ("not analysed
/// yet"); once the Go frontend exists, a syntax error still does. Either way it is a finding
/// in a readable file, which the engine's stub cannot produce for Rust yet.
pub const BROKEN_GO: &[u8] = b"package main\n\nfunc (\n";

/// A Rust file that is not UTF-8: a `parse-error` whatever the engine does with Rust.
pub const LATIN1_RUST: &[u8] = b"fn caf\xe9() {}\n";
