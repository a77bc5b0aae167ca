import pytest

from simian_sdk import PluginError
from simian_sdk.arn import Arn, is_account_id
from simian_sdk.cidr import Cidr


def cidr(text: str) -> Cidr:
    return Cidr.parse(text)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("10.1.2.3/8", "10.0.0.0/8"),
        ("10.1.2.3", "10.1.2.3/32"),
        ("2001:DB8:0:0::1/32", "2001:db8::/32"),
        ("::1", "::1/128"),
        ("::", "::/128"),
        ("1.2.3.4/0", "0.0.0.0/0"),
        ("0:0:0:0:0:0:0:0/0", "::/0"),
        # As Rust writes IPv6: the first longest run of two or more zero groups is `::`...
        ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4/128"),
        ("1:0:0:2:0:0:0:4", "1:0:0:2::4/128"),
        # ...a single zero group stays...
        ("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7/128"),
        ("fe80::/10", "fe80::/10"),
        # ...and IPv4-mapped addresses read dotted, whatever the Python version.
        ("::ffff:1.2.3.4", "::ffff:1.2.3.4/128"),
        ("::ffff:102:304/120", "::ffff:1.2.3.0/120"),
        ("::1.2.3.4", "::102:304/128"),
    ],
)
def test_canonical_form(text, canonical):
    assert str(cidr(text)) == canonical


def test_equality_is_on_the_canonical_form():
    assert cidr("192.168.1.255/24") == cidr("192.168.1.0/24")
    assert cidr("172.16.0.0/12").prefix_len == 12


def test_open():
    assert cidr("0.0.0.0/0").is_open() and cidr("::/0").is_open()
    assert not cidr("0.0.0.0/1").is_open() and not cidr("10.0.0.0/8").is_open()
    assert cidr("::/0").is_ipv6() and cidr("0.0.0.0/0").is_ipv4()


def test_containment():
    assert cidr("10.0.0.0/8").contains(cidr("10.9.1.0/24"))
    assert cidr("10.0.0.0/8").contains(cidr("10.0.0.0/8"))
    assert not cidr("10.9.1.0/24").contains(cidr("10.0.0.0/8"))
    assert not cidr("10.0.0.0/8").contains(cidr("11.0.0.0/24"))
    assert cidr("0.0.0.0/0").contains(cidr("8.8.8.8"))
    assert not cidr("0.0.0.0/0").contains(cidr("::/0"))
    assert cidr("2001:db8::/32").contains(cidr("2001:db8:1::/48"))


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "/8",
        "10.0.0/8",
        "10.0.0.0/",
        "10.0.0.0/33",
        "10.0.0.0/+8",
        "10.0.0.0/-1",
        "10.0.0.0/8/8",
        "10.0.0.0 /8",
        "10.0.0.0/ 8",
        "::/129",
        "::/1000",
        "not-an-ip/8",
        "10.0.0.256/8",
        "1.2.3.4/x",
        "010.0.0.0/8",
        "fe80::1%eth0",
        "10.0.0.0/\u0668",
    ],
)
def test_malformed(bad):
    with pytest.raises(PluginError, match="is not a CIDR"):
        Cidr.parse(bad)


def test_error_messages_match_the_host():
    with pytest.raises(PluginError) as e:
        Cidr.parse("10.0.0.0/33")
    assert str(e.value) == "`10.0.0.0/33` is not a CIDR: prefix /33 is longer than /32"
    with pytest.raises(PluginError) as e:
        Cidr.parse("x/8")
    assert str(e.value) == "`x/8` is not a CIDR: `x` is not an IP address"


def test_arns():
    arn = Arn.parse("arn:aws:iam::123456789012:root")
    assert (arn.partition, arn.service, arn.region, arn.account_id()) == (
        "aws",
        "iam",
        "",
        "123456789012",
    )
    assert arn.resource_type() is None and arn.resource_id() == "root"
    assert str(arn) == "arn:aws:iam::123456789012:root"
    obj = Arn.parse("arn:aws:s3:::bucket/key:with:colons")
    assert obj.account_id() is None and obj.resource == "bucket/key:with:colons"
    assert obj.resource_type() == "bucket"
    assert Arn.parse("arn:aws:iam::*:role/x").is_any_account()
    assert Arn.parse("arn:aws:lambda:us-east-1:123456789012:function:f").resource_id() == "f"
    for bad in [
        "not-an-arn",
        "arn:aws:iam::12:root",
        "arn::iam::123456789012:root",
        "arn:aws:s3:::",
    ]:
        with pytest.raises(PluginError, match="is not an ARN"):
            Arn.parse(bad)
    assert is_account_id("123456789012")
    assert not is_account_id("12345678901") and not is_account_id("١٢٣٤٥٦٧٨٩٠١٢")
