//! Host files: reading them under `--root` into the bundle (redacted, capped),
//! directory listings, pod logs and the operator's `--include` files.
//! Every path goes through `host` (no escape from the root, regular files
//! only, reads bounded by `--max-time`); every candidate gets an item.

use crate::host::{self, Bounded, OpenError, Opened};
use crate::plan::{self, Cap};
use crate::spool::Spool;
use crate::writer::{store, Writer};
use crate::{command, redact, Ctx};
use bundle::{Item, Kind, ListingEntry, Listings, Outcome};
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub use crate::host::read_small;

/// The manifest outcome for an I/O error; ENOSPC, EIO and the like are
/// `failed` with the error's own name in `error`.
pub(crate) fn outcome_of(e: &io::Error) -> Outcome {
    match e.kind() {
        io::ErrorKind::NotFound => Outcome::Missing,
        io::ErrorKind::PermissionDenied => Outcome::Denied,
        _ => Outcome::Failed,
    }
}

/// A host path under the collection root, links resolved inside it.
pub fn host(root: &Path, p: &str) -> PathBuf {
    host::resolve(root, p)
        .map(|(real, _)| real)
        .unwrap_or_else(|_| root.join(p.trim_start_matches('/')))
}

/// Expand a plan path with `*` components into existing host paths (sorted).
/// The second list holds candidates past `plan::GLOB_CAP` per directory.
pub fn expand(root: &Path, pattern: &str) -> Vec<String> {
    expand_capped(root, pattern).0
}

fn expand_capped(root: &Path, pattern: &str) -> (Vec<String>, Vec<String>) {
    if !pattern.contains('*') {
        return (vec![pattern.to_string()], Vec::new());
    }
    let mut found = vec![String::new()];
    let mut over = Vec::new();
    for comp in pattern.trim_start_matches('/').split('/') {
        let mut next = Vec::new();
        for base in &found {
            if !comp.contains('*') {
                next.push(format!("{base}/{comp}"));
                continue;
            }
            let Some(rd) = host::real(root, base).and_then(|d| fs::read_dir(d).ok()) else {
                continue;
            };
            let mut names: Vec<String> = rd
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| plan::glob_match(comp, n))
                .collect();
            names.sort();
            let mut all = names.into_iter().map(|n| format!("{base}/{n}"));
            next.extend(all.by_ref().take(plan::GLOB_CAP));
            over.extend(all);
        }
        found = next;
    }
    // Not directories: a `*` that matches a directory does not descend.
    let not_dir = |p: &String| {
        host::real(root, p).is_some_and(|r| fs::metadata(r).map(|m| !m.is_dir()).unwrap_or(true))
    };
    over.retain(|p| pattern.ends_with('*') || not_dir(p));
    (found.into_iter().filter(not_dir).collect(), over)
}

fn skip(item: &mut Item, why: impl Into<String>) {
    item.outcome = Outcome::Skipped;
    item.error = Some(why.into());
}

fn fail(item: &mut Item, e: &io::Error) {
    item.outcome = outcome_of(e);
    if item.outcome != Outcome::Missing {
        item.error = Some(e.to_string());
    }
}

/// Open a plan path, recording why not in `item`.
fn open_item(root: &Path, p: &str, item: &mut Item) -> Option<Opened> {
    match host::open(root, p) {
        Ok(o) => Some(o),
        Err(OpenError::Refused(r)) => {
            if let Ok((real, _)) = host::resolve(root, p) {
                if let Ok(m) = fs::symlink_metadata(real) {
                    item.mode = Some(format!("{:04o}", m.permissions().mode() & 0o7777));
                }
            }
            skip(item, r.0);
            None
        }
        Err(OpenError::Io(e)) => {
            fail(item, &e);
            None
        }
    }
}

/// Read one host file into the bundle (redacted, capped).
pub(crate) fn collect_file(ctx: &Ctx, w: &mut Writer, p: &str, cap: Cap) -> Item {
    let t = Instant::now();
    let mut item = Item::new(format!("file:{p}"), Kind::File, p);
    let Some(o) = open_item(&ctx.opts.root, p, &mut item) else {
        return item;
    };
    item.mode = Some(format!("{:04o}", o.meta.permissions().mode() & 0o7777));
    item.source_size = Some(o.meta.len());
    if plan::is_secret_path(p) || plan::is_secret_path(&o.inside) {
        item.outcome = Outcome::Redacted;
        item.error = Some("secret file: presence, size and mode only".into());
        return item;
    }
    if w.remaining() == 0 {
        skip(&mut item, "total size cap reached");
        return item;
    }
    if ctx.out_of_time() {
        skip(&mut item, "time budget exhausted");
        return item;
    }
    let limit = ctx.cap(cap);
    let newest = matches!(cap, Cap::Log | Cap::PodLog);
    let read = if newest {
        read_tail(ctx, o, limit, p)
    } else {
        read_head(ctx, o, limit, p)
    };
    match read.and_then(|r| r.store(w, &mut item, bundle::file_path(p))) {
        Ok(()) => {}
        Err(e) => fail(&mut item, &e),
    }
    item.duration_ms = t.elapsed().as_millis() as u64;
    item
}

/// What was read from one file, redacted, waiting to be stored.
struct Taken {
    spool: Spool,
    redactions: u64,
    /// Source bytes left out before the spool saw them.
    pre_cut: u64,
    /// The time budget ended the read.
    timed_out: bool,
}

impl Taken {
    fn store(self, w: &mut Writer, item: &mut Item, path: String) -> io::Result<()> {
        let kept = self.spool.finish(w.remaining())?;
        item.redactions = self.redactions;
        store(w, item, path, kept, self.pre_cut);
        if self.timed_out {
            item.outcome = Outcome::Truncated;
            item.error = Some("time budget (--max-time) ran out while reading".into());
        }
        Ok(())
    }
}

fn redact_bounded(
    ctx: &Ctx,
    src: impl Read,
    cap: u64,
    name: &str,
    red: redact::Redactor,
) -> io::Result<Taken> {
    let deadline = ctx.started + ctx.opts.max_time;
    let b = Bounded::new(src, deadline);
    let hit = b.hit.clone();
    let spool = Spool::new(cap, &ctx.spool_dir, name);
    let (spool, redactions) = command::redact_into(b, spool, red)?;
    Ok(Taken {
        spool,
        redactions,
        pre_cut: 0,
        timed_out: hit.get(),
    })
}

/// Logs keep their newest whole lines: start `limit` bytes before the end,
/// after the first newline found there (read in 64 KiB blocks; a log with no
/// newline there is kept from the cut point, its partial first line withheld).
fn read_tail(ctx: &Ctx, o: Opened, limit: u64, p: &str) -> io::Result<Taken> {
    let mut f = o.file;
    let len = o.meta.len();
    let mut start = 0;
    let mut mid_line = false;
    if len > limit {
        start = len - limit;
        let nl = first_newline(&mut f, start, limit.min(1 << 20))?;
        mid_line = nl.is_none();
        start += nl.map_or(0, |i| i + 1);
    }
    f.seek(SeekFrom::Start(start))?;
    let name = format!("f{}", p.replace('/', "_"));
    // A file read from its tail may start inside a key block; a whole file
    // goes through the reader for its format.
    let red = if mid_line {
        // No newline near the cut: the first (partial) line is withheld.
        redact::Redactor::after_cut_mid_line()
    } else if start > 0 {
        redact::Redactor::after_cut()
    } else {
        redact::Redactor::structured(redact::format_for_path(p))
    };
    let mut r = redact_bounded(ctx, f, limit, &name, red)?;
    r.pre_cut = start;
    Ok(r)
}

/// Offset of the first `\n` in `f[at..at+window]`, if any.
fn first_newline(f: &mut File, at: u64, window: u64) -> io::Result<Option<u64>> {
    f.seek(SeekFrom::Start(at))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut seen = 0u64;
    while seen < window {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if let Some(i) = buf[..n].iter().position(|b| *b == b'\n') {
            return Ok(Some(seen + i as u64));
        }
        seen += n as u64;
    }
    Ok(None)
}

/// Config files keep their head, cut after the last whole line that fits.
fn read_head(ctx: &Ctx, o: Opened, limit: u64, p: &str) -> io::Result<Taken> {
    let mut f = o.file;
    let len = o.meta.len();
    let mut keep = limit;
    if len > limit {
        let from = limit.saturating_sub(64 * 1024);
        let mut window = Vec::new();
        f.seek(SeekFrom::Start(from))?;
        (&mut f).take(limit - from).read_to_end(&mut window)?;
        if let Some(i) = window.iter().rposition(|b| *b == b'\n') {
            keep = from + i as u64 + 1;
        }
        f.seek(SeekFrom::Start(0))?;
    }
    let name = format!("f{}", p.replace('/', "_"));
    // Slack for markers longer than what they replace: the head is never cut twice.
    let red = redact::Redactor::structured(redact::format_for_path(p));
    let mut r = redact_bounded(ctx, f.take(keep), keep + 64 * 1024, &name, red)?;
    r.pre_cut = len.saturating_sub(keep);
    Ok(r)
}

fn entry_kind(ft: &fs::FileType) -> &'static str {
    if ft.is_symlink() {
        "link"
    } else if ft.is_dir() {
        "dir"
    } else if ft.is_file() {
        "file"
    } else if ft.is_socket() {
        "socket"
    } else {
        "other"
    }
}

fn listing_entry(e: &fs::DirEntry, name: String) -> Option<ListingEntry> {
    let m = e.path().symlink_metadata().ok()?;
    let ft = m.file_type();
    let target = ft.is_symlink().then(|| {
        fs::read_link(e.path())
            .map(|t| t.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    Some(ListingEntry {
        name,
        kind: entry_kind(&ft).into(),
        size: m.size(),
        mode: format!("{:04o}", m.mode() & 0o7777),
        target,
    })
}

fn wanted(name: &str, prefix: Option<&str>) -> bool {
    match prefix {
        None => true,
        Some("") => name.ends_with(".sock"),
        Some(pfx) => name.starts_with(pfx),
    }
}

/// List a host directory (names, types, sizes, modes), at most `plan::LISTING_CAP`.
pub(crate) fn list_dir(
    root: &Path,
    dir: &str,
    prefix: Option<&str>,
) -> (Item, Option<Vec<ListingEntry>>) {
    let mut item = Item::new(format!("list:{dir}"), Kind::Listing, dir);
    let rd = match host::resolve(root, dir) {
        Err(r) => {
            skip(&mut item, r.0);
            return (item, None);
        }
        Ok((real, _)) => fs::read_dir(real),
    };
    let rd = match rd {
        Ok(rd) => rd,
        Err(e) => {
            fail(&mut item, &e);
            return (item, None);
        }
    };
    let mut entries = Vec::new();
    let mut over = 0u64;
    for e in rd.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        if !wanted(&name, prefix) {
            continue;
        }
        if entries.len() >= plan::LISTING_CAP {
            over += 1;
            continue;
        }
        entries.extend(listing_entry(&e, name));
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    item.size = entries.len() as u64;
    if over > 0 {
        item.outcome = Outcome::Truncated;
        item.error = Some(format!(
            "cap {}: {over} more entries not listed",
            plan::LISTING_CAP
        ));
    }
    (item, Some(entries))
}

/// Container logs of the CNI and kube-proxy pods, newest first; the second
/// list holds those past `plan::POD_LOG_FILES`.
pub(crate) fn pod_logs(root: &Path) -> (Vec<String>, Vec<String>) {
    let mut found: Vec<(std::time::SystemTime, String)> = Vec::new();
    let Some(rd) = host::real(root, "/var/log/pods").and_then(|d| fs::read_dir(d).ok()) else {
        return (Vec::new(), Vec::new());
    };
    for pod in rd.filter_map(Result::ok) {
        let pname = pod.file_name().to_string_lossy().into_owned();
        if !plan::POD_LOG_NAMES.iter().any(|n| pname.contains(n)) {
            continue;
        }
        let Ok(containers) = fs::read_dir(pod.path()) else {
            continue;
        };
        for c in containers.filter_map(Result::ok) {
            let cname = c.file_name().to_string_lossy().into_owned();
            let Ok(logs) = fs::read_dir(c.path()) else {
                continue;
            };
            for l in logs.filter_map(Result::ok) {
                let lname = l.file_name().to_string_lossy().into_owned();
                if !lname.ends_with(".log") {
                    continue;
                }
                let m = l
                    .metadata()
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .unwrap_or(std::time::UNIX_EPOCH);
                found.push((m, format!("/var/log/pods/{pname}/{cname}/{lname}")));
            }
        }
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut all = found.into_iter().map(|x| x.1);
    let kept = all.by_ref().take(plan::POD_LOG_FILES).collect();
    (kept, all.collect())
}

/// `--node-yaml` and `--include` files: the operator's own, read outside `--root`
/// (still regular files only).
pub(crate) fn collect_extra(ctx: &Ctx, w: &mut Writer, p: &Path, is_node: bool) -> Item {
    let shown = p.to_string_lossy().into_owned();
    let mut item = Item::new(format!("include:{shown}"), Kind::Include, &shown);
    let name = match p.file_name() {
        _ if is_node => "node.yaml".to_string(),
        Some(s) => s.to_string_lossy().into_owned(),
        None => "include".into(),
    };
    let f = match host::open_regular(p, true) {
        Ok((f, _)) => f,
        Err(OpenError::Refused(r)) => {
            skip(&mut item, r.0);
            return item;
        }
        Err(OpenError::Io(e)) => {
            item.outcome = outcome_of(&e);
            item.error = Some(e.to_string());
            return item;
        }
    };
    // An include is recognised by its content (a bare token file, a config).
    let mut f = f;
    let mut head = Vec::new();
    let _ = (&mut f).take(64 * 1024).read_to_end(&mut head);
    let red = redact::Redactor::structured(redact::sniff(&head));
    let src = io::Cursor::new(head).chain(f);
    let r = redact_bounded(ctx, src, ctx.opts.max_log, &format!("x{name}"), red).and_then(|r| {
        item.source_size = Some(r.spool.total());
        r.store(w, &mut item, format!("{}{name}", bundle::EXTRA_DIR))
    });
    if let Err(e) = r {
        fail(&mut item, &e);
    }
    item
}

/// A `skipped: cap N` item for each candidate past a cap.
fn capped(items: &mut Vec<Item>, paths: Vec<String>, cap: usize, what: &str) {
    for p in paths {
        let mut it = Item::new(format!("file:{p}"), Kind::File, &p);
        skip(
            &mut it,
            format!("cap {cap}: only the first {cap} {what} are collected"),
        );
        items.push(it);
    }
}

/// Every host file, pod log, listing and operator file of the plan.
pub(crate) fn collect_all(ctx: &Ctx, w: &mut Writer) -> (Vec<Item>, Listings) {
    let opts = ctx.opts;
    let mut items = Vec::new();
    let mut listings = Listings::new();
    for (pattern, cap) in plan::FILES {
        let (paths, over) = expand_capped(&opts.root, pattern);
        for p in paths {
            items.push(collect_file(ctx, w, &p, *cap));
        }
        capped(
            &mut items,
            over,
            plan::GLOB_CAP,
            &format!("names matching {pattern}"),
        );
    }
    let (pods, over) = pod_logs(&opts.root);
    for p in pods {
        items.push(collect_file(ctx, w, &p, Cap::PodLog));
    }
    capped(
        &mut items,
        over,
        plan::POD_LOG_FILES,
        "pod logs (newest first)",
    );
    for (d, prefix) in plan::LISTINGS {
        let (item, entries) = list_dir(&opts.root, d, *prefix);
        items.push(item);
        if let Some(e) = entries {
            listings.insert(d.to_string(), e);
        }
    }
    let node = opts.node_yaml.iter().map(|p| (true, p));
    for (is_node, p) in node.chain(opts.includes.iter().map(|p| (false, p))) {
        items.push(collect_extra(ctx, w, p, is_node));
    }
    (items, listings)
}
