//! The embeddable widget's server side: a key made by an admin; the
//! loader's question answered only for the key's sites (CORS for that
//! origin alone); the panel framed only by them (`frame-ancestors`); a
//! request through the widget held to the key's queues, kept in a
//! partitioned cookie, and carrying the customer the site vouched for.
//! (The browser side, a real cross-site embed with media, is
//! `end2end/tests/widget.spec.ts`.)

mod common;

use app::model::Role;
use common::{add_queue, TestApp};
use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

const SHOP: &str = "https://shop.example";

struct Made {
    id: String,
    key: String,
    secret: String,
}

async fn add_widget(app: &TestApp, admin: &reqwest::Client, queues: &[&str]) -> Made {
    let mut form = vec![
        ("name".to_owned(), "Shop".to_owned()),
        ("origins".to_owned(), format!("{SHOP}/\nhttp://localhost:8080")),
        ("accent".to_owned(), "#AA3300".to_owned()),
        ("greeting".to_owned(), "Hello from the shop".to_owned()),
    ];
    form.extend(queues.iter().enumerate().map(|(i, queue)| (format!("queues[{i}]"), (*queue).to_owned())));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let response = app.call(admin, "widgets/add", &form).await;
    assert_eq!(response.status(), StatusCode::OK);
    let made: Value = response.json().await.unwrap();
    assert_eq!(made["widget"]["origins"], json!([SHOP, "http://localhost:8080"]));
    assert_eq!(made["widget"]["accent"], "#aa3300");
    Made {
        id: made["widget"]["id"].as_str().unwrap().to_owned(),
        key: made["widget"]["key"].as_str().unwrap().to_owned(),
        secret: made["secret"].as_str().unwrap().to_owned(),
    }
}

async fn config(app: &TestApp, key: &str, origin: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(app.url(&format!("/widget/config?key={key}")));
    if let Some(origin) = origin {
        request = request.header(header::ORIGIN, origin);
    }
    request.send().await.unwrap()
}

fn header_of(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get(name).map(|value| value.to_str().unwrap().to_owned())
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn only_the_keys_sites_may_show_or_frame_the_widget(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in(Role::Admin).await;
    let queue = add_queue(&pool, "Shop help", "push", "longest_idle").await;
    let made = add_widget(&app, &admin, &[&queue.to_string()]).await;

    // The loader is served to anyone, as a script.
    let loader = reqwest::get(app.url("/widget.js")).await.unwrap();
    assert_eq!(loader.status(), StatusCode::OK);
    assert_eq!(header_of(&loader, "content-type").as_deref(), Some("text/javascript; charset=utf-8"));
    assert!(loader.text().await.unwrap().contains("/widget/config?key="));
    // Compressed, it stays small (issue 32: under 5 kB).
    let compressed = reqwest::Client::new().get(app.url("/widget.js")).header("accept-encoding", "br").send().await.unwrap();
    assert_eq!(header_of(&compressed, "content-encoding").as_deref(), Some("br"));
    let bytes = compressed.bytes().await.unwrap().len();
    assert!(bytes < 5_000, "the loader is {bytes} bytes compressed");

    // The key's site may read the answer; CORS names that origin alone.
    let allowed = config(&app, &made.key, Some(SHOP)).await;
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(header_of(&allowed, "access-control-allow-origin").as_deref(), Some(SHOP));
    assert_eq!(allowed.json::<Value>().await.unwrap()["accent"], "#aa3300");
    // Any other site, or none, or an unknown key: refused, unreadable.
    for (key, origin, status, code) in [
        (made.key.as_str(), Some("https://evil.example"), StatusCode::FORBIDDEN, "origin_not_allowed"),
        (made.key.as_str(), Some("http://localhost:8081"), StatusCode::FORBIDDEN, "origin_not_allowed"),
        (made.key.as_str(), None, StatusCode::FORBIDDEN, "origin_not_allowed"),
        ("wk_nosuchkeynosuchkeynosu", Some(SHOP), StatusCode::NOT_FOUND, "unknown_key"),
    ] {
        let refused = config(&app, key, origin).await;
        assert_eq!(refused.status(), status, "{origin:?}");
        assert_eq!(header_of(&refused, "access-control-allow-origin"), None);
        assert_eq!(refused.json::<Value>().await.unwrap()["error"]["code"], code);
    }

    // The panel may be framed by the key's sites only; every other page by
    // none.
    let panel = reqwest::get(app.url(&format!("/widget?key={}", made.key))).await.unwrap();
    assert_eq!(panel.status(), StatusCode::OK);
    let policy = header_of(&panel, "content-security-policy").unwrap();
    assert!(policy.contains(&format!("frame-ancestors {SHOP} http://localhost:8080")), "{policy}");
    assert_eq!(header_of(&panel, "x-frame-options"), None);
    let text = panel.text().await.unwrap();
    assert!(text.contains("Hello from the shop") && text.contains("Shop help"), "{text}");
    let theme = reqwest::get(app.url(&format!("/widget/theme.css?key={}", made.key))).await.unwrap().text().await.unwrap();
    assert!(theme.contains("--accent: #aa3300"), "{theme}");
    for (page, status) in [("/widget?key=wk_nosuchkeynosuchkeynosu", StatusCode::NOT_FOUND), ("/", StatusCode::OK)] {
        let response = reqwest::get(app.url(page)).await.unwrap();
        assert_eq!(response.status(), status, "{page}");
        assert!(header_of(&response, "content-security-policy").unwrap().contains("frame-ancestors 'none'"), "{page}");
        assert_eq!(header_of(&response, "x-frame-options").as_deref(), Some("DENY"), "{page}");
    }

    // Disabled: nothing for anyone, at once.
    let disabled = app.call(&admin, "widgets/enabled", &[("id", &made.id), ("enabled", "false")]).await;
    assert_eq!(disabled.status(), StatusCode::OK);
    assert_eq!(config(&app, &made.key, Some(SHOP)).await.status(), StatusCode::NOT_FOUND);
    let panel = reqwest::get(app.url(&format!("/widget?key={}", made.key))).await.unwrap();
    assert_eq!(panel.status(), StatusCode::NOT_FOUND);
    assert!(header_of(&panel, "content-security-policy").unwrap().contains("frame-ancestors 'none'"));
    assert!(panel.text().await.unwrap().contains("Help is not available here"));

    // Only admins manage keys; bad settings are named.
    let agent = app.signed_in(Role::Agent).await;
    assert_eq!(app.call(&agent, "widgets/list", &[]).await.status(), StatusCode::FORBIDDEN);
    let q = queue.to_string();
    for (origins, accent, message) in [
        ("https://shop.example/help", "#aa3300", "is not a site's address"),
        ("", "#aa3300", "give at least one"),
        (SHOP, "red", "Colour must be like"),
    ] {
        let form = [("name", "X"), ("origins", origins), ("queues[0]", q.as_str()), ("accent", accent), ("greeting", "Hi")];
        let bad = app.call(&admin, "widgets/add", &form).await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        assert!(bad.text().await.unwrap().contains(message), "{message}");
    }
    let no_queue = [("name", "X"), ("origins", SHOP), ("accent", "#aa3300"), ("greeting", "Hi")];
    assert_eq!(app.call(&admin, "widgets/add", &no_queue).await.status(), StatusCode::BAD_REQUEST);
}

fn identity(secret: &str, claims: Value) -> String {
    encode(&Header::default(), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_request_through_the_widget_keeps_to_its_queues_and_trusts_only_the_sites_signature(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.signed_in(Role::Admin).await;
    let offered = add_queue(&pool, "Shop help", "push", "longest_idle").await;
    let other = add_queue(&pool, "Internal", "push", "longest_idle").await;
    let made = add_widget(&app, &admin, &[&offered.to_string()]).await;
    let exp = time::OffsetDateTime::now_utc().unix_timestamp() + 300;
    let request = |queue: String, identity: String| {
        let app_base = app.url("/api/help/request");
        let key = made.key.clone();
        async move {
            reqwest::Client::new()
                .post(app_base)
                .header("accept", "application/json")
                .form(&[
                    ("queue", queue.as_str()),
                    ("name", "Typed Name"),
                    ("reason", "Where is my parcel?"),
                    ("channel", "chat"),
                    ("widget", key.as_str()),
                    ("identity", identity.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };

    // A queue the key does not offer is refused.
    let refused = request(other.to_string(), String::new()).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    // A token not signed with the key's secret is refused, and says why.
    let forged = identity("not the secret", json!({"name": "Mallory", "aud": made.key, "jti": "j-0", "exp": exp}));
    let refused = request(offered.to_string(), forged).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("not signed with this widget's secret"));
    assert_eq!(sqlx::query_scalar::<_, i64>("SELECT count(*) FROM help_sessions").fetch_one(&pool).await.unwrap(), 0);

    // Signed by the site: the name and email it vouched for are the
    // customer's, and the token is kept in a partitioned cookie.
    let token = identity(
        &made.secret,
        json!({"name": "Wanda Known", "email": "wanda@example.com", "sub": "crm-7", "aud": made.key, "jti": "j-1", "exp": exp}),
    );
    let checked = app.call(&reqwest::Client::new(), "widgets/identify", &[("key", &made.key), ("token", &token)]).await;
    assert_eq!(
        checked.json::<Value>().await.unwrap(),
        json!({"name": "Wanda Known", "email": "wanda@example.com", "reference": "crm-7"})
    );
    let entered = request(offered.to_string(), token.clone()).await;
    assert_eq!(entered.status(), StatusCode::OK);
    // The same token again (a replay by whoever saw it): refused.
    let replayed = request(offered.to_string(), token).await;
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    assert!(replayed.text().await.unwrap().contains("used already"));
    // Signed for another widget's key: refused.
    let elsewhere = identity(&made.secret, json!({"name": "Wanda Known", "aud": "wk_another", "jti": "j-2", "exp": exp}));
    assert!(request(offered.to_string(), elsewhere).await.text().await.unwrap().contains("not this widget's key"));
    let cookie = header_of(&entered, "set-cookie").unwrap();
    assert!(cookie.contains("SameSite=None") && cookie.contains("Secure") && cookie.contains("Partitioned"), "{cookie}");
    let row: (String, Option<String>, bool, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT customer_name, verified_email, identified, external_reference, widget_id::text FROM help_sessions",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        row,
        ("Wanda Known".to_owned(), Some("wanda@example.com".to_owned()), true, Some("crm-7".to_owned()), Some(made.id.clone()))
    );

    // Without a token the customer is who they typed, not identified.
    assert_eq!(request(offered.to_string(), String::new()).await.status(), StatusCode::OK);
    let typed: (bool, Option<String>) =
        sqlx::query_as("SELECT identified, verified_email FROM help_sessions WHERE customer_name = 'Typed Name'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(typed, (false, None));
}
