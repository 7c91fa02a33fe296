//! `query`: readings, latest values, counts and rejects from the HTTP API, as a table or the API's JSON.

use serde_json::Value;

use crate::api::{query_string, ApiClient};
use crate::{table, CliError, QueryArgs, QueryWhat};

pub fn run(args: &QueryArgs) -> Result<(), CliError> {
    let api = ApiClient::from_args(&args.api)?;
    let path = path_for(&args.what);
    let body = api.get(&path)?;
    if args.json {
        println!("{body}");
    } else {
        print!("{}", render(&args.what, &body));
    }
    Ok(())
}

/// The API path (with query string) answering one query.
pub fn path_for(what: &QueryWhat) -> String {
    let s = |v: &Option<i64>| v.map(|x| x.to_string());
    match what {
        QueryWhat::Readings {
            sensor,
            from,
            to,
            limit,
        } => format!(
            "/api/v1/sensors/{sensor}/readings{}",
            query_string(&[
                ("from", s(from)),
                ("to", s(to)),
                ("limit", Some(limit.to_string()))
            ])
        ),
        QueryWhat::Latest { machine } => format!("/api/v1/machines/{machine}/latest"),
        QueryWhat::Count {
            machine,
            sensor,
            from,
            to,
        } => format!(
            "/api/v1/readings/count{}",
            query_string(&[
                ("machineId", s(machine)),
                ("sensorId", s(sensor)),
                ("from", s(from)),
                ("to", s(to))
            ])
        ),
        QueryWhat::Rejects {
            machine,
            reason,
            from,
            to,
            limit,
        } => format!(
            "/api/v1/rejects{}",
            query_string(&[
                ("machineId", s(machine)),
                ("reason", reason.clone()),
                ("from", s(from)),
                ("to", s(to)),
                ("limit", Some(limit.to_string())),
            ])
        ),
    }
}

/// Renders an API answer as a table; columns are the fields of the first row.
pub fn render(what: &QueryWhat, body: &Value) -> String {
    let (field, preferred): (&str, &[&str]) = match what {
        QueryWhat::Readings { .. } => ("readings", &["tsMs", "value"]),
        QueryWhat::Latest { .. } => ("readings", &["sensorId", "key", "unit", "tsMs", "value"]),
        QueryWhat::Rejects { .. } => (
            "rejects",
            &["id", "receivedMs", "machineId", "reason", "detail"],
        ),
        QueryWhat::Count { .. } => return format!("{}\n", body["count"]),
    };
    let rows = body[field].as_array().cloned().unwrap_or_default();
    let mut columns: Vec<String> = preferred.iter().map(|c| c.to_string()).collect();
    if let Some(first) = rows.first().and_then(Value::as_object) {
        // Show what the server sends, preferred columns first, so new fields are never hidden.
        columns.retain(|c| first.contains_key(c));
        for key in first.keys() {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| columns.iter().map(|c| cell(&row[c.as_str()])).collect())
        .collect();
    let headers: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut out = table::render(&headers, &cells);
    if let Some(cursor) = body.get("nextCursor").filter(|c| !c.is_null()) {
        out.push_str(&format!("next cursor: {}\n", cell(cursor)));
    }
    out
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn builds_paths_with_only_given_filters() {
        let what = QueryWhat::Rejects {
            machine: Some(3),
            reason: None,
            from: Some(10),
            to: None,
            limit: 5,
        };
        assert_eq!(
            path_for(&what),
            "/api/v1/rejects?machineId=3&from=10&limit=5"
        );
        let what = QueryWhat::Readings {
            sensor: 9,
            from: None,
            to: None,
            limit: 100,
        };
        assert_eq!(path_for(&what), "/api/v1/sensors/9/readings?limit=100");
    }

    #[test]
    fn renders_readings_as_a_table() {
        let what = QueryWhat::Readings {
            sensor: 9,
            from: None,
            to: None,
            limit: 100,
        };
        let body = json!({"readings": [{"tsMs": 1000, "value": 20.5}, {"tsMs": 2000, "value": 21}], "nextCursor": null});
        assert_eq!(render(&what, &body), "tsMs  value\n1000  20.5\n2000  21\n");
    }
}
