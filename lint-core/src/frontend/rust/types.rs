//! Lowering of types and paths as written.

use syn::{GenericArgument, PathArguments, Type};

use crate::model::facts::{PathExpr, Sym, TypeExpr};

pub(crate) fn sym(ident: &syn::Ident) -> Sym {
    ident.to_string().into_boxed_str()
}

/// A path with every angle-bracketed type argument collected in order.
pub(crate) fn path_expr(path: &syn::Path, qself: Option<&syn::QSelf>) -> PathExpr {
    let mut segments = Vec::with_capacity(path.segments.len());
    let mut args = Vec::new();
    for segment in &path.segments {
        segments.push(sym(&segment.ident));
        if let PathArguments::AngleBracketed(bracketed) = &segment.arguments {
            for argument in &bracketed.args {
                if let GenericArgument::Type(ty) = argument {
                    args.push(type_expr(ty));
                }
            }
        }
    }
    let qself = qself.map(|qself| {
        // `<T as Trait>::f`: the segments before `position` belong to the trait.
        if qself.position > 0 {
            segments.drain(..qself.position.min(segments.len()));
        }
        Box::new(type_expr(&qself.ty))
    });
    PathExpr {
        segments,
        args,
        qself,
        leading_colon: path.leading_colon.is_some(),
    }
}

pub(crate) fn type_expr(ty: &Type) -> TypeExpr {
    match ty {
        Type::Path(path) => TypeExpr::Path(path_expr(&path.path, path.qself.as_ref())),
        Type::Reference(reference) => TypeExpr::Ref {
            mutable: reference.mutability.is_some(),
            inner: Box::new(type_expr(&reference.elem)),
        },
        Type::Ptr(pointer) => TypeExpr::Ptr {
            mutable: matches!(pointer.mutability, syn::PointerMutability::Mut(_)),
            inner: Box::new(type_expr(&pointer.elem)),
        },
        Type::Tuple(tuple) => TypeExpr::Tuple(tuple.elems.iter().map(type_expr).collect()),
        Type::Slice(slice) => TypeExpr::Slice(Box::new(type_expr(&slice.elem))),
        Type::Array(array) => TypeExpr::Slice(Box::new(type_expr(&array.elem))),
        Type::Paren(paren) => type_expr(&paren.elem),
        Type::Group(group) => type_expr(&group.elem),
        Type::ImplTrait(bounds) => TypeExpr::Traits(trait_paths(bounds.bounds.iter())),
        Type::TraitObject(bounds) => TypeExpr::Traits(trait_paths(bounds.bounds.iter())),
        Type::FnPtr(_) => TypeExpr::FnPointer,
        Type::Never(_) => TypeExpr::Never,
        _ => TypeExpr::Unknown,
    }
}

fn trait_paths<'a>(bounds: impl Iterator<Item = &'a syn::TypeParamBound>) -> Vec<PathExpr> {
    bounds
        .filter_map(|bound| match bound {
            syn::TypeParamBound::Trait(bound) => Some(path_expr(&bound.path, None)),
            _ => None,
        })
        .collect()
}

pub(crate) fn generic_names(generics: &syn::Generics) -> Vec<Sym> {
    generics
        .params
        .iter()
        .filter_map(|param| match param {
            syn::GenericParam::Type(param) => Some(sym(&param.ident)),
            _ => None,
        })
        .collect()
}

/// `Self`, as a type expression.
pub(crate) fn self_type() -> TypeExpr {
    TypeExpr::Path(PathExpr {
        segments: vec!["Self".into()],
        args: Vec::new(),
        qself: None,
        leading_colon: false,
    })
}
