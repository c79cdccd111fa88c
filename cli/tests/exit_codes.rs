//! Exit codes and messages of both binaries: usage errors exit with 2 and a message, findings
//! at error severity with 1, anything else with 0.

mod support;

use deferlint_rules::RULES;
use support::{BROKEN_GO, LATIN1_RUST, TempTree, assert_usage_error, cargo_deferlint, deferlint};

#[test]
fn a_missing_path_exits_with_2() {
    let tree = TempTree::new(&[]);
    let run = deferlint(tree.root(), &["no-such-folder"]);
    assert_usage_error(&run, "`no-such-folder` does not exist");
    assert!(run.stdout.is_empty(), "{run:#?}");
}

#[test]
fn a_file_that_is_neither_rust_nor_go_exits_with_2() {
    let tree = TempTree::new(&[("notes.txt", b"")]);
    assert_usage_error(
        &deferlint(tree.root(), &["notes.txt"]),
        "is not a Rust (`.rs`) or Go (`.go`) file",
    );
}

#[test]
fn cargo_deferlint_outside_a_cargo_project_exits_with_2() {
    let tree = TempTree::new(&[("main.rs", b"fn main() {}\n")]);
    let run = cargo_deferlint(tree.root(), &[]);
    assert_usage_error(&run, "`cargo metadata` failed: could not find `Cargo.toml`");
    assert!(
        run.stderr
            .contains("help: run `cargo deferlint` inside a cargo workspace"),
        "{run:#?}"
    );
}

#[test]
fn cargo_deferlint_takes_no_paths() {
    let tree = TempTree::new(&[]);
    let run = cargo_deferlint(tree.root(), &["src"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("unexpected argument 'src'"), "{run:#?}");
}

#[test]
fn an_unknown_rule_exits_with_2_and_lists_the_valid_names() {
    let tree = TempTree::new(&[("a.rs", b"")]);
    for flag in ["-D", "-W", "-A", "--deny"] {
        let run = deferlint(tree.root(), &[flag, "no-such-rule", "."]);
        assert_usage_error(&run, "unknown rule `no-such-rule`");
        for rule in RULES {
            assert!(run.stderr.contains(rule.meta.name), "{flag}: {run:#?}");
        }
        assert!(run.stderr.contains("parse-error"), "{run:#?}");
    }
    assert_usage_error(
        &cargo_deferlint(tree.root(), &["-D", "no-such-rule"]),
        "unknown rule `no-such-rule`",
    );
}

#[test]
fn bad_option_values_exit_with_2() {
    let tree = TempTree::new(&[("a.rs", b"")]);
    for args in [
        &["--message-format", "xml"][..],
        &["--message-format", "human,json"],
        &["--color", "sometimes"],
        &["--edition", "2020"],
        &["-j", "0"],
        &["--no-such-flag"],
    ] {
        let run = deferlint(tree.root(), args);
        assert_eq!(run.code, 2, "{args:?}: {run:#?}");
        assert!(run.stderr.starts_with("error: "), "{args:?}: {run:#?}");
    }
    let run = support::deferlint_with_env(tree.root(), &[], &[("CARGO_TERM_COLOR", "rainbow")]);
    assert_usage_error(&run, "CARGO_TERM_COLOR is `rainbow`");
}

#[test]
fn help_and_version_succeed() {
    let tree = TempTree::new(&[]);
    let help = deferlint(tree.root(), &["--help"]);
    assert_eq!(help.code, 0, "{help:#?}");
    assert!(
        help.stdout.contains("Usage: deferlint [OPTIONS] [PATH]..."),
        "{help:#?}"
    );
    let cargo_help = cargo_deferlint(tree.root(), &["--help"]);
    assert_eq!(cargo_help.code, 0, "{cargo_help:#?}");
    assert!(
        cargo_help
            .stdout
            .contains("Usage: cargo deferlint [OPTIONS]"),
        "{cargo_help:#?}"
    );
    let version = deferlint(tree.root(), &["--version"]);
    assert_eq!(
        version.stdout,
        format!("deferlint {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn warnings_exit_with_0_and_errors_with_1() {
    let tree = TempTree::new(&[("bad.rs", LATIN1_RUST), ("broken.go", BROKEN_GO)]);
    let warned = deferlint(tree.root(), &[]);
    assert_eq!(warned.code, 0, "{warned:#?}");
    assert!(
        warned
            .stderr
            .contains("warning[parse-error]: the file is not valid UTF-8"),
        "{warned:#?}"
    );
    assert!(
        warned
            .stderr
            .contains("deferlint: 0 errors, 2 warnings in 1 file, 1 file not checked ("),
        "{warned:#?}"
    );
    // `-D warnings` gates on hazards, not on where the parser gave up: parse errors stay
    // warnings unless named.
    let gated = deferlint(tree.root(), &["-D", "warnings"]);
    assert_eq!(gated.code, 0, "{gated:#?}");
    assert!(
        gated
            .stderr
            .contains("warning[parse-error]: the file is not valid UTF-8"),
        "{gated:#?}"
    );
    for args in [
        &["-D", "parse-error"][..],
        &["-D", "warnings", "-D", "parse-error"],
        &["-Dparse-error", "-W", "parse-error", "-D", "parse-error"],
    ] {
        let denied = deferlint(tree.root(), args);
        assert_eq!(denied.code, 1, "{args:?}: {denied:#?}");
        assert!(
            denied
                .stderr
                .contains("error[parse-error]: the file is not valid UTF-8"),
            "{denied:#?}"
        );
        assert!(
            denied
                .stderr
                .contains("deferlint: 2 errors, 0 warnings in 1 file, 1 file not checked ("),
            "{denied:#?}"
        );
    }
    let allowed = deferlint(tree.root(), &["-D", "parse-error", "-A", "parse-error"]);
    assert_eq!(allowed.code, 0, "{allowed:#?}");
    assert!(
        allowed
            .stderr
            .starts_with("deferlint: no findings in 1 file, 1 file not checked ("),
        "{allowed:#?}"
    );
}

#[test]
fn quiet_prints_findings_only() {
    let tree = TempTree::new(&[("bad.rs", LATIN1_RUST), ("Cargo.toml", b"[package")]);
    let loud = deferlint(tree.root(), &[]);
    assert!(
        loud.stderr.contains("warning: could not read `Cargo.toml`"),
        "{loud:#?}"
    );
    assert!(
        loud.stderr
            .contains("deferlint: 0 errors, 1 warning in 0 files, 1 file not checked ("),
        "{loud:#?}"
    );
    let quiet = deferlint(tree.root(), &["--quiet"]);
    assert_eq!(quiet.code, 0, "{quiet:#?}");
    assert!(
        quiet
            .stderr
            .starts_with("warning[parse-error]: the file is not valid UTF-8\n"),
        "{quiet:#?}"
    );
    assert!(!quiet.stderr.contains("deferlint:"), "{quiet:#?}");
    assert!(!quiet.stderr.contains("Cargo.toml"), "{quiet:#?}");
}

/// A Go test file named on the command line is checked, although test code is left out of a
/// folder's run unless `--tests` asks for it.
#[test]
fn a_go_test_file_named_on_the_command_line_is_checked() {
    let racy_test = b"package store\n\nimport (\n\t\"sync\"\n\t\"testing\"\n)\n\nfunc TestFill(t *testing.T) {\n\tm := map[int]int{}\n\tvar wg sync.WaitGroup\n\tfor i := 0; i < 4; i++ {\n\t\twg.Add(1)\n\t\tgo func(i int) {\n\t\t\tdefer wg.Done()\n\t\t\tm[i] = i\n\t\t}(i)\n\t}\n\twg.Wait()\n}\n";
    let tree = TempTree::new(&[("store/fill_test.go", racy_test)]);
    let named = deferlint(tree.root(), &["store/fill_test.go"]);
    assert_eq!(named.code, 1, "{named:#?}");
    assert!(named.stderr.contains("shared-map-write"), "{named:#?}");
    // In a folder, test code is left out without `--tests`: nothing was checked, which fails.
    let folder = deferlint(tree.root(), &["store"]);
    assert_eq!(folder.code, 2, "{folder:#?}");
    assert!(
        folder
            .stderr
            .ends_with("error: no Rust or Go file was checked in the paths given\n"),
        "{folder:#?}"
    );
    let with_tests = deferlint(tree.root(), &["--tests", "store"]);
    assert_eq!(with_tests.code, 1, "{with_tests:#?}");
}

/// A file the default Go build leaves out (`//go:build dev`, `_windows.go`) is not part of a
/// package the default build compiles: the second dispatcher a development build starts does
/// not share the notifier's map in the default build, where the file's `!dev` counterpart
/// starts none.
#[test]
fn go_files_outside_the_default_build_are_left_out_of_their_package() {
    let notifier = b"package main\n\ntype Notifier struct {\n\tclients map[int]bool\n\treg     chan int\n}\n\nfunc (n *Notifier) dispatch() {\n\tfor id := range n.reg {\n\t\tn.clients[id] = true\n\t}\n}\n\nfunc main() {\n\tn := &Notifier{clients: map[int]bool{}, reg: make(chan int)}\n\tgo n.dispatch()\n\textraDispatchers(n)\n\tn.reg <- 1\n}\n";
    let extra = |constraint: &str, body: &str| {
        format!("{constraint}package main\n\nfunc extraDispatchers(n *Notifier) {{ {body} }}\n")
    };
    for (dev_name, dev_constraint, plain_name, plain_constraint, expected) in [
        (
            "dev.go",
            "//go:build dev\n\n",
            "nodev.go",
            "//go:build !dev\n\n",
            0,
        ),
        (
            "dev.go",
            "// +build dev\n\n",
            "nodev.go",
            "// +build !dev\n\n",
            0,
        ),
        ("dev_windows.go", "", "nodev_linux.go", "", 0),
        (
            "dev.go",
            "//go:build !dev\n\n",
            "nodev.go",
            "//go:build dev\n\n",
            1,
        ),
        ("dev_linux.go", "", "nodev_windows.go", "", 1),
    ] {
        let dev = extra(dev_constraint, "go n.dispatch()");
        let plain = extra(plain_constraint, "");
        let tree = TempTree::new(&[
            ("notify/notifier.go", notifier),
            (&format!("notify/{dev_name}"), dev.as_bytes()),
            (&format!("notify/{plain_name}"), plain.as_bytes()),
        ]);
        let run = deferlint(tree.root(), &["notify"]);
        assert_eq!(
            run.code, expected,
            "{dev_name} {dev_constraint:?}: {run:#?}"
        );
    }
    // A package all of whose files the default build leaves out (a `//go:build tools` script
    // run with `go run`) is a program of its own: it is checked whole.
    let script = format!("//go:build tools\n\n{}", String::from_utf8_lossy(notifier))
        .replace("extraDispatchers(n)", "go n.dispatch()");
    let tree = TempTree::new(&[("build/build.go", script.as_bytes())]);
    let run = deferlint(tree.root(), &["build"]);
    assert_eq!(run.code, 1, "{run:#?}");
}

/// What callers outside hand an exported API is one abstract object per type; a lock in the
/// type says its values are shared, and so are the maps in its fields. Deep below it (a map
/// in a message taken from a free list of the server's router) the abstract object stands for
/// every value ever stored there: the goroutines per request are not taken to share it, while
/// a map field of the server itself still is.
#[test]
fn maps_deep_below_an_exported_receiver_are_not_taken_as_shared() {
    let server = |write: &str| {
        format!(
            "package rpc\n\nimport \"sync\"\n\ntype message struct{{ Header map[string]string }}\n\ntype response struct {{\n\tnext *response\n\tmsg  message\n}}\n\ntype router struct {{\n\tmu   sync.Mutex\n\tfree *response\n}}\n\nfunc (r *router) get() *response {{\n\tr.mu.Lock()\n\tdefer r.mu.Unlock()\n\tresp := r.free\n\tif resp == nil {{\n\t\treturn &response{{}}\n\t}}\n\tr.free = resp.next\n\treturn resp\n}}\n\nfunc (r *router) put(resp *response) {{\n\tr.mu.Lock()\n\tresp.next = r.free\n\tr.free = resp\n\tr.mu.Unlock()\n}}\n\ntype Server struct {{\n\tmu     sync.Mutex\n\tseen   map[string]int\n\trouter *router\n}}\n\ntype Request struct{{ Header map[string]string }}\n\nfunc (s *Server) ServeConn(reqs <-chan *Request) {{\n\tfor req := range reqs {{\n\t\tgo s.serve(req)\n\t}}\n}}\n\nfunc (s *Server) serve(req *Request) {{\n\tresp := s.router.get()\n\tresp.msg.Header = req.Header\n\t{write}\n\ts.router.put(resp)\n}}\n"
        )
    };
    for (write, expected) in [
        ("resp.msg.Header[\"status\"] = \"ok\"", 0),
        ("s.seen[req.Header[\"id\"]]++", 1),
    ] {
        let text = server(write);
        let tree = TempTree::new(&[("rpc/server.go", text.as_bytes())]);
        let run = deferlint(tree.root(), &["rpc"]);
        assert_eq!(run.code, expected, "{write}: {run:#?}");
    }
}

/// A library's public API hands out a guard whose `Drop` uses `LocalKey::with` on a
/// thread-local map: the crates that use it decide where it dies, and one that keeps it in its
/// own thread-local makes it die while the thread's locals are destroyed. The same module in a
/// binary, where no thread-local keeps the guard, and the library with `try_with`, stay silent.
#[test]
fn guard_a_library_hands_out_may_die_in_a_callers_thread_local() {
    let module = |access: &str| {
        format!(
            "use std::cell::RefCell;\nuse std::collections::HashMap;\n\nthread_local! {{\n    static OPEN: RefCell<HashMap<u64, String>> = RefCell::new(HashMap::new());\n}}\n\npub struct Span {{\n    id: u64,\n}}\n\npub fn open(id: u64, name: &str) -> Span {{\n    OPEN.with(|open| open.borrow_mut().insert(id, name.to_string()));\n    Span {{ id }}\n}}\n\nimpl Drop for Span {{\n    fn drop(&mut self) {{\n        let _ = OPEN.{access}(|open| open.borrow_mut().remove(&self.id));\n    }}\n}}\n"
        )
    };
    let manifest = b"[package]\nname = \"spans\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";
    for (file, access, reported) in [
        ("src/lib.rs", "with", true),
        ("src/lib.rs", "try_with", false),
        ("src/main.rs", "with", false),
    ] {
        let mut text = module(access);
        if file.ends_with("main.rs") {
            text.push_str("\nfn main() {\n    let _span = open(1, \"main\");\n}\n");
        }
        let tree = TempTree::new(&[("Cargo.toml", manifest), (file, text.as_bytes())]);
        let run = deferlint(tree.root(), &["-D", "warnings", "."]);
        assert_eq!(
            run.stderr.contains("tls-map-access-in-defer"),
            reported,
            "{file} {access}: {run:#?}"
        );
        assert_eq!(run.code, i32::from(reported), "{file} {access}: {run:#?}");
    }
}

/// Edition 2015 code that rustc accepts parses: trait methods with anonymous parameters, a
/// closure trait object without `dyn`, `async` as a name. The rewrite that makes syn read it
/// leaves every reported place where it is in the file.
#[test]
fn edition_2015_syntax_parses_and_findings_keep_their_place() {
    let program = support::fixture_without_markers(
        "poisoned-lock-unwrap-in-defer/drop_unwraps_lock_shared_with_spawned_thread.rs",
    );
    let prefix = "let _f: Option<Box<Fn(u8) -> u8 + Send>> = None; ";
    let legacy = program.replacen(
        "        self.registry.lock()",
        &format!("        {prefix}self.registry.lock()"),
        1,
    );
    let legacy = format!(
        "trait Visitor {{ fn visit(&mut self, u8, &str) -> bool; }}\nfn old(async: u8) -> u8 {{ async }}\n{legacy}"
    );
    let tree = TempTree::new(&[
        (
            "Cargo.toml",
            b"[package]\nname = \"legacy\"\nversion = \"0.1.0\"\n".as_slice(),
        ),
        ("src/main.rs", legacy.as_bytes()),
        ("modern/main.rs", program.as_bytes()),
    ]);
    let run = deferlint(tree.root(), &["--message-format", "short", "."]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(!run.stderr.contains("parse-error"), "{run:#?}");
    let modern = deferlint(tree.root(), &["--message-format", "short", "modern"]);
    let place = |stderr: &str, file: &str| -> (usize, usize) {
        let line = stderr
            .lines()
            .find(|line| line.starts_with(file) && line.contains("poisoned-lock-unwrap-in-defer"))
            .unwrap_or_else(|| panic!("no finding in {stderr}"));
        let parts: Vec<&str> = line.split(':').collect();
        (parts[1].parse().unwrap(), parts[2].parse().unwrap())
    };
    let (line, column) = place(&modern.stderr, "modern/main.rs:");
    assert_eq!(
        place(&run.stderr, "src/main.rs:"),
        (line + 2, column + prefix.len()),
        "{run:#?}"
    );
    // The same code as edition 2021 is not what rustc accepts: parse errors.
    let run = deferlint(
        tree.root(),
        &[
            "--message-format",
            "short",
            "--edition",
            "2021",
            "src/main.rs",
        ],
    );
    assert!(run.stderr.contains("parse-error"), "{run:#?}");
}
