// The host services as a rule sees them, against the fake host and against no host at all.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { HostError, Item, accounts, items, log, settings } from '../simian-sdk.js';
import { FakeHost } from '../testing.js';

const OWN = '111111111111';

function host() {
  return new FakeHost()
    .account(OWN, 'prod')
    .account('222222222222', 'dev')
    .account('333333333333', 'vendor', true)
    .canonicalId('222222222222', 'canon-dev')
    .network('corp', '10.0.0.0/8')
    .accountNetwork('vendor-vpn', '10.9.0.0/16', '333333333333');
}

/** @param {() => unknown} call @param {string} kind */
function assertHostError(call, kind) {
  assert.throws(call, (e) => e instanceof HostError && e.kind === kind);
}

test('settings: typed, with defaults, naming the key on a wrong type', () => {
  const fake = new FakeHost().setting('threshold', 3).setting('name', 'x').setting('off', null).setting('list', [1]);
  fake.run(() => {
    assert.equal(settings.get('threshold', 'u32'), 3);
    assert.equal(settings.get('missing'), undefined);
    assert.equal(settings.getOr('missing', 7, 'u32'), 7);
    assert.equal(settings.getOr('threshold', 7, 'u32'), 3);
    assert.equal(settings.getStr('name'), 'x');
    assert.equal(settings.getStr('off'), undefined);
    assert.deepEqual(settings.get('list', 'array'), [1]);
    assert.throws(() => settings.get('name', 'u32'), {
      message: 'setting `name` must be an integer from 0 to 4294967295, not "x"',
    });
    assert.throws(() => settings.getStr('threshold'), /setting `threshold` must be a string, not 3/);
    assert.throws(() => settings.get('threshold', /** @type {any} */ ('float')), /unknown setting type/);
    assert.deepEqual(settings.all(), { list: [1], name: 'x', off: null, threshold: 3 });
  });
  new FakeHost().setting('n', -1).run(() => {
    assert.throws(() => settings.get('n', 'u32'), /setting `n`/);
    assert.equal(settings.get('n', 'integer'), -1);
  });
});

test('logs are recorded in order', () => {
  const fake = new FakeHost();
  fake.run(() => {
    log.info('one');
    log.warn('two');
    log.log('error', 'three');
    assert.throws(() => log.log(/** @type {any} */ ('loud'), 'x'), /unknown log level/);
  });
  assert.deepEqual(fake.logs(), [
    { level: 'info', message: 'one' },
    { level: 'warn', message: 'two' },
    { level: 'error', message: 'three' },
  ]);
});

test('accounts follow the host rules', () => {
  host().run(() => {
    /** @param {string} id */
    const relation = (id) => accounts.classifyAccount(OWN, id).relation;
    assert.equal(relation(OWN), 'same');
    assert.equal(relation('222222222222'), 'friendly');
    assert.equal(relation('333333333333'), 'third-party');
    assert.equal(relation('999999999999'), 'unknown');
    assert.deepEqual(accounts.classifyAccount(OWN, ` ${OWN} `), { relation: 'same', accountId: OWN, name: 'prod' });
  });
});

test('arns', () => {
  host().run(() => {
    const dev = accounts.classifyArn(OWN, 'arn:aws:iam::222222222222:root');
    assert.deepEqual([dev.relation, dev.name], ['friendly', 'dev']);
    const bucket = accounts.classifyArn(OWN, 'arn:aws:s3:::bucket');
    assert.deepEqual([bucket.relation, bucket.accountId], ['unknown', undefined]);
    assert.equal(accounts.classifyArn(OWN, 'arn:aws:iam::aws:policy/x').relation, 'unknown');
    assertHostError(() => accounts.classifyArn(OWN, 'not-an-arn'), 'invalid');
    assertHostError(() => accounts.classifyArn(OWN, 'arn:aws:iam::12:root'), 'invalid');
  });
});

test('account-less arns are placed through the known items', () => {
  const fake = host()
    .item(new Item('AWS::S3::Bucket', 'logs').withAccount('222222222222'))
    .item(new Item('AWS::EC2::VPC', 'vpc-1').withAccount(OWN))
    .item(new Item('AWS::IAM::Role', 'AROAEXAMPLE').withAccount('333333333333'));
  fake.run(() => {
    assert.equal(accounts.classifyArn(OWN, 'arn:aws:s3:::logs/key').relation, 'friendly');
    assert.equal(accounts.classifyArn(OWN, 'arn:aws:ec2:::vpc/vpc-1').relation, 'same');
    assert.equal(accounts.classifyArn(OWN, 'arn:aws:iam:::unique-id/AROAEXAMPLE').relation, 'third-party');
    assert.equal(accounts.classifyArn(OWN, 'arn:aws:ec2:::subnet/vpc-1').relation, 'unknown');
  });
});

test('cidrs prefer the most specific network', () => {
  host().run(() => {
    assert.deepEqual(accounts.classifyCidr(OWN, '10.1.2.0/24'), { relation: 'same', accountId: undefined, name: 'corp' });
    const vpn = accounts.classifyCidr(OWN, '10.9.1.1');
    assert.deepEqual([vpn.relation, vpn.name, vpn.accountId], ['third-party', 'vendor-vpn', '333333333333']);
    assert.equal(accounts.classifyCidr(OWN, '0.0.0.0/0').relation, 'unknown');
    assert.equal(accounts.classifyCidr(OWN, '::/0').relation, 'unknown');
    assertHostError(() => accounts.classifyCidr(OWN, '10.0.0/8'), 'invalid');
  });
  assert.throws(() => new FakeHost().network('bad', '10.0.0/8'), /FakeHost.network\(bad\)/);
});

test('canonical ids are case-insensitive', () => {
  host().run(() => {
    const c = accounts.classifyCanonicalId(OWN, 'CANON-dev');
    assert.deepEqual([c.relation, c.accountId], ['friendly', '222222222222']);
    assert.equal(accounts.classifyCanonicalId(OWN, 'nobody').relation, 'unknown');
  });
  // A canonical id of an account that was never configured is ignored, as in the host.
  new FakeHost().canonicalId('444444444444', 'canon-x').run(() => {
    assert.equal(accounts.classifyCanonicalId(OWN, 'canon-x').relation, 'unknown');
  });
});

test('items: lookups, paging, copies', () => {
  const fake = new FakeHost();
  for (let i = 0; i < 1200; i++) {
    fake.item(new Item('AWS::EC2::SecurityGroup', `sg-${i}`).withAccount(i % 2 ? OWN : '222222222222').withRegion('us-east-1').withArn(`arn:sg-${i}`));
  }
  fake.item(new Item('AWS::S3::Bucket', 'b').withAccount(OWN));
  fake.run(() => {
    assert.equal(items.getByArn('arn:sg-7')?.resourceId, 'sg-7');
    assert.equal(items.getByArn('arn:none'), undefined);
    assert.equal(items.get(OWN, 'us-east-1', 'AWS::EC2::SecurityGroup', 'sg-7')?.arn, 'arn:sg-7');
    assert.equal(items.get(OWN, 'us-east-1', 'AWS::EC2::SecurityGroup', 'sg-8'), undefined);
    assert.equal(items.list('AWS::EC2::SecurityGroup', { limit: 5000 }).length, 1000);
    const page = items.list('AWS::EC2::SecurityGroup', { accountId: OWN, offset: 590, limit: 20 });
    assert.deepEqual(page.map((i) => i.resourceId), ['sg-1181', 'sg-1183', 'sg-1185', 'sg-1187', 'sg-1189', 'sg-1191', 'sg-1193', 'sg-1195', 'sg-1197', 'sg-1199']);
    assert.throws(() => items.list('T', { offset: -1 }), /offset and limit/);
    items.getByArn('arn:sg-7')?.withTag('changed', 'yes');
    assert.equal(items.getByArn('arn:sg-7')?.tag('changed'), undefined);
  });
});

test('withheld grants are denials, not crashes', () => {
  host().denyAccounts().denyItems().run(() => {
    assertHostError(() => accounts.classifyCidr(OWN, '10.0.0.0/8'), 'denied');
    assertHostError(() => accounts.classifyAccount(OWN, OWN), 'denied');
    assertHostError(() => items.list('AWS::S3::Bucket'), 'denied');
    assert.throws(() => items.getByArn('x'), { message: 'denied: the items capability is not granted' });
  });
});

test('without a host: empty settings, denied capabilities', () => {
  assert.equal(settings.get('anything'), undefined);
  assert.deepEqual(settings.all(), {});
  assertHostError(() => accounts.classifyAccount(OWN, OWN), 'denied');
  assertHostError(() => items.get(OWN, 'r', 't', 'i'), 'denied');
});

test('install stacks and restores', () => {
  const outer = new FakeHost().setting('k', 'outer');
  const inner = new FakeHost().setting('k', 'inner');
  const uninstallOuter = outer.install();
  try {
    assert.equal(inner.run(() => settings.get('k')), 'inner');
    assert.equal(settings.get('k'), 'outer');
  } finally {
    uninstallOuter();
  }
  assert.equal(settings.get('k'), undefined);
});
