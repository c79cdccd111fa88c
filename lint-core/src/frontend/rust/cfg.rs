//! `#[cfg(..)]` predicates, evaluated against the unit's cargo features with three values:
//! `feature = "x"` is true or false when the features are known, every other predicate
//! (`unix`, `target_os = ..`, `debug_assertions`, `test`, names nobody knows) is unknown, and
//! `not`, `all` and `any` combine them by Kleene's logic. Only code whose predicate is
//! definitely false is left out: code for another platform, or for tests, is still read.

use syn::punctuated::Punctuated;
use syn::{Attribute, Meta, Token};

use crate::unit::FeatureSet;

/// A truth value of Kleene's three-valued logic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }

    /// False if any is false, else unknown if any is unknown, else true (`all()` is true).
    fn all(values: impl IntoIterator<Item = Truth>) -> Truth {
        let mut result = Truth::True;
        for value in values {
            match value {
                Truth::False => return Truth::False,
                Truth::Unknown => result = Truth::Unknown,
                Truth::True => {}
            }
        }
        result
    }

    /// True if any is true, else unknown if any is unknown, else false (`any()` is false).
    fn any(values: impl IntoIterator<Item = Truth>) -> Truth {
        let mut result = Truth::False;
        for value in values {
            match value {
                Truth::True => return Truth::True,
                Truth::Unknown => result = Truth::Unknown,
                Truth::False => {}
            }
        }
        result
    }
}

/// Whether the attributes hold a `#[cfg(..)]` (outer or inner) that is definitely false for
/// these features: the item, statement or arm they are on is not compiled. With no known
/// features nothing is left out.
pub(crate) fn is_configured_out(attrs: &[Attribute], features: Option<&FeatureSet>) -> bool {
    let Some(features) = features else {
        return false;
    };
    attrs.iter().any(|attr| {
        if !attr.path().is_ident("cfg") {
            return false;
        }
        match attr.parse_args::<Meta>() {
            Ok(predicate) => evaluate(&predicate, features) == Truth::False,
            // A predicate we cannot read is unknown: keep the code.
            Err(_) => false,
        }
    })
}

/// The value of one `cfg` predicate.
pub(crate) fn evaluate(predicate: &Meta, features: &FeatureSet) -> Truth {
    match predicate {
        Meta::Path(_) => Truth::Unknown,
        Meta::NameValue(name_value) => {
            if !name_value.path.is_ident("feature") {
                return Truth::Unknown;
            }
            match &name_value.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(name),
                    ..
                }) => {
                    if features.contains(&name.value()) {
                        Truth::True
                    } else {
                        Truth::False
                    }
                }
                _ => Truth::Unknown,
            }
        }
        Meta::List(list) => {
            let Ok(operands) =
                list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            else {
                return Truth::Unknown;
            };
            let values = operands.iter().map(|operand| evaluate(operand, features));
            if list.path.is_ident("all") {
                Truth::all(values)
            } else if list.path.is_ident("any") {
                Truth::any(values)
            } else if list.path.is_ident("not") && operands.len() == 1 {
                evaluate(&operands[0], features).not()
            } else {
                Truth::Unknown
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(predicate: &str, enabled: &[&str]) -> Truth {
        let predicate: Meta = syn::parse_str(predicate).unwrap();
        evaluate(&predicate, &FeatureSet::new(enabled.iter().copied()))
    }

    #[test]
    fn features_are_true_or_false_and_everything_else_is_unknown() {
        assert_eq!(truth(r#"feature = "a""#, &["a"]), Truth::True);
        assert_eq!(truth(r#"feature = "b""#, &["a"]), Truth::False);
        assert_eq!(truth("unix", &["a"]), Truth::Unknown);
        assert_eq!(truth("test", &["a"]), Truth::Unknown);
        assert_eq!(truth("debug_assertions", &[]), Truth::Unknown);
        assert_eq!(truth(r#"target_os = "linux""#, &[]), Truth::Unknown);
        assert_eq!(truth(r#"made_up(feature = "a")"#, &["a"]), Truth::Unknown);
        // Only a string names a feature.
        assert_eq!(truth("feature = 1", &[]), Truth::Unknown);
    }

    #[test]
    fn not_all_and_any_follow_kleene_logic() {
        assert_eq!(truth(r#"not(feature = "a")"#, &["a"]), Truth::False);
        assert_eq!(truth(r#"not(feature = "a")"#, &[]), Truth::True);
        assert_eq!(truth("not(unix)", &[]), Truth::Unknown);
        // all: false wins over unknown, unknown over true.
        assert_eq!(truth(r#"all(unix, feature = "b")"#, &["a"]), Truth::False);
        assert_eq!(truth(r#"all(unix, feature = "a")"#, &["a"]), Truth::Unknown);
        assert_eq!(
            truth(r#"all(feature = "a", feature = "b")"#, &["a", "b"]),
            Truth::True
        );
        assert_eq!(truth("all()", &[]), Truth::True);
        // any: true wins over unknown, unknown over false.
        assert_eq!(truth(r#"any(unix, feature = "a")"#, &["a"]), Truth::True);
        assert_eq!(truth(r#"any(unix, feature = "b")"#, &["a"]), Truth::Unknown);
        assert_eq!(
            truth(r#"any(feature = "b", feature = "c")"#, &["a"]),
            Truth::False
        );
        assert_eq!(truth("any()", &[]), Truth::False);
    }

    #[test]
    fn nested_predicates_combine() {
        let predicate = r#"all(not(feature = "a"), any(windows, feature = "b"))"#;
        assert_eq!(truth(predicate, &["a", "b"]), Truth::False);
        assert_eq!(truth(predicate, &["b"]), Truth::True);
        assert_eq!(truth(predicate, &[]), Truth::Unknown);
        let predicate = r#"not(any(feature = "a", all(unix, feature = "b")))"#;
        assert_eq!(truth(predicate, &["a"]), Truth::False);
        assert_eq!(truth(predicate, &["b"]), Truth::Unknown);
        assert_eq!(truth(predicate, &[]), Truth::True);
    }

    #[test]
    fn only_definitely_false_cfg_attributes_leave_code_out() {
        let attributes = |text: &str| -> Vec<Attribute> {
            let item: syn::ItemFn = syn::parse_str(&format!("{text} fn f() {{}}")).unwrap();
            item.attrs
        };
        let features = FeatureSet::new(["a"]);
        let out = |text: &str| is_configured_out(&attributes(text), Some(&features));
        assert!(out(r#"#[cfg(feature = "b")]"#));
        assert!(out(r#"#[inline] #[cfg(not(feature = "a"))]"#));
        assert!(!out(r#"#[cfg(feature = "a")]"#));
        assert!(!out("#[cfg(unix)]"));
        assert!(!out("#[cfg(test)]"));
        // `cfg_attr` only adds attributes: never a reason to leave code out.
        assert!(!out(r#"#[cfg_attr(feature = "b", inline)]"#));
        // Unknown features: everything is read.
        assert!(!is_configured_out(
            &attributes(r#"#[cfg(feature = "b")]"#),
            None
        ));
    }
}
