//! The filter grammar in one place: the operators of a field condition (`{ title: { eq: "x" } }`),
//! which scalar types offer which, and the quantifiers of a `@hasMany` condition. The GraphQL
//! filter inputs, the SQL compiler and the load-time check of `@auth` `where:` all read it.

use super::{ScalarType, naming};

/// One operator of a `<Type>Filter` input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Ne,
    In,
    NotIn,
    Lt,
    Lte,
    Gt,
    Gte,
    Contains,
    StartsWith,
    EndsWith,
    IsNull,
}

/// What an operator compares the field with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    /// One value of the field's type.
    One,
    /// A list of values of the field's type (a single value stands for a one-item list).
    List,
    /// `true` or `false`.
    Boolean,
}

impl Operator {
    /// Every operator, in the order filter inputs list them.
    pub const ALL: [Operator; 12] = [
        Self::Eq,
        Self::Ne,
        Self::In,
        Self::NotIn,
        Self::Lt,
        Self::Lte,
        Self::Gt,
        Self::Gte,
        Self::Contains,
        Self::StartsWith,
        Self::EndsWith,
        Self::IsNull,
    ];

    /// Its name in GraphQL and in `where:`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::In => "in",
            Self::NotIn => "notIn",
            Self::Lt => "lt",
            Self::Lte => "lte",
            Self::Gt => "gt",
            Self::Gte => "gte",
            Self::Contains => "contains",
            Self::StartsWith => "startsWith",
            Self::EndsWith => "endsWith",
            Self::IsNull => "isNull",
        }
    }

    /// The operator of a name, whatever type it applies to.
    pub fn parse(name: &str) -> Option<Operator> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    pub fn operand(self) -> Operand {
        match self {
            Self::In | Self::NotIn => Operand::List,
            Self::IsNull => Operand::Boolean,
            _ => Operand::One,
        }
    }

    /// Its description in the filter inputs.
    pub fn description(self) -> &'static str {
        match self {
            Self::Eq => "Equal to (null: is null).",
            Self::Ne => "Not equal to (null: is not null). Rows where the field is null do not match a non-null value.",
            Self::In => "Equal to one of.",
            Self::NotIn => "Equal to none of.",
            Self::Lt => "Less than.",
            Self::Lte => "Less than or equal to.",
            Self::Gt => "Greater than.",
            Self::Gte => "Greater than or equal to.",
            Self::Contains => "Contains this text (case-sensitive).",
            Self::StartsWith => "Starts with this text (case-sensitive).",
            Self::EndsWith => "Ends with this text (case-sensitive).",
            Self::IsNull => "true: only rows where the field is null; false: only rows where it is not.",
        }
    }

    /// Whether a filter on a (non-list) field of type `ty` offers this operator:
    /// `String`: all; `Int`, `Float`, `DateTime`, `ID`: all but the text ones; an enum: `eq ne
    /// in notIn isNull`; `Boolean`: `eq ne isNull`; `JSON`, `File`: none (not filterable).
    pub fn applies_to(self, ty: &ScalarType) -> bool {
        use Operator::*;
        match ty {
            ScalarType::String => true,
            ScalarType::Int | ScalarType::Float | ScalarType::DateTime | ScalarType::Id => {
                !matches!(self, Contains | StartsWith | EndsWith)
            }
            ScalarType::Enum(_) => matches!(self, Eq | Ne | In | NotIn | IsNull),
            ScalarType::Boolean => matches!(self, Eq | Ne | IsNull),
            ScalarType::Json | ScalarType::File => false,
        }
    }
}

/// The operators a filter on type `ty` offers, in order (none for `JSON` and `File`).
pub fn operators_of(ty: &ScalarType) -> Vec<Operator> {
    Operator::ALL.into_iter().filter(|op| op.applies_to(ty)).collect()
}

/// The filter input of a field of type `ty` (`StringFilter`, `StatusFilter`); `None` when such a
/// field cannot be filtered (a list, `JSON`, `File`).
pub fn filter_input(ty: &ScalarType, list: bool) -> Option<String> {
    (!list && !operators_of(ty).is_empty()).then(|| naming::filter_type(ty.name()))
}

/// The scalars with a shared filter input (`StringFilter`, ...), in the order they are registered.
pub const FILTERABLE_SCALARS: [ScalarType; 6] =
    [ScalarType::String, ScalarType::Int, ScalarType::Float, ScalarType::DateTime, ScalarType::Id, ScalarType::Boolean];

/// A condition on the related rows of a `@hasMany` field (`<Model>ListFilter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    Some,
    None,
    Every,
}

impl Quantifier {
    pub const ALL: [Quantifier; 3] = [Self::Some, Self::None, Self::Every];

    pub fn name(self) -> &'static str {
        match self {
            Self::Some => "some",
            Self::None => "none",
            Self::Every => "every",
        }
    }

    pub fn parse(name: &str) -> Option<Quantifier> {
        Self::ALL.into_iter().find(|q| q.name() == name)
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::Some => "At least one related row matches.",
            Self::None => "No related row matches.",
            Self::Every => "Every related row matches (true when there are none).",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(ty: ScalarType) -> Vec<&'static str> {
        operators_of(&ty).into_iter().map(Operator::name).collect()
    }

    #[test]
    fn operators_per_type() {
        let ordered = ["eq", "ne", "in", "notIn", "lt", "lte", "gt", "gte", "isNull"];
        assert_eq!(
            names(ScalarType::String),
            ["eq", "ne", "in", "notIn", "lt", "lte", "gt", "gte", "contains", "startsWith", "endsWith", "isNull"]
        );
        for ty in [ScalarType::Int, ScalarType::Float, ScalarType::DateTime, ScalarType::Id] {
            assert_eq!(names(ty), ordered);
        }
        assert_eq!(names(ScalarType::Boolean), ["eq", "ne", "isNull"]);
        assert_eq!(names(ScalarType::Enum("Status".into())), ["eq", "ne", "in", "notIn", "isNull"]);
        assert!(names(ScalarType::Json).is_empty() && names(ScalarType::File).is_empty());
    }

    #[test]
    fn names_and_operands() {
        for op in Operator::ALL {
            assert_eq!(Operator::parse(op.name()), Some(op));
        }
        assert_eq!(Operator::parse("like"), None);
        assert_eq!(Operator::In.operand(), Operand::List);
        assert_eq!(Operator::NotIn.operand(), Operand::List);
        assert_eq!(Operator::IsNull.operand(), Operand::Boolean);
        assert_eq!(Operator::Gte.operand(), Operand::One);
        assert_eq!(Quantifier::parse("every"), Some(Quantifier::Every));
        assert_eq!(Quantifier::parse("all"), None);
    }

    #[test]
    fn filter_inputs() {
        assert_eq!(filter_input(&ScalarType::Id, false).as_deref(), Some("IDFilter"));
        assert_eq!(filter_input(&ScalarType::Enum("Status".into()), false).as_deref(), Some("StatusFilter"));
        assert_eq!(filter_input(&ScalarType::String, true), None);
        assert_eq!(filter_input(&ScalarType::Json, false), None);
        assert_eq!(filter_input(&ScalarType::File, false), None);
    }
}
