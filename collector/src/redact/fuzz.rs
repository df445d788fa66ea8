//! Bodies of the fuzz targets (`collector/fuzz`), also run on stable by
//! `tests/secrets_fuzz.rs` over a generated corpus. Each one must never panic
//! and must never let a secret appended to arbitrary input through.

use super::{structured, Format, Redactor, LINE_CAP};

const SECRET: &[u8] = b"Zq7fuzzPlantedSecret42x";

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The fuzzer learns the secret from comparisons and writes it into the
/// input itself, where it may be a public value: only inputs without any
/// piece of it are checked for leaks.
fn knows_secret(data: &[u8]) -> bool {
    SECRET.windows(6).any(|w| contains(data, w))
}

fn check(fmt: Format, data: &[u8], plant: &[u8]) {
    let _ = structured(fmt, data);
    if knows_secret(data) {
        return;
    }
    let mut input = data.to_vec();
    input.extend_from_slice(plant);
    let (out, _) = structured(fmt, &input);
    assert!(
        !contains(&out, SECRET),
        "{fmt:?} let the planted secret through:\n{}",
        String::from_utf8_lossy(&out)
    );
}

fn planted(template: &str) -> Vec<u8> {
    template
        .replace("{}", std::str::from_utf8(SECRET).unwrap_or_default())
        .into_bytes()
}

/// Free text: the same output whatever the chunking, and a `--token` value
/// on a fresh line never survives.
pub fn text(data: &[u8]) {
    let whole = Redactor::new().text(data);
    let step = 1 + data.first().copied().unwrap_or(0) as usize % 97;
    let mut r = Redactor::new();
    let mut out = Vec::new();
    for c in data.chunks(step) {
        r.feed(c, &mut out);
    }
    r.finish(&mut out);
    if data.len() < LINE_CAP {
        assert_eq!(whole, out, "chunking changed the output");
    }
    let _ = Redactor::after_cut().text(data);
    if knows_secret(data) {
        return;
    }
    for t in [
        "\n--token {}\n",
        "\nK3S_TOKEN={}\n",
        "\n{\"password\": \"{}\"}\n",
        "\nAuthorization: Bearer {}\n",
        "\necho 'pi:{}' | chpasswd\n",
        "\ndata:\n  pw: {}\n",
        "\npi:$6$saltsalt${}:19700::::::\n",
    ] {
        let mut input = data.to_vec();
        input.extend_from_slice(&planted(t));
        let out = Redactor::new().text(&input);
        assert!(!contains(&out, SECRET), "text let {t:?} through");
    }
}

pub fn yaml(data: &[u8]) {
    check(Format::Yaml, data, &planted("\ntoken: {}\n"));
}

pub fn json(data: &[u8]) {
    check(Format::Json, data, &planted("\n{\"password\": \"{}\"}\n"));
}

pub fn toml(data: &[u8]) {
    check(Format::Toml, data, &planted("\npassword = \"{}\"\n"));
}

pub fn env(data: &[u8]) {
    check(Format::Env, data, &planted("\nK3S_TOKEN={}\n"));
}

pub fn unit(data: &[u8]) {
    check(Format::Unit, data, &planted("\nEnvironment=K3S_TOKEN={}\n"));
}
