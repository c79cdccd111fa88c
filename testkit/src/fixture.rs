//! Fixtures as the tests read them: where the fixtures are, and how their headers and markers are
//! written. A fixture is `fixtures/<rule>/<case>.rs` or `.go`. Before its first line of code it
//! may carry `//@ key` or `//@ key: value` headers; a line that a rule must report ends with
//! `//~ rule-name` (`//~^ rule-name` for the line above, one `^` per line). A file that must
//! stay clean says `//@ check-pass` and has no markers.

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

/// The `fixtures/` folder, canonical.
pub fn fixtures_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    fs::canonicalize(&root)
        .unwrap_or_else(|error| panic!("cannot open {}: {error}", root.display()))
}

/// Every fixture with one of the extensions, sorted. Panics when there is none.
pub fn fixture_paths(extensions: &[&str]) -> Vec<PathBuf> {
    let root = fixtures_root();
    let mut paths = Vec::new();
    collect(&root, extensions, &mut paths);
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no {extensions:?} fixtures under {}",
        root.display()
    );
    paths
}

fn collect(folder: &Path, extensions: &[&str], paths: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(folder)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", folder.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, extensions, paths);
        } else if path
            .extension()
            .and_then(|extension| extension.to_str())
            .is_some_and(|extension| extensions.contains(&extension))
        {
            paths.push(path);
        }
    }
}

/// One `//@` header.
#[derive(Clone, Debug)]
pub struct Header {
    /// 1-based.
    pub line: usize,
    pub key: String,
    pub value: Option<String>,
}

/// One `//~` marker.
#[derive(Clone, Debug)]
pub struct Marker {
    /// The line it points at, 1-based.
    pub target: usize,
    pub rule: String,
}

/// A fixture's text with its headers and markers, and what is wrong with how they are written.
#[derive(Clone, Debug)]
pub struct FixtureText {
    pub path: PathBuf,
    /// `<rule>/<case>.<ext>`, below `fixtures/`.
    pub display_path: String,
    /// The folder, which names the rule the fixture is about.
    pub rule_folder: String,
    pub text: String,
    pub headers: Vec<Header>,
    pub markers: Vec<Marker>,
    pub check_pass: bool,
    /// Malformed headers and markers, and a check-pass/marker mismatch, as messages that start
    /// with the fixture's path.
    pub errors: Vec<String>,
}

impl FixtureText {
    /// The value of a header, if the fixture has it.
    pub fn header(&self, key: &str) -> Option<&Header> {
        self.headers.iter().find(|header| header.key == key)
    }
}

/// Reads a fixture. Headers after the first line of code, repeated headers, markers that point
/// above the first line, and a fixture that is both clean and marked (or neither) are errors.
pub fn read_fixture(path: &Path) -> FixtureText {
    let root = fixtures_root();
    let display_path = path
        .strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string();
    let rule_folder = Path::new(&display_path)
        .parent()
        .and_then(|parent| parent.to_str())
        .unwrap_or("")
        .to_owned();
    let text = fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    parse_fixture_text(path, display_path, rule_folder, text)
}

/// Reads a fixture's headers and markers from its text: [`read_fixture`] for a file under
/// `fixtures/`, or a rewritten variant of one, which keeps its headers and markers.
pub fn parse_fixture_text(
    path: &Path,
    display_path: String,
    rule_folder: String,
    text: String,
) -> FixtureText {
    let mut fixture = parse_module_text(path, display_path, rule_folder, text);
    let errors = expectation_errors(&fixture.display_path, fixture.check_pass, &fixture.markers);
    fixture.errors.extend(errors);
    fixture
}

/// Reads one file of a program of several files (a variant whose items moved into a module
/// file): its headers and markers, without asking that the file alone be marked or clean,
/// since its markers may all be in another file. [`expectation_errors`] asks it of the whole.
pub fn parse_module_text(
    path: &Path,
    display_path: String,
    rule_folder: String,
    text: String,
) -> FixtureText {
    let mut headers: Vec<Header> = Vec::new();
    let mut markers = Vec::new();
    let mut errors = Vec::new();
    let mut in_header = true;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim();
        if let Some(directive) = trimmed.strip_prefix("//@") {
            let directive = directive.trim();
            let (key, value) = match directive.split_once(':') {
                Some((key, value)) => (key.trim(), Some(value.trim().to_owned())),
                None => (directive, None),
            };
            if !in_header {
                errors.push(format!(
                    "{display_path}:{number}: `//@` header after the first line of code"
                ));
            } else if headers.iter().any(|header| header.key == key) {
                errors.push(format!(
                    "{display_path}:{number}: repeated header `//@ {directive}`"
                ));
            } else {
                headers.push(Header {
                    line: number,
                    key: key.to_owned(),
                    value,
                });
            }
            continue;
        }
        if !trimmed.is_empty() && !trimmed.starts_with("//") {
            in_header = false;
        }
        // A line may carry several markers: a variant puts a `//~^` marker on the line it
        // points at, which may have a marker of its own.
        for marker in line.split("//~").skip(1) {
            let carets = marker.len() - marker.trim_start_matches('^').len();
            let rule = marker[carets..]
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_owned();
            match number.checked_sub(carets) {
                Some(target) if target > 0 => markers.push(Marker { target, rule }),
                _ => errors.push(format!(
                    "{display_path}:{number}: marker `//~{}` points above the first line",
                    marker.trim_end()
                )),
            }
        }
    }
    let check_pass = match headers.iter().find(|header| header.key == "check-pass") {
        Some(header) if header.value.is_some() => {
            errors.push(format!(
                "{display_path}:{}: `//@ check-pass` takes no value",
                header.line
            ));
            true
        }
        Some(_) => true,
        None => false,
    };
    FixtureText {
        path: path.to_owned(),
        display_path,
        rule_folder,
        text,
        headers,
        markers,
        check_pass,
        errors,
    }
}

/// What is wrong with a program's expectation: `//@ check-pass` and `//~` markers together, or
/// neither. For a program of several files, `markers` are those of every file.
pub fn expectation_errors(display_path: &str, check_pass: bool, markers: &[Marker]) -> Vec<String> {
    let mut errors = Vec::new();
    if check_pass && !markers.is_empty() {
        errors.push(format!(
            "{display_path}: `//@ check-pass` fixture carries `//~` markers"
        ));
    }
    if !check_pass && markers.is_empty() {
        errors.push(format!(
            "{display_path}: neither `//@ check-pass` nor a `//~` marker: say what the fixture expects"
        ));
    }
    errors
}

/// What a fixture's `//@ run:` claim must agree with, for the hazard-proof tests: a clean
/// fixture runs clean (`ok`), a bad one shows a hazard, and a bad fixture of a rule shows that
/// rule's hazard. `claim` is the claim's word (`ok` when the header is absent); `rule_hazards`
/// the words the fixture's folder allows of bad fixtures (empty: any hazard); `hazards` the
/// words a bad fixture may claim, for the message.
pub fn claim_errors(
    fixture: &FixtureText,
    claim: &str,
    rule_hazards: &[&str],
    hazards: &str,
) -> Vec<String> {
    let display_path = &fixture.display_path;
    let mut errors = Vec::new();
    if fixture.check_pass && claim != "ok" {
        errors.push(format!(
            "{display_path}: `//@ check-pass` fixture claims `run: {claim}` (a clean program must run to a clean exit)"
        ));
    }
    if !fixture.markers.is_empty() && claim == "ok" {
        errors.push(format!(
            "{display_path}: bad fixture claims `run: ok`: its program must show the hazard ({hazards})"
        ));
    }
    let own_rule_marked = fixture
        .markers
        .iter()
        .any(|marker| marker.rule == fixture.rule_folder);
    if own_rule_marked && !rule_hazards.is_empty() && !rule_hazards.contains(&claim) {
        errors.push(format!(
            "{display_path}: a bad `{}` fixture must claim `run: {}`, not `run: {claim}`",
            fixture.rule_folder,
            rule_hazards.join("` or `run: ")
        ));
    }
    errors
}

/// Polls the child until it exits or `limit` passes; `None` when it is still running.
pub fn wait_at_most(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if started.elapsed() >= limit {
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Whether every thread of the process is asleep (Linux `/proc` state `S` or `D`): a deadlock,
/// not a busy loop. Where `/proc` cannot be read, it says yes.
pub fn all_threads_blocked(pid: u32) -> bool {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return true;
    };
    tasks.filter_map(Result::ok).all(|task| {
        let Ok(stat) = fs::read_to_string(task.path().join("stat")) else {
            return true;
        };
        // The state follows the command name, which is in parentheses and may hold spaces.
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next());
        matches!(state, Some("S" | "D") | None)
    })
}

/// How a process ended, for messages.
pub fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(signal)) => format!("was killed by signal {signal}{}", signal_name(signal)),
        (None, None) => format!("ended with {status}"),
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        6 => " (SIGABRT)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        4 => " (SIGILL)",
        7 => " (SIGBUS)",
        _ => "",
    }
}
