/**
 * Write simian auditor plugins in JavaScript, against the `simian:plugin@0.1.0` contract.
 *
 * A rule module uses only this SDK and `export default`s an auditor:
 *
 * ```js
 * import { defineAuditor, Issue, settings } from './.simian/js/simian-sdk.js';
 *
 * export default defineAuditor({
 *   checks: [{ id: 'missing-owner-tag', title: 'Missing owner tag', score: 1, description: '...' }],
 *   setup: () => ({ score: settings.getOr('score', 1, 'u32') }),
 *   audit(item, { score }) {
 *     if (item.tag('owner')) return [];
 *     return [new Issue('missing-owner-tag', 'Missing owner tag', score).withNotes('Tags: [owner missing]')];
 *   },
 * });
 * ```
 *
 * The same module runs under `node --test` against the fake host in `testing.js`, and inside
 * the component, where the build wires the contract's imports in. Host services (`log`,
 * `settings`, `accounts`, `items`) have the same API in both.
 * @module
 */

export { Auditor, defineAuditor } from './lib/auditor.js';
export { Cidr } from './lib/cidr.js';
export { HostError, errorText, withContext } from './lib/errors.js';
export { Issue } from './lib/issue.js';
export { Item } from './lib/item.js';
export { IpPermission, SecurityGroup } from './lib/resources.js';
export * as accounts from './lib/accounts.js';
export * as items from './lib/items.js';
export * as log from './lib/log.js';
export * as settings from './lib/settings.js';

/** The contract version this SDK speaks. */
export const CONTRACT = '0.1.0';
