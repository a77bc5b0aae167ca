/**
 * Who is behind an account id, ARN, CIDR or S3 canonical id, against the accounts and
 * networks the operator configured. Needs the `accounts` capability in `plugin.toml` and the
 * operator's grant; without them every call throws a `HostError` of kind `denied`.
 * @module
 */

import { host } from './host.js';

/** @typedef {import('./host.js').Classification} Classification */

/**
 * `own` is the account of the item under audit.
 * @param {string} own
 * @param {string} accountId
 * @returns {Classification}
 */
export function classifyAccount(own, accountId) {
  return host().classifyAccount(own, accountId);
}

/**
 * @param {string} own
 * @param {string} arn
 * @returns {Classification}
 */
export function classifyArn(own, arn) {
  return host().classifyArn(own, arn);
}

/**
 * @param {string} own
 * @param {string} cidr a CIDR or a bare address
 * @returns {Classification}
 */
export function classifyCidr(own, cidr) {
  return host().classifyCidr(own, cidr);
}

/**
 * @param {string} own
 * @param {string} canonicalId
 * @returns {Classification}
 */
export function classifyCanonicalId(own, canonicalId) {
  return host().classifyCanonicalId(own, canonicalId);
}
