//! The bundle being written: a gzip'd tar, bounded by `--max-total-size`,
//! into a temporary file beside the final path that is renamed into place
//! only when the bundle is whole.

use crate::spool;
use bundle::{Item, Outcome};
use flate2::{Compression, GzBuilder};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub(crate) struct Writer {
    tar: tar::Builder<flate2::write::GzEncoder<BufWriter<File>>>,
    mtime: u64,
    used: u64,
    max_total: u64,
}

impl Writer {
    pub(crate) fn new(file: File, mtime: u64, max_total: u64) -> Self {
        // zlib-rs level 5 packs kubelet logs as tightly as `gzip -6` (7.8:1 against
        // 7.6:1 on the bench journal) in 30% less time than its own level 6.
        let gz = GzBuilder::new()
            .mtime(mtime as u32)
            .operating_system(3)
            .write(
                BufWriter::with_capacity(256 * 1024, file),
                Compression::new(5),
            );
        let mut tar = tar::Builder::new(gz);
        tar.mode(tar::HeaderMode::Deterministic);
        Writer {
            tar,
            mtime,
            used: 0,
            max_total,
        }
    }

    pub(crate) fn remaining(&self) -> u64 {
        self.max_total.saturating_sub(self.used)
    }

    pub(crate) fn add(&mut self, path: &str, len: u64, data: impl Read) -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_size(len);
        h.set_mode(0o644);
        h.set_mtime(self.mtime);
        h.set_entry_type(tar::EntryType::Regular);
        self.tar.append_data(&mut h, path, data.take(len))?;
        self.used += len;
        Ok(())
    }

    /// Close the tar and gzip streams and flush the file to disk.
    pub(crate) fn finish(self) -> io::Result<()> {
        let gz = self.tar.into_inner()?;
        let buf = gz.finish()?;
        let file = buf
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        file.sync_all()
    }
}

/// Store what an item kept under `path`; a cut turns `ok` into `truncated`.
pub(crate) fn store(
    w: &mut Writer,
    item: &mut Item,
    path: String,
    kept: spool::Kept,
    extra_cut: u64,
) {
    item.cut_bytes = kept.cut + extra_cut;
    let len = kept.len;
    match w.add(&path, len, kept.reader) {
        Ok(()) => {
            item.size = len;
            item.path = Some(path);
            if item.cut_bytes > 0 && item.outcome == Outcome::Ok {
                item.outcome = Outcome::Truncated;
            }
        }
        Err(e) => {
            item.outcome = Outcome::Failed;
            item.error = Some(format!("writing to bundle: {e}"));
        }
    }
}

/// Drop the front of `kept` so that `keep` bytes remain.
pub(crate) fn trim_front(kept: spool::Kept, keep: u64) -> io::Result<spool::Kept> {
    let mut k = kept;
    let drop = k.len - keep;
    io::copy(&mut (&mut k.reader).take(drop), &mut io::sink())?;
    Ok(spool::Kept {
        len: keep,
        reader: k.reader,
        cut: k.cut + drop,
        ring: k.ring,
    })
}

/// Where the bundle goes: the final path, its directory and the temporary file.
pub(crate) struct Target {
    pub(crate) final_path: PathBuf,
    pub(crate) dir: PathBuf,
    pub(crate) tmp_path: PathBuf,
}

/// Resolve `--output`. A directory gets the default name; an existing path
/// must be a regular file (a device, FIFO or socket is refused, never replaced).
pub(crate) fn target(
    output: Option<&Path>,
    default_name: &str,
) -> Result<Target, (PathBuf, io::Error)> {
    let final_path = match output {
        Some(p) if p.is_dir() => p.join(default_name),
        Some(p) => p.to_path_buf(),
        None => PathBuf::from(default_name),
    };
    if let Ok(m) = fs::metadata(&final_path) {
        let ft = m.file_type();
        if !ft.is_file() {
            let what = file_kind(&ft);
            let e = io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("it is {what}: give a regular file or a directory"),
            );
            return Err((final_path, e));
        }
    }
    let dir = match final_path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let fname = final_path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle.tgz".into());
    let tmp_path = dir.join(format!(".{fname}.partial.{}", std::process::id()));
    Ok(Target {
        final_path,
        dir,
        tmp_path,
    })
}

/// Create the temporary file: new (`O_EXCL`), never through a link
/// (`O_NOFOLLOW`), readable by its owner only.
pub(crate) fn create_tmp(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// "a FIFO", "a character device", ... for messages.
pub(crate) fn file_kind(ft: &fs::FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else if ft.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}
