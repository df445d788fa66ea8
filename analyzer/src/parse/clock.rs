//! Clock state: `chronyc tracking`, `timedatectl [status|show]`, `date`,
//! `openssl x509 -dates`.

use super::key_values;
use chrono::{NaiveDateTime, TimeZone, Utc};

/// Sync state with the 0-based line that says so.
#[derive(Debug, Clone, PartialEq)]
pub struct Sync {
    pub synced: bool,
    pub line: usize,
    pub text: String,
}

/// `chronyc tracking`: synced when the leap status is Normal and a reference is set.
pub fn chrony_tracking(text: &str) -> Option<Sync> {
    let no_ref =
        key_values(text, ':').any(|(_, k, v)| k == "Reference ID" && v.starts_with("00000000"));
    key_values(text, ':')
        .find(|(_, k, _)| *k == "Leap status")
        .map(|(i, _, v)| Sync {
            synced: v == "Normal" && !no_ref,
            line: i,
            text: text.lines().nth(i).unwrap_or("").trim().to_string(),
        })
}

/// `timedatectl` (status) or `timedatectl show`.
pub fn timedatectl_sync(text: &str) -> Option<Sync> {
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        let v = t
            .strip_prefix("System clock synchronized:")
            .or_else(|| t.strip_prefix("NTPSynchronized="))
            // systemd before 239 said "NTP synchronized: yes".
            .or_else(|| t.strip_prefix("NTP synchronized:"));
        if let Some(v) = v {
            return Some(Sync {
                synced: v.trim() == "yes",
                line: i,
                text: t.to_string(),
            });
        }
    }
    None
}

/// The node clock that `timedatectl` reports (its `Universal time` line), as unix seconds.
pub fn timedatectl_now(text: &str) -> Option<i64> {
    key_values(text, ':').find_map(|(_, k, v)| {
        if k != "Universal time" {
            return None;
        }
        // "Thu 2026-11-24 06:00:00 UTC"
        let mut w = v.split_whitespace();
        let (_, d, t) = (w.next()?, w.next()?, w.next()?);
        let dt = NaiveDateTime::parse_from_str(&format!("{d} {t}"), "%Y-%m-%d %H:%M:%S").ok()?;
        Some(Utc.from_utc_datetime(&dt).timestamp())
    })
}

/// `date` output with a UTC zone, in the C locale (`Thu Dec 26 10:08:23 UTC
/// 2019`) or en_GB, Raspberry Pi OS's default (`Thu 26 Dec 10:08:23 GMT
/// 2019`). Other zones are not converted; see [`date_any_zone`].
pub fn date_output(line: &str) -> Option<i64> {
    date_any_zone(line).filter(|d| d.1).map(|d| d.0)
}

/// `date` output in any zone: the time read as if it were UTC, and whether
/// the zone really was UTC (otherwise it is only good to a day, enough for a
/// year).
pub fn date_any_zone(line: &str) -> Option<(i64, bool)> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let zone_ok = |z: &str| {
        z.len() <= 6
            && z.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-')
    };
    if w.len() != 6 || !zone_ok(w[4]) || w[4].chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (mon, day) = if w[1].starts_with(|c: char| c.is_ascii_digit()) {
        (w[2], w[1])
    } else {
        (w[1], w[2])
    };
    let s = format!("{mon} {day} {} {}", w[3], w[5]);
    let dt = NaiveDateTime::parse_from_str(&s, "%b %d %H:%M:%S %Y").ok()?;
    Some((
        Utc.from_utc_datetime(&dt).timestamp(),
        matches!(w[4], "UTC" | "GMT"),
    ))
}

/// OpenSSL's time format: `Nov 24 06:00:00 2026 GMT`.
pub fn openssl_time(s: &str) -> Option<i64> {
    let s = s.trim().trim_end_matches("GMT").trim();
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let dt = NaiveDateTime::parse_from_str(&s, "%b %d %H:%M:%S %Y").ok()?;
    Some(Utc.from_utc_datetime(&dt).timestamp())
}

/// `openssl x509 -dates` (`notBefore=`) or `-text` (`Not Before:`): (NotBefore, NotAfter).
pub fn openssl_dates(text: &str) -> (Option<i64>, Option<i64>) {
    let mut nb = None;
    let mut na = None;
    for l in text.lines() {
        let t = l.trim();
        if let Some(v) = t
            .strip_prefix("notBefore=")
            .or_else(|| t.strip_prefix("Not Before:"))
        {
            nb = nb.or(openssl_time(v));
        }
        if let Some(v) = t
            .strip_prefix("notAfter=")
            .or_else(|| t.strip_prefix("Not After :"))
            .or_else(|| t.strip_prefix("Not After:"))
        {
            na = na.or(openssl_time(v));
        }
    }
    (nb, na)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACKING_UNSYNCED: &str = "Reference ID    : 00000000 ()
Stratum         : 0
Ref time (UTC)  : Thu Jan 01 00:00:00 1970
System time     : 0.000000000 seconds fast of NTP time
Last offset     : +0.000000000 seconds
RMS offset      : 0.000000000 seconds
Frequency       : 0.000 ppm slow
Residual freq   : +0.000 ppm
Skew            : 0.000 ppm
Root delay      : 1.000000000 seconds
Root dispersion : 1.000000000 seconds
Update interval : 0.0 seconds
Leap status     : Not synchronised
";

    #[test]
    fn chrony() {
        let s = chrony_tracking(TRACKING_UNSYNCED).unwrap();
        assert!(!s.synced);
        assert_eq!(s.line, 12);
        let ok = TRACKING_UNSYNCED
            .replace("00000000 ()", "C0A80101 (192.168.1.1)")
            .replace("Not synchronised", "Normal");
        assert!(chrony_tracking(&ok).unwrap().synced);
        assert!(chrony_tracking("hello").is_none());
    }

    #[test]
    fn timedatectl() {
        let t = "               Local time: Thu 2026-11-24 06:00:00 UTC
           Universal time: Thu 2026-11-24 06:00:00 UTC
                 RTC time: n/a
                Time zone: Etc/UTC (UTC, +0000)
System clock synchronized: no
              NTP service: active
          RTC in local TZ: no
";
        let s = timedatectl_sync(t).unwrap();
        assert!(!s.synced);
        assert_eq!(s.line, 4);
        assert_eq!(timedatectl_now(t), Some(1795500000));
        assert!(timedatectl_sync("NTPSynchronized=yes\n").unwrap().synced);
        assert!(
            timedatectl_sync("      NTP synchronized: yes\n")
                .unwrap()
                .synced
        );
    }

    #[test]
    fn dates() {
        assert_eq!(
            date_output("Thu Dec 26 10:08:23 UTC 2019"),
            Some(1577354903)
        );
        assert_eq!(date_output("Thu Dec 26 10:08:23 CET 2019"), None);
        assert_eq!(
            date_output("Thu 26 Dec 10:08:23 GMT 2019"),
            Some(1577354903)
        );
        assert_eq!(
            date_any_zone("Thu  1 Jan 00:02:13 CET 1970"),
            Some((133, false))
        );
        assert_eq!(date_any_zone("Thu Dec 26 10:08:23 2019 UTC x"), None);
        let (nb, na) = openssl_dates(
            "notBefore=Nov 24 06:00:00 2026 GMT\nnotAfter=Nov 24 06:00:00 2027 GMT\n",
        );
        assert_eq!(nb, Some(1795500000));
        assert!(na.unwrap() > nb.unwrap());
        let (nb, _) = openssl_dates("            Not Before: Oct  1 20:18:00 2019 GMT\n");
        assert!(nb.is_some());
    }
}
