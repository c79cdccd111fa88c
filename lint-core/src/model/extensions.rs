//! Names a project adds to what the analyses know (its configuration's `spawn-functions`,
//! `defer-macros`, `defer-guards` and `*-types`): the spawn helpers, scope-guard macros and
//! constructors, maps and locks of crates deferlint does not know, or of the project itself.
//!
//! An entry is a path (`my_pool::Pool::submit`) or a bare name (`submit`). It matches a call or
//! a type written in the code when one is a suffix of the other, segment by segment, and the
//! matched part includes the type when the entry names one: `Pool::submit` matches the written
//! `Pool::submit(..)` and `my_pool::Pool::submit(..)`, and a written `submit(..)` only when
//! the entry is the bare `submit`. Matching by what is written, not by where it resolves,
//! is what lets an entry name a type the analyses never see the definition of.

use crate::model::known::{LibCall, SpawnKind};
use crate::model::types::{LibTy, LockFlavor, MapFlavor};

/// A project's additions. The default adds nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extensions {
    /// Functions and methods that run their closure (or future) argument as a new task.
    pub spawn_functions: Vec<String>,
    /// Macros whose body runs when the enclosing scope ends, like `scopeguard::defer!`.
    pub defer_macros: Vec<String>,
    /// Functions returning a guard that runs their closure argument when it is dropped, like
    /// `scopeguard::guard`.
    pub defer_guards: Vec<String>,
    /// Types that are maps with `insert`/`remove`/`get` methods.
    pub map_types: Vec<String>,
    /// Maps that lock a shard per access, like `DashMap`.
    pub sharded_map_types: Vec<String>,
    /// Exclusive locks with a `lock()` method, of unknown poisoning.
    pub mutex_types: Vec<String>,
    /// Reader-writer locks with `read()` and `write()`.
    pub rwlock_types: Vec<String>,
}

impl Extensions {
    pub fn is_empty(&self) -> bool {
        self == &Extensions::default()
    }

    /// Adds another layer's entries (a package's configuration on top of its workspace's).
    pub fn extend(&mut self, other: &Extensions) {
        for (mine, theirs) in [
            (&mut self.spawn_functions, &other.spawn_functions),
            (&mut self.defer_macros, &other.defer_macros),
            (&mut self.defer_guards, &other.defer_guards),
            (&mut self.map_types, &other.map_types),
            (&mut self.sharded_map_types, &other.sharded_map_types),
            (&mut self.mutex_types, &other.mutex_types),
            (&mut self.rwlock_types, &other.rwlock_types),
        ] {
            for entry in theirs {
                if !mine.contains(entry) {
                    mine.push(entry.clone());
                }
            }
        }
    }

    /// Whether a macro, by its last path segment, is a configured defer macro.
    pub fn is_defer_macro(&self, name: &str) -> bool {
        self.defer_macros
            .iter()
            .any(|entry| last_segment(entry) == name)
    }

    /// What a call of a written path is, if the configuration says.
    pub fn path_call<S: AsRef<str>>(&self, path: &[S]) -> Option<LibCall> {
        if self
            .spawn_functions
            .iter()
            .any(|entry| path_matches(entry, path))
        {
            return Some(LibCall::Spawn(SpawnKind::Task));
        }
        if self
            .defer_guards
            .iter()
            .any(|entry| path_matches(entry, path))
        {
            return Some(LibCall::ScopeGuard);
        }
        None
    }

    /// What a method call is, by its name and, when known, the name of its receiver's type.
    pub fn method_call(&self, name: &str, receiver_type: Option<&str>) -> Option<LibCall> {
        let matches = |entry: &String| {
            let mut segments = entry.rsplit("::");
            if segments.next() != Some(name) {
                return false;
            }
            match segments.next() {
                None => true,
                Some(type_name) => receiver_type == Some(type_name),
            }
        };
        if self.spawn_functions.iter().any(matches) {
            return Some(LibCall::Spawn(SpawnKind::Task));
        }
        if self.defer_guards.iter().any(matches) {
            return Some(LibCall::ScopeGuard);
        }
        None
    }

    /// The library type a written type path stands for, if the configuration names it.
    pub fn lib_type<S: AsRef<str>>(&self, path: &[S]) -> Option<LibTy> {
        let named = |entries: &[String]| entries.iter().any(|entry| path_matches(entry, path));
        if named(&self.map_types) {
            return Some(LibTy::Map {
                flavor: MapFlavor::Plain,
                is_set: false,
            });
        }
        if named(&self.sharded_map_types) {
            return Some(LibTy::Map {
                flavor: MapFlavor::Sharded,
                is_set: false,
            });
        }
        if named(&self.mutex_types) {
            return Some(LibTy::Mutex(LockFlavor::Unknown));
        }
        if named(&self.rwlock_types) {
            return Some(LibTy::RwLock(LockFlavor::Unknown));
        }
        None
    }

    /// Whether any type entry could name a type with this last segment: a quick test before
    /// the path is matched in full.
    pub fn names_type(&self, name: &str) -> bool {
        [
            &self.map_types,
            &self.sharded_map_types,
            &self.mutex_types,
            &self.rwlock_types,
        ]
        .into_iter()
        .flatten()
        .any(|entry| last_segment(entry) == name)
    }
}

fn last_segment(entry: &str) -> &str {
    entry.rsplit("::").next().unwrap_or(entry)
}

/// Whether an entry and a written path agree on their common suffix, and that suffix is all of
/// the shorter one: the entry `a::B::f` matches `B::f` and `a::B::f`; the entry `f` matches any
/// path ending in `f`; the entry `B::f` does not match a bare `f`, whose type is not known.
fn path_matches<S: AsRef<str>>(entry: &str, path: &[S]) -> bool {
    let entry: Vec<&str> = entry
        .trim_start_matches("::")
        .split("::")
        .filter(|segment| !segment.is_empty())
        .collect();
    let path: Vec<&str> = path
        .iter()
        .map(AsRef::as_ref)
        .filter(|segment| !matches!(*segment, "crate" | "self" | "super"))
        .collect();
    if entry.is_empty() || path.is_empty() {
        return false;
    }
    let common = entry.len().min(path.len());
    let suffix_agrees = entry[entry.len() - common..] == path[path.len() - common..];
    suffix_agrees && (common == entry.len() || common >= 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_spawns(entries: &[&str]) -> Extensions {
        Extensions {
            spawn_functions: entries.iter().map(|entry| entry.to_string()).collect(),
            ..Extensions::default()
        }
    }

    #[test]
    fn paths_match_on_their_common_suffix() {
        let extensions = with_spawns(&["my_pool::Pool::submit"]);
        let spawn = Some(LibCall::Spawn(SpawnKind::Task));
        assert_eq!(extensions.path_call(&["Pool", "submit"]), spawn);
        assert_eq!(extensions.path_call(&["my_pool", "Pool", "submit"]), spawn);
        assert_eq!(extensions.path_call(&["crate", "Pool", "submit"]), spawn);
        assert_eq!(extensions.path_call(&["submit"]), None);
        assert_eq!(extensions.path_call(&["Other", "submit"]), None);
        let bare = with_spawns(&["submit"]);
        assert_eq!(bare.path_call(&["submit"]), spawn);
        assert_eq!(bare.path_call(&["pool", "submit"]), spawn);
        assert_eq!(bare.path_call(&["submitted"]), None);
    }

    #[test]
    fn methods_match_by_name_and_receiver_type() {
        let extensions = with_spawns(&["execute", "Pool::submit"]);
        let spawn = Some(LibCall::Spawn(SpawnKind::Task));
        assert_eq!(extensions.method_call("execute", None), spawn);
        assert_eq!(extensions.method_call("submit", Some("Pool")), spawn);
        assert_eq!(extensions.method_call("submit", Some("Queue")), None);
        assert_eq!(extensions.method_call("submit", None), None);
    }

    #[test]
    fn types_and_macros_are_recognised() {
        let extensions = Extensions {
            map_types: vec!["cache::FastMap".into()],
            mutex_types: vec!["SpinLock".into()],
            defer_macros: vec!["on_scope_exit".into()],
            ..Extensions::default()
        };
        assert!(matches!(
            extensions.lib_type(&["cache", "FastMap"]),
            Some(LibTy::Map {
                flavor: MapFlavor::Plain,
                ..
            })
        ));
        // Written bare, the type may come from anywhere: the resolved path decides.
        assert_eq!(extensions.lib_type(&["FastMap"]), None);
        assert!(matches!(
            extensions.lib_type(&["spin", "SpinLock"]),
            Some(LibTy::Mutex(LockFlavor::Unknown))
        ));
        assert!(extensions.names_type("SpinLock"));
        assert!(!extensions.names_type("Mutex"));
        assert!(extensions.is_defer_macro("on_scope_exit"));
        assert!(!extensions.is_defer_macro("defer"));
    }

    #[test]
    fn layers_add_without_duplicates() {
        let mut workspace = with_spawns(&["submit"]);
        workspace.extend(&with_spawns(&["submit", "execute"]));
        assert_eq!(workspace.spawn_functions, ["submit", "execute"]);
        assert!(!workspace.is_empty());
        assert!(Extensions::default().is_empty());
    }
}
