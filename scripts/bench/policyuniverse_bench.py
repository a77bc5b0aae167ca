#!/usr/bin/env python3
"""The Python side of the policy benchmark (`cargo bench -p simian --bench policy`).

Reads the items and accounts `policy_items.py` wrote into DIR and audits every item the way
Security Monkey did with policyuniverse, then prints one JSON line: items per second, the
rounds' times and what was found.

What each item gets (Security Monkey's auditors, security_monkey/auditor.py,
auditors/resource_policy_auditor.py, auditors/s3.py, auditors/iam/iam_role.py):

- `AWS::S3::Bucket`: the resource-policy checks on the bucket policy
  (`supplementaryConfiguration.BucketPolicy.policyText`), the ACL checks on
  `supplementaryConfiguration.AccessControlList`, and "no policy";
- `AWS::IAM::Role`: the resource-policy checks on the trust policy
  (`configuration.assumeRolePolicyDocument`; `policy_keys = ['AssumeRolePolicyDocument']`).
  The inline and attached policies are the IAM-policy auditor's business, not these rules'.

The resource-policy checks are Security Monkey's five: internet accessible
(`Policy.is_internet_accessible()`, `.internet_accessible_actions()`), friendly, third-party
and unknown cross-account access, and cross-account root, over `Statement.whos_allowed()`,
each entity placed by `inspect_entity` against the accounts and networks of accounts.json
(Security Monkey's object store, here in memory instead of its database). Notes are written
as Security Monkey wrote them, and an item's issues are de-duplicated as `add_issue` did.

Timed: only the audit of already-decoded items (json.loads of the file is outside the timing,
reported separately). Each document is made into a `Policy` once per item and shared by the
checks; Security Monkey built it again in every check, so this is faster than it was.

Usage: policyuniverse_bench.py DIR [--rounds N]
"""

import argparse
import ipaddress
import json
import platform
import statistics
import sys
import time
from importlib.metadata import version
from urllib.parse import unquote_plus

from policyuniverse.arn import ARN
from policyuniverse.policy import Policy

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
NOTES = "{entity} Actions: {actions}"


class Entity:
    """security_monkey.auditor.Entity."""

    __slots__ = ("category", "value", "account_name", "account_identifier")

    def __init__(self, category, value):
        self.category = category
        self.value = value
        self.account_name = None
        self.account_identifier = None

    @staticmethod
    def from_tuple(entity_tuple):
        return Entity(category=entity_tuple.category, value=entity_tuple.value)

    def __str__(self):
        strval = ""
        if self.account_name or self.account_identifier:
            strval = "Account: [{identifier}/{account_name}] ".format(
                identifier=self.account_identifier, account_name=self.account_name)
        strval += "Entity: [{category}:{value}]".format(category=self.category, value=self.value)
        return strval


class Issues:
    """One item's issues, each (check, notes) once, as `Auditor.add_issue` kept them."""

    def __init__(self):
        self.found = []

    def add(self, check, notes=""):
        if notes and len(notes) > 1024:
            notes = notes[0:1024]
        for existing in self.found:
            if existing[0] == check and existing[1] == notes:
                return
        self.found.append((check, notes))


class Auditor:
    """Security Monkey's resource-policy auditor and S3 ACL checks, over an in-memory store."""

    def __init__(self, book):
        # _load_accounts
        self.descriptions = []
        self.friendly = set()
        self.thirdparty = set()
        for a in book["accounts"]:
            label = "thirdparty" if a.get("third_party") else "friendly"
            (self.thirdparty if label == "thirdparty" else self.friendly).add(a["id"])
            self.descriptions.append(dict(name=a["name"], identifier=a["id"], label=label,
                                          s3_name=None, s3_canonical_id=a.get("canonical_id")))
        # _load_network_whitelist (an account-less network is ours: '000000000000'), and the
        # CIDRs the store learnt per account.
        self.cidrs = {}
        for n in book["networks"]:
            self.cidrs.setdefault(n["cidr"], set()).add(n.get("account") or "000000000000")
        self.networks = [(ipaddress.ip_network(c), accounts) for c, accounts in self.cidrs.items()]
        # Buckets, VPCs, VPC endpoints and unique ids of the recorded inventory: none here, as
        # in the Rust side's empty inventory.
        self.store = {"s3": {}, "vpc": {}, "vpce": {}, "userid": {}}
        # S3Auditor.prep_for_audit
        lower = lambda values: [str(v).lower() for v in values]  # noqa: E731
        self.friendly_s3names = lower(d["s3_name"] for d in self.descriptions
                                      if d["label"] == "friendly")
        self.thirdparty_s3names = lower(d["s3_name"] for d in self.descriptions
                                        if d["label"] == "thirdparty")
        self.friendly_canonical = lower(d["s3_canonical_id"] for d in self.descriptions
                                        if d["label"] == "friendly")
        self.thirdparty_canonical = lower(d["s3_canonical_id"] for d in self.descriptions
                                          if d["label"] == "thirdparty")
        self.internet_groups = [AUTHENTICATED_USERS.lower(), ALL_USERS.lower()]
        self.log_delivery = [LOG_DELIVERY.lower()]
        self.known_acls = (self.friendly_s3names + self.thirdparty_s3names
                           + self.friendly_canonical + self.thirdparty_canonical
                           + self.internet_groups + self.log_delivery)

    # -- one item ---------------------------------------------------------------------------

    def audit(self, item):
        issues = Issues()
        same = item["accountId"]
        resource_type = item["resourceType"]
        if resource_type == "AWS::S3::Bucket":
            supplementary = item.get("supplementaryConfiguration") or {}
            wrapper = supplementary.get("BucketPolicy") or {}
            if isinstance(wrapper, str):
                wrapper = json.loads(wrapper)
            document = wrapper.get("policyText")
            if isinstance(document, str):
                document = json.loads(document) if document.strip() else None
            policies = [Policy(document)] if document else []
            self.resource_policy_checks(issues, policies, same)
            self.acl_checks(issues, supplementary.get("AccessControlList"))
            if not document:  # check_policy_exists
                issues.add("no-bucket-policy")
        elif resource_type == "AWS::IAM::Role":
            document = item["configuration"].get("assumeRolePolicyDocument")
            if isinstance(document, str):
                document = json.loads(unquote_plus(document))
            policies = [Policy(document)] if document else []
            self.resource_policy_checks(issues, policies, same)
        return issues.found

    # -- ResourcePolicyAuditor ----------------------------------------------------------------

    def resource_policy_checks(self, issues, policies, same):
        self.check_internet_accessible(issues, policies)
        self.check_cross_account(issues, policies, same, "FRIENDLY", "friendly-cross-account")
        self.check_cross_account(issues, policies, same, "THIRDPARTY", "thirdparty-cross-account")
        self.check_unknown_cross_account(issues, policies, same)
        self.check_root_cross_account(issues, policies, same)

    def check_internet_accessible(self, issues, policies):
        for policy in policies:
            if policy.is_internet_accessible():
                entity = Entity(category="principal", value="*")
                actions = list(policy.internet_accessible_actions())
                issues.add("internet-accessible",
                           NOTES.format(entity=entity, actions=json.dumps(actions)))

    def check_cross_account(self, issues, policies, same, label, check):
        """Security Monkey's check_friendly_cross_account and check_thirdparty_cross_account:
        the same walk, flagging principals classified as `label`."""
        for policy in policies:
            for statement in policy.statements:
                if statement.effect != "Allow":
                    continue
                for who in statement.whos_allowed():
                    entity = Entity.from_tuple(who)
                    if label in self.inspect_entity(issues, entity, same):
                        issues.add(check, NOTES.format(
                            entity=entity, actions=json.dumps(list(statement.actions))))

    def check_unknown_cross_account(self, issues, policies, same):
        for policy in policies:
            if policy.is_internet_accessible():
                continue
            for statement in policy.statements:
                if statement.effect != "Allow":
                    continue
                for who in statement.whos_allowed():
                    if who.value == "*" and who.category == "principal":
                        continue
                    # Ignore service principals.
                    if who.category == "principal":
                        arn = ARN(who.value)
                        if arn.service:
                            continue
                    entity = Entity.from_tuple(who)
                    if "UNKNOWN" in self.inspect_entity(issues, entity, same):
                        issues.add("unknown-access", NOTES.format(
                            entity=entity, actions=json.dumps(list(statement.actions))))

    def check_root_cross_account(self, issues, policies, same):
        for policy in policies:
            for statement in policy.statements:
                if statement.effect != "Allow":
                    continue
                for who in statement.whos_allowed():
                    if who.category not in ["arn", "principal"]:
                        continue
                    if who.value == "*":
                        continue
                    arn = ARN(who.value)
                    entity = Entity.from_tuple(who)
                    if arn.root and self.inspect_entity(issues, entity, same).intersection(
                            {"FRIENDLY", "THIRDPARTY", "UNKNOWN"}):
                        issues.add("cross-account-root", NOTES.format(
                            entity=entity, actions=json.dumps(list(statement.actions))))

    # -- Auditor.inspect_entity ---------------------------------------------------------------

    def inspect_entity(self, issues, entity, same):
        if entity.category in ["arn", "principal"]:
            return self.inspect_entity_arn(issues, entity, same)
        if entity.category == "account":
            return {self.inspect_entity_account(entity, entity.value, same)}
        if entity.category == "userid":
            return self.inspect_entity_generic("userid", entity, entity.value.split(":")[0],
                                               same)
        if entity.category == "cidr":
            return self.inspect_entity_cidr(issues, entity, same)
        if entity.category == "vpc":
            return self.inspect_entity_generic("vpc", entity, entity.value, same)
        if entity.category == "vpce":
            return self.inspect_entity_generic("vpce", entity, entity.value, same)
        return "ERROR"

    def inspect_entity_arn(self, issues, entity, same):
        arn_input = entity.value
        if arn_input == "*":
            return {"UNKNOWN"}
        arn = ARN(arn_input)
        if arn.error:
            issues.add("parse-error", "Could not parse {input_type} - {input}".format(
                input_type="ARN", input=arn_input))
        if arn.tech == "s3":
            return self.inspect_entity_generic("s3", entity, arn.name, same)
        return {self.inspect_entity_account(entity, arn.account_number, same)}

    def inspect_entity_account(self, entity, account_number, same):
        for account in self.descriptions:
            if account["identifier"] == account_number:
                entity.account_name = account["name"]
                entity.account_identifier = account["identifier"]
                break
        if account_number == "000000000000":
            return "SAME"
        if account_number == same:
            return "SAME"
        if account_number in self.friendly:
            return "FRIENDLY"
        if account_number in self.thirdparty:
            return "THIRDPARTY"
        return "UNKNOWN"

    def inspect_entity_cidr(self, issues, entity, same):
        values = set()
        try:
            subject = ipaddress.ip_network(entity.value, strict=False)
        except ValueError:
            issues.add("parse-error", "Could not parse {input_type} - {input}".format(
                input_type="CIDR", input=entity.value))
            return {"UNKNOWN"}
        for network, accounts in self.networks:
            if subject.version == network.version and subject.subnet_of(network):
                for account in accounts:
                    values.add(self.inspect_entity_account(entity, account, same))
        if not values:
            return {"UNKNOWN"}
        return values

    def inspect_entity_generic(self, key, entity, value, same):
        if value in self.store[key]:
            return {self.inspect_entity_account(entity, account, same)
                    for account in self.store[key][value]}
        return {"UNKNOWN"}

    # -- S3Auditor ACL checks -------------------------------------------------------------------

    def acl_checks(self, issues, acl):
        """The watcher's `Grants` ({grantee: [permission]}) and `Owner`, then the checks."""
        if isinstance(acl, str):
            acl = json.loads(acl)
        acl = acl or {}
        grants = {}
        for g in acl.get("grantList") or []:
            grantee = g.get("grantee")
            if isinstance(grantee, str):
                key = {"AllUsers": ALL_USERS, "AuthenticatedUsers": AUTHENTICATED_USERS,
                       "LogDelivery": LOG_DELIVERY}.get(grantee, grantee)
            else:
                grantee = grantee or {}
                key = grantee.get("uri") or grantee.get("id") or grantee.get("emailAddress")
            grants.setdefault(key, []).append(g.get("permission"))
        owner = ((acl.get("owner") or {}).get("id") or "").lower()
        self._check_acl(issues, grants, owner, "aws", self.internet_groups,
                        "acl-internet-accessible")
        self._check_acl(issues, grants, owner, "aws", self.log_delivery, "acl-log-delivery")
        self._check_acl(issues, grants, owner, "s3_name", self.friendly_s3names,
                        "acl-friendly-cross-account")
        self._check_acl(issues, grants, owner, "s3_name", self.thirdparty_s3names,
                        "acl-thirdparty-cross-account")
        self._check_acl(issues, grants, owner, "s3_canonical_id", self.friendly_canonical,
                        "acl-friendly-cross-account")
        self._check_acl(issues, grants, owner, "s3_canonical_id", self.thirdparty_canonical,
                        "acl-thirdparty-cross-account")
        for key in list(grants.keys()):  # check_acl_unknown
            if key.lower() not in self.known_acls:
                entity = Entity(category="ACL", value=key)
                issues.add("acl-unknown-access",
                           NOTES.format(entity=entity, actions=json.dumps(grants[key])))

    def _check_acl(self, issues, grants, owner, field, keys, check):
        for key in list(grants.keys()):
            if key.lower() not in keys:
                continue
            if key.lower() == owner.lower():  # the owning account: no issue
                continue
            entity = Entity(category="ACL", value=key)
            account = self._get_account(field, key)
            if account:
                entity.account_name = account["name"]
                entity.account_identifier = account["identifier"]
            issues.add(check, NOTES.format(entity=entity, actions=json.dumps(grants[key])))

    def _get_account(self, key, value):
        if key == "aws":
            return dict(name="AWS", identifier="AWS")
        for account in self.descriptions:
            if str(account.get(key, "")).lower() == value.lower():
                return account
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", help="where policy_items.py wrote items.jsonl and accounts.json")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with open(f"{args.dir}/accounts.json", encoding="utf-8") as f:
        book = json.load(f)
    with open(f"{args.dir}/items.jsonl", encoding="utf-8") as f:
        lines = [line for line in f if line.strip()]

    decode_start = time.perf_counter()
    items = [json.loads(line) for line in lines]
    decode_seconds = time.perf_counter() - decode_start

    auditor = Auditor(book)
    found = [auditor.audit(item) for item in items]  # warm-up, untimed
    seconds = []
    for _ in range(max(1, args.rounds)):
        start = time.perf_counter()
        results = [auditor.audit(item) for item in items]
        seconds.append(time.perf_counter() - start)
        assert results == found, "a round found something else"

    counts = {}
    internet_items = 0
    for issues in found:
        checks = {check for check, _ in issues}
        internet_items += "internet-accessible" in checks
        for check, _ in issues:
            counts[check] = counts.get(check, 0) + 1
    median = statistics.median(seconds)
    by_type = {}
    for item in items:
        by_type[item["resourceType"]] = by_type.get(item["resourceType"], 0) + 1
    print(json.dumps({
        "side": "policyuniverse",
        "policyuniverse": version("policyuniverse"),
        "python": platform.python_version(),
        "items": len(items),
        "items_by_type": by_type,
        "rounds": len(seconds),
        "seconds": [round(s, 4) for s in seconds],
        "median_seconds": round(median, 4),
        "items_per_sec": round(len(items) / median, 1),
        "json_decode_seconds": round(decode_seconds, 4),
        "items_per_sec_including_json_decode": round(len(items) / (median + decode_seconds), 1),
        "items_internet_accessible": internet_items,
        "issues": dict(sorted(counts.items())),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
