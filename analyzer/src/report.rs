//! The report is data: every output format renders this and nothing else.
//! It reads back from its JSON too (`Deserialize`), so a saved report can be
//! rendered again or compared.

use crate::facts::{Evidence, Value};
use crate::input::{Kind, Problem};
use crate::model::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Failed,
    Joined,
    Inconclusive,
}

impl crate::facts::Evidence {
    /// `file:line: text`, as reports quote it.
    pub fn quoted(&self) -> String {
        format!(
            "{}{}: {}",
            self.file,
            self.line.map(|l| format!(":{l}")).unwrap_or_default(),
            self.text
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verdict {
    pub status: Status,
    /// Phase of the root cause (1-5), null when joined.
    pub phase: Option<u8>,
    pub phase_name: Option<String>,
    pub cause: Option<String>,
    pub confidence: Option<f64>,
    pub rule_id: Option<String>,
    pub title: String,
    pub fix: Vec<String>,
    /// The primary finding's strongest evidence.
    pub evidence: Vec<Evidence>,
    /// Other causes the evidence fits, less likely, most likely first.
    pub alternatives: Vec<AltCause>,
    /// What would tell the cause and its alternatives apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distinguish: Option<String>,
}

/// A less likely cause of the same evidence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AltCause {
    pub cause: String,
    pub phase: u8,
    pub confidence: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhaseStatus {
    Passed,
    Failed,
    Unknown,
}

impl PhaseStatus {
    pub fn name(self) -> &'static str {
        match self {
            PhaseStatus::Passed => "passed",
            PhaseStatus::Failed => "failed",
            PhaseStatus::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseResult {
    pub phase: u8,
    pub id: String,
    pub status: PhaseStatus,
    pub note: String,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    /// Counts toward the verdict.
    Active,
    /// A symptom of a stronger finding's cause.
    Masked,
    /// Seen in logs, but facts show the node has since passed this phase.
    Resolved,
}

impl FindingStatus {
    pub fn name(self) -> &'static str {
        match self {
            FindingStatus::Active => "active",
            FindingStatus::Masked => "masked",
            FindingStatus::Resolved => "resolved",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    pub rule_id: String,
    pub cause: String,
    pub phase: u8,
    pub severity: Severity,
    pub confidence: f64,
    pub title: String,
    /// What fired: `logs`, `facts` or `logs+facts`.
    pub basis: String,
    pub status: FindingStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Matching log lines in all.
    pub count: u64,
    /// Facts the rule compared, with their values.
    pub facts: BTreeMap<String, String>,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputStats {
    pub entries: u64,
    pub bytes: u64,
    pub log_files: u64,
    pub log_lines: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub input: String,
    pub kind: Kind,
    pub verdict: Verdict,
    pub ladder: Vec<PhaseResult>,
    pub findings: Vec<Finding>,
    pub facts: BTreeMap<String, Value>,
    /// What could not be read, was refused, or was cut.
    pub problems: Vec<Problem>,
    pub stats: InputStats,
    pub analyzer: AnalyzerInfo,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnalyzerInfo {
    pub version: String,
    pub rules: usize,
}
