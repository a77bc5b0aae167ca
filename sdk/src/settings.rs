//! The plugin's own settings from the operator's configuration. Always available.
//!
//! Settings are operator input: every accessor returns an error naming the key rather than
//! trusting the shape.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Error;

/// The setting `key` deserialized as `T`, or `None` if the operator did not set it.
pub fn get<T: DeserializeOwned>(key: &str) -> Result<Option<T>, Error> {
    crate::backend::setting(key)
        .map(|text| {
            serde_json::from_str(&text)
                .map_err(|e| Error::from(e).context(format_args!("setting `{key}`")))
        })
        .transpose()
}

/// The setting `key`, or `default` when unset.
pub fn get_or<T: DeserializeOwned>(key: &str, default: T) -> Result<T, Error> {
    Ok(get(key)?.unwrap_or(default))
}

/// The setting `key`, which must be a string when set.
pub fn get_str(key: &str) -> Result<Option<String>, Error> {
    match get::<Value>(key)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(Error::new(format!(
            "setting `{key}` must be a string, not {other}"
        ))),
    }
}

/// Every setting as one JSON object.
pub fn all() -> Result<Value, Error> {
    serde_json::from_str(&crate::backend::settings_all())
        .map_err(|e| Error::from(e).context("settings"))
}
