//! Proves that the metamorphic variants of the Rust fixtures keep their fixture's meaning: each
//! variant is built and run like its fixture (`deferlint_testkit::proofs::rust`) and must do
//! what the fixture's `//@ run:` header claims. A variant that does not compile, or does not
//! keep the claim, is a bug of the rewriter.
//!
//! `cargo test` proves a sample, chosen deterministically: for every rewrite and rule folder
//! one bad variant, and for every rewrite a few good ones. `DEFERLINT_PROVE_ALL_VARIANTS=1`
//! proves every variant; `DEFERLINT_VARIANT_REWRITES=name,name` only those of some rewrites,
//! `DEFERLINT_VARIANT_FIXTURES=part,part` only those of the fixtures whose path contains a part.
//! `DEFERLINT_VARIANTS_OF=<folder>` instead builds every variant of the `.rs` programs in a
//! folder (programs that are not fixtures yet, without headers or markers) and checks only that
//! they compile.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use deferlint_testkit::fixture::{self as support, FixtureText};
use deferlint_testkit::metamorph::rust::{RUST_REWRITES, rust_variants};
use deferlint_testkit::metamorph::{Rewritten, VariantFile};
use deferlint_testkit::proofs::rust::{self as proofs, Edition, Program, ProgramFile, Project};

/// How many good variants of each rewrite the sample proves.
const GOOD_PER_REWRITE: usize = 3;

/// One variant as the test sees it.
struct Variant {
    rewrite: &'static str,
    fixture: FixtureText,
    files: Vec<VariantFile>,
}

impl Variant {
    fn bin_name(&self) -> String {
        proofs::bin_name_for(&format!("{}__{}", self.rewrite, self.fixture.display_path))
    }

    fn display(&self) -> String {
        format!("{} ({})", self.fixture.display_path, self.rewrite)
    }
}

fn project() -> Project {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    Project {
        dir: tmp.join("variant-proofs"),
        // The fixtures' target folder: the libraries are built once for both.
        target_dir: tmp.join("hazard-proofs-target"),
        package_prefix: "variants".to_owned(),
        // A variant may leave an import unused (a module gets the crate root's `use` items)
        // or an item unreached; any other warning says the rewrite did something it should
        // not have.
        lints: "warnings = \"deny\"\nunused_imports = \"allow\"\ndead_code = \"allow\"".to_owned(),
    }
}

/// Writes a variant's files where its binary is built from and reads them as a program.
fn write_variant(
    project: &Project,
    variant: &Variant,
    edition: Edition,
) -> Result<Program, Vec<String>> {
    let bin = variant.bin_name();
    let folder = project.package_dir(edition).join("src/bin").join(&bin);
    let mut texts = Vec::new();
    for file in &variant.files {
        let path = folder.join(&file.path);
        proofs::write_if_changed(&path, &file.text);
        texts.push(support::parse_module_text(
            &path,
            format!("{}/{}", variant.display(), file.path),
            variant.fixture.rule_folder.clone(),
            file.text.clone(),
        ));
    }
    let mut program = proofs::read_program(bin, &texts)?;
    program.display_path = variant.display();
    Ok(program)
}

/// What a variant must keep of its fixture: the headers, and the markers (as many, of the same
/// rules).
fn kept_headers_and_markers(variant: &Variant) -> Result<(), String> {
    let root = support::parse_module_text(
        Path::new("main.rs"),
        variant.display(),
        variant.fixture.rule_folder.clone(),
        variant.files[0].text.clone(),
    );
    let headers = |text: &FixtureText| -> Vec<(String, Option<String>)> {
        text.headers
            .iter()
            .map(|header| (header.key.clone(), header.value.clone()))
            .collect()
    };
    if headers(&root) != headers(&variant.fixture) {
        return Err(format!(
            "{}: headers {:?}, the fixture's {:?}",
            variant.display(),
            headers(&root),
            headers(&variant.fixture)
        ));
    }
    let mut rules: Vec<String> = Vec::new();
    for file in &variant.files {
        let text = support::parse_module_text(
            Path::new(&file.path),
            variant.display(),
            variant.fixture.rule_folder.clone(),
            file.text.clone(),
        );
        rules.extend(text.markers.iter().map(|marker| marker.rule.clone()));
    }
    rules.sort();
    let mut expected: Vec<String> = variant
        .fixture
        .markers
        .iter()
        .map(|marker| marker.rule.clone())
        .collect();
    expected.sort();
    if rules != expected {
        return Err(format!(
            "{}: markers {rules:?}, the fixture's {expected:?}",
            variant.display()
        ));
    }
    Ok(())
}

fn hash_of(parts: &[&str]) -> u64 {
    let mut hasher = DefaultHasher::new();
    parts.hash(&mut hasher);
    hasher.finish()
}

/// The sample `cargo test` proves: for every rewrite and rule folder the bad variant whose
/// hash is smallest, and for every rewrite the few good ones with the smallest hashes.
fn sample(variants: Vec<Variant>) -> Vec<Variant> {
    let mut chosen_bad: BTreeMap<(&str, String), (u64, usize)> = BTreeMap::new();
    let mut good: BTreeMap<&str, Vec<(u64, usize)>> = BTreeMap::new();
    for (index, variant) in variants.iter().enumerate() {
        let hash = hash_of(&[variant.rewrite, &variant.fixture.display_path]);
        if variant.fixture.check_pass {
            good.entry(variant.rewrite).or_default().push((hash, index));
        } else {
            let key = (variant.rewrite, variant.fixture.rule_folder.clone());
            let entry = chosen_bad.entry(key).or_insert((hash, index));
            if hash < entry.0 {
                *entry = (hash, index);
            }
        }
    }
    let mut keep: BTreeSet<usize> = chosen_bad.values().map(|(_, index)| *index).collect();
    for mut candidates in good.into_values() {
        candidates.sort();
        keep.extend(
            candidates
                .iter()
                .take(GOOD_PER_REWRITE)
                .map(|(_, index)| *index),
        );
    }
    variants
        .into_iter()
        .enumerate()
        .filter(|(index, _)| keep.contains(index))
        .map(|(_, variant)| variant)
        .collect()
}

#[test]
fn variants_keep_what_their_fixture_claims() {
    if let Ok(folder) = std::env::var("DEFERLINT_VARIANTS_OF") {
        variants_of_programs_compile(Path::new(&folder));
        return;
    }
    let mut variants = Vec::new();
    let mut applied: BTreeMap<&str, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for path in support::fixture_paths(&["rs"]) {
        let fixture = support::read_fixture(&path);
        for (rewrite, result) in rust_variants(&path).variants {
            if let Rewritten::Variant(files) = result {
                *applied.entry(rewrite).or_default() += 1;
                let variant = Variant {
                    rewrite,
                    fixture: fixture.clone(),
                    files,
                };
                if let Err(problem) = kept_headers_and_markers(&variant) {
                    problems.push(problem);
                }
                variants.push(variant);
            }
        }
    }
    for rewrite in RUST_REWRITES {
        assert!(
            applied.contains_key(rewrite.name),
            "`{}` applies to no fixture",
            rewrite.name
        );
    }
    assert!(
        problems.is_empty(),
        "variants lost their fixture's headers or markers:\n{}",
        problems.join("\n")
    );

    if let Ok(names) = std::env::var("DEFERLINT_VARIANT_REWRITES") {
        let names: Vec<&str> = names.split(',').map(str::trim).collect();
        variants.retain(|variant| names.contains(&variant.rewrite));
    }
    if let Ok(names) = std::env::var("DEFERLINT_VARIANT_FIXTURES") {
        let names: Vec<&str> = names.split(',').map(str::trim).collect();
        variants.retain(|variant| {
            names
                .iter()
                .any(|name| variant.fixture.display_path.contains(name))
        });
    }
    let every = std::env::var_os("DEFERLINT_PROVE_ALL_VARIANTS").is_some_and(|value| value == "1");
    let total = variants.len();
    if !every {
        variants = sample(variants);
    }
    let project = project();
    let mut programs = Vec::new();
    let mut by_bin = BTreeMap::new();
    for variant in &variants {
        let edition = match variant
            .fixture
            .header("edition")
            .and_then(|header| header.value.as_deref())
        {
            Some("2024") => Edition::E2024,
            _ => Edition::E2021,
        };
        match write_variant(&project, variant, edition) {
            Ok(program) => {
                by_bin.insert(program.bin_name.clone(), variant.display());
                programs.push(program);
            }
            Err(errors) => problems.extend(errors),
        }
    }
    assert!(
        problems.is_empty(),
        "variants with malformed headers or markers:\n{}",
        problems.join("\n")
    );
    let build = project
        .build(&programs)
        .unwrap_or_else(|error| panic!("{error}"));
    let failed: BTreeSet<&str> = build.failed.iter().map(|(bin, _)| bin.as_str()).collect();
    let built: Vec<&Program> = programs
        .iter()
        .filter(|program| !failed.contains(program.bin_name.as_str()))
        .collect();
    let broken = project.run_all(
        &built,
        &build.bin_dir,
        &Path::new(env!("CARGO_TARGET_TMPDIR")).join("variant-proofs-logs"),
    );
    let mut report: Vec<String> = build
        .failed
        .iter()
        .map(|(bin, said)| format!("{} does not compile:\n{said}", by_bin[bin]))
        .collect();
    report.extend(broken);
    assert!(
        report.is_empty(),
        "{} of {} variants proved ({} in all) broke their fixture's claim:\n\n{}",
        report.len(),
        programs.len(),
        total,
        report.join("\n\n")
    );
}

/// Every variant of every program in a folder compiles.
fn variants_of_programs_compile(folder: &Path) {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", folder.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "rs"))
        .collect();
    paths.sort();
    let project = Project {
        dir: Path::new(env!("CARGO_TARGET_TMPDIR")).join("variant-programs"),
        ..project()
    };
    let mut programs = Vec::new();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for (rewrite, result) in rust_variants(&path).variants {
            let Rewritten::Variant(files) = result else {
                continue;
            };
            let bin_name = proofs::bin_name_for(&format!("{rewrite}__{name}"));
            let folder = project
                .package_dir(Edition::E2021)
                .join("src/bin")
                .join(&bin_name);
            for (index, file) in files.iter().enumerate() {
                // A module of another program of the folder (a `#[path]` module of a driver)
                // is built as a program with an empty `main`.
                let needs_main = index == 0 && !declares_main(&file.text);
                let text = if needs_main {
                    format!("{}\nfn main() {{}}\n", file.text)
                } else {
                    file.text.clone()
                };
                proofs::write_if_changed(&folder.join(&file.path), &text);
            }
            programs.push(Program {
                display_path: format!("{name} ({rewrite})"),
                bin_name,
                edition: Edition::E2021,
                run: proofs::RunClaim::Ok,
                rule_folder: String::new(),
                files: vec![ProgramFile {
                    path: folder.join("main.rs"),
                    marker_lines: Vec::new(),
                }],
            });
        }
    }
    let build = project
        .build(&programs)
        .unwrap_or_else(|error| panic!("{error}"));
    assert!(
        build.failed.is_empty(),
        "{} of {} variants do not compile:\n{}",
        build.failed.len(),
        programs.len(),
        build.failures()
    );
}

/// Whether a program's text declares `fn main` at its top level.
fn declares_main(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim_start();
        !line.starts_with("//")
            && (line.starts_with("fn main(")
                || line.starts_with("async fn main(")
                || line.starts_with("pub fn main("))
    })
}
