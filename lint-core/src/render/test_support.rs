//! Helpers for the renderers' tests: source files on disk and findings around hand-made
//! diagnostics.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::diagnostic::Diagnostic;
use crate::driver::Finding;

/// A file in the temporary folder, removed when dropped. The name includes the process id and
/// a counter because tests of several processes and threads share the folder.
pub(crate) struct TempFile {
    path: PathBuf,
}

impl TempFile {
    pub(crate) fn new(name: &str, contents: &[u8]) -> TempFile {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "deferlint-render-{}-{unique}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, contents).expect("the temporary folder is writable");
        TempFile { path }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A finding of the first unit, with no known target.
pub(crate) fn finding(diagnostic: Diagnostic) -> Finding {
    Finding {
        crate_index: 0,
        target_index: None,
        diagnostic,
    }
}
