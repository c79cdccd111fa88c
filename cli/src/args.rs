//! Command-line arguments of both binaries: clap definitions and the few checks clap cannot
//! express (the order of `-A`/`-W`/`-D`, cargo's comma-separated `--message-format`).

use std::ffi::OsString;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use clap::error::ErrorKind;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, ValueEnum};
use deferlint_core::diagnostic::Level;
use deferlint_core::driver::Edition;

/// The flags of [`CompatArgs`] that only rust-analyzer and cargo habits pass, which `--help`
/// lists in one line rather than one entry each.
macro_rules! compatibility_note {
    () => {
        "Accepted for rust-analyzer's and cargo's sake, with no effect: --target, --config, \
         --frozen, --locked, --offline."
    };
}

/// `deferlint [PATH]...`
#[derive(Debug, Parser)]
#[command(
    name = "deferlint",
    version,
    about = "Finds writes to shared maps in deferred code (Rust Drop and defer guards, Go defer) and the hazards around them",
    after_help = concat!(
        "Inside a cargo workspace, `cargo deferlint` checks the workspace's packages as cargo sees them.\n\n",
        compatibility_note!()
    )
)]
struct FolderCli {
    /// Files and folders to check: cargo packages inside them are found by their `Cargo.toml`,
    /// other `.rs` files are grouped by folder, `.go` files by Go package [default: .]
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

/// `cargo deferlint [OPTIONS]`
#[derive(Debug, Parser)]
#[command(
    name = "cargo-deferlint",
    bin_name = "cargo deferlint",
    version,
    about = "Checks a cargo workspace for writes to shared maps in deferred code and the hazards around them",
    after_help = compatibility_note!()
)]
struct CargoCli {
    /// Path to the workspace's or a package's `Cargo.toml`
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
    /// Package to check, by name or package id (repeatable)
    #[arg(short = 'p', long = "package", value_name = "SPEC")]
    packages: Vec<String>,
    /// Check every workspace member
    #[arg(long, visible_alias = "all")]
    workspace: bool,
    /// Leave a package out of `--workspace` (repeatable)
    #[arg(long, value_name = "SPEC", requires = "workspace")]
    exclude: Vec<String>,
    #[command(flatten)]
    common: CommonArgs,
}

/// Options both binaries share.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Output format; several comma-separated values as cargo takes them
    #[arg(long, value_name = "FMT", value_enum, value_delimiter = ',')]
    message_format: Vec<MessageFormatPart>,
    /// When to colour the output [default: auto, or CARGO_TERM_COLOR]
    #[arg(long, value_name = "WHEN", value_enum)]
    pub color: Option<ColorChoice>,
    /// Set a rule to allow; `warnings` allows every warning (repeatable)
    #[arg(short = 'A', long = "allow", value_name = "RULE")]
    allow: Vec<String>,
    /// Set a rule to warn (repeatable)
    #[arg(short = 'W', long = "warn", value_name = "RULE")]
    warn: Vec<String>,
    /// Set a rule to deny; `-D warnings` denies every warning (repeatable)
    #[arg(short = 'D', long = "deny", value_name = "RULE")]
    deny: Vec<String>,
    /// Print a rule's documentation and exit
    #[arg(long, value_name = "RULE")]
    pub explain: Option<String>,
    /// Print every rule with its languages, default level and summary, and exit
    #[arg(long)]
    pub list_rules: bool,
    /// Number of threads [default: one per core]
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,
    /// Print the findings only: no summary, no warnings about discovery
    #[arg(short, long)]
    pub quiet: bool,
    /// Edition of loose `.rs` files, outside any cargo package [default: 2021]
    #[arg(long, value_name = "YEAR", value_parser = parse_edition)]
    pub edition: Option<Edition>,
    /// Apply the machine-applicable fixes to the files, then report what is left; refuses files
    /// with uncommitted changes or outside git
    #[arg(long)]
    pub fix: bool,
    /// With `--fix`: also fix files with uncommitted changes or outside git
    #[arg(long, requires = "fix")]
    pub allow_dirty: bool,
    /// Leave out the findings recorded in this baseline file (see --write-baseline); the
    /// others decide the exit code, and entries no longer found are reported as fixed
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub baseline: Option<PathBuf>,
    /// Record the current findings in this baseline file instead of reporting them
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Keep each unit's findings in this folder and reuse them while its files, the
    /// configuration and deferlint stay the same (for editors and CI caches); without it,
    /// deferlint writes nothing
    #[arg(long, value_name = "DIR", env = "DEFERLINT_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    #[command(flatten)]
    pub compat: CompatArgs,
}

/// Flags cargo and rust-analyzer pass to a `cargo check` replacement: cargo's target selection,
/// which decides which targets' findings are reported, cargo's feature selection, which decides
/// which `cfg(feature = ..)` code is checked, `--keep-going` and `--target-dir`, and flags
/// accepted with no effect (see [`compatibility_note`]).
#[derive(Debug, Args)]
// Clap fills these fields; nothing reads the ones accepted for compatibility, on purpose.
#[allow(dead_code)]
pub struct CompatArgs {
    /// Check what can be read when a file or folder cannot be: without it, that fails the run
    /// (exit code 2) after the findings are reported
    #[arg(long)]
    pub keep_going: bool,
    /// Check the library of each Rust package (targets as cargo selects them; without a
    /// target flag, every target but test code)
    #[arg(long, help_heading = "Target selection")]
    pub lib: bool,
    /// Check every binary
    #[arg(long, help_heading = "Target selection")]
    pub bins: bool,
    /// Check the binary NAME (repeatable; glob patterns as cargo takes them)
    #[arg(long = "bin", value_name = "NAME", help_heading = "Target selection")]
    pub bin: Vec<String>,
    /// Check every example
    #[arg(long, help_heading = "Target selection")]
    pub examples: bool,
    /// Check the example NAME (repeatable)
    #[arg(
        long = "example",
        value_name = "NAME",
        help_heading = "Target selection"
    )]
    pub example: Vec<String>,
    /// Check the targets cargo tests (library, binaries, tests/), test code included
    /// (`#[test]`, `#[cfg(test)]`)
    #[arg(long, help_heading = "Target selection")]
    pub tests: bool,
    /// Check the integration test NAME, test code included (repeatable)
    #[arg(long = "test", value_name = "NAME", help_heading = "Target selection")]
    pub test: Vec<String>,
    /// Check the targets cargo benchmarks (library, binaries, benches/), test code included
    #[arg(long, help_heading = "Target selection")]
    pub benches: bool,
    /// Check the benchmark NAME, test code included (repeatable)
    #[arg(long = "bench", value_name = "NAME", help_heading = "Target selection")]
    pub bench: Vec<String>,
    /// Check every target, test code included, as `cargo clippy --all-targets` does
    #[arg(long, help_heading = "Target selection")]
    pub all_targets: bool,
    /// Features to enable, comma- or space-separated (repeatable); `PACKAGE/FEATURE` for one
    /// package. Code under a `cfg(feature = ..)` that is false is not checked
    #[arg(
        short = 'F',
        long,
        value_name = "FEATURES",
        help_heading = "Feature selection"
    )]
    features: Vec<String>,
    /// Enable every feature of the checked packages
    #[arg(long, help_heading = "Feature selection")]
    all_features: bool,
    /// Do not enable the `default` feature
    #[arg(long, help_heading = "Feature selection")]
    no_default_features: bool,
    #[arg(long, value_name = "TRIPLE", hide = true)]
    target: Vec<String>,
    /// Cargo's target folder, if not `target/`: never checked
    #[arg(long, value_name = "DIR")]
    pub target_dir: Option<PathBuf>,
    #[arg(long, value_name = "KEY=VALUE", hide = true)]
    config: Vec<String>,
    #[arg(long, hide = true)]
    frozen: bool,
    #[arg(long, hide = true)]
    locked: bool,
    #[arg(long, hide = true)]
    offline: bool,
}

impl CompatArgs {
    /// The features to enable in each checked package, as cargo's feature flags say.
    pub fn feature_request(&self) -> crate::discovery::FeatureRequest {
        crate::discovery::FeatureRequest::new(
            &self.features,
            self.all_features,
            self.no_default_features,
        )
    }

    /// Findings in test code are reported when tests are among the targets asked for.
    pub fn includes_tests(&self) -> bool {
        self.all_targets
            || self.tests
            || self.benches
            || !self.test.is_empty()
            || !self.bench.is_empty()
    }
}

/// One value of `--message-format`, which cargo lets users combine with commas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum MessageFormatPart {
    /// Diagnostics drawn like rustc's, on stderr (the default)
    Human,
    /// One line per finding on stderr
    Short,
    /// Cargo's JSON messages on stdout
    Json,
    /// JSON whose `rendered` fields carry ANSI colours
    JsonDiagnosticRenderedAnsi,
    /// SARIF 2.1.0 on stdout, for code scanning
    Sarif,
    /// GitHub Actions workflow commands on stdout (annotations on the diff)
    Github,
}

/// The resolved output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageFormat {
    Human,
    Short,
    Json { ansi_rendered: bool },
    Sarif,
    Github,
}

impl MessageFormat {
    /// Formats for machines on stdout, after which no summary line is printed.
    pub fn is_machine_readable(self) -> bool {
        matches!(
            self,
            MessageFormat::Json { .. } | MessageFormat::Sarif | MessageFormat::Github
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// What to check.
#[derive(Debug)]
pub enum Mode {
    /// `deferlint [PATH]...`; `given` is false when no path was given and `.` stands in.
    Folders { paths: Vec<PathBuf>, given: bool },
    /// `cargo deferlint`
    Cargo(CargoSelection),
}

/// The package selection of `cargo deferlint`, as cargo spells it.
#[derive(Debug)]
pub struct CargoSelection {
    pub manifest_path: Option<PathBuf>,
    pub packages: Vec<String>,
    pub workspace: bool,
    pub exclude: Vec<String>,
}

/// A parsed command line.
#[derive(Debug)]
pub struct Invocation {
    pub mode: Mode,
    pub common: CommonArgs,
    pub message_format: MessageFormat,
    /// `-A`, `-W` and `-D` in command-line order, since a later flag overrides an earlier one
    /// as in rustc.
    pub level_flags: Vec<(Level, String)>,
}

/// Parses the command line. `args[0]` decides the binary: `cargo-deferlint` is the cargo
/// subcommand, which cargo runs as `cargo-deferlint deferlint [OPTIONS]`.
pub fn parse(mut args: Vec<OsString>) -> Result<Invocation, clap::Error> {
    if is_cargo_subcommand(args.first().map(Path::new)) {
        if args.get(1).is_some_and(|arg| arg == "deferlint") {
            args.remove(1);
        }
        let mut command = CargoCli::command();
        let matches = command.try_get_matches_from_mut(args)?;
        let cli =
            CargoCli::from_arg_matches(&matches).map_err(|error| error.format(&mut command))?;
        let selection = CargoSelection {
            manifest_path: cli.manifest_path,
            packages: cli.packages,
            workspace: cli.workspace,
            exclude: cli.exclude,
        };
        finish(Mode::Cargo(selection), cli.common, &matches, &mut command)
    } else {
        let mut command = FolderCli::command();
        let matches = command.try_get_matches_from_mut(args)?;
        let cli =
            FolderCli::from_arg_matches(&matches).map_err(|error| error.format(&mut command))?;
        let given = !cli.paths.is_empty();
        let paths = if given {
            cli.paths
        } else {
            vec![PathBuf::from(".")]
        };
        finish(
            Mode::Folders { paths, given },
            cli.common,
            &matches,
            &mut command,
        )
    }
}

fn is_cargo_subcommand(program: Option<&Path>) -> bool {
    program
        .and_then(Path::file_stem)
        .and_then(|stem| stem.to_str())
        .is_some_and(|stem| stem == "cargo-deferlint")
}

fn finish(
    mode: Mode,
    common: CommonArgs,
    matches: &ArgMatches,
    command: &mut clap::Command,
) -> Result<Invocation, clap::Error> {
    let message_format = resolve_message_format(&common.message_format)
        .map_err(|message| command.error(ErrorKind::ArgumentConflict, message))?;
    let level_flags = level_flags_in_order(matches);
    Ok(Invocation {
        mode,
        common,
        message_format,
        level_flags,
    })
}

/// Cargo's rules: `human`, `short` and `json` exclude each other, and
/// `json-diagnostic-rendered-ansi` is a modifier of `json` that implies it.
fn resolve_message_format(parts: &[MessageFormatPart]) -> Result<MessageFormat, String> {
    let ansi_rendered = parts.contains(&MessageFormatPart::JsonDiagnosticRenderedAnsi);
    let mut base: Option<MessageFormatPart> = None;
    for &part in parts {
        if part == MessageFormatPart::JsonDiagnosticRenderedAnsi {
            continue;
        }
        match base {
            Some(previous) if previous != part => {
                return Err(format!(
                    "cannot use `--message-format {}` together with `--message-format {}`",
                    value_name(previous),
                    value_name(part)
                ));
            }
            _ => base = Some(part),
        }
    }
    match (base, ansi_rendered) {
        (None, false) | (Some(MessageFormatPart::Human), false) => Ok(MessageFormat::Human),
        (Some(MessageFormatPart::Short), false) => Ok(MessageFormat::Short),
        (Some(MessageFormatPart::Sarif), false) => Ok(MessageFormat::Sarif),
        (Some(MessageFormatPart::Github), false) => Ok(MessageFormat::Github),
        (None | Some(MessageFormatPart::Json), _) => Ok(MessageFormat::Json { ansi_rendered }),
        (Some(other), _) => Err(format!(
            "`--message-format json-diagnostic-rendered-ansi` needs the json format, not `{}`",
            value_name(other)
        )),
    }
}

fn value_name(part: MessageFormatPart) -> String {
    part.to_possible_value()
        .map(|value| value.get_name().to_string())
        .unwrap_or_default()
}

fn level_flags_in_order(matches: &ArgMatches) -> Vec<(Level, String)> {
    let mut flags: Vec<(usize, Level, String)> = Vec::new();
    for (id, level) in [
        ("allow", Level::Allow),
        ("warn", Level::Warn),
        ("deny", Level::Deny),
    ] {
        let (Some(indices), Some(values)) =
            (matches.indices_of(id), matches.get_many::<String>(id))
        else {
            continue;
        };
        flags.extend(
            indices
                .zip(values)
                .map(|(index, value)| (index, level, value.clone())),
        );
    }
    flags.sort_by_key(|(index, _, _)| *index);
    flags
        .into_iter()
        .map(|(_, level, name)| (level, name))
        .collect()
}

fn parse_edition(text: &str) -> Result<Edition, String> {
    Edition::parse(text)
        .ok_or_else(|| format!("`{text}` is not an edition; use 2015, 2018, 2021 or 2024"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &str) -> Result<Invocation, clap::Error> {
        parse(words.split_whitespace().map(OsString::from).collect())
    }

    #[test]
    fn clap_definitions_are_consistent() {
        FolderCli::command().debug_assert();
        CargoCli::command().debug_assert();
    }

    #[test]
    fn help_names_every_flag_once_and_the_ones_without_effect_as_such() {
        let in_note = |flag: &str| {
            [",", ".", " ("]
                .iter()
                .any(|after| compatibility_note!().contains(&format!("{flag}{after}")))
        };
        for command in [FolderCli::command(), CargoCli::command()] {
            for argument in command.get_arguments() {
                let Some(long) = argument.get_long() else {
                    continue;
                };
                let flag = format!("--{long}");
                assert_eq!(
                    in_note(&flag),
                    argument.is_hide_set(),
                    "{flag}: hidden flags are in the note, listed ones are not"
                );
            }
        }
    }

    #[test]
    fn level_flags_keep_command_line_order() {
        let invocation = parse_words("deferlint -D a --allow b -Wc --deny=warnings -A d").unwrap();
        let names: Vec<(Level, &str)> = invocation
            .level_flags
            .iter()
            .map(|(level, name)| (*level, name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                (Level::Deny, "a"),
                (Level::Allow, "b"),
                (Level::Warn, "c"),
                (Level::Deny, "warnings"),
                (Level::Allow, "d")
            ]
        );
    }

    #[test]
    fn cargo_subcommand_strips_its_name_and_takes_no_paths() {
        let invocation =
            parse_words("/bin/cargo-deferlint deferlint -p a --package b --workspace").unwrap();
        let Mode::Cargo(selection) = invocation.mode else {
            panic!("expected cargo mode")
        };
        assert_eq!(selection.packages, ["a", "b"]);
        assert!(selection.workspace);
        assert!(parse_words("cargo-deferlint deferlint src").is_err());
    }

    #[test]
    fn folder_mode_defaults_to_the_current_folder() {
        let Mode::Folders { paths, given } = parse_words("deferlint").unwrap().mode else {
            panic!("expected folder mode")
        };
        assert_eq!(paths, [PathBuf::from(".")]);
        assert!(!given);
    }

    #[test]
    fn message_formats_combine_like_cargo() {
        let format = |words: &str| parse_words(words).map(|invocation| invocation.message_format);
        assert_eq!(format("deferlint").unwrap(), MessageFormat::Human);
        assert_eq!(
            format("deferlint --message-format short").unwrap(),
            MessageFormat::Short
        );
        assert_eq!(
            format("deferlint --message-format=json").unwrap(),
            MessageFormat::Json {
                ansi_rendered: false
            }
        );
        assert_eq!(
            format("deferlint --message-format=json-diagnostic-rendered-ansi").unwrap(),
            MessageFormat::Json {
                ansi_rendered: true
            }
        );
        assert_eq!(
            format("deferlint --message-format json,json-diagnostic-rendered-ansi").unwrap(),
            MessageFormat::Json {
                ansi_rendered: true
            }
        );
        assert!(format("deferlint --message-format human,json").is_err());
        assert!(format("deferlint --message-format short,json-diagnostic-rendered-ansi").is_err());
        assert!(format("deferlint --message-format xml").is_err());
        assert_eq!(
            format("deferlint --message-format sarif").unwrap(),
            MessageFormat::Sarif
        );
        assert_eq!(
            format("deferlint --message-format=github").unwrap(),
            MessageFormat::Github
        );
        assert!(format("deferlint --message-format sarif,json").is_err());
        assert!(format("deferlint --message-format github,json-diagnostic-rendered-ansi").is_err());
    }

    #[test]
    fn rust_analyzer_flags_are_accepted() {
        let words = "cargo-deferlint deferlint --workspace --message-format=json-diagnostic-rendered-ansi \
                     --manifest-path /w/Cargo.toml --keep-going --all-targets --lib --bins --tests --examples \
                     --benches --bin b --example e --test t --bench c --features x,y -F z --all-features \
                     --no-default-features --target x86_64-unknown-linux-gnu --target-dir /w/target/ra \
                     --config k=v --locked --offline --frozen";
        let invocation = parse_words(words).unwrap();
        assert_eq!(
            invocation.common.compat.target_dir,
            Some(PathBuf::from("/w/target/ra"))
        );
        assert_eq!(
            invocation.common.compat.feature_request(),
            crate::discovery::FeatureRequest {
                features: vec!["x".into(), "y".into(), "z".into()],
                all_features: true,
                no_default_features: true,
            }
        );
    }

    #[test]
    fn baseline_flags_take_a_file_and_exclude_each_other() {
        let invocation = parse_words("deferlint --baseline b.json src").unwrap();
        assert_eq!(invocation.common.baseline, Some(PathBuf::from("b.json")));
        let invocation = parse_words("cargo-deferlint deferlint --write-baseline=b.json").unwrap();
        assert_eq!(
            invocation.common.write_baseline,
            Some(PathBuf::from("b.json"))
        );
        assert!(parse_words("deferlint --baseline a.json --write-baseline b.json").is_err());
    }

    #[test]
    fn editions_and_jobs_are_checked() {
        assert_eq!(
            parse_words("deferlint --edition 2018")
                .unwrap()
                .common
                .edition,
            Some(Edition::E2018)
        );
        assert!(parse_words("deferlint --edition 2019").is_err());
        assert!(parse_words("deferlint -j 0").is_err());
        assert_eq!(
            parse_words("deferlint -j4").unwrap().common.jobs,
            NonZeroUsize::new(4)
        );
    }
}
