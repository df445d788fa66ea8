//! What proves a phase passed, as data (`rules/phases.toml`), and the log
//! milestones that mark progress. The verdict reads these; it holds no
//! phase semantics of its own.

use crate::facts::{Cond, Evidence, Facts};
use crate::scan::Scanned;
use regex::Regex;
use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhases {
    milestone: Vec<RawMilestone>,
    proof: Vec<RawProof>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMilestone {
    id: String,
    pattern: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProof {
    phase: u8,
    why: String,
    #[serde(default)]
    facts: Vec<String>,
    #[serde(default)]
    unless: Vec<String>,
    milestone: Option<String>,
    evidence: Option<String>,
    #[serde(default)]
    current: bool,
}

pub struct Proof {
    pub phase: u8,
    pub why: String,
    facts: Vec<Cond>,
    unless: Vec<Cond>,
    milestone: Option<String>,
    evidence: Option<String>,
    pub current: bool,
}

pub struct Phases {
    pub milestones: Vec<(String, Regex)>,
    pub proofs: Vec<Proof>,
}

/// Why a phase passed, with evidence, and whether it shows the node's state now.
#[derive(Debug, Clone)]
pub struct Passed {
    pub why: String,
    pub evidence: Vec<Evidence>,
    pub current: bool,
}

impl Phases {
    /// Parse and check a phases file. The built-in one is checked by a test.
    pub fn parse(text: &str) -> Result<Phases, String> {
        let raw: RawPhases = toml::from_str(text).map_err(|e| e.to_string())?;
        let milestones = raw
            .milestone
            .into_iter()
            .map(|m| Ok((m.id, Regex::new(&m.pattern).map_err(|e| e.to_string())?)))
            .collect::<Result<Vec<_>, String>>()?;
        let mut proofs = Vec::new();
        for p in raw.proof {
            if !(1..=5).contains(&p.phase) {
                return Err(format!("proof for phase {} (not 1-5)", p.phase));
            }
            if let Some(m) = &p.milestone {
                if !milestones.iter().any(|(id, _)| id == m) {
                    return Err(format!("unknown milestone {m:?}"));
                }
            }
            let conds = |v: &[String]| {
                v.iter()
                    .map(|c| Cond::parse(c).map_err(|e| e.to_string()))
                    .collect::<Result<Vec<_>, _>>()
            };
            proofs.push(Proof {
                phase: p.phase,
                why: p.why,
                facts: conds(&p.facts)?,
                unless: conds(&p.unless)?,
                milestone: p.milestone,
                evidence: p.evidence,
                current: p.current,
            });
        }
        Ok(Phases { milestones, proofs })
    }

    /// The built-in phases file.
    pub fn builtin() -> &'static Phases {
        static P: OnceLock<Phases> = OnceLock::new();
        P.get_or_init(|| {
            Phases::parse(crate::rules::PHASES_TOML).expect("rules/phases.toml is checked by tests")
        })
    }

    /// Which phases passed (index 1-5), by facts or milestones; a phase passes
    /// when a later one did.
    pub fn passed(&self, facts: &Facts, s: &Scanned) -> [Option<Passed>; 6] {
        let mut p: [Option<Passed>; 6] = Default::default();
        for proof in &self.proofs {
            let slot = &mut p[proof.phase as usize];
            if slot.is_some() {
                continue;
            }
            let evidence = if let Some(m) = &proof.milestone {
                match s.milestones.get(m.as_str()).and_then(|h| h.first.first()) {
                    Some(h) => vec![h.evidence()],
                    None => continue,
                }
            } else if !proof.facts.is_empty()
                && proof.facts.iter().all(|c| c.eval(facts))
                && !proof.unless.iter().any(|c| c.eval(facts))
            {
                proof
                    .evidence
                    .as_deref()
                    .and_then(|n| facts.get(n))
                    .map(|f| f.evidence.clone())
                    .unwrap_or_default()
            } else {
                continue;
            };
            *slot = Some(Passed {
                why: proof.why.clone(),
                evidence,
                current: proof.current,
            });
        }
        for n in (1..5).rev() {
            if p[n].is_none() && p[n + 1].is_some() {
                p[n] = Some(Passed {
                    why: "a later phase passed".into(),
                    evidence: Vec::new(),
                    current: false,
                });
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn builtin_phases_parse() {
        let p = super::Phases::parse(crate::rules::PHASES_TOML).unwrap();
        assert!(p.proofs.iter().any(|x| x.phase == 5 && x.current));
        assert!(
            super::Phases::parse("milestone = []\n[[proof]]\nphase = 9\nwhy = \"x\"\n").is_err()
        );
    }
}
