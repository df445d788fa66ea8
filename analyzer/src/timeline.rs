//! The join timeline: join-relevant events of every source (log lines that
//! match `rules/timeline.toml`, certificate validity windows, the Node's
//! creationTimestamp and condition transitions) merged in one order. Times
//! from the node clock are corrected by the measured (else the inferred)
//! clock offset, and the correction is shown; times from the cluster
//! (certificates, the Node object) are used as they are.

use crate::extract::{Ctx, Doc};
use crate::facts::{keys, Evidence, Facts};
use crate::input::{self, Problem, Sink};
use crate::parse::certs::fmt_time;
use crate::parse::logline;
use crate::{model, Options};
use bundle::layout::{self, Content};
use regex::{Regex, RegexSet};
use serde::{Deserialize, Serialize};
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// The built-in event patterns.
pub const BUILTIN: &str = include_str!("../../rules/timeline.toml");
/// Events kept per event id (first half and last half when there are more).
const PER_ID: usize = 40;
const MAX_LINE: usize = 16 * 1024;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventPattern {
    pub id: String,
    pub phase: u8,
    pub label: String,
    #[serde(default)]
    pub sources: Vec<String>,
    pub pattern: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    event: Vec<EventPattern>,
}

pub struct Patterns {
    pub events: Vec<EventPattern>,
    set: RegexSet,
}

impl Patterns {
    pub fn parse(text: &str) -> Result<Patterns, String> {
        let f: File = toml::from_str(text).map_err(|e| e.to_string())?;
        for e in &f.event {
            Regex::new(&e.pattern).map_err(|x| format!("event {}: {x}", e.id))?;
            if !(1..=5).contains(&e.phase) {
                return Err(format!("event {}: phase {} is not 1-5", e.id, e.phase));
            }
        }
        let set = RegexSet::new(f.event.iter().map(|e| &e.pattern)).map_err(|e| e.to_string())?;
        Ok(Patterns {
            events: f.event,
            set,
        })
    }

    pub fn builtin() -> Patterns {
        Patterns::parse(BUILTIN).expect("rules/timeline.toml is checked by a test")
    }
}

/// Which clock a time was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Clock {
    /// The node's clock: corrected by the offset.
    Node,
    /// The cluster's (API server, CA): used as is.
    Cluster,
}

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Corrected time (unix seconds): what the reference clock read.
    pub time: f64,
    pub time_rfc3339: String,
    /// The time as the source wrote it, when it came from the node clock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_time: Option<String>,
    pub clock: Clock,
    pub phase: u8,
    pub phase_name: &'static str,
    pub id: String,
    pub label: String,
    pub source: String,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Serialize)]
pub struct Correction {
    /// Seconds subtracted from node-clock times (node minus reference).
    pub offset_s: f64,
    /// `measured`, `inferred` or `none`.
    pub basis: &'static str,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub input: String,
    pub correction: Correction,
    pub events: Vec<Event>,
    /// Events not shown: more than the per-event cap.
    pub dropped: u64,
    pub problems: Vec<Problem>,
}

struct Raw {
    file: String,
    line: u64,
    text: String,
    source: &'static str,
    event: usize,
}

/// Reads log content and keeps the lines that are timeline events: per
/// event id the first and the last `PER_ID / 2`.
struct LogSink<'a> {
    pats: &'a Patterns,
    first: Vec<Vec<Raw>>,
    last: Vec<std::collections::VecDeque<Raw>>,
    dropped: u64,
}

impl LogSink<'_> {
    fn keep(&mut self, r: Raw) {
        let e = r.event;
        if self.first[e].len() < PER_ID / 2 {
            self.first[e].push(r);
            return;
        }
        if self.last[e].len() == PER_ID / 2 {
            self.last[e].pop_front();
            self.dropped += 1;
        }
        self.last[e].push_back(r);
    }
}

impl Sink for LogSink<'_> {
    fn entry(&mut self, path: &str, _size: Option<u64>, data: &mut dyn Read) -> io::Result<()> {
        let source = match layout::content_of(path) {
            Content::Log(s) => s.name(),
            Content::Other
                if !path.starts_with(bundle::FILES_DIR)
                    && !path.starts_with(bundle::COMMANDS_DIR) =>
            {
                "any"
            }
            _ => return Ok(()),
        };
        let mut r = BufReader::new(data);
        let mut buf = Vec::new();
        let mut n = 0u64;
        loop {
            buf.clear();
            let got = (&mut r).take(MAX_LINE as u64).read_until(b'\n', &mut buf)?;
            if got == 0 {
                break;
            }
            if buf.last() != Some(&b'\n') && got == MAX_LINE {
                // Overlong line: skip its rest, holding none of it.
                skip_line(&mut r)?;
            }
            n += 1;
            let line = String::from_utf8_lossy(&buf);
            let line = line.trim_end();
            let m = self.pats.set.matches(line);
            let src = logline::source_of(line, source);
            let hit = m.iter().find(|i| {
                let want = &self.pats.events[*i].sources;
                want.is_empty() || logline::source_matches(src, want)
            });
            if let Some(event) = hit {
                self.keep(Raw {
                    file: path.to_string(),
                    line: n,
                    text: line.to_string(),
                    source: src,
                    event,
                });
            }
        }
        Ok(())
    }
}

/// Consume up to and including the next `\n` (or to the end) without
/// keeping what is skipped: a line may be a gigabyte long.
fn skip_line(r: &mut impl BufRead) -> io::Result<()> {
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok(());
        }
        if let Some(p) = memchr::memchr(b'\n', chunk) {
            r.consume(p + 1);
            return Ok(());
        }
        let n = chunk.len();
        r.consume(n);
    }
}

/// The node clock at collection, from the manifest.
pub fn node_clock(facts: &Facts) -> Option<f64> {
    facts
        .str(keys::BUNDLE_COLLECTED_AT)
        .and_then(logline::parse_iso)
}

/// `subtract 3.2 s`, `add 259200 s`.
fn shift(o: f64) -> String {
    if o >= 0.0 {
        format!("node-clock times moved back by {o:.1} s")
    } else {
        format!("node-clock times moved forward by {:.1} s", -o)
    }
}

fn correction(facts: &Facts) -> Correction {
    if let Some(o) = facts.num(keys::CLOCK_MEASURED_OFFSET_S) {
        let bound = facts.num(keys::CLOCK_MEASURED_BOUND_S).unwrap_or(0.0);
        return Correction {
            offset_s: o,
            basis: "measured",
            note: format!(
                "node clock {} by {} (measured, ± {bound:.1} s); {}",
                if o >= 0.0 { "ahead" } else { "behind" },
                human(o.abs()),
                shift(o)
            ),
        };
    }
    if let Some(o) = facts.num(keys::CLOCK_INFERRED_OFFSET_S) {
        let why = facts
            .fact(keys::CLOCK_INFERRED_OFFSET_S)
            .and_then(|f| f.evidence.first())
            .map(|e| format!(" from {}", e.quoted()))
            .unwrap_or_default();
        return Correction {
            offset_s: o,
            basis: "inferred",
            note: format!(
                "node clock {} by at least {} (inferred{why}); {}",
                if o >= 0.0 { "ahead" } else { "behind" },
                human(o.abs()),
                shift(o)
            ),
        };
    }
    Correction {
        offset_s: 0.0,
        basis: "none",
        note: "no clock offset measured or inferred; node-clock times shown as they are".into(),
    }
}

/// `3d 0h`, `5m 3s`, `0.4s`.
pub fn human(s: f64) -> String {
    let t = s.round() as i64;
    if s < 1.0 {
        format!("{s:.1}s")
    } else if t < 3600 {
        format!("{}m {}s", t / 60, t % 60)
    } else if t < 86400 {
        format!("{}h {}m", t / 3600, (t % 3600) / 60)
    } else {
        format!("{}d {}h", t / 86400, (t % 86400) / 3600)
    }
}

fn iso(t: f64) -> String {
    chrono::DateTime::from_timestamp(t.floor() as i64, ((t.fract()) * 1e9) as u32)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| format!("{t}"))
}

fn cluster_event(t: f64, phase: u8, id: &str, label: String, ev: Evidence) -> Event {
    Event {
        time: t,
        time_rfc3339: iso(t),
        node_time: None,
        clock: Clock::Cluster,
        phase,
        phase_name: model::phase_id(phase),
        id: id.into(),
        label,
        source: "cluster".into(),
        evidence: ev,
    }
}

/// Node object: creationTimestamp, condition transitions, taints added.
fn node_events(ctx: &Ctx, out: &mut Vec<Event>) {
    use serde_yaml_ng::Value as Y;
    let Some(d) = ctx.doc(Content::NodeObject) else {
        return;
    };
    let text = d.text();
    let Ok(v) = crate::structured::yaml::<Y>(&text, "node object") else {
        return;
    };
    let v = match v.get("items").and_then(|i| i.get(0)) {
        Some(first) => first.clone(),
        None => v,
    };
    let ts = node_time;
    let name = v
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or("?")
        .to_string();
    if let Some(t) = ts(v.get("metadata").and_then(|m| m.get("creationTimestamp"))) {
        let ev = d
            .line_with("creationTimestamp")
            .unwrap_or_else(|| d.about("creationTimestamp"));
        out.push(cluster_event(
            t,
            3,
            "node-created",
            format!("Node {name} created (registered)"),
            ev,
        ));
    }
    condition_events(&v, d, out);
    taint_events(&v, d, out);
}

/// A node-object timestamp (RFC 3339 text), as seconds.
fn node_time(x: Option<&serde_yaml_ng::Value>) -> Option<f64> {
    x.and_then(|y| y.as_str()).and_then(logline::parse_iso)
}

/// Node condition transitions.
fn condition_events(v: &serde_yaml_ng::Value, d: &Doc, out: &mut Vec<Event>) {
    let ts = node_time;
    let conds = v
        .get("status")
        .and_then(|s| s.get("conditions"))
        .and_then(|c| c.as_sequence())
        .cloned()
        .unwrap_or_default();
    for c in conds {
        let kind = c.get("type").and_then(|x| x.as_str()).unwrap_or("?");
        let status = c.get("status").and_then(|x| x.as_str()).unwrap_or("?");
        let reason = c.get("reason").and_then(|x| x.as_str()).unwrap_or("");
        let Some(t) = ts(c.get("lastTransitionTime")) else {
            continue;
        };
        let phase = match kind {
            "Ready" => 4,
            "NetworkUnavailable" => 4,
            _ => 5,
        };
        let ev = d
            .line_with(&format!("type: {kind}"))
            .unwrap_or_else(|| d.about(format!("condition {kind}")));
        out.push(cluster_event(
            t,
            phase,
            "node-condition",
            format!("condition {kind}={status} ({reason})"),
            ev,
        ));
    }
}

/// Taints with the time they were added.
fn taint_events(v: &serde_yaml_ng::Value, d: &Doc, out: &mut Vec<Event>) {
    let ts = node_time;
    let taints = v
        .get("spec")
        .and_then(|s| s.get("taints"))
        .and_then(|c| c.as_sequence())
        .cloned()
        .unwrap_or_default();
    for tn in taints {
        let key = tn.get("key").and_then(|x| x.as_str()).unwrap_or("?");
        let effect = tn.get("effect").and_then(|x| x.as_str()).unwrap_or("?");
        if let Some(t) = ts(tn.get("timeAdded")) {
            let ev = d.line_with(key).unwrap_or_else(|| d.about("taint"));
            out.push(cluster_event(
                t,
                5,
                "taint",
                format!("taint {key}:{effect} added"),
                ev,
            ));
        }
    }
}

/// Build the timeline of one input.
pub fn build(
    path: &Path,
    rules: &crate::rules::RuleSet,
    opts: &Options,
) -> Result<Timeline, input::InputError> {
    build_with(path, rules, opts, &Patterns::builtin())
}

pub fn build_with(
    path: &Path,
    rules: &crate::rules::RuleSet,
    opts: &Options,
    pats: &Patterns,
) -> Result<Timeline, input::InputError> {
    let ins = crate::inspect(path, rules, opts)?;
    let n = pats.events.len();
    let mut sink = LogSink {
        pats,
        first: (0..n).map(|_| Vec::new()).collect(),
        last: (0..n).map(|_| Default::default()).collect(),
        dropped: 0,
    };
    // The input is read a second time for the timeline's own patterns; both
    // reads and the facts between them share the input's one deadline.
    let mut problems = if ins.deadline.passed().is_some() {
        vec![input::Problem {
            path: path.display().to_string(),
            problem: ins
                .deadline
                .cut("nothing left for the timeline's read; log events are missing"),
        }]
    } else {
        input::read_by(path, &opts.limits, ins.deadline, &mut sink)?.1
    };
    for (name, data) in &opts.extra {
        let _ = sink.entry(name, Some(data.len() as u64), &mut data.as_slice());
    }
    let corr = correction(&ins.facts);
    let mut ctx = Ctx::new(&ins.scanned, ins.deadline);
    ctx.collected = node_clock(&ins.facts);
    let collected = ctx
        .collected
        .unwrap_or_else(|| chrono::Utc::now().timestamp() as f64);
    let raw = sink
        .first
        .into_iter()
        .flatten()
        .chain(sink.last.into_iter().flatten());
    let mut events = log_events(raw, pats, collected, corr.offset_s);
    cert_events(&ins.certs, &mut events);
    node_events(&ctx, &mut events);
    if let Some(t) = ctx.collected {
        events.push(collected_event(t, corr.offset_s));
    }
    events.sort_by(|a, b| a.time.total_cmp(&b.time).then(a.phase.cmp(&b.phase)));
    problems.extend(ctx.problems);
    // What the first read cut (facts, budgets) holds for the timeline too.
    let mut all = ins.scanned.problems.clone();
    for p in problems {
        if !all.contains(&p) {
            all.push(p);
        }
    }
    let problems = input::cap_problems(all);
    Ok(Timeline {
        input: path.display().to_string(),
        correction: corr,
        events,
        dropped: sink.dropped,
        problems,
    })
}

/// Log lines that matched an event pattern, node-clock times corrected.
fn log_events(
    raw: impl Iterator<Item = Raw>,
    pats: &Patterns,
    collected: f64,
    offset_s: f64,
) -> Vec<Event> {
    let mut events = Vec::new();
    for r in raw {
        let Some(t) = logline::timestamp(&r.text, collected) else {
            continue;
        };
        let p = &pats.events[r.event];
        let fixed = t - offset_s;
        events.push(Event {
            time: fixed,
            time_rfc3339: iso(fixed),
            node_time: Some(iso(t)),
            clock: Clock::Node,
            phase: p.phase,
            phase_name: model::phase_id(p.phase),
            id: p.id.clone(),
            label: p.label.clone(),
            source: r.source.to_string(),
            evidence: Evidence::new(&r.file, Some(r.line), r.text),
        });
    }
    events
}

/// Each certificate's NotBefore and NotAfter.
fn cert_events(certs: &[crate::parse::certs::Cert], events: &mut Vec<Event>) {
    for c in certs {
        let what = if c.subject_cn.is_empty() {
            c.subject.clone()
        } else {
            c.subject_cn.clone()
        };
        let ev = Evidence::new(
            &c.file,
            None,
            format!(
                "{} NotBefore {} NotAfter {}",
                c.subject,
                fmt_time(c.not_before),
                fmt_time(c.not_after)
            ),
        );
        let ph = if c.is_ca { 2 } else { 3 };
        out_cert(
            events,
            c.not_before as f64,
            ph,
            "cert-not-before",
            format!("certificate {what} valid from"),
            ev.clone(),
        );
        out_cert(
            events,
            c.not_after as f64,
            ph,
            "cert-not-after",
            format!("certificate {what} valid until"),
            ev,
        );
    }
}

/// The bundle's collection, at node-clock time `t`.
fn collected_event(t: f64, offset_s: f64) -> Event {
    let fixed = t - offset_s;
    Event {
        time: fixed,
        time_rfc3339: iso(fixed),
        node_time: Some(iso(t)),
        clock: Clock::Node,
        phase: 1,
        phase_name: model::phase_id(1),
        id: "collected".into(),
        label: "bundle collected".into(),
        source: "nodejoin-collect".into(),
        evidence: Evidence::new(
            bundle::MANIFEST,
            None,
            format!("collected_at {}", fmt_time(t as i64)),
        ),
    }
}

fn out_cert(out: &mut Vec<Event>, t: f64, phase: u8, id: &str, label: String, ev: Evidence) {
    out.push(cluster_event(t, phase, id, label, ev));
}

#[cfg(test)]
mod tests {
    #[test]
    fn builtin_patterns_load() {
        let p = super::Patterns::builtin();
        assert!(p.events.len() >= 15);
        assert!(
            super::Patterns::parse("[[event]]\nid='x'\nphase=9\nlabel='x'\npattern='a'").is_err()
        );
    }
}
