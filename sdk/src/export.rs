//! What `register_auditor!` / `register_notifier!` expand to, and the glue they call.
//!
//! The macros are expanded in the plugin crate, which depends on nothing but this SDK, so
//! everything they name lives under `simian_sdk::__private`. On native targets they only
//! check that the type implements the trait; no export exists outside a component.

#[cfg(target_arch = "wasm32")]
pub(crate) mod glue {
    use std::cell::OnceCell;

    use crate::bindings::simian::plugin::types as wit;
    use crate::plugin::{run_audit, run_notify};
    use crate::{Auditor, CheckInfo, Error, Notifier, PluginInfo, PluginKind, convert};

    pub use crate::bindings::{auditor, notifier};
    pub use wit::PluginInfo as WitPluginInfo;
    pub use wit::{Change as WitChange, Issue as WitIssue, Item as WitItem};

    /// The plugin value `new()` built, kept for the life of the wasm instance.
    pub struct Instance<T>(OnceCell<Result<T, Error>>);

    impl<T> Instance<T> {
        pub const fn new() -> Instance<T> {
            Instance(OnceCell::new())
        }

        fn get_or_init(&self, init: fn() -> Result<T, Error>) -> &Result<T, Error> {
            self.0.get_or_init(init)
        }
    }

    impl<T> Default for Instance<T> {
        fn default() -> Instance<T> {
            Instance::new()
        }
    }

    /// What `describe()` answers: the kind and the checks. Id, version and resource types
    /// are left empty: the host takes them from `plugin.toml`, their single source.
    pub fn describe(kind: PluginKind, checks: Vec<CheckInfo>) -> WitPluginInfo {
        convert::info_to_wit(PluginInfo {
            id: String::new(),
            version: String::new(),
            kind,
            description: String::new(),
            resource_types: Vec::new(),
            checks,
        })
    }

    pub fn auditor_kind() -> PluginKind {
        PluginKind::Auditor
    }

    pub fn notifier_kind() -> PluginKind {
        PluginKind::Notifier
    }

    pub fn audit<A: Auditor>(
        instance: &Instance<A>,
        items: Vec<WitItem>,
    ) -> Vec<Result<Vec<WitIssue>, String>> {
        let items: Vec<_> = items.into_iter().map(convert::item_from_wit).collect();
        run_audit(instance.get_or_init(A::new), &items)
            .into_iter()
            .map(|result| match result {
                Ok(issues) => Ok(issues.into_iter().map(convert::issue_to_wit).collect()),
                Err(e) => Err(e.to_string()),
            })
            .collect()
    }

    pub fn notify<N: Notifier>(
        instance: &Instance<N>,
        changes: Vec<WitChange>,
    ) -> Result<(), String> {
        let changes: Vec<_> = changes.into_iter().map(convert::change_from_wit).collect();
        run_notify(instance.get_or_init(N::new), &changes).map_err(|e| e.to_string())
    }
}

/// Export `$auditor` (a type implementing [`Auditor`](crate::Auditor)) as this component's
/// `auditor` world. Invoke once, at the crate root of a `cdylib` plugin.
#[macro_export]
macro_rules! register_auditor {
    ($auditor:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __SimianAuditorExport;

            ::std::thread_local! {
                static INSTANCE: $crate::__private::Instance<$auditor> =
                    const { $crate::__private::Instance::new() };
            }

            impl $crate::__private::auditor::Guest for __SimianAuditorExport {
                fn describe() -> $crate::__private::WitPluginInfo {
                    $crate::__private::describe(
                        $crate::__private::auditor_kind(),
                        <$auditor as $crate::Auditor>::checks(),
                    )
                }

                fn audit(
                    items: ::std::vec::Vec<$crate::__private::WitItem>,
                ) -> ::std::vec::Vec<
                    ::std::result::Result<
                        ::std::vec::Vec<$crate::__private::WitIssue>,
                        ::std::string::String,
                    >,
                > {
                    INSTANCE.with(|instance| $crate::__private::audit(instance, items))
                }
            }

            $crate::__private::auditor::export_auditor!(
                __SimianAuditorExport with_types_in $crate::__private::auditor
            );
        };

        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            fn assert_auditor<A: $crate::Auditor>() {}
            let _ = assert_auditor::<$auditor>;
        };
    };
}

/// Export `$notifier` (a type implementing [`Notifier`](crate::Notifier)) as this
/// component's `notifier` world. Invoke once, at the crate root of a `cdylib` plugin.
#[macro_export]
macro_rules! register_notifier {
    ($notifier:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __SimianNotifierExport;

            ::std::thread_local! {
                static INSTANCE: $crate::__private::Instance<$notifier> =
                    const { $crate::__private::Instance::new() };
            }

            impl $crate::__private::notifier::Guest for __SimianNotifierExport {
                fn describe() -> $crate::__private::WitPluginInfo {
                    $crate::__private::describe(
                        $crate::__private::notifier_kind(),
                        ::std::vec::Vec::new(),
                    )
                }

                fn notify(
                    changes: ::std::vec::Vec<$crate::__private::WitChange>,
                ) -> ::std::result::Result<(), ::std::string::String> {
                    INSTANCE.with(|instance| $crate::__private::notify(instance, changes))
                }
            }

            $crate::__private::notifier::export_notifier!(
                __SimianNotifierExport with_types_in $crate::__private::notifier
            );
        };

        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            fn assert_notifier<N: $crate::Notifier>() {}
            let _ = assert_notifier::<$notifier>;
        };
    };
}
