/**
 * Read-only lookup of other items the host knows. Needs the `items` capability in
 * `plugin.toml` and the operator's grant (scoped by resource type); otherwise every call throws
 * a `HostError` of kind `denied`.
 * @module
 */

import { host } from './host.js';
import { isU32 } from './values.js';

/** @typedef {import('./item.js').Item} Item */

/**
 * @param {string} arn
 * @returns {Item | undefined}
 */
export function getByArn(arn) {
  return host().itemByArn(arn);
}

/**
 * @param {string} accountId
 * @param {string} region
 * @param {string} resourceType
 * @param {string} resourceId
 * @returns {Item | undefined}
 */
export function get(accountId, region, resourceType, resourceId) {
  return host().findItem(accountId, region, resourceType, resourceId);
}

/**
 * One page of the items of `resourceType`, optionally of one account: at most 1000 per call,
 * whatever `limit` asks for.
 * @param {string} resourceType
 * @param {{accountId?: string, offset?: number, limit?: number}} [page]
 * @returns {Item[]}
 */
export function list(resourceType, { accountId, offset = 0, limit = 1000 } = {}) {
  if (!isU32(offset) || !isU32(limit)) {
    throw new TypeError(`offset and limit must be integers from 0 to 4294967295, not ${offset} and ${limit}`);
  }
  return host().listItems(resourceType, accountId, offset, limit);
}
