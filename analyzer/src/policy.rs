//! Scoring and threshold constants, in one place. What proves a phase passed
//! is data (`rules/phases.toml`); these are how evidence is weighed.

/// Signers backdate NotBefore by minutes; an offset beyond this is the clock.
pub const CERT_BACKDATE_S: f64 = 600.0;
/// A cause whose noisy-OR score reaches this is strong: among strong causes
/// the earliest phase wins.
pub const STRONG: f64 = 0.6;
/// Confidence added when logs and facts agree on a finding.
pub const AGREEMENT_BONUS: f64 = 0.05;
/// Confidence never reaches certainty.
pub const MAX_CONFIDENCE: f64 = 0.99;
/// Evidence items kept per finding, and on the verdict.
pub const FINDING_EVIDENCE: usize = 8;
pub const VERDICT_EVIDENCE: usize = 4;
/// Alternatives listed on a verdict.
pub const ALTERNATIVES: usize = 3;
/// Image-default hostnames that clones share.
pub const DEFAULT_HOSTNAMES: &[&str] = &[
    "raspberrypi",
    "ubuntu",
    "localhost",
    "dietpi",
    "debian",
    "pi",
    "raspberry",
];
