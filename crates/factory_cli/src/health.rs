//! `health`: asks GET /health and exits non-zero unless the server says it is healthy.

use serde_json::Value;

use crate::api::ApiClient;
use crate::{CliError, HealthArgs};

pub fn run(args: &HealthArgs) -> Result<(), CliError> {
    let api = ApiClient::from_args(&args.api)?;
    let body = api.get("/health")?;
    if args.json {
        println!("{body}");
    } else {
        println!("{}", describe(&body));
    }
    if is_healthy(&body) {
        Ok(())
    } else {
        Err(CliError::new(1, format!("server is not healthy: {body}")))
    }
}

/// A 2xx answer is healthy unless its body carries a `status` other than ok/healthy/up.
pub fn is_healthy(body: &Value) -> bool {
    match body.get("status").and_then(Value::as_str) {
        Some(status) => matches!(status, "ok" | "healthy" | "up" | "pass"),
        None => body.get("ok").and_then(Value::as_bool).unwrap_or(true),
    }
}

fn describe(body: &Value) -> String {
    match body.as_object() {
        Some(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", compact(v)))
            .collect::<Vec<_>>()
            .join("\n"),
        None => body.to_string(),
    }
}

fn compact(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn reads_status_fields() {
        assert!(super::is_healthy(&json!({"status": "ok", "uptimeMs": 5})));
        assert!(!super::is_healthy(&json!({"status": "degraded"})));
        assert!(!super::is_healthy(&json!({"ok": false})));
        assert!(super::is_healthy(&json!({})));
    }
}
