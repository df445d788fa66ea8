//! X.509 certificates from PEM files, DER files and kubeconfig `*-data`.

use x509_parser::prelude::*;

#[derive(Debug, Clone)]
pub struct Cert {
    pub file: String,
    pub subject: String,
    pub subject_cn: String,
    pub issuer: String,
    pub not_before: i64,
    pub not_after: i64,
    pub is_ca: bool,
    /// Subject alternative names: `DNS:name`, `IP:addr`.
    pub sans: Vec<String>,
    pub der: Vec<u8>,
}

impl Cert {
    /// `system:node:NAME` -> NAME
    pub fn node_name(&self) -> Option<&str> {
        self.subject_cn.strip_prefix("system:node:")
    }

    pub fn describe(&self) -> String {
        let sans = if self.sans.is_empty() {
            String::new()
        } else {
            format!(" SANs {}", self.sans.join(","))
        };
        format!(
            "subject {} issuer {}{sans} NotBefore {} NotAfter {}",
            self.subject,
            self.issuer,
            fmt_time(self.not_before),
            fmt_time(self.not_after)
        )
    }

    /// Does this certificate's signature verify with `ca`'s public key?
    pub fn signed_by(&self, ca: &Cert) -> bool {
        let (Ok((_, c)), Ok((_, ca))) = (
            parse_x509_certificate(&self.der),
            parse_x509_certificate(&ca.der),
        ) else {
            return false;
        };
        c.verify_signature(Some(ca.public_key())).is_ok()
    }
}

pub fn fmt_time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| t.to_string())
}

/// A certificate block larger than this is refused unparsed: real ones are a
/// few KiB, and a parsed certificate's names take several times its size.
pub const MAX_DER: usize = 64 << 10;
/// Subject alternative names kept per certificate; the rest are counted.
pub const MAX_SANS: usize = 64;
/// Characters kept of a subject or issuer name.
pub const MAX_NAME: usize = 512;

/// `s` cut to at most `max` bytes at a character boundary, marked when cut.
fn clip(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

fn san(n: &GeneralName) -> Option<String> {
    match n {
        GeneralName::DNSName(d) => Some(format!("DNS:{d}")),
        GeneralName::IPAddress(b) if b.len() == 4 => Some(format!(
            "IP:{}",
            std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3])
        )),
        GeneralName::IPAddress(b) if b.len() == 16 => <[u8; 16]>::try_from(*b)
            .ok()
            .map(|a| format!("IP:{}", std::net::Ipv6Addr::from(a))),
        _ => None,
    }
}

fn from_der(file: &str, der: &[u8]) -> Option<Cert> {
    if der.len() > MAX_DER {
        let msg = format!(
            "a certificate of {} bytes, over the limit of {} KiB",
            der.len(),
            MAX_DER >> 10
        );
        crate::structured::note(file, msg);
        return None;
    }
    let (rest, c) = parse_x509_certificate(der).ok()?;
    let cn = c
        .subject()
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
        .unwrap_or("")
        .to_string();
    let names = match c.subject_alternative_name() {
        Ok(Some(ext)) => &ext.value.general_names[..],
        _ => &[],
    };
    if names.len() > MAX_SANS {
        let msg = format!(
            "{} of a certificate's {} subject alternative names (the first {MAX_SANS} were kept)",
            names.len() - MAX_SANS,
            names.len()
        );
        crate::structured::note(file, msg);
    }
    Some(Cert {
        file: file.to_string(),
        subject: clip(c.subject().to_string(), MAX_NAME),
        subject_cn: clip(cn, MAX_NAME),
        issuer: clip(c.issuer().to_string(), MAX_NAME),
        not_before: c.validity().not_before.timestamp(),
        not_after: c.validity().not_after.timestamp(),
        is_ca: c.is_ca(),
        sans: names.iter().take(MAX_SANS).filter_map(san).collect(),
        der: der[..der.len() - rest.len()].to_vec(),
    })
}

/// Certificate blocks parsed from one file (a bundle holds a few per file).
pub const MAX_PER_FILE: usize = 32;

/// Every certificate in a PEM bundle or DER file. Malformed blocks are skipped
/// and counted.
pub fn parse(file: &str, data: &[u8]) -> (Vec<Cert>, usize) {
    parse_at_most(file, data, MAX_PER_FILE)
}

/// Like [`parse`], stopping silently after `max` certificates (the caller's
/// budget, which the caller reports).
pub fn parse_at_most(file: &str, data: &[u8], max: usize) -> (Vec<Cert>, usize) {
    let mut out = Vec::new();
    let mut bad = 0;
    if max == 0 {
        return (out, bad);
    }
    if data.starts_with(&[0x30, 0x82]) || data.starts_with(&[0x30, 0x81]) {
        match from_der(file, data) {
            Some(c) => out.push(c),
            None => bad += 1,
        }
        return (out, bad);
    }
    for pem in Pem::iter_from_buffer(data) {
        if out.len() >= max {
            break;
        }
        if out.len() + bad >= MAX_PER_FILE {
            crate::structured::note(
                file,
                format!("more than {MAX_PER_FILE} certificate blocks; the rest were not parsed"),
            );
            break;
        }
        match pem {
            Ok(p) if p.label == "CERTIFICATE" => match from_der(file, &p.contents) {
                Some(c) => out.push(c),
                None => bad += 1,
            },
            Ok(_) => {}
            Err(_) => {
                bad += 1;
                break;
            }
        }
    }
    (out, bad)
}

pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' | b'\n' | b'\r' | b' ' => continue,
            _ => return None,
        } as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_certificates() {
        let c = testkit::kubelet_certs("pi-1", 1_795_000_000, 1_826_000_000);
        let (certs, bad) = parse("x.pem", c.combined().as_bytes());
        assert_eq!((certs.len(), bad), (1, 0));
        assert_eq!(certs[0].node_name(), Some("pi-1"));
        assert_eq!(certs[0].not_before, 1_795_000_000);
        let (ca, _) = parse("ca.crt", c.ca_pem.as_bytes());
        assert!(ca[0].is_ca && certs[0].signed_by(&ca[0]));
        let other = testkit::kubelet_certs("pi-1", 1_795_000_000, 1_826_000_000);
        let (other_ca, _) = parse("old-ca.crt", other.ca_pem.as_bytes());
        assert!(!certs[0].signed_by(&other_ca[0]), "same DN, different key");
    }

    #[test]
    fn sans_are_recorded() {
        let (pem, _) = testkit::server_cert();
        let (c, _) = parse("srv.crt", pem.as_bytes());
        assert_eq!(
            c[0].sans,
            vec!["DNS:localhost".to_string(), "IP:127.0.0.1".to_string()]
        );
        assert!(c[0].describe().contains("SANs DNS:localhost,IP:127.0.0.1"));
    }

    #[test]
    fn malformed_pem_is_counted_not_fatal() {
        let (certs, bad) = parse(
            "x.pem",
            b"-----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----\n",
        );
        assert!(certs.is_empty() && bad >= 1);
        let (certs, bad) = parse("x.der", &[0x30, 0x82, 0xff, 0xff, 1, 2, 3]);
        assert!(certs.is_empty() && bad == 1);
    }

    #[test]
    fn b64() {
        assert_eq!(
            base64_decode(&testkit::base64(b"hello world")).unwrap(),
            b"hello world"
        );
    }
}
