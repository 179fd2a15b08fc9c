//! The layers that guard every request before it reaches a route: who the
//! client is (their address, once), refusing cross-site requests and
//! bodies that are neither a form nor JSON, the security headers on every
//! answer, and JSON errors on the API whatever refused the request.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use app::client::ClientAddr;

/// What the guards need to know about this site.
#[derive(Clone)]
pub struct Shield {
    /// Proxies in front that append to `X-Forwarded-For`.
    pub trusted_proxies: usize,
    /// The site's public origin's host and port (`SWITCHBOARD_PUBLIC_URL`).
    pub public_host: String,
    /// The site is served over HTTPS: browsers are told to keep it so.
    pub https: bool,
}

impl Shield {
    pub fn new(config: &crate::config::Config) -> Self {
        let public_host = authority(&config.public_url).unwrap_or_default().to_ascii_lowercase();
        Self {
            trusted_proxies: config.trusted_proxies,
            public_host,
            https: config.public_url.starts_with("https://") || config.secure_cookies,
        }
    }
}

/// The APIs' paths: every refusal there is JSON, `{"error": "..."}` on the
/// service kit's and `{"error": {"code", "message"}}` on `/api/v1`.
const API_PREFIXES: [&str; 2] = ["/help/", "/api/v1/"];
const API_V1: &str = "/api/v1/";

/// A refusal's body in the shape of the API at `path`.
fn refusal_body(path: &str, status: StatusCode, message: &str) -> String {
    if path.starts_with(API_V1) {
        let code = match status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "invalid_body",
            StatusCode::FORBIDDEN => "forbidden",
            status if status.is_server_error() => "internal",
            _ => "invalid",
        };
        serde_json::json!({ "error": { "code": code, "message": message } }).to_string()
    } else {
        serde_json::json!({ "error": message }).to_string()
    }
}

/// The host and port of an origin or URL (`https://example.com:8443/x` →
/// `example.com:8443`).
fn authority(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    Some(rest.split('/').next().unwrap_or(rest))
}

/// Works out the client's address once and keeps it in the request.
pub async fn client(State(shield): State<Shield>, mut request: Request, next: Next) -> Response {
    let peer =
        request.extensions().get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    let addr = ClientAddr::of(request.headers(), peer, shield.trusted_proxies);
    request.extensions_mut().insert(addr);
    next.run(request).await
}

/// Why a request is refused before it reaches its route.
fn refusal(
    headers: &HeaderMap,
    method: &Method,
    requested: Option<&str>,
    public_host: &str,
) -> Option<(StatusCode, &'static str)> {
    let upgrade = headers.get(header::UPGRADE).is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"websocket"));
    let changes = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !upgrade && !changes {
        return None;
    }
    if !same_site(headers, requested, public_host) {
        return Some((StatusCode::FORBIDDEN, "Requests from other sites are not accepted."));
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    if let Some(content_type) = content_type {
        let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if essence != "application/json" && essence != "application/x-www-form-urlencoded" {
            return Some((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send the body as JSON (application/json) or a form (application/x-www-form-urlencoded).",
            ));
        }
    }
    None
}

/// A browser's request is from this site when its `Origin` is this site
/// (the host it asked for, from `Host` or, in HTTP/2, the request's
/// authority; or the public URL's), or, without an `Origin`, when
/// `Sec-Fetch-Site` says so. A request with neither is not from a browser
/// (an API client), which no other site can make it send.
fn same_site(headers: &HeaderMap, requested: Option<&str>, public_host: &str) -> bool {
    let text = |name| headers.get(name).and_then(|value: &HeaderValue| value.to_str().ok());
    if let Some(origin) = text(header::ORIGIN) {
        let Some(origin_host) = authority(origin).map(str::to_ascii_lowercase) else {
            return false; // "null" and other opaque origins
        };
        let host = text(header::HOST).or(requested).map(str::to_ascii_lowercase);
        return host.as_deref() == Some(origin_host.as_str()) || (!public_host.is_empty() && origin_host == public_host);
    }
    match text(axum::http::HeaderName::from_static("sec-fetch-site")) {
        Some(site) => site == "same-origin" || site == "none",
        None => true,
    }
}

/// Refuses cross-site WebSocket upgrades and state-changing requests, and
/// bodies that are neither JSON nor a form.
pub async fn same_site_only(State(shield): State<Shield>, request: Request, next: Next) -> Response {
    let requested = request.uri().authority().map(|requested| requested.as_str().to_owned());
    if let Some((status, message)) = refusal(request.headers(), request.method(), requested.as_deref(), &shield.public_host) {
        tracing::info!(path = %request.uri().path(), %status, "refused at the door");
        let body = refusal_body(request.uri().path(), status, message);
        return (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response();
    }
    next.run(request).await
}

/// The security headers on every answer. Pages set their own
/// Content-Security-Policy (with the nonce of their inline script); every
/// other answer gets one that allows nothing.
pub async fn security_headers(State(shield): State<Shield>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut set = |name: header::HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::CONTENT_SECURITY_POLICY, "default-src 'none'; frame-ancestors 'none'");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "same-origin");
    set(header::HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(header::HeaderName::from_static("permissions-policy"), "camera=(self), microphone=(self), geolocation=()");
    // Kept by a browser only if checked again before use, unless the answer
    // says otherwise (the bundles and the stylesheet under `/pkg/`, named by
    // their content, are kept a year: `http.rs`): pages and API answers are
    // never used stale, so after an upgrade a page names the new files.
    set(header::CACHE_CONTROL, "no-cache");
    if shield.https {
        set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains");
    }
    // Framing is the policy's `frame-ancestors` (only a widget's panel
    // allows its sites); older browsers read the same "never" here.
    let never_framed = response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|policy| policy.to_str().ok())
        .is_some_and(|policy| policy.contains("frame-ancestors 'none'"));
    if never_framed {
        response.headers_mut().insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

/// Error bodies this short are a message; anything longer is not rewritten.
const MAX_ERROR_TEXT: usize = 16 * 1024;

/// On the API, every refusal is `{"error": "..."}`, including the ones the
/// framework writes (a body that does not parse, a wrong content type, a
/// body too large, an unknown method, an id in the path that is not one).
pub async fn api_errors(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let api = API_PREFIXES.iter().any(|prefix| path.starts_with(prefix));
    let response = next.run(request).await;
    let json =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if !api || json || !(response.status().is_client_error() || response.status().is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = to_bytes(body, MAX_ERROR_TEXT).await.map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned());
    let message = match text {
        Ok(text) if !text.is_empty() => text,
        _ => parts.status.canonical_reason().unwrap_or("Refused").to_owned(),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let body = refusal_body(&path, parts.status, &message);
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn only_this_site_may_upgrade_or_change_things() {
        let public = "chat.example.com";
        let here = headers(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000"), ("upgrade", "websocket")]);
        assert_eq!(refusal(&here, &Method::GET, None, public), None);
        let foreign = headers(&[("host", "127.0.0.1:3000"), ("origin", "https://evil.example"), ("upgrade", "websocket")]);
        assert_eq!(refusal(&foreign, &Method::GET, None, public).map(|r| r.0), Some(StatusCode::FORBIDDEN));
        let proxied = headers(&[("host", "backend:3000"), ("origin", "https://chat.example.com")]);
        assert_eq!(refusal(&proxied, &Method::POST, None, public), None);
        // HTTP/2 names the host in the request's authority, not in `Host`.
        let h2 = headers(&[("origin", "http://127.0.0.1:3000"), ("upgrade", "websocket")]);
        assert_eq!(refusal(&h2, &Method::GET, Some("127.0.0.1:3000"), public), None);
        let null = headers(&[("host", "127.0.0.1:3000"), ("origin", "null")]);
        assert!(refusal(&null, &Method::POST, None, public).is_some());
        let fetched = headers(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "cross-site")]);
        assert!(refusal(&fetched, &Method::POST, None, public).is_some());
        // Reading is allowed from anywhere; an API client sends neither header.
        assert_eq!(refusal(&headers(&[("origin", "https://evil.example")]), &Method::GET, None, public), None);
        assert_eq!(refusal(&headers(&[("content-type", "application/json")]), &Method::POST, None, public), None);
    }

    #[test]
    fn bodies_are_json_or_forms() {
        let plain = headers(&[("content-type", "text/plain")]);
        assert_eq!(refusal(&plain, &Method::POST, None, "").map(|r| r.0), Some(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        let form = headers(&[("content-type", "application/x-www-form-urlencoded; charset=UTF-8")]);
        assert_eq!(refusal(&form, &Method::POST, None, ""), None);
    }
}
