//! gzip framing (RFC 1952) around flate2's raw deflate. flate2's GzEncoder would
//! pull in a 16 KiB CRC table; the collector's size budget prefers this 1 KiB one.

use flate2::write::DeflateEncoder;
use flate2::Compression;
use std::io::{self, Write};

pub struct GzWriter<W: Write> {
    enc: DeflateEncoder<W>,
    crc: Crc32,
    len: u32,
}

impl<W: Write> GzWriter<W> {
    pub fn new(mut w: W, level: u32, mtime: u32) -> io::Result<Self> {
        let mut h = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
        h[4..8].copy_from_slice(&mtime.to_le_bytes());
        w.write_all(&h)?;
        Ok(GzWriter {
            enc: DeflateEncoder::new(w, Compression::new(level)),
            crc: Crc32::new(),
            len: 0,
        })
    }

    /// Finish the stream and return the inner writer.
    pub fn finish(self) -> io::Result<W> {
        let mut w = self.enc.finish()?;
        w.write_all(&self.crc.value().to_le_bytes())?;
        w.write_all(&self.len.to_le_bytes())?;
        Ok(w)
    }
}

impl<W: Write> Write for GzWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.enc.write(buf)?;
        self.crc.update(&buf[..n]);
        self.len = self.len.wrapping_add(n as u32);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.enc.flush()
    }
}

pub struct Crc32 {
    table: [u32; 256],
    crc: u32,
}

impl Crc32 {
    pub fn new() -> Self {
        let mut table = [0u32; 256];
        for (i, t) in table.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *t = c;
        }
        Crc32 {
            table,
            crc: 0xFFFF_FFFF,
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        let mut c = self.crc;
        for b in data {
            c = self.table[((c ^ *b as u32) & 0xFF) as usize] ^ (c >> 8);
        }
        self.crc = c;
    }

    pub fn value(&self) -> u32 {
        !self.crc
    }
}

impl Default for Crc32 {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn crc_check_value() {
        let mut c = Crc32::new();
        c.update(b"123456789");
        assert_eq!(c.value(), 0xCBF4_3926);
    }

    #[test]
    fn round_trip_through_a_real_gzip_reader() {
        let data: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let mut g = GzWriter::new(Vec::new(), 6, 1_795_500_000).unwrap();
        g.write_all(&data).unwrap();
        let gz = g.finish().unwrap();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
    }
}
