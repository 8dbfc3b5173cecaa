//! Whether a request reached the server over HTTPS, and cookies marked
//! `Secure` when it did. The server itself speaks plain HTTP behind a TLS
//! terminator, so it knows HTTPS from its configuration: a public `https://`
//! URL, or `X-Forwarded-Proto: https` set by a proxy it was told to trust
//! (the header from anyone else is ignored, or a client could choose).

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// How the server is reached, from `fieldwork serve --public-url URL
/// --trusted-proxy IP[,IP…]`.
#[derive(Debug, Clone, Default)]
pub struct Reached {
    /// The public URL is `https://…`: every request came over HTTPS.
    pub public_https: bool,
    /// Peers whose `X-Forwarded-Proto` is believed.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Reached {
    /// From the public URL (if any) and the trusted proxies; a URL that is
    /// neither http nor https, or an address that is not one, is an error
    /// naming the option.
    pub fn new(public_url: Option<&str>, proxies: Option<&str>) -> Result<Reached, String> {
        let public_https = match public_url {
            None => false,
            Some(u) if u.starts_with("https://") => true,
            Some(u) if u.starts_with("http://") => false,
            Some(_) => return Err("--public-url must start with https:// or http://".into()),
        };
        let trusted_proxies = proxies
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                s.trim()
                    .parse()
                    .map_err(|_| format!("--trusted-proxy: {s:?} is not an IP address"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Reached {
            public_https,
            trusted_proxies,
        })
    }

    fn over_https(&self, req: &Request) -> bool {
        if self.public_https {
            return true;
        }
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let trusted = peer.is_some_and(|p| self.trusted_proxies.contains(&p));
        trusted
            && req
                .headers()
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
    }
}

/// Middleware: add `Secure` to every cookie set on a request that came
/// over HTTPS.
pub async fn secure_cookies(
    State(reached): State<Arc<Reached>>,
    req: Request,
    next: Next,
) -> Response {
    let https = reached.over_https(&req);
    let mut resp = next.run(req).await;
    if https {
        let cookies: Vec<HeaderValue> = resp
            .headers_mut()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| HeaderValue::from_str(&format!("{v}; Secure")).ok())
            .collect();
        if !cookies.is_empty() {
            resp.headers_mut().remove(header::SET_COOKIE);
            for c in cookies {
                resp.headers_mut().append(header::SET_COOKIE, c);
            }
        }
    }
    resp
}
