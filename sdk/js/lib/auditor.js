/**
 * Defining an auditor, and the one calling convention both the component and the tests use,
 * so a rule behaves the same under `node --test` and in the host.
 * @module
 */

import { componentExports } from './component.js';
import { errorText } from './errors.js';
import { checkRecord, issueRecord } from './issue.js';
import { show } from './values.js';

/** @typedef {import('./item.js').Item} Item */
/** @typedef {import('./issue.js').CheckInfo} CheckInfo */
/** @typedef {ReturnType<typeof issueRecord>} IssueRecord */

/**
 * One item's outcome: the issues found, or why it could not be audited.
 * @typedef {{ok: true, issues: IssueRecord[]} | {ok: false, error: string}} AuditResult
 */

/**
 * What a rule module passes to {@link defineAuditor}.
 * @template [S=undefined]
 * @typedef {object} AuditorSpec
 * @property {CheckInfo[]} [checks] the checks it can raise, for listings and operator overrides
 * @property {() => S} [setup] runs once per plugin instance, before its first batch; read
 *   settings and do expensive preparation here. If it throws, every item gets that error.
 * @property {(item: Item, state: S) => import('./issue.js').Issue[]} [audit] the issues found on
 *   one item; throw to report that it could not be audited (other items are unaffected)
 * @property {(items: Item[], state: S) => Array<import('./issue.js').Issue[] | Error>} [auditBatch]
 *   one result per item, in order, to share work across a batch; replaces `audit`'s loop.
 *   Give `audit`, `auditBatch`, or both.
 */

/**
 * An auditor, ready to be tested with `auditWith` (testing.js) or built into a component.
 * Its id, version and resource types are stated once, in `plugin.toml`.
 * @template [S=undefined]
 */
export class Auditor {
  /** @param {AuditorSpec<S>} spec */
  constructor(spec) {
    if (typeof spec !== 'object' || spec === null) {
      throw new TypeError(`defineAuditor needs an object, not ${show(spec)}`);
    }
    const { checks = [], setup, audit, auditBatch } = spec;
    if (typeof audit !== 'function' && typeof auditBatch !== 'function') {
      throw new TypeError('defineAuditor needs an `audit(item, state)` function');
    }
    for (const [name, fn] of Object.entries({ setup, auditBatch })) {
      if (fn !== undefined && typeof fn !== 'function') {
        throw new TypeError(`\`${name}\` must be a function, not ${show(fn)}`);
      }
    }
    if (!Array.isArray(checks)) {
      throw new TypeError(`\`checks\` must be a list, not ${show(checks)}`);
    }
    // Checked now, so a bad check fails the tests and the build rather than `describe()`.
    /** @type {readonly CheckInfo[]} */
    this.checks = Object.freeze(checks.map(checkRecord));
    /** @private */
    this.spec = spec;
  }

  /**
   * The contract's `plugin-info`: kind and checks. Id, version and resource types are left
   * empty: the host takes them from `plugin.toml`, their single source.
   */
  describe() {
    return {
      id: '',
      version: '',
      kind: /** @type {const} */ ('auditor'),
      description: '',
      resourceTypes: [],
      checks: this.checks.map((check) => ({ ...check })),
    };
  }

  /**
   * Run `setup`, as a new plugin instance does once.
   * @returns {{ok: true, state: S} | {ok: false, error: string}}
   */
  start() {
    try {
      return { ok: true, state: /** @type {S} */ (this.spec.setup ? this.spec.setup() : undefined) };
    } catch (e) {
      return { ok: false, error: errorText(e) };
    }
  }

  /**
   * Audit a batch with an instance that may have failed to start: then every item gets that
   * error. A wrong result count from `auditBatch` would make the host misattribute issues, so
   * it becomes an error on every item instead.
   * @param {{ok: true, state: S} | {ok: false, error: string}} instance what `start()` returned
   * @param {Item[]} items
   * @returns {AuditResult[]}
   */
  run(instance, items) {
    if (!instance.ok) {
      return items.map(() => failed(`plugin failed to start: ${instance.error}`));
    }
    const { audit, auditBatch } = this.spec;
    if (typeof auditBatch !== 'function') {
      return items.map((item) => {
        try {
          return judged(/** @type {Function} */ (audit).call(this.spec, item, instance.state), 'audit');
        } catch (e) {
          return failed(errorText(e));
        }
      });
    }
    let results;
    try {
      results = auditBatch.call(this.spec, items, instance.state);
    } catch (e) {
      return items.map(() => failed(errorText(e)));
    }
    if (!Array.isArray(results) || results.length !== items.length) {
      const count = Array.isArray(results) ? `${results.length} results` : show(results);
      return items.map(() => failed(`auditBatch returned ${count} for ${items.length} items`));
    }
    return results.map((result) => (result instanceof Error ? failed(errorText(result)) : judged(result, 'auditBatch')));
  }

  /**
   * The `auditor` world's exports, with host calls going to the contract's imports. Called by
   * the entry module the build generates; a rule never needs it.
   * @param {import('./component.js').Imports} imports
   * @returns {{describe: () => ReturnType<Auditor<S>['describe']>, audit: (records: import('./item.js').ItemRecord[]) => Array<{tag: 'ok', val: IssueRecord[]} | {tag: 'err', val: string}>}}
   */
  componentExports(imports) {
    return /** @type {any} */ (componentExports(this, imports));
  }
}

/**
 * Define the plugin's auditor; its module must `export default` the result.
 * @template [S=undefined]
 * @param {AuditorSpec<S>} spec
 * @returns {Auditor<S>}
 */
export function defineAuditor(spec) {
  return new Auditor(spec);
}

/**
 * @param {string} error
 * @returns {AuditResult}
 */
function failed(error) {
  return { ok: false, error };
}

/**
 * What a rule returned for one item, checked.
 * @param {unknown} issues
 * @param {string} from the function that returned it, for the message
 * @returns {AuditResult}
 */
function judged(issues, from) {
  if (issues !== null && typeof issues === 'object' && typeof (/** @type {any} */ (issues).then) === 'function') {
    // Host calls are synchronous, so a rule has nothing to await.
    return failed(`${from} returned a Promise: it must return the issues synchronously (no async)`);
  }
  if (!Array.isArray(issues)) {
    return failed(`${from} must return a list of issues, not ${show(issues)}`);
  }
  try {
    return { ok: true, issues: issues.map(issueRecord) };
  } catch (e) {
    return failed(`${from} returned an invalid issue: ${errorText(e)}`);
  }
}
