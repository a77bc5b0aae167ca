//! The host's SMTP relay. Server and credentials live only here; plugins hand over a message
//! and recipients, which `grants` has already checked.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::HostError;
use crate::config::{SmtpConfig, SmtpTls};

pub struct MailRelay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

pub struct OutgoingMail<'a> {
    pub plugin_id: &'a str,
    pub to: &'a [String],
    pub subject: &'a str,
    pub text: &'a str,
    pub html: Option<&'a str>,
}

impl MailRelay {
    pub fn new(cfg: &SmtpConfig) -> Result<MailRelay, String> {
        let builder = match cfg.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host)
                .map_err(|e| format!("smtp.host `{}`: {e}", cfg.host))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host)
                .map_err(|e| format!("smtp.host `{}`: {e}", cfg.host))?,
        };
        let mut builder = builder
            .port(cfg.port)
            .timeout(Some(Duration::from_millis(cfg.timeout_ms)));
        if let Some(user) = &cfg.username {
            let password = match &cfg.password_env {
                Some(var) => std::env::var(var).map_err(|_| {
                    format!("smtp.password_env: environment variable {var} is not set")
                })?,
                None => String::new(),
            };
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        let from = cfg
            .from
            .parse::<Mailbox>()
            .map_err(|e| format!("smtp.from `{}`: {e}", cfg.from))?;
        Ok(MailRelay {
            transport: builder.build(),
            from,
        })
    }

    pub async fn send(&self, mail: OutgoingMail<'_>) -> Result<(), HostError> {
        if mail.to.is_empty() {
            return Err(HostError::Invalid("no recipients".into()));
        }
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(mail.subject);
        for to in mail.to {
            let mbox = to
                .parse::<Mailbox>()
                .map_err(|e| HostError::Invalid(format!("recipient `{to}`: {e}")))?;
            builder = builder.to(mbox);
        }
        let _ = mail.plugin_id;
        let message = match mail.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                mail.text.to_string(),
                html.to_string(),
            )),
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(mail.text.to_string()),
        }
        .map_err(|e| HostError::Invalid(format!("message: {e}")))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| HostError::Failed(format!("smtp: {e}")))
    }
}
