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
static IDENT: OnceLock<Regex> = OnceLock::new();

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

/// The journald/syslog identifier (`kubelet` in `host kubelet[812]:`).
pub fn identifier(line: &str) -> Option<&str> {
    let r = re(
        &IDENT,
        r"^(?:\d{4}-\d{2}-\d{2}T\S+|[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d+)?) \S+ ([A-Za-z0-9_.@-]+?)(?:\[\d+\])?: ",
    );
    r.captures(line).and_then(|c| c.get(1)).map(|m| m.as_str())
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
