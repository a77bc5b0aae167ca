/**
 * The host's classification rules (Rust `simian_model::accounts::AccountBook`), for the fake
 * host: the configured accounts and networks, and the owners of the buckets, VPCs, endpoints
 * and IAM principals among its items.
 * @module
 */

import { Arn, isAccountId } from './arn.js';
import { Cidr } from './cidr.js';
import { rustTrim } from './values.js';

/** @typedef {import('./host.js').Classification} Classification */

/**
 * @typedef {object} Account
 * @property {string} id
 * @property {string} name
 * @property {boolean} thirdParty
 * @property {string} [canonicalId]
 */

/**
 * @typedef {object} Network
 * @property {string} name
 * @property {Cidr} cidr
 * @property {string} [account]
 */

/** @returns {Classification} */
const unknown = () => ({ relation: 'unknown', accountId: undefined, name: undefined });

/** ASCII only, like Rust's `to_ascii_lowercase`. @param {string} text */
const asciiLower = (text) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

export class AccountBook {
  /**
   * A later account with the same id or canonical id wins over an earlier one.
   * @param {Account[]} accounts
   * @param {Network[]} networks
   * @param {{resourceType: string, resourceId: string, accountId: string}[]} items known items,
   *   whose ids place account-less ARNs
   */
  constructor(accounts, networks, items) {
    /** @type {Map<string, Account>} */
    this.byId = new Map(accounts.map((a) => [a.id, a]));
    /** @type {Map<string, string>} */
    this.byCanonical = new Map();
    for (const a of accounts) {
      if (a.canonicalId !== undefined) this.byCanonical.set(asciiLower(rustTrim(a.canonicalId)), a.id);
    }
    // Most specific first, so a /24 inside a /8 names the /24; `sort` is stable, so among
    // equally specific networks the first configured wins.
    this.networks = [...networks].sort((x, y) => y.cidr.prefixLen - x.cidr.prefixLen);
    /** @type {Record<'buckets' | 'networks' | 'uniqueIds', Map<string, string>>} */
    this.inventory = { buckets: new Map(), networks: new Map(), uniqueIds: new Map() };
    for (const item of items) {
      const map = {
        'AWS::S3::Bucket': this.inventory.buckets,
        'AWS::EC2::VPC': this.inventory.networks,
        'AWS::EC2::VPCEndpoint': this.inventory.networks,
        'AWS::IAM::User': this.inventory.uniqueIds,
        'AWS::IAM::Role': this.inventory.uniqueIds,
      }[item.resourceType];
      map?.set(item.resourceId, item.accountId);
    }
  }

  /**
   * @param {string} own the account of the item under audit
   * @param {string} accountId
   * @returns {Classification}
   */
  classifyAccount(own, accountId) {
    const id = rustTrim(accountId);
    const configured = this.byId.get(id);
    /** @type {import('./host.js').Relation} */
    let relation;
    if (id === own) relation = 'same';
    else if (configured?.thirdParty) relation = 'third-party';
    else if (configured) relation = 'friendly';
    else relation = 'unknown';
    return { relation, accountId: id, name: configured?.name };
  }

  /**
   * An S3 ARN, or an EC2 ARN of a VPC or VPC endpoint, or simian's `arn:aws:iam:::unique-id/…`,
   * without an account belongs to the owner its item records; any other ARN without an
   * account, with `*`, or owned by `aws` is unknown.
   * @param {string} own
   * @param {string} arn
   * @returns {Classification}
   * @throws {Error} when `arn` is not an ARN
   */
  classifyArn(own, arn) {
    const parsed = Arn.parse(rustTrim(arn));
    const account = parsed.account;
    if (account === '' && ['s3', 'ec2', 'iam'].includes(parsed.service)) {
      const owner = this.owner(parsed);
      return owner === undefined ? unknown() : this.classifyAccount(own, owner);
    }
    if (account === '' || account === '*' || account === 'aws') {
      return unknown();
    }
    if (isAccountId(account)) {
      return this.classifyAccount(own, account);
    }
    throw new Error(`\`${arn}\` has account \`${account}\`, not a 12-digit id`);
  }

  /**
   * A CIDR (or bare address) inside a configured network is ours, or that network's
   * account's, named after the most specific such network; anything else is unknown.
   * @param {string} own
   * @param {string} cidr
   * @returns {Classification}
   * @throws {Error} when `cidr` is not a CIDR
   */
  classifyCidr(own, cidr) {
    const subject = Cidr.parse(rustTrim(cidr));
    const network = this.networks.find((n) => n.cidr.contains(subject));
    if (!network) {
      return unknown();
    }
    const classification =
      network.account === undefined
        ? { relation: /** @type {const} */ ('same'), accountId: undefined, name: undefined }
        : this.classifyAccount(own, network.account);
    return { ...classification, name: network.name };
  }

  /**
   * Canonical ids compare case-insensitively.
   * @param {string} own
   * @param {string} canonicalId
   * @returns {Classification}
   */
  classifyCanonicalId(own, canonicalId) {
    const account = this.byCanonical.get(asciiLower(rustTrim(canonicalId)));
    return account === undefined ? unknown() : this.classifyAccount(own, account);
  }

  /**
   * @param {Arn} arn
   * @returns {string | undefined}
   */
  owner(arn) {
    switch (arn.service) {
      case 's3':
        return this.inventory.buckets.get(arn.resource.split('/')[0]);
      case 'iam':
        return arn.resource.startsWith('unique-id/')
          ? this.inventory.uniqueIds.get(arn.resource.slice('unique-id/'.length))
          : undefined;
      case 'ec2': {
        const slash = arn.resource.indexOf('/');
        if (slash < 0) return undefined;
        const kind = arn.resource.slice(0, slash);
        return kind === 'vpc' || kind === 'vpc-endpoint'
          ? this.inventory.networks.get(arn.resource.slice(slash + 1))
          : undefined;
      }
      default:
        return undefined;
    }
  }
}
