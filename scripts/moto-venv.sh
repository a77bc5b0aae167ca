#!/usr/bin/env bash
# Create (once) the Python venv holding the AWS emulator (and the SMTP server) used by tests and
# the demo, and print its moto_server path. Idempotent and quiet on the second run.
#
# moto is pinned to 5.1.22: 5.2.5 answers GetBucketVersioning (and notification, accelerate,
# request-payment) under a wrong XML root that boto3 tolerates but the Rust SDK cannot parse.
set -euo pipefail
MOTO_VERSION="5.1.22"
AIOSMTPD_VERSION="1.4.6"
JSONPATH_VERSION="1.16.0"
VENV="${SIMIAN_MOTO_VENV:-$HOME/.cache/simian-moto-venv}"
if [ ! -x "$VENV/bin/moto_server" ] || ! "$VENV/bin/python" -c "import moto,sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "moto[iam,s3,ec2,sts,sqs,sns,kms,acm,rds,events]==$MOTO_VERSION" \
    "jsonpath-ng==$JSONPATH_VERSION" flask flask-cors >&2
fi
# EventBridge rules delivering to SQS need moto's `events` extra (jsonpath-ng); venvs made
# before the event tests lack it.
if ! "$VENV/bin/python" -c "import jsonpath_ng" 2>/dev/null; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "moto[events]==$MOTO_VERSION" "jsonpath-ng==$JSONPATH_VERSION" >&2
fi
if ! "$VENV/bin/python" -c "import aiosmtpd" 2>/dev/null; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION" >&2
fi
echo "$VENV/bin/moto_server"
