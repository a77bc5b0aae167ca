import pytest

from simian_sdk import Check, Checks, Issue, Item, PluginError


def test_builders_return_changed_copies():
    base = Item("AWS::S3::Bucket", "logs")
    item = (
        base.with_name("logs")
        .with_arn("arn:aws:s3:::logs")
        .with_account("111111111111")
        .with_region("us-east-1")
        .with_capture_time("2024-01-01T00:00:00Z")
        .with_configuration({"name": "logs", "versioning": None})
        .with_supplementary({"BucketPolicy": {"policyText": None}})
        .with_tag("owner", "alice")
        .with_tag("env", "prod")
    )
    assert base.configuration_text == "{}" and base.tags == {}
    assert item.account_id == "111111111111" and item.region == "us-east-1"
    assert item.configuration_text == '{"name":"logs","versioning":null}'
    assert item.configuration() == {"name": "logs", "versioning": None}
    assert item.supplementary() == {"BucketPolicy": {"policyText": None}}
    assert list(item.tags) == ["owner", "env"]
    assert item.tag("owner") == "alice"
    assert item.tag("Owner") is None
    assert item.label() == "AWS::S3::Bucket logs"


def test_configuration_errors_name_the_item():
    item = Item("AWS::X::Y", "x-1").with_configuration_text('{"port": ')
    with pytest.raises(PluginError) as e:
        item.configuration()
    assert str(e.value).startswith("configuration of AWS::X::Y x-1: Expecting value")
    # serde rejects NaN, so the SDK does too.
    nan = Item("AWS::X::Y", "x-1").with_configuration_text('{"n": NaN}')
    with pytest.raises(PluginError, match="NaN is not valid JSON"):
        nan.configuration()


def test_configuration_as_wraps_shape_errors():
    def port(value):
        if not isinstance(value["port"], int):
            raise TypeError("port must be an int")
        return value["port"]

    item = Item("AWS::X::Y", "x-1")
    assert item.with_configuration({"port": 22}).configuration_as(port) == 22
    with pytest.raises(PluginError, match=r"^configuration of AWS::X::Y x-1: port must be an int$"):
        item.with_configuration({"port": "no"}).configuration_as(port)
    with pytest.raises(PluginError, match=r"^configuration of AWS::X::Y x-1: missing key 'port'$"):
        item.configuration_as(port)


def test_empty_supplementary_reads_as_an_empty_object():
    item = Item("AWS::X::Y", "x-1", supplementary_text="  ")
    assert item.supplementary() == {}
    broken = Item("AWS::X::Y", "x-1", supplementary_text="[")
    with pytest.raises(PluginError, match="^supplementary configuration of AWS::X::Y x-1: "):
        broken.supplementary()


def test_issue_builder_and_validation():
    issue = Issue("c", "T", 3).with_notes("n").with_remediation("r")
    assert issue == Issue("c", "T", 3, notes="n", remediation="r")
    assert Issue("c", "T", 0).remediation is None
    with pytest.raises(ValueError, match="Issue.score must be between 0 and 4294967295"):
        Issue("c", "T", -1)
    with pytest.raises(TypeError, match="Issue.score must be an int, not bool"):
        Issue("c", "T", True)
    with pytest.raises(TypeError, match="Issue.notes must be a str, not int"):
        Issue("c", "T", 1, notes=5)


def test_checks_builder():
    checks = Checks().check("a", "A", 1, "first").check("b", "B", 2)
    assert list(checks) == [Check("a", "A", 1, "first"), Check("b", "B", 2, "")]
    assert len(checks) == 2 and checks[1].id == "b"
    with pytest.raises(ValueError):
        Checks().check("a", "A", 2**32)
