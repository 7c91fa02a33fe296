//! Helpers shared by the integration tests: start the `sink` or the real factory-monitor server as
//! child processes on free ports, and stop them when the guard drops.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a child process may take to report its ports (start-up, not a timed assertion).
const START_TIMEOUT: Duration = Duration::from_secs(60);

pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn cli_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_factory_cli"))
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// Starts `factory_cli sink` on a free port; returns the guard and `mqtt://127.0.0.1:<port>`.
pub fn start_sink() -> (ChildGuard, String) {
    let mut child = Command::new(cli_path())
        .args(["sink", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sink");
    let stdout = child.stdout.take().expect("sink stdout");
    let guard = ChildGuard(child);
    let line = first_line_matching(stdout, |line| {
        line.starts_with("listening on ").then(|| line.to_string())
    });
    let address = line.trim_start_matches("listening on ").trim().to_string();
    (guard, format!("mqtt://{address}"))
}

pub struct Server {
    pub guard: ChildGuard,
    pub data_dir: tempfile::TempDir,
    pub api_url: String,
    pub mqtt_url: String,
    pub token_file: PathBuf,
}

/// Starts the real factory-monitor (`node --import tsx main.ts`) with a fresh data directory on free
/// ports, and waits for its "started" log line that names them.
pub fn start_server() -> Server {
    start_server_with(&[])
}

/// The server with more environment variables (e.g. `FACTORY_MQTT_ALLOW_ANONYMOUS`).
pub fn start_server_with(env: &[(&str, &str)]) -> Server {
    let root = repo_root();
    let entry = ["main.ts", "gateway/main.ts"]
        .into_iter()
        .find(|entry| root.join(entry).exists())
        .expect("the server entry point (main.ts) exists");
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let mut child = Command::new("node")
        .args(["--import", "tsx", entry])
        .current_dir(&root)
        .env("FACTORY_DATA_DIR", data_dir.path())
        .env("FACTORY_HTTP_PORT", "0")
        .env("FACTORY_MQTT_PORT", "0")
        .env("FACTORY_HTTP_HOST", "127.0.0.1")
        .env("FACTORY_MQTT_HOST", "127.0.0.1")
        .env("FACTORY_LOG_LEVEL", "info")
        // The per-device publish limit and the API's per-token limit would throttle a flood.
        .env("FACTORY_MQTT_PUBLISH_RATE_PER_S", "0")
        .env("FACTORY_HTTP_RATE_LIMIT_PER_MIN", "0")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn node");
    let stdout = child.stdout.take().expect("server stdout");
    let guard = ChildGuard(child);
    let (http, mqtt) = first_line_matching(stdout, |line| {
        let value: serde_json::Value = serde_json::from_str(line).ok()?;
        if value["msg"] != "factory-monitor started" {
            return None;
        }
        Some((value["http"].as_u64()?, value["mqtt"].as_u64()?))
    });
    let token_file = data_dir.path().join("admin-token");
    Server {
        guard,
        api_url: format!("http://127.0.0.1:{http}"),
        mqtt_url: format!("mqtt://127.0.0.1:{mqtt}"),
        token_file,
        data_dir,
    }
}

/// Reads lines on a thread until `pick` returns a value; the rest of the output keeps draining so the
/// child never blocks on a full pipe.
fn first_line_matching<T: Send + 'static>(
    stdout: impl std::io::Read + Send + 'static,
    pick: impl Fn(&str) -> Option<T> + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if !sent {
                if let Some(value) = pick(&line) {
                    let _ = tx.send(value);
                    sent = true;
                }
            }
        }
    });
    rx.recv_timeout(START_TIMEOUT)
        .expect("child process reported its address")
}
