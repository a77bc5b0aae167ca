//! The remaining host services: logs, settings, items, HTTP and mail.

use serde_json::Value;

use super::TestHost;
use crate::http::{Request, Response};
use crate::log::Level;
use crate::mail::Message;
use crate::{HostError, Item};

impl TestHost {
    pub(crate) fn record_log(&self, level: Level, message: &str) {
        // Echoed so a failing test shows what the plugin said.
        eprintln!("[{level}] {message}");
        self.inner
            .records
            .borrow_mut()
            .logs
            .push((level, message.to_string()));
    }

    pub(crate) fn setting_text(&self, key: &str) -> Option<String> {
        self.inner
            .config
            .borrow()
            .settings
            .get(key)
            .map(Value::to_string)
    }

    pub(crate) fn settings_text(&self) -> String {
        let config = self.inner.config.borrow();
        let all: serde_json::Map<String, Value> = config
            .settings
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Value::Object(all).to_string()
    }

    fn items_config<T>(&self, lookup: impl FnOnce(&[Item]) -> T) -> Result<T, HostError> {
        let config = self.inner.config.borrow();
        if config.items_denied {
            return Err(HostError::Denied(
                "the items capability is not granted".to_string(),
            ));
        }
        Ok(lookup(&config.items))
    }

    pub(crate) fn item_by_arn(&self, arn: &str) -> Result<Option<Item>, HostError> {
        self.items_config(|items| items.iter().find(|i| i.arn == arn).cloned())
    }

    pub(crate) fn find_item(
        &self,
        account_id: &str,
        region: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<Option<Item>, HostError> {
        self.items_config(|items| {
            items
                .iter()
                .find(|i| {
                    i.account_id == account_id
                        && i.region == region
                        && i.resource_type == resource_type
                        && i.resource_id == resource_id
                })
                .cloned()
        })
    }

    pub(crate) fn list_items(
        &self,
        resource_type: &str,
        account_id: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<Item>, HostError> {
        // Paged exactly as the host pages (at most 1000 per call).
        self.items_config(|items| {
            let matching = items
                .iter()
                .filter(|i| i.resource_type == resource_type)
                .filter(|i| account_id.is_none_or(|a| i.account_id == a))
                .cloned();
            simian_model::items::page(matching, offset, limit)
        })
    }

    pub(crate) fn send_http(&self, request: Request) -> Result<Response, HostError> {
        let origin = origin(&request.url).ok_or_else(|| {
            HostError::Invalid(format!("`{}` is not an http(s) URL", request.url))
        })?;
        let config = self.inner.config.borrow();
        if !config.http_origins.contains(&origin) {
            return Err(HostError::Denied(format!(
                "http to {origin} is not granted"
            )));
        }
        let canned = config
            .responses
            .iter()
            .filter(|r| request.url.starts_with(&r.url_prefix))
            .max_by_key(|r| r.url_prefix.len())
            .map(|r| Response {
                status: r.status,
                headers: Vec::new(),
                body: r.body.clone(),
            });
        let url = request.url.clone();
        self.inner.records.borrow_mut().requests.push(request);
        canned.ok_or_else(|| HostError::Failed(format!("no canned response for {url}")))
    }

    pub(crate) fn send_mail(&self, message: Message) -> Result<(), HostError> {
        if message.to.is_empty() {
            return Err(HostError::Invalid(
                "a mail needs at least one recipient".to_string(),
            ));
        }
        let config = self.inner.config.borrow();
        let granted = |to: &str| {
            let to = to.trim().to_ascii_lowercase();
            config
                .mail_recipients
                .iter()
                .any(|r| *r == to || (r.starts_with('@') && to.ends_with(r.as_str())))
        };
        if let Some(to) = message.to.iter().find(|to| !granted(to)) {
            return Err(HostError::Denied(format!("mail to {to} is not granted")));
        }
        self.inner.records.borrow_mut().mail.push(message);
        Ok(())
    }
}

/// `scheme://host[:port]`, lowercased, for http and https URLs only.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // Credentials in the URL are not part of the origin.
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    (!host.is_empty()).then(|| format!("{scheme}://{}", host.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::origin;
    use crate::http::{self, Request};
    use crate::log::{self, Level};
    use crate::mail::{self, Message};
    use crate::testing::TestHost;
    use crate::{HostError, Item, items, settings};

    #[test]
    fn origins() {
        assert_eq!(
            origin("https://Hooks.Slack.com/x?y").as_deref(),
            Some("https://hooks.slack.com")
        );
        assert_eq!(
            origin("http://u:p@h:8080").as_deref(),
            Some("http://h:8080")
        );
        assert_eq!(origin("ftp://h/x"), None);
        assert_eq!(origin("https:///x"), None);
        assert_eq!(origin("nope"), None);
    }

    #[test]
    fn settings_and_logs() {
        let host = TestHost::new()
            .setting("score", 7)
            .setting("name", "x")
            .setting("list", json!([1]));
        let installed = host.install();
        assert_eq!(settings::get::<u32>("score"), Ok(Some(7)));
        assert_eq!(settings::get::<u32>("missing"), Ok(None));
        assert_eq!(settings::get_or("missing", 3u32), Ok(3));
        assert_eq!(settings::get_str("name"), Ok(Some("x".to_string())));
        let e = settings::get_str("score").expect_err("not a string");
        assert!(
            e.message().contains("setting `score` must be a string"),
            "{e}"
        );
        let e = settings::get::<String>("list").expect_err("wrong type");
        assert!(e.message().starts_with("setting `list`: "), "{e}");
        assert_eq!(
            settings::all(),
            Ok(json!({"score": 7, "name": "x", "list": [1]}))
        );
        log::warn("careful");
        assert_eq!(installed.logs(), vec![(Level::Warn, "careful".to_string())]);
    }

    #[test]
    fn nothing_installed_means_empty_settings_and_denials() {
        assert_eq!(settings::get::<u32>("score"), Ok(None));
        assert_eq!(settings::all(), Ok(json!({})));
        assert!(matches!(
            http::send(Request::get("https://x")),
            Err(HostError::Denied(_))
        ));
        assert!(matches!(
            items::list("T", None, 0, 1),
            Err(HostError::Denied(_))
        ));
    }

    #[test]
    fn items_lookup_and_paging() {
        let item = |id: &str, account: &str| {
            Item::new("AWS::IAM::User", id)
                .with_account(account)
                .with_region("global")
                .with_arn(format!("arn:aws:iam::{account}:user/{id}"))
        };
        let host = TestHost::new()
            .item(item("a", "111111111111"))
            .item(item("b", "111111111111"))
            .item(item("c", "222222222222"));
        let _h = host.install();
        let found = items::get_by_arn("arn:aws:iam::111111111111:user/b").expect("granted");
        assert_eq!(found.map(|i| i.resource_id), Some("b".to_string()));
        let found = items::get("222222222222", "global", "AWS::IAM::User", "c").expect("granted");
        assert!(found.is_some());
        assert_eq!(items::get_by_arn("arn:aws:iam::1:user/z"), Ok(None));
        let ids = |list: Vec<Item>| list.into_iter().map(|i| i.resource_id).collect::<Vec<_>>();
        assert_eq!(
            items::list("AWS::IAM::User", None, 1, 10).map(ids),
            Ok(vec!["b".into(), "c".into()])
        );
        assert_eq!(
            items::list("AWS::IAM::User", Some("111111111111"), 0, 1).map(ids),
            Ok(vec!["a".into()])
        );
        drop(_h);
        let _h = TestHost::new().deny_items().install();
        assert!(matches!(items::get_by_arn("x"), Err(HostError::Denied(_))));
    }

    #[test]
    fn http_needs_a_grant_and_a_canned_response() {
        let host = TestHost::new()
            .allow_http("https://hooks.example.com/")
            .http_response("https://hooks.example.com/", 200, "ok")
            .http_response("https://hooks.example.com/slow", 503, "busy");
        let _h = host.install();
        let ok =
            http::send(Request::post("https://hooks.example.com/a").body("x")).expect("granted");
        assert_eq!((ok.status, ok.text()), (200, Ok("ok")));
        let busy = http::send(Request::get("https://hooks.example.com/slow/1")).expect("granted");
        assert_eq!(busy.status, 503);
        assert!(matches!(
            http::send(Request::get("https://evil.example.com/")),
            Err(HostError::Denied(_))
        ));
        assert!(matches!(
            http::send(Request::get("file:///etc/passwd")),
            Err(HostError::Invalid(_))
        ));
        let sent = host.requests();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].body.as_deref(), Some(&b"x"[..]));
        drop(_h);
        let _h = TestHost::new().allow_http("https://a.example").install();
        assert!(matches!(
            http::send(Request::get("https://a.example/x")),
            Err(HostError::Failed(_))
        ));
    }

    #[test]
    fn mail_needs_every_recipient_granted() {
        let host = TestHost::new()
            .allow_mail("sec@example.com")
            .allow_mail("@corp.example");
        let _h = host.install();
        mail::send(Message::new(
            ["SEC@example.com", "a@corp.example"],
            "s",
            "t",
        ))
        .expect("granted");
        assert!(matches!(
            mail::send(Message::new(
                ["sec@example.com", "x@evil.example"],
                "s",
                "t"
            )),
            Err(HostError::Denied(_))
        ));
        assert!(matches!(
            mail::send(Message::new(Vec::<String>::new(), "s", "t")),
            Err(HostError::Invalid(_))
        ));
        let sent = host.sent_mail();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].to, ["SEC@example.com", "a@corp.example"]);
    }

    #[test]
    fn installs_nest_and_restore() {
        let outer = TestHost::new().setting("who", "outer");
        let _o = outer.install();
        {
            let _i = TestHost::new().setting("who", "inner").install();
            assert_eq!(settings::get_str("who"), Ok(Some("inner".to_string())));
        }
        assert_eq!(settings::get_str("who"), Ok(Some("outer".to_string())));
    }
}
