//! The decompressed tar stream of one layer, in large buffers and with forward seeks.
//!
//! The stored bytes arrive a chunk at a time ([`Input`]), either handed over by the thread that
//! reads and hashes them or read here from a reader; the decoder reads each chunk in place. The
//! decompressed bytes are produced a large buffer at a time ([`Decoded`]): the inflater then runs
//! its fast loop, and only the last window of each buffer is copied into its history. The tar
//! walker skips the bodies of files no cataloger wants by seeking forward, which consumes
//! decompressed bytes without copying them again.
//!
//! gzip (RFC 1952, <https://www.rfc-editor.org/rfc/rfc1952>): each member's header is parsed
//! here, its deflate stream inflated by zlib-rs through flate2's [`Decompress`], and its trailer
//! checked (the length always, the CRC-32 unless the caller verifies the stored bytes' digest);
//! members follow one another until the stored bytes end, as `gunzip` reads them. zstd goes
//! through the zstd crate's streaming decoder, reading the chunks in place too.

use std::io::{self, BufRead, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;

use flate2::{Crc, CrcReader, Decompress, FlushDecompress, Status};
use vouch_oci::model::Compression;

/// Stored bytes read at once.
const CHUNK: usize = 256 * 1024;

/// Decompressed bytes produced at once: large enough that zlib-rs spends its time in its fast
/// loop and copies only 32 KiB of each buffer into its window, small enough to stay in cache.
const OUT_CHUNK: usize = 256 * 1024;

/// A layer's stored bytes, read from `reader` a chunk at a time and handed out in place through
/// [`BufRead`]. With a tee, every chunk read (the head included) is also sent, shared, to
/// another thread (which hashes it), and chunks come back for reuse once that thread is done.
pub(crate) struct Input<'a> {
    reader: &'a mut dyn Read,
    tee: Option<mpsc::SyncSender<Arc<Vec<u8>>>>,
    /// Chunks read before, reused once no other thread holds them.
    spare: Vec<Arc<Vec<u8>>>,
    chunk: Arc<Vec<u8>>,
    at: usize,
    ended: bool,
    /// The first read failure, kept for [`Input::finish`].
    failed: Option<(io::ErrorKind, String)>,
}

impl<'a> Input<'a> {
    /// `head` holds bytes already taken from `reader` (to sniff the compression); they come
    /// first, and go to the tee first.
    pub(crate) fn new(
        head: Vec<u8>,
        reader: &'a mut dyn Read,
        tee: Option<mpsc::SyncSender<Arc<Vec<u8>>>>,
    ) -> Self {
        let mut input = Input {
            reader,
            tee,
            spare: Vec::new(),
            chunk: Arc::new(head),
            at: 0,
            ended: false,
            failed: None,
        };
        if !input.chunk.is_empty() {
            input.send_chunk();
        }
        input
    }

    /// Reads what is left of the stored bytes (through the tee), so that the digest covers all
    /// of them whatever the decoder did; fails if any read failed.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        while !self.ended && self.failed.is_none() {
            // An error here is kept in `failed`.
            let _ = self.next_chunk();
        }
        match self.failed {
            Some((kind, message)) => Err(io::Error::new(kind, message)),
            None => Ok(()),
        }
    }

    fn next_chunk(&mut self) -> io::Result<()> {
        if let Some(failed) = &self.failed {
            return Err(io::Error::new(failed.0, failed.1.clone()));
        }
        let mut chunk = self.free_chunk();
        let Some(buf) = Arc::get_mut(&mut chunk) else {
            return Err(io::Error::other("a layer buffer is still shared"));
        };
        // Zeroes only what the last (short) read left out.
        buf.resize(CHUNK, 0);
        let read = loop {
            match self.reader.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                read => break read,
            }
        };
        let n = match read {
            Ok(n) => n,
            Err(e) => {
                buf.clear();
                self.failed = Some((e.kind(), e.to_string()));
                self.retire(chunk);
                return Err(e);
            }
        };
        buf.truncate(n);
        self.ended = n == 0;
        let spent = std::mem::replace(&mut self.chunk, chunk);
        self.retire(spent);
        self.at = 0;
        if n > 0 {
            self.send_chunk();
        }
        Ok(())
    }

    /// A chunk no other thread holds: a spare one, or a new one.
    fn free_chunk(&mut self) -> Arc<Vec<u8>> {
        match self
            .spare
            .iter_mut()
            .position(|c| Arc::get_mut(c).is_some())
        {
            Some(i) => self.spare.swap_remove(i),
            None => Arc::new(Vec::with_capacity(CHUNK)),
        }
    }

    /// Keeps a chunk for reuse. With the tee's bound, no more than `depth + 3` ever exist.
    fn retire(&mut self, chunk: Arc<Vec<u8>>) {
        if chunk.capacity() >= CHUNK {
            self.spare.push(chunk);
        }
    }

    fn send_chunk(&mut self) {
        if let Some(tee) = &self.tee
            && tee.send(Arc::clone(&self.chunk)).is_err()
        {
            // The other thread is gone (it panicked); the caller finds out when joining it.
            self.tee = None;
        }
    }
}

impl Read for Input<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_buffered(self, buf)
    }
}

impl BufRead for Input<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.at >= self.chunk.len() && !self.ended {
            self.next_chunk()?;
        }
        Ok(self.chunk.get(self.at..).unwrap_or_default())
    }

    fn consume(&mut self, n: usize) {
        self.at = self.at.saturating_add(n).min(self.chunk.len());
    }
}

/// The decompressed tar stream of one layer, read from stored bytes `R`. It counts what it
/// yields and fails once that passes the limit (telling `hit`), so that a decompression bomb is
/// an error.
pub(crate) struct Decoded<'a, R> {
    codec: Codec<R>,
    /// Decompressed bytes (gzip, zstd); those not yet consumed are `out[at..filled]`.
    out: Vec<u8>,
    at: usize,
    filled: usize,
    /// Bytes consumed so far: the position in the tar stream.
    position: u64,
    limit: u64,
    count: &'a AtomicU64,
    hit: &'a AtomicBool,
}

enum Codec<R> {
    /// A plain tar: the stored chunks are the output.
    Plain(R),
    Gzip(Box<Gzip<R>>),
    Zstd(Box<zstd::stream::read::Decoder<'static, R>>),
}

struct Gzip<R> {
    input: R,
    /// Raw deflate: the member's header and trailer are read here.
    inflate: Decompress,
    /// The CRC-32 of the current member's output, when checked.
    crc: Option<Crc>,
    /// The current member's output length, modulo 2^32 as its trailer states it.
    length: u32,
    /// Members started so far.
    members: u64,
    part: Part,
}

/// Where a gzip stream is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Before a member's header, or at the end of the stream.
    Header,
    /// In a member's deflate stream.
    Body,
    /// Before a member's trailer.
    Trailer,
}

impl<'a, R: BufRead> Decoded<'a, R> {
    /// Decodes `input` as `compression` says; `count` is kept at the bytes consumed so far, and
    /// `hit` is set when they pass `limit`. `gzip_crc`: whether to check gzip members' CRC-32.
    pub(crate) fn new(
        input: R,
        compression: Compression,
        gzip_crc: bool,
        limit: u64,
        count: &'a AtomicU64,
        hit: &'a AtomicBool,
    ) -> io::Result<Self> {
        let (codec, out) = match compression {
            Compression::None => (Codec::Plain(input), Vec::new()),
            Compression::Gzip => (
                Codec::Gzip(Box::new(Gzip {
                    input,
                    inflate: Decompress::new(false),
                    crc: gzip_crc.then(Crc::new),
                    length: 0,
                    members: 0,
                    part: Part::Header,
                })),
                vec![0; OUT_CHUNK],
            ),
            // The zstd decoder refuses frames whose window exceeds 128 MiB (the library's
            // default limit), which bounds its memory.
            Compression::Zstd => (
                Codec::Zstd(Box::new(zstd::stream::read::Decoder::with_buffer(input)?)),
                vec![0; OUT_CHUNK],
            ),
        };
        Ok(Decoded {
            codec,
            out,
            at: 0,
            filled: 0,
            position: 0,
            limit,
            count,
            hit,
        })
    }

    /// Reads the rest of the stream without copying it anywhere.
    pub(crate) fn drain(&mut self) -> io::Result<()> {
        loop {
            let n = self.fill_buf()?.len();
            if n == 0 {
                return Ok(());
            }
            self.consume(n);
        }
    }
}

impl<R: BufRead> Read for Decoded<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_buffered(self, buf)
    }
}

impl<R: BufRead> BufRead for Decoded<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.count.store(self.position, Ordering::Relaxed);
        if self.position > self.limit {
            self.hit.store(true, Ordering::Relaxed);
            return Err(io::Error::other("decompressed size limit reached"));
        }
        let Decoded {
            codec,
            out,
            at,
            filled,
            ..
        } = self;
        if *at >= *filled {
            *at = 0;
            *filled = match codec {
                Codec::Plain(input) => return input.fill_buf(),
                Codec::Gzip(gzip) => gzip.inflate_into(out)?,
                Codec::Zstd(decoder) => loop {
                    match decoder.read(out) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        result => break result?,
                    }
                },
            };
        }
        Ok(out.get(*at..*filled).unwrap_or_default())
    }

    fn consume(&mut self, n: usize) {
        match &mut self.codec {
            Codec::Plain(input) => input.consume(n),
            Codec::Gzip(_) | Codec::Zstd(_) => {
                self.at = self.at.saturating_add(n).min(self.filled);
            }
        }
        self.position = self.position.saturating_add(n as u64);
    }
}

/// Only forward seeks from the current position, which is all a tar walker skipping file
/// bodies needs. Seeking past the end is an error: the tar stream ends inside an entry.
impl<R: BufRead> Seek for Decoded<'_, R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let backwards = || {
            io::Error::new(
                io::ErrorKind::Unsupported,
                "a layer stream only seeks forward",
            )
        };
        let SeekFrom::Current(delta) = pos else {
            return Err(backwards());
        };
        let mut left = u64::try_from(delta).map_err(|_| backwards())?;
        while left > 0 {
            let available = self.fill_buf()?.len();
            if available == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the tar stream ends inside an entry",
                ));
            }
            let n = usize::try_from(left).map_or(available, |left| left.min(available));
            self.consume(n);
            left -= n as u64;
        }
        Ok(self.position)
    }
}

/// gzip header flags (RFC 1952, section 2.3.1).
const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const FRESERVED: u8 = 0xe0;

impl<R: BufRead> Gzip<R> {
    /// Inflates into `out`; 0 only at the end of the last member.
    fn inflate_into(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.part {
                Part::Header => {
                    if self.input.fill_buf()?.is_empty() {
                        return match self.members {
                            0 => Err(io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                "the gzip stream is empty",
                            )),
                            _ => Ok(0),
                        };
                    }
                    // A member, or garbage after the last one, which fails the header check.
                    self.header()?;
                    self.members += 1;
                    if self.members > 1 {
                        self.inflate.reset(false);
                    }
                    if let Some(crc) = &mut self.crc {
                        crc.reset();
                    }
                    self.length = 0;
                    self.part = Part::Body;
                }
                Part::Body => {
                    let input = self.input.fill_buf()?;
                    if input.is_empty() {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the gzip stream ends inside a member",
                        ));
                    }
                    let (before_in, before_out) =
                        (self.inflate.total_in(), self.inflate.total_out());
                    let status = self
                        .inflate
                        .decompress(input, out, FlushDecompress::None)
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                    let used =
                        usize::try_from(self.inflate.total_in() - before_in).unwrap_or(usize::MAX);
                    let made = usize::try_from(self.inflate.total_out() - before_out).unwrap_or(0);
                    self.input.consume(used);
                    let made_bytes = out.get(..made).unwrap_or_default();
                    if let Some(crc) = &mut self.crc {
                        crc.update(made_bytes);
                    }
                    // The trailer states the length modulo 2^32.
                    self.length = self.length.wrapping_add(made as u32);
                    if status == Status::StreamEnd {
                        self.part = Part::Trailer;
                    } else if used == 0 && made == 0 {
                        // zlib makes progress whenever it has input and room for output.
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "the gzip stream does not progress",
                        ));
                    }
                    if made > 0 {
                        return Ok(made);
                    }
                }
                Part::Trailer => {
                    let mut trailer = [0u8; 8];
                    self.input.read_exact(&mut trailer)?;
                    let [c0, c1, c2, c3, l0, l1, l2, l3] = trailer;
                    if let Some(crc) = &self.crc
                        && u32::from_le_bytes([c0, c1, c2, c3]) != crc.sum()
                    {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "a gzip member's CRC-32 does not match its content",
                        ));
                    }
                    if u32::from_le_bytes([l0, l1, l2, l3]) != self.length {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "a gzip member's length does not match its content",
                        ));
                    }
                    self.part = Part::Header;
                }
            }
        }
    }

    /// Reads a member's header (RFC 1952, section 2.3), checking its CRC-16 when it has one
    /// and CRCs are checked.
    fn header(&mut self) -> io::Result<()> {
        let invalid = |message| io::Error::new(io::ErrorKind::InvalidData, message);
        let mut header = CrcReader::new(&mut self.input);
        let mut fixed = [0u8; 10];
        header.read_exact(&mut fixed)?;
        let [id1, id2, method, flags, ..] = fixed;
        if [id1, id2] != [0x1f, 0x8b] {
            return Err(invalid("not a gzip member: wrong magic bytes"));
        }
        if method != 8 {
            return Err(invalid("a gzip member is not compressed with deflate"));
        }
        if flags & FRESERVED != 0 {
            return Err(invalid("a gzip member's header sets reserved flags"));
        }
        if flags & FEXTRA != 0 {
            let mut length = [0u8; 2];
            header.read_exact(&mut length)?;
            let length = u64::from(u16::from_le_bytes(length));
            if io::copy(&mut (&mut header).take(length), &mut io::sink())? != length {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        for flag in [FNAME, FCOMMENT] {
            if flags & flag != 0 {
                // A zero-terminated string, read a byte at a time: names are short.
                let mut byte = [1u8];
                while byte != [0] {
                    header.read_exact(&mut byte)?;
                }
            }
        }
        let header_crc = header.crc().sum();
        if flags & FHCRC != 0 {
            let mut stated = [0u8; 2];
            self.input.read_exact(&mut stated)?;
            if self.crc.is_some() && u32::from(u16::from_le_bytes(stated)) != header_crc & 0xffff {
                return Err(invalid("a gzip member's header CRC does not match"));
            }
        }
        Ok(())
    }
}

fn read_buffered(reader: &mut impl BufRead, buf: &mut [u8]) -> io::Result<usize> {
    let available = reader.fill_buf()?;
    let n = available.len().min(buf.len());
    buf.get_mut(..n)
        .unwrap_or_default()
        .copy_from_slice(available.get(..n).unwrap_or_default());
    reader.consume(n);
    Ok(n)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    /// Bytes that span several chunks and output buffers, half of them incompressible.
    fn sample(len: usize) -> Vec<u8> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        (0..len)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                if (i / 4096) % 2 == 0 {
                    (i % 251) as u8
                } else {
                    state as u8
                }
            })
            .collect()
    }

    /// Decodes `stored` whole, the way the tar walker reads: small reads and forward seeks.
    fn decode(stored: &[u8], compression: Compression, gzip_crc: bool) -> io::Result<Vec<u8>> {
        let (count, hit) = (AtomicU64::new(0), AtomicBool::new(false));
        let mut reader = stored;
        let mut input = Input::new(Vec::new(), &mut reader, None);
        let mut decoded = Decoded::new(&mut input, compression, gzip_crc, u64::MAX, &count, &hit)?;
        let mut out = Vec::new();
        let mut buf = [0u8; 512];
        loop {
            let n = decoded.read(&mut buf)?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(count.load(Ordering::Relaxed), out.len() as u64);
        Ok(out)
    }

    #[test]
    fn gzip_members_follow_one_another() {
        let (a, b) = (sample(3 * OUT_CHUNK + 17), sample(5000));
        let mut stored = gzip(&a);
        stored.extend(gzip(&b));
        let out = decode(&stored, Compression::Gzip, true).unwrap();
        assert_eq!(out, [a, b].concat());
    }

    #[test]
    fn gzip_header_fields_are_skipped_and_the_header_crc_checked() {
        let data = sample(10_000);
        let plain = gzip(&data);
        // The same member with FEXTRA, FNAME, FCOMMENT and FHCRC set.
        let mut header = vec![0x1f, 0x8b, 8, FEXTRA | FNAME | FCOMMENT | FHCRC];
        header.extend_from_slice(&plain[4..10]);
        header.extend_from_slice(&[3, 0, b'x', b'y', b'z']);
        header.extend_from_slice(b"layer.tar\0a comment\0");
        let mut crc = Crc::new();
        crc.update(&header);
        let mut stored = header.clone();
        stored.extend_from_slice(&(crc.sum() as u16).to_le_bytes());
        stored.extend_from_slice(&plain[10..]);
        assert_eq!(decode(&stored, Compression::Gzip, true).unwrap(), data);

        let mut bad = header;
        bad.extend_from_slice(&(crc.sum() as u16 ^ 1).to_le_bytes());
        bad.extend_from_slice(&plain[10..]);
        let err = decode(&bad, Compression::Gzip, true).unwrap_err();
        assert!(err.to_string().contains("header CRC"), "{err}");
    }

    #[test]
    fn gzip_crc_is_checked_when_asked_and_the_length_always() {
        let data = sample(100_000);
        let mut stored = gzip(&data);
        let at = stored.len() - 8;
        stored[at] ^= 1;
        let err = decode(&stored, Compression::Gzip, true).unwrap_err();
        assert!(err.to_string().contains("CRC-32"), "{err}");
        assert_eq!(decode(&stored, Compression::Gzip, false).unwrap(), data);

        let mut stored = gzip(&data);
        let at = stored.len() - 4;
        stored[at] ^= 1;
        for crc in [true, false] {
            let err = decode(&stored, Compression::Gzip, crc).unwrap_err();
            assert!(err.to_string().contains("length"), "{err}");
        }
    }

    #[test]
    fn empty_truncated_and_trailing_garbage_gzip_fail() {
        let stored = gzip(&sample(100_000));
        for (bytes, kind) in [
            (&[][..], io::ErrorKind::UnexpectedEof),
            (&stored[..5], io::ErrorKind::UnexpectedEof),
            (&stored[..stored.len() / 2], io::ErrorKind::UnexpectedEof),
            (&stored[..stored.len() - 3], io::ErrorKind::UnexpectedEof),
        ] {
            let err = decode(bytes, Compression::Gzip, true).unwrap_err();
            assert_eq!(err.kind(), kind, "{} bytes: {err}", bytes.len());
        }
        let mut garbage = stored.clone();
        garbage.extend_from_slice(b"this is not a gzip member");
        let err = decode(&garbage, Compression::Gzip, true).unwrap_err();
        assert!(err.to_string().contains("magic"), "{err}");
        let mut corrupt = stored;
        corrupt[20] ^= 0xff;
        corrupt[21] ^= 0xff;
        // Damage inside the deflate stream: an inflate error, or else the length or CRC check.
        assert!(decode(&corrupt, Compression::Gzip, true).is_err());
    }

    #[test]
    fn plain_and_zstd_pass_through() {
        let data = sample(2 * CHUNK + 3);
        assert_eq!(decode(&data, Compression::None, true).unwrap(), data);
        let stored = zstd::encode_all(&data[..], 1).unwrap();
        assert_eq!(decode(&stored, Compression::Zstd, true).unwrap(), data);
        assert!(decode(&stored[..stored.len() / 2], Compression::Zstd, true).is_err());
    }

    #[test]
    fn seeks_go_forward_only_and_not_past_the_end() {
        let data = sample(3 * OUT_CHUNK);
        let stored = gzip(&data);
        let (count, hit) = (AtomicU64::new(0), AtomicBool::new(false));
        let mut reader = &stored[..];
        let mut input = Input::new(Vec::new(), &mut reader, None);
        let mut decoded =
            Decoded::new(&mut input, Compression::Gzip, true, u64::MAX, &count, &hit).unwrap();
        let skip = OUT_CHUNK as u64 + 100;
        assert_eq!(decoded.seek(SeekFrom::Current(skip as i64)).unwrap(), skip);
        let mut byte = [0u8];
        decoded.read_exact(&mut byte).unwrap();
        assert_eq!(byte[0], data[skip as usize]);
        assert!(decoded.seek(SeekFrom::Current(-1)).is_err());
        assert!(decoded.seek(SeekFrom::Start(0)).is_err());
        let err = decoded
            .seek(SeekFrom::Current(data.len() as i64))
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn the_limit_is_an_error() {
        let stored = gzip(&sample(OUT_CHUNK * 2));
        let (count, hit) = (AtomicU64::new(0), AtomicBool::new(false));
        let mut reader = &stored[..];
        let mut input = Input::new(Vec::new(), &mut reader, None);
        let mut decoded =
            Decoded::new(&mut input, Compression::Gzip, true, 1000, &count, &hit).unwrap();
        assert!(decoded.drain().is_err());
        assert!(hit.load(Ordering::Relaxed));
    }

    #[test]
    fn the_tee_gets_every_stored_byte_even_those_not_decoded() {
        let data = sample(5 * CHUNK + 1);
        let (sender, chunks) = mpsc::sync_channel(2);
        let collector = std::thread::spawn(move || {
            chunks
                .into_iter()
                .flat_map(|c: Arc<Vec<u8>>| c.to_vec())
                .collect::<Vec<u8>>()
        });
        let mut reader = &data[4..];
        let mut input = Input::new(data[..4].to_vec(), &mut reader, Some(sender));
        let mut first = vec![0u8; 1000];
        input.read_exact(&mut first).unwrap();
        input.finish().unwrap();
        assert_eq!(collector.join().unwrap(), data);
    }
}
