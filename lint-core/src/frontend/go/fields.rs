//! The field ids of tree-sitter-go's grammar, looked up once: `child_by_field_name` compares
//! the name against every field of the grammar at each call.

use std::num::NonZeroU16;
use std::sync::OnceLock;

use tree_sitter::{Node, TreeCursor};

macro_rules! go_fields {
    ($($field:ident = $name:literal),* $(,)?) => {
        pub(crate) struct Fields {
            $(pub(crate) $field: NonZeroU16,)*
        }

        impl Fields {
            fn load() -> Fields {
                let language: tree_sitter::Language = tree_sitter_go::LANGUAGE.into();
                Fields {
                    $($field: language
                        .field_id_for_name($name)
                        .expect(concat!("tree-sitter-go has the field `", $name, "`")),)*
                }
            }
        }
    };
}

go_fields! {
    alternative = "alternative",
    arguments = "arguments",
    body = "body",
    channel = "channel",
    communication = "communication",
    condition = "condition",
    consequence = "consequence",
    element = "element",
    field = "field",
    function = "function",
    index = "index",
    initializer = "initializer",
    key = "key",
    left = "left",
    name = "name",
    operand = "operand",
    operator = "operator",
    package = "package",
    parameters = "parameters",
    path = "path",
    receiver = "receiver",
    result = "result",
    right = "right",
    ty = "type",
    update = "update",
    value = "value",
}

/// The grammar's field ids.
pub(crate) fn field_ids() -> &'static Fields {
    static FIELDS: OnceLock<Fields> = OnceLock::new();
    FIELDS.get_or_init(Fields::load)
}

/// Field access by id.
pub(crate) trait FieldExt<'tree> {
    fn field(&self, id: NonZeroU16) -> Option<Node<'tree>>;
    fn fields_of<'cursor>(
        &self,
        id: NonZeroU16,
        cursor: &'cursor mut TreeCursor<'tree>,
    ) -> impl Iterator<Item = Node<'tree>> + 'cursor
    where
        'tree: 'cursor;
}

impl<'tree> FieldExt<'tree> for Node<'tree> {
    fn field(&self, id: NonZeroU16) -> Option<Node<'tree>> {
        self.child_by_field_id(id.get())
    }

    fn fields_of<'cursor>(
        &self,
        id: NonZeroU16,
        cursor: &'cursor mut TreeCursor<'tree>,
    ) -> impl Iterator<Item = Node<'tree>> + 'cursor
    where
        'tree: 'cursor,
    {
        self.children_by_field_id(id, cursor)
    }
}
