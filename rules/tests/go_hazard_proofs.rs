//! Proves that every Go fixture does, when it runs, what its `//@ run:` header claims: a bad
//! fixture's hazard is real (the race detector reports the marked write, the runtime panics on
//! the nil map or reports the deadlock, `os.Exit` skips the deferred cleanup) and a good
//! fixture's program runs to a clean exit without a race report. It also keeps the headers of
//! the Go fixtures well-formed.
//!
//! Each fixture is built on its own with `go build -race` into a folder under
//! `CARGO_TARGET_TMPDIR`, a few at a time; a binary is named after a hash of the fixture's text,
//! the Go version and the build flags, so an unchanged fixture is not built again. The
//! binaries then run a few at a time with a timeout.
//!
//! `deadlock` fixtures are built without `-race`: a `-race` binary of go1.19.8 was observed
//! to hang silently on these deadlocks, while without it the runtime reports `all goroutines
//! are asleep` with a stack that names the blocked `Lock` call.
//!
//! Without a `go` toolchain the test says so on stderr and passes, unless `CI` is set: there
//! a missing toolchain fails it.

use std::collections::{BTreeSet, VecDeque};
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use deferlint_testkit::fixture as support;

/// How long a `deadlock` fixture must stay blocked to count as deadlocked when the runtime
/// does not report it itself.
const HANG_OBSERVED_FOR: Duration = Duration::from_secs(3);
/// How long any other fixture may run before it counts as stuck.
const RUN_TIME_LIMIT: Duration = Duration::from_secs(20);
/// How often a `race` fixture may run before a clean exit counts as "no race": the detector
/// only sees accesses that really happened, so a run where a goroutine was too late is clean.
const RACE_ATTEMPTS: usize = 5;
/// `GORACE` for every run: stop at the first report, with an exit code of our own.
const GORACE: &str = "halt_on_error=1 exitcode=66";
/// The exit code that `GORACE` gives a binary whose race detector reported a race.
const RACE_DETECTED_EXIT_CODE: i32 = 66;
const RACE_REPORT: &str = "WARNING: DATA RACE";
/// What the Go runtime itself prints when it catches two goroutines inside one map
/// (`concurrent map writes`, `concurrent map read and map write`, ...).
const CONCURRENT_MAP_FATAL: &str = "fatal error: concurrent map";
const NIL_MAP_PANIC: &str = "assignment to entry in nil map";
const DEADLOCK_FATAL: &str = "fatal error: all goroutines are asleep - deadlock!";
/// The exit code a `contended` fixture uses when it saw a deferred call wait for a mutex that
/// another goroutine held.
const CONTENDED_EXIT_CODE: i32 = 68;
/// What every deferred cleanup in the `exit-skips-deferred-cleanup` fixtures prints.
const CLEANUP_LINE: &str = "deferred cleanup ran";
/// How many fixtures build at once, and how many run at once.
const BUILDERS: usize = 3;
const RUNNERS: usize = 3;
/// A registered rule that applies to Go code, which Go fixture markers may name.
fn is_go_rule(name: &str) -> bool {
    deferlint_rules::find_rule(name).is_some_and(|rule| {
        rule.meta
            .languages
            .contains(&deferlint_core::source::Language::Go)
    })
}
/// The hazard that a bad Go fixture of each rule proves when it runs.
const HAZARD_OF_RULE: &[(&str, RunClaim)] = &[
    ("contended-map-write-in-defer", RunClaim::Contended),
    ("exit-skips-deferred-cleanup", RunClaim::SkipsCleanup),
    ("lock-reentered-in-defer", RunClaim::Deadlock),
    ("nil-map-write", RunClaim::Panic),
    ("rlock-map-write", RunClaim::Race),
    ("shared-map-write", RunClaim::Race),
    ("unsync-map-write-in-defer", RunClaim::Race),
];

/// What a fixture's program does when it runs, from its `//@ run:` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunClaim {
    /// The race detector reports a race (exit [`RACE_DETECTED_EXIT_CODE`]) or the runtime
    /// dies of [`CONCURRENT_MAP_FATAL`], and the report names a marked line; within
    /// [`RACE_ATTEMPTS`] runs.
    Race,
    /// Exits non-zero after panicking with [`NIL_MAP_PANIC`] on a marked line.
    Panic,
    /// The runtime reports [`DEADLOCK_FATAL`] with a marked line in a stack, or the program is
    /// still running, every thread asleep, after [`HANG_OBSERVED_FOR`].
    Deadlock,
    /// Exits (with whatever status) without printing [`CLEANUP_LINE`] and without crashing.
    SkipsCleanup,
    /// Exits with [`CONTENDED_EXIT_CODE`], no race report: a deferred call found the mutex
    /// held by another goroutine and waited.
    Contended,
    /// Exits with status 0 and no race report.
    Ok,
}

impl RunClaim {
    fn parse(word: &str) -> Option<RunClaim> {
        match word {
            "race" => Some(RunClaim::Race),
            "panic" => Some(RunClaim::Panic),
            "deadlock" => Some(RunClaim::Deadlock),
            "skips-cleanup" => Some(RunClaim::SkipsCleanup),
            "contended" => Some(RunClaim::Contended),
            "ok" => Some(RunClaim::Ok),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            RunClaim::Race => "race",
            RunClaim::Panic => "panic",
            RunClaim::Deadlock => "deadlock",
            RunClaim::SkipsCleanup => "skips-cleanup",
            RunClaim::Contended => "contended",
            RunClaim::Ok => "ok",
        }
    }

    /// Whether the binary is built with the race detector (see the module docs).
    fn race_build(self) -> bool {
        self != RunClaim::Deadlock
    }
}

/// One Go fixture and what its headers and markers say.
#[derive(Debug)]
struct Fixture {
    path: PathBuf,
    /// The path below `fixtures/`, for messages.
    display_path: String,
    /// The folder, which names the fixture's rule.
    rule_folder: String,
    text: String,
    run: RunClaim,
    /// The lines that `//~` markers point at (1-based).
    marker_lines: Vec<usize>,
}

impl Fixture {
    /// A good fixture of `exit-skips-deferred-cleanup` must show its cleanup running.
    fn must_print_cleanup_line(&self) -> bool {
        self.run == RunClaim::Ok && self.rule_folder == "exit-skips-deferred-cleanup"
    }

    /// The lines of this fixture that Go's output (a race report or goroutine stacks) names
    /// as `path:line`.
    fn lines_named_in(&self, output: &str) -> BTreeSet<usize> {
        let location = format!("{}:", self.path.display());
        output
            .match_indices(&location)
            .filter_map(|(start, _)| {
                let rest = &output[start + location.len()..];
                let digits =
                    rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                rest[..digits].parse().ok()
            })
            .collect()
    }
}

/// A built fixture: the binary to run.
struct Built<'a> {
    fixture: &'a Fixture,
    binary: PathBuf,
}

#[test]
fn every_go_fixture_does_what_its_run_header_claims() {
    let paths = support::fixture_paths(&["go"]);
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
        "malformed Go fixture headers:\n{}",
        header_errors.join("\n")
    );

    let Some(go) = find_go() else {
        assert!(
            env::var_os("CI").is_none(),
            "go not found (not on PATH, nor /usr/lib/go/bin/go, nor /usr/local/go/bin/go), \
             and `CI` is set: the Go hazard proofs must run in CI"
        );
        // Straight to the process's stderr: the test harness captures `eprintln!` of a
        // passing test, and this message must be seen.
        let _ = writeln!(
            std::io::stderr().lock(),
            "\n\
             ************************************************************\n\
             go not found: the Go hazard proofs were NOT run\n\
             ({} Go fixtures unchecked; install Go, or set CI to fail)\n\
             ************************************************************\n",
            fixtures.len()
        );
        return;
    };

    let built = build_all(&go, &fixtures);
    let broken = run_all(&built);
    assert!(
        broken.is_empty(),
        "{} of {} Go fixtures did not do what their `//@ run:` header claims:\n\n{}",
        broken.len(),
        fixtures.len(),
        broken.join("\n\n")
    );
}

/// Reads a Go fixture's headers and markers, and checks that they agree with each other and
/// with the fixture's folder.
fn parse_fixture(path: &Path) -> Result<Fixture, Vec<String>> {
    let text = support::read_fixture(path);
    let display_path = text.display_path.clone();
    let mut errors = text.errors.clone();
    let mut run = Some(RunClaim::Ok);
    for header in &text.headers {
        let line = header.line;
        match (header.key.as_str(), header.value.as_deref()) {
            ("check-pass", _) => {}
            ("run", value) => {
                run = value.and_then(RunClaim::parse);
                if run.is_none() {
                    errors.push(format!(
                        "{display_path}:{line}: unknown `run:` value `{}` \
                         (race, panic, deadlock, skips-cleanup, contended or ok)",
                        value.unwrap_or("")
                    ));
                }
            }
            (key, _) => errors.push(format!("{display_path}:{line}: unknown header `//@ {key}`")),
        }
    }
    for marker in &text.markers {
        if !is_go_rule(&marker.rule) {
            errors.push(format!(
                "{display_path}:{}: marker `//~ {}` does not name a rule for Go",
                marker.target, marker.rule
            ));
        }
    }
    if !is_go_rule(&text.rule_folder) {
        errors.push(format!(
            "{display_path}: the folder `{}` names no rule for Go",
            text.rule_folder
        ));
    }
    // With an unknown claim, the claim checks would only repeat that it is unknown.
    let Some(run) = run else {
        return Err(errors);
    };
    let hazard = HAZARD_OF_RULE
        .iter()
        .find(|(rule, _)| *rule == text.rule_folder)
        .map(|(_, hazard)| hazard.as_str());
    errors.extend(support::claim_errors(
        &text,
        run.as_str(),
        hazard.as_slice(),
        "race, panic, deadlock, skips-cleanup or contended",
    ));
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Fixture {
        path: path.to_owned(),
        display_path,
        rule_folder: text.rule_folder.clone(),
        marker_lines: text.markers.iter().map(|marker| marker.target).collect(),
        text: text.text,
        run,
    })
}

/// `go` on `PATH`, or in one of the usual install folders.
fn find_go() -> Option<PathBuf> {
    let on_path = env::var_os("PATH")
        .map(|path| env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|folder| folder.join("go"));
    let usual = ["/usr/lib/go/bin/go", "/usr/local/go/bin/go"].map(PathBuf::from);
    on_path.chain(usual).find(|candidate| {
        fs::metadata(candidate)
            .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
    })
}

/// Builds every fixture that has no up-to-date binary yet, a few at a time, and removes the
/// binaries of fixtures that changed or went away. A fixture that does not compile fails the
/// test.
fn build_all<'a>(go: &Path, fixtures: &'a [Fixture]) -> Vec<Built<'a>> {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let bin_dir = tmp.join("go-hazard-proofs-bin");
    fs::create_dir_all(&bin_dir).unwrap();
    let version = Command::new(go)
        .arg("version")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", go.display()));
    assert!(
        version.status.success(),
        "`{} version` failed:\n{}",
        go.display(),
        String::from_utf8_lossy(&version.stderr)
    );
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();

    let built: Vec<Built<'a>> = fixtures
        .iter()
        .map(|fixture| {
            let mut hasher = DefaultHasher::new();
            (&fixture.text, &version, fixture.run.race_build()).hash(&mut hasher);
            let name = format!(
                "{}-{:016x}",
                fixture
                    .display_path
                    .trim_end_matches(".go")
                    .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_"),
                hasher.finish()
            );
            Built {
                fixture,
                binary: bin_dir.join(name),
            }
        })
        .collect();

    let wanted: BTreeSet<&Path> = built.iter().map(|built| built.binary.as_path()).collect();
    for entry in fs::read_dir(&bin_dir).unwrap() {
        let path = entry.unwrap().path();
        if !wanted.contains(path.as_path()) {
            // A stale binary or an interrupted build: it is rebuilt under its name if needed.
            let _ = fs::remove_file(&path);
        }
    }

    let queue = Mutex::new(
        built
            .iter()
            .filter(|built| !built.binary.is_file())
            .collect::<VecDeque<_>>(),
    );
    let failures = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..BUILDERS {
            scope.spawn(|| {
                loop {
                    let Some(built) = queue.lock().unwrap().pop_front() else {
                        break;
                    };
                    if let Err(message) = build(go, built, tmp) {
                        failures.lock().unwrap().push(message);
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} Go fixtures did not build:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    built
}

/// Builds one fixture into a temporary name and renames it into place, so that an
/// interrupted build never leaves a binary that a later run would take for up to date.
fn build(go: &Path, built: &Built<'_>, tmp: &Path) -> Result<(), String> {
    let partial = built.binary.with_extension("partial");
    let mut command = Command::new(go);
    command.arg("build");
    if built.fixture.run.race_build() {
        command.arg("-race").env("CGO_ENABLED", "1");
    }
    command
        .arg("-o")
        .arg(&partial)
        .arg(&built.fixture.path)
        // Outside any Go module, so that the fixture builds as a standalone program.
        .current_dir(tmp)
        .env_remove("GOFLAGS")
        .env("GOTOOLCHAIN", "local")
        .stdin(Stdio::null());
    if ["GOCACHE", "XDG_CACHE_HOME", "HOME"]
        .iter()
        .all(|variable| env::var_os(variable).is_none())
    {
        command.env("GOCACHE", tmp.join("go-build-cache"));
    }
    let output = command.output().map_err(|error| {
        format!(
            "{}: cannot run {}: {error}",
            built.fixture.display_path,
            go.display()
        )
    })?;
    if !output.status.success() {
        let _ = fs::remove_file(&partial);
        return Err(format!(
            "{}: `go build{}` failed:\n{}",
            built.fixture.display_path,
            if built.fixture.run.race_build() {
                " -race"
            } else {
                ""
            },
            String::from_utf8_lossy(&output.stderr).trim_end()
        ));
    }
    fs::rename(&partial, &built.binary).map_err(|error| {
        format!(
            "{}: cannot move its binary into place: {error}",
            built.fixture.display_path
        )
    })
}

/// Runs every fixture and returns one message per fixture that broke its claim.
fn run_all(built: &[Built<'_>]) -> Vec<String> {
    let log_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-hazard-proofs-logs");
    fs::create_dir_all(&log_dir).unwrap();
    let queue = Mutex::new(built.iter().collect::<VecDeque<_>>());
    let broken = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..RUNNERS {
            scope.spawn(|| {
                loop {
                    let Some(built) = queue.lock().unwrap().pop_front() else {
                        break;
                    };
                    if let Err(message) = prove(built, &log_dir) {
                        broken
                            .lock()
                            .unwrap()
                            .push((built.fixture.display_path.clone(), message));
                    }
                }
            });
        }
    });
    let mut broken = broken.into_inner().unwrap();
    broken.sort();
    broken.into_iter().map(|(_, message)| message).collect()
}

/// What one run of a fixture's binary did.
struct Outcome {
    /// `None` when it was still running at the time limit (and was killed).
    status: Option<ExitStatus>,
    /// Whether every thread was asleep when it was killed at the time limit.
    all_threads_blocked: bool,
    stdout: String,
    stderr: String,
}

/// Runs one fixture's binary (a `race` fixture up to [`RACE_ATTEMPTS`] times while it exits
/// cleanly) and checks what it did against its claim.
fn prove(built: &Built<'_>, log_dir: &Path) -> Result<(), String> {
    let fixture = built.fixture;
    let attempts = if fixture.run == RunClaim::Race {
        RACE_ATTEMPTS
    } else {
        1
    };
    let mut outcome = run_once(built, log_dir)?;
    let mut runs = 1;
    while runs < attempts && outcome.status.is_some_and(|status| status.success()) {
        outcome = run_once(built, log_dir)?;
        runs += 1;
    }
    let Outcome {
        status,
        all_threads_blocked,
        stdout,
        stderr,
    } = &outcome;
    let printed_cleanup = stdout.contains(CLEANUP_LINE);
    let crashed = stderr
        .lines()
        .any(|line| line.starts_with("panic: ") || line.starts_with("fatal error: "));
    let named_lines = fixture.lines_named_in(stderr);
    let names_marked_line = fixture
        .marker_lines
        .iter()
        .any(|line| named_lines.contains(line));

    let kept_claim = match (fixture.run, status) {
        (RunClaim::Race, Some(status)) => {
            let detected = (status.code() == Some(RACE_DETECTED_EXIT_CODE)
                && stderr.contains(RACE_REPORT))
                || stderr.contains(CONCURRENT_MAP_FATAL);
            detected && names_marked_line
        }
        (RunClaim::Panic, Some(status)) => {
            !status.success() && stderr.contains(NIL_MAP_PANIC) && names_marked_line
        }
        (RunClaim::Deadlock, Some(_)) => stderr.contains(DEADLOCK_FATAL) && names_marked_line,
        (RunClaim::Deadlock, None) => *all_threads_blocked,
        (RunClaim::SkipsCleanup, Some(_)) => !printed_cleanup && !crashed,
        (RunClaim::Contended, Some(status)) => {
            status.code() == Some(CONTENDED_EXIT_CODE) && !stderr.contains(RACE_REPORT)
        }
        (RunClaim::Ok, Some(status)) => {
            status.success()
                && !stderr.contains(RACE_REPORT)
                && (printed_cleanup || !fixture.must_print_cleanup_line())
        }
        _ => false,
    };
    if kept_claim {
        return Ok(());
    }

    let limit = match fixture.run {
        RunClaim::Deadlock => HANG_OBSERVED_FOR,
        _ => RUN_TIME_LIMIT,
    };
    let mut message = format!(
        "{} (`run: {}`): {}",
        fixture.display_path,
        fixture.run.as_str(),
        match status {
            None if fixture.run == RunClaim::Deadlock => format!(
                "was still running after {} s, but some thread was busy, not blocked",
                limit.as_secs()
            ),
            None => format!("was still running after {} s (killed)", limit.as_secs()),
            Some(status) => support::describe(*status),
        }
    );
    if runs > 1 {
        write!(message, " (on each of {runs} runs)").unwrap();
    }
    let expected_text = match fixture.run {
        RunClaim::Race => Some(RACE_REPORT),
        RunClaim::Panic => Some(NIL_MAP_PANIC),
        RunClaim::Deadlock if status.is_some() => Some(DEADLOCK_FATAL),
        _ => None,
    };
    if let Some(expected_text) = expected_text {
        if !stderr.contains(expected_text) {
            write!(message, "; stderr lacks `{expected_text}`").unwrap();
        } else if !names_marked_line {
            write!(
                message,
                "; its report names lines {named_lines:?} of the fixture, but no `//~` marked \
                 line {:?}",
                fixture.marker_lines
            )
            .unwrap();
        }
    }
    if fixture.run == RunClaim::SkipsCleanup && printed_cleanup {
        write!(message, "; stdout has `{CLEANUP_LINE}`: the cleanup ran").unwrap();
    }
    if fixture.run == RunClaim::SkipsCleanup && crashed {
        message.push_str("; it crashed instead of exiting");
    }
    if fixture.must_print_cleanup_line() && !printed_cleanup {
        write!(message, "; stdout lacks `{CLEANUP_LINE}`").unwrap();
    }
    if fixture.run == RunClaim::Ok && stderr.contains(RACE_REPORT) {
        message.push_str("; the race detector reported a race");
    }
    let tail: Vec<&str> = stderr.lines().rev().take(10).collect();
    if !tail.is_empty() {
        message.push_str("\n    stderr (last lines):");
        for line in tail.into_iter().rev() {
            write!(message, "\n    | {line}").unwrap();
        }
    }
    Err(message)
}

fn run_once(built: &Built<'_>, log_dir: &Path) -> Result<Outcome, String> {
    let fixture = built.fixture;
    let stem = built.binary.file_name().unwrap().to_string_lossy();
    let stdout_path = log_dir.join(format!("{stem}.stdout"));
    let stderr_path = log_dir.join(format!("{stem}.stderr"));
    let mut child = Command::new(&built.binary)
        .env("GORACE", GORACE)
        // Every goroutine's stack in a crash, so that the marked line shows up in it.
        .env("GOTRACEBACK", "all")
        .env_remove("GODEBUG")
        .env_remove("GOMAXPROCS")
        .stdin(Stdio::null())
        .stdout(fs::File::create(&stdout_path).unwrap())
        .stderr(fs::File::create(&stderr_path).unwrap())
        .spawn()
        .map_err(|error| format!("{}: cannot start its binary: {error}", fixture.display_path))?;
    let limit = match fixture.run {
        RunClaim::Deadlock => HANG_OBSERVED_FOR,
        _ => RUN_TIME_LIMIT,
    };
    let status = support::wait_at_most(&mut child, limit);
    let all_threads_blocked = status.is_none() && support::all_threads_blocked(child.id());
    if status.is_none() {
        // The process may have ended between the last poll and now: ignore the error.
        let _ = child.kill();
        let _ = child.wait();
    }
    Ok(Outcome {
        status,
        all_threads_blocked,
        stdout: fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr: fs::read_to_string(&stderr_path).unwrap_or_default(),
    })
}
