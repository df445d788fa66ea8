//! A pasted ticket is not one log: it is log lines, command output and config
//! snippets one after another. This finds the sections whose content kind it
//! recognizes by shape (or by the shell command that printed them), so each
//! goes to the same parser a bundle file of that kind would.

use bundle::layout::Content;

/// A recognized section: its kind, its first line (1-based) and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub kind: Content,
    pub first_line: u64,
    pub text: String,
}

/// Lines as a ticket shows them: Markdown quote marks (also after an indent)
/// and code fences removed.
pub(crate) fn clean(line: &str) -> &str {
    let mut l = line.trim_end_matches('\r');
    if l.trim_start().starts_with('>') {
        l = l.trim_start();
    }
    while let Some(r) = l.strip_prefix('>') {
        l = r.strip_prefix(' ').unwrap_or(r);
    }
    if l.trim_start().starts_with("```") {
        return "";
    }
    l
}

/// The content kind a shell command prints, from a prompt line such as
/// `pi@node:~ $ sudo kubectl get nodes` or `# timedatectl`.
fn command_kind(line: &str) -> Option<Content> {
    let t = line.trim();
    // A bare `cat /known/file` line counts too: people drop the prompt.
    if let Some(p) = t
        .strip_prefix("cat ")
        .or_else(|| t.strip_prefix("sudo cat "))
    {
        if !p.trim().contains(' ') {
            return cat_kind(p.trim());
        }
    }
    let cmd = match t.find("$ ").or_else(|| t.find("# ")) {
        Some(_) => after_prompt(t)?,
        None if bare_command(t) => t,
        None => return None,
    };
    let cmd = cmd.trim().trim_start_matches("sudo ").trim();
    let w: Vec<&str> = cmd.split_whitespace().collect();
    let has = |s: &str| w.contains(&s);
    let first = *w.first()?;
    Some(match first {
        "chronyc" if has("tracking") => Content::ChronyTracking,
        "timedatectl" if has("show") => Content::TimedatectlShow,
        "timedatectl" => Content::TimedatectlStatus,
        "free" => Content::Free,
        "swapon" => Content::SwaponShow,
        "date" if w.len() == 1 || has("-u") => Content::Date,
        "df" => Content::Df,
        "vcgencmd" if has("get_throttled") => Content::Throttled,
        "systemctl" if has("status") => Content::SystemctlStatus,
        "lsmod" => Content::ProcModules,
        "nproc" | "lscpu" => Content::CpuInfo,
        "grep" if w.last() == Some(&bundle::layout::host::PROC_CPUINFO) && has("-c") => {
            Content::CpuInfo
        }
        "openssl" if has("x509") => Content::OpensslDates,
        "kubectl" | "k3s" | "microk8s.kubectl" | "k" | "oc" => kubectl_kind(&w)?,
        "cat" | "more" | "less" | "head" | "tail" => cat_kind(w.last()?)?,
        _ => return None,
    })
}

/// The command after a shell prompt: `$ `, `user@host:~$ `, `[root@h ~]# `,
/// or macOS bash's `host:dir user$ `.
fn after_prompt(t: &str) -> Option<&str> {
    let at = t.find("$ ").or_else(|| t.find("# "))?;
    let before = &t[..at];
    let mac = before
        .split_once(' ')
        .is_some_and(|(h, u)| h.contains(':') && !u.contains(' '));
    if before.contains(' ') && !before.contains('@') && !mac {
        return None;
    }
    Some(&t[at + 2..])
}

/// A prompt line with any command after it: it ends an output.
fn any_prompt(t: &str) -> bool {
    let t = t.trim_start();
    let shell = t.starts_with("$ ") || !t.starts_with('#') && !t.starts_with('-');
    shell
        && after_prompt(t)
            .and_then(|c| c.split_whitespace().next())
            .is_some_and(|w| {
                w.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "._-/".contains(ch))
            })
}

/// A command line pasted without its prompt: a tool whose name cannot start
/// a sentence, on a short line with no sentence punctuation.
fn bare_command(t: &str) -> bool {
    const TOOLS: &[&str] = &[
        "kubectl",
        "k3s",
        "microk8s.kubectl",
        "oc",
        "sudo",
        "timedatectl",
        "chronyc",
        "vcgencmd",
        "swapon",
        "nproc",
        "lscpu",
        "lsmod",
        "grep",
        "systemctl",
        "openssl",
    ];
    let first = t.split_whitespace().next().unwrap_or("");
    TOOLS.contains(&first)
        && t.len() < 160
        && !t.ends_with(['.', ':', '?', '!', ','])
        && !t.contains(". ")
}

fn kubectl_kind(w: &[&str]) -> Option<Content> {
    let has = |s: &str| w.contains(&s);
    let node = has("node") || has("nodes") || has("no");
    if has("describe") && node {
        Some(Content::KubectlDescribeNode)
    } else if has("get") && node && w.iter().any(|x| x.contains("yaml") || x.contains("json")) {
        Some(Content::NodeObject)
    } else if has("get") && node {
        Some(Content::KubectlGetNodes)
    } else if has("get") && has("csr") {
        Some(Content::KubectlGetCsr)
    } else {
        None
    }
}

fn cat_kind(path: &str) -> Option<Content> {
    use bundle::layout::host;
    Some(match path {
        host::PROC_SWAPS => Content::ProcSwaps,
        host::PROC_CGROUPS => Content::ProcCgroups,
        "/proc/self/cgroup" | "/proc/1/cgroup" => Content::ProcSelfCgroup,
        host::CGROUP_CONTROLLERS => Content::CgroupControllers,
        host::PROC_CMDLINE => Content::ProcCmdline,
        host::PROC_CPUINFO => Content::CpuInfo,
        host::BOOT_CMDLINE => Content::BootCmdline,
        host::FIRMWARE_CMDLINE => Content::FirmwareCmdline,
        host::MACHINE_ID => Content::MachineId,
        host::KUBELET_CONFIG => Content::KubeletConfig,
        host::CONTAINERD_CONFIG => Content::ContainerdConfig,
        host::K3S_CONFIG | host::RKE2_CONFIG => Content::K3sConfig,
        host::BRIDGE_NF_CALL_IPTABLES => Content::SysctlBridgeNf,
        host::IP_FORWARD => Content::SysctlIpForward,
        p if p.ends_with("kubeadm-flags.env") => Content::KubeletFlags,
        _ => return None,
    })
}

fn is_prompt(line: &str) -> bool {
    let t = line.trim_start();
    if t.starts_with("cat ") || t.starts_with("sudo cat ") {
        return command_kind(line).is_some();
    }
    (t.contains("$ ")
        || t.starts_with("# ")
        || t.contains("]# ")
        || t.contains(":~# ")
        || bare_command(t))
        && command_kind(line).is_some()
        || t.starts_with("$ ")
}

fn weekday_date(l: &str) -> bool {
    const DAYS: [&str; 7] = ["Mon ", "Tue ", "Wed ", "Thu ", "Fri ", "Sat ", "Sun "];
    DAYS.iter().any(|d| l.starts_with(d)) && crate::parse::clock::date_any_zone(l).is_some()
}

/// Keys only a k3s or rke2 `config.yaml` has, at the start of a line.
const K3S_KEYS: &[&str] = &[
    "write-kubeconfig-mode:",
    "cloud-provider-name:",
    "disable-cloud-controller:",
    "flannel-backend:",
    "cluster-init:",
    "agent-token:",
    "kubelet-arg:",
    "node-external-ip:",
];

/// A section that starts at this line by its shape alone, and whether it
/// runs to the next blank line (`true`) or is this one line (`false`).
fn shape_kind(l: &str, next: &[&str]) -> Option<(Content, bool)> {
    let t = l.trim_start();
    let w: Vec<&str> = t.split_whitespace().collect();
    let starts = |p: &[&str]| w.len() >= p.len() && w[..p.len()] == *p;
    Some(match () {
        _ if starts(&["NAME", "STATUS"]) && w.contains(&"AGE") && w.contains(&"VERSION") => {
            (Content::KubectlGetNodes, true)
        }
        _ if w.first() == Some(&"NAME")
            && w.last() == Some(&"CONDITION")
            && w.contains(&"REQUESTOR") =>
        {
            (Content::KubectlGetCsr, true)
        }
        _ if l.starts_with("Name:")
            && next
                .iter()
                .take(3)
                .any(|n| n.starts_with("Roles:") || n.starts_with("Labels:")) =>
        {
            (Content::KubectlDescribeNode, true)
        }
        _ if t.starts_with("Reference ID") && t.contains(':') => (Content::ChronyTracking, true),
        _ if t.starts_with("Local time:") => (Content::TimedatectlStatus, true),
        _ if t.starts_with("throttled=0x") => (Content::Throttled, false),
        _ if starts(&["total", "used", "free"]) => (Content::Free, true),
        _ if starts(&["NAME", "TYPE", "SIZE", "USED", "PRIO"]) => (Content::SwaponShow, true),
        _ if starts(&["Filename", "Type", "Size", "Used", "Priority"]) => {
            (Content::ProcSwaps, true)
        }
        _ if t.starts_with("#subsys_name") => (Content::ProcCgroups, true),
        _ if crate::parse::host::self_cgroup_line(t)
            && next.len() >= 2
            && next[..2]
                .iter()
                .all(|n| crate::parse::host::self_cgroup_line(n.trim())) =>
        {
            (Content::ProcSelfCgroup, true)
        }
        _ if t.starts_with("Filesystem") && w.get(2) == Some(&"Used") => (Content::Df, true),
        _ if t.starts_with("notBefore=") || t.starts_with("Not Before:") => {
            (Content::OpensslDates, true)
        }
        _ if weekday_date(t) => (Content::Date, false),
        _ if (t.starts_with('●') || t.starts_with('×')) && t.contains(".service") => {
            (Content::SystemctlStatus, true)
        }
        _ if t == "kind: KubeletConfiguration"
            || t.starts_with("apiVersion: kubelet.config.k8s.io") =>
        {
            (Content::KubeletConfig, true)
        }
        _ if t == "kind: Node"
            || (t.starts_with("apiVersion: v1")
                && next.iter().take(40).any(|n| n.trim() == "kind: Node")) =>
        {
            (Content::NodeObject, true)
        }
        _ if t.starts_with("[plugins") || t.starts_with("disabled_plugins") => {
            (Content::ContainerdConfig, true)
        }
        _ if K3S_KEYS.iter().any(|k| l.starts_with(k)) => (Content::K3sConfig, true),
        _ if t.contains("console=") && t.contains("root=") && !t.contains(": ") => {
            (Content::ProcCmdline, false)
        }
        _ => return None,
    })
}

/// YAML objects run past blank lines while lines stay indented or keyed.
fn yaml_end(lines: &[&str], from: usize) -> usize {
    let mut end = from + 1;
    while end < lines.len() {
        let l = lines[end];
        let t = l.trim();
        let yamlish = t.is_empty()
            || l.starts_with(' ')
            || l.starts_with('-')
            || l.starts_with(['{', '}', '[', ']'])
            || l.split_once(':')
                .is_some_and(|(k, _)| !k.contains(' ') && !k.is_empty());
        if !yamlish || is_prompt(l) || any_prompt(l) {
            break;
        }
        end += 1;
    }
    end
}

/// `kubectl describe` output as tickets show it: YAML-like, but a long
/// condition or event line is often wrapped by the terminal or the mail
/// client, so a keyless line right after a non-blank one continues the
/// section; after a blank line it ends it.
fn describe_end(lines: &[&str], from: usize) -> usize {
    let mut end = yaml_end(lines, from);
    while end < lines.len()
        && !lines[end].trim().is_empty()
        && !lines[end - 1].trim().is_empty()
        && !is_prompt(lines[end])
    {
        end = yaml_end(lines, end);
    }
    end
}

/// Output indented as a whole (a Markdown code block inside a list item, a
/// mail client's indent) reads as it was printed: each run of non-blank
/// lines loses the blank prefix all its lines share, when that is two or
/// more characters.
fn dedent(lines: &mut [&str]) {
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        let end = (i..lines.len())
            .find(|&e| lines[e].trim().is_empty())
            .unwrap_or(lines.len());
        let first = lines[i];
        let mut common = first.len() - first.trim_start_matches([' ', '\t']).len();
        for l in &lines[i + 1..end] {
            let shared = first.bytes().zip(l.bytes()).take(common);
            common = shared.take_while(|(a, b)| a == b).count();
        }
        if common >= 2 {
            for l in &mut lines[i..end] {
                *l = &l[common..];
            }
        }
        i = end;
    }
}

/// Find the recognized sections of a paste.
pub fn sections(text: &str) -> Vec<Section> {
    sections_at_most(text, usize::MAX).0
}

/// Sections recognized in one pasted text: a ticket holds a handful, and
/// each costs a parse and memory many times its size when it is one line.
pub const MAX_SECTIONS: usize = 64;
/// Bytes of sections (copies of pasted text) kept from one input.
pub const SECTIONS_TOTAL: usize = 16 << 20;

/// The first `max` sections of `text`, and whether there were more.
pub fn sections_at_most(text: &str, max: usize) -> (Vec<Section>, bool) {
    let mut lines: Vec<&str> = text.lines().map(clean).collect();
    dedent(&mut lines);
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if out.len() >= max {
            return (out, true);
        }
        let l = lines[i];
        let (kind, start, block) = if let Some(k) = command_kind(l).filter(|_| is_prompt(l)) {
            (k, i + 1, true)
        } else if let Some((k, b)) = shape_kind(l, &lines[i + 1..]) {
            (k, i, b)
        } else {
            i += 1;
            continue;
        };
        let end = if !block {
            start + 1
        } else if kind == Content::KubectlDescribeNode {
            describe_end(&lines, start)
        } else if matches!(
            kind,
            Content::NodeObject | Content::KubeletConfig | Content::ContainerdConfig
        ) {
            yaml_end(&lines, start)
        } else {
            let mut e = start;
            while e < lines.len()
                && (e == start || !lines[e].trim().is_empty())
                && (e == start || !is_prompt(lines[e]))
            {
                e += 1;
            }
            e
        };
        let end = end.min(lines.len());
        if end > start {
            out.push(Section {
                kind,
                first_line: start as u64 + 1,
                text: lines[start..end].join("\n") + "\n",
            });
        }
        i = end.max(i + 1);
    }
    (out, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_with_several_outputs() {
        let t = "Hi, my pi will not get ready.\n\
```\n\
pi@master:~ $ kubectl get nodes\n\
NAME       STATUS     ROLES           AGE   VERSION\n\
master     Ready      control-plane   2d    v1.28.2\n\
worker-1   NotReady   <none>          1h    v1.28.2\n\
\n\
pi@worker-1:~ $ timedatectl\n\
               Local time: Thu 2026-11-24 06:00:00 UTC\n\
           Universal time: Thu 2026-11-24 06:00:00 UTC\n\
System clock synchronized: no\n\
```\n\
> throttled=0x50005\n\
Thu Dec 26 10:08:23 UTC 2019\n";
        let s = sections(t);
        let kinds: Vec<Content> = s.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            vec![
                Content::KubectlGetNodes,
                Content::TimedatectlStatus,
                Content::Throttled,
                Content::Date
            ]
        );
        assert_eq!(s[0].first_line, 4);
        assert!(s[0].text.contains("worker-1   NotReady"));
        assert!(!s[0].text.contains("timedatectl"));
        assert_eq!(s[2].text.trim(), "throttled=0x50005");
    }

    #[test]
    fn shapes_without_prompts() {
        let t = "NAME        AGE   SIGNERNAME                                    REQUESTOR                 REQUESTEDDURATION   CONDITION
csr-8xv9k   2m    kubernetes.io/kube-apiserver-client-kubelet   system:bootstrap:abcdef   <none>              Pending

Name:               pi-worker-1
Roles:              <none>
Conditions:
  Type             Status

Events:              <none>
";
        let s = sections(t);
        assert_eq!(s[0].kind, Content::KubectlGetCsr);
        assert_eq!(s[1].kind, Content::KubectlDescribeNode);
        assert!(s[1].text.contains("Events:"));
    }

    #[test]
    fn a_wrapped_describe_runs_on() {
        let t = "Name:                   n1
Labels:                 <none>
Conditions:
  Type          Status  LastHeartbeatTime
LastTransitionTime                      Reason
        Message
  Ready         True    Thu, 07 May 2015 09:52:58 -0400
Capacity:
 cpu:           -1

a log line after a blank one
";
        let s = sections(t);
        assert_eq!(s.len(), 1);
        assert!(s[0].text.contains("cpu:           -1"));
        assert!(!s[0].text.contains("a log line"));
    }

    #[test]
    fn a_macos_prompt() {
        let t = "foo:daemonset milan$ kubectl get nodes\nNAME STATUS ROLES AGE VERSION\nw1 NotReady <none> 1h v1.14.1\nI can not see why. More: here\n";
        let s = sections(t);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].kind, Content::KubectlGetNodes);
        assert!(command_kind("so I ran it: see $ kubectl get nodes").is_none());
    }

    #[test]
    fn commands_pasted_without_a_prompt() {
        let t = "grep -c processor /proc/cpuinfo\n4\nkubectl describe node w1\n...\nCapacity:\n  cpu:  12\n\nkubectl is not working. Any idea?\nkubectl get pods fails, see below:\n";
        let s = sections(t);
        let kinds: Vec<Content> = s.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, vec![Content::CpuInfo, Content::KubectlDescribeNode]);
        assert_eq!(s[0].text, "4\n");
        assert!(s[1].text.contains("cpu:  12"));
    }

    #[test]
    fn sections_stop_at_the_cap() {
        let t = "$ free\nx\n".repeat(100);
        let (s, cut) = sections_at_most(&t, 10);
        assert_eq!((s.len(), cut), (10, true));
        let (s, cut) = sections_at_most(&t, 100);
        assert_eq!((s.len(), cut), (100, false));
    }

    #[test]
    fn indented_output_is_read_as_printed() {
        let text = "Here is what I get:\n\n    $ kubectl get nodes\n    NAME   STATUS     ROLES    AGE   VERSION\n    pi-2   NotReady   <none>   5m    v1.28.2\n\n  x\n";
        let s = sections(text);
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].kind, Content::KubectlGetNodes);
        assert!(s[0].text.starts_with("NAME   STATUS"), "{:?}", s[0].text);
        // Lines with their own indent keep it.
        let mut l = vec![
            "Name: pi-2",
            "  Ready  False",
            "",
            "\t[ERROR Swap]",
            "\t[ERROR CRI]",
        ];
        dedent(&mut l);
        assert_eq!(
            l,
            [
                "Name: pi-2",
                "  Ready  False",
                "",
                "\t[ERROR Swap]",
                "\t[ERROR CRI]"
            ]
        );
    }

    #[test]
    fn log_lines_are_not_sections() {
        let t = "Nov 24 06:00:00 pi kubelet[812]: E1124 06:00:00.000000 812 kubelet.go:2855] \"Container runtime network not ready\"\n";
        assert!(sections(t).is_empty());
    }
}
