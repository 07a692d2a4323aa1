//! The memory a parsed JSON value takes in this process, roughly: what the device registry
//! and the health details count against their budgets.

use serde_json::Value;

/// The memory a parsed JSON value takes, roughly: every node, every string and key, and the
/// maps' and arrays' own tables (a number array costs 10–40 times its text).
pub fn json_footprint(value: &Value) -> usize {
    const NODE: usize = std::mem::size_of::<Value>();
    match value {
        Value::String(text) => NODE + text.capacity(),
        // Each item's slot is counted with the item; the spare capacity on its own.
        Value::Array(items) => {
            NODE + (items.capacity() - items.len()) * NODE
                + items.iter().map(json_footprint).sum::<usize>()
        }
        Value::Object(fields) => {
            NODE + fields
                .iter()
                .map(|(key, value)| 48 + key.capacity() + json_footprint(value))
                .sum::<usize>()
        }
        _ => NODE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_number_array_costs_far_more_than_its_text() {
        let numbers = json!([1, 2, 3, 4, 5, 6, 7, 8]);
        let text = numbers.to_string().len();
        assert!(
            json_footprint(&numbers) >= 10 * text,
            "{}",
            json_footprint(&numbers)
        );
    }

    #[test]
    fn strings_and_keys_count_their_bytes() {
        let short = json_footprint(&json!({"a": "b"}));
        let long = json_footprint(&json!({"a": "b".repeat(1000)}));
        assert!(long >= short + 999);
        let mut long_key = serde_json::Map::new();
        long_key.insert("k".repeat(500), json!("b"));
        assert!(json_footprint(&Value::Object(long_key)) >= short + 499);
    }
}
