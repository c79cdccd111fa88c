//! What code does outside the process's memory: prints, logs, flushes, writes, removals and
//! renames of files, messages sent. An exit that skips such code loses what it would have
//! done; an exit that skips only in-memory updates (unlocks, map writes) loses nothing, since
//! the process's memory is gone with it.
//!
//! Only the function's own code is looked at: calls into the program are followed by the
//! caller through the call graph, so a program method named `Flush` is judged by its body, not
//! by its name. Library calls are judged by what they are known to do (`fmt.Println`,
//! `os.Remove`, `std::fs::rename`, `println!`) and, on a receiver that is not a type of the
//! program, by the method's name where the name says it (`Flush`, `Write`, a logger's `Info`).
//! A `Close` of a file or a connection, an `fsync` and a database `Rollback` are not effects
//! lost at exit: the kernel keeps what was written to a descriptor and closes it, and a server
//! rolls back the transaction of a connection that went away.

use rustc_hash::FxHashSet as HashSet;

use crate::model::facts::{CallId, Callee, Event, Node, Value, ValueId};
use crate::model::known::rust_macro_effect;
use crate::model::modules::{FunctionId, Resolved};
use crate::model::types::TyKind;
use crate::model::{CallTarget, Program};
use crate::source::{Language, Span};

pub use crate::model::known::Effect;

/// The most telling effect outside the process's memory in `function`'s own code (not its
/// callees'), with where it happens.
pub fn own_effect(program: &Program, function: FunctionId) -> Option<(Span, Effect)> {
    let mut best: Option<(Span, Effect)> = None;
    let mut found = |span: Span, effect: Effect| {
        if best.is_none_or(|(_, known)| effect < known) {
            best = Some((span, effect));
        }
    };
    let info = program.function(function);
    let owner = info.owner;
    let body = program.body(owner);
    let go = program.language == Language::Go;
    let conditional = calls_in_branches(program, function);
    for (id, call) in program.own_calls(function) {
        if program.call_target(owner, id) != CallTarget::Unknown {
            continue;
        }
        let effect = match &call.callee {
            Callee::Path(path) => {
                match program
                    .tree
                    .resolve(info.module, &path.segments, path.leading_colon)
                {
                    Some(Resolved::External(segments)) => {
                        let segments: Vec<&str> = segments.iter().map(|s| &**s).collect();
                        // `fmt.Fprintf(&b, ..)` into a `strings.Builder`: memory.
                        let into_memory = call
                            .args
                            .first()
                            .is_some_and(|&arg| in_memory_writer(program, owner, arg));
                        if into_memory {
                            None
                        } else if go {
                            go_function_effect(&segments)
                        } else {
                            rust_function_effect(&segments)
                        }
                    }
                    _ => None,
                }
            }
            Callee::Method { receiver, name, .. } => {
                if outside_program(program, owner, *receiver)
                    && !in_memory_writer(program, owner, *receiver)
                {
                    if go {
                        go_method_effect(name, call.args.len())
                    } else {
                        rust_method_effect(name, call.args.len())
                    }
                } else {
                    None
                }
            }
            Callee::Dynamic(_) => None,
        };
        if let Some(effect) = effect {
            // A print or a log line that only some paths write (the report of a failed
            // `Close`, of a recovered panic) is not lost by an exit that takes neither path.
            if matches!(effect, Effect::Print | Effect::Log) && conditional.contains(&id) {
                continue;
            }
            found(call.span, effect);
        }
    }
    if !go {
        let mut events = Vec::new();
        events_with_branching(&program.fact(function).nodes, false, &mut events);
        for (event, conditional) in events {
            let Event::Output { value } = event else {
                continue;
            };
            let Value::Macro { name, span } = body.value(value) else {
                continue;
            };
            if let Some(effect) = rust_macro_effect(name) {
                if conditional && matches!(effect, Effect::Print | Effect::Log) {
                    continue;
                }
                found(*span, effect);
            }
        }
    }
    best
}

/// The most telling effect outside the process's memory of deferred code starting at `root`
/// and what it runs within `max_depth` calls. A print or log line of a function that the code
/// calls only on some paths (`if err != nil { logf(..) }`) does not count, as in the code
/// itself.
pub fn cleanup_effect(
    program: &Program,
    calls: &crate::graph::calls::CallGraph,
    root: FunctionId,
    max_depth: u32,
) -> Option<(Span, Effect)> {
    let reached: Vec<FunctionId> = calls
        .shortest_paths_in_task(root)
        .into_iter()
        .take_while(|(_, depth, _)| *depth <= max_depth)
        .map(|(function, _, _)| function)
        .collect();
    // Functions reached only through calls made on some paths (of code itself reached so).
    let mut unconditional: HashSet<FunctionId> = HashSet::default();
    let mut called: HashSet<FunctionId> = HashSet::default();
    unconditional.insert(root);
    for &function in &reached {
        let in_branches = calls_in_branches(program, function);
        let sure = unconditional.contains(&function);
        for (call, _) in program.own_calls(function) {
            for target in calls.call_targets(program, function, call) {
                called.insert(target);
                if sure && !in_branches.contains(&call) {
                    unconditional.insert(target);
                }
            }
        }
    }
    let mut best: Option<(Span, Effect)> = None;
    for &function in &reached {
        let sometimes = called.contains(&function) && !unconditional.contains(&function);
        if let Some((span, effect)) = own_effect(program, function) {
            if sometimes && matches!(effect, Effect::Print | Effect::Log) {
                continue;
            }
            if best.is_none_or(|(_, known)| effect < known) {
                best = Some((span, effect));
            }
        }
    }
    best
}

/// The events of a function's code, each with whether only some paths reach it (it sits in
/// an arm of an `if`, a `switch` or a `match`).
fn events_with_branching(nodes: &[Node], inside: bool, out: &mut Vec<(Event, bool)>) {
    for node in nodes {
        match node {
            Node::Event(event @ (Event::Call(_) | Event::Output { .. })) => {
                out.push((event.clone(), inside));
            }
            Node::Event(_) => {}
            Node::Branch(arms) => {
                for arm in arms {
                    events_with_branching(arm, true, out);
                }
            }
            Node::Loop(body) => events_with_branching(body, inside, out),
        }
    }
}

/// The calls a function makes only on some paths.
fn calls_in_branches(program: &Program, function: FunctionId) -> HashSet<CallId> {
    let mut events = Vec::new();
    events_with_branching(&program.fact(function).nodes, false, &mut events);
    events
        .into_iter()
        .filter_map(|(event, inside)| match event {
            Event::Call(call) if inside => Some(call),
            _ => None,
        })
        .collect()
}

/// A writer whose output stays in memory: a `strings.Builder`, a `bytes.Buffer`, a `String`
/// or a `Vec<u8>`.
fn in_memory_writer(program: &Program, owner: FunctionId, value: ValueId) -> bool {
    let ty = program.types.autoderef(program.value_ty(owner, value));
    match program.types.kind(ty) {
        TyKind::Opaque(name) => matches!(&**name, "Builder" | "Buffer" | "String"),
        TyKind::Lib(crate::model::types::LibTy::Vec, _) => true,
        _ => false,
    }
}

/// The receiver's type is not one of the program's: its methods are judged by their names.
fn outside_program(program: &Program, owner: FunctionId, receiver: ValueId) -> bool {
    let ty = program.types.autoderef(program.value_ty(owner, receiver));
    !matches!(
        program.types.kind(ty),
        TyKind::Adt(..) | TyKind::Dyn(_) | TyKind::Param(_)
    )
}

/// Go package functions: `fmt.Println`, `log.Printf`, `os.Remove`, a logging package's `Info`.
fn go_function_effect(path: &[&str]) -> Option<Effect> {
    let (package, name) = match path {
        [package, name] => (*package, *name),
        _ => return None,
    };
    // The package's name: the last element of its import path that is not a major version
    // (`k8s.io/klog/v2` is `klog`).
    let last = package
        .rsplit('/')
        .find(|element| {
            !(element.len() > 1
                && element.starts_with('v')
                && element[1..].bytes().all(|b| b.is_ascii_digit()))
        })
        .unwrap_or(package);
    Some(match (package, name) {
        ("fmt", "Print" | "Printf" | "Println" | "Fprint" | "Fprintf" | "Fprintln") => {
            Effect::Print
        }
        ("log", "Print" | "Printf" | "Println" | "Output") => Effect::Log,
        ("os", "Remove" | "RemoveAll") => Effect::Remove,
        ("os", "Rename") => Effect::Rename,
        ("os", "WriteFile") | ("io", "WriteString") => Effect::Write,
        _ if is_logging_package(last) && name == "Flush" => Effect::Flush,
        _ if (is_logging_package(last) || package == "log/slog") && is_log_name(name) => {
            Effect::Log
        }
        _ => return None,
    })
}

/// The last element of the import path of a logging package.
fn is_logging_package(last: &str) -> bool {
    matches!(
        last,
        "slog" | "logrus" | "zap" | "klog" | "glog" | "zerolog" | "log15" | "hclog" | "logr"
    ) || last.starts_with("klog")
}

/// The names of a logger's output methods.
fn is_log_name(name: &str) -> bool {
    let stem = name
        .strip_suffix("Context")
        .unwrap_or(name)
        .trim_end_matches(['f', 'w'])
        .trim_end_matches("ln");
    matches!(
        stem,
        "Info" | "Warn" | "Warning" | "Error" | "Debug" | "Trace" | "Log" | "Print" | "Notice"
    )
}

/// Methods of values from outside the program, by name: `w.Flush()`, `w.Write(b)`,
/// `logger.Info("..")`, `stream.Send(m)`.
fn go_method_effect(name: &str, args: usize) -> Option<Effect> {
    Some(match name {
        "Flush" => Effect::Flush,
        "Print" | "Printf" | "Println" => Effect::Print,
        "Write" | "WriteString" | "WriteByte" | "WriteRune" | "WriteAll" if args > 0 => {
            Effect::Write
        }
        "Send" | "SendMsg" if args > 0 => Effect::Send,
        "Msg" | "Msgf" if args > 0 => Effect::Log,
        _ if args > 0 && is_log_name(name) => Effect::Log,
        _ => return None,
    })
}

/// Rust library functions: `std::fs::remove_file`, `fs::rename`, `fs::write`.
fn rust_function_effect(path: &[&str]) -> Option<Effect> {
    match path {
        [.., "fs", "remove_file" | "remove_dir" | "remove_dir_all"] => Some(Effect::Remove),
        [.., "fs", "rename"] => Some(Effect::Rename),
        [.., "fs", "write"] => Some(Effect::Write),
        _ => None,
    }
}

/// Methods of values from outside the program, by name: `out.flush()`, `file.write_all(b)`.
fn rust_method_effect(name: &str, args: usize) -> Option<Effect> {
    match name {
        "flush" => Some(Effect::Flush),
        "write_all" | "write_fmt" | "write" if args > 0 => Some(Effect::Write),
        _ => None,
    }
}

/// What dropping a library value bound to a local does outside the process's memory: a
/// `BufWriter` or `LineWriter` flushes what it buffered, a `tempfile` file or folder is
/// removed. Known from the local's declared type or from the constructor that made it
/// (`BufWriter::new(..)`, `NamedTempFile::new()?`, `tempfile::tempdir().unwrap()`).
pub fn rust_drop_effect(
    program: &Program,
    owner: FunctionId,
    local: crate::model::facts::LocalId,
) -> Option<Effect> {
    if program.language != Language::Rust {
        return None;
    }
    let body = program.body(owner);
    let fact = body.locals.get(local.index())?;
    if fact.by_ref {
        return None;
    }
    if let Some(crate::model::facts::TypeExpr::Path(path)) = &fact.ty {
        if let Some(effect) = dropped_type_effect(path.last()) {
            return Some(effect);
        }
    }
    let module = program.function(owner).module;
    let mut value = fact.init?;
    for _ in 0..4 {
        match body.value(value) {
            Value::Try(inner) => value = *inner,
            Value::Call(call) => {
                let call = body.call(*call);
                match &call.callee {
                    Callee::Method { receiver, name, .. }
                        if matches!(&**name, "unwrap" | "expect") =>
                    {
                        value = *receiver;
                    }
                    Callee::Path(path) => {
                        let Some(Resolved::External(segments)) =
                            program
                                .tree
                                .resolve(module, &path.segments, path.leading_colon)
                        else {
                            return None;
                        };
                        let segments: Vec<&str> = segments.iter().map(|s| &**s).collect();
                        return match segments.as_slice() {
                            [.., "tempfile", "tempdir" | "tempdir_in"] => Some(Effect::Remove),
                            [.., ty, "new" | "with_capacity" | "new_in" | "with_prefix"] => {
                                dropped_type_effect(ty)
                            }
                            _ => None,
                        };
                    }
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
    None
}

/// Library types whose drop has an effect outside the process.
fn dropped_type_effect(name: &str) -> Option<Effect> {
    match name {
        "BufWriter" | "LineWriter" => Some(Effect::Flush),
        "NamedTempFile" | "TempDir" | "TempPath" => Some(Effect::Remove),
        _ => None,
    }
}
