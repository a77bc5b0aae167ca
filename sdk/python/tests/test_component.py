"""The component export over stand-ins for componentize-py's generated bindings (the
`wit_world.imports` modules and `componentize_py_types`), shaped exactly like the code
`componentize-py -d wit/since_v0.1.0 -w auditor bindings` writes."""

from __future__ import annotations

import types as pytypes
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

import pytest

from simian_sdk import (
    Auditor,
    Checks,
    HostDenied,
    HostInvalid,
    HostTimeout,
    Issue,
    Item,
    _host,
    _wit,
    accounts,
    export_auditor,
    log,
    settings,
)
from simian_sdk.accounts import Classification, Relation
from simian_sdk.component import export_auditor as export_auditor_again

T = TypeVar("T")


@dataclass
class Ok(Generic[T]):
    value: T


@dataclass(frozen=True)
class Err(Generic[T], Exception):
    value: T


def generated_types() -> pytypes.ModuleType:
    m = pytypes.ModuleType("wit_world.imports.types")

    @dataclass
    class Tag:
        key: str
        value: str

    @dataclass
    class WitItem:
        resource_type: str
        resource_id: str
        resource_name: str
        arn: str
        account_id: str
        region: str
        capture_time: str
        configuration: str
        supplementary_configuration: str
        tags: list[Tag]

    @dataclass
    class WitIssue:
        check_id: str
        title: str
        score: int
        notes: str
        remediation: str | None

    class PluginKind(Enum):
        AUDITOR = 0
        NOTIFIER = 1

    @dataclass
    class CheckInfo:
        id: str
        title: str
        score: int
        description: str

    @dataclass
    class PluginInfo:
        id: str
        version: str
        kind: PluginKind
        description: str
        resource_types: list[str]
        checks: list[CheckInfo]

    def variant(name: str, payload: bool) -> type:
        return dataclass(type(name, (), {"__annotations__": {"value": str}} if payload else {}))

    m.Tag, m.Item, m.Issue, m.PluginKind, m.CheckInfo, m.PluginInfo = (
        Tag,
        WitItem,
        WitIssue,
        PluginKind,
        CheckInfo,
        PluginInfo,
    )
    m.HostError_Denied = variant("HostError_Denied", True)
    m.HostError_Invalid = variant("HostError_Invalid", True)
    m.HostError_Timeout = variant("HostError_Timeout", False)
    m.HostError_TooLarge = variant("HostError_TooLarge", True)
    m.HostError_Failed = variant("HostError_Failed", True)
    return m


class Recorder:
    """The host side of the stand-in imports: what the plugin called, and canned answers."""

    def __init__(self, wit_types: pytypes.ModuleType) -> None:
        self.logs: list[tuple[str, str]] = []
        self.settings = {"score": "7"}
        self.types = wit_types

    def log_module(self) -> pytypes.ModuleType:
        m = pytypes.ModuleType("wit_world.imports.log")

        class Level(Enum):
            TRACE = 0
            DEBUG = 1
            INFO = 2
            WARN = 3
            ERROR = 4

        m.Level = Level
        m.log = lambda level, message: self.logs.append((level.name, message))
        return m

    def settings_module(self) -> pytypes.ModuleType:
        m = pytypes.ModuleType("wit_world.imports.settings")
        m.get = self.settings.get
        m.all = lambda: "{" + ",".join(f'"{k}":{v}' for k, v in self.settings.items()) + "}"
        return m

    def accounts_module(self) -> pytypes.ModuleType:
        m = pytypes.ModuleType("wit_world.imports.accounts")

        class WitRelation(Enum):
            SAME = 0
            FRIENDLY = 1
            THIRD_PARTY = 2
            UNKNOWN = 3

        @dataclass
        class WitClassification:
            relation: WitRelation
            account_id: str | None
            name: str | None

        t = self.types

        def classify_account(own: str, account_id: str) -> Any:
            if account_id == "timeout":
                raise Err(t.HostError_Timeout())
            if account_id == "denied":
                raise Err(t.HostError_Denied("not granted"))
            return WitClassification(WitRelation.THIRD_PARTY, account_id, "vendor")

        def classify_cidr(own: str, cidr: str) -> Any:
            raise Err(t.HostError_Invalid(f"`{cidr}` is not a CIDR"))

        m.classify_account = classify_account
        m.classify_cidr = classify_cidr
        return m


@pytest.fixture
def component(monkeypatch):
    """A ComponentHost over the stand-ins, made the default host as inside a component."""
    wit_types = generated_types()
    recorder = Recorder(wit_types)

    def make(with_accounts: bool = True) -> Recorder:
        host = _wit.ComponentHost(
            types=wit_types,
            log=recorder.log_module(),
            settings=recorder.settings_module(),
            accounts=recorder.accounts_module() if with_accounts else None,
            ok=Ok,
            err_type=Err,
        )
        monkeypatch.setattr(_wit, "COMPONENT", host)
        monkeypatch.setattr(_host, "_component", host)
        return recorder

    return make


def wit_item(types_module: pytypes.ModuleType, resource_id: str, configuration: str = "{}") -> Any:
    return types_module.Item(
        resource_type="AWS::S3::Bucket",
        resource_id=resource_id,
        resource_name="",
        arn="",
        account_id="111111111111",
        region="us-east-1",
        capture_time="",
        configuration=configuration,
        supplementary_configuration="{}",
        tags=[types_module.Tag("owner", "first"), types_module.Tag("owner", "second")],
    )


class Rule(Auditor):
    made = 0

    def __init__(self) -> None:
        type(self).made += 1
        self.score = settings.get_int("score", 1)
        log.info("started")

    @classmethod
    def checks(cls) -> Checks:
        return Checks().check("c", "Check C", 5, "What c means.")

    def audit(self, item: Item) -> list[Issue]:
        item.configuration()
        return [
            Issue("c", "Check C", self.score, notes=f"owner={item.tag('owner')}", remediation="fix")
        ]


def test_describe_leaves_identity_to_plugin_toml(component):
    recorder = component()
    info = export_auditor(Rule)().describe()
    t = recorder.types
    assert info == t.PluginInfo(
        id="",
        version="",
        kind=t.PluginKind.AUDITOR,
        description="",
        resource_types=[],
        checks=[t.CheckInfo(id="c", title="Check C", score=5, description="What c means.")],
    )
    assert Rule.made == 0, "describe must not start the plugin"


def test_audit_converts_and_keeps_one_instance(component):
    recorder = component()
    Rule.made = 0
    world = export_auditor(Rule)
    t = recorder.types
    first = world().audit([wit_item(t, "a"), wit_item(t, "b", "{broken")])
    assert first == [
        Ok(
            [
                t.Issue(
                    check_id="c", title="Check C", score=7, notes="owner=first", remediation="fix"
                )
            ]
        ),
        Err(
            "configuration of AWS::S3::Bucket b: "
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
        ),
    ]
    # A new WitWorld object per call must not mean a new plugin instance.
    assert world().audit([]) == []
    assert Rule.made == 1
    assert recorder.logs == [("INFO", "started")]


def test_host_errors_come_back_as_exceptions(component):
    component()
    assert accounts.classify_account("1", "2") == Classification(
        Relation.THIRD_PARTY, "2", "vendor"
    )
    with pytest.raises(HostTimeout):
        accounts.classify_account("1", "timeout")
    with pytest.raises(HostDenied, match="^denied: not granted$"):
        accounts.classify_account("1", "denied")
    with pytest.raises(HostInvalid, match="is not a CIDR"):
        accounts.classify_cidr("1", "x")
    assert settings.all() == {"score": 7}


def test_an_undeclared_capability_is_a_denial(component):
    component(with_accounts=False)
    with pytest.raises(HostDenied, match="not declared in plugin.toml"):
        accounts.classify_arn("1", "arn:aws:iam::222222222222:root")


def test_a_test_host_still_wins_inside_a_component_host(component):
    from simian_sdk.testing import FakeHost

    component()
    with FakeHost().setting("score", 1).installed():
        assert settings.get("score") == 1
    assert settings.get("score") == 7


def test_export_needs_an_auditor():
    assert export_auditor is export_auditor_again
    with pytest.raises(TypeError, match="needs an Auditor subclass"):
        export_auditor(object)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="only callable inside a component"):
        export_auditor(Rule)().describe()
