//! Secret redaction for every byte that enters a bundle.
//!
//! Two layers:
//! - **Structured files** (kubeconfigs, kubelet/kubeadm/k3s YAML, registries,
//!   containerd TOML, CNI and other JSON, systemd units and drop-ins, env
//!   files, `/etc/default/*`) are read by a small reader for their format and
//!   fail closed: a value is kept only when its key is on the allow-list in
//!   [`allow`]; every other value becomes `<redacted len=N>`.
//! - **Free text** (logs, command output, `--include`, and everything the
//!   structured readers keep) goes through [`Redactor`], which finds secrets
//!   by pattern and private keys by content, across line and buffer edges.
//!
//! See docs/bundle-format.md, section "Secrets".

pub mod allow;
mod env;
mod flow;
#[doc(hidden)]
pub mod fuzz;
mod shapes;
mod text;
mod toml;
mod yaml;

pub use text::{Redactor, KEY_BLOCK_MARK, LINE_CAP};

/// How a file's content is read for redaction.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    Text,
    Yaml,
    Json,
    Toml,
    Env,
    Unit,
    /// The whole content is one token (a k3s `token` file): withheld.
    Token,
}

/// Append the marker that replaces a secret of `len` bytes.
pub fn marker_into(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(b"<redacted len=");
    out.extend_from_slice(len.to_string().as_bytes());
    out.push(b'>');
}

pub fn marker(len: usize) -> Vec<u8> {
    let mut v = Vec::new();
    marker_into(&mut v, len);
    v
}

/// The reader for a host path (by name; content decides for `--include`).
pub fn format_for_path(p: &str) -> Format {
    let name = p.rsplit('/').next().unwrap_or(p);
    let dir = &p[..p.len() - name.len()];
    if dir.ends_with(".service.d/") || dir.ends_with(".socket.d/") {
        return Format::Unit;
    }
    if name.ends_with(".service") || name.ends_with(".socket") || name.ends_with(".timer") {
        return Format::Unit;
    }
    if name.ends_with(".yaml") || name.ends_with(".yml") || dir.ends_with("/config.yaml.d/") {
        return Format::Yaml;
    }
    // Also kubeconfigs without the extension: Calico's
    // `/etc/cni/net.d/calico-kubeconfig`, `multus.kubeconfig`.
    if name.contains("kubeconfig") {
        return Format::Yaml;
    }
    if dir.ends_with("/cni/net.d/") || dir.contains("/cni/") {
        return if name.ends_with(".conf") || name.ends_with(".conflist") || name.ends_with(".json")
        {
            Format::Json
        } else {
            Format::Text
        };
    }
    if name.ends_with(".json") || name.ends_with(".conflist") {
        return Format::Json;
    }
    if dir.starts_with("/etc/kubernetes/") && name.ends_with(".conf") {
        return Format::Yaml;
    }
    if name.ends_with(".toml")
        || name.ends_with(".toml.tmpl")
        || dir.starts_with("/etc/containerd/")
    {
        return Format::Toml;
    }
    if p == "/etc/crio/crio.conf" || dir.starts_with("/etc/crio/crio.conf.d/") {
        return Format::Toml;
    }
    if name.ends_with(".env")
        || dir == "/etc/default/"
        || dir == "/etc/sysconfig/"
        || p == "/etc/dphys-swapfile"
        || p == "/etc/environment"
    {
        return Format::Env;
    }
    Format::Text
}

/// The reader for a command's output, by command id.
pub fn format_for_command(id: &str) -> Format {
    if id.starts_with("systemctl-cat") {
        Format::Unit
    } else if id.starts_with(bundle::layout::cmd::CRICTL_INFO) {
        Format::Json
    } else {
        Format::Text
    }
}

/// Guess a structured format from content (for `--include` files).
pub fn sniff(data: &[u8]) -> Format {
    let head = &data[..data.len().min(4096)];
    let first = head
        .split(|b| *b == b'\n')
        .map(|l| {
            let t = l
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(l.len());
            &l[t..]
        })
        .find(|l| !l.is_empty() && !l.starts_with(b"#"));
    let t = data.trim_ascii();
    if data.len() < 4096 && t.len() >= 12 && !t.iter().any(u8::is_ascii_whitespace) {
        return Format::Token;
    }
    match first {
        Some(l) if l.starts_with(b"apiVersion:") || l.starts_with(b"kind:") => Format::Yaml,
        Some(l) if l.starts_with(b"[Unit]") || l.starts_with(b"[Service]") => Format::Unit,
        _ => Format::Text,
    }
}

/// Redact a whole structured file; returns the text and the number of values
/// withheld. The readers work on bytes, so a file with binary garbage (an SD
/// card after a power cut) is still read the same way.
pub fn structured(fmt: Format, data: &[u8]) -> (Vec<u8>, u64) {
    let first = data.iter().find(|b| !b.is_ascii_whitespace());
    if fmt == Format::Json && !matches!(first, Some(b'{' | b'[')) {
        // Not JSON after all (an error message, a cut): free text.
        return text(data);
    }
    let (out, n) = match fmt {
        Format::Text => return text(data),
        Format::Yaml => yaml::redact(data),
        Format::Json => flow::redact(data, true),
        Format::Toml => toml::redact(data),
        Format::Env => env::redact(data, false),
        Format::Unit => env::redact(data, true),
        Format::Token => {
            let t = data.trim_ascii();
            let mut v = marker(t.len());
            v.push(b'\n');
            return (v, 1);
        }
    };
    // Everything kept passes the free-text layer too.
    let mut r = Redactor::new();
    let out = r.text(&out);
    (out, n + r.count)
}

fn text(data: &[u8]) -> (Vec<u8>, u64) {
    let mut r = Redactor::new();
    let out = r.text(data);
    (out, r.count)
}

/// Redact one in-memory text: structured by `fmt`, else free text.
pub fn redact_all(fmt: Format, data: &[u8]) -> (Vec<u8>, u64) {
    structured(fmt, data)
}
