//! What must not outlive the collector: the process groups of the commands it
//! started and the partial files it writes. `abort` (called on SIGINT,
//! SIGTERM or SIGHUP) kills every group and removes every registered path;
//! after it, no new command starts and no partial bundle is renamed into place.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Mutex, MutexGuard};

struct State {
    aborting: bool,
    groups: Vec<i32>,
    paths: Vec<PathBuf>,
}

static STATE: Mutex<State> = Mutex::new(State {
    aborting: false,
    groups: Vec::new(),
    paths: Vec::new(),
});

fn state() -> MutexGuard<'static, State> {
    STATE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn aborted() -> io::Error {
    io::Error::new(io::ErrorKind::Interrupted, "collection is being stopped")
}

/// Spawn `cmd` (which must put the child in its own process group) and
/// register the group; refused once `abort` ran.
pub fn spawn(cmd: &mut Command) -> io::Result<Child> {
    let mut s = state();
    if s.aborting {
        return Err(aborted());
    }
    let child = cmd.spawn()?;
    s.groups.push(child.id() as i32);
    Ok(child)
}

/// The group ended and was reaped: forget it.
pub fn forget(pgid: i32) {
    state().groups.retain(|g| *g != pgid);
}

/// Remove `path` (file or directory) if the collection is stopped.
/// Call after creating the path: when a stop is already under way the
/// path is removed at once, so nothing created after `abort` survives it.
pub fn register_path(path: &Path) {
    let mut s = state();
    if s.aborting {
        if path.is_dir() {
            let _ = std::fs::remove_dir_all(path);
        } else {
            let _ = std::fs::remove_file(path);
        }
        return;
    }
    s.paths.push(path.to_path_buf());
}

pub fn forget_path(path: &Path) {
    state().paths.retain(|p| p != path);
}

/// Rename the finished bundle into place unless the collection is being stopped.
pub fn commit(tmp: &Path, dest: &Path) -> io::Result<()> {
    let mut s = state();
    if s.aborting {
        return Err(aborted());
    }
    std::fs::rename(tmp, dest)?;
    s.paths.retain(|p| p != tmp);
    Ok(())
}

/// Kill a process group.
pub fn kill_group(pgid: i32) {
    // SAFETY: kill(2) with a negative pid signals the process group we created.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Stop everything: kill every registered group, remove every registered
/// path, refuse new commands and the final rename. Idempotent.
pub fn abort() {
    let mut s = state();
    s.aborting = true;
    for g in s.groups.drain(..) {
        kill_group(g);
    }
    for p in s.paths.drain(..) {
        if p.is_dir() {
            let _ = std::fs::remove_dir_all(&p);
        } else {
            let _ = std::fs::remove_file(&p);
        }
    }
}
