#!/usr/bin/env node
/**
 * Run this plugin's component and the Rust plugin's side by side through a real host
 * (`simian audit`) over the repository's example security groups and the edge cases below,
 * and fail unless both raise the same issues, byte for byte, and fail on the same items.
 *
 *   node parity.mjs --simian BIN --rust PATH.wasm --js PATH.wasm
 *
 * Not part of `node --test`: it needs both components built and compiles the JS one in the
 * host (~20 s, ~500 MiB).
 */

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: { simian: { type: 'string' }, rust: { type: 'string' }, js: { type: 'string' } },
});
if (!args.simian || !args.rust || !args.js) {
  console.error('usage: node parity.mjs --simian BIN --rust PATH.wasm --js PATH.wasm');
  process.exit(2);
}

/** Every spelling the rule reads, and wrong shapes (both plugins must fail on those). */
const CONFIGURATIONS = [
  { ipPermissions: [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipv4Ranges: [{ cidrIp: '0.0.0.0/0' }] }] },
  { ipPermissions: [{ ipProtocol: 'tcp', fromPort: 80, toPort: 443, ipv6Ranges: [{ cidrIpv6: '::/0' }, { cidrIpv6: '2001:db8::/32' }] }] },
  { ipPermissions: [{ ipProtocol: 'udp', fromPort: 53, toPort: 53, ipv4Ranges: [{ cidrIp: '0.0.0.0/0' }], ipRanges: ['0.0.0.0/0'] }] },
  { ipPermissions: [{ ipProtocol: 'tcp', fromPort: 3389, toPort: 3389, ipRanges: ['0.0.0.0/0'] }] },
  {
    ipPermissions: [
      { ipProtocol: '-1', ipv4Ranges: [{ cidrIp: '0.0.0.0/0' }], ipv6Ranges: [{ cidrIpv6: '::/0' }] },
      { ipProtocol: 'icmp', fromPort: -1, toPort: -1, ipRanges: ['0.0.0.0/0'] },
      { ipProtocol: 'tcp', ipv4Ranges: [{ cidrIp: '0.0.0.0/0' }] },
    ],
  },
  { ipPermissions: [{ ipProtocol: 'tcp', fromPort: 443, toPort: 443, ipv4Ranges: null, ipv6Ranges: [{}], ipRanges: [{ cidrIp: '0.0.0.0/0' }] }] },
  {
    ipPermissions: [
      { ipProtocol: '6', fromPort: 0, toPort: 65535, ipv4Ranges: [{ cidrIp: ' 1.2.3.4/0 ' }, { cidrIp: '0.0.0.0/0' }] },
      { ipProtocol: 'icmpv6', fromPort: 8, toPort: -1, ipv6Ranges: [{ cidrIpv6: '::1/0' }, { cidrIpv6: '0::0/0' }] },
    ],
  },
  {
    ipPermissions: [
      { ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipRanges: ['0.0.0.0/0', 'not a cidr', '::/00'] },
      { ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipv6Ranges: [{ cidrIpv6: '::/0' }] },
    ],
  },
  { ipPermissions: null, ipPermissionsEgress: [{ ipProtocol: '-1', ipv4Ranges: [{ cidrIp: '0.0.0.0/0' }] }] },
  {},
  { ipPermissions: 'open' },
  { ipPermissions: [{ ipProtocol: 'tcp', fromPort: 'ssh' }] },
  { ipPermissions: [null] },
  { ipPermissions: [{ ipRanges: [7] }] },
  { groupName: 5 },
  { ipPermissions: [{ ipProtocol: 'tcp', fromPort: 22.5, toPort: 22, ipRanges: ['0.0.0.0/0'] }] },
];

const work = mkdtempSync(join(tmpdir(), 'sg-parity-'));
const examples = JSON.parse(readFileSync(join(here, '../../examples/security-groups.json'), 'utf8'));
const items = [
  ...examples,
  ...CONFIGURATIONS.map((configuration, i) => ({
    resourceType: 'AWS::EC2::SecurityGroup',
    resourceId: `sg-case-${i}`,
    accountId: '111111111111',
    awsRegion: 'us-east-1',
    configuration,
  })),
];
writeFileSync(join(work, 'items.json'), JSON.stringify(items));

const plugins = join(work, 'plugins');
for (const [id, wasm, manifest] of [
  ['sg-internet-accessible', args.rust, join(here, '../sg-internet-accessible/plugin.toml')],
  ['sg-internet-accessible-js', args.js, join(here, 'plugin.toml')],
]) {
  mkdirSync(join(plugins, id), { recursive: true });
  copyFileSync(wasm, join(plugins, id, `${id}.wasm`));
  copyFileSync(manifest, join(plugins, id, 'plugin.toml'));
}
// A JS component imports every interface of its world. A host that refuses undeclared
// imports (rather than linking them to stubs answering `denied`) loads it only with them
// declared and granted, so the copy here declares and grants them all.
const jsManifest = join(plugins, 'sg-internet-accessible-js', 'plugin.toml');
const ALL = `accounts = true
items = { resource_types = ["AWS::EC2::SecurityGroup"] }
http = { origins = ["https://example.com"] }
mail = { recipients = ["security@example.com"] }
`;
writeFileSync(jsManifest, readFileSync(jsManifest, 'utf8').replace(/^\[capabilities\]\n/m, `[capabilities]\n${ALL}`));
writeFileSync(
  join(work, 'simian.toml'),
  `data_dir = "${join(work, 'data')}"\n\n[plugins]\ndir = "plugins"\n\n[plugin.sg-internet-accessible-js.grants]\n${ALL}`,
);

const run = spawnSync(args.simian, ['audit', '--config', join(work, 'simian.toml'), '--item', join(work, 'items.json'), '--format', 'json'], {
  encoding: 'utf8',
  maxBuffer: 64 << 20,
});
// Exit 3: some items could not be audited, which the wrong shapes above are for.
if (run.status !== 0 && run.status !== 3) {
  console.error(run.stderr);
  process.exit(1);
}
const report = JSON.parse(run.stdout);
if (report.plugin_errors.length > 0 || report.auditors.length !== 2) {
  console.error('both plugins must load:', JSON.stringify(report.plugin_errors), JSON.stringify(report.auditors));
  process.exit(1);
}

let issues = 0;
const problems = [];
for (const item of report.items) {
  /** @param {string} plugin */
  const raised = (plugin) =>
    item.issues
      .filter((/** @type {any} */ i) => i.plugin === plugin)
      .map((/** @type {any} */ i) => JSON.stringify([i.check_id, i.title, i.score, i.notes, i.remediation]));
  /** @param {string} plugin */
  const failed = (plugin) => (item.errors ?? []).some((/** @type {any} */ e) => e.plugin === plugin);
  const rust = raised('sg-internet-accessible');
  const js = raised('sg-internet-accessible-js');
  issues += js.length;
  if (JSON.stringify(rust) !== JSON.stringify(js)) {
    problems.push(`${item.resource_id}: issues differ\n  rust ${rust.join('\n       ')}\n  js   ${js.join('\n       ')}`);
  }
  if (failed('sg-internet-accessible') !== failed('sg-internet-accessible-js')) {
    problems.push(`${item.resource_id}: only one plugin failed: ${JSON.stringify(item.errors)}`);
  }
}
const errors = report.items.filter((/** @type {any} */ i) => (i.errors ?? []).length > 0).length;
if (problems.length > 0) {
  console.error(problems.join('\n'));
  console.error(`${problems.length} differences`);
  process.exit(1);
}
console.log(`${report.items.length} items: ${issues} issues identical in both, ${errors} items failed in both`);
