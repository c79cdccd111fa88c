//! Everything the cli writes to the terminal goes through here: findings, tables, the summary
//! line and error messages.

use std::io::{IsTerminal, Write};

use anyhow::{Result, bail};

use crate::args::ColorChoice;

/// Writes to stdout. A closed pipe (`deferlint --list-rules | head`) is not an error: the
/// reader has what it wanted.
pub fn stdout(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(()),
    }
}

/// Writes to stderr; if stderr itself is gone there is nobody left to tell.
pub fn stderr(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr
        .write_all(text.as_bytes())
        .and_then(|()| stderr.flush());
}

/// `error: message` on stderr, as cargo writes its errors.
pub fn error(message: &str) {
    stderr(&format!("error: {message}\n"));
}

/// `warning: message` on stderr.
pub fn warning(message: &str) {
    stderr(&format!("warning: {message}\n"));
}

/// Whether the human output on stderr is coloured. `--color` wins, then cargo's
/// `CARGO_TERM_COLOR` (which `cargo deferlint` users expect to work as for cargo itself), and
/// `auto` colours a terminal unless `NO_COLOR` is set (no-color.org).
pub fn stderr_color(flag: Option<ColorChoice>) -> Result<bool> {
    let choice = match flag {
        Some(choice) => choice,
        None => match std::env::var("CARGO_TERM_COLOR") {
            Ok(value) => match value.as_str() {
                "auto" => ColorChoice::Auto,
                "always" => ColorChoice::Always,
                "never" => ColorChoice::Never,
                other => {
                    bail!("CARGO_TERM_COLOR is `{other}`; expected `auto`, `always` or `never`")
                }
            },
            Err(_) => ColorChoice::Auto,
        },
    };
    Ok(match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
        }
    })
}

/// The progress line: files lowered, the time so far and indicatif's estimate of the time left
/// (from the recent rate of files).
const PROGRESS_TEMPLATE: &str =
    "{spinner} checking {pos}/{len} files [{bar:30}] {elapsed}, about {eta} left";

/// A progress bar on stderr for runs that take more than about a second: files lowered out
/// of all the files. Only on a terminal and without `--quiet`; it is cleared before the
/// findings are printed.
pub struct RunProgress {
    bar: indicatif::ProgressBar,
    started: std::time::Instant,
    enabled: bool,
    shown: std::sync::atomic::AtomicBool,
}

impl RunProgress {
    pub fn new(files: usize, quiet: bool) -> RunProgress {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(files as u64),
            indicatif::ProgressDrawTarget::hidden(),
        );
        bar.set_style(
            indicatif::ProgressStyle::with_template(PROGRESS_TEMPLATE)
                .expect("a valid template")
                .progress_chars("=> "),
        );
        RunProgress {
            bar,
            started: std::time::Instant::now(),
            enabled: !quiet && std::io::stderr().is_terminal(),
            shown: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub fn report(&self, event: deferlint_core::driver::Progress) {
        if !self.enabled {
            return;
        }
        if event == deferlint_core::driver::Progress::FileLowered {
            self.bar.inc(1);
        }
        if self.started.elapsed() > std::time::Duration::from_secs(1)
            && !self.shown.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            self.bar
                .set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_estimates_the_time_left() {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(10),
            indicatif::ProgressDrawTarget::hidden(),
        );
        bar.set_style(indicatif::ProgressStyle::with_template(PROGRESS_TEMPLATE).unwrap());
        assert!(PROGRESS_TEMPLATE.contains("{eta}"));
        assert!(PROGRESS_TEMPLATE.contains("{elapsed}"));
    }
}
