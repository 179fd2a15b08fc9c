//! A known customer, vouched for by the site: the site's backend signs a
//! short-lived JWT (HS256 with the widget key's secret) naming them, and
//! the host page hands it to the widget with `Switchboard('identify',
//! token)`. Claims: `name` (required), `email`, `sub` (the site's own id
//! for them), `aud` (required: the widget key), `jti` (required: spent when
//! the token asks for help, so it asks once), `exp` (required, at most 10
//! minutes ahead), `iat`, `nbf`. The algorithm is always HS256, whatever
//! the token's header says.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::Identity;
use crate::error::AppError;

/// Clock difference allowed between the site's backend and this server.
const SKEW_SECONDS: u64 = 60;
/// The longest a token may still be valid for.
const MAX_AHEAD_SECONDS: i64 = 10 * 60;

#[derive(Deserialize)]
struct Claims {
    exp: Option<i64>,
    name: Option<String>,
    email: Option<String>,
    sub: Option<String>,
    jti: Option<String>,
}

/// A token checked: who it names, and its id, to spend when it asks for
/// help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub identity: Identity,
    jti: String,
    exp: i64,
}

fn refused(why: &str) -> AppError {
    AppError::invalid(format!("The customer's identity was refused: {why}."))
}

/// Who `token` names, if `secret` signed it for widget `key` and it is
/// current.
pub fn verify(secret: &str, key: &str, token: &str) -> Result<Verified, AppError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = SKEW_SECONDS;
    validation.validate_nbf = true;
    validation.set_audience(&[key]);
    validation.set_required_spec_claims(&["exp", "aud"]);
    let claims = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret.as_bytes()), &validation)
        .map_err(|error| {
            refused(match error.kind() {
                ErrorKind::ExpiredSignature => "it has expired",
                ErrorKind::ImmatureSignature => "it is not valid yet",
                ErrorKind::InvalidSignature => "it is not signed with this widget's secret",
                ErrorKind::InvalidAlgorithm => "it must be signed with HS256",
                ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => "it has no aud (the widget key)",
                ErrorKind::MissingRequiredClaim(_) => "it has no exp",
                ErrorKind::InvalidAudience => "its aud is not this widget's key",
                _ => "it is not a valid token",
            })
        })?
        .claims;
    let exp = claims.exp.ok_or_else(|| refused("it has no exp"))?;
    if exp - time::OffsetDateTime::now_utc().unix_timestamp() > MAX_AHEAD_SECONDS {
        return Err(refused("it is valid for more than 10 minutes"));
    }
    let jti =
        claims.jti.map(|jti| jti.trim().to_owned()).filter(|jti| !jti.is_empty()).ok_or_else(|| refused("it has no jti"))?;
    if jti.chars().count() > 200 {
        return Err(refused("its jti is longer than 200 characters"));
    }
    let name = crate::text::required(
        "Name",
        claims.name.as_deref().unwrap_or_default(),
        crate::customer::request::MAX_NAME,
        crate::text::Shape::Line,
    )
    .map_err(|_| refused("it has no usable name"))?;
    let email = crate::customer::request::parse_email(claims.email.as_deref().unwrap_or_default())?;
    let reference = claims.sub.map(|sub| sub.trim().to_owned()).filter(|sub| !sub.is_empty());
    if reference.as_ref().is_some_and(|sub| sub.chars().count() > 200) {
        return Err(refused("its sub is longer than 200 characters"));
    }
    Ok(Verified { identity: Identity { name, email, reference }, jti, exp })
}

impl Verified {
    /// Spends the token for `widget`: a token asks for help once; a second
    /// try (a replay) is refused.
    #[cfg(feature = "ssr")]
    pub async fn spend(self, pool: &sqlx::PgPool, widget: uuid::Uuid) -> Result<Identity, AppError> {
        let spent = sqlx::query!(
            "INSERT INTO widget_token_ids (widget_id, jti, expires_at) VALUES ($1, $2, to_timestamp($3))
             ON CONFLICT DO NOTHING",
            widget,
            self.jti,
            self.exp as f64
        )
        .execute(pool)
        .await?;
        if spent.rows_affected() == 0 {
            return Err(refused("it was used already; sign a new one"));
        }
        Ok(self.identity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    const SECRET: &str = "the widget's secret";
    const KEY: &str = "wk_the_widget_key";

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    fn sign(claims: serde_json::Value, algorithm: Algorithm, secret: &str) -> String {
        encode(&Header::new(algorithm), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
    }

    #[test]
    fn a_current_token_signed_with_the_secret_names_the_customer() {
        let token = sign(
            json!({"name": "Jane Doe", "email": "jane@example.com", "sub": "crm-42", "aud": KEY, "jti": "t-1", "exp": now() + 300}),
            Algorithm::HS256,
            SECRET,
        );
        assert_eq!(
            verify(SECRET, KEY, &token).unwrap().identity,
            Identity { name: "Jane Doe".into(), email: Some("jane@example.com".into()), reference: Some("crm-42".into()) }
        );
    }

    #[test]
    fn every_other_token_is_refused_with_its_reason() {
        let good = |extra: serde_json::Value| {
            let mut claims = json!({"name": "J", "aud": KEY, "jti": "t-1", "exp": now() + 300});
            for (name, value) in extra.as_object().unwrap() {
                if value.is_null() {
                    claims.as_object_mut().unwrap().remove(name);
                } else {
                    claims[name] = value.clone();
                }
            }
            claims
        };
        let cases = [
            (sign(good(json!({})), Algorithm::HS256, "another secret"), "not signed with this widget's secret"),
            (sign(good(json!({"exp": now() - 120})), Algorithm::HS256, SECRET), "expired"),
            (sign(good(json!({})), Algorithm::HS512, SECRET), "HS256"),
            (sign(good(json!({"exp": null})), Algorithm::HS256, SECRET), "no exp"),
            (sign(good(json!({"name": null})), Algorithm::HS256, SECRET), "no usable name"),
            (sign(good(json!({"exp": now() + 900})), Algorithm::HS256, SECRET), "more than 10 minutes"),
            (sign(good(json!({"nbf": now() + 300})), Algorithm::HS256, SECRET), "not valid yet"),
            (sign(good(json!({"email": "not an email"})), Algorithm::HS256, SECRET), "email"),
            (sign(good(json!({"aud": null})), Algorithm::HS256, SECRET), "no aud"),
            (sign(good(json!({"aud": "wk_another_widget"})), Algorithm::HS256, SECRET), "not this widget's key"),
            (sign(good(json!({"jti": null})), Algorithm::HS256, SECRET), "no jti"),
            ("not.a.token".to_owned(), "not a valid token"),
        ];
        for (token, why) in cases {
            let refused = verify(SECRET, KEY, &token).unwrap_err().to_string();
            assert!(refused.contains(why), "{why}: {refused}");
        }
    }
}
