"""Security groups whose ingress rules let the whole internet in.

The Python port of `plugins/sg-internet-accessible`: same check, same issues, byte for byte.
"""

from __future__ import annotations

from simian_sdk import Auditor, Checks, Issue, Item, export_auditor
from simian_sdk.resources import Direction, SecurityGroup

CHECK_ID = "internet-accessible"
TITLE = "Internet Accessible"
SCORE = 10


class SgInternetAccessible(Auditor):
    @classmethod
    def checks(cls) -> Checks:
        return Checks().check(
            CHECK_ID,
            TITLE,
            SCORE,
            "An ingress rule accepts traffic from any address on the internet.",
        )

    def audit(self, item: Item) -> list[Issue]:
        group = item.configuration_as(SecurityGroup.from_json)
        issues: list[Issue] = []
        seen: set[str] = set()
        for permission in group.ip_permissions:
            access = permission.access(Direction.INGRESS)
            for cidr in permission.cidrs():
                if not cidr.is_open():
                    continue
                notes = f"Entity: [cidr:{cidr}] Access: [{access}]"
                # Two rules with the same protocol and ports would be one issue to the host
                # (notes are part of its identity), so report it once.
                if notes in seen:
                    continue
                seen.add(notes)
                issues.append(
                    Issue(
                        CHECK_ID,
                        TITLE,
                        SCORE,
                        notes=notes,
                        remediation=(
                            f"Restrict the source of {access} to the addresses that need it "
                            f"instead of {cidr}, or remove the rule."
                        ),
                    )
                )
        return issues


# What componentize-py exports as the component's `auditor` world.
WitWorld = export_auditor(SgInternetAccessible)
