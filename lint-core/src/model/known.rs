//! Library functions and methods the analyses know by name: locks, maps, spawns, defer
//! guards, smart-pointer constructors and clones, process exits.

use crate::model::types::{LibTy, LockFlavor, MapFlavor};

/// Which access a lock call asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockMode {
    /// `Mutex::lock`.
    Exclusive,
    /// `RwLock::read`.
    Read,
    /// `RwLock::write`.
    Write,
}

/// How a lock call waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockAttempt {
    /// Blocks until the lock is free (or, for async locks, returns a future).
    Blocking,
    /// `try_lock`: fails instead of waiting.
    Try,
    /// tokio's `blocking_lock`: blocks the thread; panics inside a runtime.
    BlockingInAsync,
}

/// What a map method does to the map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MapOpKind {
    /// Reads only.
    Read,
    /// Inserts, removes or changes entries.
    Write,
    /// Writes and drops every value it removes (`clear`, `retain`).
    WriteDroppingValues,
    /// Returns an iterator owning the removed values (`drain`).
    Drain,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpawnKind {
    /// A thread or task whose body is the argument.
    Task,
    /// `rayon::join(a, b)`: both closures run concurrently, the caller waits.
    Join,
    /// `thread::scope(|s| ..)`, `rayon::scope`: the closure runs inline; the spawns inside it
    /// end before the call returns.
    Scope,
    /// A handler registered with a server (`http.HandleFunc`): it runs in a goroutine per
    /// request, many at once.
    Handler,
}

/// A library call the analyses understand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LibCall {
    Lock {
        mode: LockMode,
        attempt: LockAttempt,
        flavor: LockFlavor,
    },
    /// `unwrap()` on an `Option` or a `Result`.
    Unwrap,
    /// `expect(..)`.
    Expect,
    /// `unwrap_or_else(..)`, `unwrap_or(..)`, `unwrap_or_default()`.
    UnwrapOr,
    /// A map method.
    Map {
        kind: MapOpKind,
        flavor: MapFlavor,
    },
    /// A `Vec`/`VecDeque` method that adds, removes or drops elements.
    Seq {
        kind: MapOpKind,
    },
    /// `mem::take(&mut x)`, `mem::replace(&mut x, y)`: the old value of `x`, moved out.
    TakeOut,
    Spawn(SpawnKind),
    /// `scopeguard::guard(value, closure)` and its `on_unwind` / `on_success` forms.
    ScopeGuard,
    /// `mem::forget`, `ScopeGuard::into_inner`: the value is not dropped.
    Forget,
    /// A clone: `Arc::clone`, `.clone()` on an `Arc`/`Rc` (same object) or on a value (a copy).
    Clone {
        shares: bool,
    },
    /// `Arc::new(x)`, `Mutex::new(x)`, `Box::new(x)`, `Some(x)`: the result holds the argument.
    Wrap(LibTy, LockFlavor),
    /// `HashMap::new()`, `Vec::with_capacity(n)`, `Default::default()`: a fresh object.
    Construct(LibTy),
    /// `Weak::upgrade`.
    Upgrade,
    /// `Arc::downgrade`.
    Downgrade,
    /// `UnsafeCell::get`, `as_ptr`: a raw pointer to the contents.
    RawGet,
    /// `get_mut()`, `as_ref()`, `borrow()`, `deref()`, `force()`: access to the contents.
    Access,
    /// `JoinHandle::join`.
    Join,
    /// `std::process::exit`, `abort`, Go's `os.Exit` and `log.Fatal*`: the process ends here and
    /// no deferred code runs.
    Exit,
    /// Go's `mu.Unlock()` / `mu.RUnlock()`.
    Unlock {
        mode: LockMode,
    },
    /// Go's `wg.Done()`: the goroutine tells its waiter it has finished.
    Done,
    /// Go's `once.Do(f)`: `f` runs once, and every `Do` of the same `Once` returns after it.
    RunOnce,
    /// An access to a `thread_local!` value through its key: `with`, `set`, `take`... panic
    /// once the thread's value is destroyed; `try_with` returns an error instead.
    LocalKey {
        fallible: bool,
    },
}

/// A lock method's name, mode and attempt.
pub fn lock_method(name: &str) -> Option<(LockMode, LockAttempt)> {
    Some(match name {
        "lock" | "lock_owned" | "lock_arc" => (LockMode::Exclusive, LockAttempt::Blocking),
        "read" | "read_owned" | "read_arc" | "upgradable_read" => {
            (LockMode::Read, LockAttempt::Blocking)
        }
        "write" | "write_owned" | "write_arc" => (LockMode::Write, LockAttempt::Blocking),
        "try_lock" | "try_lock_owned" | "try_lock_for" | "try_lock_until" | "try_lock_arc" => {
            (LockMode::Exclusive, LockAttempt::Try)
        }
        "try_read" | "try_read_owned" | "try_read_for" => (LockMode::Read, LockAttempt::Try),
        "try_write" | "try_write_owned" | "try_write_for" => (LockMode::Write, LockAttempt::Try),
        "blocking_lock" | "blocking_lock_owned" => {
            (LockMode::Exclusive, LockAttempt::BlockingInAsync)
        }
        "blocking_read" => (LockMode::Read, LockAttempt::BlockingInAsync),
        "blocking_write" => (LockMode::Write, LockAttempt::BlockingInAsync),
        _ => return None,
    })
}

/// A map method's effect.
pub fn map_method(name: &str) -> Option<MapOpKind> {
    Some(match name {
        "insert" | "remove" | "remove_entry" | "entry" | "get_mut" | "extend" | "append"
        | "try_insert" | "insert_full" | "swap_remove" | "shift_remove" | "pop_first"
        | "pop_last" | "split_off" | "get_or_insert_with" | "alter" | "alter_all" | "remove_if"
        | "remove_if_mut" | "iter_mut" | "values_mut" | "get_many_mut" | "insert_sync"
        | "upsert" | "put" | "push" | "pop" | "get_or_insert" | "get_index_mut"
        | "swap_remove_full" | "shift_remove_full" => MapOpKind::Write,
        "clear" | "retain" | "shrink_to_fit" | "truncate" => MapOpKind::WriteDroppingValues,
        "drain" | "drain_filter" | "extract_if" | "into_iter" => MapOpKind::Drain,
        "get" | "contains_key" | "contains" | "len" | "is_empty" | "iter" | "keys" | "values"
        | "get_key_value" | "first_key_value" | "last_key_value" | "range" | "capacity"
        | "peek" => MapOpKind::Read,
        _ => return None,
    })
}

/// A sharded map's methods that return a reference holding a shard lock: `get` and `iter` a
/// read lock, `get_mut`, `entry` and `iter_mut` a write lock.
pub fn shard_reference_method(name: &str) -> Option<(LockMode, LockAttempt)> {
    Some(match name {
        "get" | "iter" => (LockMode::Read, LockAttempt::Blocking),
        "get_mut" | "entry" | "iter_mut" => (LockMode::Write, LockAttempt::Blocking),
        "try_get" => (LockMode::Read, LockAttempt::Try),
        "try_get_mut" | "try_entry" => (LockMode::Write, LockAttempt::Try),
        _ => return None,
    })
}

/// A `Vec`/`VecDeque` method's effect on the elements.
pub fn seq_method(name: &str) -> Option<MapOpKind> {
    Some(match name {
        "clear" | "truncate" | "retain" | "retain_mut" | "dedup" | "dedup_by" | "dedup_by_key"
        | "resize" => MapOpKind::WriteDroppingValues,
        "pop" | "pop_front" | "pop_back" | "remove" | "swap_remove" | "swap_remove_back"
        | "swap_remove_front" | "split_off" | "push" | "push_back" | "push_front" | "insert"
        | "extend" | "append" => MapOpKind::Write,
        "drain" => MapOpKind::Drain,
        "get" | "get_mut" | "first" | "first_mut" | "last" | "last_mut" => MapOpKind::Read,
        _ => return None,
    })
}

/// Names of calls that start concurrent work when given a closure or a future.
pub fn is_spawn_name(name: &str) -> bool {
    name == "Go"
        || matches!(
            name,
            "spawn"
                | "spawn_blocking"
                | "spawn_local"
                | "spawn_scoped"
                | "spawn_fifo"
                | "spawn_broadcast"
                | "spawn_unchecked"
        )
}

/// Classifies a call to a path outside the program (`std::thread::spawn`, `Arc::new`,
/// `scopeguard::guard`...). `type_of` classifies a type path.
pub fn external_function(
    path: &[&str],
    type_of: impl Fn(&[&str]) -> Option<LibTy>,
) -> Option<LibCall> {
    let last = *path.last()?;
    let krate = if path.len() > 1 { path[0] } else { "" };
    let parent = if path.len() > 1 {
        path[path.len() - 2]
    } else {
        ""
    };
    if is_spawn_name(last) {
        let known_module = matches!(
            krate,
            "std"
                | "tokio"
                | "rayon"
                | "async_std"
                | "smol"
                | "glommio"
                | "tokio_util"
                | "actix_rt"
                | "futures"
        ) || matches!(
            parent,
            "thread" | "task" | "rt" | "runtime" | "tokio" | "rayon" | "async_std" | "smol"
        );
        if known_module || path.len() == 1 {
            return Some(LibCall::Spawn(SpawnKind::Task));
        }
    }
    match (parent, last) {
        ("rayon", "join") | ("rayon", "join_context") | ("", "join_context") => {
            return Some(LibCall::Spawn(SpawnKind::Join));
        }
        ("thread", "scope")
        | ("rayon", "scope")
        | ("rayon", "scope_fifo")
        | ("crossbeam", "scope")
        | ("crossbeam_utils", "scope") => {
            return Some(LibCall::Spawn(SpawnKind::Scope));
        }
        ("scopeguard", "guard" | "guard_on_unwind" | "guard_on_success") => {
            return Some(LibCall::ScopeGuard);
        }
        ("", "guard" | "guard_on_unwind" | "guard_on_success") => return Some(LibCall::ScopeGuard),
        ("process", "exit" | "abort") => return Some(LibCall::Exit),
        ("mem", "forget") | ("ScopeGuard", "into_inner") => return Some(LibCall::Forget),
        ("mem", "take" | "replace") => return Some(LibCall::TakeOut),
        ("", "Some") => return Some(LibCall::Wrap(LibTy::Option, LockFlavor::Unknown)),
        ("Arc" | "Rc", "clone") => return Some(LibCall::Clone { shares: true }),
        ("Arc" | "Rc", "downgrade") => return Some(LibCall::Downgrade),
        ("Weak", "upgrade") => return Some(LibCall::Upgrade),
        ("Default", "default") => return Some(LibCall::Construct(LibTy::Transparent)),
        _ => {}
    }
    let _ = krate;
    let lib = type_of(&path[..path.len() - 1])?;
    type_function(lib, last)
}

/// An associated function of a library type: `Arc::new`, `HashMap::with_capacity`...
pub fn type_function(lib: LibTy, name: &str) -> Option<LibCall> {
    let wraps = matches!(
        lib,
        LibTy::Arc
            | LibTy::Rc
            | LibTy::Box
            | LibTy::Mutex(_)
            | LibTy::RwLock(_)
            | LibTy::RefCell
            | LibTy::Cell
            | LibTy::UnsafeCell
            | LibTy::Lazy
            | LibTy::Transparent
            | LibTy::ManuallyDrop
            | LibTy::Option
    );
    match name {
        "new" | "from" | "pin" | "new_in" | "const_new" if wraps => {
            let flavor = match lib {
                LibTy::Mutex(flavor) | LibTy::RwLock(flavor) => flavor,
                _ => LockFlavor::Unknown,
            };
            Some(LibCall::Wrap(lib, flavor))
        }
        "new"
        | "default"
        | "with_capacity"
        | "with_hasher"
        | "with_capacity_and_hasher"
        | "from_iter"
        | "with_shard_amount"
        | "from" => Some(LibCall::Construct(lib)),
        "clone" if matches!(lib, LibTy::Arc | LibTy::Rc) => Some(LibCall::Clone { shares: true }),
        "downgrade" => Some(LibCall::Downgrade),
        "upgrade" => Some(LibCall::Upgrade),
        "into_inner" if matches!(lib, LibTy::ScopeGuard) => Some(LibCall::Forget),
        _ => match (lib, lock_method(name)) {
            (LibTy::Mutex(flavor) | LibTy::RwLock(flavor), Some((mode, attempt))) => {
                Some(LibCall::Lock {
                    mode,
                    attempt,
                    flavor,
                })
            }
            _ => None,
        },
    }
}

/// A method of a library type, found through auto-deref.
pub fn lib_method(lib: LibTy, name: &str, arg_count: usize) -> Option<LibCall> {
    match lib {
        LibTy::Mutex(flavor) | LibTy::RwLock(flavor) => {
            if let Some((mode, attempt)) = lock_method(name) {
                // `read`/`write` of an `RwLock` take no argument; anything else is not a lock.
                if arg_count == 0 || attempt == LockAttempt::Try && name.ends_with("_for") {
                    return Some(LibCall::Lock {
                        mode,
                        attempt,
                        flavor,
                    });
                }
            }
            match name {
                "get_mut" | "into_inner" | "data_ptr" => Some(LibCall::Access),
                _ => None,
            }
        }
        LibTy::Map {
            flavor: MapFlavor::Sharded,
            ..
        } => shard_reference_method(name)
            .map(|(mode, attempt)| LibCall::Lock {
                mode,
                attempt,
                flavor: LockFlavor::Shard,
            })
            .or_else(|| {
                map_method(name).map(|kind| LibCall::Map {
                    kind,
                    flavor: MapFlavor::Sharded,
                })
            }),
        LibTy::Map { flavor, .. } => map_method(name).map(|kind| LibCall::Map { kind, flavor }),
        LibTy::Vec => seq_method(name).map(|kind| LibCall::Seq { kind }),
        LibTy::Weak if name == "upgrade" => Some(LibCall::Upgrade),
        LibTy::UnsafeCell if name == "get" => Some(LibCall::RawGet),
        LibTy::UnsafeCell | LibTy::Cell | LibTy::RefCell if name == "get_mut" => {
            Some(LibCall::Access)
        }
        LibTy::RefCell => {
            let (mode, attempt) = match name {
                "borrow" => (LockMode::Read, LockAttempt::Blocking),
                "borrow_mut" => (LockMode::Write, LockAttempt::Blocking),
                "try_borrow" => (LockMode::Read, LockAttempt::Try),
                "try_borrow_mut" => (LockMode::Write, LockAttempt::Try),
                _ => return None,
            };
            Some(LibCall::Lock {
                mode,
                attempt,
                flavor: LockFlavor::RefCell,
            })
        }
        LibTy::Lazy if matches!(name, "force" | "get" | "get_or_init" | "get_mut") => {
            Some(LibCall::Access)
        }
        LibTy::JoinHandle if name == "join" => Some(LibCall::Join),
        LibTy::LocalKey => match name {
            "with" | "with_borrow" | "with_borrow_mut" | "set" | "get" | "take" | "replace" => {
                Some(LibCall::LocalKey { fallible: false })
            }
            "try_with" => Some(LibCall::LocalKey { fallible: true }),
            _ => None,
        },
        LibTy::Option | LibTy::Result => handler_method(name),
        LibTy::Arc | LibTy::Rc | LibTy::Box if matches!(name, "as_ref" | "as_ptr") => {
            Some(LibCall::Access)
        }
        _ => None,
    }
}

/// `unwrap`, `expect` and friends, on any receiver.
pub fn handler_method(name: &str) -> Option<LibCall> {
    match name {
        "unwrap" | "unwrap_unchecked" => Some(LibCall::Unwrap),
        "expect" => Some(LibCall::Expect),
        "unwrap_or_else" | "unwrap_or" | "unwrap_or_default" => Some(LibCall::UnwrapOr),
        "as_ref" | "as_mut" | "as_deref" | "as_deref_mut" | "take" | "get_or_insert_with" => {
            Some(LibCall::Access)
        }
        _ => None,
    }
}

/// A Go library function or builtin, by import path and name (`["sync", ..]`, `["os", "Exit"]`,
/// `["make"]`), or one of the frontend's pseudo-calls (`go`, `<recv>`, `<composite>`).
pub fn go_function(path: &[&str]) -> Option<LibCall> {
    Some(match path {
        ["go"] => LibCall::Spawn(SpawnKind::Task),
        ["<recv>"] => LibCall::Join,
        ["make"] | ["new"] | ["<composite>"] => LibCall::Construct(LibTy::Transparent),
        ["delete"] | ["maps" | "golang.org/x/exp/maps", "Copy" | "DeleteFunc"] => LibCall::Map {
            kind: MapOpKind::Write,
            flavor: MapFlavor::Plain,
        },
        ["clear"] => LibCall::Map {
            kind: MapOpKind::WriteDroppingValues,
            flavor: MapFlavor::Plain,
        },
        ["len"] => LibCall::Map {
            kind: MapOpKind::Read,
            flavor: MapFlavor::Plain,
        },
        ["time", "AfterFunc"] | ["context", "AfterFunc"] => LibCall::Spawn(SpawnKind::Task),
        [
            "net/http",
            "HandleFunc" | "Handle" | "ListenAndServe" | "ListenAndServeTLS" | "Serve" | "ServeTLS",
        ]
        | [
            "net/http/httptest",
            "NewServer" | "NewUnstartedServer" | "NewTLSServer",
        ] => LibCall::Spawn(SpawnKind::Handler),
        // gRPC: `pb.RegisterGreeterServer(s, srv)` serves each call of `srv`'s methods on its
        // own goroutine.
        [_, name] if name.starts_with("Register") && name.ends_with("Server") => {
            LibCall::Spawn(SpawnKind::Handler)
        }
        ["os", "Exit"] | ["log", "Fatal" | "Fatalf" | "Fatalln"] => LibCall::Exit,
        _ => return None,
    })
}

/// A method of a Go value whose type the analysis does not know that starts goroutines, by its
/// name: a router's `HandleFunc(pattern, f)`, and `Handle(pattern, h)` or `GET(path, f)`-style
/// routes whose pattern is written in the call (a literal or a constant), run the handler on a
/// goroutine per request (any `ServeMux`, gorilla, chi, gin, echo); `errgroup.Group`'s
/// `Go(f)` runs `f` on its own goroutine.
pub fn go_unknown_receiver_spawn(name: &str, args: usize, route: bool) -> Option<SpawnKind> {
    match name {
        "HandleFunc" if args >= 2 => Some(SpawnKind::Handler),
        "Handle" | "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS" | "Any"
            if args >= 2 && route =>
        {
            Some(SpawnKind::Handler)
        }
        "Go" | "TryGo" if args == 1 => Some(SpawnKind::Task),
        _ => None,
    }
}

/// A call on a receiver of unknown type (a type of a package outside the module, such as a
/// dependency's mutex wrapper) named as `sync.Locker`'s methods and `RWMutex`'s: taken for the
/// lock operation it names. Its flavor stays unknown: such a lock may be reentrant, so it is
/// never reported as locked twice, only counted as held.
pub fn go_unknown_receiver_lock(name: &str, args: usize) -> Option<LibCall> {
    if args != 0 {
        return None;
    }
    let flavor = LockFlavor::Unknown;
    Some(match name {
        "Lock" => LibCall::Lock {
            mode: LockMode::Exclusive,
            attempt: LockAttempt::Blocking,
            flavor,
        },
        "RLock" => LibCall::Lock {
            mode: LockMode::Read,
            attempt: LockAttempt::Blocking,
            flavor,
        },
        "Unlock" => LibCall::Unlock {
            mode: LockMode::Exclusive,
        },
        "RUnlock" => LibCall::Unlock {
            mode: LockMode::Read,
        },
        _ => return None,
    })
}

/// A call on a receiver of unknown type that waits for the goroutines its `Go(f)` started:
/// `errgroup.Group`'s and conc pools' `Wait()`.
pub fn go_unknown_receiver_join(name: &str, args: usize) -> bool {
    name == "Wait" && args == 0
}

/// A method of a Go library type.
pub fn go_method(lib: LibTy, name: &str) -> Option<LibCall> {
    match lib {
        LibTy::Mutex(flavor) | LibTy::RwLock(flavor) => match name {
            "Lock" => Some(LibCall::Lock {
                mode: LockMode::Exclusive,
                attempt: LockAttempt::Blocking,
                flavor,
            }),
            "RLock" => Some(LibCall::Lock {
                mode: LockMode::Read,
                attempt: LockAttempt::Blocking,
                flavor,
            }),
            "TryLock" => Some(LibCall::Lock {
                mode: LockMode::Exclusive,
                attempt: LockAttempt::Try,
                flavor,
            }),
            "TryRLock" => Some(LibCall::Lock {
                mode: LockMode::Read,
                attempt: LockAttempt::Try,
                flavor,
            }),
            "Unlock" => Some(LibCall::Unlock {
                mode: LockMode::Exclusive,
            }),
            "RUnlock" => Some(LibCall::Unlock {
                mode: LockMode::Read,
            }),
            _ => None,
        },
        LibTy::Once => match name {
            "Do" => Some(LibCall::RunOnce),
            _ => None,
        },
        LibTy::WaitGroup => match name {
            "Done" => Some(LibCall::Done),
            "Wait" => Some(LibCall::Join),
            "Go" => Some(LibCall::Spawn(SpawnKind::Task)),
            _ => None,
        },
        LibTy::Map { flavor, .. } => match name {
            "Set" | "Add" | "Del" => Some(LibCall::Map {
                kind: MapOpKind::Write,
                flavor,
            }),
            "Get" | "Values" | "Has" | "Encode" => Some(LibCall::Map {
                kind: MapOpKind::Read,
                flavor,
            }),
            _ => None,
        },
        _ => None,
    }
}

/// What a piece of code does outside the process's memory, the most telling first (a flush
/// loses everything buffered; a log line is one line).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Effect {
    Flush,
    Remove,
    Rename,
    Write,
    Send,
    Print,
    Log,
}

impl Effect {
    /// What the code does, as a verb phrase ("flushes buffered output").
    pub fn what(self) -> &'static str {
        match self {
            Effect::Print => "prints output",
            Effect::Log => "writes a log line",
            Effect::Flush => "flushes buffered output",
            Effect::Write => "writes data",
            Effect::Remove => "removes a file",
            Effect::Rename => "renames a file",
            Effect::Send => "sends a message",
        }
    }

    /// What is lost when the code never runs, as the object of "never happens".
    pub fn lost(self) -> &'static str {
        match self {
            Effect::Print => "this output is never printed",
            Effect::Log => "this log line is never written",
            Effect::Flush => "this flush never happens: the buffered output is lost",
            Effect::Write => "this write never happens",
            Effect::Remove => "this removal never happens: the file stays behind",
            Effect::Rename => "this rename never happens",
            Effect::Send => "this message is never sent",
        }
    }
}

/// Output macros: `println!`, `eprintln!`, `writeln!`, and the `log`/`tracing` macros.
pub fn rust_macro_effect(name: &str) -> Option<Effect> {
    Some(match name {
        "print" | "println" | "eprint" | "eprintln" | "dbg" => Effect::Print,
        "write" | "writeln" => Effect::Write,
        "info" | "warn" | "error" | "debug" | "trace" | "log" | "event" => Effect::Log,
        _ => return None,
    })
}
