//! Fleets: many inputs at once. Expands directories of bundles into inputs
//! and summarizes the reports (causes with their nodes, failed phases,
//! unreadable inputs). The summary is data; `render_*` only present it.

use crate::facts::{keys, Value};
use crate::input::{InputError, Kind};
use crate::model;
use crate::render::{sanitize, verdict_line};
use crate::report::{FindingStatus, Report, Status};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How deep `expand` looks for bundles under a directory.
const MAX_DEPTH: usize = 6;

fn is_bundle_dir(p: &Path) -> bool {
    p.join(bundle::MANIFEST).is_file()
}

/// A directory that is itself one input: a bundle, or an unpacked tree.
fn is_tree(p: &Path) -> bool {
    is_bundle_dir(p) || p.join("files").is_dir() || p.join("commands").is_dir()
}

fn input_file(p: &Path) -> bool {
    let n = p
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    [
        ".tgz", ".tar.gz", ".tar", ".log", ".txt", ".log.gz", ".txt.gz",
    ]
    .iter()
    .any(|e| n.ends_with(e))
}

/// Inputs one run analyzes: every report is held until the fleet summary,
/// so a directory of a million pastes would otherwise grow without end
/// (20,000 tiny ones took 121 MiB).
pub const MAX_INPUTS: usize = 10_000;

fn collect(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut items: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .take(4 * MAX_INPUTS)
        .collect();
    items.sort();
    for p in items {
        if out.len() > MAX_INPUTS {
            return;
        }
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if m.is_dir() {
            if is_tree(&p) {
                out.push(p);
            } else if depth < MAX_DEPTH {
                collect(&p, depth + 1, out);
            }
        } else if m.is_file() && input_file(&p) {
            out.push(p);
        }
    }
}

/// Inputs named on the command line, with every directory that is not itself
/// a bundle replaced by the bundles and pastes under it (sorted). Returns the
/// inputs and whether this is a fleet run (several inputs, or a directory).
pub fn expand(paths: &[PathBuf]) -> (Vec<PathBuf>, bool) {
    let (out, fleet, _) = expand_capped(paths);
    (out, fleet)
}

/// [`expand`], keeping at most [`MAX_INPUTS`] inputs; true when some were left out.
pub fn expand_capped(paths: &[PathBuf]) -> (Vec<PathBuf>, bool, bool) {
    let mut out = Vec::new();
    let mut expanded = false;
    for p in paths {
        if p.is_dir() && !is_tree(p) {
            let mut found = Vec::new();
            collect(p, 0, &mut found);
            if !found.is_empty() {
                expanded = true;
                out.extend(found);
                continue;
            }
        }
        out.push(p.clone());
    }
    let fleet = expanded || out.len() > 1;
    let cut = out.len() > MAX_INPUTS;
    out.truncate(MAX_INPUTS);
    (out, fleet, cut)
}

/// The name a report is listed under: node name, else hostname, else the
/// input's file name.
pub fn node_name(r: &Report) -> String {
    for k in [
        keys::IDENTITY_NODE_NAME,
        keys::NODE_NAME,
        keys::IDENTITY_HOSTNAME,
    ] {
        if let Some(Value::Str(s)) = r.facts.get(k.name) {
            if !s.is_empty() {
                return s.clone();
            }
        }
    }
    Path::new(&r.input)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| r.input.clone())
}

#[derive(Debug, Clone, Serialize)]
pub struct CauseCount {
    pub cause: String,
    /// Nodes with an active finding of this cause.
    pub count: usize,
    pub nodes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhaseCount {
    pub phase: u8,
    pub name: &'static str,
    /// Inputs whose verdict failed at this phase.
    pub count: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Unreadable {
    pub input: String,
    pub reason: String,
}

/// The fleet summary (`"kind": "summary"` in JSON Lines).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub kind: &'static str,
    pub inputs: usize,
    pub joined: usize,
    pub failed: usize,
    pub inconclusive: usize,
    /// Most frequent first.
    pub causes: Vec<CauseCount>,
    /// By phase number.
    pub phases: Vec<PhaseCount>,
    /// Inputs that could not be read, or only partly (damaged archives).
    pub unreadable: Vec<Unreadable>,
}

/// Why a readable report still counts as unreadable or damaged, if it does.
fn damage(r: &Report) -> Option<String> {
    let named_bundle = {
        let n = r.input.to_lowercase();
        n.ends_with(".tgz") || n.ends_with(".tar.gz") || n.ends_with(".tar")
    };
    if named_bundle && r.kind == Kind::Log {
        return Some("named like a bundle, but is neither gzip nor tar".into());
    }
    r.problems
        .iter()
        .find(|p| {
            p.problem.starts_with("archive is truncated")
                || p.problem.starts_with("not a readable tar")
        })
        .map(|p| format!("damaged: {}", p.problem))
}

pub fn summarize(results: &[Result<Report, InputError>]) -> Summary {
    let mut s = Summary {
        kind: "summary",
        inputs: results.len(),
        joined: 0,
        failed: 0,
        inconclusive: 0,
        causes: Vec::new(),
        phases: Vec::new(),
        unreadable: Vec::new(),
    };
    let mut causes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut phases: BTreeMap<u8, usize> = BTreeMap::new();
    for r in results {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                s.unreadable.push(Unreadable {
                    input: e.path.display().to_string(),
                    reason: e.message.clone(),
                });
                continue;
            }
        };
        if let Some(reason) = damage(r) {
            s.unreadable.push(Unreadable {
                input: r.input.clone(),
                reason,
            });
        }
        match r.verdict.status {
            Status::Joined => s.joined += 1,
            Status::Failed => s.failed += 1,
            Status::Inconclusive => s.inconclusive += 1,
        }
        if let (Status::Failed, Some(p)) = (r.verdict.status, r.verdict.phase) {
            *phases.entry(p).or_default() += 1;
        }
        let node = node_name(r);
        let mut mine: Vec<&str> = r
            .findings
            .iter()
            .filter(|f| f.status == FindingStatus::Active)
            .map(|f| f.cause.as_str())
            .collect();
        if let Some(c) = &r.verdict.cause {
            mine.push(c);
        }
        mine.sort();
        mine.dedup();
        for c in mine {
            causes.entry(c.to_string()).or_default().push(node.clone());
        }
    }
    s.causes = causes
        .into_iter()
        .map(|(cause, nodes)| CauseCount {
            cause,
            count: nodes.len(),
            nodes,
        })
        .collect();
    s.causes
        .sort_by(|a, b| b.count.cmp(&a.count).then(a.cause.cmp(&b.cause)));
    s.phases = phases
        .into_iter()
        .map(|(phase, count)| PhaseCount {
            phase,
            name: model::phase_id(phase),
            count,
        })
        .collect();
    s
}

/// One line per input, for the table format of a fleet run.
pub fn report_line(r: &Report) -> String {
    format!(
        "{}  [{}]  {}\n",
        sanitize(&r.input),
        sanitize(&node_name(r)),
        verdict_line(r)
    )
}

pub fn error_line(e: &InputError) -> String {
    format!(
        "{}  UNREADABLE: {}\n",
        sanitize(&e.path.display().to_string()),
        sanitize(&e.message)
    )
}

/// The summary as plain text.
pub fn render_text(s: &Summary) -> String {
    let mut o = format!(
        "\nFleet summary: {} inputs: {} joined, {} failed, {} inconclusive, {} unreadable\n",
        s.inputs,
        s.joined,
        s.failed,
        s.inconclusive,
        s.unreadable.len()
    );
    if !s.causes.is_empty() {
        o.push_str("\nCauses (nodes with an active finding):\n");
        for c in &s.causes {
            o.push_str(&format!("  {:>4}  {}\n", c.count, sanitize(&c.cause)));
            let nodes: Vec<String> = c.nodes.iter().map(|n| sanitize(n)).collect();
            o.push_str(&format!("        {}\n", nodes.join(", ")));
        }
    }
    if !s.phases.is_empty() {
        o.push_str("\nFailed at phase:\n");
        for p in &s.phases {
            o.push_str(&format!("  {:>4}  {} {}\n", p.count, p.phase, p.name));
        }
    }
    if !s.unreadable.is_empty() {
        o.push_str("\nUnreadable or damaged inputs:\n");
        for u in &s.unreadable {
            o.push_str(&format!(
                "  {}: {}\n",
                sanitize(&u.input),
                sanitize(&u.reason)
            ));
        }
    }
    o
}

/// The summary as Markdown (after the per-input reports of a ticket).
pub fn render_markdown(s: &Summary) -> String {
    let md = |x: &str| crate::escape::md_text(x);
    let mut o = format!(
        "## Fleet summary\n\n{} inputs: {} joined, {} failed, {} inconclusive, {} unreadable\n\n",
        s.inputs,
        s.joined,
        s.failed,
        s.inconclusive,
        s.unreadable.len()
    );
    if !s.causes.is_empty() {
        o.push_str("| nodes | cause | which |\n|---|---|---|\n");
        for c in &s.causes {
            let nodes: Vec<String> = c.nodes.iter().map(|n| md(n)).collect();
            o.push_str(&format!(
                "| {} | {} | {} |\n",
                c.count,
                md(&c.cause),
                nodes.join(", ")
            ));
        }
        o.push('\n');
    }
    if !s.phases.is_empty() {
        o.push_str("| inputs | failed at phase |\n|---|---|\n");
        for p in &s.phases {
            o.push_str(&format!("| {} | {} {} |\n", p.count, p.phase, p.name));
        }
        o.push('\n');
    }
    if !s.unreadable.is_empty() {
        o.push_str("Unreadable or damaged inputs:\n\n");
        for u in &s.unreadable {
            o.push_str(&format!("- `{}`: {}\n", md(&u.input), md(&u.reason)));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_finds_bundles_and_keeps_trees() {
        let t = tempfile::tempdir().unwrap();
        let b = t.path().join("rack1/pi-a");
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(b.join("manifest.json"), "{}").unwrap();
        std::fs::write(t.path().join("b.tgz"), "x").unwrap();
        std::fs::write(t.path().join("notes.md"), "x").unwrap();
        std::fs::write(t.path().join("rack1/paste.txt"), "x").unwrap();
        let (v, fleet) = expand(&[t.path().to_path_buf()]);
        assert!(fleet);
        let names: Vec<String> = v
            .iter()
            .map(|p| {
                p.strip_prefix(t.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["b.tgz", "rack1/paste.txt", "rack1/pi-a"]);
        let (v, fleet) = expand(std::slice::from_ref(&b));
        assert!(!fleet);
        assert_eq!(v, [b]);
    }

    #[test]
    fn a_directory_of_too_many_inputs_is_cut_and_says_so() {
        let t = tempfile::tempdir().unwrap();
        for i in 0..MAX_INPUTS + 3 {
            std::fs::write(t.path().join(format!("n{i:05}.log")), "").unwrap();
        }
        let (v, fleet, cut) = expand_capped(&[t.path().to_path_buf()]);
        assert!(fleet && cut);
        assert_eq!(v.len(), MAX_INPUTS);
        let (v, _, cut) = expand_capped(&v);
        assert!(!cut && v.len() == MAX_INPUTS);
    }
}
