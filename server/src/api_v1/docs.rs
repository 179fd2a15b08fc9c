//! The API's documentation: the OpenAPI document as JSON, and a reference
//! page rendered from the same document on the server, with nothing fetched
//! from elsewhere.

use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use utoipa::OpenApi;

use super::ApiDoc;

/// The document, generated from the handlers' annotations.
pub fn document() -> Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null)
}

pub async fn openapi_json() -> Json<Value> {
    Json(document())
}

/// `/api/v1/docs`: every operation with its parameters, body and answers,
/// and every schema with its fields.
pub async fn reference() -> Response {
    let mut page = Html(render(&document())).into_response();
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

fn render(doc: &Value) -> String {
    let mut html = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Switchboard API reference</title>\
         <link rel=\"stylesheet\" href=\"/pkg/switchboard.css\"></head><body><main class=\"api-reference\">",
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
