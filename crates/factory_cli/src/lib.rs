//! factory_cli: load generator (`flood`), MQTT sink and operations commands for factory-monitor.
//! The options and `run()` live here so tests drive them without a process; `main.rs` only calls `run`.

pub mod api;
pub mod credentials;
pub mod flood;
pub mod health;
pub mod mqtt_wire;
pub mod provision;
pub mod query;
pub mod rusage;
pub mod sink;
pub mod subscribe;
pub mod table;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Load generator and operations tool for factory-monitor.
#[derive(Parser, Debug)]
#[command(name = "factory_cli", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Publish telemetry over many MQTT connections, report rates and PUBACK latency, then prove
    /// through the HTTP API that every acknowledged reading was committed and is queryable.
    Flood(FloodArgs),
    /// Create a factory with N machines, their sensors and MQTT credentials; write them to a JSON file.
    Provision(ProvisionArgs),
    /// Read readings, latest values, reading counts or rejects from the HTTP API.
    Query(QueryArgs),
    /// Check the server's /health endpoint (exit code 1 when it is not healthy).
    Health(HealthArgs),
    /// A minimal MQTT 3.1.1 server that acknowledges and discards everything (for measuring the generator).
    Sink(SinkArgs),
    /// Subscribe like an HMI or historian: acknowledge and count every message, print the count as JSON
    /// lines.
    Subscribe(SubscribeArgs),
}

/// How to reach the HTTP API.
#[derive(Args, Debug, Clone)]
pub struct ApiArgs {
    /// Base URL of the HTTP API.
    #[arg(
        long,
        global = true,
        env = "FACTORY_API_URL",
        default_value = "http://127.0.0.1:3000"
    )]
    pub api_url: String,
    /// Bearer token for the API.
    #[arg(
        long,
        global = true,
        env = "FACTORY_API_TOKEN",
        conflicts_with = "token_file",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// File holding the bearer token (e.g. `<dataDir>/admin-token`).
    #[arg(long, global = true, env = "FACTORY_API_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
    /// Timeout of one HTTP request, in seconds.
    #[arg(long, global = true, default_value_t = 30.0)]
    pub http_timeout_s: f64,
}

/// Which broker to connect to (`flood`, `subscribe`).
#[derive(Args, Debug, Clone)]
pub struct MqttArgs {
    /// MQTT broker address.
    #[arg(
        long,
        env = "FACTORY_MQTT_URL",
        default_value = "mqtt://127.0.0.1:1883"
    )]
    pub mqtt_url: String,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum QosArg {
    #[value(name = "0")]
    AtMostOnce,
    #[value(name = "1")]
    AtLeastOnce,
}

#[derive(Args, Debug, Clone)]
pub struct FloodArgs {
    #[command(flatten)]
    pub mqtt: MqttArgs,
    /// Credentials file written by `provision`: one device (machine) per connection.
    #[arg(long, conflicts_with_all = ["username", "password", "topic"])]
    pub credentials: Option<PathBuf>,
    /// Username of a shared test device (used when no credentials file is given).
    #[arg(long, requires = "password")]
    pub username: Option<String>,
    /// Password of the shared test device.
    #[arg(long, requires = "username", hide_env_values = true)]
    pub password: Option<String>,
    /// Topic of the shared test device.
    #[arg(long, default_value = "factories/load/machines/load/telemetry")]
    pub topic: String,
    /// Number of MQTT connections (default: every device in the credentials file, or 1).
    #[arg(long, short = 'c')]
    pub connections: Option<usize>,
    /// Seconds over which connections are opened, evenly spread.
    #[arg(long, default_value_t = 0.0)]
    pub ramp_s: f64,
    /// Open-loop target rate in messages per second over all connections; latency is measured from
    /// each message's intended send time. Without it the generator publishes as fast as the
    /// `--inflight` window allows.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Messages in flight (sent, not yet acknowledged) per connection.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..))]
    pub inflight: u16,
    /// MQTT QoS of each publish.
    #[arg(long, value_enum, default_value = "1")]
    pub qos: QosArg,
    /// Snapshots per message (1 = one snapshot object, more = a JSON array). Readings per message are
    /// batch × sensors.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch: u32,
    /// Values per snapshot (default: every sensor of the device in the credentials file, or 4).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub sensors: Option<u32>,
    /// Run time in seconds (default 10 when `--count` is not given).
    #[arg(long, conflicts_with = "count")]
    pub duration_s: Option<f64>,
    /// Total number of messages to publish, spread over the connections.
    #[arg(long)]
    pub count: Option<u64>,
    /// Timestamp (epoch ms) of each connection's first snapshot; later snapshots follow 1 ms apart
    /// (default: an hour ago, or just after the newest stored reading of the devices).
    #[arg(long)]
    pub ts_start_ms: Option<i64>,
    /// Seconds to wait for outstanding PUBACKs after the last publish.
    #[arg(long, default_value_t = 30.0)]
    pub drain_timeout_s: f64,
    /// Print the report as JSON on stdout (schema in docs/cli.md).
    #[arg(long)]
    pub json: bool,
    /// Skip the proof through the HTTP API.
    #[arg(long)]
    pub no_verify: bool,
    /// Seconds to keep asking the API until committed counts stop changing.
    #[arg(long, default_value_t = 10.0)]
    pub verify_timeout_s: f64,
    /// Print the plan and the first messages of each connection, connect to nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Args, Debug, Clone)]
pub struct ProvisionArgs {
    /// Key of the factory to create or reuse.
    #[arg(long, default_value = "load")]
    pub factory: String,
    /// Number of machines to create.
    #[arg(long, short = 'n', default_value_t = 10)]
    pub machines: u32,
    /// Sensors per machine.
    #[arg(long, default_value_t = 4)]
    pub sensors: u32,
    /// Prefix of machine keys (`<prefix>0001`, ...).
    #[arg(long, default_value = "m")]
    pub machine_prefix: String,
    /// Credentials file to write.
    #[arg(long, short = 'o', default_value = "credentials.json")]
    pub out: PathBuf,
    /// MQTT broker address written into the credentials file.
    #[arg(
        long,
        env = "FACTORY_MQTT_URL",
        default_value = "mqtt://127.0.0.1:1883"
    )]
    pub mqtt_url: String,
    /// Print the credentials file as JSON on stdout instead of a summary.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Args, Debug, Clone)]
pub struct QueryArgs {
    #[command(subcommand)]
    pub what: QueryWhat,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Subcommand, Debug, Clone)]
pub enum QueryWhat {
    /// Readings of one sensor.
    Readings {
        #[arg(long)]
        sensor: i64,
        /// From (epoch ms, inclusive).
        #[arg(long)]
        from: Option<i64>,
        /// To (epoch ms, exclusive).
        #[arg(long)]
        to: Option<i64>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Latest reading of every sensor of a machine.
    Latest {
        #[arg(long)]
        machine: i64,
    },
    /// Number of stored readings of a machine or sensor.
    Count {
        #[arg(long, required_unless_present = "sensor")]
        machine: Option<i64>,
        #[arg(long)]
        sensor: Option<i64>,
        #[arg(long)]
        from: Option<i64>,
        #[arg(long)]
        to: Option<i64>,
    },
    /// Rejected payloads and readings.
    Rejects {
        #[arg(long)]
        machine: Option<i64>,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        from: Option<i64>,
        #[arg(long)]
        to: Option<i64>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[derive(Args, Debug, Clone)]
pub struct HealthArgs {
    /// Print the API's JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Args, Debug, Clone)]
pub struct SinkArgs {
    /// Address to listen on; port 0 picks a free port (the first stdout line names it).
    #[arg(long, default_value = "127.0.0.1:1883")]
    pub listen: String,
    /// Print a one-line rate summary to stderr every second.
    #[arg(long)]
    pub stats: bool,
}

#[derive(Args, Debug, Clone)]
pub struct SubscribeArgs {
    #[command(flatten)]
    pub mqtt: MqttArgs,
    /// Topic filter to subscribe to.
    #[arg(long, short = 't', default_value = "factories/#")]
    pub topic: String,
    /// QoS of the subscription.
    #[arg(long, value_enum, default_value = "1")]
    pub qos: QosArg,
    /// Client id (default: factory-cli-subscriber-<pid>); the session is always clean.
    #[arg(long)]
    pub client_id: Option<String>,
    /// User name, when the broker requires one.
    #[arg(long, requires = "password")]
    pub username: Option<String>,
    /// Password.
    #[arg(long, requires = "username", hide_env_values = true)]
    pub password: Option<String>,
    /// MQTT keep-alive in seconds: a PINGREQ every half of it, and the connection counts as lost when
    /// one goes unanswered until the next; 0 sends none.
    #[arg(long, default_value_t = 30)]
    pub keep_alive_s: u16,
    /// Milliseconds between two count lines.
    #[arg(long, default_value_t = 1000)]
    pub report_ms: u64,
    /// Stop after this many seconds (default: run until SIGINT or SIGTERM).
    #[arg(long)]
    pub duration_s: Option<f64>,
    /// Stop after this many messages.
    #[arg(long)]
    pub count: Option<u64>,
}

/// A failure that ends the command; `code` is the process exit code.
#[derive(Debug)]
pub struct CliError {
    pub code: i32,
    pub message: String,
}

impl CliError {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
    /// A usage or environment problem (exit code 2, like clap's own errors).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(2, message)
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// Runs one command. Output goes to stdout (results) and stderr (progress); the returned error's
/// code is the process exit code.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Flood(args) => flood::run(&args),
        Command::Provision(args) => provision::run(&args),
        Command::Query(args) => query::run(&args),
        Command::Health(args) => health::run(&args),
        Command::Sink(args) => sink::run(&args),
        Command::Subscribe(args) => subscribe::run(&args),
    }
}
