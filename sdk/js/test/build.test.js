// The build driver's checks before componentize-js runs (fast: they stop at the bundle), with
// the toolchain where the Rust CLI installs it. Full component builds run in tests/languages.rs,
// which also installs the toolchain; under CI (scripts/test.sh runs these after it) a missing
// toolchain fails instead of skipping.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { TOOLCHAIN, build } from '../build.mjs';

const toolchain =
  process.env.SIMIAN_JS_TOOLCHAIN ?? join(homedir(), '.cache/simian/toolchains', `componentize-js-${TOOLCHAIN.componentize.version}`);
const installed = existsSync(join(toolchain, 'node_modules', TOOLCHAIN.componentize.name, 'package.json'));
if (!installed && process.env.CI) {
  throw new Error(`no componentize-js toolchain at ${toolchain}: run \`simian plugin build\` on a JS plugin once`);
}
const skip = installed ? false : `no toolchain at ${toolchain}`;
const sdk = fileURLToPath(new URL('../simian-sdk.js', import.meta.url));
const wit = fileURLToPath(new URL('../../../wit/since_v0.1.0', import.meta.url));

/** @type {string[]} */
const made = [];
after(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function scratch() {
  const dir = mkdtempSync(join(tmpdir(), 'simian-js-build-'));
  made.push(dir);
  return dir;
}

/** A plugin directory holding `rule.js` with `source`. @param {string} source */
function plugin(source) {
  const dir = scratch();
  writeFileSync(join(dir, 'rule.js'), source.replaceAll('SDK', JSON.stringify(sdk)));
  return dir;
}

/** @param {string} dir */
const buildIn = (dir) => build({ toolchain, wit, plugin: dir, out: join(dir, 'dist', 'x.wasm') });

test('an import the component could not load stops the build at the bundle', { skip }, async () => {
  const dir = plugin(`import { readFileSync } from 'node:fs';\nimport { defineAuditor } from SDK;\nexport default defineAuditor({ audit: () => [readFileSync] });\n`);
  await assert.rejects(buildIn(dir), /cannot bundle .*rule\.js:\n.*node:fs[\s\S]*no Node built-ins/);
  assert.ok(!existsSync(join(dir, 'dist', 'x.wasm')));
});

test('a direct import of the contract is pointed at the SDK', { skip }, async () => {
  const dir = plugin(`import { log } from 'simian:plugin/log@0.1.0';\nexport default log;\n`);
  await assert.rejects(buildIn(dir), /simian:plugin\/log@0\.1\.0[\s\S]*through the SDK/);
});

test('a rule module must export an auditor', { skip }, async () => {
  const dir = plugin(`export default { audit: () => [] };\n`);
  await assert.rejects(buildIn(dir), /rule\.js must `export default defineAuditor\(\{\.\.\.\}\)`/);
  const bad = plugin(`import { defineAuditor } from SDK;\nexport default defineAuditor({ checks: [{ id: 'x' }], audit: () => [] });\n`);
  await assert.rejects(buildIn(bad), /checks\[0\]\.title must be a string/);
});

test('a missing rule or toolchain is named', async () => {
  const dir = scratch();
  await assert.rejects(buildIn(dir), /no rule module at .*rule\.js/);
  writeFileSync(join(dir, 'rule.js'), 'export default 1;\n');
  mkdirSync(join(dir, 'empty'));
  await assert.rejects(
    build({ toolchain: join(dir, 'empty'), wit, plugin: dir, out: join(dir, 'x.wasm') }),
    /is not installed in .*empty/,
  );
});
