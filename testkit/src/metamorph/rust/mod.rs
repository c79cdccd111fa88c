//! Rust rewrites: syn finds the places, text edits keep everything else as it was written
//! (comments and markers included). Each rewrite applies wherever it fits in the fixture, all
//! places at once, and says why when it fits nowhere. Most edits are made on the lines of the
//! code they wrap, so that no marked line moves; code that does move (into another module)
//! moves by whole lines, its markers with it.

mod aliases;
mod calls;
mod drops;
mod functions;
mod imports;
mod lets;
mod library_methods;
mod modules;
mod rename;
mod resolve;
mod source;
mod std_exports;

use std::fs;
use std::path::Path;

use super::{FixtureVariants, Rewritten};
use calls::CallRewrite;
use lets::Route;
use source::Source;

/// One rewrite: its name (fixed: variants are named after it) and what it does to a fixture.
#[derive(Clone, Copy)]
pub struct RustRewrite {
    pub name: &'static str,
    apply: fn(&Source) -> Rewritten,
}

impl std::fmt::Debug for RustRewrite {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.name)
    }
}

/// Every Rust rewrite, in the order variants are listed.
pub const RUST_REWRITES: &[RustRewrite] = &[
    RustRewrite {
        name: "outer-loop",
        apply: functions::outer_loop,
    },
    RustRewrite {
        name: "fn-layer",
        apply: functions::fn_layer,
    },
    RustRewrite {
        name: "generic-fn-once",
        apply: functions::generic_fn_once,
    },
    RustRewrite {
        name: "drop-to-helper-fn",
        apply: drops::drop_to_helper_fn,
    },
    RustRewrite {
        name: "drop-to-trait-method",
        apply: drops::drop_to_trait_method,
    },
    RustRewrite {
        name: "drop-to-closure",
        apply: drops::drop_to_closure,
    },
    RustRewrite {
        name: "drop-via-dyn",
        apply: drops::drop_via_dyn,
    },
    RustRewrite {
        name: "drop-via-dyn-2",
        apply: drops::drop_via_dyn_2,
    },
    RustRewrite {
        name: "via-rebinding",
        apply: |source| lets::route_lets(source, Route::Rebinding),
    },
    RustRewrite {
        name: "via-option",
        apply: |source| lets::route_lets(source, Route::Option),
    },
    RustRewrite {
        name: "via-tuple",
        apply: |source| lets::route_lets(source, Route::Tuple),
    },
    RustRewrite {
        name: "via-match",
        apply: |source| lets::route_lets(source, Route::Match),
    },
    RustRewrite {
        name: "via-block-tail",
        apply: |source| lets::route_lets(source, Route::BlockTail),
    },
    RustRewrite {
        name: "via-struct-field",
        apply: |source| lets::route_lets(source, Route::StructField),
    },
    RustRewrite {
        name: "other-module",
        apply: modules::other_module,
    },
    RustRewrite {
        name: "glob-std",
        apply: imports::glob_std,
    },
    RustRewrite {
        name: "glob-foreign",
        apply: imports::glob_foreign,
    },
    RustRewrite {
        name: "type-aliases",
        apply: aliases::type_aliases,
    },
    RustRewrite {
        name: "rename",
        apply: rename::rename,
    },
    RustRewrite {
        name: "thread-spawn-via-builder",
        apply: |source| calls::rewrite_calls(source, CallRewrite::ThreadBuilder),
    },
    RustRewrite {
        name: "task-spawn-via-handle",
        apply: |source| calls::rewrite_calls(source, CallRewrite::TaskHandle),
    },
    RustRewrite {
        name: "clone-via-method",
        apply: |source| calls::rewrite_calls(source, CallRewrite::CloneMethod),
    },
];

/// Every rewrite of one Rust fixture (or any Rust program of one file, with its `#[path]`
/// modules beside it).
pub fn rust_variants(path: &Path) -> FixtureVariants {
    let variants = match fs::read_to_string(path) {
        Ok(text) => rewrite_all(&text, path.parent()),
        Err(error) => RUST_REWRITES
            .iter()
            .map(|rewrite| {
                (
                    rewrite.name,
                    Rewritten::NotApplicable(format!("cannot read the fixture: {error}")),
                )
            })
            .collect(),
    };
    FixtureVariants {
        fixture: path.to_owned(),
        variants,
    }
}

/// Every rewrite of a program's text; `dir` is where its `#[path]` modules are.
pub fn rewrite_all(text: &str, dir: Option<&Path>) -> Vec<(&'static str, Rewritten)> {
    let variants = match Source::parse(text, dir) {
        Ok(source) => RUST_REWRITES
            .iter()
            .map(|rewrite| (rewrite.name, (rewrite.apply)(&source)))
            .collect(),
        Err(reason) => RUST_REWRITES
            .iter()
            .map(|rewrite| (rewrite.name, Rewritten::NotApplicable(reason.clone())))
            .collect(),
    };
    // The spans of this program are no longer needed; without this the thread's span table
    // would grow with every program rewritten on it.
    proc_macro2::extra::invalidate_current_thread_spans();
    variants
}

/// One rewrite of a program's text, by name: for tests. Panics on an unknown name.
pub fn rewrite(name: &str, text: &str) -> Rewritten {
    let rewrite = RUST_REWRITES
        .iter()
        .find(|rewrite| rewrite.name == name)
        .unwrap_or_else(|| panic!("no rewrite named `{name}`"));
    let result = match Source::parse(text, None) {
        Ok(source) => (rewrite.apply)(&source),
        Err(reason) => Rewritten::NotApplicable(reason),
    };
    proc_macro2::extra::invalidate_current_thread_spans();
    result
}

#[cfg(test)]
mod tests;
