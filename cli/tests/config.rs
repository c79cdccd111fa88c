//! Configuration: `deferlint.toml`, `[workspace.metadata.deferlint]` and
//! `[package.metadata.deferlint]` set levels, exclusions and the names the engine learns; the
//! command line wins; a bad file is an error naming the file, the line and the choices.

mod support;

use std::path::PathBuf;

use support::{Run, TempTree, assert_usage_error, cargo_deferlint, deferlint};

/// A `Drop` that unwraps a std lock shared with a task started by `workers::submit`, a
/// function of a crate deferlint does not know: a `poisoned-lock-unwrap-in-defer` finding (a
/// warning) once the configuration says `submit` spawns.
const SUBMITTED_TASK: &str = "use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub struct Entry {
    table: Arc<Mutex<HashMap<u32, u32>>>,
    key: u32,
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.table.lock().unwrap().remove(&self.key);
    }
}

pub fn start(table: Arc<Mutex<HashMap<u32, u32>>>) {
    let shared = Arc::clone(&table);
    workers::submit(move || {
        let mut counts = shared.lock().unwrap();
        let count = counts[&1];
        counts.insert(1, count + 1);
    });
    let _entry = Entry { table, key: 1 };
}
";

/// The same hazard with `std::thread::spawn`: found without any configuration.
fn spawned_task() -> String {
    SUBMITTED_TASK.replace("workers::submit", "std::thread::spawn")
}

/// A fixture of the repository, as its test harness sees it.
fn fixture(rule: &str, name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "fixtures", rule, name]
        .iter()
        .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// `file:rule` of each finding of a `--message-format short` run.
fn rules_reported(run: &Run) -> Vec<String> {
    run.stderr
        .lines()
        .filter_map(|line| {
            let (location, rest) = line.split_once(": ")?;
            let rule = rest
                .strip_prefix("warning[")
                .or_else(|| rest.strip_prefix("error["))?;
            let rule = &rule[..rule.find(']')?];
            let file = location.split(':').next()?;
            Some(format!("{file}:{rule}"))
        })
        .collect()
}

fn short(tree: &TempTree, args: &[&str]) -> Run {
    let mut all = vec!["--message-format", "short"];
    all.extend_from_slice(args);
    deferlint(tree.root(), &all)
}

#[test]
fn deferlint_toml_sets_levels_and_the_command_line_wins() {
    let tree = TempTree::new(&[
        ("src/lib.rs", spawned_task().as_bytes()),
        (
            "deferlint.toml",
            b"[rules]\npoisoned-lock-unwrap-in-defer = \"deny\"\n",
        ),
    ]);
    let run = short(&tree, &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("error[poisoned-lock-unwrap-in-defer]"));
    let run = short(&tree, &["-W", "poisoned-lock-unwrap-in-defer"]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stderr
            .contains("warning[poisoned-lock-unwrap-in-defer]")
    );
    std::fs::write(
        tree.path("deferlint.toml"),
        "[rules]\npoisoned-lock-unwrap-in-defer = \"allow\"\n",
    )
    .unwrap();
    let run = short(&tree, &[]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(rules_reported(&run).is_empty(), "{run:#?}");
    let run = short(
        &tree,
        &["-D", "warnings", "-W", "poisoned-lock-unwrap-in-defer"],
    );
    assert_eq!(run.code, 1, "{run:#?}");
}

#[test]
fn deferlint_toml_is_found_above_the_checked_folder() {
    let tree = TempTree::new(&[
        ("project/src/lib.rs", spawned_task().as_bytes()),
        (
            "deferlint.toml",
            b"[rules]\npoisoned-lock-unwrap-in-defer = \"deny\"\n",
        ),
    ]);
    let run = deferlint(tree.root(), &["--message-format", "short", "project/src"]);
    assert_eq!(run.code, 1, "{run:#?}");
}

#[test]
fn spawn_functions_teach_the_engine_a_new_spawn() {
    let tree = TempTree::new(&[("src/lib.rs", SUBMITTED_TASK.as_bytes())]);
    let run = short(&tree, &[]);
    assert!(rules_reported(&run).is_empty(), "{run:#?}");
    std::fs::write(
        tree.path("deferlint.toml"),
        "spawn-functions = [\"workers::submit\"]\n",
    )
    .unwrap();
    let run = short(&tree, &[]);
    assert_eq!(
        rules_reported(&run),
        ["src/lib.rs:poisoned-lock-unwrap-in-defer"],
        "{run:#?}"
    );
    // A written path names the type when the entry does: `Pool::submit` is not `submit`.
    std::fs::write(
        tree.path("deferlint.toml"),
        "spawn-functions = [\"other::submit\"]\n",
    )
    .unwrap();
    assert!(rules_reported(&short(&tree, &[])).is_empty());
}

#[test]
fn defer_macros_guards_and_lock_types_teach_the_engine() {
    // A guard constructor, a macro and a lock type of crates deferlint does not know.
    let program = "use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use fastlock::Lock;

static REGISTRY: Lock<HashMap<u32, u32>> = Lock::new(HashMap::new());

pub struct Session {
    id: u32,
}

impl Drop for Session {
    fn drop(&mut self) {
        REGISTRY.lock().remove(&self.id);
    }
}

pub fn close(session: Session) {
    let mut sessions = REGISTRY.lock();
    sessions.insert(0, 0);
    drop(session);
}

pub fn with_guard(table: Arc<Mutex<HashMap<u32, u32>>>) {
    let guard = table.lock().unwrap();
    let _cleanup = on_drop::OnDrop::new(|| {
        table.lock().unwrap().remove(&1);
    });
    println!(\"{}\", guard.len());
}

pub fn with_macro(table: Arc<Mutex<HashMap<u32, u32>>>) {
    let _held = table.lock().unwrap();
    leave! {
        table.lock().unwrap().remove(&1);
    }
}
";
    let tree = TempTree::new(&[("src/lib.rs", program.as_bytes())]);
    assert!(rules_reported(&short(&tree, &[])).is_empty());
    std::fs::write(
        tree.path("deferlint.toml"),
        "mutex-types = [\"fastlock::Lock\"]\ndefer-guards = [\"OnDrop::new\"]\ndefer-macros = [\"leave!\"]\n",
    )
    .unwrap();
    let run = short(&tree, &[]);
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.contains("error[lock-reentered-in-defer]"))
        .map(|line| line.split(": ").next().unwrap())
        .collect();
    assert_eq!(
        lines,
        ["src/lib.rs:13:9", "src/lib.rs:26:9", "src/lib.rs:34:9"],
        "{run:#?}"
    );
}

#[test]
fn map_types_teach_the_engine_a_sharded_map() {
    let bad = fixture(
        "sharded-map-ref-held-at-defer",
        "defer_declared_after_get_removes_same_key.rs",
    );
    let renamed = bad
        .replace("use dashmap::DashMap;", "use shards::Shards;")
        .replace("DashMap", "Shards");
    let tree = TempTree::new(&[("src/main.rs", renamed.as_bytes())]);
    assert!(rules_reported(&short(&tree, &[])).is_empty());
    std::fs::write(
        tree.path("deferlint.toml"),
        "sharded-map-types = [\"shards::Shards\"]\n",
    )
    .unwrap();
    assert_eq!(
        rules_reported(&short(&tree, &[])),
        ["src/main.rs:sharded-map-ref-held-at-defer"]
    );
}

#[test]
fn map_types_teach_the_engine_a_plain_map() {
    let bad = fixture(
        "refcell-map-borrow-in-defer",
        "clear_drops_timers_that_unregister_themselves.rs",
    );
    let renamed = bad
        .replace("use std::collections::HashMap;", "use registry::Registry;")
        .replace("HashMap", "Registry");
    let tree = TempTree::new(&[("src/main.rs", renamed.as_bytes())]);
    assert!(rules_reported(&short(&tree, &[])).is_empty());
    std::fs::write(
        tree.path("deferlint.toml"),
        "map-types = [\"registry::Registry\"]\n",
    )
    .unwrap();
    assert_eq!(
        rules_reported(&short(&tree, &[])),
        ["src/main.rs:refcell-map-borrow-in-defer"]
    );
}

#[test]
fn excluded_paths_are_not_checked() {
    let tree = TempTree::new(&[
        ("src/lib.rs", b"mod generated;\npub fn f() {}\n"),
        ("src/generated/mod.rs", spawned_task().as_bytes()),
        ("deferlint.toml", b"exclude = [\"generated/\"]\n"),
    ]);
    let run = short(&tree, &[]);
    assert!(rules_reported(&run).is_empty(), "{run:#?}");
    assert!(run.stderr.contains("in 1 file"), "{run:#?}");
    std::fs::write(tree.path("deferlint.toml"), "exclude = [\"src/other\"]\n").unwrap();
    assert_eq!(
        rules_reported(&short(&tree, &[])),
        ["src/generated/mod.rs:poisoned-lock-unwrap-in-defer"]
    );
}

/// A workspace whose metadata denies the rule, with one member whose own metadata allows it.
fn workspace() -> TempTree {
    TempTree::new(&[
        (
            "Cargo.toml",
            b"[workspace]\nresolver = \"2\"\nmembers = [\"loud\", \"quiet\"]\n\n\
              [workspace.metadata.deferlint]\nrules = { poisoned-lock-unwrap-in-defer = \"deny\" }\n",
        ),
        (
            "loud/Cargo.toml",
            b"[package]\nname = \"loud\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("loud/src/lib.rs", spawned_task().as_bytes()),
        (
            "quiet/Cargo.toml",
            b"[package]\nname = \"quiet\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
              [package.metadata.deferlint.rules]\npoisoned-lock-unwrap-in-defer = \"allow\"\n",
        ),
        ("quiet/src/lib.rs", spawned_task().as_bytes()),
    ])
}

#[test]
fn cargo_metadata_tables_set_levels_per_workspace_and_package() {
    let tree = workspace();
    for run in [
        cargo_deferlint(tree.root(), &["--message-format", "short"]),
        deferlint(tree.root(), &["--message-format", "short"]),
    ] {
        assert_eq!(run.code, 1, "{run:#?}");
        assert_eq!(
            rules_reported(&run),
            ["loud/src/lib.rs:poisoned-lock-unwrap-in-defer"],
            "{run:#?}"
        );
        assert!(run.stderr.contains("error[poisoned-lock-unwrap-in-defer]"));
    }
    let run = cargo_deferlint(
        tree.root(),
        &[
            "--message-format",
            "short",
            "-W",
            "poisoned-lock-unwrap-in-defer",
        ],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(rules_reported(&run).len(), 2, "{run:#?}");
}

#[test]
fn lints_tables_are_not_read() {
    // `[lints.deferlint]` would break the user's `cargo build` (E0602); it is cargo's table.
    let tree = TempTree::new(&[
        (
            "Cargo.toml",
            b"[package]\nname = \"p\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
              [lints.deferlint]\npoisoned-lock-unwrap-in-defer = \"deny\"\n",
        ),
        ("src/lib.rs", spawned_task().as_bytes()),
    ]);
    let run = cargo_deferlint(tree.root(), &["--message-format", "short"]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stderr
            .contains("warning[poisoned-lock-unwrap-in-defer]")
    );
}

#[test]
fn bad_configuration_names_the_file_line_and_choices() {
    let cases: &[(&str, &str)] = &[
        (
            "exclude = []\nspawn-function = [\"x\"]\n",
            "deferlint.toml:2:1`: unknown field `spawn-function`, expected one of `rules`, `exclude`, `spawn-functions`",
        ),
        (
            "[rules]\nno-such-rule = \"deny\"\n",
            "deferlint.toml:2:1`: unknown rule `no-such-rule`; valid names are async-lock-in-defer",
        ),
        (
            "[rules]\nlock-reentered-in-defer = \"loud\"\n",
            "deferlint.toml:2:27`: `\"loud\"` is not a level for `lock-reentered-in-defer`; valid levels are \"allow\", \"warn\" and \"deny\"",
        ),
        ("exclude = [\n", "deferlint.toml:1:"),
        ("mutex-types = [\"a b\"]\n", "`a b` is not a Rust path"),
        ("exclude = [\"a[\"]\n", "`a[` is not a valid pattern"),
    ];
    for (text, message) in cases {
        let tree = TempTree::new(&[
            ("src/lib.rs", b"pub fn f() {}\n"),
            ("deferlint.toml", text.as_bytes()),
        ]);
        assert_usage_error(&deferlint(tree.root(), &[]), message);
    }
    let tree = TempTree::new(&[
        (
            "Cargo.toml",
            b"[package]\nname = \"p\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
              [package.metadata.deferlint]\nmutex-type = []\n",
        ),
        ("src/lib.rs", b"pub fn f() {}\n"),
    ]);
    assert_usage_error(
        &cargo_deferlint(tree.root(), &[]),
        "Cargo.toml:7:1`: unknown field `mutex-type`",
    );
}
