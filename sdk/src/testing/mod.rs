//! A fake host for native tests (`cargo test`); not available inside a component.
//!
//! Configure a [`TestHost`] like an operator would configure simian (settings, accounts,
//! networks, known items, granted HTTP origins and mail recipients), install it on the test
//! thread, and call the plugin. Host calls then behave like the real host's: ungranted
//! capabilities come back as [`HostError::Denied`](crate::HostError::Denied), classifications follow the same rules,
//! and logs, HTTP requests and mails are recorded for assertions.
//!
//! ```
//! use simian_sdk::testing::TestHost;
//! use simian_sdk::{accounts, settings};
//! use simian_sdk::accounts::Relation;
//!
//! let host = TestHost::new()
//!     .setting("threshold", 3)
//!     .account("222222222222", "dev", false);
//! let _installed = host.install();
//! assert_eq!(settings::get::<u32>("threshold").unwrap(), Some(3));
//! let c = accounts::classify_account("111111111111", "222222222222").unwrap();
//! assert_eq!(c.relation, Relation::Friendly);
//! ```

mod classify;
pub mod samples;
mod services;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Deref;
use std::rc::Rc;

use serde_json::Value;

use crate::cidr::Cidr;
use crate::http::Request;
use crate::log::Level;
use crate::mail::Message;
use crate::plugin::{run_audit, run_notify};
use crate::{Auditor, Change, Error, Issue, Item, Notifier};

/// A configurable fake host. Cloning shares the configuration and the records.
#[derive(Clone, Default)]
pub struct TestHost {
    inner: Rc<Inner>,
}

#[derive(Default)]
struct Inner {
    config: RefCell<Config>,
    records: RefCell<Records>,
}

#[derive(Default)]
struct Config {
    settings: BTreeMap<String, Value>,
    accounts: Vec<Account>,
    canonical_ids: Vec<(String, String)>,
    networks: Vec<Network>,
    items: Vec<Item>,
    responses: Vec<CannedResponse>,
    http_origins: Vec<String>,
    mail_recipients: Vec<String>,
    accounts_denied: bool,
    items_denied: bool,
}

struct Account {
    id: String,
    name: String,
    third_party: bool,
}

struct Network {
    name: String,
    cidr: Cidr,
    account: Option<String>,
}

struct CannedResponse {
    url_prefix: String,
    status: u16,
    body: Vec<u8>,
}

#[derive(Default)]
struct Records {
    logs: Vec<(Level, String)>,
    requests: Vec<Request>,
    mail: Vec<Message>,
}

thread_local! {
    static CURRENT: RefCell<Option<TestHost>> = const { RefCell::new(None) };
}

/// The host installed on this thread, if any.
pub(crate) fn current() -> Option<TestHost> {
    CURRENT.with(|current| current.borrow().clone())
}

impl TestHost {
    /// No settings, no accounts, nothing granted beyond logs, settings, accounts and items.
    pub fn new() -> TestHost {
        TestHost::default()
    }

    fn configure(self, change: impl FnOnce(&mut Config)) -> TestHost {
        change(&mut self.inner.config.borrow_mut());
        self
    }

    /// A plugin setting, as the operator would write it in the plugin's `settings` table.
    pub fn setting(self, key: impl Into<String>, value: impl Into<Value>) -> TestHost {
        self.configure(|c| {
            c.settings.insert(key.into(), value.into());
        })
    }

    /// An account the operator configured; `third_party` marks a vendor account.
    pub fn account(
        self,
        id: impl Into<String>,
        name: impl Into<String>,
        third_party: bool,
    ) -> TestHost {
        self.configure(|c| {
            c.accounts.push(Account {
                id: id.into(),
                name: name.into(),
                third_party,
            })
        })
    }

    /// The S3 canonical user id of a configured account.
    pub fn canonical_id(
        self,
        account_id: impl Into<String>,
        canonical_id: impl Into<String>,
    ) -> TestHost {
        self.configure(|c| {
            c.canonical_ids
                .push((canonical_id.into(), account_id.into()))
        })
    }

    /// A network of ours: CIDRs inside it classify as `Same`, named `name`.
    ///
    /// # Panics
    /// If `cidr` is not a CIDR: a broken test fixture, not plugin behaviour.
    pub fn network(self, name: impl Into<String>, cidr: &str) -> TestHost {
        self.add_network(name.into(), cidr, None)
    }

    /// A network belonging to a configured account: CIDRs inside it classify as that account.
    ///
    /// # Panics
    /// If `cidr` is not a CIDR.
    pub fn account_network(
        self,
        name: impl Into<String>,
        cidr: &str,
        account_id: impl Into<String>,
    ) -> TestHost {
        self.add_network(name.into(), cidr, Some(account_id.into()))
    }

    fn add_network(self, name: String, cidr: &str, account: Option<String>) -> TestHost {
        let cidr = Cidr::parse(cidr).unwrap_or_else(|e| panic!("TestHost::network({name}): {e}"));
        self.configure(|c| {
            c.networks.push(Network {
                name,
                cidr,
                account,
            })
        })
    }

    /// An item the `items` service can return.
    pub fn item(self, item: Item) -> TestHost {
        self.configure(|c| c.items.push(item))
    }

    /// Answer requests whose URL starts with `url_prefix` (the longest prefix wins). The
    /// origin must still be granted with [`allow_http`](Self::allow_http).
    pub fn http_response(
        self,
        url_prefix: impl Into<String>,
        status: u16,
        body: impl Into<Vec<u8>>,
    ) -> TestHost {
        self.configure(|c| {
            c.responses.push(CannedResponse {
                url_prefix: url_prefix.into(),
                status,
                body: body.into(),
            })
        })
    }

    /// Grant HTTP to an origin, e.g. `https://hooks.slack.com`.
    pub fn allow_http(self, origin: impl Into<String>) -> TestHost {
        let origin = origin.into().trim_end_matches('/').to_ascii_lowercase();
        self.configure(|c| c.http_origins.push(origin))
    }

    /// Grant mail to an address, or to a whole domain with `@example.com`.
    pub fn allow_mail(self, recipient: impl Into<String>) -> TestHost {
        let recipient = recipient.into().to_ascii_lowercase();
        self.configure(|c| c.mail_recipients.push(recipient))
    }

    /// Withhold the `accounts` grant.
    pub fn deny_accounts(self) -> TestHost {
        self.configure(|c| c.accounts_denied = true)
    }

    /// Withhold the `items` grant.
    pub fn deny_items(self) -> TestHost {
        self.configure(|c| c.items_denied = true)
    }

    /// Make this the host for plugin calls on this thread until the guard drops (then the
    /// previously installed host, if any, is back).
    pub fn install(&self) -> Installed {
        let previous = CURRENT.with(|current| current.replace(Some(self.clone())));
        Installed {
            host: self.clone(),
            previous,
        }
    }

    /// Everything logged so far, in order.
    pub fn logs(&self) -> Vec<(Level, String)> {
        self.inner.records.borrow().logs.clone()
    }

    /// The HTTP requests that passed the grant check, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.inner.records.borrow().requests.clone()
    }

    /// The mails that passed the grant check, in order.
    pub fn sent_mail(&self) -> Vec<Message> {
        self.inner.records.borrow().mail.clone()
    }
}

/// The installed host; uninstalls on drop. Derefs to the [`TestHost`] for its records.
#[must_use = "the host is uninstalled as soon as the guard drops"]
pub struct Installed {
    host: TestHost,
    previous: Option<TestHost>,
}

impl Deref for Installed {
    type Target = TestHost;

    fn deref(&self) -> &TestHost {
        &self.host
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

/// Run an auditor the way a component would: `new()` once, then one batch. If `new()` fails,
/// every item gets that error.
pub fn audit_with<A: Auditor>(host: &TestHost, items: &[Item]) -> Vec<Result<Vec<Issue>, Error>> {
    let _installed = host.install();
    run_audit(&A::new(), items)
}

/// Run a notifier the way a component would: `new()`, then one `notify`.
pub fn notify_with<N: Notifier>(host: &TestHost, changes: &[Change]) -> Result<(), Error> {
    let _installed = host.install();
    run_notify(&N::new(), changes)
}
