//! Bodies in the content codings the servers speak (gzip, brotli), made and read back by
//! tests with the reference crates, independent of the servers' own compression layers.

use std::io::{Read, Write};

/// `bytes` gzipped.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(bytes)
        .unwrap_or_else(|err| panic!("gzip: {err}"));
    encoder.finish().unwrap_or_else(|err| panic!("gzip: {err}"))
}

/// `bytes` gunzipped.
pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut plain)
        .unwrap_or_else(|err| panic!("not gzip: {err}"));
    plain
}

/// `bytes` in brotli.
pub fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut compressed = Vec::new();
    brotli::BrotliCompress(
        &mut &bytes[..],
        &mut compressed,
        &brotli::enc::BrotliEncoderParams::default(),
    )
    .unwrap_or_else(|err| panic!("brotli: {err}"));
    compressed
}

/// `bytes` decoded from brotli.
pub fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut plain)
        .unwrap_or_else(|err| panic!("not brotli: {err}"));
    plain
}
