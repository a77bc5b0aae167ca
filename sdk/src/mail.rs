//! E-mail through the host's SMTP relay. Needs the `mail` grant, scoped by recipient.

use crate::HostError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

impl Message {
    pub fn new<I, S>(to: I, subject: impl Into<String>, text: impl Into<String>) -> Message
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Message {
            to: to.into_iter().map(Into::into).collect(),
            subject: subject.into(),
            text: text.into(),
            html: None,
        }
    }

    pub fn html(mut self, html: impl Into<String>) -> Message {
        self.html = Some(html.into());
        self
    }
}

pub fn send(message: Message) -> Result<(), HostError> {
    crate::backend::send_mail(message)
}
