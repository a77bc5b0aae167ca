#!/usr/bin/env python3
"""The items of the policy benchmark (`cargo bench -p simian --bench policy`).

Writes, deterministically (its own splitmix64, no `random`), into OUT_DIR:

- `items.jsonl`: 10,000 items in simian's AWS Config envelope (docs/item-format.md), one a
  line: 5,000 `AWS::S3::Bucket` (bucket policy and ACL under `supplementaryConfiguration`,
  as the S3 watcher records them) and 5,000 `AWS::IAM::Role` (trust policy, inline policies
  and attached managed policies in `configuration`, as the IAM watcher records them);
- `accounts.json`: the accounts and networks both sides classify against (the Rust bench
  writes them into simian.toml, the Python side into Security Monkey's object store).

The policies mix what real estates hold: public statements (`"Principal": "*"`, `{"AWS": "*"}`,
`NotPrincipal`), statements restricted by aws:SourceIp, aws:SourceVpc, aws:SourceVpce,
aws:PrincipalOrgID, aws:SourceAccount / aws:SourceArn, cross-account role and root ARNs of
friendly, third-party and unknown accounts, bare account ids, service and federated
principals, Deny statements, wildcard actions, several statements per policy, and now and
then a deleted principal (a unique id). Prints one JSON line describing what it wrote.

Usage: policy_items.py OUT_DIR [--buckets N] [--roles N]
"""

import argparse
import hashlib
import json
import os
import sys

OWN = ["111111111111", "222222222222"]
FRIENDLY = "333333333333"
VENDOR = "444444444444"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
REGIONS = ["us-east-1", "us-east-1", "eu-west-1", "us-west-2"]
ORG_ID = "o-a1b2c3d4e5"


def canonical_id(name):
    """A 64-hex S3 canonical user id, stable per account name."""
    return hashlib.sha256(("simian-bench-" + name).encode()).hexdigest()


ACCOUNTS = [
    {"id": OWN[0], "name": "prod", "third_party": False, "canonical_id": canonical_id("prod")},
    {"id": OWN[1], "name": "staging", "third_party": False,
     "canonical_id": canonical_id("staging")},
    {"id": FRIENDLY, "name": "shared-services", "third_party": False,
     "canonical_id": canonical_id("shared-services")},
    {"id": VENDOR, "name": "vendor", "third_party": True, "canonical_id": canonical_id("vendor")},
]
NETWORKS = [
    {"name": "corp", "cidr": "10.0.0.0/8", "account": None},
    {"name": "vendor-vpn", "cidr": "192.0.2.0/24", "account": VENDOR},
]
CANONICAL = {a["id"]: a["canonical_id"] for a in ACCOUNTS}


class Rng:
    """splitmix64: the same stream on every Python version and machine."""

    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed & self.MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n

    def pick(self, items):
        return items[self.below(len(items))]

    def chance(self, percent):
        return self.below(100) < percent

    def weighted(self, table):
        """`table`: [(weight, value)]; weights need not sum to 100."""
        roll = self.below(sum(w for w, _ in table))
        for weight, value in table:
            if roll < weight:
                return value
            roll -= weight
        raise AssertionError("unreachable")


def unknown_account(rng):
    """A 12-digit id no configured account has (5xx… to 8xx…)."""
    return "%012d" % (500_000_000_000 + rng.below(400_000_000_000))


def other_own(own):
    return OWN[1] if own == OWN[0] else OWN[0]


def hexid(rng, width):
    return ("%016x" % rng.next())[:width]


def statement(rng, effect, action, resource=None, principal=None, not_principal=None,
              condition=None):
    s = {"Effect": effect, "Action": action}
    if rng.chance(70):
        s["Sid"] = "Stmt%d" % rng.below(1_000_000)
    if principal is not None:
        s["Principal"] = principal
    if not_principal is not None:
        s["NotPrincipal"] = not_principal
    if resource is not None:
        s["Resource"] = resource
    if condition is not None:
        s["Condition"] = condition
    return s


# Bucket policy statements: (weight, kind).
BUCKET_KINDS = [
    (5, "public-read"),
    (2, "public-aws-star"),
    (1, "public-not-principal"),
    (1, "public-open-source-ip"),
    (10, "source-ip-ours"),
    (4, "source-ip-outside"),
    (8, "source-vpc"),
    (4, "source-vpce"),
    (8, "org-id"),
    (10, "service-source-account"),
    (8, "friendly-role"),
    (5, "vendor-root"),
    (5, "unknown-account"),
    (2, "bare-account"),
    (4, "other-own-account"),
    (12, "same-account-role"),
    (8, "deny-insecure-transport"),
    (2, "deny-not-principal"),
    (1, "deleted-principal"),
]
READ = ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"]
WRITE = ["s3:PutObject", "s3:PutObjectAcl", "s3:DeleteObject"]


def bucket_statement(rng, kind, bucket, own):
    arn = "arn:aws:s3:::" + bucket
    objects = arn + "/*"
    both = [arn, objects]
    if kind == "public-read":
        return statement(rng, "Allow", rng.pick(["s3:GetObject", "s3:Get*", READ[:2]]),
                         objects, principal="*")
    if kind == "public-aws-star":
        return statement(rng, "Allow", ["s3:GetObject", "s3:ListBucket"], both,
                         principal={"AWS": "*"})
    if kind == "public-not-principal":
        return statement(rng, "Allow", "s3:Get*", objects,
                         not_principal={"AWS": "arn:aws:iam::%s:role/blocked" % own})
    if kind == "public-open-source-ip":
        return statement(rng, "Allow", "s3:GetObject", objects, principal="*",
                         condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})
    if kind == "source-ip-ours":
        cidrs = ["10.%d.%d.0/24" % (rng.below(256), rng.below(256))
                 for _ in range(1 + rng.below(3))]
        return statement(rng, "Allow", rng.pick([READ, "s3:*", "s3:Get*"]), both,
                         principal="*",
                         condition={"IpAddress": {"aws:SourceIp": cidrs if len(cidrs) > 1
                                                  else cidrs[0]}})
    if kind == "source-ip-outside":
        cidr = rng.pick(["203.0.113.%d/32" % rng.below(256), "198.51.100.0/24",
                         "192.0.2.%d/32" % rng.below(256)])
        return statement(rng, "Allow", READ, both, principal="*",
                         condition={"IpAddress": {"aws:SourceIp": cidr}})
    if kind == "source-vpc":
        return statement(rng, "Allow", rng.pick([READ, READ + WRITE, "s3:*"]), both,
                         principal="*",
                         condition={"StringEquals": {"aws:SourceVpc": "vpc-" + hexid(rng, 17)}})
    if kind == "source-vpce":
        return statement(rng, "Allow", READ + WRITE, both, principal={"AWS": "*"},
                         condition={"StringEquals": {"aws:SourceVpce": "vpce-" + hexid(rng, 17)}})
    if kind == "org-id":
        return statement(rng, "Allow", rng.pick([READ, "s3:Get*"]), both, principal="*",
                         condition={"StringEquals": {"aws:PrincipalOrgID": ORG_ID}})
    if kind == "service-source-account":
        if rng.chance(50):
            return statement(rng, "Allow", "s3:PutObject", objects,
                             principal={"Service": "logging.s3.amazonaws.com"},
                             condition={"StringEquals": {"aws:SourceAccount": own}})
        return statement(rng, "Allow", ["s3:PutObject", "s3:GetBucketAcl"], both,
                         principal={"Service": "cloudtrail.amazonaws.com"},
                         condition={
                             "StringEquals": {"aws:SourceAccount": own},
                             "ArnLike": {"aws:SourceArn":
                                         "arn:aws:cloudtrail:us-east-1:%s:trail/*" % own},
                         })
    if kind == "friendly-role":
        return statement(rng, "Allow", READ, both, principal={
            "AWS": "arn:aws:iam::%s:role/analytics-%d" % (FRIENDLY, rng.below(20))})
    if kind == "vendor-root":
        return statement(rng, "Allow", rng.pick(["s3:GetObject", READ]), both,
                         principal={"AWS": "arn:aws:iam::%s:root" % VENDOR})
    if kind == "unknown-account":
        unknown = unknown_account(rng)
        return statement(rng, "Allow", rng.pick(["s3:*", READ, WRITE]), both, principal={
            "AWS": ["arn:aws:iam::%s:role/partner" % unknown, "arn:aws:iam::%s:root" % unknown]})
    if kind == "bare-account":
        return statement(rng, "Allow", "s3:ListBucket", arn, principal={"AWS": FRIENDLY})
    if kind == "other-own-account":
        return statement(rng, "Allow", ["s3:ReplicateObject", "s3:ReplicateDelete"], objects,
                         principal={"AWS": "arn:aws:iam::%s:role/replication" % other_own(own)})
    if kind == "same-account-role":
        return statement(rng, "Allow", rng.pick([READ, WRITE, READ + WRITE, "s3:*"]), both,
                         principal={"AWS": ["arn:aws:iam::%s:role/app-%d" % (own, rng.below(50)),
                                            "arn:aws:iam::%s:user/deployer" % own]})
    if kind == "deny-insecure-transport":
        return statement(rng, "Deny", "s3:*", both, principal="*",
                         condition={"Bool": {"aws:SecureTransport": "false"}})
    if kind == "deny-not-principal":
        return statement(rng, "Deny", ["s3:DeleteBucket", "s3:PutBucketPolicy"], arn,
                         not_principal={"AWS": ["arn:aws:iam::%s:role/admin" % own,
                                                "arn:aws:iam::%s:root" % own]})
    if kind == "deleted-principal":
        return statement(rng, "Allow", "s3:GetObject", objects,
                         principal={"AWS": "AROA" + hexid(rng, 16).upper() + "X"})
    raise AssertionError(kind)


def grant(grantee, permission):
    return {"grantee": grantee, "permission": permission}


def canonical_grantee(cid):
    return {"displayName": None, "emailAddress": None, "id": cid, "type": "CanonicalUser",
            "uri": None}


def group_grantee(uri):
    return {"displayName": None, "emailAddress": None, "id": None, "type": "Group", "uri": uri}


def bucket(rng, i):
    own = OWN[i % 2]
    name = "bench-%s-%05d" % (rng.pick(["data", "logs", "assets", "backup", "reports"]), i)
    region = rng.pick(REGIONS)
    owner = CANONICAL[own]
    grants = [grant(canonical_grantee(owner), "FULL_CONTROL")]
    if rng.chance(3):
        grants.append(grant(group_grantee(ALL_USERS), "READ"))
    if rng.chance(1):
        grants.append(grant(group_grantee(AUTHENTICATED_USERS), "READ"))
    if rng.chance(4):
        grants += [grant(group_grantee(LOG_DELIVERY), "WRITE"),
                   grant(group_grantee(LOG_DELIVERY), "READ_ACP")]
    if rng.chance(2):
        grants.append(grant(canonical_grantee(CANONICAL[VENDOR]), "READ"))
    if rng.chance(2):
        grants.append(grant(canonical_grantee(CANONICAL[other_own(own)]), "READ"))
    if rng.chance(1):
        grants.append(grant(canonical_grantee(hexid(rng, 16) * 4), "READ"))
    if rng.chance(5):
        policy = None
    else:
        count = rng.weighted([(35, 1), (35, 2), (20, 3), (10, 4)])
        policy = {
            "Version": "2012-10-17",
            "Statement": [bucket_statement(rng, rng.weighted(BUCKET_KINDS), name, own)
                          for _ in range(count)],
        }
        if rng.chance(30):
            policy["Id"] = "Policy%d" % rng.below(10**12)
    return {
        "accountId": own,
        "arn": "arn:aws:s3:::" + name,
        "awsRegion": region,
        "configuration": {
            "creationDate": "2026-11-%02dT00:00:00Z" % (1 + rng.below(28)),
            "name": name,
            "owner": {"displayName": "bench", "id": owner},
            "region": region,
        },
        "configurationItemCaptureTime": "2026-11-29T00:00:00Z",
        "resourceId": name,
        "resourceName": name,
        "resourceType": "AWS::S3::Bucket",
        "supplementaryConfiguration": {
            "AccessControlList": {"grantList": grants,
                                  "owner": {"displayName": "bench", "id": owner}},
            "BucketLoggingConfiguration": {"destinationBucketName": None, "logFilePrefix": None},
            "BucketPolicy": {"policyText": policy},
            "BucketTaggingConfiguration": {"tagSets": [{"tags": {"env": "bench"}}]},
            "BucketVersioningConfiguration": {"isMfaDeleteEnabled": None,
                                              "status": rng.pick(["Off", "Enabled"])},
            "PublicAccessBlockConfiguration": None,
            "ServerSideEncryptionConfiguration": None,
        },
        "tags": {"env": "bench"},
    }


# Trust policy statements: (weight, kind).
TRUST_KINDS = [
    (29, "service"),
    (8, "same-account-root"),
    (8, "same-account-role"),
    (12, "friendly-role"),
    (8, "vendor-external-id"),
    (6, "unknown-root"),
    (4, "unknown-role"),
    (2, "public"),
    (4, "public-org-id"),
    (2, "public-unknown-account"),
    (6, "saml"),
    (5, "github-oidc"),
    (3, "deny-outside-org"),
    (1, "bare-account"),
    (1, "not-principal"),
    (1, "deleted-principal"),
]
SERVICES = ["ec2.amazonaws.com", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com",
            "states.amazonaws.com", "glue.amazonaws.com"]
ASSUME = "sts:AssumeRole"


def trust_statement(rng, kind, own):
    if kind == "service":
        services = rng.pick(SERVICES) if rng.chance(70) else [rng.pick(SERVICES),
                                                              rng.pick(SERVICES)]
        return statement(rng, "Allow", ASSUME, principal={"Service": services})
    if kind == "same-account-root":
        return statement(rng, "Allow", ASSUME, principal={"AWS": "arn:aws:iam::%s:root" % own})
    if kind == "same-account-role":
        return statement(rng, "Allow", [ASSUME, "sts:TagSession"], principal={
            "AWS": "arn:aws:iam::%s:role/ci-%d" % (own, rng.below(10))})
    if kind == "friendly-role":
        account = rng.pick([FRIENDLY, other_own(own)])
        return statement(rng, "Allow", ASSUME, principal={
            "AWS": "arn:aws:iam::%s:role/deployer" % account})
    if kind == "vendor-external-id":
        return statement(rng, "Allow", ASSUME, principal={"AWS": "arn:aws:iam::%s:root" % VENDOR},
                         condition={"StringEquals": {"sts:ExternalId": hexid(rng, 12)}})
    if kind == "unknown-root":
        condition = ({"StringEquals": {"sts:ExternalId": hexid(rng, 12)}}
                     if rng.chance(50) else None)
        return statement(rng, "Allow", ASSUME, principal={
            "AWS": "arn:aws:iam::%s:root" % unknown_account(rng)}, condition=condition)
    if kind == "unknown-role":
        return statement(rng, "Allow", ASSUME, principal={
            "AWS": ["arn:aws:iam::%s:role/auditor" % unknown_account(rng),
                    "arn:aws:iam::%s:role/ci-0" % own]})
    if kind == "public":
        return statement(rng, "Allow", rng.pick([ASSUME, "sts:*"]), principal={"AWS": "*"})
    if kind == "public-org-id":
        return statement(rng, "Allow", ASSUME, principal={"AWS": "*"},
                         condition={"StringEquals": {"aws:PrincipalOrgID": ORG_ID}})
    if kind == "public-unknown-account":
        return statement(rng, "Allow", ASSUME, principal={"AWS": "*"},
                         condition={"StringEquals": {"aws:PrincipalAccount":
                                                     unknown_account(rng)}})
    if kind == "saml":
        return statement(rng, "Allow", "sts:AssumeRoleWithSAML", principal={
            "Federated": "arn:aws:iam::%s:saml-provider/okta" % own},
            condition={"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}})
    if kind == "github-oidc":
        provider = "arn:aws:iam::%s:oidc-provider/token.actions.githubusercontent.com" % own
        return statement(rng, "Allow", "sts:AssumeRoleWithWebIdentity",
                         principal={"Federated": provider}, condition={
                             "StringEquals": {
                                 "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                             "StringLike": {"token.actions.githubusercontent.com:sub":
                                            "repo:bench-org/service-%d:*" % rng.below(40)}})
    if kind == "deny-outside-org":
        return statement(rng, "Deny", ASSUME, principal={"AWS": "*"},
                         condition={"StringNotEquals": {"aws:PrincipalOrgID": ORG_ID}})
    if kind == "bare-account":
        return statement(rng, "Allow", ASSUME, principal={"AWS": FRIENDLY})
    if kind == "not-principal":
        return statement(rng, "Allow", ASSUME,
                         not_principal={"AWS": "arn:aws:iam::%s:role/blocked" % own})
    if kind == "deleted-principal":
        return statement(rng, "Allow", ASSUME,
                         principal={"AWS": "AROA" + hexid(rng, 16).upper() + "X"})
    raise AssertionError(kind)


INLINE = [
    ("read-bucket", lambda rng, own: [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": ["arn:aws:s3:::bench-data-%05d" % rng.below(5000),
                      "arn:aws:s3:::bench-data-%05d/*" % rng.below(5000)]}]),
    ("write-logs", lambda rng, own: [
        {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "arn:aws:logs:us-east-1:%s:log-group:/bench/*" % own}]),
    ("table-crud", lambda rng, own: [
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem",
                                       "dynamodb:UpdateItem", "dynamodb:Query"],
         "Resource": "arn:aws:dynamodb:us-east-1:%s:table/bench-%d" % (own, rng.below(100))},
        {"Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*"}]),
    ("decrypt", lambda rng, own: [
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
         "Resource": "arn:aws:kms:us-east-1:%s:key/%s" % (own, hexid(rng, 16))}]),
    ("pass-role", lambda rng, own: [
        {"Effect": "Allow", "Action": "iam:PassRole",
         "Resource": "arn:aws:iam::%s:role/ci-*" % own},
        {"Effect": "Allow", "Action": ["ec2:RunInstances", "ec2:Describe*"], "Resource": "*"}]),
    ("admin", lambda rng, own: [{"Effect": "Allow", "Action": "*", "Resource": "*"}]),
]
MANAGED = [
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
    "arn:aws:iam::aws:policy/AdministratorAccess",
]


def role(rng, i):
    own = OWN[i % 2]
    name = "bench-%s-%05d" % (rng.pick(["app", "ci", "vendor", "batch", "sso"]), i)
    arn = "arn:aws:iam::%s:role/%s" % (own, name)
    role_id = "AROA" + hexid(rng, 16).upper() + "R"
    count = rng.weighted([(70, 1), (22, 2), (8, 3)])
    trust = {"Version": "2012-10-17",
             "Statement": [trust_statement(rng, rng.weighted(TRUST_KINDS), own)
                           for _ in range(count)]}
    inline = []
    for _ in range(rng.weighted([(30, 0), (40, 1), (20, 2), (10, 3)])):
        policy_name, make = rng.weighted([(20, INLINE[0]), (20, INLINE[1]), (15, INLINE[2]),
                                          (15, INLINE[3]), (10, INLINE[4]), (2, INLINE[5])])
        inline.append({"policyName": policy_name,
                       "policyDocument": {"Version": "2012-10-17",
                                          "Statement": make(rng, own)}})
    attached = []
    for _ in range(rng.weighted([(40, 0), (35, 1), (20, 2), (5, 3)])):
        policy_arn = rng.weighted([(25, MANAGED[0]), (25, MANAGED[1]), (20, MANAGED[2]),
                                   (15, MANAGED[3]), (13, MANAGED[4]), (2, MANAGED[5])])
        attached.append({"policyArn": policy_arn, "policyName": policy_arn.rsplit("/", 1)[1]})
    tags = [{"key": "team", "value": rng.pick(["platform", "data", "security", "web"])}]
    return {
        "accountId": own,
        "arn": arn,
        "awsRegion": "global",
        "configuration": {
            "arn": arn,
            "assumeRolePolicyDocument": trust,
            "attachedManagedPolicies": attached,
            "createDate": "2026-11-%02dT00:00:00Z" % (1 + rng.below(28)),
            "instanceProfileList": [],
            "path": "/",
            "permissionsBoundary": None,
            "roleId": role_id,
            "roleLastUsed": {"lastUsedDate": None, "region": None},
            "roleName": name,
            "rolePolicyList": inline,
            "tags": tags,
        },
        "configurationItemCaptureTime": "2026-11-29T00:00:00Z",
        "resourceId": role_id,
        "resourceName": name,
        "resourceType": "AWS::IAM::Role",
        "supplementaryConfiguration": {},
        "tags": {t["key"]: t["value"] for t in tags},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--buckets", type=int, default=5000)
    parser.add_argument("--roles", type=int, default=5000)
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    rng = Rng(0x5EC0_1234_0D0C_0001)
    items_path = os.path.join(args.out_dir, "items.jsonl")
    # Buckets and roles interleaved, as a sweep of several accounts hands them over.
    with open(items_path, "w", encoding="utf-8") as out:
        for k in range(max(args.buckets, args.roles)):
            if k < args.buckets:
                out.write(json.dumps(bucket(rng, k), sort_keys=True, separators=(",", ":")))
                out.write("\n")
            if k < args.roles:
                out.write(json.dumps(role(rng, k), sort_keys=True, separators=(",", ":")))
                out.write("\n")
    accounts_path = os.path.join(args.out_dir, "accounts.json")
    with open(accounts_path, "w", encoding="utf-8") as out:
        json.dump({"accounts": ACCOUNTS, "networks": NETWORKS}, out, indent=2, sort_keys=True)
        out.write("\n")
    print(json.dumps({"items": items_path, "accounts": accounts_path,
                      "buckets": args.buckets, "roles": args.roles,
                      "bytes": os.path.getsize(items_path)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
