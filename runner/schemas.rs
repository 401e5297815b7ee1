//! JSON Schemas of perfgate's two file formats, generated from the types that
//! read and write them so they cannot drift from the code: `results.json`
//! (DESIGN §7) and scenario files (DESIGN §3). Committed under `schemas/`.

use schemars::generate::SchemaSettings;
use serde::Serialize;
use serde_json::{Map, Value};

pub const RESULTS_SCHEMA_ID: &str = "urn:perfgate:schema:results";
pub const SCENARIO_SCHEMA_ID: &str = "urn:perfgate:schema:scenario";

/// What perfgate writes to `results.json`. Generated for serialization, so a
/// field it always writes is required (a `null` where the value is unknown),
/// and unknown fields are allowed: readers must tolerate later extensions.
pub fn results_schema() -> Value {
    let schema = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<crate::results::Results>();
    finish(schema, RESULTS_SCHEMA_ID, "perfgate results.json")
}

/// What `perfgate validate` accepts in a scenario file (read as JSON: TOML
/// tables are objects). Unknown keys are errors, as in the parser.
pub fn scenario_schema() -> Value {
    let schema = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<crate::config::RawFile>();
    let mut value = finish(schema, SCENARIO_SCHEMA_ID, "perfgate scenario file");
    without_nulls(&mut value);
    value
}

/// TOML has no null: an `Option` field is either absent or a value, so the
/// `null` alternatives serde's model implies would only invite editors to
/// offer `key = null`, which no TOML file can hold.
fn without_nulls(value: &mut Value) {
    match value {
        Value::Object(m) => {
            if m.get("default") == Some(&Value::Null) {
                m.remove("default");
            }
            if let Some(Value::Array(types)) = m.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    m.insert("type".into(), only);
                }
            }
            let null = serde_json::json!({ "type": "null" });
            if let Some(Value::Array(any)) = m.get("anyOf")
                && any.len() == 2
                && any.contains(&null)
            {
                let Some(Value::Array(any)) = m.remove("anyOf") else { unreachable!() };
                if let Some(Value::Object(other)) = any.into_iter().find(|s| *s != null) {
                    for (k, v) in other {
                        m.entry(k).or_insert(v);
                    }
                }
            }
            m.values_mut().for_each(without_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(without_nulls),
        _ => {}
    }
}

fn finish(schema: schemars::Schema, id: &str, title: &str) -> Value {
    let mut value = schema.to_value();
    if let Value::Object(root) = &mut value {
        root.insert("$id".into(), id.into());
        root.insert("title".into(), title.into());
    }
    value
}

/// The text of a committed schema file: pretty JSON with a trailing newline,
/// the identifying keys first and `$defs` last so the file reads top-down.
pub fn to_file_text(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(&ReadingOrder(schema)).expect("a JSON value serializes");
    text.push('\n');
    text
}

struct ReadingOrder<'a>(&'a Value);

impl Serialize for ReadingOrder<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        const FIRST: [&str; 5] = ["$schema", "$id", "title", "description", "type"];
        const LAST: [&str; 1] = ["$defs"];
        let Value::Object(root) = self.0 else {
            return self.0.serialize(serializer);
        };
        let mut keys: Vec<&String> = root.keys().collect();
        let rank = |k: &str| match (FIRST.iter().position(|f| *f == k), LAST.contains(&k)) {
            (Some(i), _) => i,
            (None, false) => FIRST.len(),
            (None, true) => FIRST.len() + 1,
        };
        keys.sort_by(|a, b| (rank(a), *a).cmp(&(rank(b), *b)));
        let mut map = serializer.serialize_map(Some(keys.len()))?;
        for k in keys {
            map.serialize_entry(k, &sorted(&root[k.as_str()]))?;
        }
        map.end()
    }
}

/// `value` with every object's keys sorted, whichever map serde_json was built with.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), sorted(v))).collect::<Map<_, _>>())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}
