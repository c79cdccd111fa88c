//! Rust hazard proofs: every program (a fixture, or a variant of one, of one or more files) is
//! a binary of a throwaway cargo project with one package per edition and the libraries the
//! fixtures use (scopeguard, parking_lot, dashmap, tokio). All binaries are built with one
//! `cargo build --release`, then run a few at a time with a timeout, and what each did is
//! checked against its `//@ run:` claim: it hangs with every thread blocked, aborts after a
//! panic on a marked line, detects its own data race, panics on a marked line, loses a write,
//! sees contention, exits without printing its cleanup line, or exits cleanly.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use crate::fixture::{self, FixtureText};

/// How long a `hang` program must stay blocked to count as deadlocked.
const HANG_OBSERVED_FOR: Duration = Duration::from_secs(3);
/// How many times, 100 ms apart, a `hang` program still running is checked for every thread
/// being blocked.
const HANG_SETTLE_CHECKS: usize = 50;
/// How long any other program may run before it counts as stuck.
const RUN_TIME_LIMIT: Duration = Duration::from_secs(20);
/// The exit code a `race` program uses when it saw two writers inside the map at once.
const RACE_DETECTED_EXIT_CODE: i32 = 66;
/// What the Rust runtime prints when a destructor panics while the thread is already unwinding
/// (checked against rustc 1.95), right before it aborts.
const ABORT_MESSAGE: &str = "panic in a destructor during cleanup";
const SIGABRT: i32 = 6;
/// The exit code a `lost-write` program uses when its final check finds the map still holding
/// what the deferred code should have removed (or lacking what it should have written).
const LOST_WRITE_EXIT_CODE: i32 = 67;
/// The exit code a `contended` program uses when it saw deferred code wait for the map's lock
/// while another task held it.
const CONTENDED_EXIT_CODE: i32 = 68;
/// What a program's deferred cleanup prints on stdout when it runs.
const CLEANUP_LINE: &str = "deferred cleanup ran";
/// Panics that the standard library raises on the program's behalf, at a location inside the
/// library (the call is not `#[track_caller]`): for a bad program of the rule, the message
/// stands in for a panic on the marked line.
const LIBRARY_PANICS: &[(&str, &str)] = &[(
    "tls-map-access-in-defer",
    "cannot access a Thread Local Storage value during or after destruction",
)];
/// The exit code of a Rust program whose main thread panicked.
const PANIC_EXIT_CODE: i32 = 101;
/// How many non-`hang` programs run at once. `hang` programs sit blocked, so they all run at
/// once beside these.
const RUNNERS: usize = 3;

/// The hazard that a bad fixture of each rule proves when it runs.
pub const HAZARD_OF_RULE: &[(&str, &[RunClaim])] = &[
    (
        "async-lock-in-defer",
        &[RunClaim::Panic, RunClaim::LostWrite],
    ),
    ("contended-map-write-in-defer", &[RunClaim::Contended]),
    ("exit-skips-deferred-cleanup", &[RunClaim::SkipsCleanup]),
    ("lock-reentered-in-defer", &[RunClaim::Hang]),
    ("poisoned-lock-unwrap-in-defer", &[RunClaim::Abort]),
    ("refcell-map-borrow-in-defer", &[RunClaim::Panic]),
    ("sharded-map-ref-held-at-defer", &[RunClaim::Hang]),
    ("tls-map-access-in-defer", &[RunClaim::Panic]),
    ("unsync-map-write-in-defer", &[RunClaim::Race]),
];

/// Every `run:` word, for messages.
pub const ALL_CLAIMS: &str = "hang, abort, race, panic, lost-write, skips-cleanup, contended or ok";

/// The Rust edition a program is built with (`//@ edition:`, 2021 when absent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Edition {
    E2021,
    E2024,
}

impl Edition {
    pub const ALL: [Edition; 2] = [Edition::E2021, Edition::E2024];

    pub fn year(self) -> &'static str {
        match self {
            Edition::E2021 => "2021",
            Edition::E2024 => "2024",
        }
    }
}

/// What a program does when it runs, from its `//@ run:` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunClaim {
    /// Still running, every thread blocked, after [`HANG_OBSERVED_FOR`].
    Hang,
    /// Killed by `SIGABRT` after printing [`ABORT_MESSAGE`], having panicked on a line that a
    /// `//~` marker points at.
    Abort,
    /// Exits with [`RACE_DETECTED_EXIT_CODE`] or is killed by a signal.
    Race,
    /// Panics on a line that a `//~` marker points at, and dies of it: exit code
    /// [`PANIC_EXIT_CODE`], or `SIGABRT` when the panic cannot unwind (a thread-local's
    /// destructor, a destructor during unwinding).
    Panic,
    /// Exits with [`LOST_WRITE_EXIT_CODE`]: its final check saw the deferred write missing.
    LostWrite,
    /// Exits without crashing and without printing [`CLEANUP_LINE`].
    SkipsCleanup,
    /// Exits with [`CONTENDED_EXIT_CODE`]: deferred code waited for a lock another task held.
    Contended,
    /// Exits with status 0.
    Ok,
}

impl RunClaim {
    pub fn parse(word: &str) -> Option<RunClaim> {
        match word {
            "hang" => Some(RunClaim::Hang),
            "abort" => Some(RunClaim::Abort),
            "race" => Some(RunClaim::Race),
            "panic" => Some(RunClaim::Panic),
            "lost-write" => Some(RunClaim::LostWrite),
            "skips-cleanup" => Some(RunClaim::SkipsCleanup),
            "contended" => Some(RunClaim::Contended),
            "ok" => Some(RunClaim::Ok),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RunClaim::Hang => "hang",
            RunClaim::Abort => "abort",
            RunClaim::Race => "race",
            RunClaim::Panic => "panic",
            RunClaim::LostWrite => "lost-write",
            RunClaim::SkipsCleanup => "skips-cleanup",
            RunClaim::Contended => "contended",
            RunClaim::Ok => "ok",
        }
    }
}

/// One program to prove: a binary of the throwaway project and what it claims.
#[derive(Clone, Debug)]
pub struct Program {
    /// What messages call it: a fixture's path below `fixtures/`, or a variant's name.
    pub display_path: String,
    /// The name of its binary in the throwaway project.
    pub bin_name: String,
    pub edition: Edition,
    pub run: RunClaim,
    /// The folder of the fixture: the rule it is about.
    pub rule_folder: String,
    /// Its files where they are built from, the crate root first.
    pub files: Vec<ProgramFile>,
}

/// One file of a program.
#[derive(Clone, Debug)]
pub struct ProgramFile {
    /// Absolute.
    pub path: PathBuf,
    /// The lines that `//~` markers of this file point at (1-based).
    pub marker_lines: Vec<usize>,
}

/// Reads a program's claim from its files, the crate root first (each read by
/// [`fixture::parse_module_text`] or [`fixture::parse_fixture_text`], with its path on disk),
/// and checks that the headers are well-formed and agree with the markers of every file and
/// with the fixture's folder. `bin_name` must be unique in the project.
pub fn read_program(bin_name: String, files: &[FixtureText]) -> Result<Program, Vec<String>> {
    let root = &files[0];
    let display_path = root.display_path.clone();
    // The expectation (clean or marked) is the program's, not one file's: read again over
    // every file.
    let expectation_messages: Vec<String> = files
        .iter()
        .flat_map(|file| {
            fixture::expectation_errors(&file.display_path, file.check_pass, &file.markers)
        })
        .collect();
    let mut errors: Vec<String> = files
        .iter()
        .flat_map(|file| file.errors.iter())
        .filter(|error| !expectation_messages.contains(error))
        .cloned()
        .collect();
    let mut whole = root.clone();
    whole.markers = files
        .iter()
        .flat_map(|file| file.markers.iter().cloned())
        .collect();
    errors.extend(fixture::expectation_errors(
        &display_path,
        whole.check_pass,
        &whole.markers,
    ));
    for file in &files[1..] {
        if let Some(header) = file.headers.first() {
            errors.push(format!(
                "{}:{}: `//@` headers belong to the crate root",
                file.display_path, header.line
            ));
        }
    }
    let mut edition = Edition::E2021;
    let mut run = RunClaim::Ok;
    for header in &root.headers {
        let line = header.line;
        match (header.key.as_str(), header.value.as_deref()) {
            ("check-pass", _) => {}
            ("edition", Some("2021")) => edition = Edition::E2021,
            ("edition", Some("2024")) => edition = Edition::E2024,
            ("edition", value) => errors.push(format!(
                "{display_path}:{line}: unknown edition `{}` (2021 or 2024)",
                value.unwrap_or("")
            )),
            ("run", value) => match value.and_then(RunClaim::parse) {
                Some(claim) => run = claim,
                None => errors.push(format!(
                    "{display_path}:{line}: unknown `run:` value `{}` ({ALL_CLAIMS})",
                    value.unwrap_or("")
                )),
            },
            (key, _) => errors.push(format!("{display_path}:{line}: unknown header `//@ {key}`")),
        }
    }
    let hazards: Vec<&str> = HAZARD_OF_RULE
        .iter()
        .find(|(rule, _)| *rule == root.rule_folder)
        .map(|(_, hazards)| hazards.iter().map(|hazard| hazard.as_str()).collect())
        .unwrap_or_default();
    errors.extend(fixture::claim_errors(
        &whole,
        run.as_str(),
        &hazards,
        ALL_CLAIMS,
    ));
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Program {
        display_path,
        bin_name,
        edition,
        run,
        rule_folder: root.rule_folder.clone(),
        files: files
            .iter()
            .map(|file| ProgramFile {
                path: file.path.clone(),
                marker_lines: file.markers.iter().map(|marker| marker.target).collect(),
            })
            .collect(),
    })
}

/// A binary name for a path below `fixtures/` (or any name): what cargo accepts.
pub fn bin_name_for(name: &str) -> String {
    name.trim_end_matches(".rs")
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || character == '-' {
                character
            } else {
                '_'
            }
        })
        .collect()
}

/// The throwaway cargo project the programs are built in: a workspace with one package per
/// edition, under `dir`, built into `target_dir` (which several projects may share, so that
/// the libraries are built once).
#[derive(Clone, Debug)]
pub struct Project {
    pub dir: PathBuf,
    pub target_dir: PathBuf,
    /// Package names are `<prefix>-<edition year>`.
    pub package_prefix: String,
    /// The `[lints.rust]` table of every package.
    pub lints: String,
}

/// What a build left: where the binaries are, and the programs that did not compile with
/// what the compiler said of each.
#[derive(Debug)]
pub struct Build {
    pub bin_dir: PathBuf,
    /// `(bin name, compiler messages)`, sorted by name.
    pub failed: Vec<(String, String)>,
}

impl Build {
    /// The programs that did not compile, each with what the compiler said, for a test's
    /// failure message.
    pub fn failures(&self) -> String {
        self.failed
            .iter()
            .map(|(bin, said)| format!("{bin}:\n{said}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Project {
    /// The folder of a package: a variant's files go to `src/bin/<bin name>/` in it.
    pub fn package_dir(&self, edition: Edition) -> PathBuf {
        self.dir
            .join(format!("{}-{}", self.package_prefix, edition.year()))
    }

    /// Writes the project (one binary per program) and builds every binary with one
    /// `cargo build --release --keep-going`. A program that does not compile is listed in
    /// [`Build::failed`]; an error of cargo itself (a manifest it rejects, a dependency it
    /// cannot fetch) is `Err`.
    pub fn build(&self, programs: &[Program]) -> Result<Build, String> {
        let mut members = Vec::new();
        for edition in Edition::ALL {
            let package = format!("{}-{}", self.package_prefix, edition.year());
            let mut manifest = format!(
                "[package]\nname = \"{package}\"\nversion = \"0.0.0\"\nedition = \"{}\"\npublish = false\n\
                 autobins = false\nautoexamples = false\nautotests = false\nautobenches = false\n\n\
                 [dependencies]\nscopeguard = \"1\"\nparking_lot = \"0.12\"\ndashmap = \"6\"\n\
                 tokio = {{ version = \"1\", features = [\"rt\", \"rt-multi-thread\", \"sync\", \"macros\", \"time\"] }}\n\n\
                 [lints.rust]\n{}\n",
                edition.year(),
                self.lints.trim_end()
            );
            for program in programs.iter().filter(|program| program.edition == edition) {
                write!(
                    manifest,
                    "\n[[bin]]\nname = \"{}\"\npath = \"{}\"\n",
                    program.bin_name,
                    program.files[0]
                        .path
                        .display()
                        .to_string()
                        .replace('\\', "\\\\")
                        .replace('"', "\\\"")
                )
                .unwrap();
            }
            // A package without any binary is not a valid package: give it a placeholder
            // library.
            let package_dir = self.package_dir(edition);
            fs::create_dir_all(package_dir.join("src")).unwrap();
            write_if_changed(&package_dir.join("src/lib.rs"), "//! Placeholder.\n");
            manifest.push_str("\n[lib]\npath = \"src/lib.rs\"\n");
            write_if_changed(&package_dir.join("Cargo.toml"), &manifest);
            members.push(format!("\"{package}\""));
        }
        // Its own workspace root, so that cargo does not take it for a member of ours.
        write_if_changed(
            &self.dir.join("Cargo.toml"),
            &format!(
                "[workspace]\nresolver = \"2\"\nmembers = [{}]\n\n[profile.release]\ndebug = \"line-tables-only\"\n",
                members.join(", ")
            ),
        );

        let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
            .args([
                "build",
                "--release",
                "--workspace",
                "--bins",
                "--keep-going",
                "--color",
                "never",
                "--message-format",
                "json",
            ])
            .arg("--manifest-path")
            .arg(self.dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &self.target_dir)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .stdin(Stdio::null())
            .output()
            .map_err(|error| format!("cannot run cargo: {error}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let mut built = std::collections::BTreeSet::new();
        let mut messages: BTreeMap<String, String> = BTreeMap::new();
        for line in stdout.lines() {
            let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let target = message["target"]["name"].as_str().unwrap_or("").to_owned();
            match message["reason"].as_str() {
                Some("compiler-artifact") if message["executable"].is_string() => {
                    built.insert(target);
                }
                Some("compiler-message") => {
                    let rendered = message["message"]["rendered"].as_str().unwrap_or("");
                    messages.entry(target).or_default().push_str(rendered);
                }
                _ => {}
            }
        }
        let failed: Vec<(String, String)> = programs
            .iter()
            .filter(|program| !built.contains(&program.bin_name))
            .map(|program| {
                let said = messages.remove(&program.bin_name).unwrap_or_default();
                (program.bin_name.clone(), said)
            })
            .collect();
        if !output.status.success() && failed.is_empty() {
            return Err(format!(
                "cargo build failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        if failed.len() == programs.len() && !programs.is_empty() && built.is_empty() {
            // Nothing was built: most likely cargo itself failed (a dependency it cannot
            // fetch), which says more than any one program.
            let stderr = String::from_utf8_lossy(&output.stderr);
            if messages.values().all(String::is_empty) {
                return Err(format!("cargo built nothing:\n{stderr}"));
            }
        }
        Ok(Build {
            bin_dir: self.target_dir.join("release"),
            failed,
        })
    }

    /// Runs every program's binary and returns one message per program that broke its claim,
    /// sorted by program.
    pub fn run_all(&self, programs: &[&Program], bin_dir: &Path, log_dir: &Path) -> Vec<String> {
        fs::create_dir_all(log_dir).unwrap();
        let (hanging, others): (Vec<&Program>, Vec<&Program>) = programs
            .iter()
            .partition(|program| program.run == RunClaim::Hang);
        let queue = Mutex::new(others.into_iter().collect::<VecDeque<_>>());
        let broken = Mutex::new(Vec::new());
        thread::scope(|scope| {
            for program in hanging {
                let broken = &broken;
                scope.spawn(move || {
                    if let Err(message) = self.prove(program, bin_dir, log_dir) {
                        broken
                            .lock()
                            .unwrap()
                            .push((program.display_path.clone(), message));
                    }
                });
            }
            for _ in 0..RUNNERS {
                scope.spawn(|| {
                    loop {
                        let Some(program) = queue.lock().unwrap().pop_front() else {
                            break;
                        };
                        if let Err(message) = self.prove(program, bin_dir, log_dir) {
                            broken
                                .lock()
                                .unwrap()
                                .push((program.display_path.clone(), message));
                        }
                    }
                });
            }
        });
        let mut broken = broken.into_inner().unwrap();
        broken.sort();
        broken.into_iter().map(|(_, message)| message).collect()
    }

    /// Runs one program's binary and checks what it did against its claim.
    fn prove(&self, program: &Program, bin_dir: &Path, log_dir: &Path) -> Result<(), String> {
        let stderr_path = log_dir.join(format!("{}.stderr", program.bin_name));
        let stderr_file = fs::File::create(&stderr_path).unwrap();
        let stdout_path = log_dir.join(format!("{}.stdout", program.bin_name));
        let stdout_file = fs::File::create(&stdout_path).unwrap();
        let mut child = Command::new(bin_dir.join(&program.bin_name))
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null())
            .stdout(stdout_file)
            .stderr(stderr_file)
            .spawn()
            .map_err(|error| {
                format!("{}: cannot start its binary: {error}", program.display_path)
            })?;
        let limit = match program.run {
            RunClaim::Hang => HANG_OBSERVED_FOR,
            _ => RUN_TIME_LIMIT,
        };
        let status = fixture::wait_at_most(&mut child, limit);
        // On a loaded machine a thread may still be on its way to the deadlock: look again for
        // a while. A busy thread never blocks, so waiting longer cannot turn a busy loop into a
        // hang.
        let still_running_and_blocked = status.is_none()
            && (0..HANG_SETTLE_CHECKS).any(|_| {
                let blocked = fixture::all_threads_blocked(child.id());
                if !blocked {
                    thread::sleep(Duration::from_millis(100));
                }
                blocked
            });
        if status.is_none() {
            // The process may have ended between the last poll and now: ignore the error.
            let _ = child.kill();
            let _ = child.wait();
        }
        let stderr = fs::read_to_string(&stderr_path).unwrap_or_default();
        let stdout = fs::read_to_string(&stdout_path).unwrap_or_default();
        let printed_cleanup = stdout.contains(CLEANUP_LINE);

        // The panic that turned into the abort must come from a marked line: the unwrap on the
        // poisoned lock inside the deferred code, not some other panic.
        let panicked_on_marked_line = panic_locations(&stderr).iter().any(|(path, line)| {
            let path = self.dir.join(path);
            program
                .files
                .iter()
                .any(|file| file.path == path && file.marker_lines.contains(line))
        }) || LIBRARY_PANICS.iter().any(|(rule, message)| {
            *rule == program.rule_folder
                && program
                    .files
                    .iter()
                    .any(|file| !file.marker_lines.is_empty())
                && stderr.contains(message)
        });
        let kept_claim = match (program.run, status) {
            (RunClaim::Hang, None) => still_running_and_blocked,
            (RunClaim::Abort, Some(status)) => {
                status.signal() == Some(SIGABRT)
                    && stderr.contains(ABORT_MESSAGE)
                    && panicked_on_marked_line
            }
            (RunClaim::Race, Some(status)) => {
                status.code() == Some(RACE_DETECTED_EXIT_CODE) || status.signal().is_some()
            }
            (RunClaim::Panic, Some(status)) => {
                (status.code() == Some(PANIC_EXIT_CODE) || status.signal() == Some(SIGABRT))
                    && panicked_on_marked_line
            }
            (RunClaim::LostWrite, Some(status)) => status.code() == Some(LOST_WRITE_EXIT_CODE),
            (RunClaim::Contended, Some(status)) => status.code() == Some(CONTENDED_EXIT_CODE),
            (RunClaim::SkipsCleanup, Some(status)) => status.code().is_some() && !printed_cleanup,
            (RunClaim::Ok, Some(status)) => status.success(),
            _ => false,
        };
        if kept_claim {
            return Ok(());
        }
        let did = match status {
            None if program.run == RunClaim::Hang => {
                format!(
                    "was still running after {} s, but some thread was busy, not blocked",
                    limit.as_secs()
                )
            }
            None => format!("was still running after {} s (killed)", limit.as_secs()),
            Some(status) => fixture::describe(status),
        };
        let mut message = format!(
            "{} (`run: {}`, edition {}): {did}",
            program.display_path,
            program.run.as_str(),
            program.edition.year()
        );
        if program.run == RunClaim::Abort && !stderr.contains(ABORT_MESSAGE) {
            write!(message, "; stderr lacks `{ABORT_MESSAGE}`").unwrap();
        }
        if matches!(program.run, RunClaim::Abort | RunClaim::Panic) && !panicked_on_marked_line {
            let marked: Vec<String> = program
                .files
                .iter()
                .filter(|file| !file.marker_lines.is_empty())
                .map(|file| {
                    let name = file.path.file_name().unwrap_or_default().to_string_lossy();
                    format!("{name} {:?}", file.marker_lines)
                })
                .collect();
            write!(
                message,
                "; no panic on a `//~` marked line ({})",
                marked.join(", ")
            )
            .unwrap();
        }
        if program.run == RunClaim::SkipsCleanup && printed_cleanup {
            write!(message, "; stdout has `{CLEANUP_LINE}`: the cleanup ran").unwrap();
        }
        let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
        if !tail.is_empty() {
            message.push_str("\n    stderr (last lines):");
            for line in tail.into_iter().rev() {
                write!(message, "\n    | {line}").unwrap();
            }
        }
        Err(message)
    }
}

/// Where the program's threads panicked, as the panic messages say: `(file, line)`, the file
/// as rustc was given it (absolute, or relative to the project's workspace root).
fn panic_locations(stderr: &str) -> Vec<(PathBuf, usize)> {
    const PANICKED_AT: &str = "panicked at ";
    let mut locations = Vec::new();
    let mut rest = stderr;
    while let Some(at) = rest.find(PANICKED_AT) {
        rest = &rest[at + PANICKED_AT.len()..];
        let location = rest.lines().next().unwrap_or("").trim_end_matches(':');
        let mut parts = location.rsplitn(3, ':');
        let (Some(_column), Some(line), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if let Ok(line) = line.parse() {
            locations.push((PathBuf::from(path), line));
        }
    }
    locations
}

/// Rewrites a file only when its text changes, so that reruns stay incremental.
pub fn write_if_changed(path: &Path, text: &str) {
    if fs::read_to_string(path).ok().as_deref() != Some(text) {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(path, text).unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_locations_are_read_with_absolute_and_relative_paths() {
        let stderr = "\nthread 'main' panicked at /tmp/x/main.rs:12:5:\ncalled `unwrap`\n\
                      thread '<unnamed>' (42) panicked at variants-2021/src/bin/v/helpers.rs:3:17:\nboom\n";
        assert_eq!(
            panic_locations(stderr),
            vec![
                (PathBuf::from("/tmp/x/main.rs"), 12),
                (PathBuf::from("variants-2021/src/bin/v/helpers.rs"), 3)
            ]
        );
    }
}
