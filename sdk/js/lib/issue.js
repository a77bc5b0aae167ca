/**
 * Findings an auditor raises, and the checks it can raise them for.
 * @module
 */

import { requireString, requireU32, show } from './values.js';

/**
 * A finding against one item. `checkId` and `notes` are part of the issue's identity in the
 * host (that is how it tells a new issue from one still open), so keep notes deterministic:
 * no timestamps, no unordered collections.
 */
export class Issue {
  /**
   * @param {string} checkId stable identifier of the check within the plugin
   * @param {string} title
   * @param {number} score an integer from 0 to 2^32-1
   */
  constructor(checkId, title, score) {
    /** @type {string} */
    this.checkId = requireString(checkId, 'issue checkId');
    /** @type {string} */
    this.title = requireString(title, 'issue title');
    /** @type {number} */
    this.score = requireU32(score, 'issue score');
    /** The evidence. @type {string} */
    this.notes = '';
    /** @type {string | undefined} */
    this.remediation = undefined;
  }

  /** @param {string} notes */
  withNotes(notes) {
    this.notes = requireString(notes, 'issue notes');
    return this;
  }

  /** @param {string} remediation */
  withRemediation(remediation) {
    this.remediation = requireString(remediation, 'issue remediation');
    return this;
  }
}

/**
 * The contract's `issue` record. Accepts any object with the issue's fields (an `Issue`, or a
 * literal), so a rule may build issues as it likes; the check happens here, once, instead of
 * as a trap in the bindings.
 * @param {unknown} value
 * @returns {{checkId: string, title: string, score: number, notes: string, remediation: string | undefined}}
 */
export function issueRecord(value) {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`an issue must be an object, not ${show(value)}`);
  }
  const issue = /** @type {Record<string, unknown>} */ (value);
  const remediation = issue.remediation ?? undefined;
  return {
    checkId: requireString(issue.checkId, 'issue checkId'),
    title: requireString(issue.title, 'issue title'),
    score: requireU32(issue.score, 'issue score'),
    notes: requireString(issue.notes ?? '', 'issue notes'),
    remediation: remediation === undefined ? undefined : requireString(remediation, 'issue remediation'),
  };
}

/**
 * A check an auditor can raise, for listings and operator overrides.
 * @typedef {object} CheckInfo
 * @property {string} id e.g. `internet-accessible`
 * @property {string} title
 * @property {number} score the default score, an integer from 0 to 2^32-1
 * @property {string} description
 */

/**
 * The contract's `check-info` record, checked.
 * @param {unknown} value
 * @param {number} index position in the auditor's `checks`, for the message
 * @returns {CheckInfo}
 */
export function checkRecord(value, index) {
  const where = `checks[${index}]`;
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`${where} must be an object, not ${show(value)}`);
  }
  const check = /** @type {Record<string, unknown>} */ (value);
  return {
    id: requireString(check.id, `${where}.id`),
    title: requireString(check.title, `${where}.title`),
    score: requireU32(check.score, `${where}.score`),
    description: requireString(check.description ?? '', `${where}.description`),
  };
}
