//! `nodejoin-collect` as a library: gather a broken node's join state into one
//! bounded, redacted `.tgz` bundle (format: `docs/bundle-format.md`).
//!
//! The flow: `options` (what was asked) → `discover` (node name, API and NTP
//! servers) → `plan` (what to gather) → `files`, `commands` and `probe`
//! running at the same time → `writer` (the bundle) → the manifest.

// A `pub` item the crate does not export is a mistake: say pub(crate).
#![warn(unreachable_pub)]

pub mod command;
pub mod commands;
pub mod discover;
pub mod files;
pub mod host;
pub mod options;
pub mod plan;
pub mod probe;
pub mod procs;
pub mod redact;
pub mod spool;
pub mod writer;

pub use options::{Options, MIB};

use bundle::layout;
use bundle::{Item, Kind, Listings, Manifest};
use plan::Cap;
use std::fmt;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::Instant;
use writer::Writer;

/// Why no bundle could be written. Everything else is recorded in the manifest.
#[derive(Debug)]
pub enum Error {
    Output { path: PathBuf, source: io::Error },
    Write { path: PathBuf, source: io::Error },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Output { path, source } => write!(
                f,
                "cannot create the bundle at {}: {source}",
                path.display()
            ),
            Error::Write { path, source } => {
                write!(f, "writing the bundle {} failed: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Output { source, .. } | Error::Write { source, .. } => Some(source),
        }
    }
}

/// What a finished collection produced.
#[derive(Debug)]
pub struct Summary {
    pub path: PathBuf,
    pub manifest: Manifest,
}

impl Summary {
    /// "153 items (120 ok, 30 missing), 812 KiB content, 9 redactions, 2310 ms"
    pub fn totals_line(&self) -> String {
        let t = &self.manifest.totals;
        let counts: Vec<String> = t.outcomes.iter().map(|(k, v)| format!("{v} {k}")).collect();
        format!(
            "{} items ({}), {} KiB content, {} redactions, {} ms",
            t.items,
            counts.join(", "),
            t.bytes / 1024,
            t.redactions,
            self.manifest.duration_ms
        )
    }
}

/// What every part of one collection shares.
pub(crate) struct Ctx<'a> {
    pub(crate) opts: &'a Options,
    pub(crate) spool_dir: PathBuf,
    pub(crate) started: Instant,
}

impl Ctx<'_> {
    pub(crate) fn cap(&self, c: Cap) -> u64 {
        match c {
            Cap::Small => 256 * 1024,
            Cap::Config => self.opts.max_file,
            Cap::Log => self.opts.max_log,
            Cap::PodLog => self.opts.max_log.min(2 * MIB),
        }
    }

    pub(crate) fn out_of_time(&self) -> bool {
        self.started.elapsed() >= self.opts.max_time
    }
}

/// Who and when: what the manifest says about the node and the run.
struct Run {
    t0_us: i64,
    started: Instant,
    hostname: String,
    node: String,
    node_source: String,
}

fn default_name(hostname: &str, unix_secs: i64) -> String {
    let clean: String = hostname
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("nodejoin-{clean}-{}.tgz", bundle::time::stamp(unix_secs))
}

/// Collect a bundle. Returns an error only when no bundle could be written.
pub fn collect(opts: &Options) -> Result<Summary, Error> {
    collect_with(opts, Vec::new())
}

/// What `--run` did: the exit status to give (the command's own; 124 when
/// `--run-timeout` killed it, 127 when it was not found) and the collection
/// it triggered, if it failed.
pub struct Wrapped {
    pub code: i32,
    pub collected: Option<Result<Summary, Error>>,
}

/// `--run`: run `opts.run` with its output copied to `tee` as it arrives,
/// and collect (its redacted output included as `commands/run.out`) when it
/// fails or outlives `opts.run_timeout`.
pub fn run_and_collect(opts: &Options, tee: &(dyn Fn(&[u8]) + Sync)) -> Result<Wrapped, Error> {
    let default = default_name("run", probe::now_unix_micros() / 1_000_000);
    let t = writer::target(opts.output.as_deref(), &default)
        .map_err(|(path, source)| Error::Output { path, source })?;
    let spool_dir = t
        .dir
        .join(format!(".nodejoin-run.spool.{}", std::process::id()));
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&spool_dir)
        .map_err(|source| Error::Output {
            path: spool_dir.clone(),
            source,
        })?;
    procs::register_path(&spool_dir);
    let mut item = Item::new(
        format!("cmd:{}", plan::RUN_ID),
        Kind::Command,
        commands::redact_str(&opts.run.join(" ")),
    );
    let mut r = command::Run::new(
        &opts.run,
        &opts.search,
        opts.run_timeout,
        &spool_dir,
        plan::RUN_ID,
    );
    r.cap = opts.max_log;
    r.tee = Some(tee);
    let out = command::run(&r);
    commands::record(opts.run_timeout, &mut item, &out, &opts.run[0]);
    let code = match out.status {
        command::Status::Exited(c) => c,
        command::Status::Signaled(s) => 128 + s,
        command::Status::TimedOut => 124,
        command::Status::Missing => 127,
        command::Status::SpawnFailed(_) => 126,
    };
    let collected =
        (code != 0).then(|| collect_with(opts, vec![commands::CmdResult::new(item, out)]));
    let _ = fs::remove_dir_all(&spool_dir);
    procs::forget_path(&spool_dir);
    Ok(Wrapped { code, collected })
}

fn collect_with(opts: &Options, pre: Vec<commands::CmdResult>) -> Result<Summary, Error> {
    let started = Instant::now();
    let t0_us = probe::now_unix_micros();
    let hostname = discover::hostname(opts);
    let (node, node_source) = discover::node_name(opts, &hostname);
    let run = Run {
        t0_us,
        started,
        hostname,
        node,
        node_source,
    };
    let default = default_name(&run.hostname, t0_us / 1_000_000);
    let t = writer::target(opts.output.as_deref(), &default)
        .map_err(|(path, source)| Error::Output { path, source })?;
    let out_err = |source| Error::Output {
        path: t.final_path.clone(),
        source,
    };
    let file = writer::create_tmp(&t.tmp_path).map_err(out_err)?;
    procs::register_path(&t.tmp_path);
    let fname = t
        .final_path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy();
    let spool_dir = t.dir.join(format!(".{fname}.spool.{}", std::process::id()));
    let made = fs::DirBuilder::new().mode(0o700).create(&spool_dir);
    procs::register_path(&spool_dir);
    let result = made.and_then(|()| collect_into(opts, file, &spool_dir, &run, pre));
    let _ = fs::remove_dir_all(&spool_dir);
    procs::forget_path(&spool_dir);
    let result = result.and_then(|m| procs::commit(&t.tmp_path, &t.final_path).map(|()| m));
    match result {
        Ok(manifest) => Ok(Summary {
            path: t.final_path,
            manifest,
        }),
        Err(source) => {
            let _ = fs::remove_file(&t.tmp_path);
            procs::forget_path(&t.tmp_path);
            Err(Error::Write {
                path: t.final_path,
                source,
            })
        }
    }
}

/// Everything gathered, before the probe and manifest entries are written.
struct Gathered {
    items: Vec<Item>,
    listings: Listings,
    probes: probe::Found,
}

fn collect_into(
    opts: &Options,
    file: File,
    spool_dir: &Path,
    run: &Run,
    pre: Vec<commands::CmdResult>,
) -> io::Result<Manifest> {
    let ctx = Ctx {
        opts,
        spool_dir: spool_dir.to_path_buf(),
        started: run.started,
    };
    let mtime = (run.t0_us / 1_000_000).max(0) as u64;
    let mut w = Writer::new(file, mtime, opts.max_total);
    let specs = plan::commands(opts, &run.node);
    let (g, results) = std::thread::scope(|s| {
        // Commands and probes run in workers; host files go straight into the bundle.
        let cmds = s.spawn(|| commands::run_all(&ctx, &specs));
        let probes = s.spawn(|| probe::run_all(&ctx));
        let (items, listings) = files::collect_all(&ctx, &mut w);
        let results = cmds.join().unwrap_or_default();
        let probes = probes.join().unwrap_or_default();
        (
            Gathered {
                items,
                listings,
                probes,
            },
            results,
        )
    });
    let Gathered {
        mut items,
        listings,
        probes: (clock, reach, probe_items),
    } = g;
    items.extend(commands::store_all(&mut w, pre)?);
    items.extend(commands::store_all(&mut w, results)?);
    items.extend(probe_items);
    let json = [
        (
            "probe:clock",
            bundle::CLOCK,
            serde_json::to_vec_pretty(&clock),
        ),
        (
            "probe:reachability",
            bundle::REACHABILITY,
            serde_json::to_vec_pretty(&reach),
        ),
        (
            "listings",
            bundle::LISTINGS,
            serde_json::to_vec_pretty(&listings),
        ),
    ];
    for (id, path, data) in json {
        let data = data.unwrap_or_default();
        let mut it = Item::new(id, Kind::Probe, path);
        it.path = Some(path.into());
        it.size = data.len() as u64;
        w.add(path, data.len() as u64, &data[..])?;
        items.push(it);
    }
    let manifest = manifest(opts, run, items);
    let data = serde_json::to_vec_pretty(&manifest).map_err(io::Error::other)?;
    // The manifest is always written, even past the total cap.
    w.add(bundle::MANIFEST, data.len() as u64, &data[..])?;
    w.finish()?;
    Ok(manifest)
}

fn manifest(opts: &Options, run: &Run, items: Vec<Item>) -> Manifest {
    let mut totals = bundle::Totals::default();
    for it in &items {
        totals.items += 1;
        totals.bytes += it.size;
        totals.cut_bytes += it.cut_bytes;
        totals.redactions += it.redactions;
        *totals
            .outcomes
            .entry(it.outcome.name().to_string())
            .or_default() += 1;
    }
    Manifest {
        format: bundle::FORMAT.into(),
        version: bundle::VERSION,
        collector: bundle::Collector {
            name: "nodejoin-collect".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            arch: std::env::consts::ARCH.into(),
            uid: geteuid(),
        },
        host: bundle::Host {
            hostname: run.hostname.clone(),
            node_name: run.node.clone(),
            node_name_source: run.node_source.clone(),
            machine_id: files::read_small(&opts.root, layout::host::MACHINE_ID)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            kernel: files::read_small(&opts.root, "/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string()),
            root: opts.root.to_string_lossy().into_owned(),
        },
        collected_at: bundle::time::rfc3339_micros(run.t0_us),
        collected_at_unix_ms: run.t0_us / 1000,
        duration_ms: run.started.elapsed().as_millis() as u64,
        options: bundle::Options {
            since_seconds: opts.since.as_secs(),
            command_timeout_ms: opts.timeout.as_millis() as u64,
            max_log_bytes: opts.max_log,
            max_file_bytes: opts.max_file,
            max_total_bytes: opts.max_total,
            network: opts.network,
        },
        items,
        totals,
    }
}

fn geteuid() -> u32 {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}
