//! `report.json`: the report as pretty JSON, and its JSON Schema.
//!
//! The schema is generated from the model with schemars and shipped at
//! `reports/schema/report.schema.json`; a unit test fails when the shipped file is stale
//! (refresh it with `UPDATE_SCHEMA=1 cargo test -p reports`).

use crate::model::RunReport;
use crate::write::WriteError;

/// Path of the shipped schema, relative to the `reports` crate root.
pub const SCHEMA_FILE: &str = "schema/report.schema.json";

/// The report as pretty-printed JSON (with a trailing newline).
pub fn to_json_string(report: &RunReport) -> Result<String, WriteError> {
    let mut s = serde_json::to_string_pretty(report).map_err(WriteError::Json)?;
    s.push('\n');
    Ok(s)
}

/// Reads a report back from its JSON form.
pub fn from_json_str(json: &str) -> Result<RunReport, WriteError> {
    serde_json::from_str(json).map_err(WriteError::Json)
}

/// The JSON Schema (draft 2020-12) of `report.json`, generated from the model.
pub fn json_schema() -> serde_json::Value {
    schemars::schema_for!(RunReport).to_value()
}

/// The schema as it is shipped: pretty JSON with a trailing newline.
pub fn json_schema_string() -> String {
    let mut s = serde_json::to_string_pretty(&json_schema())
        .expect("a serde_json::Value always serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::sample_report;
    use serde_json::Value;
    use std::path::PathBuf;

    fn schema_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_FILE)
    }

    #[test]
    fn shipped_schema_is_fresh() {
        let path = schema_path();
        let generated = json_schema_string();
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        let shipped = std::fs::read_to_string(&path).unwrap_or_default();
        // Compare as values: key order may differ if serde_json's preserve_order is unified in.
        let shipped: Value = serde_json::from_str(&shipped).unwrap_or(Value::Null);
        assert!(
            shipped == json_schema(),
            "{} is stale or missing: the report model changed. Refresh it with \
             `UPDATE_SCHEMA=1 cargo test -p reports` and commit the result.",
            path.display()
        );
    }

    /// Walks `value` against `schema`, checking every object has the properties the schema
    /// lists as required, following `$ref`s into `$defs`, array items and `anyOf`/`oneOf` for
    /// nullable fields. Returns the paths of missing properties.
    fn missing_required(
        schema: &Value,
        root: &Value,
        value: &Value,
        path: &str,
        out: &mut Vec<String>,
    ) {
        let schema = resolve(schema, root);
        if let Some(req) = schema.get("required").and_then(Value::as_array) {
            for name in req.iter().filter_map(Value::as_str) {
                if value.get(name).is_none() {
                    out.push(format!("{path}.{name}"));
                }
            }
        }
        if let (Some(props), Some(obj)) = (
            schema.get("properties").and_then(Value::as_object),
            value.as_object(),
        ) {
            for (name, sub) in props {
                if let Some(v) = obj.get(name) {
                    missing_required(sub, root, v, &format!("{path}.{name}"), out);
                }
            }
        }
        if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
            for (i, v) in arr.iter().enumerate() {
                missing_required(items, root, v, &format!("{path}[{i}]"), out);
            }
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            for sub in schema
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let sub = resolve(sub, root);
                if sub.get("type") != Some(&Value::from("null")) && !value.is_null() {
                    missing_required(sub, root, value, path, out);
                }
            }
        }
    }

    fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let pointer = r.strip_prefix('#').expect("local $ref");
                root.pointer(pointer)
                    .unwrap_or_else(|| panic!("dangling $ref {r}"))
            }
            None => schema,
        }
    }

    #[test]
    fn sample_report_has_every_required_property() {
        let schema = json_schema();
        let value: Value =
            serde_json::from_str(&to_json_string(&sample_report()).unwrap()).unwrap();
        let mut missing = Vec::new();
        missing_required(&schema, &schema, &value, "$", &mut missing);
        assert!(
            missing.is_empty(),
            "missing required properties: {missing:?}"
        );
        // The walk reached nested types (scenarios -> checks -> ..., calls -> attempts -> tls).
        assert!(schema.pointer("/$defs/TlsInfo/required").is_some());
    }

    #[test]
    fn missing_required_walk_detects_a_gap() {
        let schema = json_schema();
        let mut value: Value =
            serde_json::from_str(&to_json_string(&sample_report()).unwrap()).unwrap();
        value["scenarios"][0]["calls"][0]["attempts"][0]["tls"]
            .as_object_mut()
            .unwrap()
            .remove("cipher");
        let mut missing = Vec::new();
        missing_required(&schema, &schema, &value, "$", &mut missing);
        assert_eq!(missing, ["$.scenarios[0].calls[0].attempts[0].tls.cipher"]);
    }

    #[test]
    fn json_round_trips_and_omits_absent_options() {
        let report = sample_report();
        let json = to_json_string(&report).unwrap();
        assert_eq!(from_json_str(&json).unwrap(), report);
        let v: Value = serde_json::from_str(&json).unwrap();
        assert!(v.get("load").is_none(), "load None must be omitted");
        let pass_check = &v["scenarios"][0]["checks"][0];
        assert_eq!(pass_check["outcome"], "pass");
        assert!(v["scenarios"][0]["calls"][0].get("error").is_none());
    }

    #[test]
    fn absent_options_default_on_read() {
        let json = r#"{"id":"x","outcome":"skipped","message":"waived: known SBC deviation"}"#;
        let c: crate::CheckResult = serde_json::from_str(json).unwrap();
        assert_eq!(c.requirement, None);
        assert_eq!(c.outcome, crate::Outcome::Skipped);
    }
}
