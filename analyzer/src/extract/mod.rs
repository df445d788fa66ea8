//! Extractors: map parsed content to facts. Each reads content by kind (never
//! by bundle path), so a pasted `kubectl describe node` and a collected node
//! object give the same facts. A missing or malformed input only means fewer
//! facts.

mod certs;
mod clock;
mod host;
mod identity;
mod network;
mod node;
mod runtime;

use crate::budget::Deadline;
use crate::facts::{Evidence, Facts};
use crate::input::Problem;
use crate::paste;
use crate::scan::Scanned;
use bundle::layout::{self, Content};
use bundle::Manifest;
use std::borrow::Cow;

/// One piece of content: what kind it is, where it is, its text.
pub struct Doc<'a> {
    pub kind: Content,
    /// File inside the input (bundle path, or the pasted file's name).
    pub path: String,
    /// 1-based line of the content's first line within `path`.
    pub first_line: u64,
    pub data: Cow<'a, [u8]>,
}

impl Doc<'_> {
    /// The text, named as the source of anything its parsers refuse.
    pub fn text(&self) -> Cow<'_, str> {
        crate::parse::set_current(&self.path);
        String::from_utf8_lossy(&self.data)
    }

    /// Evidence at a 0-based line of this content.
    pub fn at(&self, line: usize, text: impl Into<String>) -> Evidence {
        Evidence::new(&self.path, Some(self.first_line + line as u64), text)
    }

    /// Evidence about the content as a whole.
    pub fn about(&self, text: impl Into<String>) -> Evidence {
        let line = (self.first_line > 1).then_some(self.first_line);
        Evidence::new(&self.path, line, text)
    }

    /// Evidence at the first line containing `needle`.
    pub fn line_with(&self, needle: &str) -> Option<Evidence> {
        let t = self.text();
        let (i, l) = t.lines().enumerate().find(|(_, l)| l.contains(needle))?;
        Some(self.at(i, l))
    }
}

pub struct Ctx<'a> {
    pub s: &'a Scanned,
    pub manifest: Option<Manifest>,
    /// Node clock at collection (unix seconds), when known.
    pub collected: Option<f64>,
    pub docs: Vec<Doc<'a>>,
    pub listings: Option<bundle::Listings>,
    pub problems: Vec<Problem>,
    /// The input's time budget, shared with its read: extraction stops there.
    pub deadline: Deadline,
    /// The deadline has passed and said so.
    late: bool,
}

impl<'a> Ctx<'a> {
    /// Index what a scan kept by content kind; pasted text is split into
    /// sections. Files left when `deadline` passes are not indexed.
    pub fn new(s: &'a Scanned, deadline: Deadline) -> Ctx<'a> {
        let mut c = Ctx {
            s,
            manifest: None,
            collected: None,
            docs: Vec::new(),
            listings: None,
            problems: Vec::new(),
            deadline,
            late: false,
        };
        // Sections are copies of what was kept: their bytes have a budget.
        let mut section_bytes = 0;
        for (path, data) in &s.small {
            if c.late("kept files from this one on were not used") {
                break;
            }
            let kind = layout::content_of(path);
            let bundled =
                path.starts_with(bundle::FILES_DIR) || path.starts_with(bundle::COMMANDS_DIR);
            if kind == Content::Other && !bundled {
                c.pasted(path, data, &mut section_bytes);
            } else {
                c.docs.push(Doc {
                    kind,
                    path: path.clone(),
                    first_line: 1,
                    data: Cow::Borrowed(data),
                });
            }
        }
        c.read_manifest();
        c
    }

    /// True once the input's deadline has passed; the first time, a problem
    /// says that `what` (and everything after it) was skipped.
    pub fn late(&mut self, what: &str) -> bool {
        if self.late {
            return true;
        }
        if self.deadline.passed().is_none() {
            return false;
        }
        self.late = true;
        self.problems.push(Problem {
            path: "facts".into(),
            problem: self.deadline.cut(&format!("{what}; facts may be missing")),
        });
        true
    }

    /// Pasted text: the file itself, then its sections of command output.
    fn pasted(&mut self, path: &str, data: &'a [u8], section_bytes: &mut usize) {
        self.docs.push(Doc {
            kind: Content::Other,
            path: path.to_string(),
            first_line: 1,
            data: Cow::Borrowed(data),
        });
        let (secs, cut) =
            paste::sections_at_most(&String::from_utf8_lossy(data), paste::MAX_SECTIONS);
        if cut {
            self.problems.push(Problem {
                path: path.to_string(),
                problem: format!(
                    "more than {} sections of command output or config in pasted text; the rest were not used",
                    paste::MAX_SECTIONS
                ),
            });
        }
        for sec in secs {
            if *section_bytes + sec.text.len() > paste::SECTIONS_TOTAL {
                self.problems.push(Problem {
                    path: path.to_string(),
                    problem: format!(
                        "sections of pasted text past {} MiB in this input were not used",
                        paste::SECTIONS_TOTAL >> 20
                    ),
                });
                break;
            }
            *section_bytes += sec.text.len();
            self.docs.push(Doc {
                kind: sec.kind,
                path: path.to_string(),
                first_line: sec.first_line,
                data: Cow::Owned(sec.text.into_bytes()),
            });
        }
    }

    fn read_manifest(&mut self) {
        if let Some(d) = self.doc(Content::Manifest) {
            let problem = match crate::structured::json_slice::<Manifest>(&d.data, bundle::MANIFEST)
            {
                Ok(m) if m.format != bundle::FORMAT || m.version == 0 => {
                    Some("not a nodejoin manifest (format/version missing)".to_string())
                }
                Ok(m) => {
                    let newer = (m.version > bundle::VERSION).then(|| format!(
                        "bundle format version {} is newer than this analyzer reads ({}); using what it understands",
                        m.version,
                        bundle::VERSION
                    ));
                    self.manifest = Some(m);
                    newer
                }
                Err(e) => Some(format!(
                    "manifest.json could not be read ({}); facts from it are missing",
                    e.message
                )),
            };
            if let Some(problem) = problem {
                self.problems.push(Problem {
                    path: bundle::MANIFEST.into(),
                    problem,
                });
            }
        }
        if let Some(d) = self.doc(Content::Listings) {
            self.listings = crate::structured::json_slice(&d.data, bundle::LISTINGS).ok();
        }
    }

    /// The first content of a kind (bundle paths in order, then paste order).
    pub fn doc(&self, kind: Content) -> Option<&Doc<'a>> {
        self.docs.iter().find(|d| d.kind == kind)
    }

    pub fn docs(&self, kind: Content) -> impl Iterator<Item = &Doc<'a>> {
        self.docs.iter().filter(move |d| d.kind == kind)
    }

    /// The content stored for a host file, whatever its kind.
    pub fn host_file(&self, host: &str) -> Option<&Doc<'a>> {
        let p = bundle::file_path(host);
        self.docs.iter().find(|d| d.path == p)
    }

    /// The manifest says this host file does not exist.
    pub fn missing_file(&self, host: &str) -> bool {
        let id = layout::file_item_id(host);
        self.manifest.as_ref().is_some_and(|m| {
            m.items
                .iter()
                .any(|i| i.id == id && i.outcome == bundle::Outcome::Missing)
        })
    }

    /// Any stored path starts with one of these host directories.
    pub fn has_under(&self, dirs: &[&str]) -> bool {
        self.docs.iter().any(|d| {
            d.path
                .strip_prefix(bundle::FILES_DIR)
                .is_some_and(|p| dirs.iter().any(|dir| format!("/{p}").starts_with(dir)))
        })
    }

    pub fn is_bundle(&self) -> bool {
        self.manifest.is_some()
    }
}

/// Every certificate of an input: PEM/DER files and kubeconfig `*-data`.
pub fn certificates(c: &mut Ctx) -> Vec<crate::parse::certs::Cert> {
    certs::all(c, &mut Facts::default())
}

type Step = fn(&mut Ctx, &mut Facts);

/// The extractors before certificates, in order, each with its name.
const BEFORE_CERTS: [(&str, Step); 17] = [
    ("clock", clock::collected),
    ("clock sync", clock::sync),
    ("clock probe", clock::probe),
    ("swap", host::swap),
    ("cgroups", host::cgroups),
    ("kernel", host::kernel),
    ("power", host::power),
    ("disk", host::disk),
    ("cpus", host::cpus),
    ("identity", identity::all),
    ("runtime flavor", runtime::flavor),
    ("kubelet", runtime::kubelet),
    ("units", runtime::units),
    ("containerd", runtime::containerd),
    ("runtime presence", runtime::presence_facts),
    ("CNI", network::cni),
    ("reachability", network::reachability),
];

/// Compute every fact an input supports, until the input's deadline: the
/// extractors left then are skipped (and a problem says so). The
/// certificates parsed are returned for `timeline` and `certs`.
pub fn all(c: &mut Ctx, facts: &mut Facts) -> Vec<crate::parse::certs::Cert> {
    for (name, step) in BEFORE_CERTS {
        if c.late(&format!(
            "{name} facts and the extractors after them were skipped"
        )) {
            return Vec::new();
        }
        step(c, facts);
    }
    if c.late("certificate facts and the extractors after them were skipped") {
        return Vec::new();
    }
    let certs = certs::all(c, facts);
    for (name, step) in [
        ("node object", node::object as Step),
        ("CSR", node::csrs),
        ("cordon", node::cordons),
    ] {
        if c.late(&format!(
            "{name} facts and the extractors after them were skipped"
        )) {
            return certs;
        }
        step(c, facts);
    }
    if !c.late("inferred clock facts were skipped") {
        clock::inferred(c, facts, &certs);
    }
    certs
}
