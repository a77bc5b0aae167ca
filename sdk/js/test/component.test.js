// The component side, driven through fake imports shaped as the componentize-js 0.23 bindings
// shape them: records with camelCase fields, options as `undefined`, and a failing
// `result<_, host-error>` import thrown as an error whose `payload` is the variant.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { HostError, Issue, accounts, defineAuditor, items, log, settings } from '../simian-sdk.js';

/** What the bindings throw for an `err` result (their `ComponentError`). */
class ComponentError extends Error {
  /** @param {unknown} payload */
  constructor(payload) {
    super(`${String(payload)} (see error.payload)`);
    Object.defineProperty(this, 'payload', { value: payload, enumerable: true });
  }
}

/** @param {string} id */
const record = (id) => ({
  resourceType: 'AWS::S3::Bucket',
  resourceId: id,
  resourceName: id,
  arn: `arn:aws:s3:::${id}`,
  accountId: '111111111111',
  region: 'us-east-1',
  captureTime: '2024-01-01T00:00:00Z',
  configuration: '{"name":"x"}',
  supplementaryConfiguration: '{}',
  tags: [{ key: 'owner', value: 'team' }],
});

function imports() {
  /** @type {[string, string][]} */
  const logged = [];
  return {
    logged,
    log: { log: (/** @type {string} */ level, /** @type {string} */ message) => void logged.push([level, message]) },
    settings: {
      get: (/** @type {string} */ key) => (key === 'score' ? '7' : undefined),
      all: () => '{"score":7}',
    },
    accounts: {
      classifyAccount: () => ({ relation: 'friendly', accountId: '222222222222', name: undefined }),
      classifyArn: () => {
        throw new ComponentError({ tag: 'denied', val: 'the accounts capability is not granted' });
      },
      classifyCidr: () => {
        throw new ComponentError({ tag: 'timeout' });
      },
      classifyCanonicalId: () => {
        throw new TypeError('a bindings bug, not a host error');
      },
    },
    items: {
      getByArn: (/** @type {string} */ arn) => (arn === 'arn:aws:s3:::other' ? record('other') : undefined),
      get: () => undefined,
      list: (/** @type {string} */ type, /** @type {string | undefined} */ account, /** @type {number} */ offset, /** @type {number} */ limit) => [
        { ...record(`${type}|${account}|${offset}|${limit}`) },
      ],
    },
  };
}

test('describe and audit speak the bindings\' shapes', () => {
  let starts = 0;
  const auditor = defineAuditor({
    checks: [{ id: 'c', title: 'C', score: 1, description: 'd' }],
    setup() {
      starts++;
      return { score: settings.getOr('score', 1, 'u32') };
    },
    audit(item, { score }) {
      if (item.resourceId === 'bad') throw new Error(`cannot judge ${item.label()}`);
      log.info(`judging ${item.resourceId}`);
      return [new Issue('c', 'C', score).withNotes(item.tag('owner') ?? '').withRemediation('fix')];
    },
  });
  const fake = imports();
  const { describe, audit } = auditor.componentExports(fake);
  assert.deepEqual(describe(), {
    id: '',
    version: '',
    kind: 'auditor',
    description: '',
    resourceTypes: [],
    checks: [{ id: 'c', title: 'C', score: 1, description: 'd' }],
  });
  assert.deepEqual(audit([record('a'), record('bad')]), [
    { tag: 'ok', val: [{ checkId: 'c', title: 'C', score: 7, notes: 'team', remediation: 'fix' }] },
    { tag: 'err', val: 'cannot judge AWS::S3::Bucket bad' },
  ]);
  assert.deepEqual(audit([]), []);
  assert.deepEqual(audit([record('b')]).map((r) => r.tag), ['ok']);
  assert.equal(starts, 1, 'one instance serves every batch');
  assert.deepEqual(fake.logged, [
    ['info', 'judging a'],
    ['info', 'judging b'],
  ]);
});

test('error results of imports become host errors; other exceptions pass through', () => {
  /** @type {unknown[]} */
  const seen = [];
  const auditor = defineAuditor({
    audit(item) {
      for (const call of [
        () => accounts.classifyArn(item.accountId, 'arn:aws:iam::222222222222:root'),
        () => accounts.classifyCidr(item.accountId, '10.0.0.0/8'),
        () => accounts.classifyCanonicalId(item.accountId, 'x'),
      ]) {
        try {
          call();
        } catch (e) {
          seen.push(e);
        }
      }
      return [];
    },
  });
  auditor.componentExports(imports()).audit([record('a')]);
  const [denied, timeout, other] = seen;
  assert.ok(denied instanceof HostError && denied.kind === 'denied');
  assert.equal(/** @type {HostError} */ (denied).message, 'denied: the accounts capability is not granted');
  assert.ok(timeout instanceof HostError && timeout.kind === 'timeout');
  assert.ok(other instanceof TypeError && !(other instanceof HostError));
});

test('items and classifications come back as SDK values', () => {
  /** @type {any[]} */
  const got = [];
  const auditor = defineAuditor({
    audit(item) {
      got.push(
        accounts.classifyAccount(item.accountId, '222222222222'),
        items.getByArn('arn:aws:s3:::other'),
        items.getByArn('arn:aws:s3:::none'),
        items.get('1', 'r', 't', 'i'),
        items.list('AWS::S3::Bucket', { offset: 5, limit: 10 }),
        settings.all(),
      );
      return [];
    },
  });
  auditor.componentExports(imports()).audit([record('a')]);
  const [classification, other, none, missing, page, all] = got;
  assert.equal(classification.relation, 'friendly');
  assert.equal(other.label(), 'AWS::S3::Bucket other');
  assert.equal(other.configuration().name, 'x');
  assert.equal(none, undefined);
  assert.equal(missing, undefined);
  assert.equal(page[0].resourceId, 'AWS::S3::Bucket|undefined|5|10');
  assert.deepEqual(all, { score: 7 });
});

test('the host is installed only during a call', () => {
  const auditor = defineAuditor({ audit: () => [] });
  auditor.componentExports(imports()).audit([record('a')]);
  assert.equal(settings.get('score'), undefined);
});
