//! Pasted text as a web page showed it, back to what the terminal printed.
//! Blogs and forums turn quotes into curly quotes, `--` into dashes and
//! spaces into no-break spaces; scraped pages keep HTML entities; editors
//! add a byte-order mark; mail and Markdown quote lines with `> `. Rules
//! match the component's own bytes, so these are undone before a paste is
//! scanned or its sections are read.

use std::io::{self, Read};

const CHUNK: usize = 64 * 1024;
/// The longest thing undone: an entity such as `&#x1F600;` or `&nbsp;`.
const LONGEST: usize = 10;

/// `input` with typography, invisible characters, HTML entities and quote
/// marks at line starts undone. `at_start`: `input` starts a line; on return,
/// whether the next input will.
pub fn plain(input: &[u8], at_start: &mut bool, out: &mut Vec<u8>) {
    if input.is_ascii() && memchr::memchr2(b'&', b'>', input).is_none() {
        out.extend_from_slice(input);
    } else {
        undo(input, *at_start, out);
    }
    if let Some(&last) = input.last() {
        *at_start = last == b'\n';
    }
}

fn undo(input: &[u8], mut at_start: bool, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < input.len() {
        let c = input[i];
        if at_start {
            at_start = false;
            while input.get(i) == Some(&b'>') {
                i += 1 + usize::from(input.get(i + 1) == Some(&b' '));
            }
            continue;
        }
        let (ch, len) = if c == b'&' {
            entity(&input[i..]).unwrap_or(('&', 1))
        } else if c < 0x80 {
            out.push(c);
            at_start = c == b'\n';
            i += 1;
            continue;
        } else {
            match decode(&input[i..]) {
                Some(d) => d,
                None => {
                    out.push(c);
                    i += 1;
                    continue;
                }
            }
        };
        let spaced = out.last() == Some(&b' ') && input.get(i + len) == Some(&b' ');
        push(ch, spaced, out);
        i += len;
    }
}

/// One UTF-8 character at the start of `b`, and its length.
fn decode(b: &[u8]) -> Option<(char, usize)> {
    let len = match b[0] {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let s = std::str::from_utf8(b.get(..len)?).ok()?;
    s.chars().next().map(|c| (c, len))
}

/// An HTML entity at the start of `b` (`&quot;`, `&#39;`, `&#x27;`, ...).
fn entity(b: &[u8]) -> Option<(char, usize)> {
    let end = memchr::memchr(b';', &b[..b.len().min(LONGEST)])?;
    let name = std::str::from_utf8(&b[1..end]).ok()?;
    let ch = match name {
        "quot" => '"',
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "apos" => '\'',
        "nbsp" => ' ',
        _ => {
            let num = name.strip_prefix('#')?;
            let n = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(n).filter(|c| !c.is_control() || *c == '\t')?
        }
    };
    Some((ch, end + 1))
}

/// `ch` as the terminal would have shown it. `spaced`: blank on both sides,
/// which is how a typesetter's dash from ` - ` differs from one from `--`.
fn push(ch: char, spaced: bool, out: &mut Vec<u8>) {
    let s: &str = match ch {
        '\u{a0}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}' => " ",
        '\u{ad}' | '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' => "",
        '\u{2018}'..='\u{201b}' | '\u{2032}' => "'",
        '\u{201c}'..='\u{201f}' | '\u{2033}' => "\"",
        '\u{2026}' => "...",
        '\u{2013}' if spaced => "-",
        '\u{2013}' | '\u{2014}' if spaced => "--",
        '\u{2013}' => "--",
        '\u{2014}' => "---",
        _ => {
            let mut b = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
            return;
        }
    };
    out.extend_from_slice(s.as_bytes());
}

/// A reader that undoes [`plain`]'s typography on the way through. It cuts
/// the stream at line ends (or, in a line longer than a chunk, before
/// anything that might continue past the cut).
pub struct Plain<R> {
    inner: R,
    /// Read but not yet undone; it holds no line end.
    raw: Vec<u8>,
    chunk: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    eof: bool,
    at_start: bool,
}

impl<R: Read> Plain<R> {
    pub fn new(inner: R) -> Self {
        Plain {
            inner,
            raw: Vec::new(),
            chunk: vec![0; CHUNK],
            out: Vec::new(),
            pos: 0,
            eof: false,
            at_start: true,
        }
    }

    /// How much of `raw` can be undone now without cutting a character or
    /// an entity in two; `new` is where this read's bytes start.
    fn cut(&self, new: usize) -> usize {
        if self.eof {
            return self.raw.len();
        }
        if let Some(p) = memchr::memrchr(b'\n', &self.raw[new..]) {
            return new + p + 1;
        }
        if self.raw.len() < CHUNK {
            return 0;
        }
        let mut cut = self.raw.len() - LONGEST;
        if let Some(amp) = memchr::memrchr(b'&', &self.raw[cut - LONGEST..cut]) {
            cut = cut - LONGEST + amp;
        }
        // A character is at most 4 bytes: step back over at most 3 of its
        // continuation bytes (more are not UTF-8 and are kept as they are).
        let floor = cut - 3;
        while cut > floor && (0x80..0xC0).contains(&self.raw[cut]) {
            cut -= 1;
        }
        cut
    }
}

impl<R: Read> Read for Plain<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.out.len() {
            if self.eof && self.raw.is_empty() {
                return Ok(0);
            }
            self.out.clear();
            self.pos = 0;
            let have = self.raw.len();
            if !self.eof {
                let n = self.inner.read(&mut self.chunk)?;
                self.raw.extend_from_slice(&self.chunk[..n]);
                self.eof = n == 0;
            }
            let cut = self.cut(have);
            plain(&self.raw[..cut], &mut self.at_start, &mut self.out);
            self.raw.drain(..cut);
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> String {
        let mut out = Vec::new();
        plain(s.as_bytes(), &mut true, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn typography_is_undone() {
        assert_eq!(
            p("level=error msg=\u{201c}flannel exited: operation not supported\u{201d}"),
            "level=error msg=\"flannel exited: operation not supported\""
        );
        assert_eq!(p("can\u{2019}t\u{a0}find"), "can't find");
        assert_eq!(
            p("kubeadm join \u{2013}token abc"),
            "kubeadm join --token abc"
        );
        assert_eq!(
            p("kubelet.service \u{2013} kubelet"),
            "kubelet.service - kubelet"
        );
        assert_eq!(p("\u{feff}E1124 x\u{200b}y\u{2026}"), "E1124 xy...");
        assert_eq!(p("bridge\u{2014}nf"), "bridge---nf");
    }

    #[test]
    fn entities_are_undone() {
        assert_eq!(
            p("err=&quot;open /run/flannel/subnet.env&quot; &lt;nil&gt; a&amp;b &#39;x&#x27;"),
            "err=\"open /run/flannel/subnet.env\" <nil> a&b 'x'"
        );
        assert_eq!(p("&#8220;quoted&#8221;&nbsp;x"), "\"quoted\" x");
        // Not entities: left alone.
        assert_eq!(
            p("a && b &unknown; &#0; &#xZZ; &"),
            "a && b &unknown; &#0; &#xZZ; &"
        );
    }

    #[test]
    fn quote_marks_go_at_line_starts_only() {
        assert_eq!(
            p("> E1124 a -> b\n>> > F1124 c\n>\nx > y\n"),
            "E1124 a -> b\nF1124 c\n\nx > y\n"
        );
    }

    #[test]
    fn broken_utf8_passes_through() {
        let mut out = Vec::new();
        plain(b"a\xE2\x80b\xFFc", &mut true, &mut out);
        assert_eq!(out, b"a\xE2\x80b\xFFc");
    }

    /// A reader that hands out at most `n` bytes a call.
    struct Drip<'a>(&'a [u8], usize);
    impl Read for Drip<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn whole(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        plain(b, &mut true, &mut out);
        out
    }

    #[test]
    fn a_long_line_is_cut_between_characters() {
        let mut line = Vec::new();
        while line.len() < 3 * CHUNK {
            line.extend_from_slice("x\u{201c}&quot;\u{a0}".as_bytes());
        }
        for step in [1, 7, 4096, CHUNK - 3, CHUNK + 5] {
            let mut out = Vec::new();
            Plain::new(Drip(&line, step)).read_to_end(&mut out).unwrap();
            assert_eq!(out, whole(&line), "step {step}");
        }
    }

    #[test]
    fn a_line_of_garbage_does_not_grow_the_buffer() {
        let junk = vec![0x80u8; 4 * CHUNK];
        let mut r = Plain::new(&junk[..]);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, junk);
        assert!(r.raw.capacity() <= 2 * CHUNK, "{}", r.raw.capacity());
    }

    proptest! {
        #[test]
        fn the_reader_agrees_with_the_whole(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("&quot;".to_string()), Just("\u{201d}".to_string()),
                    Just("\u{a0}".to_string()), Just("\n".to_string()),
                    Just(" \u{2013} ".to_string()), Just("&#x27;".to_string()),
                    Just("\n> ".to_string()), Just(">".to_string()),
                    "[a-z &;#]{0,20}",
                ],
                0..200,
            ),
            step in 1usize..300,
        ) {
            let text: String = parts.concat();
            let mut out = Vec::new();
            Plain::new(Drip(text.as_bytes(), step)).read_to_end(&mut out).unwrap();
            prop_assert_eq!(out, whole(text.as_bytes()));
        }
    }
}
