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

    /// The names of the methods called in the file's bodies, sorted.
    fn methods_called(facts: &crate::model::facts::FileFacts) -> Vec<String> {
        let mut names: Vec<String> = facts
            .bodies
            .iter()
            .flat_map(|body| &body.calls)
            .filter_map(|call| match &call.callee {
                crate::model::facts::Callee::Method { name, .. } => Some(name.to_string()),
                _ => None,
            })
            .collect();
        names.sort();
        names
    }

    fn lower(text: &str, features: Option<&FeatureSet>) -> crate::model::facts::FileFacts {
        crate::frontend::rust::lower_file(
            crate::source::FileId(0),
            text,
            crate::unit::Edition::E2021,
            &crate::model::extensions::Extensions::default(),
            features,
        )
    }

    const GATED: &str = r#"
        #[cfg(feature = "b")]
        use tokio::sync::Mutex;
        #[cfg(not(feature = "b"))]
        use std::sync::Mutex;
        #[cfg(feature = "b")]
        mod gated;
        #[cfg(feature = "a")]
        mod kept;
        #[cfg(feature = "b")]
        mod inline { fn in_b() {} }
        #[cfg(feature = "b")]
        fn only_b() {}
        #[cfg(unix)]
        fn only_unix() {}
        struct Fields {
            always: u8,
            #[cfg(feature = "b")]
            only_b: u8,
        }
        enum Variants { A(u8), #[cfg(feature = "b")] B(u16) }
        struct S;
        impl S {
            #[cfg(feature = "b")]
            fn method_b(&self) {}
            fn method(&self, x: Option<u8>) {
                #[cfg(feature = "b")]
                let y = self.let_b();
                #[cfg(feature = "b")]
                {
                    self.block_b();
                }
                #[cfg(feature = "b")]
                self.statement_b();
                #[cfg(all(unix, not(feature = "a")))]
                self.statement_not_a();
                #[cfg(any(unix, feature = "b"))]
                self.statement_unix_or_b();
                match x {
                    #[cfg(feature = "b")]
                    Some(_) => self.arm_b(),
                    _ => self.arm(),
                }
                let _ = Fields { always: self.field(), #[cfg(feature = "b")] only_b: self.field_b() };
            }
        }
    "#;

    #[test]
    fn lowering_leaves_out_what_the_features_configure_out() {
        let features = FeatureSet::new(["a"]);
        let facts = lower(GATED, Some(&features));
        assert_eq!(
            methods_called(&facts),
            ["arm", "field", "statement_unix_or_b"]
        );
        let functions: Vec<&str> = facts.functions.iter().map(|f| &*f.name).collect();
        assert!(functions.contains(&"only_unix"), "{functions:?}");
        assert!(functions.contains(&"method"), "{functions:?}");
        for left_out in ["only_b", "in_b", "method_b"] {
            assert!(!functions.contains(&left_out), "{functions:?}");
        }
        assert!(facts.inline_modules.is_empty());
        // Only the std `Mutex` is imported.
        let uses: Vec<String> = facts.uses.iter().map(|u| u.path.join("::")).collect();
        assert_eq!(uses, ["std::sync::Mutex"]);
        // The left-out `mod gated;` is recorded as such, so that its file is left out.
        let declarations: Vec<(&str, bool)> = facts
            .mod_decls
            .iter()
            .map(|d| (&*d.name, d.configured_out))
            .collect();
        assert_eq!(declarations, [("gated", true), ("kept", false)]);
        let field_names = |adt: &crate::model::facts::AdtFact| -> Vec<String> {
            adt.fields.iter().map(|f| f.name.to_string()).collect()
        };
        assert_eq!(field_names(&facts.adts[0]), ["always"]);
        assert_eq!(field_names(&facts.adts[1]), ["0"]);
    }

    #[test]
    fn lowering_with_other_or_unknown_features_reads_more() {
        let features = FeatureSet::new(["a", "b"]);
        let facts = lower(GATED, Some(&features));
        assert_eq!(
            methods_called(&facts),
            [
                "arm",
                "arm_b",
                "block_b",
                "field",
                "field_b",
                "let_b",
                "statement_b",
                "statement_unix_or_b"
            ]
        );
        // Unknown features: everything, as before features were evaluated.
        let facts = lower(GATED, None);
        assert_eq!(methods_called(&facts).len(), 9);
        assert_eq!(facts.uses.len(), 2);
        assert!(facts.mod_decls.iter().all(|d| !d.configured_out));
    }

    #[test]
    fn an_inner_cfg_attribute_leaves_the_whole_file_out() {
        let text = "#![cfg(feature = \"b\")]\nfn f() { g(); }\n";
        assert!(
            lower(text, Some(&FeatureSet::new(["a"])))
                .functions
                .is_empty()
        );
        assert_eq!(
            lower(text, Some(&FeatureSet::new(["b"]))).functions.len(),
            1
        );
        // A large file is lowered item by item, inner attributes first.
        let large = format!(
            "#![cfg(feature = \"b\")]\n{}",
            "fn f() { let x = 1; }\n".repeat(20_000)
        );
        assert!(large.len() > crate::frontend::rust::LARGE_FILE_BYTES);
        assert!(
            lower(&large, Some(&FeatureSet::new(["a"])))
                .functions
                .is_empty()
        );
        // An inline module's inner attribute.
        let inline = "mod m { #![cfg(feature = \"b\")] fn f() {} }\n";
        assert!(
            lower(inline, Some(&FeatureSet::new(["a"])))
                .functions
                .is_empty()
        );
    }
}
