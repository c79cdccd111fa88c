//! `declare_rule!`: turns a rule's `///` docs and its metadata into a [`crate::RuleMeta`], the
//! way clippy's `declare_clippy_lint!` does.

/// Declares a rule's metadata. The doc comments become the rule's documentation.
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub static $ident:ident = {
            name: $name:literal,
            category: $category:ident,
            languages: [$($language:ident),* $(,)?],
            summary: $summary:literal $(,)?
        };
    ) => {
        $(#[doc = $doc])*
        pub static $ident: $crate::RuleMeta = $crate::RuleMeta {
            name: $name,
            category: $crate::Category::$category,
            languages: &[$(deferlint_core::source::Language::$language),*],
            summary: $summary,
            docs: concat!($($doc, "\n"),*),
        };
    };
}
