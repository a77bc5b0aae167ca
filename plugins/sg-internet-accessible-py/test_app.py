"""The Rust plugin's tests (plugins/sg-internet-accessible/src/tests.rs), ported: the same
inputs must give the same issues, byte for byte."""

from __future__ import annotations

from typing import Any

import pytest

from app import SgInternetAccessible
from simian_sdk import Issue, Item
from simian_sdk.testing import AuditFailure, FakeHost, audit_with


def group(configuration: Any) -> Item:
    return (
        Item("AWS::EC2::SecurityGroup", "sg-1")
        .with_account("111111111111")
        .with_region("us-east-1")
        .with_configuration(configuration)
    )


def audit(item: Item) -> list[Issue]:
    """The issues found on one item; raises AuditFailure if it could not be audited."""
    results = audit_with(SgInternetAccessible, [item], FakeHost())
    assert len(results) == 1
    [result] = results
    if isinstance(result, AuditFailure):
        raise result
    return result


def notes(configuration: Any) -> list[str]:
    return [issue.notes for issue in audit(group(configuration))]


def ingress(permission: Any) -> dict[str, Any]:
    return {"groupId": "sg-1", "ipPermissions": [permission], "ipPermissionsEgress": []}


def test_open_ssh_over_ipv4():
    issues = audit(
        group(
            ingress(
                {
                    "ipProtocol": "tcp",
                    "fromPort": 22,
                    "toPort": 22,
                    "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}],
                }
            )
        )
    )
    assert issues == [
        Issue(
            "internet-accessible",
            "Internet Accessible",
            10,
            notes="Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:22]",
            remediation=(
                "Restrict the source of ingress:tcp:22 to the addresses that need it instead "
                "of 0.0.0.0/0, or remove the rule."
            ),
        )
    ]


def test_open_port_range_over_ipv6():
    found = notes(
        ingress(
            {
                "ipProtocol": "tcp",
                "fromPort": 80,
                "toPort": 443,
                "ipv6Ranges": [{"cidrIpv6": "::/0"}, {"cidrIpv6": "2001:db8::/32"}],
            }
        )
    )
    assert found == ["Entity: [cidr:::/0] Access: [ingress:tcp:80-443]"]


def test_legacy_ip_ranges_count_once():
    both = notes(
        ingress(
            {
                "ipProtocol": "udp",
                "fromPort": 53,
                "toPort": 53,
                "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}],
                "ipRanges": ["0.0.0.0/0"],
            }
        )
    )
    assert both == ["Entity: [cidr:0.0.0.0/0] Access: [ingress:udp:53]"]
    legacy_only = notes(
        ingress({"ipProtocol": "tcp", "fromPort": 3389, "toPort": 3389, "ipRanges": ["0.0.0.0/0"]})
    )
    assert legacy_only == ["Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:3389]"]


def test_private_ranges_are_not_flagged():
    found = notes(
        ingress(
            {
                "ipProtocol": "tcp",
                "fromPort": 22,
                "toPort": 22,
                "ipv4Ranges": [{"cidrIp": "10.0.0.0/8"}],
                "ipRanges": ["10.0.0.0/8"],
                "userIdGroupPairs": [{"groupId": "sg-2"}],
                "prefixListIds": [],
            }
        )
    )
    assert found == []


def test_open_egress_alone_is_not_flagged():
    found = notes(
        {
            "groupId": "sg-1",
            "ipPermissions": [],
            "ipPermissionsEgress": [
                {
                    "ipProtocol": "-1",
                    "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}],
                    "ipv6Ranges": [{"cidrIpv6": "::/0"}],
                }
            ],
        }
    )
    assert found == []


def test_all_protocols_and_missing_ports():
    found = notes(
        {
            "ipPermissions": [
                {
                    "ipProtocol": "-1",
                    "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}],
                    "ipv6Ranges": [{"cidrIpv6": "::/0"}],
                },
                {"ipProtocol": "icmp", "fromPort": -1, "toPort": -1, "ipRanges": ["0.0.0.0/0"]},
                {"ipProtocol": "tcp", "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]},
            ]
        }
    )
    assert found == [
        "Entity: [cidr:0.0.0.0/0] Access: [ingress:all:all]",
        "Entity: [cidr:::/0] Access: [ingress:all:all]",
        "Entity: [cidr:0.0.0.0/0] Access: [ingress:icmp:all]",
        "Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:all]",
    ]


def test_same_access_twice_is_one_issue():
    rule = {
        "ipProtocol": "tcp",
        "fromPort": 22,
        "toPort": 22,
        "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}],
    }
    found = notes({"ipPermissions": [rule, dict(rule, ipv4Ranges=[{"cidrIp": "1.2.3.4/0"}])]})
    assert found == ["Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:22]"]


def test_missing_and_null_fields_are_empty():
    assert notes({}) == []
    assert notes({"ipPermissions": None}) == []
    found = notes(
        ingress(
            {
                "ipProtocol": "tcp",
                "fromPort": 443,
                "toPort": 443,
                "ipv4Ranges": None,
                "ipv6Ranges": [{}],
                "ipRanges": [{"cidrIp": "0.0.0.0/0"}],
            }
        )
    )
    assert found == ["Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:443]"]


def test_malformed_configuration_is_an_error():
    truncated = Item("AWS::EC2::SecurityGroup", "sg-bad").with_configuration_text(
        '{"ipPermissions": ['
    )
    with pytest.raises(AuditFailure, match="^configuration of AWS::EC2::SecurityGroup sg-bad: "):
        audit(truncated)
    with pytest.raises(AuditFailure, match="`ipPermissions` must be a list"):
        audit(group({"ipPermissions": "open"}))
    with pytest.raises(AuditFailure, match="`ipPermissions\\[0\\].fromPort` must be an integer"):
        audit(group(ingress({"ipProtocol": "tcp", "fromPort": "ssh"})))


def test_a_bad_item_does_not_spoil_the_batch():
    open_ssh = ingress(
        {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": ["0.0.0.0/0"]}
    )
    bad = Item("AWS::EC2::SecurityGroup", "sg-bad").with_configuration_text("[")
    results = audit_with(SgInternetAccessible, [group(open_ssh), bad, group(open_ssh)])
    assert [type(r).__name__ for r in results] == ["list", "AuditFailure", "list"]
    assert results[0] == results[2] and len(results[0]) == 1


def test_the_checks_are_listed():
    [check] = SgInternetAccessible.checks()
    assert (check.id, check.title, check.score) == (
        "internet-accessible",
        "Internet Accessible",
        10,
    )
    assert check.description == "An ingress rule accepts traffic from any address on the internet."
