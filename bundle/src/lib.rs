//! The contract between `nodejoin-collect` and `nodejoin`: the bundle layout and
//! `manifest.json`. The format is documented in `docs/bundle-format.md`.
//!
//! Readers ignore fields they do not know: a newer collector may add optional
//! fields without changing the format version.

// A `pub` item the crate does not export is a mistake: say pub(crate).
#![warn(unreachable_pub)]

pub mod layout;
pub mod time;

use serde::{Deserialize, Serialize};

/// Value of `manifest.format`.
pub const FORMAT: &str = "nodejoin-bundle";
/// Current `manifest.version`. Readers accept this version and refuse newer ones.
pub const VERSION: u32 = 1;

/// Bundle paths. Host files keep their absolute path under `files/`.
pub const MANIFEST: &str = "manifest.json";
pub const CLOCK: &str = "probes/clock.json";
pub const REACHABILITY: &str = "probes/reachability.json";
pub const LISTINGS: &str = "listings.json";
pub const FILES_DIR: &str = "files/";
pub const COMMANDS_DIR: &str = "commands/";
pub const EXTRA_DIR: &str = "extra/";

/// Bundle path of a host file: `/etc/os-release` -> `files/etc/os-release`.
pub fn file_path(host_path: &str) -> String {
    format!("{FILES_DIR}{}", host_path.trim_start_matches('/'))
}

/// Bundle path of a command's standard output (`.out`) or error (`.err`).
pub fn command_path(id: &str, stream: &str) -> String {
    format!("{COMMANDS_DIR}{id}.{stream}")
}

/// Readers are lenient: a field missing from a damaged or hand-made manifest
/// takes its default, so what is there is still used.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub collector: Collector,
    pub host: Host,
    /// Node clock when collection started, RFC 3339 UTC with microseconds.
    pub collected_at: String,
    pub collected_at_unix_ms: i64,
    pub duration_ms: u64,
    pub options: Options,
    pub items: Vec<Item>,
    pub totals: Totals,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Collector {
    pub name: String,
    pub version: String,
    /// Target triple's arch the collector was built for (aarch64, arm, x86_64).
    pub arch: String,
    /// Effective user id of the collecting process; 0 is root.
    pub uid: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Host {
    pub hostname: String,
    /// The Kubernetes node name the collector settled on, and why.
    pub node_name: String,
    pub node_name_source: String,
    pub machine_id: Option<String>,
    pub kernel: Option<String>,
    /// Directory host files were read from (`/` on a real node).
    pub root: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Options {
    pub since_seconds: u64,
    pub command_timeout_ms: u64,
    pub max_log_bytes: u64,
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
    pub network: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Totals {
    pub items: u64,
    pub bytes: u64,
    pub cut_bytes: u64,
    pub redactions: u64,
    /// Count per outcome name.
    pub outcomes: std::collections::BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    File,
    Command,
    Listing,
    Probe,
    Include,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Collected whole.
    Ok,
    /// Source does not exist (file absent, command not on PATH).
    Missing,
    /// Command ran and exited non-zero, or reading failed.
    Failed,
    /// Command killed at its deadline; what it printed until then is kept.
    Timeout,
    /// Collected, but cut to a size cap (`cut_bytes` says how much).
    Truncated,
    /// Permission denied.
    Denied,
    /// Withheld on purpose (private key, token file): only presence, size and mode.
    Redacted,
    /// Not attempted: the total size cap or time budget was reached.
    Skipped,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Missing => "missing",
            Outcome::Failed => "failed",
            Outcome::Timeout => "timeout",
            Outcome::Truncated => "truncated",
            Outcome::Denied => "denied",
            Outcome::Redacted => "redacted",
            Outcome::Skipped => "skipped",
        }
    }
}

/// One thing the collector attempted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Item {
    /// Stable id, e.g. `file:/etc/os-release` or `cmd:journal-kubelet`.
    pub id: String,
    pub kind: Kind,
    /// Host path, or the argv joined with spaces (secrets already redacted).
    pub source: String,
    /// Path inside the bundle, when something was stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<i32>,
    pub duration_ms: u64,
    /// Bytes stored in the bundle.
    pub size: u64,
    /// Bytes seen at the source (before cutting and redaction), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_size: Option<u64>,
    /// Bytes left out by a size cap (logs keep their newest part).
    pub cut_bytes: u64,
    /// Secrets replaced or blocks dropped.
    pub redactions: u64,
    /// File mode in octal, for files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Item {
    pub fn new(id: impl Into<String>, kind: Kind, source: impl Into<String>) -> Self {
        Item {
            id: id.into(),
            kind,
            source: source.into(),
            path: None,
            outcome: Outcome::Ok,
            exit_status: None,
            duration_ms: 0,
            size: 0,
            source_size: None,
            cut_bytes: 0,
            redactions: 0,
            mode: None,
            error: None,
        }
    }
}

/// `probes/clock.json`: the node clock and what it was measured against.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClockProbe {
    pub node_time: String,
    pub node_time_unix_ms: i64,
    /// Seconds since boot, from /proc/uptime.
    pub uptime_seconds: Option<f64>,
    pub rtc_present: Option<bool>,
    pub offsets: Vec<Offset>,
}

/// A measured offset. `offset_ms` is node clock minus reference clock:
/// positive means the node is ahead. The truth lies within `offset_ms +- bound_ms`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Offset {
    /// `sntp` or `https-date`.
    pub method: String,
    /// The peer as configured (`host:port` or URL).
    pub peer: String,
    /// Where the node is configured with this peer (file path, or `command line`).
    pub configured_in: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `probes/reachability.json`: TCP connects to the configured API endpoints.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Reachability {
    pub endpoints: Vec<Endpoint>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Endpoint {
    pub url: String,
    pub configured_in: String,
    pub host: String,
    pub port: u16,
    /// How the name was resolved (`literal`, `getent`, `libc`), and to what.
    pub resolved_by: Option<String>,
    pub addresses: Vec<String>,
    pub connected: bool,
    pub connect_ms: Option<u64>,
    pub error: Option<String>,
}

/// One directory listing entry in `listings.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListingEntry {
    pub name: String,
    /// `file`, `dir`, `link`, `socket`, `other`.
    #[serde(rename = "type")]
    pub kind: String,
    pub size: u64,
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// `listings.json`: host directory -> entries (missing directories are absent).
pub type Listings = std::collections::BTreeMap<String, Vec<ListingEntry>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(file_path("/etc/os-release"), "files/etc/os-release");
        assert_eq!(
            command_path("journal-kubelet", "out"),
            "commands/journal-kubelet.out"
        );
    }

    #[test]
    fn readers_accept_fields_they_do_not_know() {
        let j = r#"{"node_time":"2026-11-24T06:00:00Z","node_time_unix_ms":1,"offsets":[],"added_later":true}"#;
        let c: ClockProbe = serde_json::from_str(j).unwrap();
        assert_eq!(c.node_time_unix_ms, 1);
    }

    #[test]
    fn outcome_names_match_serde() {
        for o in [
            Outcome::Ok,
            Outcome::Missing,
            Outcome::Failed,
            Outcome::Timeout,
            Outcome::Truncated,
            Outcome::Denied,
            Outcome::Redacted,
            Outcome::Skipped,
        ] {
            assert_eq!(
                serde_json::to_string(&o).unwrap(),
                format!("\"{}\"", o.name())
            );
        }
    }
}
