import json

import pytest

from simian_sdk import Auditor, Checks, HostDenied, Issue, Item, PluginError, accounts, settings
from simian_sdk.plugin import error_message
from simian_sdk.testing import AuditFailure, FakeHost, audit_one, audit_with


def bucket(name: str, **tags: str) -> Item:
    item = Item("AWS::S3::Bucket", name).with_account("111111111111")
    for key, value in tags.items():
        item = item.with_tag(key, value)
    return item


class Owners(Auditor):
    starts = 0

    def __init__(self) -> None:
        type(self).starts += 1
        self.score = settings.get_int("score", 1, minimum=0)

    @classmethod
    def checks(cls) -> Checks:
        return Checks().check("missing-owner-tag", "Missing owner tag", 1)

    def audit(self, item: Item) -> list[Issue]:
        if item.resource_id == "explodes":
            return {}["no-such-key"]
        if item.tag("owner"):
            return []
        return [
            Issue(
                "missing-owner-tag", "Missing owner tag", self.score, notes="Tags: [owner missing]"
            )
        ]


def test_one_outcome_per_item_and_failures_stay_with_their_item():
    Owners.starts = 0
    outcomes = audit_with(Owners, [bucket("a"), bucket("explodes"), bucket("b", owner="me")])
    assert Owners.starts == 1
    assert outcomes[0] == [
        Issue("missing-owner-tag", "Missing owner tag", 1, notes="Tags: [owner missing]")
    ]
    assert isinstance(outcomes[1], AuditFailure)
    # The type, the message and where in the plugin: no traceback, no directories.
    line = next(n for n, text in enumerate(open(__file__), 1) if 'return {}["no-such-key"]' in text)
    assert outcomes[1].message == f"KeyError: 'no-such-key' (at test_plugin.py:{line})"
    assert outcomes[2] == []


def test_a_failed_start_fails_every_item():
    host = FakeHost().setting("score", "high")
    outcomes = audit_with(Owners, [bucket("a"), bucket("b")], host=host)
    expected = AuditFailure(
        'plugin failed to start: setting `score` must be an integer, not "high"'
    )
    assert outcomes == [expected, expected]


def test_audit_one_raises_the_failure():
    assert audit_one(Owners, bucket("a", owner="x")) == []
    with pytest.raises(AuditFailure, match="^KeyError"):
        audit_one(Owners, bucket("explodes"))


class Yields(Auditor):
    """Issues may be yielded; an exception raised half-way still fails only this item."""

    def audit(self, item: Item):
        yield Issue("c", "T", 1, notes=item.resource_id)
        if item.resource_id == "host":
            accounts.classify_account("1", "2")
        if item.resource_id == "plugin":
            raise PluginError("cannot judge this")


def test_yielded_issues_and_errors_raised_part_way():
    host = FakeHost().deny_accounts()
    outcomes = audit_with(Yields, [Item("T", i) for i in ["host", "plugin", "gen"]], host)
    assert outcomes == [
        AuditFailure("host call failed: denied: the accounts capability is not granted"),
        AuditFailure("cannot judge this"),
        [Issue("c", "T", 1, notes="gen")],
    ]


class Returns(Auditor):
    def audit(self, item: Item):
        return {
            "none": None,
            "str": "issue",
            "one": Issue("c", "T", 1),
            "mixed": [Issue("c", "T", 1), 5],
        }[item.resource_id]


def test_wrong_return_values_are_named():
    outcomes = audit_with(Returns, [Item("T", i) for i in ["none", "str", "one", "mixed"]])
    assert [o.message for o in outcomes] == [
        "audit returned None, not a list of issues (missing `return`?)",
        "audit returned str, not a list of issues",
        "audit returned Issue, not a list of issues",
        "audit returned a int among its issues",
    ]


class Batched(Auditor):
    def audit_batch(self, items):
        return [[] for _ in items[1:]]


class BatchRaises(Auditor):
    def audit_batch(self, items):
        raise HostDenied("nope")


def test_a_wrong_batch_fails_every_item():
    outcomes = audit_with(Batched, [Item("T", "a"), Item("T", "b")])
    assert outcomes == [AuditFailure("Batched.audit_batch returned 1 results for 2 items")] * 2
    assert audit_with(BatchRaises, [Item("T", "a")]) == [
        AuditFailure("host call failed: denied: nope")
    ]


class NoAudit(Auditor):
    pass


def test_an_auditor_without_audit_says_so():
    [outcome] = audit_with(NoAudit, [Item("T", "a")])
    assert outcome.message.startswith(
        "NotImplementedError: NoAudit does not implement audit() (at "
    )


def test_error_messages():
    assert error_message(PluginError("p")) == "p"
    assert error_message(HostDenied("d")) == "host call failed: denied: d"
    assert error_message(ValueError()) == "ValueError"


class RaisesDeep(Auditor):
    def audit(self, item: Item) -> list[Issue]:
        if item.resource_id == "score":
            return [Issue("c", "T", -1)]  # raised in the SDK's checks
        return json.loads("{")  # raised inside the standard library


def test_errors_point_at_the_plugins_line_not_the_library():
    def line_of(fragment: str) -> int:
        return next(n for n, text in enumerate(open(__file__), 1) if fragment in text)

    score, parse = audit_with(RaisesDeep, [Item("T", "score"), Item("T", "parse")])
    score_line = line_of('[Issue("c", "T", -1)]')
    parse_line = line_of('json.loads("{")')
    assert score.message == (
        "ValueError: Issue.score must be between 0 and 4294967295, not -1 "
        f"(at test_plugin.py:{score_line})"
    )
    assert parse.message.startswith("JSONDecodeError: Expecting property name")
    assert parse.message.endswith(f"(at test_plugin.py:{parse_line})")
