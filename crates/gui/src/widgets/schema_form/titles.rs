//! What the form calls a field, in words: its schema's title (or its key, capitalised),
//! with the row it belongs to; and a value shown short.

use serde_json::Value;

/// The title a person reads for the field at `pointer` in a document of `schema`: "Model",
/// "Endpoint 2 · Model", "Settings · Language" (the top-level group, `config`, left out; a key
/// the schema does not describe in words).
pub fn field_title(schema: &Value, pointer: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(schema);
    let mut walked = String::new();
    for (depth, segment) in pointer.split('/').skip(1).enumerate() {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        let here = current;
        walked.push('/');
        walked.push_str(&segment);
        let is_array = here.and_then(|s| s.get("type")).and_then(Value::as_str) == Some("array");
        if is_array && segment.parse::<usize>().is_ok() {
            // "Endpoints" then "0" reads "Endpoint 1".
            parts.pop();
            parts.push(item_context(&walked).unwrap_or(segment));
            current = here.and_then(|s| s.get("items"));
            continue;
        }
        let property = here.and_then(|s| s.pointer(&format!("/properties/{segment}")));
        if depth > 0 || pointer.split('/').nth(2).is_none() {
            parts.push(property.map_or_else(|| segment.replace('_', " "), |p| title(&segment, p)));
        }
        current = property;
    }
    let mut text = parts.join(" · ");
    if let Some(first) = text.get(..1) {
        text = first.to_uppercase() + &text[1..];
    }
    text
}

/// "Endpoint 2" for the second item of an array `…/endpoints`; `None` outside one.
pub(super) fn item_context(pointer: &str) -> Option<String> {
    let (parent, index) = pointer.rsplit_once('/')?;
    let index: usize = index.parse().ok()?;
    Some(format!("{} {}", item_noun(parent), index + 1))
}

/// "Endpoint" for the items of `…/endpoints`.
pub(super) fn item_noun(array_pointer: &str) -> String {
    let key = array_pointer.rsplit('/').next().unwrap_or("item");
    let singular = key.strip_suffix('s').unwrap_or(key).replace('_', " ");
    let mut letters = singular.chars();
    letters.next().map_or_else(
        || "Item".to_owned(),
        |first| first.to_uppercase().chain(letters).collect(),
    )
}

pub(super) fn title(key: &str, schema: &Value) -> String {
    schema
        .get("title")
        .and_then(Value::as_str)
        .map_or_else(|| key.replace('_', " "), str::to_owned)
}

pub(super) fn display(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}
