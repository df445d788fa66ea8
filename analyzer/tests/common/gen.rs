//! A generator of adversarial inputs like those of issue 9: tar metadata bombs,
//! YAML alias bombs and deep nesting, decompression bombs, duplicate entries,
//! multi-member gzip, CR-only logs, Markdown injection. Used by
//! `tests/bounds.rs` and to seed the fuzz corpora (`fuzz/`).
//!
//! Big bodies are written as many copies of one small gzip member, so a
//! 1 GiB bomb costs a few hundred KiB and milliseconds to build.
#![allow(dead_code)]

use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;

pub fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A raw tar header, as a hostile tool could write it. `gnu` selects the GNU
/// magic (no prefix field); `size` may differ from what follows.
pub fn header(name: &[u8], kind: u8, size: u64, link: &[u8], gnu: bool) -> [u8; 512] {
    let mut h = [0u8; 512];
    let n = name.len().min(100);
    h[..n].copy_from_slice(&name[..n]);
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    if size < 8 << 30 {
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    } else {
        h[124] = 0x80;
        h[128..136].copy_from_slice(&size.to_be_bytes());
    }
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = kind;
    let l = link.len().min(100);
    h[157..157 + l].copy_from_slice(&link[..l]);
    if gnu {
        h[257..265].copy_from_slice(b"ustar  \0");
    } else {
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
    }
    seal(&mut h);
    h
}

pub fn seal(h: &mut [u8; 512]) {
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| *b as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

/// A .tgz built from gzip members; the tar stream is their concatenation.
#[derive(Default)]
pub struct Tgz {
    pub out: Vec<u8>,
    /// Uncompressed bytes so far (for padding).
    pub len: u64,
}

impl Tgz {
    pub fn raw(&mut self, data: &[u8]) -> &mut Self {
        self.out.extend(gz(data));
        self.len += data.len() as u64;
        self
    }

    /// `times` copies of `chunk`, compressed once.
    pub fn repeat(&mut self, chunk: &[u8], times: u64) -> &mut Self {
        let m = gz(chunk);
        for _ in 0..times {
            self.out.extend_from_slice(&m);
        }
        self.len += chunk.len() as u64 * times;
        self
    }

    /// Zeros up to the next 512-byte boundary.
    pub fn pad(&mut self) -> &mut Self {
        let n = (512 - self.len % 512) % 512;
        if n > 0 {
            self.raw(&vec![0u8; n as usize]);
        }
        self
    }

    pub fn file(&mut self, name: &str, body: &[u8]) -> &mut Self {
        let mut b = header(name.as_bytes(), b'0', body.len() as u64, b"", false).to_vec();
        b.extend_from_slice(body);
        self.raw(&b).pad()
    }

    /// A header followed by `times` copies of `chunk` as its body.
    pub fn big(&mut self, name: &[u8], kind: u8, chunk: &[u8], times: u64) -> &mut Self {
        let size = chunk.len() as u64 * times;
        self.raw(&header(name, kind, size, b"", true));
        self.repeat(chunk, times).pad()
    }

    pub fn finish(&mut self) -> Vec<u8> {
        self.raw(&[0u8; 1024]);
        std::mem::take(&mut self.out)
    }
}

pub const SWAP_LINE: &str = "Nov 24 05:58:01 pi kubelet[1]: E1124 05:58:01.1 1 x] \"command failed\" err=\"failed to run Kubelet: running with swap on is not supported, please disable swap\"";
pub const NODE_OUT: &str = "commands/kubectl-get-node.out";
pub const JOURNAL: &str = "commands/journal-kubelet.out";

/// A manifest as the collector writes it, with a chosen collection time.
pub fn manifest(at_ms: i64) -> Vec<u8> {
    format!(
        "{{\"format\":\"nodejoin-bundle\",\"version\":1,\"collected_at_unix_ms\":{at_ms},\"collected_at\":\"t{at_ms}\"}}"
    )
    .into_bytes()
}

/// Each case: a file name and its bytes, plus words a problem line must hold.
pub struct Case {
    pub name: &'static str,
    pub data: Vec<u8>,
    pub problem: &'static [&'static str],
}

/// GNU long name of `mib` MiB before a real entry.
pub fn long_name(mib: u64) -> Vec<u8> {
    Tgz::default()
        .big(b"././@LongLink", b'L', &[b'a'; 1 << 20], mib)
        .file("files/named-by-the-long-name", b"x")
        .file(JOURNAL, SWAP_LINE.as_bytes())
        .finish()
}

pub fn long_link(mib: u64) -> Vec<u8> {
    let mut t = Tgz::default();
    t.big(b"././@LongLink", b'K', &[b'b'; 1 << 20], mib);
    t.raw(&header(b"files/link", b'2', 0, b"x", true));
    t.file(JOURNAL, SWAP_LINE.as_bytes()).finish()
}

pub fn pax_body(mib: u64) -> Vec<u8> {
    Tgz::default()
        .big(b"PaxHeaders/x", b'x', &[b'9'; 1 << 20], mib)
        .file("files/described-by-the-pax-header", b"x")
        .file(JOURNAL, SWAP_LINE.as_bytes())
        .finish()
}

/// Old GNU sparse entry with a long chain of extension headers.
pub fn sparse_map(blocks: usize) -> Vec<u8> {
    let mut h = header(b"files/sparse", b'S', 0, b"", true);
    h[482] = 1;
    seal(&mut h);
    let mut ext = [0u8; 512];
    ext[504] = 1;
    let mut t = Tgz::default();
    t.raw(&h);
    t.repeat(&ext, blocks.saturating_sub(1) as u64);
    t.raw(&[0u8; 512]); // the last extension header ends the map
    t.file(JOURNAL, SWAP_LINE.as_bytes()).finish()
}

/// PAX sparse (GNU.sparse.*) metadata on an entry.
pub fn pax_sparse() -> Vec<u8> {
    let rec = b"22 GNU.sparse.major=1\n22 GNU.sparse.minor=0\n";
    let mut b = header(b"PaxHeaders/s", b'x', rec.len() as u64, b"", false).to_vec();
    b.extend_from_slice(rec);
    let mut t = Tgz::default();
    t.raw(&b).pad();
    t.file("files/var/log/sparse.log", SWAP_LINE.as_bytes());
    t.file(JOURNAL, b"ok\n").finish()
}

/// Many small PAX headers and no entry: headers are counted too.
pub fn pax_storm(n: u64) -> Vec<u8> {
    let rec = b"16 path=a/b/c.x\n";
    let mut one = header(b"PaxHeaders/p", b'x', rec.len() as u64, b"", false).to_vec();
    one.extend_from_slice(rec);
    one.resize(1024, 0);
    let mut t = Tgz::default();
    t.repeat(&one, n);
    t.finish()
}

/// A node object whose anchors expand exponentially: `levels` 0-1 nest ten
/// aliases per level; from level 2 a wide anchor is aliased thousands of times
/// (what stays under serde_yaml_ng's alias-jump limit and still explodes).
pub fn alias_bomb_yaml(levels: usize) -> String {
    let mut y = String::from("kind: Node\na0: &a0 [x,x,x,x,x,x,x,x,x,x]\n");
    for i in 1..levels.min(2) {
        let refs = vec![format!("*a{}", i - 1); 10].join(",");
        y.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    if levels >= 2 {
        y.push_str(&format!("w: &w [{}]\n", vec!["*a1"; 200].join(",")));
        y.push_str(&format!("b: [{}]\n", vec!["*w"; 400 * levels].join(",")));
    }
    y
}

pub fn alias_bomb(levels: usize) -> Vec<u8> {
    Tgz::default()
        .file(NODE_OUT, alias_bomb_yaml(levels).as_bytes())
        .file(JOURNAL, SWAP_LINE.as_bytes())
        .finish()
}

pub fn deep_yaml(depth: usize) -> String {
    format!(
        "kind: Node\nx: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

pub fn deep_flow(depth: usize) -> Vec<u8> {
    Tgz::default()
        .file(NODE_OUT, deep_yaml(depth).as_bytes())
        .file(
            "extra/node.yaml",
            deep_yaml(depth)
                .replace('[', "{a: ")
                .replace(']', "}")
                .as_bytes(),
        )
        .file(JOURNAL, SWAP_LINE.as_bytes())
        .finish()
}

/// A flat node YAML of about `mib` MiB.
pub fn flat_yaml(mib: usize) -> String {
    let mut y = String::from("kind: Node\nmetadata:\n  labels:\n");
    let mut i = 0;
    while y.len() < mib << 20 {
        y.push_str(&format!("    l{i}: v\n"));
        i += 1;
    }
    y
}

pub fn flat(mib: usize) -> Vec<u8> {
    Tgz::default()
        .file(NODE_OUT, flat_yaml(mib).as_bytes())
        .file(JOURNAL, SWAP_LINE.as_bytes())
        .finish()
}

/// `mib` MiB of accented (non-ASCII) log lines, ending with a swap line.
pub fn accented(mib: u64) -> Vec<u8> {
    let line = "Nov 24 05:58:01 pi kubelet[1]: état du nœud: réseau indisponible, réessai après échec àéèùç ñ ü\n";
    let chunk = line.repeat((1 << 20) / line.len() + 1);
    let chunk = &chunk.as_bytes()[..chunk.rfind('\n').unwrap() + 1];
    let mut t = Tgz::default();
    let tail = format!("{SWAP_LINE}\n");
    let size = chunk.len() as u64 * mib + tail.len() as u64;
    t.raw(&header(JOURNAL.as_bytes(), b'0', size, b"", true));
    t.repeat(chunk, mib).raw(tail.as_bytes()).pad().finish()
}

/// A body of `mib` MiB of one repeated line, in one entry.
pub fn lines_bomb(line: &[u8], mib: u64) -> Vec<u8> {
    let chunk = line.repeat((1 << 20) / line.len());
    let times = (mib << 20) / chunk.len() as u64;
    Tgz::default()
        .big(JOURNAL.as_bytes(), b'0', &chunk, times)
        .finish()
}

/// The same manifest twice: the first copy must win, and be reported.
pub fn duplicate_manifest() -> Vec<u8> {
    Tgz::default()
        .file("manifest.json", &manifest(1_795_500_000_000))
        .file(JOURNAL, SWAP_LINE.as_bytes())
        .file("manifest.json", &manifest(1_000_000_000_000))
        .file(JOURNAL, b"all good\n")
        .finish()
}

/// A log of two gzip members; the cause is in the second.
pub fn two_member_log() -> Vec<u8> {
    let mut v = gz(b"Nov 24 05:58:00 pi kubelet[1]: starting\n");
    v.extend(gz(format!("{SWAP_LINE}\n").as_bytes()));
    v
}

/// A log whose lines end in a lone CR.
pub fn cr_only_log() -> Vec<u8> {
    format!("Nov 24 05:58:00 pi kubelet[1]: starting\r{SWAP_LINE}\rNov 24 05:58:02 pi kubelet[1]: done\r").into_bytes()
}

pub const INJECTION: &str =
    "<img src=https://evil.example/x.png> [reset creds](https://evil.example/reset) `code` | cell";

/// Evidence and problem paths carrying Markdown/HTML injection.
pub fn injection() -> Vec<u8> {
    let line = format!("{SWAP_LINE} {INJECTION}\n");
    let mut t = Tgz::default();
    t.file(JOURNAL, line.as_bytes());
    let bad = format!("../{INJECTION}");
    t.raw(&header(bad.as_bytes(), b'0', 0, b"", true));
    t.finish()
}

/// Every tar-level and structured case, small enough for a test run.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "long-name.tgz",
            data: long_name(32),
            problem: &["GNU long name"],
        },
        Case {
            name: "long-link.tgz",
            data: long_link(32),
            problem: &["GNU long link"],
        },
        Case {
            name: "pax-body.tgz",
            data: pax_body(64),
            problem: &["PAX header"],
        },
        Case {
            name: "sparse-map.tgz",
            data: sparse_map(100_000),
            problem: &["sparse map"],
        },
        Case {
            name: "pax-sparse.tgz",
            data: pax_sparse(),
            problem: &["sparse file"],
        },
        Case {
            name: "pax-storm.tgz",
            data: pax_storm(200_000),
            problem: &["tar headers"],
        },
        Case {
            name: "alias-bomb.tgz",
            data: alias_bomb(9),
            problem: &["alias"],
        },
        Case {
            name: "deep-flow.tgz",
            data: deep_flow(200_000),
            problem: &["nested deeper"],
        },
        Case {
            name: "flat-yaml.tgz",
            data: flat(4),
            problem: &["values"],
        },
        Case {
            name: "accented.tgz",
            data: accented(34),
            problem: &[],
        },
        Case {
            name: "newlines.tgz",
            data: lines_bomb(b"\n", 1100),
            problem: &["decompressed"],
        },
        Case {
            name: "short-lines.tgz",
            data: lines_bomb(b"a\n", 1100),
            problem: &["decompressed"],
        },
        Case {
            name: "duplicate-manifest.tgz",
            data: duplicate_manifest(),
            problem: &["duplicate entry"],
        },
        Case {
            name: "injection.tgz",
            data: injection(),
            problem: &["path traversal"],
        },
    ]
}

/// DER tag-length-value.
fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = body.len();
    if n < 128 {
        v.push(n as u8);
    } else {
        let b = n.to_be_bytes();
        let skip = b.iter().take_while(|x| **x == 0).count();
        v.push(0x80 | (b.len() - skip) as u8);
        v.extend_from_slice(&b[skip..]);
    }
    v.extend_from_slice(body);
    v
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// An X.509 certificate as a hostile tool could write it: `cn` for subject,
/// `sans` copies of the DNS name `a.b`, a junk RSA key and signature. It
/// parses; it verifies against nothing.
pub fn der_cert(cn: &str, sans: usize) -> Vec<u8> {
    let alg = seq(&[
        tlv(6, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]),
        vec![5, 0],
    ]);
    let name = |s: &str| {
        let atv = seq(&[tlv(6, &[0x55, 4, 3]), tlv(0x0c, s.as_bytes())]);
        seq(&[tlv(0x31, &atv)])
    };
    let rsa = seq(&[
        tlv(6, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]),
        vec![5, 0],
    ]);
    let key = seq(&[tlv(2, &[0x00, 0xc1, 0x23, 0x45]), tlv(2, &[1, 0, 1])]);
    let spki = seq(&[rsa, tlv(3, &[&[0u8][..], &key].concat())]);
    let names: Vec<Vec<u8>> = (0..sans).map(|_| tlv(0x82, b"a.b")).collect();
    let san = seq(&[tlv(6, &[0x55, 29, 17]), tlv(4, &seq(&names))]);
    let tbs = seq(&[
        tlv(0xa0, &tlv(2, &[2])),
        tlv(2, &[1]),
        alg.clone(),
        name("ca"),
        seq(&[tlv(0x17, b"250101000000Z"), tlv(0x17, b"350101000000Z")]),
        name(cn),
        spki,
        tlv(0xa3, &seq(&[san])),
    ]);
    seq(&[tbs, alg, tlv(3, &[0u8; 65])])
}

pub fn pem_cert(der: &[u8]) -> String {
    let b = testkit::base64(der);
    let mut s = String::from("-----BEGIN CERTIFICATE-----\n");
    for l in b.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(l).unwrap());
        s.push('\n');
    }
    s.push_str("-----END CERTIFICATE-----\n");
    s
}
