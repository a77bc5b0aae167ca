from simian_sdk import (
    HostDenied,
    HostError,
    HostFailed,
    HostInvalid,
    HostTimeout,
    HostTooLarge,
    PluginError,
)


def test_host_errors_spell_like_the_rust_sdk():
    assert str(HostDenied("no grant")) == "denied: no grant"
    assert str(HostInvalid("bad arn")) == "invalid: bad arn"
    assert str(HostTimeout()) == "timeout"
    assert str(HostTooLarge("2 MiB")) == "too large: 2 MiB"
    assert str(HostFailed("relay down")) == "failed: relay down"
    assert [
        e.kind for e in (HostDenied(), HostInvalid(), HostTimeout(), HostTooLarge(), HostFailed())
    ] == [
        "denied",
        "invalid",
        "timeout",
        "too-large",
        "failed",
    ]
    assert all(issubclass(c, HostError) for c in (HostDenied, HostTimeout, HostFailed))
    assert HostDenied("x") == HostDenied("x") != HostInvalid("x")


def test_plugin_error_context():
    assert str(PluginError("boom").context("sg-1")) == "sg-1: boom"
