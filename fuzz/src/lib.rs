//! What the fuzz targets run, so that each target is one line: inputs go through the same
//! entry points as the `deferlint` binary's, on threads with the stack the driver gives its
//! own ([`deferlint_core::driver::WORKER_STACK_SIZE`]).

use std::path::PathBuf;
use std::sync::OnceLock;

use deferlint_core::driver::{self, CrateInput, Edition, Finding, TargetKind, TargetRoot};
use deferlint_core::frontend;
use deferlint_core::model::extensions::Extensions;
use deferlint_core::model::facts::FileFacts;
use deferlint_core::render::{github, human, json, sarif, short};
use deferlint_core::source::{FileId, Language, SourceMap};
use deferlint_rules::RuleSet;

/// Lowers `data` with the Rust frontend, in the editions whose drop orders differ.
pub fn rust_frontend(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    on_a_large_stack(|| {
        // Doc comments are blanked before parsing: that may make a file parse that did not
        // (a doc comment where none is allowed), never the other way round.
        if frontend::rust::parse_only(text) {
            assert!(frontend::rust::parse_as_analysed(text));
        }
        for edition in [Edition::E2021, Edition::E2024] {
            let facts =
                frontend::rust::lower_file(FileId(1), text, edition, &Extensions::default(), None);
            facts_round_trip(&facts);
        }
    });
}

/// Facts written for `--cache-dir` read back as they were (facts too deeply nested for the
/// reader are not written at all).
fn facts_round_trip(facts: &FileFacts) {
    let Some(written) = facts.to_json(FileId(1)) else {
        return;
    };
    let read = FileFacts::from_json(FileId(1), &written).expect("written facts read back");
    assert_eq!(format!("{read:?}"), format!("{facts:?}"));
}

/// Lowers `data` with the Go frontend, as a package file and as a `_test.go` file.
pub fn go_frontend(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    on_a_large_stack(|| {
        for is_test_file in [false, true] {
            facts_round_trip(&frontend::go::lower_file(FileId(1), text, is_test_file));
        }
    });
}

/// Runs the whole pipeline, every rule at least at warn, on one file held in memory: a Rust
/// file when the first byte is even, a Go file when it is odd (the rest is the file). Every
/// renderer renders the findings, and each line of the JSON stream must be JSON.
pub fn pipeline(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let (language, name) = if selector % 2 == 0 {
        (Language::Rust, "src/main.rs")
    } else {
        (Language::Go, "main.go")
    };
    let mut sources = SourceMap::new();
    let file = sources.add_in_memory(name.to_string(), language, bytes.to_vec());
    let targets = match language {
        Language::Rust => vec![TargetRoot {
            kind: TargetKind::Bin,
            name: "fuzzed".to_string(),
            file,
        }],
        Language::Go => Vec::new(),
    };
    let crates = [CrateInput {
        language,
        name: "fuzzed".to_string(),
        lib_name: None,
        edition: Edition::E2021,
        root_dir: PathBuf::from("."),
        targets,
        files: vec![file],
        package_id: None,
        manifest_path: None,
        extensions: Default::default(),
        features: None,
    }];
    let output = driver::run(&sources, &crates, &RuleSet::every_rule());
    render_everything(&sources, &crates, &output.findings);
}

fn render_everything(sources: &SourceMap, crates: &[CrateInput], findings: &[Finding]) {
    for color in [false, true] {
        human::render(sources, findings, &human::HumanOptions { color });
    }
    short::render(sources, findings);
    let options = json::JsonOptions {
        ansi_rendered: false,
        success: true,
        explanation: |rule| deferlint_rules::find_rule(rule).map(|rule| rule.meta.documentation()),
    };
    let stream = json::render(sources, crates, findings, &options);
    for line in stream.lines() {
        if let Err(error) = serde_json::from_str::<serde_json::Value>(line) {
            panic!("the JSON renderer wrote a line that is not JSON ({error}): {line}");
        }
    }
    let root = std::path::Path::new("/");
    let sarif_options = sarif::SarifOptions {
        tool_version: "0.0.0",
        information_uri: "https://example.invalid",
        rules: &[],
        root,
    };
    let log = sarif::render(sources, findings, &sarif_options);
    if let Err(error) = serde_json::from_str::<serde_json::Value>(&log) {
        panic!("the SARIF renderer wrote something that is not JSON ({error})");
    }
    for line in github::render(sources, findings, root).lines() {
        assert!(line.starts_with("::"), "not a workflow command: {line}");
    }
}

/// Runs `work` on a thread with the driver's stack: libFuzzer runs inputs on the main thread,
/// whose stack is smaller. The thread is kept for the whole campaign, because starting one
/// with such a stack for each input costs more than the input (the address sanitizer clears
/// the stack's shadow memory when a thread ends). A panic comes back to the caller.
fn on_a_large_stack(work: impl FnOnce() + Send) {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .stack_size(driver::WORKER_STACK_SIZE)
            .build()
            .expect("a fuzzing thread starts")
    })
    .install(work);
}
