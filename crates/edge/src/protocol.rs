//! Which HTTP a new connection speaks. A client speaking HTTP/2 with prior knowledge (h2c, as
//! Apollo Router and Hive Router do with their subgraphs) opens with the connection preface;
//! anything else is HTTP/1.1. The bytes read to tell are given back to hyper in front of the
//! stream ([`Prefixed`]).
//!
//! Done here rather than with hyper-util's `auto::Builder` (which does the same) so that an
//! HTTP/1.1 connection is hyper's own `http1::Connection`, whose `into_parts` lets a half-sent
//! request head be answered 408 (see `connection`).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The HTTP/2 connection preface (RFC 9113, section 3.4).
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The protocol of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Protocol {
    Http1,
    Http2,
}

/// Reads until the bytes differ from the preface (HTTP/1.1) or are all of it (HTTP/2); at most
/// 24 bytes. Fails when the client closes first. The caller bounds the wait.
pub(crate) async fn sniff(mut stream: TcpStream) -> io::Result<(Protocol, Prefixed)> {
    let mut read = [0u8; PREFACE.len()];
    let mut filled = 0;
    loop {
        let n = stream.read(&mut read[filled..]).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        filled += n;
        let protocol = if read[..filled] != PREFACE[..filled] {
            Protocol::Http1
        } else if filled == PREFACE.len() {
            Protocol::Http2
        } else {
            continue;
        };
        let prefix = Bytes::copy_from_slice(&read[..filled]);
        return Ok((protocol, Prefixed { prefix, stream }));
    }
}

/// A connection whose first bytes were already read: they are read again first.
#[derive(Debug)]
pub(crate) struct Prefixed {
    prefix: Bytes,
    stream: TcpStream,
}

impl Prefixed {
    /// Whether hyper has not read all of the prefix yet.
    pub(crate) fn has_unread_prefix(&self) -> bool {
        !self.prefix.is_empty()
    }

    pub(crate) fn into_stream(self) -> TcpStream {
        self.stream
    }
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.prefix.is_empty() {
            return Pin::new(&mut self.stream).poll_read(cx, buf);
        }
        let n = self.prefix.len().min(buf.remaining());
        let head = self.prefix.split_to(n);
        buf.put_slice(&head);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    use super::*;

    /// Sends `chunks` (each written and flushed apart) and sniffs what the server side sees.
    async fn sniffed(chunks: &[&[u8]]) -> io::Result<(Protocol, Vec<u8>)> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut client = TcpStream::connect(listener.local_addr()?).await?;
        let (server, _) = listener.accept().await?;
        for chunk in chunks {
            client.write_all(chunk).await?;
            client.flush().await?;
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        client.write_all(b"|rest").await?;
        let (protocol, mut prefixed) = sniff(server).await?;
        let mut seen = vec![0u8; 64];
        let mut total = Vec::new();
        while !total.ends_with(b"|rest") {
            let n = prefixed.read(&mut seen).await?;
            total.extend_from_slice(&seen[..n]);
        }
        Ok((protocol, total))
    }

    #[tokio::test]
    async fn the_preface_means_http2_and_anything_else_http1_with_no_byte_lost() {
        let (protocol, bytes) = sniffed(&[PREFACE]).await.unwrap();
        assert_eq!(protocol, Protocol::Http2);
        assert_eq!(bytes, [&PREFACE[..], b"|rest"].concat());
        // The preface in pieces is still the preface.
        let (protocol, _) = sniffed(&[b"PRI * HT", b"TP/2.0\r\n\r\nSM\r\n\r\n"])
            .await
            .unwrap();
        assert_eq!(protocol, Protocol::Http2);
        // HTTP/1.1, even when it starts like the preface.
        for start in [
            &b"GET / HTTP/1.1\r\n"[..],
            b"P",
            b"POST /graphql HTTP/1.1\r\n",
        ] {
            let (protocol, bytes) = sniffed(&[start]).await.unwrap();
            assert_eq!(protocol, Protocol::Http1);
            assert_eq!(bytes, [start, b"|rest"].concat());
        }
    }
}
