import assert from 'node:assert/strict';
import { test } from 'node:test';

import { IpPermission, SecurityGroup } from '../simian-sdk.js';

test('access spelling', () => {
  const g = SecurityGroup.from({
    ipPermissions: [
      { ipProtocol: 'tcp', fromPort: 22, toPort: 22 },
      { ipProtocol: 'tcp', fromPort: 80, toPort: 443 },
      { ipProtocol: '-1' },
      { ipProtocol: 'icmp', fromPort: -1, toPort: -1 },
      {},
      { ipProtocol: 'udp', fromPort: 53 },
      { ipProtocol: '58', fromPort: 8, toPort: -1 },
      { ipProtocol: 'all', fromPort: 0, toPort: 0 },
    ],
  });
  assert.deepEqual(
    g.ipPermissions.map((p) => p.access('ingress')),
    [
      'ingress:tcp:22',
      'ingress:tcp:80-443',
      'ingress:all:all',
      'ingress:icmp:all',
      'ingress:all:all',
      'ingress:udp:all',
      'ingress:58:all',
      'ingress:all:0',
    ],
  );
  assert.equal(g.ipPermissions[0].access('egress'), 'egress:tcp:22');
  assert.throws(() => g.ipPermissions[0].access(/** @type {any} */ ('in')), /direction/);
});

test('tcp port coverage', () => {
  const g = SecurityGroup.from({
    ipPermissions: [
      { ipProtocol: 'tcp', fromPort: 5432, toPort: 5432 },
      { ipProtocol: 'tcp', fromPort: 1024, toPort: 2048 },
      { ipProtocol: '-1' },
      { ipProtocol: 'udp', fromPort: 0, toPort: 65535 },
      { ipProtocol: '6', fromPort: -1, toPort: -1 },
      { ipProtocol: 'all' },
    ],
  });
  /** @param {number} i @param {number} port */
  const covers = (i, port) => g.ipPermissions[i].coversTcpPort(port);
  assert.ok(covers(0, 5432) && !covers(0, 5433));
  assert.ok(covers(1, 1024) && covers(1, 2048) && !covers(1, 3306));
  assert.ok(covers(2, 3306));
  assert.ok(!covers(3, 5432));
  assert.ok(covers(4, 1) && covers(5, 1));
});

test('cidrs from every list, once each', () => {
  const g = SecurityGroup.from({
    ipPermissionsEgress: [
      {
        ipv4Ranges: [{ cidrIp: '0.0.0.0/0' }, { cidrIp: '10.1.2.3/8' }],
        ipRanges: ['0.0.0.0/0', { cidrIp: '192.168.0.0/16' }, 'not a cidr', ' 172.16.0.0/12\n'],
        ipv6Ranges: [{ cidrIpv6: '::/0' }],
        userIdGroupPairs: [{ groupId: 'sg-2', userId: '222222222222' }],
      },
    ],
  });
  const rule = g.ipPermissionsEgress[0];
  assert.deepEqual(
    rule.cidrs().map(String),
    ['0.0.0.0/0', '10.0.0.0/8', '192.168.0.0/16', '172.16.0.0/12', '::/0'],
  );
  assert.equal(rule.cidrTexts().length, 7);
  assert.equal(rule.userIdGroupPairs[0].userId, '222222222222');
});

test('nulls and missing fields are empty', () => {
  const g = SecurityGroup.from({ ipPermissions: null, groupName: null, inUse: true });
  assert.deepEqual([g.ipPermissions, g.ipPermissionsEgress, g.groupName, g.inUse], [[], [], undefined, true]);
  const rule = IpPermission.from({ ipv4Ranges: [{}], ipv6Ranges: [{ cidrIpv6: null }], ipRanges: [{ cidrIp: null }] });
  assert.deepEqual(rule.cidrTexts(), []);
  assert.equal(rule.ipProtocol, undefined);
});

test('a field of the wrong type is an error naming it', () => {
  /** @type {[unknown, RegExp][]} */
  const cases = [
    [{ ipPermissions: [{ fromPort: 'x' }] }, /^ipPermissions\[0\]\.fromPort must be an integer, not "x"$/],
    [{ ipPermissions: [{ fromPort: 22.5 }] }, /fromPort must be an integer, not 22.5/],
    [{ ipPermissions: 'open' }, /^ipPermissions must be a list/],
    [{ ipPermissions: [null] }, /^ipPermissions\[0\] must be an object/],
    [{ ipPermissionsEgress: [{ ipRanges: [7] }] }, /ipPermissionsEgress\[0\]\.ipRanges\[0\] must be a CIDR text/],
    [{ ipPermissions: [{ ipRanges: [{ cidrIp: 7 }] }] }, /ipRanges\[0\] must be a CIDR text/],
    [{ ipPermissions: [{ ipv4Ranges: [{ cidrIp: 7 }] }] }, /ipv4Ranges\[0\]\.cidrIp must be a string/],
    [{ ipPermissions: [{ userIdGroupPairs: [{ userId: 1 }] }] }, /userIdGroupPairs\[0\]\.userId must be a string/],
    [{ groupName: 5 }, /^groupName must be a string/],
    [{ inUse: 'yes' }, /^inUse must be a boolean/],
    [[], /^security group must be an object/],
    [null, /^security group must be an object/],
  ];
  for (const [value, message] of cases) {
    assert.throws(() => SecurityGroup.from(value), { message }, JSON.stringify(value));
  }
});
