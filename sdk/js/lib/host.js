/**
 * Where host calls go. Inside a component the build wires the contract's imports in here;
 * in `node --test` the fake host from `testing.js` is installed. With neither, a plugin sees
 * what a host whose operator granted nothing would answer: logs go to stderr, settings are
 * empty and every capability is denied.
 * @module
 */

import { HostError } from './errors.js';

/**
 * @typedef {'trace' | 'debug' | 'info' | 'warn' | 'error'} Level
 */

/**
 * @typedef {'same' | 'friendly' | 'third-party' | 'unknown'} Relation
 */

/**
 * Who is behind an account id, ARN, CIDR or canonical id.
 * @typedef {object} Classification
 * @property {Relation} relation
 * @property {string} [accountId] the account the subject belongs to, when it could be determined
 * @property {string} [name] the configured account or network name, when known
 */

/**
 * What the SDK needs from a host. Failing calls throw {@link HostError}.
 * @typedef {object} Host
 * @property {(level: Level, message: string) => void} log
 * @property {(key: string) => string | undefined} setting the JSON text of one setting
 * @property {() => string} settingsAll every setting as one JSON object text
 * @property {(own: string, accountId: string) => Classification} classifyAccount
 * @property {(own: string, arn: string) => Classification} classifyArn
 * @property {(own: string, cidr: string) => Classification} classifyCidr
 * @property {(own: string, canonicalId: string) => Classification} classifyCanonicalId
 * @property {(arn: string) => import('./item.js').Item | undefined} itemByArn
 * @property {(accountId: string, region: string, resourceType: string, resourceId: string) => import('./item.js').Item | undefined} findItem
 * @property {(resourceType: string, accountId: string | undefined, offset: number, limit: number) => import('./item.js').Item[]} listItems
 */

/** @returns {never} */
function denied() {
  throw HostError.denied('no host installed');
}

/** @type {Host} */
const NO_HOST = {
  log(level, message) {
    console.error(`[${level}] ${message}`);
  },
  setting: () => undefined,
  settingsAll: () => '{}',
  classifyAccount: denied,
  classifyArn: denied,
  classifyCidr: denied,
  classifyCanonicalId: denied,
  itemByArn: denied,
  findItem: denied,
  listItems: denied,
};

/** @type {Host} */
let current = NO_HOST;

/** @returns {Host} */
export function host() {
  return current;
}

/**
 * Make `next` the host for plugin calls until the returned function is called, which puts
 * the previous one back.
 * @param {Host} next
 * @returns {() => void}
 */
export function installHost(next) {
  const previous = current;
  current = next;
  return () => {
    current = previous;
  };
}
