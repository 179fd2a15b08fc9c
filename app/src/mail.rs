//! Email to customers keeping their place (SPEC §5): "your turn is near",
//! with a link back to their place. Sent through SMTP when
//! `SWITCHBOARD_SMTP_URL` is set; without it the page does not offer email.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::error::AppError;

/// Where and as whom mail is sent, and the site's address for links.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    public_url: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl Mailer {
    /// `url`: `smtp://host:port` (plain, as a local relay), `smtp://...?tls=required`
    /// (STARTTLS) or `smtps://user:password@host` (TLS); `from`: the sender
    /// ("Help desk <help@example.com>").
    pub fn new(url: &str, from: &str, public_url: &str) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|error| format!("is not an SMTP address lettre understands: {error}"))?
            .build();
        let from = from.parse::<Mailbox>().map_err(|error| format!("is not a mailbox: {error}"))?;
        Ok(Self { transport, from, public_url: public_url.trim_end_matches('/').to_owned() })
    }

    /// Tells a customer keeping their place that their turn is near; the
    /// link brings them back to it (`token`: a new token for their help
    /// session).
    pub async fn turn_near(&self, to: &str, name: &str, queue: &str, token: &str) -> Result<(), AppError> {
        let to = to.parse::<Mailbox>().map_err(|_| AppError::invalid("That email address does not look right."))?;
        let link = format!("{}/back?token={token}", self.public_url);
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!("{queue}: your turn is near"))
            .body(format!(
                "Hello {name},\n\nYou are nearly at the front of the line for {queue}. \
                 Come back to your place so a representative can help you:\n\n{link}\n\n\
                 If you are not there when your turn comes, we keep your place for a few minutes.\n"
            ))
            .map_err(|error| {
                tracing::error!(%error, "an email could not be written");
                AppError::Internal
            })?;
        self.transport.send(message).await.map_err(|error| {
            tracing::warn!(%error, "an email could not be sent");
            AppError::Unavailable("The email could not be sent right now.".into())
        })?;
        Ok(())
    }
}
