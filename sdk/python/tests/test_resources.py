import pytest

from simian_sdk import Item, PluginError
from simian_sdk.resources import Direction, SecurityGroup


def group(value) -> SecurityGroup:
    return SecurityGroup.from_json(value)


def test_access_spelling():
    g = group(
        {
            "ipPermissions": [
                {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22},
                {"ipProtocol": "tcp", "fromPort": 80, "toPort": 443},
                {"ipProtocol": "-1"},
                {"ipProtocol": "icmp", "fromPort": -1, "toPort": -1},
                {"ipProtocol": "udp", "fromPort": 53},
                {"fromPort": 22, "toPort": 22},
                {"ipProtocol": "6", "fromPort": 0, "toPort": 0},
            ]
        }
    )
    assert [p.access(Direction.INGRESS) for p in g.ip_permissions] == [
        "ingress:tcp:22",
        "ingress:tcp:80-443",
        "ingress:all:all",
        "ingress:icmp:all",
        "ingress:udp:all",
        "ingress:all:all",
        "ingress:6:0",
    ]
    assert g.ip_permissions[0].access(Direction.EGRESS) == "egress:tcp:22"


def test_tcp_port_coverage():
    g = group(
        {
            "ipPermissions": [
                {"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432},
                {"ipProtocol": "tcp", "fromPort": 1024, "toPort": 2048},
                {"ipProtocol": "-1"},
                {"ipProtocol": "udp", "fromPort": 0, "toPort": 65535},
                {"ipProtocol": "tcp"},
            ]
        }
    )
    covers = [p.covers_tcp_port for p in g.ip_permissions]
    assert covers[0](5432) and not covers[0](5433)
    assert covers[1](1024) and covers[1](2048) and not covers[1](3306)
    assert covers[2](3306)
    assert not covers[3](5432)
    assert covers[4](1)


def test_cidrs_from_every_list_once_each():
    g = group(
        {
            "ipPermissionsEgress": [
                {
                    "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}, {"cidrIp": "10.1.2.3/8"}],
                    "ipRanges": ["0.0.0.0/0", {"cidrIp": "192.168.0.0/16"}, "not a cidr"],
                    "ipv6Ranges": [{"cidrIpv6": "::/0"}],
                    "userIdGroupPairs": [{"groupId": "sg-2", "userId": "222222222222"}],
                }
            ]
        }
    )
    rule = g.ip_permissions_egress[0]
    assert [str(c) for c in rule.cidrs()] == ["0.0.0.0/0", "10.0.0.0/8", "192.168.0.0/16", "::/0"]
    assert len(list(rule.cidr_texts())) == 6
    assert rule.user_id_group_pairs[0].user_id == "222222222222"


def test_cidrs_are_trimmed_as_rust_trims():
    # U+2000 is Unicode white space (trimmed by the host); U+001C is not, though Python's
    # str.strip() would remove it.
    rule = group(
        {"ipPermissions": [{"ipRanges": ["\u20000.0.0.0/0 ", "\x1c::/0"]}]}
    ).ip_permissions[0]
    assert [str(c) for c in rule.cidrs()] == ["0.0.0.0/0"]


def test_nulls_and_missing_fields_are_empty():
    g = group({"ipPermissions": None, "groupName": None, "inUse": None})
    assert g.ip_permissions == () and g.ip_permissions_egress == ()
    assert g.group_name is None and g.in_use is None
    assert group({"inUse": True, "groupId": "sg-1"}).in_use is True


@pytest.mark.parametrize(
    ("configuration", "message"),
    [
        ({"ipPermissions": "open"}, '`ipPermissions` must be a list, not "open"'),
        (
            {"ipPermissions": [{"fromPort": "x"}]},
            '`ipPermissions[0].fromPort` must be an integer, not "x"',
        ),
        (
            {"ipPermissions": [{"fromPort": 22.0}]},
            "`ipPermissions[0].fromPort` must be an integer, not 22.0",
        ),
        (
            {"ipPermissions": [{"toPort": True}]},
            "`ipPermissions[0].toPort` must be an integer, not true",
        ),
        ({"ipPermissions": [{"fromPort": 2**63}]}, "must be an integer"),
        (
            {"ipPermissions": [{"ipv4Ranges": [None]}]},
            "`ipPermissions[0].ipv4Ranges[0]` must be an object, not null",
        ),
        (
            {"ipPermissions": [{"ipRanges": [5]}]},
            "`ipPermissions[0].ipRanges[0]` must be a CIDR string",
        ),
        (
            {"ipPermissions": [{"ipProtocol": 6}]},
            "`ipPermissions[0].ipProtocol` must be a string, not 6",
        ),
        ({"inUse": "yes"}, '`inUse` must be true or false, not "yes"'),
        ([], "`configuration` must be an object, not []"),
    ],
)
def test_wrong_shapes_are_errors_naming_the_field(configuration, message):
    item = Item("AWS::EC2::SecurityGroup", "sg-bad").with_configuration(configuration)
    with pytest.raises(PluginError) as e:
        item.configuration_as(SecurityGroup.from_json)
    assert str(e.value).startswith("configuration of AWS::EC2::SecurityGroup sg-bad: ")
    assert message in str(e.value)
