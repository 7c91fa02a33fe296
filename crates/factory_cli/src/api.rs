//! Blocking HTTP client of the factory-monitor API (`/api/v1`), used by provision, query, health and
//! the flood's proof. Errors carry the API's `{ "error": { "code", "message" } }` when it sent one.

use std::time::Duration;

use serde_json::Value;

use crate::{ApiArgs, CliError};

/// How often a request answered 429 is retried after its Retry-After.
const RATE_LIMIT_RETRIES: u32 = 5;

pub struct ApiClient {
    base_url: String,
    token: Option<String>,
    agent: ureq::Agent,
}

/// An HTTP failure: transport error (status 0) or a non-2xx answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.status == 0 {
            write!(f, "{}: {}", self.code, self.message)
        } else {
            write!(f, "HTTP {} {}: {}", self.status, self.code, self.message)
        }
    }
}

impl From<ApiError> for CliError {
    fn from(error: ApiError) -> Self {
        CliError::new(1, error.to_string())
    }
}

impl ApiClient {
    pub fn new(base_url: &str, token: Option<String>, timeout: Duration) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .into();
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            token,
            agent,
        }
    }

    /// Builds a client from the shared API flags, reading the token file when one is named.
    pub fn from_args(args: &ApiArgs) -> Result<Self, CliError> {
        let token = match (&args.token, &args.token_file) {
            (Some(token), _) => Some(token.trim().to_string()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| {
                        CliError::usage(format!("cannot read --token-file {}: {e}", path.display()))
                    })?
                    .trim()
                    .to_string(),
            ),
            (None, None) => None,
        };
        Ok(Self::new(
            &args.api_url,
            token,
            Duration::from_secs_f64(args.http_timeout_s.max(0.1)),
        ))
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn get(&self, path: &str) -> Result<Value, ApiError> {
        self.send("GET", path, None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.send("POST", path, Some(body))
    }

    fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, ApiError> {
        let mut attempt = 0;
        loop {
            match self.send_once(method, path, body) {
                // The API rate-limits per token; wait as told instead of failing a long verification.
                Err((_, Some(retry_after))) if attempt < RATE_LIMIT_RETRIES => {
                    attempt += 1;
                    std::thread::sleep(retry_after);
                }
                Err((error, _)) => return Err(error),
                Ok(value) => return Ok(value),
            }
        }
    }

    fn send_once(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, (ApiError, Option<Duration>)> {
        let url = format!("{}{}", self.base_url, path);
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let result = match method {
            "POST" => {
                let mut request = self.agent.post(&url);
                if let Some(auth) = &auth {
                    request = request.header("Authorization", auth);
                }
                request.send_json(body.unwrap_or(&Value::Null))
            }
            _ => {
                let mut request = self.agent.get(&url);
                if let Some(auth) = &auth {
                    request = request.header("Authorization", auth);
                }
                request.call()
            }
        };
        let mut response = result.map_err(|e| {
            let error = ApiError {
                status: 0,
                code: "CLI_HTTP_UNREACHABLE".into(),
                message: format!("{method} {url}: {e}"),
            };
            (error, None)
        })?;
        let status = response.status().as_u16();
        let retry_after = (status == 429).then(|| {
            let seconds = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(1.0);
            Duration::from_secs_f64(seconds.clamp(0.1, 60.0))
        });
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let value: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if (200..300).contains(&status) {
            return Ok(value);
        }
        let code = value
            .pointer("/error/code")
            .and_then(Value::as_str)
            .unwrap_or("HTTP_ERROR")
            .to_string();
        let message = value
            .pointer("/error/message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("{method} {path} answered {status}"));
        Err((
            ApiError {
                status,
                code,
                message,
            },
            retry_after,
        ))
    }
}

/// Encodes a query string from (name, value) pairs, skipping absent values.
pub fn query_string(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}={}", encode(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_string_skips_absent_values_and_escapes() {
        let qs = query_string(&[
            ("a", Some("1".into())),
            ("b", None),
            ("reason", Some("x y/z".into())),
        ]);
        assert_eq!(qs, "?a=1&reason=x%20y%2Fz");
        assert_eq!(query_string(&[("b", None)]), "");
    }
}
