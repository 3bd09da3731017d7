//! A panel's reply and the one place it is classified by its status line,
//! before any panel code reads its body: 3xx (never followed), 429 and 5xx are
//! errors here; only 2xx and 4xx replies reach a panel's reader. Also the
//! bounded, secret-free excerpts that errors quote of a reply.

use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;

use crate::AdapterError;
use crate::Result;

/// Replies larger than this are refused as a protocol error.
pub(super) const MAX_REPLY_BYTES: usize = 8 * 1024 * 1024;

/// A `Retry-After` in seconds (the HTTP-date form is not used by panels).
pub(super) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The error of a reply over [`MAX_REPLY_BYTES`], quoting its start.
pub(super) fn too_large(body: &[u8]) -> AdapterError {
    AdapterError::protocol(
        format!("reply larger than {MAX_REPLY_BYTES} bytes"),
        &String::from_utf8_lossy(body),
    )
}

/// How much of an unreadable reply an error quotes.
const EXCERPT_CHARS: usize = 200;

/// A panel's reply: status and whole body. Debug shows the body's length only:
/// a body may carry a login token.
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// The body, at most 8 MiB.
    pub body: Vec<u8>,
    /// The panel's `Retry-After`, if it sent one.
    pub retry_after: Option<Duration>,
    /// The `Location` of a redirect, resolved against the request's URL.
    pub location: Option<Url>,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("body_bytes", &self.body.len())
            .field("retry_after", &self.retry_after)
            .finish_non_exhaustive()
    }
}

impl Reply {
    /// The reply, if its status line lets a panel's reader see it (2xx or
    /// 4xx); else the error the status means. A 5xx is first offered to
    /// `refusal`, for panels that document refusals sent with a 5xx: only a
    /// definite refusal ([`AdapterError::is_refusal`]) is taken from it, and a
    /// 5xx is never a success.
    pub(super) fn checked(
        self,
        refusal: impl FnOnce(&Reply) -> Option<AdapterError>,
    ) -> Result<Reply> {
        let status = self.status;
        if status.is_redirection() {
            return Err(AdapterError::Misconfigured(format!(
                "the panel answered HTTP {} redirecting to {} (panelgate follows no redirects): \
                 check the server's base_url",
                status.as_u16(),
                self.location
                    .as_ref()
                    .map_or_else(|| "nowhere".to_owned(), origin)
            )));
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(AdapterError::RateLimited {
                retry_after: self.retry_after,
            });
        }
        if status.is_server_error() {
            if let Some(refused) = refusal(&self).filter(AdapterError::is_refusal) {
                return Err(refused);
            }
            return Err(AdapterError::Unavailable {
                message: format!("HTTP {}: {}", status.as_u16(), self.excerpt()),
            });
        }
        if status.is_informational() {
            return Err(AdapterError::protocol(
                format!("unexpected HTTP {}", status.as_u16()),
                "",
            ));
        }
        Ok(self)
    }

    /// Parses the body as JSON; an HTML page or broken JSON is a protocol error
    /// quoting the start of the body.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|err| {
            AdapterError::protocol(
                format!(
                    "HTTP {} with a body that is not the expected JSON ({err})",
                    self.status.as_u16()
                ),
                &self.text(),
            )
        })
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A bounded, single-line, secret-free excerpt of the body.
    pub fn excerpt(&self) -> String {
        excerpt(&self.text())
    }

    /// Whether this is a 404 that says nothing of the thing asked for (an
    /// HTML page, an empty body, or a bare "Not found"): the endpoint itself
    /// is missing, so the server's base URL is wrong.
    pub fn is_missing_endpoint(&self, names_the_thing: impl Fn(&str) -> bool) -> bool {
        if self.status != StatusCode::NOT_FOUND {
            return false;
        }
        let text = self.text().to_ascii_lowercase();
        let json = serde_json::from_str::<serde_json::Value>(&text).is_ok_and(|v| v.is_object());
        !json || !names_the_thing(&text)
    }

    /// The error for a reply from an endpoint the panel lacks.
    pub fn missing_endpoint(&self) -> AdapterError {
        AdapterError::Misconfigured(format!(
            "the panel has no such endpoint (HTTP 404: {}): check the server's base_url",
            self.excerpt()
        ))
    }
}

#[cfg(test)]
impl Reply {
    /// A reply of `status` with `body`, as tests make them.
    pub(crate) fn new(status: u16, body: &str) -> Self {
        Reply {
            status: StatusCode::from_u16(status).expect("a valid status"),
            body: body.as_bytes().to_vec(),
            retry_after: None,
            location: None,
        }
    }
}

/// `scheme://host:port` of a URL: where a redirect points, without a path or
/// query that could carry a secret.
fn origin(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port_or_known_default() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// A bounded, single-line excerpt of `text` with anything that looks like a
/// secret masked: the values of keys such as `token` or `password`, and
/// token-shaped words (JWTs, long mixes of letters and digits).
pub fn excerpt(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let masked = mask_tokens(&mask_secret_values(&line));
    match masked.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &masked[..cut]),
        None => masked,
    }
}

/// What replaces a masked secret.
const MASK: &str = "***";

/// Key words whose values are secrets (`"access_token": "..."`, `password=...`).
const SECRET_KEYS: &[&str] = &[
    "token", "password", "passwd", "pass", "secret", "key", "jwt", "session", "auth", "url", "link",
];

/// Masks the value after a secret-looking key, quoted or not, up to its end
/// (or the end of the text, for a value cut short).
fn mask_secret_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find([':', '=']) {
        let (before, after) = rest.split_at(at);
        out.push_str(before);
        out.push_str(&after[..1]);
        rest = &after[1..];
        let key = before
            .trim_end_matches(['"', '\'', ' '])
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if key.is_empty() || !SECRET_KEYS.iter().any(|word| key.contains(word)) {
            continue;
        }
        let value = rest.trim_start();
        out.push_str(&rest[..rest.len() - value.len()]);
        let (quote, body) = match value.chars().next() {
            Some(quote @ ('"' | '\'')) => (Some(quote), &value[1..]),
            _ => (None, value),
        };
        let end = match quote {
            Some(quote) => body.find(quote).unwrap_or(body.len()),
            None => body
                .find(|c: char| c == ',' || c == '}' || c == '&' || c.is_whitespace())
                .unwrap_or(body.len()),
        };
        if let Some(quote) = quote {
            out.push(quote);
        }
        if !body[..end].is_empty() && !body[..end].eq_ignore_ascii_case("null") {
            out.push_str(MASK);
        } else {
            out.push_str(&body[..end]);
        }
        rest = &body[end..];
    }
    out.push_str(rest);
    out
}

/// Masks token-shaped words: JWTs (`eyJ...`), and runs of 24 or more
/// token characters mixing letters and digits.
fn mask_tokens(text: &str) -> String {
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || "-_.+/=".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let letters = word.chars().any(|c| c.is_ascii_alphabetic());
        let digits = word.chars().any(|c| c.is_ascii_digit());
        let jwt = word.starts_with("eyJ") && word.len() >= 10;
        if jwt || (word.len() >= 24 && letters && digits) {
            out.push_str(MASK);
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if is_token_char(c) {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_decides_before_the_body() {
        for body in [
            "<html>bad gateway</html>",
            "",
            r#"{"success": true, "result": "success"}"#,
            r#"{"success": false, "error": "User bob already exists"}"#,
        ] {
            assert!(
                matches!(
                    Reply::new(503, body).checked(|_| None),
                    Err(AdapterError::Unavailable { .. })
                ),
                "{body}"
            );
        }
        assert!(matches!(
            Reply::new(429, "{}").checked(|_| None),
            Err(AdapterError::RateLimited { .. })
        ));
        assert!(Reply::new(200, "{}").checked(|_| None).is_ok());
        assert!(Reply::new(404, "{}").checked(|_| None).is_ok());
    }

    #[test]
    fn a_5xx_may_be_a_refusal_but_never_a_success_or_a_vague_failure() {
        let exists = || AdapterError::AlreadyExists {
            entity: crate::Entity::Account,
            key: "bob".into(),
            upstream: None,
        };
        assert!(matches!(
            Reply::new(500, "{}").checked(|_| Some(exists())),
            Err(AdapterError::AlreadyExists { .. })
        ));
        let vague = || AdapterError::OperationFailed {
            upstream: "locked".into(),
        };
        assert!(matches!(
            Reply::new(500, "{}").checked(|_| Some(vague())),
            Err(AdapterError::Unavailable { .. })
        ));
    }

    #[test]
    fn redirects_name_only_the_target_origin() {
        let mut moved = Reply::new(302, "");
        moved.location = Some(Url::parse("https://evil.example:8443/steal?token=abc").unwrap());
        let Err(AdapterError::Misconfigured(message)) = moved.checked(|_| None) else {
            panic!("a redirect is a misconfiguration");
        };
        assert!(message.contains("https://evil.example:8443"), "{message}");
        assert!(
            !message.contains("steal") && !message.contains("abc"),
            "{message}"
        );
    }

    #[test]
    fn missing_endpoints_are_told_from_missing_things() {
        let said = |text: &str| text.contains("user");
        assert!(Reply::new(404, "<html>Not Found</html>").is_missing_endpoint(said));
        assert!(Reply::new(404, r#"{"error": "Not found"}"#).is_missing_endpoint(said));
        assert!(!Reply::new(404, r#"{"error": "User not found"}"#).is_missing_endpoint(said));
        assert!(!Reply::new(400, "<html></html>").is_missing_endpoint(said));
    }

    #[test]
    fn excerpt_is_bounded_and_single_line() {
        let body = format!("<html>\n<body>{}</body></html>", "x ".repeat(500));
        let text = excerpt(&body);
        assert!(!text.contains('\n'));
        assert_eq!(text.chars().count(), EXCERPT_CHARS + 1);
    }

    #[test]
    fn excerpts_mask_secrets_and_token_shaped_words() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhcGkifQ.c2lnbmF0dXJl";
        for (text, secret) in [
            (format!(r#"{{"access_token": "{jwt}", "x": 1}}"#), jwt),
            (
                r#"{"access_token": "eyJhbGciOiJIUz"#.to_owned(),
                "eyJhbGciOiJIUz",
            ),
            ("password=hunter2&user=bob".to_owned(), "hunter2"),
            (r#"{"url": "http://p/login/?t=1"}"#.to_owned(), "login"),
            (
                "session 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b".to_owned(),
                "9f86d08",
            ),
        ] {
            let masked = excerpt(&text);
            assert!(!masked.contains(secret), "{masked}");
            assert!(masked.contains(MASK), "{masked}");
        }
        let plain = r#"{"error": "User bob not found", "id": 42, "token": null}"#;
        assert_eq!(excerpt(plain), plain);
    }
}
