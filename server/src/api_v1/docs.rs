//! The API's documentation: the OpenAPI document as JSON, and a reference
//! page rendered from the same document on the server, with nothing fetched
//! from elsewhere.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use utoipa::OpenApi;

use app::engine::events::webhook;
use app::integrations::WebhookType;
use app::state::AppState;

use super::ApiDoc;

/// The document, generated from the handlers' annotations, with the
/// webhooks (OpenAPI 3.1's `webhooks`, which utoipa does not write).
pub fn document() -> Value {
    let mut document = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    document["webhooks"] = webhooks();
    document
}

/// Each webhook type as the request a receiver gets: `{type, timestamp,
/// data}`, `data` being the ids and the type's own fields.
fn webhooks() -> Value {
    let schema = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
    WebhookType::ALL
        .iter()
        .map(|&hook| {
            let ids = schema("WebhookIds");
            let data = match webhook::fields_schema(hook) {
                Some(fields) => json!({ "allOf": [ids, schema(&fields)] }),
                None => ids,
            };
            let body = json!({
                "type": "object",
                "required": ["type", "timestamp", "data"],
                "properties": {
                    "type": { "type": "string", "const": hook.as_str() },
                    "timestamp": { "type": "string", "format": "date-time", "description": "When it happened (UTC)." },
                    "data": data,
                },
            });
            let operation = json!({ "post": {
                "operationId": format!("webhook_{}", hook.as_str().replace('.', "_")),
                "summary": hook.meaning(),
                "description": "Signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`).",
                "tags": ["webhooks"],
                "requestBody": { "required": true, "content": { "application/json": { "schema": body } } },
                "responses": { "2XX": { "description": "Received. Any other answer is tried again later; 410 disables the endpoint." } },
            } });
            (hook.as_str().to_owned(), operation)
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

pub async fn openapi_json() -> Json<Value> {
    Json(document())
}

/// Whether a webhook's `body` is what the document's `webhooks` section
/// publishes for its type (for tests, here and in a receiver's): the type, a timestamp, and `data` with every
/// field its schemas require and none they don't name.
pub fn fits_published(document: &Value, body: &Value) -> Result<(), String> {
    let kind = body["type"].as_str().ok_or("no type")?;
    let schema = &document["webhooks"][kind]["post"]["requestBody"]["content"]["application/json"]["schema"];
    if schema["properties"]["type"]["const"] != kind {
        return Err(format!("{kind} is not published"));
    }
    time::OffsetDateTime::parse(body["timestamp"].as_str().unwrap_or_default(), &time::format_description::well_known::Rfc3339)
        .map_err(|error| format!("timestamp: {error}"))?;
    let data = &schema["properties"]["data"];
    let parts: Vec<&Value> = data["allOf"].as_array().map(|all| all.iter().collect()).unwrap_or_else(|| vec![data]);
    let (mut named, mut required) = (Vec::new(), Vec::new());
    for part in parts {
        let name = part["$ref"].as_str().and_then(|r| r.rsplit('/').next()).ok_or("data is not a published schema")?;
        let published = &document["components"]["schemas"][name];
        named.extend(published["properties"].as_object().into_iter().flatten().map(|(field, _)| field.clone()));
        required.extend(published["required"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned));
    }
    let sent = body["data"].as_object().ok_or("data is not an object")?;
    if let Some(field) = sent.keys().find(|field| !named.contains(field)) {
        return Err(format!("{kind}: data.{field} is not published"));
    }
    if let Some(field) = required.iter().find(|field| !sent.contains_key(*field)) {
        return Err(format!("{kind}: data.{field} is missing"));
    }
    Ok(())
}

/// `/api/v1/docs`: every operation with its parameters, body and answers,
/// and every schema with its fields.
pub async fn reference(State(state): State<AppState>) -> Response {
    let mut page = Html(render(&document(), &state.assets.stylesheet_link())).into_response();
    // Only the site's own stylesheet.
    page.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'self'; frame-ancestors 'none'"),
    );
    page
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// A schema's type as a reader wants it: a referenced schema's name, an
/// array of something, or the plain type (nullable ones marked so).
fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return format!("<a href=\"#schema-{0}\">{0}</a>", escape(name));
    }
    if let Some(any) = schema.get("oneOf").or_else(|| schema.get("anyOf")).and_then(Value::as_array) {
        return any.iter().map(type_of).collect::<Vec<_>>().join(" or ");
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        return all.iter().map(type_of).collect::<Vec<_>>().join(" and ");
    }
    let kind = match schema.get("type") {
        Some(Value::Array(kinds)) => kinds.iter().map(text).collect::<Vec<_>>().join(" or "),
        Some(kind) => text(kind).to_owned(),
        None => "any".to_owned(),
    };
    let kind = match schema.get("items") {
        Some(items) => kind.replace("array", &format!("array of {}", type_of(items))),
        None => kind,
    };
    match schema.get("format").and_then(Value::as_str) {
        Some(format) => format!("{kind} ({})", escape(format)),
        None => kind,
    }
}

fn render(doc: &Value, stylesheet: &str) -> String {
    let mut html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Switchboard API reference</title>\
         {stylesheet}</head><body><main class=\"api-reference\">",
    );
    html += &format!("<h1>{} (version {})</h1>", escape(text(&doc["info"]["title"])), escape(text(&doc["info"]["version"])));
    html += &format!("<p>{}</p>", escape(text(&doc["info"]["description"])));
    html += "<p>The same as an OpenAPI 3.1 document: <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>. \
             Every error is <code>{\"error\": {\"code\", \"message\"}}</code>.</p>";
    if let Some(paths) = doc["paths"].as_object() {
        for (path, operations) in paths {
            for (method, operation) in operations.as_object().into_iter().flatten() {
                html +=
                    &format!("<section class=\"card\"><h2><code>{} {}</code></h2>", escape(&method.to_uppercase()), escape(path));
                let summary = [text(&operation["summary"]), text(&operation["description"])].join(" ");
                html += &format!("<p>{}</p>", escape(summary.trim()));
                if let Some(parameters) = operation["parameters"].as_array() {
                    html += "<h3>Parameters</h3><table><tr><th>name</th><th>in</th><th>type</th><th>required</th><th>meaning</th></tr>";
                    for parameter in parameters {
                        html += &format!(
                            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                            escape(text(&parameter["name"])),
                            escape(text(&parameter["in"])),
                            type_of(&parameter["schema"]),
                            if parameter["required"].as_bool() == Some(true) { "yes" } else { "no" },
                            escape(text(&parameter["description"]))
                        );
                    }
                    html += "</table>";
                }
                if let Some(body) = operation["requestBody"]["content"]["application/json"]["schema"].as_object() {
                    html += &format!("<h3>Body</h3><p>{}</p>", type_of(&Value::Object(body.clone())));
                }
                html += "<h3>Answers</h3><table><tr><th>status</th><th>meaning</th><th>body</th></tr>";
                for (status, response) in operation["responses"].as_object().into_iter().flatten() {
                    let body = response["content"]["application/json"]["schema"]
                        .as_object()
                        .map(|schema| type_of(&Value::Object(schema.clone())));
                    html += &format!(
                        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                        escape(status),
                        escape(text(&response["description"])),
                        body.unwrap_or_default()
                    );
                }
                html += "</table></section>";
            }
        }
    }
    html += "<h2>Webhooks</h2><p>Each is a POST to the endpoint's URL with this body.</p>";
    for (name, item) in doc["webhooks"].as_object().into_iter().flatten() {
        let operation = &item["post"];
        let data = &operation["requestBody"]["content"]["application/json"]["schema"]["properties"]["data"];
        html += &format!(
            "<section class=\"card\"><h3><code>{}</code></h3><p>{}</p><p><code>data</code>: {}</p></section>",
            escape(name),
            escape(text(&operation["summary"])),
            type_of(data)
        );
    }
    html += "<h2>Schemas</h2>";
    for (name, schema) in doc["components"]["schemas"].as_object().into_iter().flatten() {
        html += &format!("<section class=\"card\" id=\"schema-{0}\"><h3>{0}</h3>", escape(name));
        let required: Vec<&str> = schema["required"].as_array().into_iter().flatten().map(text).collect();
        html += "<table><tr><th>field</th><th>type</th><th>required</th><th>meaning</th></tr>";
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            html += &format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(field),
                type_of(property),
                if required.contains(&field.as_str()) { "yes" } else { "no" },
                escape(text(&property["description"]))
            );
        }
        html += "</table></section>";
    }
    html + "</main></body></html>"
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use app::engine::events::webhook::{Webhook, WebhookType};
    use app::engine::events::{About, Event, Logged, TransferStage};
    use app::queue::{Channel, RoutingMode};
    use app::states::{AgentId, AgentState, CallbackOutcome, HelpSessionId, QueueId};

    use super::{document, fits_published};

    /// An event of every webhook type renders as the document publishes it.
    #[test]
    fn every_webhook_payload_is_the_published_one() {
        let queue = QueueId(uuid::Uuid::from_u128(2));
        let events = [
            Event::EnterQueue { channel: Channel::Video, priority: 0 },
            Event::Offer {},
            Event::Connect { mode: RoutingMode::Push },
            Event::EndByAgent {},
            Event::EndByCustomer {},
            Event::WrapUpDone { disposition: "Resolved".into() },
            Event::Cancel {},
            Event::Abandon {},
            Event::Expire {},
            Event::Requeue { reason: "Logged out".into(), talking: true },
            Event::Transfer {
                stage: TransferStage::Failed,
                warm: true,
                to_queue: queue,
                to_agent: None,
                reason: Some("busy".into()),
            },
            Event::CallbackRequested {},
            Event::CallbackAttempt { attempt: 2, outcome: CallbackOutcome::Busy, ends: false },
            Event::AgentState { state: AgentState::NotReady, reason: Some("Lunch".into()) },
            Event::Rated { rating: 5 },
        ];
        let document = document();
        let mut seen = Vec::new();
        for event in events {
            let about = About::help_session(HelpSessionId(uuid::Uuid::from_u128(1)), queue).by(AgentId(uuid::Uuid::from_u128(3)));
            let logged = Logged { id: 9, at: time::OffsetDateTime::now_utc(), about, event };
            let payload = Webhook::of(&logged, Some(4)).unwrap();
            seen.push(payload.kind);
            let body = serde_json::to_value(&payload).unwrap();
            fits_published(&document, &body).unwrap_or_else(|error| panic!("{error}: {body}"));
        }
        assert!(WebhookType::ALL.iter().all(|hook| seen.contains(hook)), "every type is covered");
    }

    /// The document as committed: every change to the contract is a
    /// visible diff of this file in review.
    const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");

    /// What `new` lacks of `old`, by its place in the document: a path or
    /// operation, a schema or property, any other key, or a value of an
    /// enum. Prose (descriptions, summaries, examples) may change.
    fn lost(old: &Value, new: &Value, at: &str, found: &mut Vec<String>) {
        match (old, new) {
            (Value::Object(old), Value::Object(new)) => {
                for (key, value) in old {
                    if matches!(key.as_str(), "description" | "summary" | "example" | "examples") {
                        continue;
                    }
                    match new.get(key) {
                        Some(now) => lost(value, now, &format!("{at}/{key}"), found),
                        None => found.push(format!("{at}/{key}")),
                    }
                }
            }
            (Value::Array(old), Value::Array(new)) if at.ends_with("/enum") => {
                found.extend(old.iter().filter(|value| !new.contains(value)).map(|value| format!("{at}: {value}")));
            }
            _ => {}
        }
    }

    #[test]
    fn a_removed_path_field_or_enum_value_is_found_and_an_addition_is_not() {
        let old = json!({ "paths": { "/a": { "get": {} } },
                          "components": { "schemas": { "S": { "properties": { "x": {}, "state": { "enum": ["on", "off"] } } } } } });
        let grown = json!({ "paths": { "/a": { "get": {}, "put": {} }, "/b": {} },
                            "components": { "schemas": { "S": { "description": "new words",
                                "properties": { "x": {}, "y": {}, "state": { "enum": ["on", "off", "paused"] } } } } } });
        let mut found = Vec::new();
        lost(&old, &grown, "", &mut found);
        assert!(found.is_empty(), "{found:?}");
        let shrunk =
            json!({ "paths": {}, "components": { "schemas": { "S": { "properties": { "state": { "enum": ["on"] } } } } } });
        lost(&old, &shrunk, "", &mut found);
        found.sort();
        assert_eq!(
            found,
            ["/components/schemas/S/properties/state/enum: \"off\"", "/components/schemas/S/properties/x", "/paths//a"]
        );
    }

    /// v1 only grows, and the committed document is the one served. After
    /// a deliberate addition: `UPDATE_OPENAPI=1 cargo test -p server --lib
    /// openapi`, and commit docs/openapi.json.
    #[test]
    fn the_committed_openapi_document_is_the_served_one_and_v1_only_grows() {
        let served = document();
        let committed: Value =
            std::fs::read_to_string(COMMITTED).ok().and_then(|text| serde_json::from_str(&text).ok()).unwrap_or(Value::Null);
        let mut found = Vec::new();
        lost(&committed, &served, "", &mut found);
        assert!(found.is_empty(), "/api/v1 lost what its clients may rely on (such a change belongs in a v2): {found:#?}");
        let unique: std::collections::HashSet<&str> = served["paths"]
            .as_object()
            .into_iter()
            .flat_map(|paths| paths.values())
            .filter_map(Value::as_object)
            .flat_map(|operations| operations.values())
            .filter_map(|operation| operation["operationId"].as_str())
            .collect();
        let operations: usize = served["paths"]
            .as_object()
            .map(|paths| paths.values().filter_map(Value::as_object).map(|o| o.len()).sum())
            .unwrap_or(0);
        assert_eq!(unique.len(), operations, "every operation has an operationId of its own");
        if served != committed {
            if std::env::var_os("UPDATE_OPENAPI").is_some() {
                let text = serde_json::to_string_pretty(&served).unwrap();
                std::fs::write(COMMITTED, text + "\n").unwrap();
            } else {
                panic!(
                    "docs/openapi.json is not the document /api/v1 serves: review the change, then \
                     `UPDATE_OPENAPI=1 cargo test -p server --lib openapi` and commit the file"
                );
            }
        }
    }
}
