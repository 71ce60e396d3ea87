//! Static files served from memory, each compressed once per coding instead of per request:
//! the gzip (level 9) and brotli (quality 9) variants are made the first time a client asks
//! for them (on a blocking thread; concurrent askers wait for the same one), then kept. The variant
//! is chosen from `Accept-Encoding` by the compression layer's own rule (highest q-value, brotli
//! before gzip on a tie, `*` ignored); a variant that would not be smaller is not served.

use std::io::Write;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use tokio::sync::OnceCell;

use crate::encoding::Precompressed;

/// Brotli's quality for assets: the best before the slow levels (10 and 11 shrink the 3.5 MB
/// explorer script by another 8 % but take eight times as long to make).
const BROTLI_QUALITY: i32 = 9;
/// Brotli's window for assets (2^22 bytes: what browsers decode without extra memory).
const BROTLI_WINDOW: i32 = 22;

/// A content coding of a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    /// The coding `Accept-Encoding` prefers among identity, gzip and brotli.
    pub fn preferred(headers: &HeaderMap) -> Self {
        headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|item| {
                let mut parts = item.split(';');
                let coding = match parts.next()?.trim().to_ascii_lowercase().as_str() {
                    "gzip" | "x-gzip" => Coding::Gzip,
                    "br" => Coding::Brotli,
                    _ => return None,
                };
                let quality = match parts.next() {
                    None => 1000,
                    Some(parameter) => q_value(parameter)?,
                };
                (quality > 0).then_some((quality, coding))
            })
            .max()
            .map_or(Coding::Identity, |(_, coding)| coding)
    }

    fn name(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some("gzip"),
            Coding::Brotli => Some("br"),
        }
    }
}

/// `q=0.5` as thousandths (500); `None` when malformed (the coding is then ignored).
fn q_value(parameter: &str) -> Option<u16> {
    let value = parameter.trim().strip_prefix("q=")?;
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let fraction = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(fraction),
        "1" if fraction == 0 => Some(1000),
        _ => None,
    }
}

/// One static file: its bytes, type and caching, and its compressed variants once made.
pub struct Asset {
    bytes: &'static [u8],
    content_type: HeaderValue,
    cache_control: HeaderValue,
    gzip: OnceCell<Option<Bytes>>,
    brotli: OnceCell<Option<Bytes>>,
}

impl Asset {
    /// A file with `content_type` and `cache_control` (e.g. `"no-cache"`).
    pub const fn new(
        bytes: &'static [u8],
        content_type: &'static str,
        cache_control: &'static str,
    ) -> Self {
        Self {
            bytes,
            content_type: HeaderValue::from_static(content_type),
            cache_control: HeaderValue::from_static(cache_control),
            gzip: OnceCell::const_new(),
            brotli: OnceCell::const_new(),
        }
    }

    /// The file's bytes, as served to a client that takes no compression.
    pub fn bytes(&self) -> &'static [u8] {
        self.bytes
    }

    /// The file for a request with `headers`, in the coding they prefer (made the first time),
    /// with `Content-Encoding`, `Vary: Accept-Encoding`, `X-Content-Type-Options: nosniff` and
    /// its caching. Marked [`Precompressed`], so the compression layer leaves it alone.
    pub async fn respond(&'static self, headers: &HeaderMap) -> Response {
        let (coding, body) = match Coding::preferred(headers) {
            Coding::Identity => (Coding::Identity, None),
            coding => (coding, self.variant(coding).await),
        };
        let (coding, body) = match body {
            Some(body) => (coding, body),
            None => (Coding::Identity, Bytes::from_static(self.bytes)),
        };
        let mut response = Response::new(Body::from(body));
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, self.content_type.clone());
        headers.insert(header::CACHE_CONTROL, self.cache_control.clone());
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if let Some(name) = coding.name() {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
        }
        response.extensions_mut().insert(Precompressed);
        response
    }

    /// The variant in `coding`, made on first use; `None` when it would not be smaller (or
    /// could not be made: then identity is served, and the next request tries again).
    async fn variant(&'static self, coding: Coding) -> Option<Bytes> {
        let cell = match coding {
            Coding::Gzip => &self.gzip,
            Coding::Brotli => &self.brotli,
            Coding::Identity => return None,
        };
        let made = cell
            .get_or_try_init(|| async {
                let bytes = self.bytes;
                let compressed = tokio::task::spawn_blocking(move || compress(bytes, coding))
                    .await
                    .map_err(|error| tracing::error!(%error, "compressing an asset failed"))?;
                Ok::<_, ()>((compressed.len() < bytes.len()).then(|| Bytes::from(compressed)))
            })
            .await;
        made.ok().cloned().flatten()
    }
}

/// `bytes` compressed in `coding` (identity: as they are).
pub(crate) fn compress(bytes: &[u8], coding: Coding) -> Vec<u8> {
    match coding {
        Coding::Identity => bytes.to_vec(),
        Coding::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            // Writing to a Vec cannot fail.
            match encoder.write_all(bytes).and_then(|()| encoder.finish()) {
                Ok(compressed) => compressed,
                Err(_) => bytes.to_vec(),
            }
        }
        Coding::Brotli => {
            let mut compressed = Vec::new();
            let params = brotli::enc::BrotliEncoderParams {
                quality: BROTLI_QUALITY,
                lgwin: BROTLI_WINDOW,
                ..Default::default()
            };
            match brotli::BrotliCompress(&mut &bytes[..], &mut compressed, &params) {
                Ok(_) => compressed,
                Err(_) => bytes.to_vec(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn the_coding_follows_the_q_values_and_prefers_brotli_on_a_tie() {
        for (accept, expected) in [
            ("gzip, deflate, br", Coding::Brotli),
            ("gzip", Coding::Gzip),
            ("GZIP", Coding::Gzip),
            ("br;q=0.5, gzip", Coding::Gzip),
            ("br;q=0.5, gzip;q=0.25", Coding::Brotli),
            ("br;q=0, gzip;q=0", Coding::Identity),
            ("*", Coding::Identity),
            ("deflate, identity", Coding::Identity),
            ("br;q=2, gzip", Coding::Gzip),
            ("br;q=1.000, gzip;q=0.999", Coding::Brotli),
        ] {
            assert_eq!(Coding::preferred(&accepting(accept)), expected, "{accept}");
        }
        assert_eq!(Coding::preferred(&HeaderMap::new()), Coding::Identity);
    }

    static TEXT: Asset = Asset::new(
        b"a text that repeats, a text that repeats, a text that repeats, a text that repeats",
        "text/plain",
        "no-cache",
    );
    static TINY: Asset = Asset::new(b"x", "text/plain", "no-cache");

    #[tokio::test]
    async fn a_variant_is_made_once_and_an_incompressible_file_is_served_as_it_is() {
        let first = TEXT.respond(&accepting("gzip")).await;
        assert_eq!(first.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(first.headers()[header::VARY], "accept-encoding");
        let made = TEXT.gzip.get().cloned().flatten().unwrap();
        let again = TEXT.variant(Coding::Gzip).await.unwrap();
        assert_eq!(
            again.as_ptr(),
            made.as_ptr(),
            "the same bytes, not made again"
        );
        let tiny = TINY.respond(&accepting("br")).await;
        assert!(tiny.headers().get(header::CONTENT_ENCODING).is_none());
    }
}
