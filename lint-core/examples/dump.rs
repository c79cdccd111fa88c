//! Prints what the engine learned about one Rust file: functions, lock acquisitions, deferred
//! code and deferred runs with locks held. A debugging aid: `cargo run -p deferlint-core
//! --example dump -- FILE.rs`.

#![allow(clippy::print_stdout)]

use deferlint_core::analysis::Analyses;
use deferlint_core::driver::{CrateInput, Edition, TargetKind, TargetRoot, lower_file};
use deferlint_core::model::Program;
use deferlint_core::source::{Language, SourceMap};

fn main() {
    let path = std::env::args().nth(1).expect("a file");
    let edition = std::env::args()
        .nth(2)
        .and_then(|text| Edition::parse(&text))
        .unwrap_or(Edition::E2021);
    let language = Language::of_path(path.as_ref()).unwrap_or(Language::Rust);
    let mut sources = SourceMap::new();
    let file = sources.add(path.clone().into(), path.clone(), language);
    let input = CrateInput {
        language,
        name: "dump".into(),
        lib_name: None,
        edition,
        root_dir: ".".into(),
        targets: vec![TargetRoot {
            kind: TargetKind::Bin,
            name: "dump".into(),
            file,
        }],
        files: vec![file],
        package_id: None,
        manifest_path: None,
        extensions: Default::default(),
        features: None,
    };
    let facts = lower_file(&sources, file, edition, &input.extensions, None);
    for problem in &facts.problems {
        println!("problem: {}", problem.message);
    }
    let program = Program::build(&sources, &input, vec![(file, facts)]);
    let analyses = Analyses::compute(&program);
    for id in program.function_ids() {
        let roots = analyses.deferred.roots_of(id);
        let sites = analyses.tasks.sites_running(id);
        println!(
            "fn {:?} {} deferred={} tasks={:?}",
            id,
            program.function_name(id),
            !roots.is_empty(),
            sites
        );
        for (target, kind) in analyses.calls.edges_from(id) {
            println!("    -> {} {:?}", program.function_name(target), kind);
        }
    }
    for id in program.function_ids() {
        if program.function(id).owner != id {
            continue;
        }
        let body = program.body(id);
        for (index, call) in body.calls.iter().enumerate() {
            println!(
                "  call {index} in {:?}: {:?} -> {:?}",
                call.function,
                match &call.callee {
                    deferlint_core::model::facts::Callee::Method { name, .. } => name.to_string(),
                    deferlint_core::model::facts::Callee::Path(path) => path.segments.join("::"),
                    deferlint_core::model::facts::Callee::Dynamic(_) => "(dynamic)".to_string(),
                },
                program.call_target(id, deferlint_core::model::facts::CallId::from_index(index))
            );
        }
        for index in 0..body.temps.len() {
            let slot = deferlint_core::model::facts::Slot::Temp(
                deferlint_core::model::facts::TempId::from_index(index),
            );
            let value = body.temps[index].value;
            println!(
                "  temp {index} in {}: {} : {} -> {:?}",
                program.function_name(id),
                program.value_text(id, value),
                program.type_name(program.value_ty(id, value)),
                analyses.slots.get(id, slot)
            );
        }
        for index in 0..body.locals.len() {
            let slot = deferlint_core::model::facts::Slot::Local(
                deferlint_core::model::facts::LocalId::from_index(index),
            );
            println!(
                "  local {} in {}: {} -> {:?}",
                body.locals[index].name,
                program.function_name(id),
                program.type_name(
                    program.local_ty(id, deferlint_core::model::facts::LocalId::from_index(index))
                ),
                analyses.slots.get(id, slot)
            );
        }
    }
    for op in &analyses.locks.ops {
        println!(
            "lock in {}: {} {:?} {:?} {:?} class={:?} poisons={}",
            program.function_name(op.function),
            program.value_text(op.owner, op.receiver),
            op.mode,
            op.flavor,
            op.handling,
            op.class,
            op.poisons
        );
    }
    for site in &analyses.calls.spawn_sites {
        println!(
            "spawn in {}: {:?} bodies={:?} in_loop={}",
            program.function_name(site.spawner),
            site.kind,
            site.bodies,
            site.in_loop
        );
    }
    for access in &analyses.go.accesses {
        println!(
            "go access in {} (walk {}): {} {} class={:?} held={:?} deferred={:?} after_done={} order={}",
            program.function_name(access.function),
            program.function_name(access.walked),
            if access.write { "write" } else { "read" },
            program.value_text(program.function(access.function).owner, access.map),
            access.class,
            access
                .held
                .iter()
                .map(|held| (held.class, held.mode))
                .collect::<Vec<_>>(),
            access.deferred,
            access.after_done,
            access.order
        );
    }
    for race in &analyses.go_races.races {
        for conflict in &race.conflicts {
            println!(
                "go race: write #{} with #{} {:?} sites={:?}",
                race.write, conflict.partner, conflict.overlap, conflict.sites
            );
        }
    }
    for relock in &analyses.go.relocks {
        println!("go relock: {:?}", relock);
    }
    for exit in &analyses.go.exits {
        println!(
            "go exit in {}: {:?}",
            program.function_name(exit.function),
            exit.skipped
        );
    }
    for nil in &analyses.go.nil_writes {
        println!(
            "go nil write in {} at {:?}",
            program.function_name(nil.function),
            nil.span
        );
    }
    for (function, timeline) in &analyses.go.timelines {
        if !timeline.spawns.is_empty() {
            println!(
                "timeline of {}: {:?}",
                program.function_name(*function),
                timeline
            );
        }
    }
    for run in &analyses.lock_state.runs {
        println!(
            "run in {}: {:?} runs={:?} held={:?} at {:?}",
            program.function_name(run.function),
            run.kind,
            run.runs
                .iter()
                .map(|&f| program.function_name(f))
                .collect::<Vec<_>>(),
            run.held
                .iter()
                .map(|held| program.value_text(
                    analyses.locks.get(held.lock).owner,
                    analyses.locks.get(held.lock).receiver
                ))
                .collect::<Vec<_>>(),
            run.span
        );
    }
}
