//! A known customer, vouched for by the site: the site's backend signs a
//! short-lived JWT (HS256 with the widget key's secret) naming them, and
//! the host page hands it to the widget with `Switchboard('identify',
//! token)`. Claims: `name` (required), `email`, `sub` (the site's own id
//! for them), `exp` (required, at most a day ahead), `iat`, `nbf`. The
//! algorithm is always HS256, whatever the token's header says.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::Identity;
use crate::error::AppError;

/// Clock difference allowed between the site's backend and this server.
const SKEW_SECONDS: u64 = 60;
/// The longest a token may still be valid for.
const MAX_AHEAD_SECONDS: i64 = 24 * 60 * 60;

#[derive(Deserialize)]
struct Claims {
    exp: Option<i64>,
    name: Option<String>,
    email: Option<String>,
    sub: Option<String>,
}

fn refused(why: &str) -> AppError {
    AppError::invalid(format!("The customer's identity was refused: {why}."))
}

/// Who `token` names, if `secret` signed it and it is current.
pub fn verify(secret: &str, token: &str) -> Result<Identity, AppError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = SKEW_SECONDS;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    let claims = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret.as_bytes()), &validation)
        .map_err(|error| {
            refused(match error.kind() {
                ErrorKind::ExpiredSignature => "it has expired",
                ErrorKind::ImmatureSignature => "it is not valid yet",
                ErrorKind::InvalidSignature => "it is not signed with this widget's secret",
                ErrorKind::InvalidAlgorithm => "it must be signed with HS256",
                ErrorKind::MissingRequiredClaim(_) => "it has no exp",
                _ => "it is not a valid token",
            })
        })?
        .claims;
    let exp = claims.exp.ok_or_else(|| refused("it has no exp"))?;
    if exp - time::OffsetDateTime::now_utc().unix_timestamp() > MAX_AHEAD_SECONDS {
        return Err(refused("it is valid for more than a day"));
    }
    let name = crate::text::required("Name", claims.name.as_deref().unwrap_or_default(), crate::customer::request::MAX_NAME, crate::text::Shape::Line)
        .map_err(|_| refused("it has no usable name"))?;
    let email = crate::customer::request::parse_email(claims.email.as_deref().unwrap_or_default())?;
    let reference = claims.sub.map(|sub| sub.trim().to_owned()).filter(|sub| !sub.is_empty());
    if reference.as_ref().is_some_and(|sub| sub.chars().count() > 200) {
        return Err(refused("its sub is longer than 200 characters"));
    }
    Ok(Identity { name, email, reference })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    const SECRET: &str = "the widget's secret";

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    fn sign(claims: serde_json::Value, algorithm: Algorithm, secret: &str) -> String {
        encode(&Header::new(algorithm), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
    }

    #[test]
    fn a_current_token_signed_with_the_secret_names_the_customer() {
        let token = sign(json!({"name": "Jane Doe", "email": "jane@example.com", "sub": "crm-42", "exp": now() + 300}), Algorithm::HS256, SECRET);
        assert_eq!(
            verify(SECRET, &token).unwrap(),
            Identity { name: "Jane Doe".into(), email: Some("jane@example.com".into()), reference: Some("crm-42".into()) }
        );
    }

    #[test]
    fn every_other_token_is_refused_with_its_reason() {
        let cases = [
            (sign(json!({"name": "J", "exp": now() + 300}), Algorithm::HS256, "another secret"), "not signed with this widget's secret"),
            (sign(json!({"name": "J", "exp": now() - 120}), Algorithm::HS256, SECRET), "expired"),
            (sign(json!({"name": "J", "exp": now() + 300}), Algorithm::HS512, SECRET), "HS256"),
            (sign(json!({"name": "J"}), Algorithm::HS256, SECRET), "no exp"),
            (sign(json!({"exp": now() + 300}), Algorithm::HS256, SECRET), "no usable name"),
            (sign(json!({"name": "J", "exp": now() + 3 * 86400}), Algorithm::HS256, SECRET), "more than a day"),
            (sign(json!({"name": "J", "nbf": now() + 600, "exp": now() + 900}), Algorithm::HS256, SECRET), "not valid yet"),
            (sign(json!({"name": "J", "email": "not an email", "exp": now() + 300}), Algorithm::HS256, SECRET), "email"),
            ("not.a.token".to_owned(), "not a valid token"),
        ];
        for (token, why) in cases {
            let refused = verify(SECRET, &token).unwrap_err().to_string();
            assert!(refused.contains(why), "{why}: {refused}");
        }
    }
}
