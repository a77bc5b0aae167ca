import assert from 'node:assert/strict';
import { test } from 'node:test';

import { HostError, errorText, withContext } from '../simian-sdk.js';

test('host errors read as the Rust SDK displays them', () => {
  assert.equal(HostError.denied('no grant').message, 'denied: no grant');
  assert.equal(new HostError('timeout').message, 'timeout');
  assert.equal(new HostError('too-large', '2 MB').message, 'too large: 2 MB');
  const failed = new HostError('failed', 'relay down');
  assert.equal(failed.kind, 'failed');
  assert.equal(failed.detail, 'relay down');
  assert.equal(errorText(failed), 'host call failed: failed: relay down');
  assert.throws(() => new HostError(/** @type {any} */ ('nope'), 'x'), /unknown host error kind/);
});

test('context prefixes the message and keeps the cause', () => {
  const cause = new Error('boom');
  const e = withContext(cause, 'sg-1');
  assert.equal(e.message, 'sg-1: boom');
  assert.equal(e.cause, cause);
  assert.equal(withContext(HostError.denied('x'), 'lookup').message, 'lookup: host call failed: denied: x');
  assert.equal(errorText('plain'), 'plain');
});
