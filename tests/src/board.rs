//! A signed-in browser, as far as HTTP goes: cookies kept, redirects not
//! followed, forms posted with the page's anti-forgery token. The HTTP-level
//! board tests use it; the real browser test is `tests/board/e2e.mjs`.

use crate::harness::Res;
use std::collections::BTreeMap;

#[derive(Debug)]
pub struct BoardClient {
    pub url: String,
    http: reqwest::blocking::Client,
    cookies: BTreeMap<String, String>,
}

/// One answer: status, body, and the `Set-Cookie` and `Location` headers.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub body: String,
    pub set_cookie: Vec<String>,
    pub location: Option<String>,
    pub csp: Option<String>,
}

impl Page {
    /// The first anti-forgery token on the page.
    pub fn csrf(&self) -> Option<String> {
        let at = self.body.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
        Some(self.body[at..].split('"').next()?.to_string())
    }

    /// The message shown next to a form field, if any.
    pub fn field_error(&self, field: &str) -> Option<String> {
        let marker = format!("data-field=\"{field}\">");
        let at = self.body.find(&marker)? + marker.len();
        Some(self.body[at..].split('<').next()?.to_string())
    }
}

impl BoardClient {
    pub fn new(url: &str) -> Res<BoardClient> {
        Ok(BoardClient {
            url: url.to_string(),
            http: fieldwork_core::sync::client::http_client_builder()?
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            cookies: BTreeMap::new(),
        })
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn finish(&mut self, r: reqwest::blocking::Response) -> Res<Page> {
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let set_cookie: Vec<String> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        for c in &set_cookie {
            if let Some((k, v)) = c.split(';').next().and_then(|kv| kv.split_once('=')) {
                if v.is_empty() {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), v.to_string());
                }
            }
        }
        Ok(Page {
            status: r.status().as_u16(),
            location: header("location"),
            csp: header("content-security-policy"),
            set_cookie,
            body: r.text()?,
        })
    }

    pub fn get(&mut self, path: &str) -> Res<Page> {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .header("cookie", self.cookie_header())
            .send()?;
        self.finish(r)
    }

    /// A GET as this session, from a browser asking for `accept_language`.
    pub fn get_in(&mut self, path: &str, accept_language: &str) -> Res<Page> {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .header("cookie", self.cookie_header())
            .header("accept-language", accept_language)
            .send()?;
        self.finish(r)
    }

    /// A GET with extra headers (a bearer token, say).
    pub fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> Res<Page> {
        let mut b = self.http.get(format!("{}{path}", self.url));
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let r = b.send()?;
        self.finish(r)
    }

    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Res<Page> {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()?;
        self.finish(r)
    }

    /// Sign in through the form; returns the answer to the post.
    pub fn sign_in(&mut self, tenant: &str, person: &str, password: &str) -> Res<Page> {
        let form = self.get("/board/sign-in")?;
        let csrf = form.csrf().ok_or("no token on the sign-in page")?;
        self.post(
            "/board/sign-in",
            &[
                ("csrf", &csrf),
                ("tenant", tenant),
                ("person", person),
                ("password", password),
            ],
        )
    }

    /// The session's anti-forgery token, read off the board.
    pub fn csrf(&mut self) -> Res<String> {
        Ok(self.get("/board")?.csrf().ok_or("not signed in")?)
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.get(name).cloned()
    }

    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.contains_key(name)
    }

    /// Send a cookie as if a browser held it.
    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.into(), value.into());
    }
}

/// `application/x-www-form-urlencoded` for one key or value.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An order the desk dispatched to `eng-a`, visited and signed off on a
/// phone enrolled in `dir`, and synced: it waits for its follow-up call.
pub fn serviced_order(
    server: &crate::harness::Server,
    desk: &crate::harness::Desk,
    dir: &std::path::Path,
    n: u32,
) -> Res<String> {
    desk.ok(
        "POST",
        "/api/catalog",
        Some(serde_json::to_value(crate::relay())?),
    )?;
    let id = desk.dispatch(n, "eng-a")?;
    let home = dir.join(format!("phone-{n}"));
    std::fs::create_dir_all(&home)?;
    let phone = crate::harness::Device::enrol(server, desk, "eng-a", &home, chrono_now())?;
    phone.sync.set_online(true);
    phone.sync.sync_now()?;
    phone.fw.receive_stock("RLY", 1)?;
    crate::play_visit(&phone.fw, &id, &|ms| phone.clock.advance_ms(ms))?;
    phone.sync.sync_now()?;
    Ok(id)
}

/// Now, by the system clock, in milliseconds.
pub fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

// ---- What the board tests share ----------------------------------------

/// The board password the tests set.
pub const PASSWORD: &str = "correct horse battery";

// A fixture for tests: failing here fails the test, loudly.
#[allow(clippy::unwrap_used)]
/// A server on `b`, with `desk` signed in to the board (not a supervisor).
pub fn setup(
    b: &crate::backend::Backend,
) -> (
    tempfile::TempDir,
    crate::harness::Server,
    crate::harness::Desk,
    BoardClient,
) {
    let dir = tempfile::tempdir().unwrap();
    let (server, desk) = crate::harness::Server::start_on(b).unwrap();
    server
        .state
        .directory
        .set_password("acme", "desk", PASSWORD, false)
        .unwrap();
    let mut board = BoardClient::new(&server.url).unwrap();
    assert_eq!(board.sign_in("acme", "desk", PASSWORD).unwrap().status, 303);
    (dir, server, desk, board)
}

// A fixture for tests: failing here fails the test, loudly.
#[allow(clippy::unwrap_used)]
/// Take an order through the intake form; returns its id.
pub fn take_order(b: &mut BoardClient, csrf: &str, name: &str) -> String {
    let p = b.post("/board/intake", &valid_intake(csrf, name)).unwrap();
    assert_eq!(p.status, 303, "{}", p.body);
    p.location.unwrap().rsplit('/').next().unwrap().to_string()
}

// A fixture for tests: failing here fails the test, loudly.
#[allow(clippy::unwrap_used)]
/// How many orders the dispatcher API lists.
pub fn order_count(desk: &crate::harness::Desk) -> usize {
    desk.ok("GET", "/api/orders?limit=500", None)
        .unwrap()
        .as_array()
        .unwrap()
        .len()
}

/// An intake form with every field it needs.
pub fn valid_intake<'a>(csrf: &'a str, name: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("channel", "phone"),
        ("customer.name", name),
        ("customer.phone", "+86 21 5555 0101"),
        ("customer.address", "上海市 1 号"),
        ("product.model", "AC-900"),
        ("product.serial", "SN-1"),
        ("fault.symptoms", "no cooling"),
        ("category", "product_quality"),
        ("priority", "urgent"),
    ]
}
