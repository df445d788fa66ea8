//! Host files: reading them under `--root` into the bundle (redacted, capped),
//! directory listings, pod logs and the operator's `--include` files.

use crate::plan::{self, Cap};
use crate::spool::{self, Spool};
use crate::writer::{store, Writer};
use crate::{command, redact, Ctx};
use bundle::{Item, Kind, ListingEntry, Listings, Outcome};
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub(crate) fn outcome_of(e: &io::Error) -> Outcome {
    match e.kind() {
        io::ErrorKind::NotFound => Outcome::Missing,
        io::ErrorKind::PermissionDenied => Outcome::Denied,
        _ => Outcome::Failed,
    }
}

/// A host path under the collection root.
pub fn host(root: &Path, p: &str) -> PathBuf {
    root.join(p.trim_start_matches('/'))
}

pub fn read_small(root: &Path, p: &str) -> Option<String> {
    let mut s = String::new();
    File::open(host(root, p))
        .ok()?
        .take(64 * 1024)
        .read_to_string(&mut s)
        .ok()?;
    Some(s)
}

/// Expand a plan path with `*` components into existing host paths (sorted).
pub fn expand(root: &Path, pattern: &str) -> Vec<String> {
    if !pattern.contains('*') {
        return vec![pattern.to_string()];
    }
    let mut found = vec![String::new()];
    for comp in pattern.trim_start_matches('/').split('/') {
        let mut next = Vec::new();
        for base in &found {
            if comp.contains('*') {
                let Ok(rd) = fs::read_dir(host(root, base)) else {
                    continue;
                };
                let mut names: Vec<String> = rd
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| plan::glob_match(comp, n))
                    .collect();
                names.sort();
                next.extend(names.into_iter().take(256).map(|n| format!("{base}/{n}")));
            } else {
                next.push(format!("{base}/{comp}"));
            }
        }
        found = next;
    }
    // Regular files only; directories matched by `*` are not descended.
    found
        .into_iter()
        .filter(|p| {
            fs::metadata(host(root, p))
                .map(|m| !m.is_dir())
                .unwrap_or(false)
        })
        .collect()
}

/// Read one host file into the bundle (redacted, capped).
pub(crate) fn collect_file(ctx: &Ctx, w: &mut Writer, p: &str, cap: Cap) -> Item {
    let t = Instant::now();
    let mut item = Item::new(format!("file:{p}"), Kind::File, p);
    let path = host(&ctx.opts.root, p);
    let meta = match fs::metadata(&path) {
        Ok(m) => m,
        Err(e) => {
            item.outcome = outcome_of(&e);
            if item.outcome != Outcome::Missing {
                item.error = Some(e.to_string());
            }
            return item;
        }
    };
    item.mode = Some(format!("{:04o}", meta.permissions().mode() & 0o7777));
    item.source_size = Some(meta.len());
    if meta.is_dir() {
        item.outcome = Outcome::Failed;
        item.error = Some("is a directory".into());
        return item;
    }
    if plan::is_secret_path(p) {
        item.outcome = Outcome::Redacted;
        item.error = Some("secret file: presence, size and mode only".into());
        return item;
    }
    if ctx.out_of_time() || w.remaining() == 0 {
        item.outcome = Outcome::Skipped;
        item.error = Some(
            if w.remaining() == 0 {
                "total size cap reached"
            } else {
                "time budget exhausted"
            }
            .into(),
        );
        return item;
    }
    let limit = ctx.cap(cap);
    let newest = matches!(cap, Cap::Log | Cap::PodLog);
    let mut f = match File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            item.outcome = outcome_of(&e);
            item.error = Some(e.to_string());
            return item;
        }
    };
    let mut pre_cut = 0u64;
    if newest && meta.len() > limit {
        // Start near the end and skip the partial first line.
        let start = meta.len() - limit;
        if f.seek(SeekFrom::Start(start)).is_ok() {
            let mut skipped = 0u64;
            let mut b = [0u8; 1];
            while f.read(&mut b).map(|n| n == 1).unwrap_or(false) {
                skipped += 1;
                if b[0] == b'\n' {
                    break;
                }
            }
            pre_cut = start + skipped;
        }
    }
    let spool = Spool::new(limit, &ctx.spool_dir, &format!("f{}", p.replace('/', "_")));
    let reader: Box<dyn Read> = if newest {
        Box::new(f)
    } else {
        Box::new(f.take(limit + 1))
    };
    // A log read from its tail may start inside a key block.
    let red = if pre_cut > 0 {
        redact::Redactor::after_cut()
    } else {
        redact::Redactor::new()
    };
    let (spool, redactions) = match command::redact_into(reader, spool, red) {
        Ok(r) => r,
        Err(e) => {
            item.outcome = outcome_of(&e);
            item.error = Some(e.to_string());
            return item;
        }
    };
    let head_cut = if !newest && spool.total() > limit {
        meta.len().max(spool.total()) - limit
    } else {
        0
    };
    let kept = match head_kept(spool, limit, w.remaining(), newest) {
        Ok(k) => k,
        Err(e) => {
            item.outcome = Outcome::Failed;
            item.error = Some(format!("spool: {e}"));
            return item;
        }
    };
    item.redactions = redactions;
    store(w, &mut item, bundle::file_path(p), kept, pre_cut + head_cut);
    item.duration_ms = t.elapsed().as_millis() as u64;
    item
}

/// Config files keep their head when cut; logs keep their newest part.
fn head_kept(spool: Spool, limit: u64, remaining: u64, newest: bool) -> io::Result<spool::Kept> {
    if newest || spool.total() <= limit.min(remaining) {
        return spool.finish(remaining);
    }
    let keep = limit.min(remaining);
    let mut k = spool.finish(u64::MAX)?;
    let mut head = Vec::with_capacity(keep as usize);
    (&mut k.reader).take(keep).read_to_end(&mut head)?;
    Ok(spool::Kept {
        len: head.len() as u64,
        reader: Box::new(io::Cursor::new(head)),
        cut: 0,
        ring: None,
    })
}

pub(crate) fn list_dir(
    root: &Path,
    dir: &str,
    prefix: Option<&str>,
) -> (Item, Option<Vec<ListingEntry>>) {
    let mut item = Item::new(format!("list:{dir}"), Kind::Listing, dir);
    let rd = match fs::read_dir(host(root, dir)) {
        Ok(rd) => rd,
        Err(e) => {
            item.outcome = outcome_of(&e);
            if item.outcome != Outcome::Missing {
                item.error = Some(e.to_string());
            }
            return (item, None);
        }
    };
    let mut entries = Vec::new();
    for e in rd.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pfx) = prefix {
            if pfx.is_empty() && !name.ends_with(".sock") {
                continue;
            }
            if !pfx.is_empty() && !name.starts_with(pfx) {
                continue;
            }
        }
        let Ok(m) = e.path().symlink_metadata() else {
            continue;
        };
        let ft = m.file_type();
        let kind = if ft.is_symlink() {
            "link"
        } else if ft.is_dir() {
            "dir"
        } else if ft.is_file() {
            "file"
        } else if ft.is_socket() {
            "socket"
        } else {
            "other"
        };
        let target = ft.is_symlink().then(|| {
            fs::read_link(e.path())
                .map(|t| t.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        entries.push(ListingEntry {
            name,
            kind: kind.into(),
            size: m.size(),
            mode: format!("{:04o}", m.mode() & 0o7777),
            target,
        });
        if entries.len() >= 2000 {
            break;
        }
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    item.size = entries.len() as u64;
    (item, Some(entries))
}

pub(crate) fn pod_logs(root: &Path) -> Vec<String> {
    let mut found: Vec<(std::time::SystemTime, String)> = Vec::new();
    let Ok(rd) = fs::read_dir(host(root, "/var/log/pods")) else {
        return Vec::new();
    };
    for pod in rd.filter_map(|e| e.ok()) {
        let pname = pod.file_name().to_string_lossy().into_owned();
        if !plan::POD_LOG_NAMES.iter().any(|n| pname.contains(n)) {
            continue;
        }
        let Ok(containers) = fs::read_dir(pod.path()) else {
            continue;
        };
        for c in containers.filter_map(|e| e.ok()) {
            let cname = c.file_name().to_string_lossy().into_owned();
            let Ok(logs) = fs::read_dir(c.path()) else {
                continue;
            };
            for l in logs.filter_map(|e| e.ok()) {
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
    found
        .into_iter()
        .take(plan::POD_LOG_FILES)
        .map(|x| x.1)
        .collect()
}

/// `--node-yaml` and `--include` files: the operator's own, read outside `--root`.
pub(crate) fn collect_extra(ctx: &Ctx, w: &mut Writer, p: &Path, is_node: bool) -> Item {
    let shown = p.to_string_lossy().into_owned();
    let mut item = Item::new(format!("include:{shown}"), Kind::Include, &shown);
    let base = p
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "include".into());
    let name = if is_node {
        "node.yaml".to_string()
    } else {
        base
    };
    let f = match File::open(p) {
        Ok(f) => f,
        Err(e) => {
            item.outcome = outcome_of(&e);
            item.error = Some(e.to_string());
            return item;
        }
    };
    let limit = ctx.opts.max_log;
    match command::pump(f, Spool::new(limit, &ctx.spool_dir, &format!("x{name}"))) {
        Ok((spool, red)) => {
            item.redactions = red;
            item.source_size = Some(spool.total());
            match spool.finish(w.remaining()) {
                Ok(k) => store(w, &mut item, format!("{}{name}", bundle::EXTRA_DIR), k, 0),
                Err(e) => {
                    item.outcome = Outcome::Failed;
                    item.error = Some(e.to_string());
                }
            }
        }
        Err(e) => {
            item.outcome = outcome_of(&e);
            item.error = Some(e.to_string());
        }
    }
    item
}

/// Every host file, pod log, listing and operator file of the plan.
pub(crate) fn collect_all(ctx: &Ctx, w: &mut Writer) -> (Vec<Item>, Listings) {
    let opts = ctx.opts;
    let mut items = Vec::new();
    let mut listings = Listings::new();
    for (pattern, cap) in plan::FILES {
        for p in expand(&opts.root, pattern) {
            items.push(collect_file(ctx, w, &p, *cap));
        }
    }
    for p in pod_logs(&opts.root) {
        items.push(collect_file(ctx, w, &p, Cap::PodLog));
    }
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
