//! Log line formats: journald (short, short-iso, short-precise,
//! short-iso-precise) and syslog prefixes, klog, k3s/logrus `time=... level=...`,
//! CRI container logs and docker JSON logs. Parsing is done only for lines a
//! rule matched, so the hot path stays one regex-set scan per line.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use regex::Regex;
use std::sync::OnceLock;

fn re(cell: &'static OnceLock<Regex>, pat: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pat).expect("built-in regex"))
}

static ISO: OnceLock<Regex> = OnceLock::new();
static SYSLOG: OnceLock<Regex> = OnceLock::new();
static KLOG: OnceLock<Regex> = OnceLock::new();
static LOGRUS: OnceLock<Regex> = OnceLock::new();

const ISO_PAT: &str = r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?";
const SYSLOG_PAT: &str = r"^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(\.\d+)?";

/// Parse an RFC 3339-ish time (`2026-11-24T05:58:01.123Z`, `+0000`, `+00:00`,
/// or none = UTC) to unix seconds.
pub fn parse_iso(s: &str) -> Option<f64> {
    let c = re(&ISO, ISO_PAT).captures(s)?;
    let date = NaiveDate::parse_from_str(&c[1], "%Y-%m-%d").ok()?;
    let time = chrono::NaiveTime::parse_from_str(&c[2], "%H:%M:%S").ok()?;
    let frac: f64 = c
        .get(3)
        .map(|m| format!("0{}", m.as_str()).parse().unwrap_or(0.0))
        .unwrap_or(0.0);
    let off = match c.get(4).map(|m| m.as_str()) {
        None | Some("Z") => 0,
        Some(o) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let d: String = o[1..].chars().filter(char::is_ascii_digit).collect();
            let h: i64 = d.get(..2)?.parse().ok()?;
            let m: i64 = d.get(2..4)?.parse().ok()?;
            sign * (h * 3600 + m * 60)
        }
    };
    Some(Utc.from_utc_datetime(&date.and_time(time)).timestamp() as f64 + frac - off as f64)
}

/// A date without a year (klog, syslog) placed in the year that puts it at
/// or before the collection time.
fn infer_year(month: u32, day: u32, secs_of_day: f64, collected: f64) -> Option<f64> {
    let year = DateTime::from_timestamp(collected as i64, 0)
        .map(|d| d.year())
        .unwrap_or(2026);
    for y in [year, year - 1] {
        let d = NaiveDate::from_ymd_opt(y, month, day)?;
        let t = Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?).timestamp() as f64 + secs_of_day;
        if t <= collected + 2.0 * 86400.0 {
            return Some(t);
        }
    }
    None
}

/// Node-clock time of a log line, from its outermost timestamp.
pub fn timestamp(line: &str, collected: f64) -> Option<f64> {
    let l = line.trim_start();
    if let Some(rest) = l.strip_prefix("{\"log\":") {
        let t = rest.split("\"time\":\"").nth(1)?.split('"').next()?;
        return parse_iso(t);
    }
    if let Some(t) = parse_iso(l) {
        return Some(t);
    }
    if let Some(c) = re(&SYSLOG, SYSLOG_PAT).captures(l) {
        let month = bundle::time::month_from_abbrev(&c[1])?;
        let secs = c[3].parse::<f64>().ok()? * 3600.0
            + c[4].parse::<f64>().ok()? * 60.0
            + c[5].parse::<f64>().ok()?;
        return infer_year(month, c[2].parse().ok()?, secs, collected);
    }
    if let Some(c) = re(&LOGRUS, r#"(?-u:\b)time="([^"]+)""#).captures(l) {
        return parse_iso(&c[1]);
    }
    if let Some(c) = re(
        &KLOG,
        r"(?:^|\s)[IWEF](\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2}(?:\.\d+)?)\s",
    )
    .captures(l)
    {
        let secs = c[3].parse::<f64>().ok()? * 3600.0
            + c[4].parse::<f64>().ok()? * 60.0
            + c[5].parse::<f64>().ok()?;
        return infer_year(c[1].parse().ok()?, c[2].parse().ok()?, secs, collected);
    }
    None
}

/// The journald/syslog identifier (`kubelet` in `host kubelet[812]:`), after
/// an ISO or syslog timestamp and a host name. Read by hand: this runs on
/// every line a pattern matched.
pub fn identifier(line: &str) -> Option<&str> {
    prefix(line).map(|(id, _)| id)
}

/// The identifier and the rest of the line after its `: `.
fn prefix(line: &str) -> Option<(&str, &str)> {
    let rest = skip_stamp(line)?.strip_prefix(' ')?;
    let host = rest.find(char::is_whitespace)?;
    if host == 0 {
        return None;
    }
    let rest = rest[host..].strip_prefix(' ')?;
    let id = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '-')))
        .unwrap_or(rest.len());
    if id == 0 {
        return None;
    }
    let mut after = &rest[id..];
    if let Some(pid) = after.strip_prefix('[') {
        let digits = pid.find(|c: char| !c.is_ascii_digit()).unwrap_or(pid.len());
        after = pid[digits..].strip_prefix(']').filter(|_| digits > 0)?;
    }
    Some((&rest[..id], after.strip_prefix(": ")?))
}

/// The length of a line's header: journald/syslog timestamp, host,
/// identifier and pid, then a klog header (`I1124 05:58:01.123456  812 `) or
/// a logrus `time="..."`. Rule patterns read messages, not these digits, so
/// lines that differ only in their headers' digits match the same patterns
/// (see [`shape`]).
pub fn header_len(line: &str) -> usize {
    let mut rest = match prefix(line) {
        Some((_, r)) => r,
        None => skip_stamp(line).unwrap_or(line),
    };
    let b = rest.as_bytes();
    let d = |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    if matches!(b.first(), Some(b'I' | b'W' | b'E' | b'F'))
        && d(1..5)
        && b.get(5) == Some(&b' ')
        && d(6..8)
        && b.get(8) == Some(&b':')
        && d(9..11)
        && b.get(11) == Some(&b':')
        && d(12..14)
    {
        let mut i = 14;
        if b.get(i) == Some(&b'.') {
            i += 1 + b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        }
        let sp = b[i..].iter().take_while(|c| **c == b' ').count();
        let tid = b[i + sp..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if sp > 0 && tid > 0 && b.get(i + sp + tid) == Some(&b' ') {
            rest = &rest[i + sp + tid + 1..];
        }
    } else if let Some(t) = rest.strip_prefix("time=\"") {
        if let Some(q) = t.find('"') {
            rest = &t[q + 1..];
        }
    }
    line.len() - rest.len()
}

/// A line with every run of digits in its header (see [`header_len`])
/// written as `0`: lines with the same shape match the same patterns.
pub fn shape(line: &str, out: &mut String) {
    out.clear();
    let h = header_len(line);
    let mut digits = false;
    for c in line[..h].chars() {
        if c.is_ascii_digit() {
            if !digits {
                out.push('0');
            }
            digits = true;
        } else {
            out.push(c);
            digits = false;
        }
    }
    out.push_str(&line[h..]);
}

/// The rest of `line` after a leading `2026-11-24T05:58:01...` (to the first
/// space) or `Nov 24 05:58:01[.123]`.
fn skip_stamp(line: &str) -> Option<&str> {
    let b = line.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && b.get(10) == Some(&b'T')
    {
        let end = line[11..]
            .find(char::is_whitespace)
            .map_or(line.len(), |p| 11 + p);
        return (end > 11).then(|| &line[end..]);
    }
    let month = b.first().is_some_and(u8::is_ascii_uppercase)
        && b.get(1..3)
            .is_some_and(|m| m.iter().all(u8::is_ascii_lowercase));
    if !month {
        return None;
    }
    let mut i = 3;
    let spaces = b[i..].iter().take_while(|c| **c == b' ').count();
    if spaces == 0 {
        return None;
    }
    i += spaces;
    let day = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if !(1..=2).contains(&day) {
        return None;
    }
    i += day;
    let clock = b.get(i) == Some(&b' ')
        && digits(i + 1..i + 3)
        && b.get(i + 3) == Some(&b':')
        && digits(i + 4..i + 6)
        && b.get(i + 6) == Some(&b':')
        && digits(i + 7..i + 9);
    if !clock {
        return None;
    }
    i += 9;
    if b.get(i) == Some(&b'.') {
        let frac = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if frac > 0 && b.get(i + 1 + frac) == Some(&b' ') {
            i += 1 + frac;
        }
    }
    Some(&line[i..])
}

/// Source of a line: its journald identifier if it has one, else the file's.
pub fn source_of(line: &str, file_source: &'static str) -> &'static str {
    match identifier(line) {
        Some("kubelet") => "kubelet",
        Some("k3s" | "k3s-agent" | "k3s-server" | "rke2") => "k3s",
        Some("containerd" | "dockerd" | "crio" | "cri-dockerd") => "containerd",
        Some("kubeadm") => "kubeadm",
        Some("kernel") => "kernel",
        _ => file_source,
    }
}

/// Does a line from `source` satisfy a rule's `sources` filter? k3s runs the
/// kubelet, kube-proxy and flannel in-process, so its lines count as theirs;
/// lines of unknown origin (pasted logs) match every filter.
pub fn source_matches(source: &str, wanted: &[String]) -> bool {
    if wanted.is_empty() || source == "any" || wanted.iter().any(|w| w == "any" || w == source) {
        return true;
    }
    source == "k3s"
        && wanted
            .iter()
            .any(|w| matches!(w.as_str(), "kubelet" | "kube-proxy" | "cni" | "containerd"))
}

/// Does this line start a new record (a timestamp, a klog or logfmt header,
/// a journald prefix, JSON, a bracketed tag)? Used to tell a wrapped
/// continuation from the next line.
pub fn starts_record(line: &str) -> bool {
    static START: OnceLock<Regex> = OnceLock::new();
    re(
        &START,
        r"^(\d{4}-\d\d-\d\d|\d\d:\d\d|[A-Z][a-z]{2} +\d{1,2} \d\d:|[IWEF]\d{4} |time=|level=|ts=|\{|\[|[A-Za-z0-9_.-]+\[\d+\]:|[A-Z][A-Za-z]+:\s|\$ |# |NAME\s)",
    )
    .is_match(line)
}

/// The text rules should see for a raw line, when it differs: a docker JSON
/// log's message; a JSON-structured log (etcd, k3s, zap, logrus JSON) as
/// `msg key="value" ...`; syslog's `#011` tab escapes undone.
pub fn decode(line: &str) -> Option<String> {
    let l = line.trim_start();
    let brace = l.find('{').filter(|i| {
        // A JSON object after a journald prefix: `Nov 24 ... etcd[12]: {"level":...}`.
        *i == 0 || l[..*i].ends_with(": ")
    });
    if let Some(i) = brace {
        if let Some(t) = decode_json(&l[i..]) {
            return Some(if i == 0 { t } else { format!("{}{t}", &l[..i]) });
        }
    }
    if line.contains("#011") {
        return Some(line.replace("#011", "\t"));
    }
    None
}

/// Whether any line in `text` may be one [`decode`] rewrites: a `{` that
/// starts a line or follows `: `, or a `#011`. False means none is.
pub fn may_decode(text: &[u8]) -> bool {
    if memchr::memmem::find(text, b"#011").is_some() || memchr::memmem::find(text, b": {").is_some()
    {
        return true;
    }
    memchr::memchr_iter(b'{', text).any(|i| {
        text[..i]
            .iter()
            .rev()
            .take_while(|b| **b != b'\n')
            // What `trim_start` may remove (non-ASCII: perhaps a Unicode space).
            .all(|b| b.is_ascii_whitespace() || *b == 0x0b || *b >= 0x80)
    })
}

fn decode_json(l: &str) -> Option<String> {
    if !l.ends_with('}') || l.len() > 64 * 1024 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(l).ok()?;
    let o = v.as_object()?;
    if let Some(log) = o.get("log").and_then(|x| x.as_str()) {
        return Some(log.trim_end().to_string());
    }
    let msg = ["msg", "message", "M"]
        .iter()
        .find_map(|k| o.get(*k)?.as_str())?;
    let mut out = msg.to_string();
    for (k, v) in o {
        if matches!(
            k.as_str(),
            "msg" | "message" | "M" | "ts" | "time" | "caller"
        ) {
            continue;
        }
        let v = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => continue,
            other => other.to_string(),
        };
        out.push_str(&format!(" {k}=\"{v}\""));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    /// `may_decode` is never false for a line `decode` rewrites.
    #[test]
    fn may_decode_covers_decode() {
        let parts = [
            "{",
            "}",
            "{\"log\":\"x\"}",
            "{\"msg\":\"m\",\"level\":\"info\"}",
            ": ",
            " ",
            "\u{a0}",
            "\u{b}",
            "\t",
            "#011",
            "Nov 24 05:58:01 h etcd[1]: ",
            "x",
            "\"",
            "a{\"b\":1}",
        ];
        for a in parts {
            for b in parts {
                for c in parts {
                    for d in parts {
                        let line = format!("{a}{b}{c}{d}");
                        if decode(&line).is_some() {
                            assert!(may_decode(line.as_bytes()), "{line:?}");
                            let more = format!("first line\n{line}\nlast");
                            assert!(may_decode(more.as_bytes()), "{more:?}");
                        }
                    }
                }
            }
        }
    }

    /// The hand-written `identifier` agrees with the regex it replaced.
    #[test]
    fn identifier_matches_its_regex() {
        let re = regex::Regex::new(
            r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}T\S+|[A-Z][a-z]{2} +[0-9]{1,2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?) \S+ ([A-Za-z0-9_.@-]+?)(?:\[[0-9]+\])?: ",
        )
        .unwrap();
        let parts = [
            "2026-11-24T05:58:01.123+0000",
            "2026-11-24T",
            "2026-1-24T05",
            "Nov 24 05:58:01",
            "Nov  4 05:58:01.5",
            "Nov 245 05:58:01",
            "nov 24 05:58:01",
            "Nov 24 05:58:01.",
            "Nov 24 05:58:01.x",
            " ",
            "  ",
            "\t",
            "pi-1",
            "kubelet",
            "k3s-agent",
            "systemd[1]",
            "kubelet[812]",
            "x[]",
            "a[1",
            "[2]",
            ":",
            ": ",
            "::",
            "msg",
            "é",
            "",
        ];
        let mut n = 0u64;
        for a in parts {
            for b in parts {
                for c in parts {
                    for d in parts {
                        for line in [
                            format!("{a}{b}{c}{d}"),
                            format!("{a} {b} {c}{d}"),
                            format!("{a} {b} {c}: {d}"),
                        ] {
                            let want = re
                                .captures(&line)
                                .and_then(|c| c.get(1))
                                .map(|m| m.as_str());
                            assert_eq!(identifier(&line), want, "{line:?}");
                            n += 1;
                        }
                    }
                }
            }
        }
        assert!(n > 1000);
    }

    use super::*;

    const COLLECTED: f64 = 1_795_500_000.0; // 2026-11-24T06:00:00Z

    #[test]
    fn timestamps() {
        let t = |l: &str| timestamp(l, COLLECTED).map(|t| t as i64);
        assert_eq!(
            t("2026-11-24T05:58:01.123456+0000 pi kubelet[812]: x"),
            Some(1_795_499_881)
        );
        assert_eq!(
            t("2026-11-24T06:58:01+01:00 pi kubelet[812]: x"),
            Some(1_795_499_881)
        );
        assert_eq!(t("Nov 24 05:58:01 pi kubelet[812]: x"), Some(1_795_499_881));
        assert_eq!(
            t("E1124 05:58:01.123456     812 run.go:74] x"),
            Some(1_795_499_881)
        );
        assert_eq!(
            t("time=\"2026-11-24T05:58:01Z\" level=error msg=\"x\""),
            Some(1_795_499_881)
        );
        assert_eq!(
            t("2026-11-24T05:58:01.123456789Z stderr F I1124 x"),
            Some(1_795_499_881)
        );
        assert_eq!(
            t("{\"log\":\"x\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-24T05:58:01.5Z\"}"),
            Some(1_795_499_881)
        );
        // December lines collected in January belong to the year before.
        assert_eq!(
            timestamp("Dec 31 23:59:59 pi kubelet[1]: x", 1_798_761_600.0 + 3600.0)
                .map(|t| t as i64),
            Some(1_798_761_599)
        );
        assert_eq!(t("no time here"), None);
    }

    #[test]
    fn identifiers() {
        assert_eq!(
            identifier("2026-11-24T05:58:01.123456+0000 pi kubelet[812]: E1124"),
            Some("kubelet")
        );
        assert_eq!(
            identifier("Nov 24 05:58:01 raspberrypi k3s[700]: time="),
            Some("k3s")
        );
        assert_eq!(
            identifier("Nov 24 05:58:01 pi kernel: [  5.1] x"),
            Some("kernel")
        );
        assert_eq!(
            source_of("Nov 24 05:58:01 pi k3s-agent[700]: x", "unknown"),
            "k3s"
        );
        assert!(source_matches("k3s", &["kubelet".into()]));
        assert!(!source_matches("containerd", &["kubelet".into()]));
        assert!(source_matches("unknown", &[]));
    }

    #[test]
    fn docker_json() {
        assert_eq!(decode("{\"log\":\"exec /bin/app: exec format error\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-24T05:58:01Z\"}").as_deref(), Some("exec /bin/app: exec format error"));
    }

    #[test]
    fn json_and_escaped_logs() {
        let etcd = r#"{"level":"warn","ts":"2023-01-05T10:00:00.000Z","caller":"etcdserver/util.go:166","msg":"apply request took too long","took":"1.2s"}"#;
        let d = decode(etcd).unwrap();
        assert!(d.starts_with("apply request took too long"));
        assert!(d.contains("level=\"warn\""));
        let k3s = r#"Nov 24 06:00:00 pi k3s[812]: {"level":"error","msg":"Failed to connect to proxy","error":"x509: certificate has expired or is not yet valid"}"#;
        assert!(decode(k3s)
            .unwrap()
            .contains("Failed to connect to proxy error=\"x509: certificate"));
        assert_eq!(decode("a#011b").as_deref(), Some("a\tb"));
        assert_eq!(decode("plain line"), None);
    }
}
