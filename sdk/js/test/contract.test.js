// The SDK against the contract itself: every name the component side uses must be the
// componentize-js spelling (camelCase) of a name in wit/since_v0.1.0, and the SDK must cover
// every function of the interfaces it wires in.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { ENTRY, WORLD } from '../build.mjs';
import { componentHost } from '../lib/component.js';
import { issueRecord } from '../lib/issue.js';
import { Item } from '../lib/item.js';
import { defineAuditor } from '../simian-sdk.js';

// Comments dropped: doc comments may hold braces (`{}` when none).
const WIT = readFileSync(new URL('../../../wit/since_v0.1.0/plugin.wit', import.meta.url), 'utf8').replace(/^\s*\/\/.*$/gm, '');

/** `resource-types` → `resourceTypes`; `%list` → `list`. @param {string} name */
const camel = (name) => name.replace(/^%/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());

/**
 * The body of `interface NAME { ... }` or `world NAME { ... }` (no nested braces but records').
 * @param {string} kind
 * @param {string} name
 */
function block(kind, name) {
  const start = WIT.indexOf(`${kind} ${name} {`);
  assert.ok(start >= 0, `${kind} ${name} in the WIT`);
  let depth = 0;
  for (let i = WIT.indexOf('{', start); i < WIT.length; i++) {
    if (WIT[i] === '{') depth++;
    if (WIT[i] === '}' && --depth === 0) return WIT.slice(start, i + 1);
  }
  throw new Error(`unterminated ${kind} ${name}`);
}

/** @param {string} iface */
const functions = (iface) => [...block('interface', iface).matchAll(/^\s*(%?[a-z][a-z0-9-]*): func\(/gm)].map((m) => camel(m[1]));

/** @param {string} name a record of `interface types` */
function recordFields(name) {
  const types = block('interface', 'types');
  const start = types.indexOf(`record ${name} {`);
  const body = types.slice(start, types.indexOf('}', start));
  return [...body.matchAll(/^\s*([a-z][a-z0-9-]*):/gm)].map((m) => camel(m[1]));
}

const WIRED = ['log', 'settings', 'accounts', 'items'];

test('the entry module imports the wired interfaces and exports the auditor world', () => {
  const world = block('world', WORLD);
  assert.match(world, /include host;/);
  for (const iface of WIRED) {
    assert.match(block('world', 'host'), new RegExp(`import ${iface};`));
    assert.ok(ENTRY.includes(`import * as ${iface} from 'simian:plugin/${iface}@0.1.0';`), iface);
  }
  const exported = [...world.matchAll(/export ([a-z-]+): func/g)].map((m) => camel(m[1]));
  assert.deepEqual(exported.sort(), ['audit', 'describe']);
  for (const name of exported) {
    assert.match(ENTRY, new RegExp(`export const ${name} = component\\.${name};`));
  }
  assert.ok(ENTRY.includes(`auditor.componentExports({ ${WIRED.join(', ')} })`));
});

test('the component host calls exactly the functions of the wired interfaces', () => {
  /** @type {Set<string>} */
  const called = new Set();
  const empty = new Item('T', 'i').toRecord();
  const imports = Object.fromEntries(
    WIRED.map((iface) => [
      iface,
      new Proxy(
        {},
        {
          get: (_, fn) => (/** @type {unknown[]} */ ..._args) => {
            called.add(`${iface}.${String(fn)}`);
            return fn === 'list' ? [empty] : fn === 'all' ? '{}' : fn.toString().startsWith('get') ? empty : { relation: 'unknown' };
          },
        },
      ),
    ]),
  );
  const host = componentHost(/** @type {any} */ (imports));
  host.log('info', 'm');
  host.setting('k');
  host.settingsAll();
  host.classifyAccount('1', '2');
  host.classifyArn('1', 'a');
  host.classifyCidr('1', 'c');
  host.classifyCanonicalId('1', 'c');
  host.itemByArn('a');
  host.findItem('1', 'r', 't', 'i');
  host.listItems('t', undefined, 0, 1);
  const inWit = WIRED.flatMap((iface) => functions(iface).map((fn) => `${iface}.${fn}`));
  assert.deepEqual([...called].sort(), inWit.sort());
});

test('records carry the contract\'s fields', () => {
  assert.deepEqual(Object.keys(new Item('T', 'i').toRecord()).sort(), recordFields('item').sort());
  assert.deepEqual(
    Object.keys(issueRecord({ checkId: 'c', title: 't', score: 1 })).sort(),
    recordFields('issue').sort(),
  );
  const info = defineAuditor({ checks: [{ id: 'c', title: 't', score: 1, description: 'd' }], audit: () => [] }).describe();
  assert.deepEqual(Object.keys(info).sort(), recordFields('plugin-info').sort());
  assert.deepEqual(Object.keys(info.checks[0]).sort(), recordFields('check-info').sort());
  assert.match(block('interface', 'types'), /enum plugin-kind \{\s*auditor,/);
});
