import pytest

from simian_sdk import HostDenied, HostInvalid, PluginError, accounts, log, settings
from simian_sdk.accounts import Classification, Relation
from simian_sdk.log import Level
from simian_sdk.testing import FakeHost

OWN = "111111111111"


def book() -> FakeHost:
    return (
        FakeHost()
        .account(OWN, "prod")
        .account("222222222222", "dev")
        .account("333333333333", "vendor", third_party=True)
        .canonical_id("222222222222", "canon-dev")
        .canonical_id("999999999999", "canon-unconfigured")
        .network("corp", "10.0.0.0/8")
        .account_network("vendor-vpn", "10.9.0.0/16", "333333333333")
    )


def test_settings_are_json_decoded():
    host = FakeHost().setting("threshold", 3).setting("names", ["a", "b"]).setting("on", True)
    with host.installed():
        assert settings.get("threshold") == 3
        assert settings.get("missing") is None
        assert settings.get_or("missing", 7) == 7
        assert settings.get_int("threshold", 1, minimum=0) == 3
        assert settings.get_bool("on") is True
        assert settings.all() == {"threshold": 3, "names": ["a", "b"], "on": True}


def test_typed_getters_name_the_key():
    host = FakeHost().setting("score", "high").setting("name", 5).setting("n", -1)
    with host.installed():
        with pytest.raises(PluginError, match=r'^setting `score` must be an integer, not "high"$'):
            settings.get_int("score", 1)
        with pytest.raises(PluginError, match=r"^setting `name` must be a string, not 5$"):
            settings.get_str("name")
        with pytest.raises(PluginError, match=r"^setting `n` must be at least 0, not -1$"):
            settings.get_int("n", minimum=0)
        with pytest.raises(PluginError, match=r"^setting `score` must be true or false"):
            settings.get_bool("score")
        assert settings.get_str("unset", "dflt") == "dflt"


def test_fake_host_refuses_what_json_cannot_carry():
    with pytest.raises(TypeError, match=r"FakeHost.setting\('x'\)"):
        FakeHost().setting("x", object())


def test_logs_are_recorded_in_order():
    host = FakeHost()
    with host.installed():
        log.trace("t")
        log.info("i")
        log.error("e")
        log.log(Level.WARN, "w")
    assert host.logs == [
        (Level.TRACE, "t"),
        (Level.INFO, "i"),
        (Level.ERROR, "e"),
        (Level.WARN, "w"),
    ]


def test_without_a_host_settings_are_empty_and_capabilities_denied(capsys):
    assert settings.get("x") is None and settings.all() == {}
    with pytest.raises(HostDenied):
        accounts.classify_account(OWN, OWN)
    log.warn("nobody listens")
    assert "[warn] nobody listens" in capsys.readouterr().err


def test_installed_hosts_nest_and_restore():
    outer, inner = FakeHost().setting("k", "outer"), FakeHost().setting("k", "inner")
    with outer.installed():
        with inner.installed():
            assert settings.get("k") == "inner"
        assert settings.get("k") == "outer"
    assert settings.get("k") is None


def test_accounts_follow_the_host_rules():
    with book().installed():
        relation = lambda id: accounts.classify_account(OWN, id).relation  # noqa: E731
        assert relation(OWN) is Relation.SAME
        assert relation("222222222222") is Relation.FRIENDLY
        assert relation("333333333333") is Relation.THIRD_PARTY
        assert relation("999999999999") is Relation.UNKNOWN
        assert accounts.classify_account(OWN, f" {OWN} ") == Classification(
            Relation.SAME, OWN, "prod"
        )


def test_arns():
    with book().installed():
        c = accounts.classify_arn(OWN, "arn:aws:iam::222222222222:root")
        assert (c.relation, c.name) == (Relation.FRIENDLY, "dev")
        bucket = accounts.classify_arn(OWN, "arn:aws:s3:::bucket")
        assert (bucket.relation, bucket.account_id) == (Relation.UNKNOWN, None)
        managed = accounts.classify_arn(OWN, "arn:aws:iam::aws:policy/ReadOnlyAccess")
        assert managed.relation is Relation.UNKNOWN
        with pytest.raises(HostInvalid, match="is not an ARN"):
            accounts.classify_arn(OWN, "not-an-arn")
        with pytest.raises(HostInvalid):
            accounts.classify_arn(OWN, "arn:aws:iam::12:root")


def test_account_less_arns_belong_to_the_owner_among_known_items():
    from simian_sdk import Item

    host = (
        book()
        .item(Item("AWS::S3::Bucket", "ours").with_account(OWN))
        .item(Item("AWS::S3::Bucket", "devs").with_account("222222222222"))
        .item(Item("AWS::EC2::VPC", "vpc-1").with_account(OWN))
        .item(Item("AWS::EC2::VPCEndpoint", "vpce-2").with_account("222222222222"))
        .item(Item("AWS::IAM::Role", "AROA1").with_account(OWN))
        .item(Item("AWS::Lambda::Function", "f").with_account("222222222222"))
    )
    with host.installed():
        relation = lambda arn: accounts.classify_arn(OWN, arn).relation  # noqa: E731
        assert relation("arn:aws:s3:::ours/uploads/*") is Relation.SAME
        assert relation("arn:aws:s3:::devs") is Relation.FRIENDLY
        assert relation("arn:aws:s3:::somebody-elses") is Relation.UNKNOWN
        assert relation("arn:aws:ec2:::vpc/vpc-1") is Relation.SAME
        assert relation("arn:aws:ec2:::vpc-endpoint/vpce-2") is Relation.FRIENDLY
        assert relation("arn:aws:ec2:::instance/vpc-1") is Relation.UNKNOWN
        assert relation("arn:aws:iam:::unique-id/AROA1") is Relation.SAME
        assert relation("arn:aws:iam:::unique-id/AIDA9") is Relation.UNKNOWN


def test_cidrs_prefer_the_most_specific_network():
    with book().installed():
        corp = accounts.classify_cidr(OWN, "10.1.2.0/24")
        assert corp == Classification(Relation.SAME, None, "corp")
        vpn = accounts.classify_cidr(OWN, "10.9.1.1")
        assert vpn == Classification(Relation.THIRD_PARTY, "333333333333", "vendor-vpn")
        assert accounts.classify_cidr(OWN, "0.0.0.0/0").relation is Relation.UNKNOWN
        assert accounts.classify_cidr(OWN, "::/0").relation is Relation.UNKNOWN
        with pytest.raises(HostInvalid, match="is not a CIDR"):
            accounts.classify_cidr(OWN, "10.0.0/8")


def test_canonical_ids_are_case_insensitive_and_need_a_configured_account():
    with book().installed():
        c = accounts.classify_canonical_id(OWN, "CANON-dev")
        assert (c.relation, c.account_id) == (Relation.FRIENDLY, "222222222222")
        assert (
            accounts.classify_canonical_id(OWN, "canon-unconfigured").relation is Relation.UNKNOWN
        )
        assert accounts.classify_canonical_id(OWN, "nobody").relation is Relation.UNKNOWN


def test_denied_accounts():
    with book().deny_accounts().installed():
        with pytest.raises(HostDenied, match="^denied: the accounts capability is not granted$"):
            accounts.classify_cidr(OWN, "10.0.0.0/8")


def test_a_broken_network_fixture_fails_loudly():
    with pytest.raises(ValueError, match="FakeHost network 'corp'"):
        FakeHost().network("corp", "10.0.0/8")
