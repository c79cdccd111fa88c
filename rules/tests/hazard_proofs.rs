//! Proves that every fixture does, when it runs, what its `//@ run:` header claims: a bad
//! fixture's hazard is real (the program hangs, aborts or detects its own data race) and a good
//! fixture's program runs to a clean exit. It also keeps the fixture headers well-formed.
//!
//! All fixtures are built at once as the binaries of a throwaway cargo project (one package per
//! edition) under `CARGO_TARGET_TMPDIR`, then run a few at a time with a timeout.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use deferlint_testkit::fixture as support;

/// How long a `hang` fixture must stay blocked to count as deadlocked.
const HANG_OBSERVED_FOR: Duration = Duration::from_secs(3);
/// How many times, 100 ms apart, a `hang` fixture still running is checked for every thread
/// being blocked.
const HANG_SETTLE_CHECKS: usize = 50;
/// How long any other fixture may run before it counts as stuck.
const RUN_TIME_LIMIT: Duration = Duration::from_secs(20);
/// The exit code a `race` fixture uses when it saw two writers inside the map at once.
const RACE_DETECTED_EXIT_CODE: i32 = 66;
/// What the Rust runtime prints when a destructor panics while the thread is already unwinding
/// (checked against rustc 1.95), right before it aborts.
const ABORT_MESSAGE: &str = "panic in a destructor during cleanup";
const SIGABRT: i32 = 6;
/// The exit code a `lost-write` fixture uses when its final check finds the map still holding
/// what the deferred code should have removed (or lacking what it should have written).
const LOST_WRITE_EXIT_CODE: i32 = 67;
/// The exit code a `contended` fixture uses when it saw deferred code wait for the map's lock
/// while another task held it.
const CONTENDED_EXIT_CODE: i32 = 68;
/// What a fixture's deferred cleanup prints on stdout when it runs.
const CLEANUP_LINE: &str = "deferred cleanup ran";
/// Panics that the standard library raises on the program's behalf, at a location inside the
/// library (the call is not `#[track_caller]`): for a bad fixture of the rule, the message
/// stands in for a panic on the marked line.
const LIBRARY_PANICS: &[(&str, &str)] = &[(
    "tls-map-access-in-defer",
    "cannot access a Thread Local Storage value during or after destruction",
)];
/// The exit code of a Rust program whose main thread panicked.
const PANIC_EXIT_CODE: i32 = 101;
/// How many non-`hang` fixtures run at once. `hang` fixtures sit blocked, so they all run at
/// once beside these.
const RUNNERS: usize = 3;
/// The hazard that a bad fixture of each rule proves when it runs.
const HAZARD_OF_RULE: &[(&str, &[RunClaim])] = &[
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
const ALL_CLAIMS: &str = "hang, abort, race, panic, lost-write, skips-cleanup, contended or ok";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Edition {
    E2021,
    E2024,
}

impl Edition {
    fn year(self) -> &'static str {
        match self {
            Edition::E2021 => "2021",
            Edition::E2024 => "2024",
        }
    }
}

/// What a fixture's program does when it runs, from its `//@ run:` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunClaim {
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
    fn parse(word: &str) -> Option<RunClaim> {
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

    fn as_str(self) -> &'static str {
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

/// One fixture file and what its headers and markers say.
#[derive(Debug)]
struct Fixture {
    path: PathBuf,
    /// The path below `fixtures/`, for messages.
    display_path: String,
    /// The name of its binary in the throwaway project.
    bin_name: String,
    edition: Edition,
    run: RunClaim,
    /// The lines that `//~` markers point at (1-based).
    marker_lines: Vec<usize>,
    /// The folder: the rule the fixture is about.
    rule_folder: String,
}

#[test]
fn every_fixture_does_what_its_run_header_claims() {
    let paths = support::fixture_paths(&["rs"]);
    let mut header_errors = Vec::new();
    let mut fixtures = Vec::new();
    for path in paths {
        match parse_fixture(&path) {
            Ok(fixture) => fixtures.push(fixture),
            Err(errors) => header_errors.extend(errors),
        }
    }
    assert!(
        header_errors.is_empty(),
        "malformed fixture headers:\n{}",
        header_errors.join("\n")
    );

    let bin_dir = build_all(&fixtures);
    let broken = run_all(&fixtures, &bin_dir);
    assert!(
        broken.is_empty(),
        "{} of {} fixtures did not do what their `//@ run:` header claims:\n\n{}",
        broken.len(),
        fixtures.len(),
        broken.join("\n\n")
    );
}

/// Reads a fixture's headers and markers, and checks that they agree with each other and with
/// the fixture's folder.
fn parse_fixture(path: &Path) -> Result<Fixture, Vec<String>> {
    let text = support::read_fixture(path);
    let display_path = text.display_path.clone();
    let mut errors = text.errors.clone();
    let mut edition = Edition::E2021;
    let mut run = RunClaim::Ok;
    for header in &text.headers {
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
    for marker in &text.markers {
        if deferlint_rules::find_rule(&marker.rule).is_none() {
            errors.push(format!(
                "{display_path}:{}: marker `//~ {}` does not name a registered rule",
                marker.target, marker.rule
            ));
        }
    }
    let hazards: Vec<&str> = HAZARD_OF_RULE
        .iter()
        .find(|(rule, _)| *rule == text.rule_folder)
        .map(|(_, hazards)| hazards.iter().map(|hazard| hazard.as_str()).collect())
        .unwrap_or_default();
    errors.extend(support::claim_errors(
        &text,
        run.as_str(),
        &hazards,
        ALL_CLAIMS,
    ));
    if !errors.is_empty() {
        return Err(errors);
    }
    let bin_name = display_path
        .trim_end_matches(".rs")
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || character == '-' {
                character
            } else {
                '_'
            }
        })
        .collect();
    Ok(Fixture {
        path: path.to_owned(),
        display_path,
        bin_name,
        edition,
        run,
        marker_lines: text.markers.iter().map(|marker| marker.target).collect(),
        rule_folder: text.rule_folder.clone(),
    })
}

/// Writes the throwaway project (a workspace with one package per edition, one binary per
/// fixture), builds every binary with one `cargo build --release`, and returns the folder that
/// holds them. A fixture that does not compile, or compiles with warnings, fails the test.
fn build_all(fixtures: &[Fixture]) -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let project = tmp.join("hazard-proofs");
    let target_dir = tmp.join("hazard-proofs-target");
    let editions = [Edition::E2021, Edition::E2024];
    let mut members = Vec::new();
    for edition in editions {
        let package = format!("fixtures-{}", edition.year());
        let mut manifest = format!(
            "[package]\nname = \"{package}\"\nversion = \"0.0.0\"\nedition = \"{}\"\npublish = false\n\
             autobins = false\nautoexamples = false\nautotests = false\nautobenches = false\n\n\
             [dependencies]\nscopeguard = \"1\"\nparking_lot = \"0.12\"\ndashmap = \"6\"\n\
             tokio = {{ version = \"1\", features = [\"rt\", \"rt-multi-thread\", \"sync\", \"macros\", \"time\"] }}\n\n\
             # Fixtures are read by people: keep them warning-free (allow a lint in the file).\n\
             [lints.rust]\nwarnings = \"deny\"\n",
            edition.year()
        );
        for fixture in fixtures.iter().filter(|fixture| fixture.edition == edition) {
            write!(
                manifest,
                "\n[[bin]]\nname = \"{}\"\npath = \"{}\"\n",
                fixture.bin_name,
                fixture
                    .path
                    .display()
                    .to_string()
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
            )
            .unwrap();
        }
        // A package without any binary is not a valid package: give it a placeholder library.
        let package_dir = project.join(&package);
        fs::create_dir_all(package_dir.join("src")).unwrap();
        write_if_changed(&package_dir.join("src/lib.rs"), "//! Placeholder.\n");
        manifest.push_str("\n[lib]\npath = \"src/lib.rs\"\n");
        write_if_changed(&package_dir.join("Cargo.toml"), &manifest);
        members.push(format!("\"{package}\""));
    }
    // Its own workspace root, so that cargo does not take it for a member of ours.
    write_if_changed(
        &project.join("Cargo.toml"),
        &format!(
            "[workspace]\nresolver = \"2\"\nmembers = [{}]\n\n[profile.release]\ndebug = \"line-tables-only\"\n",
            members.join(", ")
        ),
    );

    let output = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--workspace",
            "--bins",
            "--keep-going",
            "--color",
            "never",
        ])
        .arg("--manifest-path")
        .arg(project.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run cargo: {error}"));
    assert!(
        output.status.success(),
        "the fixtures did not all compile (warnings are errors here):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    target_dir.join("release")
}

/// Rewrites a file only when its text changes, so that reruns stay incremental.
fn write_if_changed(path: &Path, text: &str) {
    if fs::read_to_string(path).ok().as_deref() != Some(text) {
        fs::write(path, text).unwrap();
    }
}

/// Runs every fixture and returns one message per fixture that broke its claim.
fn run_all(fixtures: &[Fixture], bin_dir: &Path) -> Vec<String> {
    let log_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hazard-proofs-logs");
    fs::create_dir_all(&log_dir).unwrap();
    let (hanging, others): (Vec<&Fixture>, Vec<&Fixture>) = fixtures
        .iter()
        .partition(|fixture| fixture.run == RunClaim::Hang);
    let queue = Mutex::new(others.into_iter().collect::<VecDeque<_>>());
    let broken = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for fixture in hanging {
            let (broken, log_dir) = (&broken, &log_dir);
            scope.spawn(move || {
                if let Err(message) = prove(fixture, bin_dir, log_dir) {
                    broken
                        .lock()
                        .unwrap()
                        .push((fixture.display_path.clone(), message));
                }
            });
        }
        for _ in 0..RUNNERS {
            scope.spawn(|| {
                loop {
                    let Some(fixture) = queue.lock().unwrap().pop_front() else {
                        break;
                    };
                    if let Err(message) = prove(fixture, bin_dir, &log_dir) {
                        broken
                            .lock()
                            .unwrap()
                            .push((fixture.display_path.clone(), message));
                    }
                }
            });
        }
    });
    let mut broken = broken.into_inner().unwrap();
    broken.sort();
    broken.into_iter().map(|(_, message)| message).collect()
}

/// Runs one fixture's binary and checks what it did against its claim.
fn prove(fixture: &Fixture, bin_dir: &Path, log_dir: &Path) -> Result<(), String> {
    let stderr_path = log_dir.join(format!("{}.stderr", fixture.bin_name));
    let stderr_file = fs::File::create(&stderr_path).unwrap();
    let stdout_path = log_dir.join(format!("{}.stdout", fixture.bin_name));
    let stdout_file = fs::File::create(&stdout_path).unwrap();
    let mut child = Command::new(bin_dir.join(&fixture.bin_name))
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(stdout_file)
        .stderr(stderr_file)
        .spawn()
        .map_err(|error| format!("{}: cannot start its binary: {error}", fixture.display_path))?;
    let limit = match fixture.run {
        RunClaim::Hang => HANG_OBSERVED_FOR,
        _ => RUN_TIME_LIMIT,
    };
    let status = support::wait_at_most(&mut child, limit);
    // On a loaded machine a thread may still be on its way to the deadlock: look again for a
    // while. A busy thread never blocks, so waiting longer cannot turn a busy loop into a
    // hang.
    let still_running_and_blocked = status.is_none()
        && (0..HANG_SETTLE_CHECKS).any(|_| {
            let blocked = support::all_threads_blocked(child.id());
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
    let panicked_on_marked_line =
        fixture.marker_lines.iter().any(|line| {
            stderr.contains(&format!("panicked at {}:{line}:", fixture.path.display()))
        }) || LIBRARY_PANICS.iter().any(|(rule, message)| {
            *rule == fixture.rule_folder
                && !fixture.marker_lines.is_empty()
                && stderr.contains(message)
        });
    let kept_claim = match (fixture.run, status) {
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
        None if fixture.run == RunClaim::Hang => {
            format!(
                "was still running after {} s, but some thread was busy, not blocked",
                limit.as_secs()
            )
        }
        None => format!("was still running after {} s (killed)", limit.as_secs()),
        Some(status) => support::describe(status),
    };
    let mut message = format!(
        "{} (`run: {}`, edition {}): {did}",
        fixture.display_path,
        fixture.run.as_str(),
        fixture.edition.year()
    );
    if fixture.run == RunClaim::Abort && !stderr.contains(ABORT_MESSAGE) {
        write!(message, "; stderr lacks `{ABORT_MESSAGE}`").unwrap();
    }
    if matches!(fixture.run, RunClaim::Abort | RunClaim::Panic) && !panicked_on_marked_line {
        write!(
            message,
            "; no panic on a `//~` marked line {:?}",
            fixture.marker_lines
        )
        .unwrap();
    }
    if fixture.run == RunClaim::SkipsCleanup && printed_cleanup {
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
