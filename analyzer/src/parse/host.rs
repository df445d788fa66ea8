//! Host prerequisites: swap, cgroups, kernel command line, modules, sysctls,
//! iptables mode, the Pi's throttling flags, disk usage.

/// Active swap: (KiB, 0-based line of the first active area or total).
#[derive(Debug, Clone, PartialEq)]
pub struct Swap {
    pub kib: f64,
    pub active: bool,
    pub line: usize,
    pub text: String,
}

/// Rows under a header line (the first line starting with `header`).
fn rows_after<'a>(text: &'a str, header: &str) -> Vec<(usize, &'a str)> {
    text.lines()
        .enumerate()
        .skip_while(|(_, l)| !l.trim_start().starts_with(header))
        .skip(1)
        .filter(|(_, l)| !l.trim().is_empty())
        .collect()
}

fn swap_of(rows: &[(usize, &str)], kib: f64) -> Swap {
    Swap {
        kib,
        active: !rows.is_empty(),
        line: rows.first().map_or(0, |r| r.0),
        text: rows
            .first()
            .map_or_else(|| "(no swap areas)".to_string(), |r| r.1.trim().to_string()),
    }
}

/// `/proc/swaps`: a header, then one line per active area (size in KiB).
pub fn proc_swaps(text: &str) -> Swap {
    let rows = rows_after(text, "Filename");
    let kib = rows
        .iter()
        .filter_map(|(_, l)| l.split_whitespace().nth(2)?.parse::<f64>().ok())
        .sum();
    swap_of(&rows, kib)
}

/// `swapon --show`: a header, then one line per area (sizes like `100M`).
pub fn swapon_show(text: &str) -> Swap {
    let rows = rows_after(text, "NAME");
    let kib = rows
        .iter()
        .filter_map(|(_, l)| super::node::quantity(l.split_whitespace().nth(2)?))
        .map(|b| b / 1024.0)
        .sum();
    swap_of(&rows, kib)
}

/// `free` (any unit flag): the `Swap:` line's total.
pub fn free(text: &str) -> Option<Swap> {
    let (i, l) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.trim_start().starts_with("Swap:"))?;
    let total = l.split_whitespace().nth(1)?;
    let digits = total.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let n: f64 = digits.parse().ok()?;
    Some(Swap {
        kib: n,
        active: n > 0.0,
        line: i,
        text: l.trim().to_string(),
    })
}

/// The memory controller from cgroup v2's `cgroup.controllers`.
pub fn v2_memory(text: &str) -> bool {
    text.split_whitespace().any(|w| w == "memory")
}

/// `/proc/cgroups`: Some((enabled, line)) for the memory row; None when absent.
pub fn proc_cgroups_memory(text: &str) -> Option<(bool, usize, String)> {
    text.lines().enumerate().find_map(|(i, l)| {
        let mut w = l.split_whitespace();
        (w.next() == Some("memory")).then(|| (w.nth(2) == Some("1"), i, l.trim().to_string()))
    })
}

/// A `/proc/self/cgroup` line: `ID:CONTROLLERS:PATH` (`0::/...` on v2).
pub fn self_cgroup_line(l: &str) -> bool {
    let mut p = l.splitn(3, ':');
    let (Some(id), Some(ctl), Some(path)) = (p.next(), p.next(), p.next()) else {
        return false;
    };
    !id.is_empty()
        && id.bytes().all(|b| b.is_ascii_digit())
        && ctl
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_,=".contains(&b))
        && path.starts_with('/')
}

/// Whether a v1 `/proc/self/cgroup` listing has a memory hierarchy, with the
/// first line as evidence. `None` for a v2-only listing (`0::/...`), which
/// does not name controllers, and for a partial one (fewer than four
/// hierarchies, or no hierarchy 1): a `grep` of it proves no absence.
pub fn self_cgroup_memory(text: &str) -> Option<(bool, usize, String)> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| self_cgroup_line(l.trim()))
        .collect();
    let controllers = |l: &str| l.trim().split(':').nth(1).unwrap_or("").to_string();
    let whole = lines
        .iter()
        .filter(|(_, l)| !controllers(l).is_empty())
        .count()
        >= 4
        && lines.iter().any(|(_, l)| l.trim().starts_with("1:"));
    let (first, l) = *lines.iter().find(|(_, l)| !controllers(l).is_empty())?;
    let memory = lines
        .iter()
        .find(|(_, l)| controllers(l).split(',').any(|c| c == "memory"));
    match memory {
        Some((i, l)) => Some((true, *i, l.trim().to_string())),
        None if whole => Some((false, first, format!("no memory hierarchy: {}", l.trim()))),
        None => None,
    }
}

/// Whether a kernel command line enables the memory cgroup: the last of
/// `cgroup_enable=memory` / `cgroup_disable=memory` wins; neither means on.
pub fn cmdline_memory(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    let enable = words.iter().rposition(|w| *w == "cgroup_enable=memory");
    let disable = words.iter().rposition(|w| *w == "cgroup_disable=memory");
    match (enable, disable) {
        (Some(e), Some(d)) => e > d,
        (None, Some(_)) => false,
        _ => true,
    }
}

/// Whether a command line names the memory cgroup flags at all.
pub fn cmdline_has_memory_flags(text: &str) -> bool {
    text.contains("cgroup_enable=memory")
}

/// Module names from `/proc/modules` or `lsmod`.
pub fn modules(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| *w != "Module")
        .map(String::from)
        .collect()
}

/// How many CPUs the host has, with the 0-based line that says so:
/// `processor` lines of /proc/cpuinfo, lscpu's `CPU(s):`, or the one number
/// `nproc` or `grep -c processor /proc/cpuinfo` print.
pub fn cpu_count(text: &str) -> Option<(f64, usize, String)> {
    let mut n = 0usize;
    let mut last = None;
    for (i, l) in text.lines().enumerate() {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let k = k.trim();
        if k == "processor" && v.trim().parse::<u32>().is_ok() {
            n += 1;
            last = Some((i, l));
        } else if k == "CPU(s)" {
            let c: f64 = v.trim().parse().ok()?;
            return Some((c, i, l.trim().to_string()));
        }
    }
    if let Some((i, l)) = last {
        return Some((
            n as f64,
            i,
            format!("{n} processor entries (last: {})", l.trim()),
        ));
    }
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let only = lines.next()?;
    let c: u32 = only.parse().ok().filter(|c| *c > 0)?;
    if lines.next().is_some() {
        return None;
    }
    let i = text.lines().position(|l| l.trim() == only)?;
    Some((c as f64, i, only.to_string()))
}

/// A sysctl file's value, or `name = value` from `sysctl NAME`.
pub fn sysctl_value(text: &str) -> Option<f64> {
    let t = text.trim();
    let v = t.rsplit_once('=').map_or(t, |(_, v)| v).trim();
    v.parse().ok()
}

/// `iptables --version`: `legacy` or `nf_tables`.
pub fn iptables_mode(text: &str) -> Option<&'static str> {
    if text.contains("nf_tables") {
        Some("nf_tables")
    } else if text.contains("legacy") {
        Some("legacy")
    } else {
        None
    }
}

/// `vcgencmd get_throttled` (`throttled=0x50005`) or the sysfs file (`50005`).
pub fn throttled(text: &str) -> Option<u64> {
    let t = text.trim();
    let h = t.strip_prefix("throttled=").unwrap_or(t);
    u64::from_str_radix(h.trim_start_matches("0x"), 16).ok()
}

/// `df`: the highest use percentage among filesystems that hold the node's
/// data (`/`, `/var`, `/var/lib...`), with its 0-based line.
pub fn df_worst(text: &str) -> Option<(f64, usize, String)> {
    let mut best: Option<(f64, usize, String)> = None;
    for (i, l) in text.lines().enumerate() {
        let c = l.split_whitespace().collect::<Vec<_>>();
        let (Some(pct), Some(mount)) = (c.iter().rev().nth(1), c.last()) else {
            continue;
        };
        let Some(p) = pct.strip_suffix('%').and_then(|p| p.parse::<f64>().ok()) else {
            continue;
        };
        let relevant = *mount == "/" || mount.starts_with("/var");
        if relevant && best.as_ref().is_none_or(|b| p > b.0) {
            best = Some((p, i, l.trim().to_string()));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_cgroup() {
        let no_memory = "10:freezer:/\n9:cpuset:/\n5:pids:/user.slice\n2:cpu,cpuacct:/user.slice\n1:name=systemd:/user.slice\n0::/user.slice\n";
        assert_eq!(
            self_cgroup_memory(no_memory).map(|m| (m.0, m.1)),
            Some((false, 0))
        );
        let partial = "12:perf_event:/kubepods.slice\n11:freezer:/\n3:pids:/\n";
        assert_eq!(self_cgroup_memory(partial), None);
        let memory = "11:memory:/user.slice\n10:freezer:/\n0::/\n";
        assert_eq!(self_cgroup_memory(memory).map(|m| m.0), Some(true));
        assert_eq!(self_cgroup_memory("0::/init.scope\n"), None);
        assert!(!self_cgroup_line("12:34:56"));
        assert!(self_cgroup_line("4:net_cls,net_prio:/"));
    }

    #[test]
    fn swap_shapes() {
        let ps = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/var/swap                               file\t\t102396\t\t0\t\t-2\n";
        let s = proc_swaps(ps);
        assert!(s.active);
        assert_eq!(s.kib, 102396.0);
        assert!(!proc_swaps("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n").active);
        let sw = "NAME      TYPE SIZE USED PRIO\n/var/swap file 100M   0B   -2\n";
        assert!(swapon_show(sw).active);
        let fr = "               total        used        free      shared  buff/cache   available\nMem:         3884332      512340     2459012       33596      912980     3246980\nSwap:         102396           0      102396\n";
        assert_eq!(free(fr).unwrap().kib, 102396.0);
        let off = fr.replace(
            "102396           0      102396",
            "     0           0           0",
        );
        assert!(!free(&off).unwrap().active);
        assert!(
            free("Swap:          1.0Gi          0B       1.0Gi")
                .unwrap()
                .active
        );
    }

    #[test]
    fn cgroups_and_cmdline() {
        let pc =
            "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t0\t61\t1\nmemory\t0\t61\t0\n";
        assert_eq!(proc_cgroups_memory(pc).map(|m| m.0), Some(false));
        assert!(cmdline_memory(
            "console=serial0,115200 root=PARTUUID=1 rootwait"
        ));
        assert!(!cmdline_memory(
            "coherent_pool=1M cgroup_disable=memory console=tty1"
        ));
        assert!(cmdline_memory(
            "cgroup_disable=memory console=tty1 cgroup_memory=1 cgroup_enable=memory"
        ));
        assert!(v2_memory("cpuset cpu io memory pids\n"));
    }

    #[test]
    fn misc() {
        assert_eq!(sysctl_value("net.ipv4.ip_forward = 0"), Some(0.0));
        assert_eq!(sysctl_value("1\n"), Some(1.0));
        assert_eq!(throttled("throttled=0x50005\n"), Some(0x50005));
        assert_eq!(
            iptables_mode("iptables v1.8.9 (nf_tables)"),
            Some("nf_tables")
        );
        let df = "Filesystem     1K-blocks     Used Available Use% Mounted on\n/dev/root       30450024 29000000   1450024  96% /\ntmpfs             1942164        0   1942164   0% /dev/shm\n";
        assert_eq!(df_worst(df).unwrap().0, 96.0);
    }

    #[test]
    fn cpu_counts() {
        let info = "processor\t: 0\nBogoMIPS\t: 108.00\n\nprocessor\t: 1\nBogoMIPS\t: 108.00\n";
        assert_eq!(super::cpu_count(info).map(|c| c.0), Some(2.0));
        let lscpu = "Architecture:        aarch64\nCPU(s):              4\n";
        assert_eq!(super::cpu_count(lscpu).map(|c| (c.0, c.1)), Some((4.0, 1)));
        assert_eq!(
            super::cpu_count("\n8\n").map(|c| (c.0, c.1)),
            Some((8.0, 1))
        );
        assert_eq!(super::cpu_count("8\n9\n"), None);
        assert_eq!(super::cpu_count("0\n"), None);
        assert_eq!(super::cpu_count("CPU(s): many\n"), None);
    }
}
