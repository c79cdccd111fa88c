//! Go nil maps followed through aliases, pointers, fields, package variables, interfaces and
//! callbacks: a write panics when every map the written place may hold, in some context of
//! its code, is the nil map a slot started with (a map field a struct literal or `new(T)` left
//! out, a local declared without a value, a package variable without an initializer) and no
//! code of the program, nor code outside it that was handed the object, ever stores a map
//! there. The walk of `go_state` finds the nil maps of locals path by path; this finds the
//! ones that reach a write some other way.

use rustc_hash::FxHashSet as HashSet;

use super::go_state::{GoState, NilWrite};
use super::sharing::Sharing;
use crate::graph::points_to::{FieldKey, NilOrigin, ObjId, ObjKind, PointsTo};
use crate::model::Program;
use crate::model::facts::Value;
use crate::source::Span;

/// The writes of nil maps the points-to analysis shows, one per write.
pub fn nil_writes(program: &Program, points_to: &PointsTo, go: &GoState) -> Vec<NilWrite> {
    let sharing = Sharing::compute(points_to);
    let handed_out = points_to.handed_out_objects();
    let fields_by_address = fields_whose_address_is_taken(program, points_to);
    let mut out = Vec::new();
    let mut seen: HashSet<Span> = HashSet::default();
    for access in &go.accesses {
        // A write under a test that rules nil out (`if m != nil { m[k] = v }`) never runs
        // on a nil map.
        if !access.panics_when_nil || access.known_non_nil || seen.contains(&access.span) {
            continue;
        }
        let owner = program.function(access.function).owner;
        let body = program.function(owner).body;
        for &ctx in points_to.contexts_of(body) {
            let objects = points_to.pts_in(body, ctx, access.map);
            let Some(&first) = objects.first() else {
                continue;
            };
            if !objects.iter().all(|&object| {
                certainly_nil(program, points_to, &sharing, &handed_out, object)
                    && !filled_through_address(points_to, &fields_by_address, object)
            }) {
                continue;
            }
            let Some(declared) = origin_span(program, points_to, first) else {
                continue;
            };
            seen.insert(access.span);
            out.push(NilWrite {
                function: access.function,
                span: access.span,
                declared,
                map: access.map,
                deferred: access.deferred,
                via: None,
            });
            break;
        }
    }
    out
}

/// A nil map no code can have replaced: the slot's object (for a field) was made by the
/// program, is not reachable from a package variable or a caller outside the program, and was
/// not handed to code outside the program; a package variable is not exported.
fn certainly_nil(
    program: &Program,
    points_to: &PointsTo,
    sharing: &Sharing,
    handed_out: &HashSet<ObjId>,
    object: ObjId,
) -> bool {
    let ObjKind::Nil(origin) = &points_to.object(object).kind else {
        return false;
    };
    match origin {
        NilOrigin::Field(parent, _) => {
            matches!(points_to.object(*parent).kind, ObjKind::Alloc { .. })
                && !sharing.is_global(*parent)
                && !handed_out.contains(parent)
        }
        // `json.Unmarshal(data, &m)`: code given the local's address may fill it.
        NilOrigin::Local { body, local, .. } => {
            !address_taken(arena(program, *body), *local)
                && !assigned_from_unknown(program, points_to, *body, *local)
        }
        NilOrigin::Static(id) => !program
            .static_item(*id)
            .name
            .starts_with(|c: char| c.is_ascii_uppercase()),
    }
}

/// Whether code assigns the local a value the analysis knows nothing of (the result of a
/// function it does not see: another package of a module analysed package by package).
fn assigned_from_unknown(
    program: &Program,
    points_to: &PointsTo,
    body: crate::model::BodyId,
    local: crate::model::facts::LocalId,
) -> bool {
    let arena = arena(program, body);
    let mut assignments = Vec::new();
    for function in program.function_ids() {
        if program.function(function).body == body {
            crate::graph::points_to::collect_assignments(
                &program.fact(function).nodes,
                &mut assignments,
            );
        }
    }
    let owner = program.function_ids().find(|&function| {
        program.function(function).body == body && program.function(function).owner == function
    });
    let Some(owner) = owner else {
        return true;
    };
    assignments.iter().any(|&(target, value)| {
        matches!(arena.value(target), Value::Local(found) if *found == local)
            && !matches!(arena.value(value), Value::Literal)
            && points_to.pts(program, owner, value).is_empty()
    })
}

/// Struct fields whose address some call is given (`&p.Inline`, by the struct's type): it may
/// make the map (`mergeInline(&p.Inline, ..)` does `*dst = make(..)`).
fn fields_whose_address_is_taken(
    program: &Program,
    points_to: &PointsTo,
) -> HashSet<(
    crate::model::types::TyId,
    crate::graph::points_to::FieldName,
)> {
    let mut fields = HashSet::default();
    for owner in program.function_ids() {
        if program.function(owner).owner != owner {
            continue;
        }
        let body = program.body(owner);
        // Handed to a call (`fill(&p.m)`); an address kept in a local to write through
        // (`ptr := &p.m; (*ptr)[k] = v`) makes nothing.
        for &arg in body.calls.iter().flat_map(|call| call.args.iter()) {
            let (Value::Ref { inner, .. } | Value::RawRef { inner, .. }) = body.value(arg) else {
                continue;
            };
            if let Value::Field { base, name } = body.value(*inner) {
                let ty = program.types.strip_refs(program.value_ty(owner, *base));
                if let Some(field) = points_to.field_name(name) {
                    fields.insert((ty, field));
                }
            }
        }
    }
    fields
}

/// A nil map field whose address some code takes for a struct of its parent's type.
fn filled_through_address(
    points_to: &PointsTo,
    fields: &HashSet<(
        crate::model::types::TyId,
        crate::graph::points_to::FieldName,
    )>,
    object: ObjId,
) -> bool {
    let ObjKind::Nil(NilOrigin::Field(parent, FieldKey::Named(field))) =
        &points_to.object(object).kind
    else {
        return false;
    };
    fields.contains(&(points_to.object(*parent).ty, *field))
}

/// Whether the arena takes a local's address anywhere (`&m`).
fn address_taken(arena: &crate::model::facts::Body, local: crate::model::facts::LocalId) -> bool {
    arena.values.iter().any(|value| match value {
        Value::Ref { inner, .. } | Value::RawRef { inner, .. } => {
            matches!(arena.value(*inner), Value::Local(found) if *found == local)
        }
        _ => false,
    })
}

/// Where a nil map's slot is declared: the struct literal or `new(T)` that left the field
/// out, the local, the package variable.
fn origin_span(program: &Program, points_to: &PointsTo, object: ObjId) -> Option<Span> {
    let ObjKind::Nil(origin) = &points_to.object(object).kind else {
        return None;
    };
    match origin {
        NilOrigin::Field(parent, _) => {
            let ObjKind::Alloc { body, value, .. } = points_to.object(*parent).kind else {
                return None;
            };
            let arena = arena(program, body);
            match arena.value(value) {
                Value::Struct { span, .. } => Some(*span),
                Value::Call(call) => Some(arena.call(*call).span),
                _ => None,
            }
        }
        NilOrigin::Local { body, local, .. } => Some(arena(program, *body).local(*local).span),
        NilOrigin::Static(id) => Some(program.static_item(*id).span),
    }
}

fn arena(program: &Program, body: crate::model::BodyId) -> &crate::model::facts::Body {
    let info = &program.bodies[body.0 as usize];
    &program.files[info.file as usize].facts.bodies[info.idx.index()]
}
