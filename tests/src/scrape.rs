//! Scraping the gateway's Prometheus endpoint over real HTTP, and reading
//! the exposition's samples.

use std::{
    collections::BTreeMap,
    net::{SocketAddr, TcpListener},
};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A loopback address no one listens on right now.
pub fn free_loopback_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address")
}

/// `GET /metrics` over plain HTTP/1.1: (content type, body).
pub async fn scrape(addr: SocketAddr) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect to the metrics endpoint");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: metrics\r\nConnection: close\r\n\r\n")
        .await
        .expect("send the scrape");
    let mut raw = String::new();
    stream
        .read_to_string(&mut raw)
        .await
        .expect("read the scrape");
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP reply");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let content_type = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_owned())
        })
        .expect("a content type");
    (content_type, body.to_owned())
}

/// Every sample of the exposition: series (name and labels) → value.
pub fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("`series value`");
            (
                series.to_owned(),
                value
                    .parse()
                    .unwrap_or_else(|_| panic!("a number in {line}")),
            )
        })
        .collect()
}

/// The sum of the samples of `name` whose labels include every `labels` pair.
pub fn sum(samples: &BTreeMap<String, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|(series, _)| {
            series.strip_prefix(name).is_some_and(|rest| {
                (rest.is_empty() || rest.starts_with('{'))
                    && labels
                        .iter()
                        .all(|(key, value)| rest.contains(&format!("{key}=\"{value}\"")))
            })
        })
        .map(|(_, value)| value)
        .sum()
}
