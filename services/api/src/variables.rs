//! The variables of a request whose document was validated before.
//!
//! async-graphql validates a request's document and its variables together, every rule for
//! every request: a tenth of a step's instructions (docs/benchmarks.md, session 22). Of its
//! rules, one only depends on the values of the variables: that each argument's value, the
//! variables in it replaced by their values, fits the argument's type; and it checks nothing
//! of an argument holding a variable the request leaves out, nor of an argument holding a
//! variable in an operation not run. So a kept document ([`crate::documents`]) is marked checked once a
//! request has passed the full validation with one operation in the document and every
//! variable given a value that [`InputTypes::fit`]s the type declared for it: every argument,
//! the parts written in the document included, has then been checked. A later request with a
//! checked document whose variables fit runs on the schema's twin, which validates in
//! async-graphql's `Fast` mode: the limits of depth and complexity (counted with this
//! request's variables), fragment cycles and uploads. Every other request is validated in
//! full, so that its errors are word for word what they always were.
//!
//! A value that fits the type a variable is declared with fits every argument it is given
//! to: the rules the document passed hold the declared type to be the argument's or stricter
//! (non-null where the argument is nullable); a null value fits none but a nullable variable
//! without a default value (one with a default may be given to a non-null argument), and
//! none at all when an input type is a oneof (whose members must not be null, and a member
//! written in the document may hold a variable of any nullable type).

use async_graphql::parser::types::{BaseType, ExecutableDocument, Type};
use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{InputType, OutputType, Value, Variables};

/// The types a variable can be declared with: the input types of the query and mutation
/// roots' arguments, with the checks async-graphql runs on their values.
pub(crate) struct InputTypes {
    registry: Registry,
    /// Whether any input type is a oneof: a variable of any nullable type may be the value of
    /// a oneof's member written in the document (`{ a: $x }`), which must not be null.
    oneof: bool,
}

impl InputTypes {
    /// The input types reached from the roots `Q` and `M`.
    pub(crate) fn of<Q: OutputType, M: OutputType>() -> Self {
        let mut registry = Registry::default();
        // The built-in scalars, which a document may use where no field of the roots does
        // (`Boolean` in `@include(if: $v)`).
        <bool as InputType>::create_type_info(&mut registry);
        <i32 as InputType>::create_type_info(&mut registry);
        <f64 as InputType>::create_type_info(&mut registry);
        <String as InputType>::create_type_info(&mut registry);
        <async_graphql::ID as InputType>::create_type_info(&mut registry);
        Q::create_type_info(&mut registry);
        M::create_type_info(&mut registry);
        let oneof = registry
            .types
            .values()
            .any(|t| matches!(t, MetaType::InputObject { oneof: true, .. }));
        Self { registry, oneof }
    }

    /// Whether `doc` has one operation and every variable it declares is given a value that
    /// fits its declared type: not null, unless the type is nullable, the variable has no
    /// default value (a nullable variable with a default may be given to a non-null argument)
    /// and no input type is a oneof (whose members written in the document must not be null).
    /// A variable left out is not: async-graphql then checks nothing of the argument holding
    /// it, and the same goes for the arguments holding a variable in an operation not run.
    pub(crate) fn fit(&self, doc: &ExecutableDocument, variables: &Variables) -> bool {
        let mut operations = doc.operations.iter();
        let (Some((_, op)), None) = (operations.next(), operations.next()) else {
            return false;
        };
        op.node.variable_definitions.iter().all(|def| {
            let def = &def.node;
            variables.get(&def.name.node).is_some_and(|v| match v {
                Value::Null => {
                    def.var_type.node.nullable && def.default_value.is_none() && !self.oneof
                }
                v => self.declared(&def.var_type.node, v),
            })
        })
    }

    /// `value` against a type as the document declares it.
    fn declared(&self, ty: &Type, value: &Value) -> bool {
        if matches!(value, Value::Null) {
            return ty.nullable;
        }
        match &ty.base {
            BaseType::Named(name) => self.named(name, value),
            BaseType::List(item) => match value {
                Value::List(items) => items.iter().all(|v| self.declared(item, v)),
                // A single value where a list is expected is a list of one.
                v => self.declared(item, v),
            },
        }
    }

    /// `value` against a type as the registry writes it (`[String!]!`).
    fn written(&self, ty: &str, value: &Value) -> bool {
        match MetaTypeName::create(ty) {
            MetaTypeName::NonNull(inner) => {
                !matches!(value, Value::Null) && self.written(inner, value)
            }
            MetaTypeName::List(item) => match value {
                Value::List(items) => items.iter().all(|v| self.written(item, v)),
                Value::Null => true,
                v => self.written(item, v),
            },
            MetaTypeName::Named(name) => matches!(value, Value::Null) || self.named(name, value),
        }
    }

    /// A value, not null, against a named type: what async-graphql's validation checks, or
    /// stricter where that is simpler (an input object given anything but an object, a type
    /// that is not an input type).
    fn named(&self, name: &str, value: &Value) -> bool {
        match self.registry.types.get(name) {
            Some(MetaType::Scalar { is_valid, .. }) => is_valid.as_ref().is_none_or(|f| f(value)),
            Some(MetaType::Enum { enum_values, .. }) => match value {
                Value::Enum(v) => enum_values.contains_key(v.as_str()),
                Value::String(v) => enum_values.contains_key(v.as_str()),
                _ => false,
            },
            Some(MetaType::InputObject {
                input_fields,
                oneof,
                ..
            }) => {
                let Value::Object(values) = value else {
                    return false;
                };
                if *oneof
                    && (values.len() != 1 || values.values().any(|v| matches!(v, Value::Null)))
                {
                    return false;
                }
                let mut known = 0;
                for field in input_fields.values() {
                    match values.get(field.name.as_str()) {
                        Some(v) => {
                            known += 1;
                            if !self.written(&field.ty, v) {
                                return false;
                            }
                        }
                        None => {
                            if MetaTypeName::create(&field.ty).is_non_null()
                                && field.default_value.is_none()
                            {
                                return false;
                            }
                        }
                    }
                }
                // A name the type does not have.
                known == values.len()
            }
            _ => false,
        }
    }
}

impl std::fmt::Debug for InputTypes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputTypes")
            .field("types", &self.registry.types.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{
        EmptyMutation, EmptySubscription, Enum, ID, InputObject, Object, OneofObject, Request,
        Schema, Variables,
    };
    use proptest::prelude::*;
    use serde_json::{Value as Json, json};

    use super::InputTypes;

    #[derive(Enum, Copy, Clone, Eq, PartialEq)]
    enum Colour {
        Red,
        Green,
    }

    #[derive(InputObject)]
    struct Inner {
        n: i32,
        tags: Option<Vec<String>>,
        colour: Colour,
    }

    #[derive(InputObject)]
    struct Outer {
        id: ID,
        inner: Inner,
        list: Vec<Inner>,
        maybe: Option<f64>,
        #[graphql(default = 3)]
        with_default: i32,
    }

    #[derive(OneofObject)]
    enum Pick {
        A(i32),
        B(String),
    }

    struct Root;

    #[Object]
    impl Root {
        async fn f(
            &self,
            o: Outer,
            p: Option<Pick>,
            xs: Option<Vec<Option<i32>>>,
            c: Colour,
            d: i32,
        ) -> i32 {
            let _ = (
                o.id,
                o.inner.n,
                o.inner.tags,
                o.inner.colour,
                o.list.len(),
                o.maybe,
            );
            let _ = (o.with_default, p.is_some(), xs, c, d);
            1
        }
    }

    const DOC: &str = "query Named($o: Outer!, $p: Pick, $xs: [Int], $c: Colour!, \
                       $flag: Boolean!, $d: Int = 3) \
                       { f(o: $o, p: $p, xs: $xs, c: $c, d: $d) @include(if: $flag) }";

    fn types() -> InputTypes {
        InputTypes::of::<Root, EmptyMutation>()
    }

    fn fit(types: &InputTypes, variables: &Json) -> bool {
        let doc = async_graphql::parser::parse_query(DOC).expect("parses");
        types.fit(&doc, &Variables::from_json(variables.clone()))
    }

    /// Whether async-graphql's full validation, and the execution after it, accept
    /// `variables` (the resolver parses every argument).
    fn accepted(variables: &Json) -> bool {
        let schema = Schema::new(Root, EmptyMutation, EmptySubscription);
        let request = Request::new(DOC).variables(Variables::from_json(variables.clone()));
        let response = futures::executor::block_on(schema.execute(request));
        response.errors.is_empty()
    }

    fn good() -> Json {
        json!({
            "o": { "id": "x1", "inner": { "n": 1, "colour": "RED" },
                   "list": [{ "n": 2, "tags": ["a"], "colour": "GREEN" }], "maybe": 1.5 },
            "p": { "b": "text" }, "xs": [1, null, 3], "c": "GREEN", "flag": true, "d": 4
        })
    }

    #[test]
    fn values_of_the_declared_types_fit_and_others_are_left_to_the_full_validation() {
        let types = types();
        let good = good();
        assert!(accepted(&good));
        assert!(fit(&types, &good));
        // A single value where a list is declared, a oneof's one member, fields left out.
        let mut other = good.clone();
        other["xs"] = json!(5);
        other["p"] = json!({ "a": 1 });
        other["o"]["list"] = json!({ "n": 3, "colour": "RED" });
        other["o"]["inner"]["tags"] = Json::Null;
        assert!(fit(&types, &other) && accepted(&other), "{other}");
        for (path, bad) in [
            ("c", json!("BLUE")),
            ("c", json!(1)),
            ("flag", json!("yes")),
            ("flag", Json::Null),
            ("xs", json!(["1"])),
            ("p", json!({ "a": 1, "b": "two" })),
            ("p", json!({ "a": null })),
            (
                "o",
                json!({ "id": "x", "inner": { "n": 1, "colour": "RED" } }),
            ),
            (
                "o",
                json!({ "id": "x", "inner": { "n": 1.5, "colour": "RED" }, "list": [] }),
            ),
            (
                "o",
                json!({ "id": "x", "inner": { "n": 1, "colour": "RED" }, "list": [], "extra": 1 }),
            ),
        ] {
            let mut v = good.clone();
            v[path] = bad;
            assert!(!fit(&types, &v), "{v}");
        }
        // Null: never with a oneof among the types (here `Pick`: `p: { a: $x }` with a null
        // `$x: Int` is refused by the full validation).
        let mut v = good.clone();
        v["xs"] = Json::Null;
        assert!(!fit(&types, &v) && accepted(&v), "{v}");
        let member = "query($x: Int) { f(o: {id: \"i\", inner: {n: 1, colour: RED}, list: []}, \
                      p: {a: $x}, c: RED, d: 1) }";
        let doc = async_graphql::parser::parse_query(member).expect("parses");
        let schema = Schema::new(Root, EmptyMutation, EmptySubscription);
        let null = Variables::from_json(json!({ "x": null }));
        assert!(!types.fit(&doc, &null));
        let refused =
            futures::executor::block_on(schema.execute(Request::new(member).variables(null)));
        assert!(!refused.errors.is_empty());
        assert!(types.fit(&doc, &Variables::from_json(json!({ "x": 2 }))));
        // Without a oneof, null where the type is nullable and there is no default value.
        struct Plain;
        #[Object]
        impl Plain {
            async fn g(&self, x: Option<i32>, y: Option<Vec<i32>>) -> i32 {
                x.unwrap_or(0) + y.map_or(0, |y| y.len() as i32)
            }
        }
        let plain = InputTypes::of::<Plain, EmptyMutation>();
        let q = "query($x: Int, $y: [Int!]) { g(x: $x, y: $y) }";
        let doc = async_graphql::parser::parse_query(q).expect("parses");
        let nulls = json!({ "x": null, "y": null });
        assert!(plain.fit(&doc, &Variables::from_json(nulls.clone())));
        let schema = Schema::new(Plain, EmptyMutation, EmptySubscription);
        let r = futures::executor::block_on(
            schema.execute(Request::new(q).variables(Variables::from_json(nulls))),
        );
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        // A variable left out (its argument then goes unchecked), or null with a default
        // value (given to a non-null argument): the full validation decides.
        for name in ["p", "d"] {
            let mut v = good.clone();
            v.as_object_mut().map(|o| o.remove(name));
            assert!(!fit(&types, &v), "{v}");
        }
        let mut v = good.clone();
        v["d"] = Json::Null;
        assert!(!fit(&types, &v) && !accepted(&v), "{v}");
        // A document of two operations: the one not run has its arguments unchecked.
        let two = async_graphql::parser::parse_query(format!("{DOC} query Other {{ __typename }}"))
            .expect("parses");
        assert!(!types.fit(&two, &Variables::from_json(good)));
    }

    /// JSON values built from the names and values the types above use, and others.
    fn value() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::from),
            (-3i64..3).prop_map(Json::from),
            Just(json!(1.5)),
            Just(json!(1e12)),
            prop::sample::select(vec!["RED", "GREEN", "BLUE", "x", ""]).prop_map(Json::from),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Json::from),
                prop::collection::btree_map(
                    prop::sample::select(vec![
                        "id",
                        "inner",
                        "list",
                        "maybe",
                        "withDefault",
                        "n",
                        "tags",
                        "colour",
                        "a",
                        "b",
                        "other",
                    ])
                    .prop_map(str::to_owned),
                    inner,
                    0..6,
                )
                .prop_map(|m| Json::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// What `fit` lets skip the full validation, the full validation and the execution
        /// accept: either by a variable changed at random in a good request, or whole
        /// random variables.
        #[test]
        fn what_fits_is_what_the_full_validation_accepts(
            name in prop::sample::select(vec!["o", "p", "xs", "c", "flag", "d"]),
            changed in value(),
            whole in prop::collection::btree_map(
                prop::sample::select(vec!["o", "p", "xs", "c", "flag", "d"]).prop_map(str::to_owned),
                value(),
                0..7,
            )
            .prop_map(|m| Json::Object(m.into_iter().collect())),
            path in prop::collection::vec(prop::sample::select(vec!["inner", "list", "n", "tags", "colour", "maybe", "id"]), 0..3),
        ) {
            let types = types();
            let mut v = good();
            let mut at = &mut v[name];
            for p in &path {
                if at.is_object() {
                    at = &mut at[*p];
                }
            }
            *at = changed;
            if fit(&types, &v) {
                prop_assert!(accepted(&v), "fits, refused: {v}");
            }
            if fit(&types, &whole) {
                prop_assert!(accepted(&whole), "fits, refused: {whole}");
            }
        }
    }
}
