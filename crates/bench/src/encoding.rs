//! Answers as they travel: the bytes the gateway sent (compressed or not), counted, then
//! decoded here rather than by the HTTP client, so that the count is of what crossed the wire.

use std::io::Read;

use anyhow::Context;

/// The most a decoded answer may grow to; the benchmark's largest (a 1,000-license dashboard)
/// is a few MiB, so beyond this something is wrong and the request fails instead of the
/// benchmark eating memory.
const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;

/// `body` decoded per its `Content-Encoding` (none, `gzip` or `br`, the codings the servers
/// speak).
pub fn decode(content_encoding: Option<&str>, body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let coding = content_encoding.map(|c| c.trim().to_ascii_lowercase());
    let reader: Box<dyn Read + '_> = match coding.as_deref() {
        None | Some("" | "identity") => return Ok(body.to_vec()),
        Some("gzip") => Box::new(flate2::read::GzDecoder::new(body)),
        Some("br") => Box::new(brotli::Decompressor::new(body, 4096)),
        Some(other) => anyhow::bail!("unexpected Content-Encoding `{other}`"),
    };
    let mut plain = Vec::new();
    reader
        .take(MAX_DECODED_BYTES + 1)
        .read_to_end(&mut plain)
        .with_context(|| format!("cannot decode the {coding:?} answer"))?;
    anyhow::ensure!(
        plain.len() as u64 <= MAX_DECODED_BYTES,
        "the decoded answer is over {MAX_DECODED_BYTES} bytes"
    );
    Ok(plain)
}

/// The size of a response's status line and headers in HTTP/1.1's text form
/// (`HTTP/1.1 200 OK\r\n`, `name: value\r\n` each, then `\r\n`), chunk framing not counted.
pub fn header_bytes(status: reqwest::StatusCode, headers: &reqwest::header::HeaderMap) -> u64 {
    let status_line =
        "HTTP/1.1 ".len() + 3 + 1 + status.canonical_reason().map_or(0, str::len) + "\r\n".len();
    let fields: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + ": ".len() + value.len() + "\r\n".len())
        .sum();
    (status_line + fields + "\r\n".len()) as u64
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const TEXT: &[u8] = br#"{"data":{"customer":{"name":"Dashboard Bench 1"}}}"#;

    #[test]
    fn decodes_gzip_brotli_and_plain() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(TEXT).unwrap();
        let gz = gz.finish().unwrap();
        let mut br = Vec::new();
        brotli::BrotliCompress(
            &mut &TEXT[..],
            &mut br,
            &brotli::enc::BrotliEncoderParams::default(),
        )
        .unwrap();
        assert_eq!(decode(Some("gzip"), &gz).unwrap(), TEXT);
        assert_eq!(decode(Some("br"), &br).unwrap(), TEXT);
        assert_eq!(decode(None, TEXT).unwrap(), TEXT);
        assert!(
            decode(Some("gzip"), TEXT).is_err(),
            "plain text is not gzip"
        );
        assert!(decode(Some("zstd"), &gz).is_err());
    }

    #[test]
    fn counts_the_status_line_and_headers() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        // "HTTP/1.1 200 OK\r\n" + "content-type: application/json\r\n" + "\r\n"
        assert_eq!(header_bytes(reqwest::StatusCode::OK, &headers), 17 + 32 + 2);
    }
}
