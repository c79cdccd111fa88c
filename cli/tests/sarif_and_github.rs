//! The code-scanning formats: SARIF validated against the official 2.1.0 schema (vendored in
//! `tests/data`, the OASIS schema as published), and GitHub workflow commands; both with
//! columns in characters on a CRLF file with a byte-order mark and multibyte text before the
//! finding, and snapshots of both.

mod support;

use serde_json::Value;
use support::{TempTree, cargo_deferlint, deferlint};

/// A package whose library has a finding with two secondary labels and a machine-applicable
/// edit, on a CRLF line after a comment with multibyte characters, in a file that starts with
/// a byte-order mark.
fn package() -> TempTree {
    let library = "\u{feff}// Zähler für Einträge: ü, é, 🦀\r\n\
        use std::collections::HashMap;\r\n\
        use std::sync::{Arc, Mutex};\r\n\
        \r\n\
        pub struct Entry {\r\n\
        \x20   table: Arc<Mutex<HashMap<u32, u32>>>,\r\n\
        \x20   key: u32,\r\n\
        }\r\n\
        \r\n\
        impl Drop for Entry {\r\n\
        \x20   fn drop(&mut self) {\r\n\
        \x20       /* ü */ self.table.lock().unwrap().remove(&self.key);\r\n\
        \x20   }\r\n\
        }\r\n\
        \r\n\
        pub fn start(table: Arc<Mutex<HashMap<u32, u32>>>) {\r\n\
        \x20   let shared = Arc::clone(&table);\r\n\
        \x20   std::thread::spawn(move || {\r\n\
        \x20       let mut counts = shared.lock().unwrap(); let n = counts[&1]; counts.insert(1, n + 1);\r\n\
        \x20   });\r\n\
        \x20   let _entry = Entry { table, key: 1 };\r\n\
        }\r\n";
    TempTree::new(&[
        (
            "Cargo.toml",
            b"[package]\nname = \"scanned\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("src/lib.rs", library.as_bytes()),
    ])
}

fn validator() -> jsonschema::Validator {
    let schema_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sarif-schema-2.1.0.json"
    );
    let text = std::fs::read_to_string(schema_path).unwrap();
    // The schema's `language` patterns end in `]?$`: a literal `]` in ECMA-262 regexes, which
    // Rust's regex engine rejects, so the meta-schema check fails on the schema itself.
    // Escaping the `]` keeps their meaning.
    let bad = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert_eq!(text.matches(bad).count(), 2);
    let text = text.replace(bad, r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#);
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft7::new(&schema).expect("the SARIF schema compiles")
}

fn assert_valid(validator: &jsonschema::Validator, document: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|error| format!("{error} at {}", error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

fn sarif_of(run: &support::Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|error| panic!("{error}: {run:#?}"))
}

#[test]
fn sarif_output_is_valid_against_the_official_schema() {
    let validator = validator();
    let tree = package();
    let run = cargo_deferlint(tree.root(), &["--message-format", "sarif"]);
    assert_eq!(run.code, 0, "{run:#?}");
    let document = sarif_of(&run);
    assert_valid(&validator, &document);
    // The fixtures folder: every rule, Rust and Go, many findings.
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");
    let run = deferlint(
        std::path::Path::new(fixtures),
        &["--message-format", "sarif", "--all-targets", "."],
    );
    let document = sarif_of(&run);
    let results = document["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() > 100, "{} results", results.len());
    assert_valid(&validator, &document);
    // The validator is really wired: a result without a message is rejected.
    let mut broken = document.clone();
    broken["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn sarif_describes_every_rule_and_locates_findings_in_characters() {
    let tree = package();
    let document = sarif_of(&cargo_deferlint(
        tree.root(),
        &["--message-format", "sarif"],
    ));
    let run = &document["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for rule in deferlint_rules::RULES {
        let descriptor = rules
            .iter()
            .find(|descriptor| descriptor["id"] == rule.meta.name)
            .unwrap_or_else(|| panic!("no descriptor for {}", rule.meta.name));
        assert!(
            descriptor["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("### Why is this bad?")
        );
        assert!(descriptor["properties"]["precision"].is_string());
    }
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "poisoned-lock-unwrap-in-defer");
    assert_eq!(
        rules[result["ruleIndex"].as_u64().unwrap() as usize]["id"],
        result["ruleId"]
    );
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "src/lib.rs");
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    // `        /* ü */ self.table.lock().unwrap()`: column 17 in characters (18 in bytes).
    assert_eq!(location["region"]["startLine"], 12);
    assert_eq!(location["region"]["startColumn"], 17);
    assert_eq!(location["region"]["endColumn"], 43);
    assert_eq!(
        location["region"]["snippet"]["text"],
        "self.table.lock().unwrap()"
    );
    assert_eq!(result["relatedLocations"].as_array().unwrap().len(), 2);
    let replacement = &result["fixes"][0]["artifactChanges"][0]["replacements"][0];
    assert_eq!(
        replacement["insertedContent"]["text"],
        "unwrap_or_else(std::sync::PoisonError::into_inner)"
    );
    assert_eq!(replacement["deletedRegion"]["startColumn"], 35);
    assert!(result["partialFingerprints"]["deferlintFingerprint/v1"].is_string());
}

#[test]
fn sarif_fingerprints_survive_a_line_shift() {
    let tree = package();
    let before = sarif_of(&cargo_deferlint(
        tree.root(),
        &["--message-format", "sarif"],
    ));
    let text = std::fs::read_to_string(tree.path("src/lib.rs")).unwrap();
    std::fs::write(
        tree.path("src/lib.rs"),
        text.replacen(
            "use std::collections",
            "// moved\r\n\r\nuse std::collections",
            1,
        ),
    )
    .unwrap();
    let after = sarif_of(&cargo_deferlint(
        tree.root(),
        &["--message-format", "sarif"],
    ));
    let fingerprint =
        |document: &Value| document["runs"][0]["results"][0]["partialFingerprints"].clone();
    // Two missing fingerprints would be equal too.
    assert!(
        fingerprint(&before)["deferlintFingerprint/v1"].is_string(),
        "{before:#}"
    );
    assert_eq!(fingerprint(&before), fingerprint(&after));
    assert_ne!(
        before["runs"][0]["results"][0]["locations"],
        after["runs"][0]["results"][0]["locations"]
    );
}

#[test]
fn sarif_and_github_snapshots() {
    let tree = package();
    let sarif = cargo_deferlint(tree.root(), &["--message-format", "sarif"]);
    let root_uri = format!("file://{}/", tree.root().display());
    insta::assert_snapshot!(
        "sarif",
        sarif
            .stdout
            .replace(&root_uri, "file:///WORKSPACE/")
            .replace(env!("CARGO_PKG_VERSION"), "VERSION")
    );
    let github = cargo_deferlint(tree.root(), &["--message-format", "github"]);
    assert_eq!(github.code, 0, "{github:#?}");
    assert!(github.stderr.is_empty(), "{github:#?}");
    insta::assert_snapshot!("github", github.stdout);
}

#[test]
fn github_commands_carry_character_columns_and_escape_their_text() {
    let tree = package();
    let run = cargo_deferlint(
        tree.root(),
        &["--message-format", "github", "-D", "warnings"],
    );
    assert_eq!(run.code, 1, "{run:#?}");
    let line = run.stdout.lines().next().unwrap();
    assert!(
        line.starts_with(
            "::error file=src/lib.rs,line=12,col=17,endLine=12,endColumn=42,title=deferlint(poisoned-lock-unwrap-in-defer)::"
        ),
        "{line}"
    );
    let message = line.split_once("::").unwrap().1.split_once("::").unwrap().1;
    assert!(!message.contains('\n'));
    assert!(message.contains("%0Anote: "), "{message}");
    // A secondary label's location, with `:` left as is in the message part.
    assert!(message.contains("src/lib.rs:21:18: "), "{message}");
}
