//! Reading the host safely. Every path is resolved as if `--root` were `/`:
//! absolute symlinks are re-rooted, `..` never climbs out of the root, and a
//! process's `environ` is never read. Only regular files are opened, with
//! `O_NONBLOCK|O_NOFOLLOW`, and checked again with `fstat` after opening:
//! FIFOs, devices and sockets are refused with the reason. Reads stop at the
//! `--max-time` deadline.

use std::cell::Cell;
use std::ffi::OsString;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

/// Symlinks followed while resolving one path, as the kernel's MAXSYMLINKS.
const MAX_LINKS: usize = 40;
/// procfs `statfs.f_type`.
const PROC_SUPER_MAGIC: i64 = 0x9fa0;

/// Why a host path was not read: the manifest outcome is `skipped` with
/// this reason (a refusal is a decision, not a fault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

/// Resolve an absolute host path under `root` without ever leaving it.
/// Returns the real path and the path as seen from inside the root.
pub fn resolve(root: &Path, p: &str) -> Result<(PathBuf, String), Refused> {
    let mut done: Vec<OsString> = Vec::new();
    let mut todo: Vec<OsString> = components(Path::new(p));
    todo.reverse();
    let mut links = 0;
    while let Some(c) = todo.pop() {
        if c == ".." {
            done.pop();
            continue;
        }
        done.push(c);
        let real = join(root, &done);
        let Ok(m) = fs::symlink_metadata(&real) else {
            // Absent: nothing below it can be a link.
            done.extend(todo.drain(..).rev().filter(|c| c != ".."));
            break;
        };
        if !m.file_type().is_symlink() {
            continue;
        }
        links += 1;
        if links > MAX_LINKS {
            return Err(Refused(format!("more than {MAX_LINKS} symbolic links")));
        }
        let target = fs::read_link(&real).map_err(|e| Refused(format!("readlink: {e}")))?;
        done.pop();
        if target.is_absolute() {
            done.clear(); // re-rooted: `/x` means `ROOT/x`
        }
        let mut t = components(&target);
        t.reverse();
        todo.extend(t);
    }
    let inside = format!(
        "/{}",
        done.iter()
            .map(|c| c.to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    );
    if is_environ(&done) {
        return Err(Refused(format!(
            "{inside}: a process environment is never read"
        )));
    }
    if done.first().is_some_and(|c| c == "proc") && !p.starts_with("/proc/") {
        return Err(Refused(format!("{p} links into {inside}: refused")));
    }
    Ok((join(root, &done), inside))
}

fn components(p: &Path) -> Vec<OsString> {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

fn join(root: &Path, comps: &[OsString]) -> PathBuf {
    let mut p = root.to_path_buf();
    p.extend(comps);
    p
}

fn is_environ(comps: &[OsString]) -> bool {
    comps.first().is_some_and(|c| c == "proc") && comps.last().is_some_and(|c| c == "environ")
}

/// An open host file: regular, checked after opening.
pub struct Opened {
    pub file: File,
    pub meta: Metadata,
    /// The path as seen from inside the root, after links.
    pub inside: String,
}

/// Why opening did not give a regular file.
#[derive(Debug)]
pub enum OpenError {
    Refused(Refused),
    Io(io::Error),
}

/// Open a host path under `root` for reading, regular files only.
pub fn open(root: &Path, p: &str) -> Result<Opened, OpenError> {
    let (real, inside) = resolve(root, p).map_err(OpenError::Refused)?;
    let (file, meta) = open_regular(&real, false)?;
    Ok(Opened { file, meta, inside })
}

/// Open `path` if it is a regular file; refuse FIFOs, devices and sockets
/// before opening them, and check again with `fstat`. A link is followed only
/// when `follow` (the operator's own `--include` files).
pub fn open_regular(path: &Path, follow: bool) -> Result<(File, Metadata), OpenError> {
    let lm = if follow {
        fs::metadata(path)
    } else {
        fs::symlink_metadata(path)
    };
    let lm = lm.map_err(OpenError::Io)?;
    if !lm.file_type().is_file() {
        let what = crate::writer::file_kind(&lm.file_type());
        return Err(OpenError::Refused(Refused(format!(
            "{what}, not a regular file"
        ))));
    }
    let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nofollow | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY)
        .open(path)
        .map_err(OpenError::Io)?;
    let meta = file.metadata().map_err(OpenError::Io)?;
    if !meta.file_type().is_file() {
        let what = crate::writer::file_kind(&meta.file_type());
        return Err(OpenError::Refused(Refused(format!(
            "{what}, not a regular file"
        ))));
    }
    let name = path.file_name().map(OsStrExt::as_bytes).unwrap_or_default();
    if name == b"environ" && on_procfs(&file) {
        return Err(OpenError::Refused(Refused(
            "a process environment is never read".into(),
        )));
    }
    Ok((file, meta))
}

// `f_type` is i32 on 32-bit ARM and i64 on 64-bit targets.
#[allow(clippy::unnecessary_cast)]
fn on_procfs(f: &File) -> bool {
    use std::os::fd::AsRawFd;
    let mut s = std::mem::MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: fstatfs(2) writes a statfs into the buffer we own; the fd is open.
    let rc = unsafe { libc::fstatfs(f.as_raw_fd(), s.as_mut_ptr()) };
    // SAFETY: on success the kernel filled the struct.
    rc == 0 && unsafe { s.assume_init() }.f_type as i64 == PROC_SUPER_MAGIC
}

/// A reader that ends at a deadline (and says so through `hit`).
pub struct Bounded<R> {
    inner: R,
    deadline: Instant,
    pub hit: Rc<Cell<bool>>,
}

impl<R> Bounded<R> {
    pub fn new(inner: R, deadline: Instant) -> Self {
        Bounded {
            inner,
            deadline,
            hit: Rc::new(Cell::new(false)),
        }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if Instant::now() >= self.deadline {
            self.hit.set(true);
            return Ok(0);
        }
        self.inner.read(buf)
    }
}

/// Up to 64 KiB of a small host file as text (for discovery), or nothing.
pub fn read_small(root: &Path, p: &str) -> Option<String> {
    let o = open(root, p).ok()?;
    let mut s = String::new();
    o.file.take(64 * 1024).read_to_string(&mut s).ok()?;
    Some(s)
}

/// Whether a host path exists under `root` (links resolved inside the root).
pub fn exists(root: &Path, p: &str) -> bool {
    resolve(root, p).is_ok_and(|(real, _)| fs::symlink_metadata(real).is_ok())
}

/// The real path of a host path under `root`, when it exists.
pub fn real(root: &Path, p: &str) -> Option<PathBuf> {
    let (real, _) = resolve(root, p).ok()?;
    fs::symlink_metadata(&real).is_ok().then_some(real)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_are_re_rooted_and_dotdot_stays_inside() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        fs::create_dir_all(r.join("etc/kubernetes")).unwrap();
        fs::write(r.join("etc/shadow"), "inside").unwrap();
        symlink("/etc/shadow", r.join("etc/kubernetes/abs")).unwrap();
        symlink("../../../../../../etc/shadow", r.join("etc/kubernetes/rel")).unwrap();
        symlink("/etc", r.join("etc/kubernetes/dir")).unwrap();
        for p in [
            "/etc/kubernetes/abs",
            "/etc/kubernetes/rel",
            "/etc/kubernetes/dir/shadow",
            "/../../etc/shadow",
        ] {
            let (real, inside) = resolve(r, p).unwrap();
            assert_eq!(
                (real, inside.as_str()),
                (r.join("etc/shadow"), "/etc/shadow"),
                "{p}"
            );
        }
        symlink("loop2", r.join("loop1")).unwrap();
        symlink("loop1", r.join("loop2")).unwrap();
        assert!(resolve(r, "/loop1").is_err());
    }

    #[test]
    fn environ_and_links_into_proc_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        fs::create_dir_all(r.join("etc")).unwrap();
        symlink("/proc/self/environ", r.join("etc/env")).unwrap();
        assert!(resolve(r, "/etc/env").is_err());
        assert!(resolve(Path::new("/"), "/proc/self/environ").is_err());
        assert!(resolve(Path::new("/"), "/proc/1/task/1/environ").is_err());
        symlink("/proc/self/environ", r.join("etc/env2")).unwrap();
        // Even with the real /proc as root's /proc, via a link from elsewhere.
        let real = Path::new("/proc/self/environ");
        assert!(matches!(
            open_regular(real, false),
            Err(OpenError::Refused(_))
        ));
    }

    #[test]
    fn only_regular_files_open() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: mkfifo(3) with a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        for p in [
            fifo.as_path(),
            Path::new("/dev/zero"),
            Path::new("/dev/null"),
        ] {
            match open_regular(p, false) {
                Err(OpenError::Refused(Refused(why))) => {
                    assert!(why.contains("not a regular file"), "{why}");
                }
                other => panic!("{p:?}: {:?}", other.map(|_| ())),
            }
        }
    }
}
