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
        // Headers are one line; bodies get one kind of line ending (a bare CR is what smuggling
        // tricks and some relays trip on), which the transport writes as CRLF.
        let subject: String = mail
            .subject
            .chars()
            .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
            .collect();
        let mut builder = Message::builder().from(self.from.clone()).subject(subject);
        for to in mail.to {
            let mbox = to
                .parse::<Mailbox>()
                .map_err(|e| HostError::Invalid(format!("recipient `{to}`: {e}")))?;
            builder = builder.to(mbox);
        }
        let message = match mail.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                normalise_line_endings(mail.text),
                normalise_line_endings(html),
            )),
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(normalise_line_endings(mail.text)),
        }
        .map_err(|e| HostError::Invalid(format!("message: {e}")))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| HostError::Failed(format!("smtp: {e}")))
    }
}

/// CRLF and bare CR become LF.
pub fn normalise_line_endings(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn bare_cr_is_normalised() {
        assert_eq!(
            super::normalise_line_endings("a\r\nb\rc\n.\r\nd"),
            "a\nb\nc\n.\nd"
        );
    }
}
