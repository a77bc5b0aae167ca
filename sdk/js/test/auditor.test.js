import assert from 'node:assert/strict';
import { test } from 'node:test';

import { HostError, Issue, Item, accounts, defineAuditor, settings } from '../simian-sdk.js';
import { FakeHost, auditWith } from '../testing.js';

const CHECK = { id: 'c', title: 'C', score: 3, description: 'Something is wrong.' };

/** @param {string} id */
const item = (id) => new Item('AWS::S3::Bucket', id).withAccount('111111111111');

test('describe leaves id, version and resource types to plugin.toml', () => {
  const auditor = defineAuditor({ checks: [CHECK], audit: () => [] });
  assert.deepEqual(auditor.describe(), {
    id: '',
    version: '',
    kind: 'auditor',
    description: '',
    resourceTypes: [],
    checks: [CHECK],
  });
  assert.deepEqual(defineAuditor({ audit: () => [] }).describe().checks, []);
});

test('a bad definition fails at once, naming what is wrong', () => {
  assert.throws(() => defineAuditor(/** @type {any} */ ({})), /needs an `audit\(item, state\)` function/);
  assert.throws(() => defineAuditor(/** @type {any} */ ({ audit: () => [], setup: 1 })), /`setup` must be a function/);
  assert.throws(() => defineAuditor({ checks: [{ ...CHECK, score: -1 }], audit: () => [] }), /checks\[0\]\.score must be an integer/);
  assert.throws(() => defineAuditor({ checks: [{ ...CHECK, id: /** @type {any} */ (1) }], audit: () => [] }), /checks\[0\]\.id must be a string/);
  assert.throws(() => defineAuditor(/** @type {any} */ ({ checks: 'c', audit: () => [] })), /`checks` must be a list/);
});

test('a throwing item is that item\'s error; the others are judged', () => {
  const auditor = defineAuditor({
    audit(it) {
      if (it.resourceId === 'bad') throw new Error('cannot read it');
      if (it.resourceId === 'denied') accounts.classifyAccount(it.accountId, '222222222222');
      return [new Issue('c', 'C', 3).withNotes(it.resourceId)];
    },
  });
  const results = auditWith(auditor, [item('a'), item('bad'), item('denied'), item('b')], new FakeHost().denyAccounts());
  assert.deepEqual(results, [
    { ok: true, issues: [{ checkId: 'c', title: 'C', score: 3, notes: 'a', remediation: undefined }] },
    { ok: false, error: 'cannot read it' },
    { ok: false, error: 'host call failed: denied: the accounts capability is not granted' },
    { ok: true, issues: [{ checkId: 'c', title: 'C', score: 3, notes: 'b', remediation: undefined }] },
  ]);
});

test('a rule may catch a denial and carry on', () => {
  const auditor = defineAuditor({
    audit(it) {
      try {
        accounts.classifyAccount(it.accountId, '222222222222');
        return [];
      } catch (e) {
        if (e instanceof HostError && e.kind === 'denied') return [{ checkId: 'c', title: 'C', score: 1, notes: 'unclassified' }];
        throw e;
      }
    },
  });
  const [result] = auditWith(auditor, [item('a')], new FakeHost().denyAccounts());
  assert.ok(result.ok, result.error);
  assert.equal(result.issues[0].notes, 'unclassified');
});

test('setup runs once per instance; its failure fails every item', () => {
  let runs = 0;
  const auditor = defineAuditor({
    setup() {
      runs++;
      return { score: settings.getOr('score', 1, 'u32') };
    },
    audit: (_it, { score }) => [new Issue('c', 'C', score)],
  });
  const ok = auditWith(auditor, [item('a'), item('b')], new FakeHost().setting('score', 4));
  assert.equal(runs, 1);
  assert.deepEqual(ok.map((r) => r.ok && r.issues[0].score), [4, 4]);
  const failed = auditWith(auditor, [item('a'), item('b')], new FakeHost().setting('score', 'high'));
  for (const result of failed) {
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.error, /^plugin failed to start: setting `score` must be/);
  }
});

test('what a rule returns is checked, item by item', () => {
  const returns = {
    promise: Promise.resolve([]),
    none: undefined,
    score: [{ checkId: 'c', title: 'C', score: 1.5 }],
    remediation: [{ checkId: 'c', title: 'C', score: 1, remediation: 7 }],
    literal: [{ checkId: 'c', title: 'C', score: 1, remediation: null }],
  };
  const auditor = defineAuditor({ audit: (it) => /** @type {any} */ (returns)[it.resourceId] });
  const results = auditWith(auditor, Object.keys(returns).map(item));
  assert.match(results[0].ok ? '' : results[0].error, /returned a Promise/);
  assert.match(results[1].ok ? '' : results[1].error, /audit must return a list of issues, not undefined/);
  assert.match(results[2].ok ? '' : results[2].error, /invalid issue: issue score must be an integer/);
  assert.match(results[3].ok ? '' : results[3].error, /invalid issue: issue remediation must be a string/);
  assert.deepEqual(results[4], { ok: true, issues: [{ checkId: 'c', title: 'C', score: 1, notes: '', remediation: undefined }] });
  assert.throws(() => new Issue('c', 'C', 2 ** 32), /issue score must be an integer from 0 to 4294967295/);
});

test('auditBatch: one result per item, or an error on every item', () => {
  const good = defineAuditor({
    auditBatch: (batch) => batch.map((it) => (it.resourceId === 'bad' ? new Error('no') : [new Issue('c', 'C', 1)])),
  });
  const results = auditWith(good, [item('a'), item('bad')]);
  assert.deepEqual(results.map((r) => r.ok), [true, false]);
  const short = defineAuditor({ auditBatch: () => [[]] });
  for (const result of auditWith(short, [item('a'), item('b')])) {
    assert.deepEqual(result, { ok: false, error: 'auditBatch returned 1 results for 2 items' });
  }
  const throwing = defineAuditor({
    auditBatch: () => {
      throw new Error('batch broke');
    },
  });
  assert.deepEqual(auditWith(throwing, [item('a')]), [{ ok: false, error: 'batch broke' }]);
});
