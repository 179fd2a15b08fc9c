//! Email to customers keeping their place (SPEC §5): "your turn is near",
//! with a link back to their place. Sent through SMTP when
//! `SWITCHBOARD_SMTP_URL` is set; without it the page does not offer email.
//!
//! The sweeper only queues a message (`mail_outbox`); [`send_outbox`], a
//! worker of its own, sends them one at a time with a short timeout, so a
//! slow or silent mail server delays nothing else. A message names only the
//! company (the sender's name) and the link: never what the customer typed,
//! so the form cannot be used to send anyone someone else's words.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;

use crate::error::AppError;
use crate::states::HelpSessionId;

/// How long one message may take to hand to the mail server.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and as whom mail is sent, and the site's address for links.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    public_url: String,
    timeout: Duration,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl Mailer {
    /// `url`: `smtp://host:port` (plain, as a local relay), `smtp://...?tls=required`
    /// (STARTTLS) or `smtps://user:password@host` (TLS); `from`: the sender
    /// ("Help desk <help@example.com>"), whose name is the company's in the
    /// message.
    pub fn new(url: &str, from: &str, public_url: &str) -> Result<Self, String> {
        Self::with_timeout(url, from, public_url, SEND_TIMEOUT)
    }

    /// As [`Mailer::new`], giving up on a message after `timeout`.
    pub fn with_timeout(url: &str, from: &str, public_url: &str, timeout: Duration) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|error| format!("is not an SMTP address lettre understands: {error}"))?
            .timeout(Some(timeout))
            .build();
        let from = from.parse::<Mailbox>().map_err(|error| format!("is not a mailbox: {error}"))?;
        Ok(Self { transport, from, public_url: public_url.trim_end_matches('/').to_owned(), timeout })
    }

    /// The company as the message names it: the sender's name, or its address.
    fn company(&self) -> String {
        self.from.name.clone().unwrap_or_else(|| self.from.email.to_string())
    }

    /// Tells a customer keeping their place that their turn is near; the
    /// link brings them back to it (`token`: a new token for their help
    /// session).
    pub async fn turn_near(&self, to: &str, token: &str) -> Result<(), AppError> {
        let to = to.parse::<Mailbox>().map_err(|_| AppError::invalid("That email address does not look right."))?;
        let link = format!("{}/back?token={token}", self.public_url);
        let company = self.company();
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!("{company}: your turn is near"))
            .body(format!(
                "Hello,\n\nYou are nearly at the front of the line at {company}. \
                 Come back to your place so a representative can help you:\n\n{link}\n\n\
                 If you are not there when your turn comes, we keep your place for a few minutes.\n"
            ))
            .map_err(|error| {
                tracing::error!(%error, "an email could not be written");
                AppError::Internal
            })?;
        // lettre's own timeout covers connecting; a server that takes the
        // connection and never answers is cut off here.
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => {
                tracing::warn!(%error, "an email could not be sent");
                Err(AppError::Unavailable("The email could not be sent right now.".into()))
            }
            Err(_) => {
                tracing::warn!("the mail server did not answer in time");
                Err(AppError::Unavailable("The mail server did not answer in time.".into()))
            }
        }
    }
}

/// Sends what is waiting in the outbox, oldest first, until it is empty;
/// answers how many were sent. Each message is taken once (by one server:
/// `SKIP LOCKED`) and not tried again when it fails: the customer still
/// sees their turn coming on the page.
pub async fn send_outbox(pool: &PgPool, mailer: &Mailer) -> Result<usize, AppError> {
    let mut sent = 0;
    loop {
        let Some(next) = sqlx::query!(
            r#"UPDATE mail_outbox SET taken_at = now()
                WHERE id = (SELECT id FROM mail_outbox WHERE taken_at IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING id, help_session_id AS "help_session: HelpSessionId", address"#
        )
        .fetch_optional(pool)
        .await?
        else {
            return Ok(sent);
        };
        let token = crate::customer::token::issue(pool, next.help_session).await?;
        let outcome = mailer.turn_near(&next.address, &token).await;
        sqlx::query!(
            "UPDATE mail_outbox SET sent_at = CASE WHEN $2::text IS NULL THEN now() END, error = $2 WHERE id = $1",
            next.id,
            outcome.as_ref().err().map(ToString::to_string)
        )
        .execute(pool)
        .await?;
        sent += usize::from(outcome.is_ok());
    }
}
