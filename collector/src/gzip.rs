//! gzip framing (RFC 1952) around flate2's raw deflate (zlib-rs). flate2's
//! GzEncoder would pull in crc32fast and its 16 KiB of static tables; the
//! collector's size budget prefers tables built at run time.

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

/// CRC-32 (IEEE) by slicing-by-8. The tables are built at run time, so they
/// cost 8 KiB of heap and no binary size.
pub struct Crc32 {
    tables: Box<[[u32; 256]; 8]>,
    crc: u32,
}

impl Crc32 {
    pub fn new() -> Self {
        let mut t = Box::new([[0u32; 256]; 8]);
        for i in 0..256 {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            t[0][i] = c;
        }
        for i in 0..256 {
            for k in 1..8 {
                let prev = t[k - 1][i];
                t[k][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            }
        }
        Crc32 {
            tables: t,
            crc: 0xFFFF_FFFF,
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        let t = &self.tables;
        let mut c = self.crc;
        let mut chunks = data.chunks_exact(8);
        for ch in &mut chunks {
            let lo = c ^ u32::from_le_bytes([ch[0], ch[1], ch[2], ch[3]]);
            let hi = u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]);
            c = t[7][(lo & 0xFF) as usize]
                ^ t[6][((lo >> 8) & 0xFF) as usize]
                ^ t[5][((lo >> 16) & 0xFF) as usize]
                ^ t[4][(lo >> 24) as usize]
                ^ t[3][(hi & 0xFF) as usize]
                ^ t[2][((hi >> 8) & 0xFF) as usize]
                ^ t[1][((hi >> 16) & 0xFF) as usize]
                ^ t[0][(hi >> 24) as usize];
        }
        for b in chunks.remainder() {
            c = t[0][((c ^ *b as u32) & 0xFF) as usize] ^ (c >> 8);
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
        // Split updates agree with one update, at every alignment.
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        let mut whole = Crc32::new();
        whole.update(&data);
        for cut in [0, 1, 5, 8, 13, 999] {
            let mut c = Crc32::new();
            c.update(&data[..cut]);
            c.update(&data[cut..]);
            assert_eq!(c.value(), whole.value(), "{cut}");
        }
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
