//! Secrets in free text found by their shape or by the command they are given
//! to, not by a key name: password hashes (`pi:$6$salt$hash`, `{SSHA}...`),
//! passwords piped into `chpasswd` or a `--password-stdin` login, the
//! password arguments of `sshpass`, `mysql`, `redis-cli`, `htpasswd`,
//! `wpa_passphrase`, `nmcli`, `cloudflared` and the Pi Imager's `set_wlan`,
//! and `.netrc` `password VALUE`.

use super::allow::secret_name;
use super::text::find;

pub(super) type Spans = Vec<(usize, usize, bool)>;

/// crypt(3) and passlib hash ids, as in `$id$`.
const CRYPT_IDS: &[&[u8]] = &[
    b"1",
    b"2a",
    b"2b",
    b"2x",
    b"2y",
    b"5",
    b"6",
    b"7",
    b"y",
    b"gy",
    b"sha1",
    b"md5",
    b"apr1",
    b"argon2i",
    b"argon2d",
    b"argon2id",
    b"scrypt",
    b"pbkdf2",
    b"pbkdf2-sha256",
    b"pbkdf2-sha512",
];

/// LDAP / htpasswd scheme prefixes, as in `{SSHA}base64`.
const SCHEMES: &[&[u8]] = &[
    b"SHA",
    b"SSHA",
    b"SHA256",
    b"SSHA256",
    b"SHA512",
    b"SSHA512",
    b"MD5",
    b"SMD5",
    b"CRYPT",
    b"PBKDF2",
    b"PBKDF2-SHA256",
    b"PBKDF2-SHA512",
    b"ARGON2",
];

fn hash_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'$' | b'=' | b',' | b'+' | b'-')
}

/// Password hashes: `$6$salt$hash`, `$y$j9T$...`, `$2y$05$...`,
/// `$apr1$...`, `{SSHA}...`. A hash is as good as the password to an
/// offline attack, so it never leaves the node.
pub(super) fn password_hashes(line: &[u8], from: usize, spans: &mut Spans) {
    let n = line.len();
    let mut i = from;
    while i < n {
        let (open, close) = match line[i] {
            b'$' => (b'$', b'$'),
            b'{' => (b'{', b'}'),
            _ => {
                i += 1;
                continue;
            }
        };
        let rest = &line[i + 1..];
        let id_len = rest
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
            .count();
        let id = &rest[..id_len];
        let known = if open == b'$' {
            CRYPT_IDS.contains(&id)
        } else {
            SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(id))
        };
        if known && rest.get(id_len) == Some(&close) {
            let body = i + 2 + id_len;
            let e = body + line[body..].iter().take_while(|b| hash_char(**b)).count();
            if e - body >= 8 {
                spans.push((i, e, false));
                i = e;
                continue;
            }
        }
        i += 1;
    }
}

/// Shell-like words from `from` on: (start, end) with quotes included;
/// `|`, `;` and `&&` are words of their own.
fn words(line: &[u8], from: usize) -> Vec<(usize, usize)> {
    let n = line.len();
    let mut v = Vec::new();
    let mut i = from;
    while i < n {
        let b = line[i];
        if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
            continue;
        }
        if matches!(b, b'|' | b';' | b'&') {
            let e = i + line[i..].iter().take_while(|c| **c == b).count();
            v.push((i, e));
            i = e;
            continue;
        }
        let s = i;
        let mut q: Option<u8> = None;
        while i < n {
            let c = line[i];
            match q {
                Some(x) if c == x => q = None,
                Some(_) => {}
                None if matches!(c, b'"' | b'\'') => q = Some(c),
                None if matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'|' | b';' | b'&') => break,
                None => {}
            }
            i += 1;
        }
        v.push((s, i));
    }
    v
}

/// A word's value without its enclosing quotes.
fn unquote(line: &[u8], (s, e): (usize, usize)) -> (usize, usize) {
    if e - s >= 2 && matches!(line[s], b'"' | b'\'') && line[e - 1] == line[s] {
        (s + 1, e - 1)
    } else {
        (s, e)
    }
}

fn is_sep(w: &[u8]) -> bool {
    matches!(w.first(), Some(b'|' | b';' | b'&'))
}

fn program(w: &[u8]) -> &[u8] {
    let w = w.rsplit(|b| *b == b'/').next().unwrap_or(w);
    w.strip_suffix(b"'").unwrap_or(w)
}

/// Push a word's value as a span (not when it is a variable or empty).
fn push(line: &[u8], w: (usize, usize), spans: &mut Spans) {
    let (s, e) = unquote(line, w);
    let v = &line[s..e];
    if !v.is_empty() && !v.starts_with(b"$") && !v.starts_with(b"<redacted") {
        spans.push((s, e, false));
    }
}

/// Passwords given to commands by position, by a short flag or on a pipe.
pub(super) fn command_secrets(line: &[u8], from: usize, spans: &mut Spans) {
    command_secrets_in(line, from, 2, spans);
}

/// The commands in `line[from..]`, and (`depth` levels down) in quoted
/// words that are command lines themselves: `bash -c "echo pi:pw | chpasswd"`,
/// `ssh pi@h 'sshpass -p pw ...'`.
fn command_secrets_in(line: &[u8], from: usize, depth: u8, spans: &mut Spans) {
    let ws = words(line, from);
    let text = |w: (usize, usize)| &line[w.0..w.1];
    if depth > 0 {
        for w in &ws {
            let (s, e) = unquote(line, *w);
            if (s, e) != *w && line[s..e].contains(&b' ') {
                command_secrets_in(&line[..e], s, depth - 1, spans);
            }
        }
    }
    let piped = ws.iter().any(|w| {
        let t = text(*w);
        program(t) == b"chpasswd"
            || t.ends_with(b"password-stdin")
            || matches!(t, b"--stdin" | b"-stdin" | b"--password-fd")
    });
    let mut k = 0;
    while k < ws.len() {
        // The command in this segment: its program and arguments.
        let end = k + ws[k..].iter().take_while(|w| !is_sep(text(**w))).count();
        let seg = &ws[k..end];
        let into = piped && ws.get(end).is_some_and(|w| line[w.0] == b'|');
        command(line, seg, into, spans);
        k = end + 1;
    }
    if piped {
        // `chpasswd <<< 'pi:pw'`, `docker login --password-stdin <<< "$PW"`.
        for (i, w) in ws.iter().enumerate() {
            if text(*w) == b"<<<" {
                if let Some(v) = ws.get(i + 1) {
                    push(line, *v, spans);
                }
            }
        }
    }
}

/// Programs that take a password as a short flag's value: (program, flag,
/// whether the value may be glued to the flag as in `-pSECRET`).
const PASSWORD_FLAGS: &[(&[u8], &[u8], bool)] = &[
    (b"sshpass", b"-p", true),
    (b"redis-cli", b"-a", false),
    (b"useradd", b"-p", false),
    (b"usermod", b"-p", false),
    (b"mosquitto_pub", b"-P", false),
    (b"mosquitto_sub", b"-P", false),
    (b"mosquitto_rr", b"-P", false),
    (b"ssh-keygen", b"-N", false),
    (b"ssh-keygen", b"-P", false),
    (b"openssl", b"-k", false),
    (b"zip", b"-P", false),
    (b"unzip", b"-P", false),
    (b"7z", b"-p", true),
    (b"7za", b"-p", true),
    (b"pihole", b"-p", false),
    (b"x11vnc", b"-storepasswd", false),
];

/// Registry clients whose `login` takes `-p PASSWORD`.
const LOGINS: &[&[u8]] = &[
    b"docker", b"nerdctl", b"podman", b"crane", b"helm", b"oras", b"buildah", b"skopeo", b"regctl",
];

/// The program of a simple command and where its arguments start. Skips
/// `sudo`, `env` and `NAME=value` prefixes; a unit's
/// `ExecStart=-/usr/bin/prog` and sudo's log `COMMAND=/usr/bin/prog` name
/// their program after the `=`.
fn head<'l>(line: &'l [u8], seg: &[(usize, usize)]) -> Option<(&'l [u8], usize)> {
    let p = seg.iter().position(|w| {
        let t = &line[w.0..w.1];
        let prefix = matches!(t, b"sudo" | b"env" | b"+" | b"-" | b"$" | b"#");
        let assign = t.contains(&b'=') && !t.starts_with(b"-") && !runs(t);
        !prefix && !assign
    })?;
    let first = &line[seg[p].0..seg[p].1];
    let first = match first.iter().position(|b| *b == b'=') {
        Some(i) if runs(first) => first[i + 1..].trim_ascii_start(),
        _ => first,
    };
    let skip = first
        .iter()
        .take_while(|b| matches!(b, b'-' | b'@' | b'+' | b'!' | b'$' | b'(' | b'`'))
        .count();
    Some((program(&first[skip..]), p + 1))
}

/// `ExecStart=...`, `COMMAND=...`: a command line follows the `=`.
fn runs(t: &[u8]) -> bool {
    t.starts_with(b"Exec") || t.starts_with(b"COMMAND=") || t.starts_with(b"CMD=")
}

/// One simple command (`seg`, its words); `into_login` when its output is
/// piped into `chpasswd` or a `--password-stdin` login.
fn command(line: &[u8], seg: &[(usize, usize)], into_login: bool, spans: &mut Spans) {
    let text = |w: (usize, usize)| &line[w.0..w.1];
    let Some((prog, a)) = head(line, seg) else {
        return;
    };
    let args = &seg[a..];
    let positional: Vec<(usize, usize)> = args
        .iter()
        .copied()
        .filter(|w| !text(*w).starts_with(b"-"))
        .collect();
    let nth = |i: usize, spans: &mut Spans| {
        positional
            .get(i)
            .iter()
            .for_each(|w| push(line, **w, spans));
    };
    for (p, flag, glued) in PASSWORD_FLAGS {
        if *p == prog {
            flag_value(line, args, flag, *glued, spans);
        }
    }
    match prog {
        b"echo" | b"printf" if into_login => positional.iter().for_each(|w| push(line, *w, spans)),
        _ if LOGINS.contains(&prog) && positional.iter().any(|w| text(*w) == b"login") => {
            flag_value(line, args, b"-p", false, spans);
        }
        // `ctr pull -u bob:PW`, `etcdctl --user root:PW`: after the colon.
        b"ctr" | b"crictl" | b"etcdctl" => user_flag(line, args, b':', spans),
        // The same through k3s and rke2's multi-call binary: `k3s ctr i pull -u bob:PW`.
        b"k3s" | b"rke2"
            if positional
                .first()
                .is_some_and(|w| matches!(text(*w), b"ctr" | b"crictl")) =>
        {
            user_flag(line, args, b':', spans);
        }
        // `smbclient -U pi%PW`
        b"smbclient" | b"rpcclient" | b"smbcacls" | b"smbget" => user_flag(line, args, b'%', spans),
        b"mysql" | b"mysqldump" | b"mysqladmin" | b"mariadb" => {
            // `-pSECRET` (a lone `-p` prompts).
            for w in args {
                let t = text(*w);
                if t.len() > 2 && t.starts_with(b"-p") && t[2] != b'-' {
                    push(line, (w.0 + 2, w.1), spans);
                }
            }
        }
        b"htpasswd" => {
            let batch = args.iter().any(|w| {
                let t = text(*w);
                t.starts_with(b"-") && !t.starts_with(b"--") && t.contains(&b'b')
            });
            if batch && positional.len() >= 2 {
                nth(positional.len() - 1, spans);
            }
        }
        // `cloudflared service install TOKEN`
        b"cloudflared" => {
            if let Some(i) = positional.iter().position(|w| text(*w) == b"install") {
                nth(i + 1, spans);
            }
        }
        b"wpa_passphrase" => nth(1, spans),
        _ if admin_tool(line, prog, &positional, spans) => {}
        // `imager_custom set_wlan [-h] [-p] SSID PASS [COUNTRY]`
        b"imager_custom" if positional.first().map(|w| text(*w)) == Some(b"set_wlan") => {
            nth(2, spans);
        }
        // `nmcli dev wifi connect SSID password PW`, `wifi-sec.psk PW`.
        b"nmcli" => {
            for (i, w) in args.iter().enumerate() {
                if secret_name(text(*w)) {
                    args.get(i + 1).iter().for_each(|v| push(line, **v, spans));
                }
            }
        }
        _ => {}
    }
}

/// Admin tools with a password among their positional arguments; true when
/// `prog` is one of them.
fn admin_tool(line: &[u8], prog: &[u8], pos: &[(usize, usize)], spans: &mut Spans) -> bool {
    let text = |i: usize| pos.get(i).map(|w| &line[w.0..w.1]);
    // The `n` positional words after `word`, skipping `skip` of them.
    let after = |word: &[u8], skip: usize, n: usize, spans: &mut Spans| {
        if let Some(i) = (0..pos.len()).find(|i| text(*i) == Some(word)) {
            for k in 1 + skip..=skip + n {
                pos.get(i + k).iter().for_each(|w| push(line, **w, spans));
            }
        }
    };
    match prog {
        // `raspi-config nonint do_wifi_ssid_passphrase SSID PASS`
        b"raspi-config" => after(b"do_wifi_ssid_passphrase", 1, 1, spans),
        // `wpa_cli set_network 0 psk '"PASS"'`, `... password '"PASS"'`
        b"wpa_cli" => {
            for i in 0..pos.len() {
                if text(i).is_some_and(secret_name) {
                    pos.get(i + 1).iter().for_each(|w| push(line, **w, spans));
                }
            }
        }
        // `openssl passwd -6 PASS`, `mkpasswd -m sha-512 PASS`
        b"openssl" if text(0) == Some(b"passwd") => {
            pos.get(1..)
                .unwrap_or(&[])
                .iter()
                .for_each(|w| push(line, *w, spans));
        }
        b"mkpasswd" => pos.iter().for_each(|w| push(line, *w, spans)),
        // `mc alias set NAME URL ACCESS SECRET`, `mc config host add ...`
        b"mc" => {
            after(b"set", 2, 2, spans);
            after(b"add", 2, 2, spans);
        }
        // Pi-hole's web password: `pihole setpassword PASS` (`-a -p PASS`
        // is in PASSWORD_FLAGS).
        b"pihole" => after(b"setpassword", 0, 1, spans),
        _ => return false,
    }
    true
}

/// `-u USER:PW` / `--user USER:PW` / `--user=USER:PW`: the part after `sep`.
fn user_flag(line: &[u8], args: &[(usize, usize)], sep: u8, spans: &mut Spans) {
    for (i, w) in args.iter().enumerate() {
        let t = &line[w.0..w.1];
        if matches!(t, b"-u" | b"-U" | b"--user") {
            args.get(i + 1)
                .iter()
                .for_each(|v| after(line, **v, sep, spans));
        } else if t.starts_with(b"--user=") {
            after(line, (w.0 + 7, w.1), sep, spans);
        }
    }
}

/// The part of a word after `sep` (`bob:PW`), if any.
fn after(line: &[u8], w: (usize, usize), sep: u8, spans: &mut Spans) {
    let (s, e) = unquote(line, w);
    if let Some(i) = line[s..e].iter().position(|b| *b == sep) {
        push(line, (s + i + 1, e), spans);
    }
}

/// The value of a short flag: `-p VALUE`, and when `glued`, `-pVALUE`.
fn flag_value(line: &[u8], args: &[(usize, usize)], flag: &[u8], glued: bool, spans: &mut Spans) {
    for (i, w) in args.iter().enumerate() {
        let t = &line[w.0..w.1];
        if t == flag {
            if let Some(v) = args.get(i + 1) {
                push(line, *v, spans);
            }
        } else if glued && t.len() > flag.len() && t.starts_with(flag) {
            push(line, (w.0 + flag.len(), w.1), spans);
        }
    }
}

/// `.netrc`: `password VALUE` separated by blanks only, on a line with
/// `machine`, or after a line that starts with `machine` (`netrc`, kept by
/// the caller). Returns whether this line starts with `machine`.
pub(super) fn netrc_password(line: &[u8], from: usize, netrc: bool, spans: &mut Spans) -> bool {
    let ws = words(line, from);
    let text = |w: (usize, usize)| &line[w.0..w.1];
    let lead = usize::from(ws.first().is_some_and(|w| text(*w) == b"-"));
    let starts = ws.get(lead).is_some_and(|w| text(*w) == b"machine") && ws.len() >= lead + 2;
    let netrc = netrc || ws.iter().any(|w| text(*w) == b"machine");
    if !netrc {
        return false;
    }
    for (i, w) in ws.iter().enumerate() {
        let t = text(*w);
        let named = t == b"password" || t == b"passwd" || t == b"account";
        match ws.get(i + 1) {
            Some(v) if named && !is_sep(text(*v)) => push(line, *v, spans),
            _ => {}
        }
    }
    starts
}

/// Config keywords that take a secret as their one argument.
const SECRET_KEYWORDS: &[&[u8]] = &[
    b"requirepass",
    b"masterauth",
    b"rocommunity",
    b"rwcommunity",
    b"rocommunity6",
    b"rwcommunity6",
    b"PSK",
    b"EAP",
    b"XAUTH",
];

/// Config files of the `keyword VALUE` kind: a secret-named identifier
/// (`auth_pass`, `insecure-password`, `requirepass`, ipsec `: PSK "..."`)
/// followed by the line's last word. Plain words (`password kubelet`) are prose.
pub(super) fn keyword_value(line: &[u8], from: usize, spans: &mut Spans) {
    let ws = words(line, from);
    let text = |w: (usize, usize)| &line[w.0..w.1];
    for (i, k) in ws.iter().enumerate() {
        let t = text(*k);
        let Some(v) = ws.get(i + 1) else {
            break;
        };
        let named = i + 2 == ws.len()
            && !t.starts_with(b"-")
            && secret_name(t)
            && t.iter().any(|b| matches!(b, b'_' | b'-'))
            && t.iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
        // ntpd's `crypto ... pw PASSWORD` (the key password, anywhere on
        // the `crypto` line).
        let ntp_pw = t == b"pw" && ws.first().map(|w| text(*w)) == Some(&b"crypto"[..]);
        if (named || ntp_pw || SECRET_KEYWORDS.contains(&t)) && !is_sep(text(*v)) {
            push(line, *v, spans);
        }
    }
}

/// YAML in a JSON string (`"manifest":"kind: Secret\ndata:\n  pw: X\n"`):
/// the values of the escaped lines under `data:`/`stringData:` from `j` on.
/// Returns where the map ends.
pub(super) fn escaped_data_map(line: &[u8], mut j: usize, spans: &mut Spans) -> usize {
    while line[j..].starts_with(b"\\n  ") {
        j += 2;
        let key = &line[j..line.len().min(j + 256)];
        let Some(c) = key.windows(2).position(|w| w == b": ") else {
            return j;
        };
        let vs = j + c + 2;
        let ve = vs
            + line[vs..]
                .iter()
                .take_while(|b| !matches!(b, b'\\' | b'"'))
                .count();
        if ve > vs {
            spans.push((vs, ve, false));
        }
        j = ve;
    }
    j
}

/// Tokens in URL paths: Slack and Discord webhooks, Telegram bot tokens.
const PATH_TOKENS: &[&[u8]] = &[
    b"hooks.slack.com/services/",
    b"hooks.slack.com/workflows/",
    b"/api/webhooks/",
    b"api.telegram.org/bot",
];

pub(super) fn url_path_tokens(line: &[u8], from: usize, spans: &mut Spans) {
    for m in PATH_TOKENS {
        let mut at = from;
        while let Some(p) = find(&line[at..], m) {
            let s = at + p + m.len();
            let e = s + line[s..]
                .iter()
                .take_while(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'/' | b':' | b'_' | b'-' | b'.')
                })
                .count();
            if e - s >= 8 {
                spans.push((s, e, false));
            }
            at = s;
        }
    }
}

/// User info without a scheme: `http_proxy=user:pass@proxy:3128`,
/// `user:pass@host`. The password is withheld. Image references
/// (`pause:3.9@sha256:...`) and paths (`/a:b@c`) are not user info.
pub(super) fn bare_userinfo(line: &[u8], from: usize, spans: &mut Spans) {
    let stop = |b: u8| {
        b.is_ascii_whitespace()
            || matches!(
                b,
                b'"' | b'\'' | b'=' | b'/' | b'@' | b',' | b';' | b'(' | b'<' | b'['
            )
    };
    for a in (from..line.len()).filter(|i| line[*i] == b'@') {
        let s = a - line[from..a]
            .iter()
            .rev()
            .take_while(|b| !stop(**b))
            .count();
        if s > 0 && line[s - 1] == b'/' {
            continue;
        }
        let Some(c) = line[s..a].iter().position(|b| *b == b':').map(|c| s + c) else {
            continue;
        };
        let user_ok = c > s
            && line[s..c].iter().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
            });
        let h = a + 1;
        let he = h + line[h..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
            .count();
        let host = &line[h..he];
        // Go SQL DSNs: `user:pass@tcp(host:3306)/db`, `@unix(/path)`.
        let dsn =
            matches!(host, b"tcp" | b"tcp6" | b"udp" | b"unix") && line.get(he) == Some(&b'(');
        let hostish = host.contains(&b'.') || line.get(he) == Some(&b':') || dsn;
        let digest = host.starts_with(b"sha") || host.starts_with(b"blake");
        if user_ok && c + 1 < a && hostish && !digest {
            spans.push((c + 1, a, false));
        }
    }
}

/// Values that are secret whatever their name: systemd credentials
/// (`systemd.set_credential=NAME:VALUE` and `_binary` on the kernel command
/// line, `SetCredential=NAME:VALUE` in units) and `kubectl create secret
/// --from-literal=KEY=VALUE`. The name or key is kept.
pub(super) fn named_values(line: &[u8], from: usize, spans: &mut Spans) {
    let ws = words(line, from);
    for (i, &(s, e)) in ws.iter().enumerate() {
        let w = &line[s..e];
        let lower = w.to_ascii_lowercase();
        let cred = find(&lower, b"set_credential").or_else(|| find(&lower, b"setcredential"));
        let (after, sep) = if let Some(c) = cred {
            match w[c..].iter().position(|b| *b == b'=') {
                Some(q) => (c + q + 1, b':'),
                None => continue,
            }
        } else if lower.starts_with(b"--from-literal") {
            match w.get(14) {
                Some(b'=') => (15, b'='),
                None => match ws.get(i + 1) {
                    Some(&(ns, ne)) => {
                        value_after_sep(line, (ns, ne), 0, b'=', spans);
                        continue;
                    }
                    None => continue,
                },
                _ => continue,
            }
        } else {
            continue;
        };
        value_after_sep(line, (s, e), after, sep, spans);
    }
}

/// In word `w`, from `after` on: withhold what follows the first `sep`
/// (quotes around the whole word or the value are left outside).
fn value_after_sep(line: &[u8], (s, e): (usize, usize), after: usize, sep: u8, spans: &mut Spans) {
    let (us, ue) = unquote(line, (s, e));
    let from = (s + after).max(us);
    let Some(c) = line[from..ue].iter().position(|b| *b == sep) else {
        return;
    };
    let vs = from + c + 1;
    let (vs, ve) = unquote(line, (vs, ue));
    if ve > vs && !line[vs..ve].starts_with(b"$") && !line[vs..ve].starts_with(b"<redacted") {
        spans.push((vs, ve, false));
    }
}

/// XML elements named for a secret: `<password>x</password>`,
/// `<Password>x</Password>`, `<ns:token>x</ns:token>`.
pub(super) fn xml_values(line: &[u8], from: usize, spans: &mut Spans) {
    let mut i = from;
    while let Some(p) = line[i..].iter().position(|b| *b == b'<') {
        let s = i + p + 1;
        let name = s + line[s..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':' | b'.'))
            .count();
        i = s;
        if name == s || !secret_name(&line[s..name]) {
            continue;
        }
        // `<wsse:Password Type="...">`: attributes up to the `>`.
        let attrs = &line[name..line.len().min(name + 256)];
        let Some(gt) = attrs.iter().position(|b| *b == b'>').map(|p| name + p) else {
            continue;
        };
        if !(gt == name || line[name] == b' ') || line[gt - 1] == b'/' {
            continue;
        }
        let vs = gt + 1;
        let ve = vs + line[vs..].iter().take_while(|b| **b != b'<').count();
        if !line[vs..ve].trim_ascii().is_empty() {
            spans.push((vs, ve, false));
        }
        i = ve;
    }
}

/// The private members of a JSON Web Key (`"d"`, `"p"`, `"q"`, `"dp"`,
/// `"dq"`, `"qi"`, and `"k"` of a symmetric key): base64url of 16 or more.
pub(super) fn jwk_private(line: &[u8], from: usize, spans: &mut Spans) {
    for m in [
        &b"\"d\""[..],
        b"\"p\"",
        b"\"q\"",
        b"\"dp\"",
        b"\"dq\"",
        b"\"qi\"",
        b"\"k\"",
    ] {
        let mut at = from;
        while let Some(p) = find(&line[at..], m) {
            let mut j = at + p + m.len();
            at = j;
            while line.get(j).is_some_and(|b| matches!(b, b' ' | b':')) {
                j += 1;
            }
            if line.get(j) != Some(&b'"') || !line[at..j].contains(&b':') {
                continue;
            }
            let vs = j + 1;
            let n = line[vs..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
                .count();
            if n >= 16 && line.get(vs + n) == Some(&b'"') {
                spans.push((vs, vs + n, false));
            }
        }
    }
}

/// `--token-auth-file` and k3s `cred/passwd` lines: `TOKEN,user,uid[,...]`
/// (the token field first, two or more fields after it).
pub(super) fn token_csv(line: &[u8], mut at: usize, spans: &mut Spans) {
    if line[at..].starts_with(b"- ") {
        at += 2;
    }
    let t = line[at..].trim_ascii_end();
    let Some(c) = t.iter().position(|b| *b == b',') else {
        return;
    };
    let first = &t[..c];
    let fields = t.iter().filter(|b| **b == b',').count() + 1;
    let tokenish = first
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    let digit = first.iter().any(u8::is_ascii_digit);
    if fields >= 3
        && tokenish
        && (first.len() >= 16 || first.len() >= 8 && digit)
        && !t.contains(&b' ')
    {
        spans.push((at, at + c, false));
    }
}

/// Lines that announce whole lines of secret after them: PuTTY `.ppk`
/// `Private-Lines: N`, OpenVPN's inline `<auth-user-pass>` (user, password).
pub(super) fn secret_lines(line: &[u8]) -> Option<u32> {
    let t = line.trim_ascii();
    let t = t.strip_prefix(b"- ").unwrap_or(t);
    if t == b"<auth-user-pass>" {
        return Some(2);
    }
    // `chpasswd <<EOF` then `user:password` lines (a few; fail closed).
    let heredoc = find(t, b"<<").is_some() && find(t, b"<<<").is_none();
    if heredoc && find(t, b"chpasswd").is_some() {
        return Some(3);
    }
    let rest = t.strip_prefix(b"Private-Lines:")?;
    let n: u32 = std::str::from_utf8(rest.trim_ascii()).ok()?.parse().ok()?;
    Some(n.min(256))
}

#[cfg(test)]
mod tests {
    use super::super::Redactor;

    fn r(s: &str) -> String {
        String::from_utf8(Redactor::new().text(s.as_bytes())).unwrap()
    }

    #[test]
    fn hashes_and_commands() {
        let cases = [
            "pi:$6$rounds=656000$saltsalt$Zq1hashhashhash/",
            "pi:$y$j9T$saltsaltsalt$Zq1hashhashhash:19700:0:99999:7:::",
            "admin:$apr1$abcdefgh$Zq1hashhash",
            "bob:{SSHA}Zq1hashhashhash==",
            "echo 'pi:Zq1plainpw' | sudo chpasswd",
            "echo \"$U:\"'Zq1hashhashhash' | chpasswd -e",
            "echo Zq1plainpw | docker login -u bob --password-stdin r.local",
            "printf '%s' 'Zq1plainpw' | helm registry login r --password-stdin",
            "chpasswd <<< 'pi:Zq1plainpw'",
            "sshpass -p 'Zq1plainpw' ssh pi@10.0.0.21",
            "sshpass -pZq1plainpw ssh pi@h",
            "mysql -u root -pZq1plainpw k3s",
            "redis-cli -h 10.0.0.30 -a Zq1plainpw ping",
            "htpasswd -bc /etc/nginx/.htpasswd admin Zq1plainpw",
            "wpa_passphrase MyWiFi Zq1plainpw",
            "/usr/lib/raspberrypi-sys-mods/imager_custom set_wlan -h 'MyWiFi' 'Zq1plainpw' 'GB'",
            "nmcli dev wifi connect MyWiFi password Zq1plainpw",
            "machine github.com\tlogin pi\tpassword\tZq1plainpw",
            "machine github.com\n  login pi\n  password Zq1plainpw",
        ];
        for c in cases {
            let o = r(c);
            assert!(!o.contains("Zq1"), "{c}\n -> {o}");
        }
        // Public words stay.
        let keep = [
            "Nov 24 pi sshd[1]: Failed password for pi from 10.0.0.5 port 22 ssh2",
            "password kubelet",
            "awk '{print $1}' | sort",
            "echo hello | grep h",
            "mysql -u root -p k3s",
            "imager_custom set_wlan 'MyWiFi'",
        ];
        for c in keep {
            assert_eq!(r(c), c);
        }
        assert!(r("wpa_passphrase MyWiFi Zq1plainpw").contains("MyWiFi"));
    }

    #[test]
    fn secret_maps_escapes_and_vendor_tokens() {
        let cases = [
            // A Secret's data and a secret-named container's children.
            "data:\n  DB_URL: Zq1value\n  config.json: Zq1value2\nkind: Secret",
            "{\n  \"data\": {\n    \"db-url\": \"Zq1value\"\n  },\n  \"kind\": \"Secret\"\n}",
            "{\"apiVersion\":\"v1\",\"data\":{\"DB_URL\":\"Zq1value\"},\"kind\":\"Secret\"}",
            "stringData:\n  url: postgres-Zq1value",
            "chpasswd:\n  list: |\n    pi:Zq1value\n  expire: false",
            "PuTTY-User-Key-File-3: ssh-ed25519\nPrivate-Lines: 2\nAAAAZq1value\nAAAAZq1value2\nPrivate-MAC: 4f4b",
            // Escaped twice, fullwidth colon.
            "msg=\"{\\\\\\\"password\\\\\\\":\\\\\\\"Zq1value\\\\\\\"}\"",
            "password\u{ff1a}Zq1value",
            // Names: signatures, auth keys, numbered keys.
            "GET /o?X-Amz-Signature=Zq1value&sig=Zq1value2",
            "tailscale up --authkey=Zq1value",
            "\twep_key0=\"Zq1value\"",
            "\"private_key_id\": \"Zq1value\"",
            // Vendor shapes.
            "charge sk_live_Zq1value0123456789ab",
            "slack xoxe.xoxp-1-Zq1value0123456789",
            "AGE-SECRET-KEY-1QQPZRY9X8GF2TVDW0S3JN54KHCE6MUA7LZq1",
            "runner glrt-Zq1value0123456789ab",
            "1 SHA1 HEX:Zq1value0123",
        ];
        for c in cases {
            let o = r(c);
            assert!(!o.contains("Zq1"), "{c}\n -> {o}");
        }
        let o = r("data:\n  DB_URL: Zq1value\nkind: Secret\nmetadata:\n  name: db");
        assert!(
            o.contains("DB_URL: <redacted") && o.contains("kind: Secret") && o.contains("name: db"),
            "{o}"
        );
        let o = r(
            "bootstrapToken:\n  apiServerEndpoint: 10.0.0.10:6443\n  caCertHashes:\n  - sha256:abc",
        );
        assert!(
            o.contains("10.0.0.10:6443") && o.contains("sha256:abc"),
            "{o}"
        );
    }

    #[test]
    fn logins_config_keywords_and_cut_records() {
        let cases = [
            "docker login -u bob -p Zq1value r.local",
            "nerdctl login --username bob -p Zq1value r.local",
            "skopeo copy --src-creds bob:Zq1value docker://a docker://b",
            "podman pull --creds bob:Zq1value r/x",
            "ctr images pull --user bob:Zq1value r/x",
            "etcdctl --user root:Zq1value get /",
            "curl --oauth2-bearer Zq1value https://h",
            "smbclient //nas/x -U pi%Zq1value",
            "mosquitto_pub -h h -u u -P Zq1value -t t",
            "ssh-keygen -t ed25519 -N 'Zq1value' -f k",
            "ExecStartPre=-/usr/bin/mysql -uroot -pZq1value -e 'select 1'",
            "    auth_pass Zq1value",
            "    user admin insecure-password Zq1value",
            "requirepass Zq1value",
            "rocommunity Zq1value default",
            "10.0.0.1 10.0.0.2 : PSK 'Zq1value'",
            "<auth-user-pass>\npi\nZq1value\n</auth-user-pass>",
            "-----BEGIN OpenVPN Static key V1-----\n0123456789abcdefZq1value\n-----END OpenVPN Static key V1-----",
            "{\"manifest\":\"kind: Secret\\ndata:\\n  pw: Zq1value\\n\"}",
            "2026-11-24T05:50:01.1Z stderr P x] using --token=Zq1val\n2026-11-24T05:50:01.2Z stderr F Zq1rest tail",
            "2026-11-24T05:50:01.1Z stderr P x] using --token\n2026-11-24T05:50:01.2Z stderr F =Zq1value tail",
            "2026-11-24T05:50:01.1Z stderr P x] token=abcdefgh\n2026-11-24T05:50:01.2Z stderr F --token Zq1value",
        ];
        for c in cases {
            let o = r(c);
            assert!(!o.contains("Zq1"), "{c}\n -> {o}");
        }
        for c in [
            "docker run -u 1000:1000 -p 8080:80 nginx",
            "client-key-data: >-",
            "[bootstrap-token] Configured RBAC",
            "ctr images pull --user bob r/x",
        ] {
            assert_eq!(r(c), c);
        }
    }

    #[test]
    fn short_passwords_dollar_values_and_sudo_commands() {
        let cases = [
            "Nov 24 pi app[1]: login with password: rasp",
            "Nov 24 pi app[1]: msg=\"db\" password: hunter2 host=db",
            "password=$3cr3t!x",
            "password: $ecret99",
            "Nov 24 pi sudo[1]: pi : TTY=pts/0 ; PWD=/home/pi ; USER=root ; COMMAND=/usr/bin/sshpass -p hunter22 ssh pi@h",
        ];
        for c in cases {
            let o = r(c);
            for s in ["rasp", "hunter2", "3cr3t", "ecret99"] {
                assert!(!o.contains(s), "{c}\n -> {o}");
            }
        }
        for c in [
            "token: ${K3S_TOKEN}",
            "password=$DB_PASSWORD",
            "failed to get token: Unauthorized",
            "Nov 24 pi sudo[1]: pi : TTY=pts/0 ; PWD=/home/pi ; USER=root ; COMMAND=/usr/bin/k3s check-config",
        ] {
            assert_eq!(r(c), c);
        }
    }

    #[test]
    fn nested_commands_url_paths_and_token_csvs() {
        let cases = [
            "ssh pi@10.0.0.21 \"echo pi:Zq1value | sudo chpasswd\"",
            "bash -c 'sshpass -p Zq1value ssh pi@h uptime'",
            "curl -X POST https://hooks.slack.com/services/T0000/B0000/Zq1value",
            "curl https://discord.com/api/webhooks/1234567890/Zq1value",
            "curl \"https://api.telegram.org/bot123456789:Zq1value/sendMessage\"",
            "Zq1value0123456789,kubelet-bootstrap,10001,\"system:bootstrappers\"",
            "MQTT_PW=Zq1value",
            "APP_KEY=base64:Zq1value",
            "PASSWORD_HASH=5f4dcc3bZq1value",
            "\"_machinekey\": \"privkey:Zq1value0123456789abcdef\"",
        ];
        for c in cases {
            let o = r(c);
            assert!(!o.contains("Zq1"), "{c}\n -> {o}");
        }
        for c in [
            "name,namespace,ready",
            "console=serial0,115200 console=tty1 root=PARTUUID=6c586e13-02 rootwait",
            "WG_PUBLIC_KEY=abcdefgh",
            "curl https://api.telegram.org/",
        ] {
            assert_eq!(r(c), c);
        }
    }

    #[test]
    fn arrows_xml_and_flag_lists() {
        let cases = [
            "  :password => \"Zq1value\",",
            "password := \"Zq1value\"",
            "<server><username>u</username><password>Zq1value</password></server>",
            "<wsse:Password Type=\"x\">Zq1value</wsse:Password>",
            "k3s.io/node-args: '[\"agent\",\"--token\",\"Zq1value\"]'",
            "    - --token\n    - Zq1value\n    - --secure-port=6443",
            "mmcli -m 0 --simple-connect=\"pin=Zq1value,apn=internet\"",
        ];
        for c in cases {
            let o = r(c);
            assert!(!o.contains("Zq1"), "{c}\n -> {o}");
        }
        for c in [
            "<name>pi-worker-3</name><server>https://10.0.0.10:6443</server>",
            "\"args\": [\"--node-ip\", \"10.0.0.21\", \"--flannel-iface\", \"eth0\"]",
            "    - --node-ip\n    - 10.0.0.21",
        ] {
            assert_eq!(r(c), c);
        }
    }

    #[test]
    fn jwk_members_and_b64_after_a_name() {
        let o = r("{\"kty\":\"RSA\",\"e\":\"AQAB\",\"d\":\"Zq1value0123456789abcdef\",\"qi\":\"Zq1value0123456789abcdef\"}");
        assert!(!o.contains("Zq1") && o.contains("\"e\":\"AQAB\""), "{o}");
        // base64 of "-----BEGIN PRIVATE KEY-----\nMIIE" after `NAME=`.
        let o = r("TLS_KEY_B64=LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2Z0lCQURBTkJna3Foa2lHOXcwQkFRRUZBQVND");
        assert!(o.starts_with("TLS_KEY_B64=<redacted"), "{o}");
    }

    #[test]
    fn admin_tools_heredocs_and_bare_userinfo() {
        let cases = [
            "export http_proxy=proxyuser:Zq1value@proxy.local:3128",
            "sudo raspi-config nonint do_wifi_ssid_passphrase MyWiFi Zq1value 0 1",
            "wpa_cli -i wlan0 set_network 0 psk '\"Zq1value\"'",
            "sudo chpasswd <<END\npi:Zq1value\nEND",
            "usermod --password \"$(openssl passwd -6 'Zq1value')\" pi",
            "echo -n 'Zq1value' | openssl passwd -6 -stdin",
            "mc alias set backup http://10.0.0.30:9000 Zq1access Zq1secret",
            "pihole -a -p Zq1value",
            "pihole setpassword Zq1value",
        ];
        for c in cases {
            let o = r(c);
            assert!(!o.contains("Zq1"), "{c}\n -> {o}");
        }
        for c in [
            "image: registry.k8s.io/pause:3.9@sha256:0123abcd",
            "contact: admin@example.com and git@github.com:org/repo.git",
            "export http_proxy=http://proxy.local:3128",
        ] {
            assert_eq!(r(c), c);
        }
        assert!(r("mc alias set backup http://10.0.0.30:9000 a b")
            .contains("backup http://10.0.0.30:9000"));
    }
}
