// The Rust plugin's tests (plugins/sg-internet-accessible/src/tests.rs), case for case.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Item } from '../../sdk/js/simian-sdk.js';
import { auditWith } from '../../sdk/js/testing.js';
import SgInternetAccessible from './rule.js';

/** @param {unknown} configuration */
function group(configuration) {
  return new Item('AWS::EC2::SecurityGroup', 'sg-1')
    .withAccount('111111111111')
    .withRegion('us-east-1')
    .withConfiguration(configuration);
}

/** @param {Item} item */
function audit(item) {
  const results = auditWith(SgInternetAccessible, [item]);
  assert.equal(results.length, 1);
  return results[0];
}

/** @param {unknown} configuration */
function notes(configuration) {
  const result = audit(group(configuration));
  assert.ok(result.ok, result.error);
  return result.issues.map((issue) => issue.notes);
}

/** @param {unknown} permission */
function ingress(permission) {
  return { groupId: 'sg-1', ipPermissions: [permission], ipPermissionsEgress: [] };
}

test('open ssh over ipv4', () => {
  const result = audit(
    group(ingress({ ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipv4Ranges: [{ cidrIp: '0.0.0.0/0' }] })),
  );
  assert.ok(result.ok, result.error);
  assert.deepEqual(result.issues, [
    {
      checkId: 'internet-accessible',
      title: 'Internet Accessible',
      score: 10,
      notes: 'Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:22]',
      remediation:
        'Restrict the source of ingress:tcp:22 to the addresses that need it instead of 0.0.0.0/0, or remove the rule.',
    },
  ]);
});

test('open port range over ipv6', () => {
  const found = notes(
    ingress({
      ipProtocol: 'tcp',
      fromPort: 80,
      toPort: 443,
      ipv6Ranges: [{ cidrIpv6: '::/0' }, { cidrIpv6: '2001:db8::/32' }],
    }),
  );
  assert.deepEqual(found, ['Entity: [cidr:::/0] Access: [ingress:tcp:80-443]']);
});

test('legacy ip ranges count once', () => {
  const both = notes(
    ingress({
      ipProtocol: 'udp',
      fromPort: 53,
      toPort: 53,
      ipv4Ranges: [{ cidrIp: '0.0.0.0/0' }],
      ipRanges: ['0.0.0.0/0'],
    }),
  );
  assert.deepEqual(both, ['Entity: [cidr:0.0.0.0/0] Access: [ingress:udp:53]']);
  const legacyOnly = notes(ingress({ ipProtocol: 'tcp', fromPort: 3389, toPort: 3389, ipRanges: ['0.0.0.0/0'] }));
  assert.deepEqual(legacyOnly, ['Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:3389]']);
});

test('private ranges are not flagged', () => {
  const found = notes(
    ingress({
      ipProtocol: 'tcp',
      fromPort: 22,
      toPort: 22,
      ipv4Ranges: [{ cidrIp: '10.0.0.0/8' }],
      ipRanges: ['10.0.0.0/8'],
      userIdGroupPairs: [{ groupId: 'sg-2' }],
      prefixListIds: [],
    }),
  );
  assert.deepEqual(found, []);
});

test('open egress alone is not flagged', () => {
  const found = notes({
    groupId: 'sg-1',
    ipPermissions: [],
    ipPermissionsEgress: [
      { ipProtocol: '-1', ipv4Ranges: [{ cidrIp: '0.0.0.0/0' }], ipv6Ranges: [{ cidrIpv6: '::/0' }] },
    ],
  });
  assert.deepEqual(found, []);
});

test('all protocols and missing ports', () => {
  const found = notes({
    ipPermissions: [
      { ipProtocol: '-1', ipv4Ranges: [{ cidrIp: '0.0.0.0/0' }], ipv6Ranges: [{ cidrIpv6: '::/0' }] },
      { ipProtocol: 'icmp', fromPort: -1, toPort: -1, ipRanges: ['0.0.0.0/0'] },
      { ipProtocol: 'tcp', ipv4Ranges: [{ cidrIp: '0.0.0.0/0' }] },
    ],
  });
  assert.deepEqual(found, [
    'Entity: [cidr:0.0.0.0/0] Access: [ingress:all:all]',
    'Entity: [cidr:::/0] Access: [ingress:all:all]',
    'Entity: [cidr:0.0.0.0/0] Access: [ingress:icmp:all]',
    'Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:all]',
  ]);
});

test('missing and null fields are empty', () => {
  assert.deepEqual(notes({}), []);
  assert.deepEqual(notes({ ipPermissions: null }), []);
  const found = notes(
    ingress({
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      ipv4Ranges: null,
      ipv6Ranges: [{}],
      ipRanges: [{ cidrIp: '0.0.0.0/0' }],
    }),
  );
  assert.deepEqual(found, ['Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:443]']);
});

test('malformed configuration is an error', () => {
  const truncated = new Item('AWS::EC2::SecurityGroup', 'sg-bad').withConfigurationText('{"ipPermissions": [');
  const broken = audit(truncated);
  assert.equal(broken.ok, false);
  assert.ok(broken.error.includes('configuration of AWS::EC2::SecurityGroup sg-bad'), broken.error);
  const wrongShape = audit(group({ ipPermissions: 'open' }));
  assert.equal(wrongShape.ok, false);
  const wrongPort = audit(group(ingress({ ipProtocol: 'tcp', fromPort: 'ssh' })));
  assert.equal(wrongPort.ok, false);
  assert.match(wrongPort.error, /fromPort/);
});

test('one bad item does not stop the batch', () => {
  const bad = new Item('AWS::EC2::SecurityGroup', 'sg-bad').withConfigurationText('not json');
  const open = group(ingress({ ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipRanges: ['0.0.0.0/0'] }));
  const [first, second] = auditWith(SgInternetAccessible, [bad, open]);
  assert.equal(first.ok, false);
  assert.ok(second.ok, second.error);
  assert.equal(second.issues.length, 1);
});

test('the checks are listed', () => {
  assert.equal(SgInternetAccessible.checks[0].id, 'internet-accessible');
  const info = SgInternetAccessible.describe();
  assert.deepEqual([info.id, info.version, info.kind, info.resourceTypes], ['', '', 'auditor', []]);
});
