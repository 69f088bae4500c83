//! The structural splitter against a real JSON parser: any array of JSON values, written
//! compactly or pretty, splits into exactly its elements (and knows the line each starts on), whatever the strings hold (brackets,
//! commas, quotes, runs of backslashes) and wherever the 64-byte blocks fall.

use proptest::prelude::*;
use serde_json::Value;
use snaptrail_ingest::split::{envelope_array, skip_ws, split_array};

fn tricky_string() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("\\".to_string()),
            Just("\"".to_string()),
            Just("[".to_string()),
            Just("]".to_string()),
            Just("{".to_string()),
            Just("}".to_string()),
            Just(",".to_string()),
            Just("é".to_string()),
            "[a-z ]{0,70}",
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        tricky_string().prop_map(Value::String),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(tricky_string(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn splits_into_exactly_the_elements(
        records in proptest::collection::vec(value(), 0..8),
        pretty in any::<bool>(),
        envelope in any::<bool>(),
        lead in 0usize..64,
    ) {
        let array = Value::Array(records.clone());
        let body = if pretty {
            serde_json::to_string_pretty(&array).unwrap()
        } else {
            serde_json::to_string(&array).unwrap()
        };
        // Leading spaces move every byte across the block edges.
        let text = if envelope {
            format!("{}{{\"Records\":{body}}}", " ".repeat(lead))
        } else {
            format!("{}{body}", " ".repeat(lead))
        };
        let buf = text.as_bytes();
        let open = envelope_array(buf, 0).unwrap_or_else(|| skip_ws(buf, 0));
        let split = split_array(buf, open);
        prop_assert!(split.complete);
        for (r, newlines) in split.elements.iter().zip(&split.newlines) {
            prop_assert_eq!(*newlines, buf[..r.start].iter().filter(|b| **b == b'\n').count());
        }
        let got: Vec<Value> = split
            .elements
            .iter()
            .map(|r| serde_json::from_slice(&buf[r.clone()]).unwrap())
            .collect();
        prop_assert_eq!(got, records);
    }
}
