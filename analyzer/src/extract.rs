//! Facts from what a scan kept. Each function reads a few bundle files and sets
//! named facts with the evidence they came from. A missing or malformed file
//! only means fewer facts.

use crate::certs::{self, Cert};
use crate::facts::{Evidence, Facts, Value};
use crate::input::Problem;
use crate::scan::Scanned;
use serde_json::Value as J;
use std::collections::BTreeMap;

pub struct Ctx<'a> {
    pub s: &'a Scanned,
    /// Node clock at collection (unix seconds), when known.
    pub collected: Option<f64>,
    pub manifest: Option<J>,
    pub problems: Vec<Problem>,
}

impl Ctx<'_> {
    fn text(&self, path: &str) -> Option<String> {
        self.s
            .small
            .get(path)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    fn has(&self, path: &str) -> bool {
        self.s.small.contains_key(path)
    }

    /// The manifest's outcome for an item id, e.g. `file:/proc/swaps` -> `missing`.
    fn outcome(&self, id: &str) -> Option<String> {
        let items = self.manifest.as_ref()?.get("items")?.as_array()?;
        items
            .iter()
            .find(|i| i.get("id").and_then(|x| x.as_str()) == Some(id))
            .and_then(|i| i.get("outcome")?.as_str().map(String::from))
    }

    /// A host file known absent: listed as missing in the manifest.
    fn missing_file(&self, host: &str) -> bool {
        self.outcome(&format!("file:{host}")).as_deref() == Some("missing")
    }

    fn line_ev(&self, path: &str, needle: &str) -> Option<Evidence> {
        let t = self.text(path)?;
        let (i, l) = t.lines().enumerate().find(|(_, l)| l.contains(needle))?;
        Some(Evidence::new(path, Some(i as u64 + 1), l))
    }

    fn listing(&self) -> Option<BTreeMap<String, Vec<J>>> {
        crate::structured::json_slice(self.s.small.get(bundle::LISTINGS)?, bundle::LISTINGS).ok()
    }
}

fn f(path: &str) -> String {
    bundle::file_path(path)
}

pub fn all(c: &mut Ctx, facts: &mut Facts) {
    manifest(c, facts);
    clock_state(c, facts);
    host(c, facts);
    identity(c, facts);
    kubelet_and_runtime(c, facts);
    cni(c, facts);
    power(c, facts);
    reachability(c, facts);
    let certs = certificates(c, facts);
    node_object(c, facts);
    inferred_clock(c, facts, &certs);
}

fn manifest(c: &mut Ctx, facts: &mut Facts) {
    let Some(m) =
        c.s.small
            .get(bundle::MANIFEST)
            .and_then(|b| crate::structured::json_slice::<J>(b, bundle::MANIFEST).ok())
    else {
        if c.s.small.contains_key(bundle::MANIFEST) {
            c.problems.push(Problem {
                path: bundle::MANIFEST.into(),
                problem: "manifest.json is not valid JSON; facts from it are missing".into(),
            });
        }
        return;
    };
    let version = m.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
    if m.get("format").and_then(|v| v.as_str()) != Some(bundle::FORMAT) || version == 0 {
        c.problems.push(Problem {
            path: bundle::MANIFEST.into(),
            problem: "not a nodejoin manifest (format/version missing)".into(),
        });
    } else if version > bundle::VERSION as u64 {
        c.problems.push(Problem { path: bundle::MANIFEST.into(), problem: format!("bundle format version {version} is newer than this analyzer reads ({}); using what it understands", bundle::VERSION) });
    }
    facts.set_num("bundle.version", version as f64, None);
    if let Some(ms) = m.get("collected_at_unix_ms").and_then(|v| v.as_i64()) {
        c.collected = Some(ms as f64 / 1000.0);
        let at = m
            .get("collected_at")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        facts.set_str(
            "bundle.collected_at",
            at.clone(),
            Some(Evidence::new(
                bundle::MANIFEST,
                None,
                format!("collected_at: {at}"),
            )),
        );
    }
    c.manifest = Some(m);
}

fn clock_state(c: &mut Ctx, facts: &mut Facts) {
    if c.collected.is_none() {
        if let Some(ms) =
            c.s.small
                .get(bundle::CLOCK)
                .and_then(|b| crate::structured::json_slice::<J>(b, bundle::CLOCK).ok())
                .and_then(|j| j.get("node_time_unix_ms")?.as_i64())
        {
            c.collected = Some(ms as f64 / 1000.0);
        }
    }
    if let Some(t) = c.collected {
        if let Some(d) = chrono::DateTime::from_timestamp(t as i64, 0) {
            facts.set_num(
                "clock.year",
                chrono::Datelike::year(&d) as f64,
                Some(Evidence::new(
                    bundle::MANIFEST,
                    None,
                    format!("node clock at collection: {}", certs::fmt_time(t as i64)),
                )),
            );
        }
    }
    // Sync state: chrony first (it is what disciplines the clock), then timedatectl.
    let chrony = bundle::command_path("chronyc-tracking", "out");
    if let Some(t) = c.text(&chrony) {
        if let Some(l) = t.lines().find(|l| l.starts_with("Leap status")) {
            let synced = l.contains("Normal") && !t.contains("Reference ID    : 00000000");
            facts.set_bool("clock.synced", synced, c.line_ev(&chrony, "Leap status"));
            facts.set_str("clock.sync_source", "chrony", None);
        }
    }
    if !facts.contains("clock.synced") {
        for (p, needle) in [
            (
                bundle::command_path("timedatectl-status", "out"),
                "System clock synchronized:",
            ),
            (
                bundle::command_path("timedatectl-show", "out"),
                "NTPSynchronized=",
            ),
        ] {
            if let Some(t) = c.text(&p) {
                if let Some(l) = t.lines().find(|l| l.contains(needle)) {
                    let v = l.split([':', '=']).nth(1).unwrap_or("").trim();
                    facts.set_bool("clock.synced", v == "yes", c.line_ev(&p, needle));
                    facts.set_str("clock.sync_source", "timedatectl", None);
                    break;
                }
            }
        }
    }
    let probe = match c
        .s
        .small
        .get(bundle::CLOCK)
        .map(|b| crate::structured::json_slice::<bundle::ClockProbe>(b, bundle::CLOCK))
    {
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            c.problems.push(Problem {
                path: bundle::CLOCK.into(),
                problem: format!("unreadable ({e}); clock offsets are missing"),
            });
            None
        }
        None => None,
    };
    if let Some(p) = &probe {
        if let Some(r) = p.rtc_present {
            facts.set_bool(
                "clock.rtc_present",
                r,
                Some(Evidence::new(
                    bundle::CLOCK,
                    None,
                    format!("rtc_present: {r}"),
                )),
            );
        }
        if let Some(best) = p
            .offsets
            .iter()
            .filter(|o| o.offset_ms.is_some())
            .min_by_key(|o| o.bound_ms.unwrap_or(i64::MAX))
        {
            let off = best.offset_ms.unwrap_or(0) as f64 / 1000.0;
            let bound = best.bound_ms.unwrap_or(0) as f64 / 1000.0;
            let ev = Some(Evidence::new(
                bundle::CLOCK,
                None,
                format!(
                    "{} against {} ({}): node clock {:+.3}s ± {:.3}s",
                    best.method, best.peer, best.configured_in, off, bound
                ),
            ));
            facts.set_num("clock.measured_offset_s", off, ev.clone());
            facts.set_num("clock.measured_offset_abs_s", off.abs(), ev.clone());
            facts.set_num("clock.measured_bound_s", bound, ev);
        }
    }
}

fn host(c: &mut Ctx, facts: &mut Facts) {
    let swaps = f("/proc/swaps");
    if let Some(t) = c.text(&swaps) {
        let active: Vec<&str> = t.lines().skip(1).filter(|l| !l.trim().is_empty()).collect();
        let kb: f64 = active
            .iter()
            .filter_map(|l| l.split_whitespace().nth(2)?.parse::<f64>().ok())
            .sum();
        let ev = Some(Evidence::new(
            &swaps,
            Some(2),
            active
                .first()
                .map(|s| s.to_string())
                .unwrap_or_else(|| "(no swap areas)".into()),
        ));
        facts.set_bool("host.swap_active", !active.is_empty(), ev.clone());
        facts.set_num("host.swap_kb", kb, ev);
    }
    let v2 = f("/sys/fs/cgroup/cgroup.controllers");
    if let Some(t) = c.text(&v2) {
        facts.set_num("host.cgroup_version", 2.0, None);
        let mem = t.split_whitespace().any(|w| w == "memory");
        facts.set_bool(
            "host.memory_cgroup",
            mem,
            Some(Evidence::new(&v2, Some(1), t.trim())),
        );
    } else if let Some(t) = c.text(&f("/proc/cgroups")) {
        facts.set_num("host.cgroup_version", 1.0, None);
        if let Some((i, l)) = t
            .lines()
            .enumerate()
            .find(|(_, l)| l.split_whitespace().next() == Some("memory"))
        {
            let enabled = l.split_whitespace().nth(3) == Some("1");
            facts.set_bool(
                "host.memory_cgroup",
                enabled,
                Some(Evidence::new(&f("/proc/cgroups"), Some(i as u64 + 1), l)),
            );
        } else {
            facts.set_bool(
                "host.memory_cgroup",
                false,
                Some(Evidence::new(
                    &f("/proc/cgroups"),
                    None,
                    "no memory line in /proc/cgroups",
                )),
            );
        }
    }
    let cmdline = f("/proc/cmdline");
    if let Some(t) = c.text(&cmdline) {
        let words: Vec<&str> = t.split_whitespace().collect();
        let enable = words.iter().rposition(|w| *w == "cgroup_enable=memory");
        let disable = words.iter().rposition(|w| *w == "cgroup_disable=memory");
        let on = match (enable, disable) {
            (Some(e), Some(d)) => e > d,
            (None, Some(_)) => false,
            _ => true,
        };
        facts.set_bool(
            "boot.cmdline_memory",
            on,
            Some(Evidence::new(&cmdline, Some(1), t.trim())),
        );
    }
    let (boot, firmware) = (f("/boot/cmdline.txt"), f("/boot/firmware/cmdline.txt"));
    if let (Some(b), Some(fw)) = (c.text(&boot), c.text(&firmware)) {
        let has = |s: &str| s.contains("cgroup_enable=memory");
        let wrong = has(&b) && !has(&fw);
        facts.set_bool(
            "boot.edited_wrong_cmdline",
            wrong,
            Some(Evidence::new(
                &firmware,
                Some(1),
                format!("firmware reads: {}", fw.trim()),
            )),
        );
    }
    let modules = f("/proc/modules");
    let loaded: Option<Vec<String>> = c.text(&modules).map(|t| {
        t.lines()
            .filter_map(|l| l.split_whitespace().next().map(String::from))
            .collect()
    });
    let bridge = f("/proc/sys/net/bridge/bridge-nf-call-iptables");
    for m in ["br_netfilter", "overlay", "vxlan"] {
        let in_list = loaded.as_ref().map(|l| l.iter().any(|x| x == m));
        let value = match (m, in_list) {
            ("br_netfilter", _) if c.has(&bridge) => Some(true),
            ("br_netfilter", Some(false))
                if c.missing_file("/proc/sys/net/bridge/bridge-nf-call-iptables") =>
            {
                Some(false)
            }
            ("br_netfilter", Some(false)) => None,
            (_, v) => v,
        };
        if let Some(v) = value {
            let ev = if v {
                c.line_ev(&modules, m)
                    .or_else(|| Some(Evidence::new(&bridge, None, "bridge sysctls exist")))
            } else {
                Some(Evidence::new(
                    &modules,
                    None,
                    format!("{m} is not in /proc/modules"),
                ))
            };
            facts.set_bool(&format!("host.module.{m}"), v, ev);
        }
    }
    for (fact, path) in [
        (
            "host.sysctl.bridge_nf_call_iptables",
            "/proc/sys/net/bridge/bridge-nf-call-iptables",
        ),
        ("host.sysctl.ip_forward", "/proc/sys/net/ipv4/ip_forward"),
    ] {
        if let Some(v) = c.text(&f(path)).and_then(|t| t.trim().parse::<f64>().ok()) {
            facts.set_num(
                fact,
                v,
                Some(Evidence::new(&f(path), Some(1), format!("{path} = {v}"))),
            );
        }
    }
    let ipt = bundle::command_path("iptables-version", "out");
    if let Some(t) = c.text(&ipt) {
        let mode = if t.contains("nf_tables") {
            "nf_tables"
        } else if t.contains("legacy") {
            "legacy"
        } else {
            ""
        };
        if !mode.is_empty() {
            facts.set_str(
                "host.iptables_mode",
                mode,
                Some(Evidence::new(&ipt, Some(1), t.trim())),
            );
        }
    }
}

fn identity(c: &mut Ctx, facts: &mut Facts) {
    let host = c.manifest.as_ref().and_then(|m| m.get("host").cloned());
    let hostname = host
        .as_ref()
        .and_then(|h| h.get("hostname")?.as_str().map(String::from))
        .or_else(|| c.text(&f("/etc/hostname")).map(|s| s.trim().to_string()))
        .filter(|s| !s.is_empty());
    if let Some(h) = hostname {
        let default = [
            "raspberrypi",
            "ubuntu",
            "localhost",
            "dietpi",
            "debian",
            "pi",
            "raspberry",
        ]
        .contains(&h.to_lowercase().as_str());
        let ev = Some(Evidence::new(
            &f("/etc/hostname"),
            None,
            format!("hostname: {h}"),
        ));
        facts.set_str("identity.hostname", h, ev.clone());
        facts.set_bool("identity.hostname_default", default, ev);
    }
    if let Some(n) = host
        .as_ref()
        .and_then(|h| h.get("node_name")?.as_str().map(String::from))
        .filter(|s| !s.is_empty())
    {
        let src = host
            .as_ref()
            .and_then(|h| h.get("node_name_source")?.as_str().map(String::from))
            .unwrap_or_default();
        facts.set_str(
            "identity.node_name",
            n.clone(),
            Some(Evidence::new(
                bundle::MANIFEST,
                None,
                format!("node name {n} (from {src})"),
            )),
        );
    }
    let mid = f("/etc/machine-id");
    if let Some(t) = c.text(&mid) {
        let id = t.trim().to_string();
        let empty = id.is_empty() || id == "uninitialized";
        facts.set_bool(
            "identity.machine_id_empty",
            empty,
            Some(Evidence::new(&mid, Some(1), format!("machine-id: {id:?}"))),
        );
        if !empty {
            facts.set_str(
                "identity.machine_id",
                id.clone(),
                Some(Evidence::new(&mid, Some(1), id)),
            );
        }
    } else if c.missing_file("/etc/machine-id") {
        facts.set_bool(
            "identity.machine_id_empty",
            true,
            Some(Evidence::new(
                bundle::MANIFEST,
                None,
                "/etc/machine-id is missing",
            )),
        );
    }
}

/// A presence fact: true when one of `paths` is in the bundle; false when it is
/// not and the collector looked (`expected`, and the manifest says missing, or
/// there is no manifest to say otherwise).
#[allow(clippy::too_many_arguments)]
fn presence(
    c: &Ctx,
    facts: &mut Facts,
    fact: &str,
    paths: &[&String],
    expected: bool,
    host_path: &str,
    what: &str,
) {
    if let Some(p) = paths.iter().find(|p| c.has(p)) {
        facts.set_bool(
            fact,
            true,
            Some(Evidence::new(p, None, format!("{what} exists"))),
        );
    } else if expected && (c.missing_file(host_path) || c.manifest.is_none()) {
        facts.set_bool(
            fact,
            false,
            Some(Evidence::new(
                bundle::MANIFEST,
                None,
                format!("{host_path} does not exist"),
            )),
        );
    }
}

/// `Id=kubelet.service` blocks of `systemctl show`.
fn unit_props(c: &Ctx, unit: &str) -> Option<(BTreeMap<String, String>, Evidence)> {
    let p = bundle::command_path("systemctl-show", "out");
    let t = c.text(&p)?;
    let mut line = 0;
    for block in t.split("\n\n") {
        let props: BTreeMap<String, String> = block
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if props.get("Id").map(String::as_str) == Some(unit)
            && props.get("LoadState").map(String::as_str) != Some("not-found")
        {
            let summary = ["ActiveState", "SubState", "NRestarts", "Result"]
                .iter()
                .filter_map(|k| props.get(*k).map(|v| format!("{k}={v}")))
                .collect::<Vec<_>>()
                .join(" ");
            return Some((
                props,
                Evidence::new(&p, Some(line as u64 + 1), format!("{unit}: {summary}")),
            ));
        }
        line += block.lines().count() + 1;
    }
    None
}

fn kubelet_and_runtime(c: &mut Ctx, facts: &mut Facts) {
    let k3s = c.s.small.keys().any(|k| {
        k.starts_with("files/etc/rancher/k3s/") || k.starts_with("files/var/lib/rancher/k3s/")
    }) || c.s.logs.iter().any(|l| l.source == "k3s" && l.lines > 1);
    let kubeadm =
        c.s.small.keys().any(|k| {
            k.starts_with("files/etc/kubernetes/") || k.starts_with("files/var/lib/kubelet/")
        }) || c
            .s
            .logs
            .iter()
            .any(|l| l.file.ends_with("journal-kubelet.out") && l.lines > 1);
    let flavor = if k3s {
        Some("k3s")
    } else if kubeadm {
        Some("kubeadm")
    } else {
        None
    };
    if let Some(fl) = flavor {
        facts.set_str("join.flavor", fl, None);
    }
    let cfg = f("/var/lib/kubelet/config.yaml");
    let cfg_text = c.text(&cfg);
    presence(
        c,
        facts,
        "kubelet.config_present",
        &[&cfg],
        flavor == Some("kubeadm"),
        "/var/lib/kubelet/config.yaml",
        "kubelet config",
    );
    let yaml_key = |t: &str, key: &str| {
        t.lines().find_map(|l| {
            l.trim()
                .strip_prefix(key)
                .map(|v| v.trim().trim_matches('"').to_string())
        })
    };
    if let Some(t) = &cfg_text {
        let driver = yaml_key(t, "cgroupDriver:").unwrap_or_else(|| "cgroupfs".into());
        facts.set_str(
            "kubelet.cgroup_driver",
            driver.clone(),
            c.line_ev(&cfg, "cgroupDriver").or_else(|| {
                Some(Evidence::new(
                    &cfg,
                    None,
                    "cgroupDriver unset: kubelet default cgroupfs",
                ))
            }),
        );
        let off = yaml_key(t, "failSwapOn:").as_deref() == Some("false");
        facts.set_bool(
            "kubelet.fail_swap_on",
            !off,
            c.line_ev(&cfg, "failSwapOn")
                .or_else(|| Some(Evidence::new(&cfg, None, "failSwapOn unset: default true"))),
        );
    }
    for flags in ["/var/lib/kubelet/kubeadm-flags.env", "/etc/default/kubelet"] {
        if let Some(ev) = c.line_ev(&f(flags), "--fail-swap-on=false") {
            facts.set_bool("kubelet.fail_swap_on", false, Some(ev));
        }
    }
    if flavor == Some("k3s") && !facts.contains("kubelet.fail_swap_on") {
        facts.set_bool("kubelet.fail_swap_on", true, None);
    }
    let unit = if k3s {
        ["k3s-agent.service", "k3s.service"]
            .into_iter()
            .find_map(|u| unit_props(c, u))
    } else {
        unit_props(c, "kubelet.service")
    };
    if let Some((p, ev)) = unit {
        facts.set_bool(
            "kubelet.service_active",
            p.get("ActiveState").map(String::as_str) == Some("active"),
            Some(ev.clone()),
        );
        if let Some(n) = p.get("NRestarts").and_then(|n| n.parse::<f64>().ok()) {
            facts.set_num("kubelet.restarts", n, Some(ev));
        }
    }
    if let Some((p, ev)) = ["containerd.service", "crio.service", "docker.service"]
        .into_iter()
        .find_map(|u| unit_props(c, u))
    {
        facts.set_bool(
            "runtime.service_active",
            p.get("ActiveState").map(String::as_str) == Some("active"),
            Some(ev),
        );
    }
    let ctd = [
        f("/etc/containerd/config.toml"),
        f("/var/lib/rancher/k3s/agent/etc/containerd/config.toml"),
    ]
    .into_iter()
    .find(|p| c.has(p));
    if let Some(p) = ctd {
        let t = c.text(&p).unwrap_or_default();
        let sys = t
            .lines()
            .find(|l| l.trim_start().starts_with("SystemdCgroup"));
        let driver = match sys {
            Some(l) if l.contains("true") => "systemd",
            _ => "cgroupfs",
        };
        facts.set_str(
            "runtime.cgroup_driver",
            driver,
            c.line_ev(&p, "SystemdCgroup").or_else(|| {
                Some(Evidence::new(
                    &p,
                    None,
                    "SystemdCgroup unset: runc uses cgroupfs",
                ))
            }),
        );
        let disabled = t
            .lines()
            .find(|l| l.trim_start().starts_with("disabled_plugins"));
        let cri_off = disabled.is_some_and(|l| {
            l.contains("\"cri\"") || l.contains("'cri'") || l.contains("io.containerd.grpc.v1.cri")
        });
        facts.set_bool(
            "runtime.cri_disabled",
            cri_off,
            c.line_ev(&p, "disabled_plugins")
                .or_else(|| Some(Evidence::new(&p, None, "no disabled_plugins"))),
        );
    }
    if flavor == Some("kubeadm") {
        if let (Some(k), Some(r)) = (
            facts.get("kubelet.cgroup_driver").cloned(),
            facts.get("runtime.cgroup_driver").cloned(),
        ) {
            let mismatch = k.value != r.value;
            facts.set(
                "cgroup_driver.mismatch",
                Value::Bool(mismatch),
                k.evidence.first().cloned(),
            );
            for e in r.evidence {
                facts.push_evidence("cgroup_driver.mismatch", e);
            }
        }
    }
    if let Some(l) = c.listing() {
        let sockets = [
            "/run/containerd",
            "/run/k3s/containerd",
            "/run/crio",
            "/var/run",
        ];
        let found = sockets.iter().find_map(|d| {
            l.get(*d)?
                .iter()
                .find(|e| {
                    e.get("type").and_then(|t| t.as_str()) == Some("socket")
                        && e.get("name")
                            .and_then(|n| n.as_str())
                            .is_some_and(|n| n.ends_with(".sock"))
                })
                .map(|e| {
                    format!(
                        "{d}/{}",
                        e.get("name").and_then(|n| n.as_str()).unwrap_or("")
                    )
                })
        });
        let ev = Evidence::new(
            bundle::LISTINGS,
            None,
            found
                .clone()
                .map(|s| format!("runtime socket {s}"))
                .unwrap_or_else(|| format!("no runtime socket in {}", sockets.join(", "))),
        );
        facts.set_bool("runtime.socket_present", found.is_some(), Some(ev));
    }
    let kubelet_conf = [
        f("/etc/kubernetes/kubelet.conf"),
        f("/var/lib/rancher/k3s/agent/kubelet.kubeconfig"),
    ];
    presence(
        c,
        facts,
        "join.kubelet_conf_present",
        &[&kubelet_conf[0], &kubelet_conf[1]],
        flavor.is_some(),
        "/etc/kubernetes/kubelet.conf",
        "the kubelet's cluster kubeconfig",
    );
    let boot = f("/etc/kubernetes/bootstrap-kubelet.conf");
    presence(
        c,
        facts,
        "join.bootstrap_conf_present",
        &[&boot],
        flavor == Some("kubeadm"),
        "/etc/kubernetes/bootstrap-kubelet.conf",
        "bootstrap kubeconfig",
    );
}

fn cni(c: &mut Ctx, facts: &mut Facts) {
    let k3s = facts.str("join.flavor") == Some("k3s");
    let conf_dirs = [
        "files/etc/cni/net.d/",
        "files/var/lib/rancher/k3s/agent/etc/cni/net.d/",
    ];
    let confs: Vec<(&String, &Vec<u8>)> =
        c.s.small
            .iter()
            .filter(|(k, _)| {
                conf_dirs.iter().any(|d| k.starts_with(d))
                    && (k.ends_with(".conf") || k.ends_with(".conflist") || k.ends_with(".json"))
            })
            .collect();
    let listing = c.listing();
    let listed_confs = listing
        .as_ref()
        .and_then(|l| l.get("/etc/cni/net.d"))
        .map(|v| v.len());
    if !confs.is_empty() || listed_confs.is_some() || (c.manifest.is_some() && !k3s) {
        let n = confs.len();
        let ev = match confs.first() {
            Some((p, _)) => Evidence::new(p, None, format!("{n} CNI config file(s)")),
            None => Evidence::new(bundle::LISTINGS, None, "no CNI config in /etc/cni/net.d"),
        };
        if n > 0 || !k3s {
            facts.set_num("cni.config_count", n as f64, Some(ev));
        }
    }
    let mut types = Vec::new();
    for (p, data) in &confs {
        let Ok(j) = crate::structured::json_slice::<J>(data, p) else {
            continue;
        };
        let plugins = j
            .get("plugins")
            .and_then(|p| p.as_array())
            .cloned()
            .unwrap_or_else(|| vec![j.clone()]);
        for p in plugins {
            if let Some(t) = p.get("type").and_then(|t| t.as_str()) {
                if !types.contains(&t.to_string()) {
                    types.push(t.to_string());
                }
            }
        }
    }
    if !types.is_empty() {
        facts.set(
            "cni.types",
            Value::List(types.clone()),
            confs.first().map(|(p, _)| {
                Evidence::new(p, None, format!("plugin types: {}", types.join(", ")))
            }),
        );
    }
    if let Some(l) = &listing {
        let dirs = [
            "/opt/cni/bin",
            "/usr/libexec/cni",
            "/var/lib/rancher/k3s/data/current/bin",
        ];
        let present: Vec<String> = dirs
            .iter()
            .filter_map(|d| l.get(*d))
            .flatten()
            .filter_map(|e| e.get("name")?.as_str().map(String::from))
            .collect();
        let looked: Vec<&str> = dirs
            .iter()
            .copied()
            .filter(|d| l.contains_key(*d))
            .collect();
        if !types.is_empty() {
            let missing: Vec<String> = types
                .iter()
                .filter(|t| !present.contains(t))
                .cloned()
                .collect();
            let ev = Some(Evidence::new(
                bundle::LISTINGS,
                None,
                format!(
                    "plugin directories {}: {} present; missing: {}",
                    if looked.is_empty() {
                        "(none exist)".into()
                    } else {
                        looked.join(", ")
                    },
                    present.len(),
                    if missing.is_empty() {
                        "none".into()
                    } else {
                        missing.join(", ")
                    }
                ),
            ));
            facts.set_num("cni.missing_plugin_count", missing.len() as f64, ev.clone());
            facts.set("cni.missing_plugins", Value::List(missing), ev);
        }
    }
    let crictl = bundle::command_path("crictl-info", "out");
    if let Some(j) =
        c.s.small
            .get(&crictl)
            .and_then(|b| crate::structured::json_slice::<J>(b, &crictl).ok())
    {
        if let Some(conds) = j.pointer("/status/conditions").and_then(|x| x.as_array()) {
            if let Some(n) = conds
                .iter()
                .find(|x| x.get("type").and_then(|t| t.as_str()) == Some("NetworkReady"))
            {
                let ok = n.get("status").and_then(|s| s.as_bool()).unwrap_or(false);
                let msg = format!(
                    "NetworkReady={ok} {} {}",
                    n.get("reason").and_then(|s| s.as_str()).unwrap_or(""),
                    n.get("message").and_then(|s| s.as_str()).unwrap_or("")
                );
                facts.set_bool(
                    "cni.runtime_network_ready",
                    ok,
                    Some(Evidence::new(&crictl, None, msg)),
                );
            }
        }
    }
}

fn power(c: &mut Ctx, facts: &mut Facts) {
    let vc = bundle::command_path("vcgencmd-get-throttled", "out");
    let sys = f("/sys/devices/platform/soc/soc:firmware/get_throttled");
    let parsed = c
        .text(&vc)
        .and_then(|t| {
            t.trim()
                .strip_prefix("throttled=")
                .and_then(|h| i64::from_str_radix(h.trim_start_matches("0x"), 16).ok())
                .map(|v| (v, vc.clone(), t))
        })
        .or_else(|| {
            c.text(&sys).and_then(|t| {
                i64::from_str_radix(t.trim().trim_start_matches("0x"), 16)
                    .ok()
                    .map(|v| (v, sys.clone(), t))
            })
        });
    let mut seen_alarm = None;
    for (k, v) in &c.s.small {
        if k.starts_with("files/sys/class/hwmon/")
            && k.ends_with("in0_lcrit_alarm")
            && String::from_utf8_lossy(v).trim() == "1"
        {
            seen_alarm = Some(Evidence::new(
                k,
                Some(1),
                "in0_lcrit_alarm = 1 (under-voltage)",
            ));
        }
    }
    if let Some((v, p, t)) = parsed {
        let ev = Some(Evidence::new(&p, Some(1), t.trim()));
        facts.set_num("power.throttled_flags", v as f64, ev.clone());
        facts.set_bool("power.undervoltage_now", v & 0x1 != 0, ev.clone());
        facts.set_bool(
            "power.undervoltage_seen",
            v & 0x10000 != 0 || seen_alarm.is_some(),
            ev.clone(),
        );
        facts.set_bool("power.throttled_seen", v & 0x60000 != 0, ev);
    } else if let Some(e) = seen_alarm {
        facts.set_bool("power.undervoltage_seen", true, Some(e));
    }
}

fn reachability(c: &mut Ctx, facts: &mut Facts) {
    let Some(r) = c.s.small.get(bundle::REACHABILITY).and_then(|b| {
        crate::structured::json_slice::<bundle::Reachability>(b, bundle::REACHABILITY).ok()
    }) else {
        return;
    };
    // The k3s agent's local load balancer (loopback:6444) only says the agent runs.
    let real: Vec<&bundle::Endpoint> = r
        .endpoints
        .iter()
        .filter(|e| !(e.port == 6444 && (e.host == "127.0.0.1" || e.host == "localhost")))
        .collect();
    let eps = if real.is_empty() {
        r.endpoints.iter().collect()
    } else {
        real
    };
    if eps.is_empty() {
        return;
    }
    let ok = eps.iter().find(|e| e.connected);
    let ev = match ok {
        Some(e) => Evidence::new(
            bundle::REACHABILITY,
            None,
            format!("{} connected in {} ms", e.url, e.connect_ms.unwrap_or(0)),
        ),
        None => Evidence::new(
            bundle::REACHABILITY,
            None,
            format!(
                "{} ({}): {}",
                eps[0].url,
                eps[0].configured_in,
                eps[0].error.clone().unwrap_or_default()
            ),
        ),
    };
    facts.set_bool("apiserver.reachable", ok.is_some(), Some(ev.clone()));
    if ok.is_none() {
        facts.set_str(
            "apiserver.error",
            eps[0].error.clone().unwrap_or_default(),
            Some(ev),
        );
    }
}

struct Kubeconfig {
    file: String,
    server: Option<String>,
    ca: Option<Cert>,
    client: Option<Cert>,
    client_path: Option<String>,
}

fn kubeconfig(file: &str, text: &str) -> Option<Kubeconfig> {
    let y: serde_yaml_ng::Value = crate::structured::yaml(text, file).ok()?;
    let cluster = y.get("clusters")?.as_sequence()?.first()?.get("cluster")?;
    let user = y
        .get("users")
        .and_then(|u| u.as_sequence())
        .and_then(|u| u.first())
        .and_then(|u| u.get("user"));
    let data_cert = |v: Option<&serde_yaml_ng::Value>, what: &str| -> Option<Cert> {
        let b = certs::base64_decode(v?.as_str()?)?;
        certs::parse(&format!("{file} ({what})"), &b)
            .0
            .into_iter()
            .next()
    };
    Some(Kubeconfig {
        file: file.into(),
        server: cluster
            .get("server")
            .and_then(|s| s.as_str())
            .map(String::from),
        ca: data_cert(
            cluster.get("certificate-authority-data"),
            "certificate-authority-data",
        ),
        client: data_cert(
            user.and_then(|u| u.get("client-certificate-data")),
            "client-certificate-data",
        ),
        client_path: user
            .and_then(|u| u.get("client-certificate"))
            .and_then(|s| s.as_str())
            .map(String::from),
    })
}

fn certificates(c: &mut Ctx, facts: &mut Facts) -> Vec<Cert> {
    let mut all = Vec::new();
    let mut bad = 0;
    let mut kcs = Vec::new();
    for (k, v) in &c.s.small {
        let name = k.rsplit('/').next().unwrap_or(k);
        let looks_cert = name.ends_with(".crt")
            || name.ends_with(".pem")
            || name.ends_with(".der")
            || name.ends_with(".cert")
            || (k.contains("/pki/") && !name.ends_with(".key"));
        if looks_cert {
            let (cs, b) = certs::parse(k, v);
            all.extend(cs);
            bad += b;
        } else if name.ends_with(".conf") || name.ends_with(".kubeconfig") || name == "kubeconfig" {
            if let Some(kc) = kubeconfig(k, &String::from_utf8_lossy(v)) {
                all.extend(kc.ca.clone());
                all.extend(kc.client.clone());
                kcs.push(kc);
            }
        }
    }
    if bad > 0 {
        c.problems.push(Problem {
            path: "certificates".into(),
            problem: format!("{bad} certificate block(s) could not be parsed"),
        });
    }
    facts.set_num("cert.count", all.len() as f64, None);
    let Some(now) = c.collected else { return all };
    // Kubelet kubeconfig: kubelet.conf (kubeadm) or kubelet.kubeconfig (k3s).
    let kc = kcs
        .iter()
        .find(|k| k.file.ends_with("kubelet.conf"))
        .or_else(|| kcs.iter().find(|k| k.file.ends_with("kubelet.kubeconfig")));
    if let Some(k) = kc {
        if let Some(s) = &k.server {
            facts.set_str(
                "kubeconfig.server",
                s.clone(),
                Some(Evidence::new(&k.file, None, format!("server: {s}"))),
            );
        }
    }
    let referenced = kc.and_then(|k| k.client_path.as_ref()).map(|p| f(p));
    let client = kc
        .and_then(|k| k.client.clone())
        .or_else(|| {
            referenced.as_ref().and_then(|r| {
                all.iter()
                    .find(|c| &c.file == r && c.node_name().is_some())
                    .cloned()
            })
        })
        .or_else(|| {
            all.iter()
                .filter(|c| c.node_name().is_some() && !c.is_ca)
                .max_by_key(|c| c.not_before)
                .cloned()
        });
    if let Some(cl) = &client {
        let ev = Some(Evidence::new(&cl.file, None, cl.describe()));
        facts.set_bool("cert.client.present", true, ev.clone());
        facts.set_str("cert.client.file", cl.file.clone(), ev.clone());
        if let Some(n) = cl.node_name() {
            facts.set_str("cert.client.node", n, ev.clone());
        }
        let ahead = cl.not_before as f64 - now;
        facts.set_num(
            "cert.client.not_before_ahead_s",
            ahead.round(),
            Some(Evidence::new(
                &cl.file,
                None,
                format!(
                    "NotBefore {} vs node clock {} ({:+.0}s)",
                    certs::fmt_time(cl.not_before),
                    certs::fmt_time(now as i64),
                    ahead
                ),
            )),
        );
        let expired = now - cl.not_after as f64;
        facts.set_num(
            "cert.client.expired_s",
            expired.round(),
            Some(Evidence::new(
                &cl.file,
                None,
                format!(
                    "NotAfter {} vs node clock {} ({:+.0}s)",
                    certs::fmt_time(cl.not_after),
                    certs::fmt_time(now as i64),
                    expired
                ),
            )),
        );
        if let Some(off) = facts.num("clock.measured_offset_s") {
            let reference = now - off;
            facts.set_num(
                "cert.client.expired_ref_s",
                (reference - cl.not_after as f64).round(),
                Some(Evidence::new(
                    &cl.file,
                    None,
                    format!(
                        "NotAfter {} vs reference clock {}",
                        certs::fmt_time(cl.not_after),
                        certs::fmt_time(reference as i64)
                    ),
                )),
            );
        }
        let ca = kc.and_then(|k| k.ca.clone()).or_else(|| {
            all.iter()
                .find(|c| c.file.ends_with("pki/ca.crt") || c.file.ends_with("client-ca.crt"))
                .cloned()
        });
        if let Some(ca) = ca {
            let ok = cl.signed_by(&ca);
            facts.set_bool(
                "cert.client.issued_by_cluster_ca",
                ok,
                Some(Evidence::new(
                    &cl.file,
                    None,
                    format!(
                        "client certificate {} by the CA in {} ({})",
                        if ok { "is signed" } else { "is NOT signed" },
                        ca.file,
                        ca.subject
                    ),
                )),
            );
        }
        if let (Some(node), Some(cn)) = (
            facts.str("identity.node_name").map(String::from),
            cl.node_name(),
        ) {
            let mismatch = !node.eq_ignore_ascii_case(cn);
            facts.set_bool(
                "identity.cert_node_mismatch",
                mismatch,
                Some(Evidence::new(
                    &cl.file,
                    None,
                    format!("certificate CN system:node:{cn}, kubelet registers as {node}"),
                )),
            );
        }
    }
    if let (Some(k), Some(pki)) = (
        kcs.iter().find(|k| k.file.ends_with("kubelet.conf")),
        all.iter()
            .find(|c| c.file == f("/etc/kubernetes/pki/ca.crt")),
    ) {
        if let Some(kca) = &k.ca {
            let same = kca.der == pki.der;
            facts.set_bool(
                "kubeconfig.ca_matches_pki",
                same,
                Some(Evidence::new(
                    &k.file,
                    None,
                    format!(
                        "kubeconfig CA {} /etc/kubernetes/pki/ca.crt",
                        if same { "equals" } else { "differs from" }
                    ),
                )),
            );
        }
    }
    if let Some(max) = all.iter().max_by_key(|c| c.not_before) {
        let ahead = max.not_before as f64 - now;
        facts.set_num(
            "cert.max_not_before_ahead_s",
            ahead.round(),
            Some(Evidence::new(
                &max.file,
                None,
                format!(
                    "NotBefore {} vs node clock {} ({:+.0}s)",
                    certs::fmt_time(max.not_before),
                    certs::fmt_time(now as i64),
                    ahead
                ),
            )),
        );
    }
    all
}

fn node_object(c: &mut Ctx, facts: &mut Facts) {
    let host_mid = facts.str("identity.machine_id").map(String::from);
    let mut candidates: Vec<&String> = vec![];
    let preferred = [
        bundle::command_path("kubectl-get-node", "out"),
        format!("{}node.yaml", bundle::EXTRA_DIR),
    ];
    for p in &preferred {
        if let Some((k, _)) = c.s.small.get_key_value(p) {
            candidates.push(k);
        }
    }
    for (k, v) in &c.s.small {
        if !preferred.contains(k) && !k.starts_with(bundle::FILES_DIR) && v.len() < (4 << 20) {
            let t = String::from_utf8_lossy(&v[..v.len().min(4096)]);
            if t.contains("kind: Node")
                || t.contains("\"kind\": \"Node\"")
                || t.contains("kind: List")
            {
                candidates.push(k);
            }
        }
    }
    for k in candidates {
        let text = String::from_utf8_lossy(&c.s.small[k]).into_owned();
        if crate::node::facts(k, &text, c.collected, host_mid.as_deref(), facts) {
            return;
        }
    }
}

/// Offsets inferred from evidence; the largest wins. Negative: node behind.
fn inferred_clock(c: &mut Ctx, facts: &mut Facts, certs: &[Cert]) {
    let mut cands: Vec<(f64, Evidence)> = Vec::new();
    if let Some(now) = c.collected {
        for cert in certs {
            let ahead = cert.not_before as f64 - now;
            // Signers backdate NotBefore by minutes; beyond that the node is behind.
            if ahead > 600.0 {
                cands.push((
                    -ahead,
                    Evidence::new(
                        &cert.file,
                        None,
                        format!(
                            "{} NotBefore {} is {:.0}s after the node clock {}",
                            cert.subject,
                            certs::fmt_time(cert.not_before),
                            ahead,
                            certs::fmt_time(now as i64)
                        ),
                    ),
                ));
            }
        }
    }
    if let Some(h) = c.s.milestones.get("x509-time") {
        static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
        let re = RE.get_or_init(|| regex::Regex::new(crate::scan::X509_TIME).expect("built-in"));
        for hit in h.all() {
            if let Some(m) = re.captures(&hit.text) {
                if let (Some(now), Some(bound)) =
                    (crate::logs::parse_iso(&m[1]), crate::logs::parse_iso(&m[3]))
                {
                    if &m[2] == "before" && bound - now > 600.0 {
                        cands.push((now - bound, hit.evidence()));
                    }
                }
            }
        }
    }
    if let (Some(age), Some(reg), Some(now)) = (
        facts.num("node.created_age_s"),
        c.s.milestones
            .get("registered")
            .and_then(|h| h.first.first()),
        c.collected,
    ) {
        // The kubelet logged its registration (node clock) when the API server
        // stamped creationTimestamp (cluster clock).
        if let Some(logged) = crate::logs::timestamp(&reg.text, now) {
            let created = now - age;
            let skew = logged - created;
            if skew.abs() > 600.0 {
                cands.push((skew, Evidence::new(&reg.file, Some(reg.line), format!("registered at {} on the node clock; the API server's creationTimestamp says {}", certs::fmt_time(logged as i64), certs::fmt_time(created as i64)))));
            }
        }
    }
    if let Some((v, e)) = cands
        .into_iter()
        .max_by(|a, b| a.0.abs().total_cmp(&b.0.abs()))
    {
        facts.set_num("clock.inferred_offset_s", v.round(), Some(e.clone()));
        facts.set_num("clock.inferred_offset_abs_s", v.abs().round(), Some(e));
    }
    let measured = facts
        .num("clock.measured_offset_abs_s")
        .filter(|m| *m > facts.num("clock.measured_bound_s").unwrap_or(0.0));
    let inferred = facts.num("clock.inferred_offset_abs_s");
    let best = match (measured, inferred) {
        (Some(m), Some(i)) if i > m => Some(("clock.inferred_offset_abs_s", i)),
        (Some(m), _) => Some(("clock.measured_offset_abs_s", m)),
        (None, Some(i)) => Some(("clock.inferred_offset_abs_s", i)),
        _ => None,
    };
    if let Some((from, v)) = best {
        let ev = facts.get(from).and_then(|f| f.evidence.first().cloned());
        facts.set_num("clock.offset_abs_s", v, ev);
    }
}
