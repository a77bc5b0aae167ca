//! Bindings generated from the frozen contract.
//!
//! The `host` world carries every import and the shared types; `auditor` and `notifier` map
//! their interfaces onto it so there is one set of types whichever world a plugin exports.
//! Unused imports cost nothing: the linker drops every import function the plugin never
//! calls, so the component imports only the capabilities its code really uses.

wit_bindgen::generate!({
    world: "host",
    path: "wit/since_v0.1.0",
});

/// Imports shared by both plugin worlds, spelled once for the two `with:` maps below.
macro_rules! generate_plugin_world {
    ($world:literal, $macro_name:literal, $module:literal) => {
        wit_bindgen::generate!({
            world: $world,
            path: "wit/since_v0.1.0",
            with: {
                "simian:plugin/types@0.1.0": crate::bindings::simian::plugin::types,
                "simian:plugin/log@0.1.0": crate::bindings::simian::plugin::log,
                "simian:plugin/settings@0.1.0": crate::bindings::simian::plugin::settings,
                "simian:plugin/accounts@0.1.0": crate::bindings::simian::plugin::accounts,
                "simian:plugin/items@0.1.0": crate::bindings::simian::plugin::items,
                "simian:plugin/http@0.1.0": crate::bindings::simian::plugin::http,
                "simian:plugin/mail@0.1.0": crate::bindings::simian::plugin::mail,
            },
            // The export macro is expanded in the plugin crate, which only knows the sdk.
            pub_export_macro: true,
            export_macro_name: $macro_name,
            default_bindings_module: $module,
        });
    };
}

pub mod auditor {
    generate_plugin_world!(
        "auditor",
        "export_auditor",
        "simian_sdk::__private::auditor"
    );
}

pub mod notifier {
    generate_plugin_world!(
        "notifier",
        "export_notifier",
        "simian_sdk::__private::notifier"
    );
}
