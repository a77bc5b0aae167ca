/**
 * Typed views of item configurations, for `item.configuration(SecurityGroup.from)`.
 *
 * Each view holds the parts of AWS Config's shape that rules read. Unknown fields are
 * skipped and every field may be missing or `null`, so a new AWS field never breaks a
 * plugin; a field of the wrong type is an error naming it, as in the Rust SDK.
 * @module
 */

import { Cidr } from './cidr.js';
import { rustTrim, show } from './values.js';

/** @typedef {'ingress' | 'egress'} Direction */

/** `AWS::EC2::SecurityGroup`. */
export class SecurityGroup {
  /**
   * The view of a parsed configuration; throws on a field of the wrong type.
   * @param {unknown} value
   * @returns {SecurityGroup}
   */
  static from(value) {
    const obj = object(value, 'security group');
    const group = new SecurityGroup();
    group.groupId = optional(obj, 'groupId', 'string');
    group.groupName = optional(obj, 'groupName', 'string');
    group.ipPermissions = list(obj, 'ipPermissions', IpPermission.from);
    group.ipPermissionsEgress = list(obj, 'ipPermissionsEgress', IpPermission.from);
    group.inUse = optional(obj, 'inUse', 'boolean');
    return group;
  }

  constructor() {
    /** @type {string | undefined} */
    this.groupId = undefined;
    /** @type {string | undefined} */
    this.groupName = undefined;
    /** @type {IpPermission[]} */
    this.ipPermissions = [];
    /** @type {IpPermission[]} */
    this.ipPermissionsEgress = [];
    /**
     * Whether any network interface uses the group; `undefined` where the document does not
     * say (AWS Config's shape, older records).
     * @type {boolean | undefined}
     */
    this.inUse = undefined;
  }
}

/**
 * One rule of a security group.
 */
export class IpPermission {
  /**
   * @param {unknown} value
   * @param {string} [where] path for error messages
   * @returns {IpPermission}
   */
  static from(value, where = 'ip permission') {
    const obj = object(value, where);
    const rule = new IpPermission();
    rule.ipProtocol = optional(obj, 'ipProtocol', 'string', where);
    rule.fromPort = optional(obj, 'fromPort', 'integer', where);
    rule.toPort = optional(obj, 'toPort', 'integer', where);
    rule.ipv4Ranges = list(obj, 'ipv4Ranges', (v, at) => ({ cidrIp: optional(object(v, at), 'cidrIp', 'string', at) }), where);
    rule.ipv6Ranges = list(obj, 'ipv6Ranges', (v, at) => ({ cidrIpv6: optional(object(v, at), 'cidrIpv6', 'string', at) }), where);
    rule.ipRanges = list(obj, 'ipRanges', legacyRange, where);
    rule.userIdGroupPairs = list(
      obj,
      'userIdGroupPairs',
      (v, at) => {
        const pair = object(v, at);
        return {
          groupId: optional(pair, 'groupId', 'string', at),
          groupName: optional(pair, 'groupName', 'string', at),
          userId: optional(pair, 'userId', 'string', at),
        };
      },
      where,
    );
    return rule;
  }

  constructor() {
    /** `tcp`, `udp`, `icmp`, a protocol number, or `-1` for all. @type {string | undefined} */
    this.ipProtocol = undefined;
    /** @type {number | undefined} */
    this.fromPort = undefined;
    /** @type {number | undefined} */
    this.toPort = undefined;
    /** @type {{cidrIp: string | undefined}[]} */
    this.ipv4Ranges = [];
    /** @type {{cidrIpv6: string | undefined}[]} */
    this.ipv6Ranges = [];
    /**
     * The legacy list; may appear instead of, or as well as, `ipv4Ranges`. AWS Config writes
     * plain strings here; EC2's API shape (`{"cidrIp": ..}`) is read into the same text.
     * @type {(string | undefined)[]}
     */
    this.ipRanges = [];
    /**
     * Referenced security groups; `userId` is the account owning one.
     * @type {{groupId: string | undefined, groupName: string | undefined, userId: string | undefined}[]}
     */
    this.userIdGroupPairs = [];
  }

  /**
   * The rule's CIDR sources as written, in the order AWS lists them: `ipv4Ranges`, then
   * `ipRanges`, then `ipv6Ranges`.
   * @returns {string[]}
   */
  cidrTexts() {
    /** @type {(string | undefined)[]} */
    const texts = [
      ...this.ipv4Ranges.map((r) => r.cidrIp),
      ...this.ipRanges,
      ...this.ipv6Ranges.map((r) => r.cidrIpv6),
    ];
    return /** @type {string[]} */ (texts.filter((t) => t !== undefined));
  }

  /**
   * The rule's CIDRs in canonical form, once each (the legacy `ipRanges` usually repeats
   * `ipv4Ranges`). An unparsable range is skipped: AWS validates these.
   * @returns {Cidr[]}
   */
  cidrs() {
    /** @type {Cidr[]} */
    const found = [];
    for (const text of this.cidrTexts()) {
      const cidr = Cidr.tryParse(rustTrim(text));
      if (cidr && !found.some((c) => c.equals(cidr))) {
        found.push(cidr);
      }
    }
    return found;
  }

  /**
   * Whether the rule admits TCP traffic to `port`: every protocol (`-1`), or TCP with a range
   * covering it (no ports given means all ports).
   * @param {number} port
   */
  coversTcpPort(port) {
    switch (this.ipProtocol ?? '-1') {
      case '-1':
      case 'all':
        return true;
      case 'tcp':
      case '6': {
        const from = nonNegative(this.fromPort);
        const to = nonNegative(this.toPort);
        return from === undefined || to === undefined || (from <= port && port <= to);
      }
      default:
        return false;
    }
  }

  /**
   * `<direction>:<protocol>:<ports>` as Security Monkey's notes spell it: `all:all` for every
   * protocol, `22` for one port, `80-443` for a range, `all` when AWS gives no ports (or `-1`,
   * its "any" for ICMP).
   * @param {Direction} direction
   * @returns {string}
   */
  access(direction) {
    if (direction !== 'ingress' && direction !== 'egress') {
      throw new TypeError(`direction must be 'ingress' or 'egress', not ${show(direction)}`);
    }
    const protocol = this.ipProtocol ?? '-1';
    if (protocol === '-1') {
      return `${direction}:all:all`;
    }
    const from = nonNegative(this.fromPort);
    const to = nonNegative(this.toPort);
    if (from === undefined || to === undefined) {
      return `${direction}:${protocol}:all`;
    }
    return from === to ? `${direction}:${protocol}:${from}` : `${direction}:${protocol}:${from}-${to}`;
  }
}

/** @param {number | undefined} port */
function nonNegative(port) {
  return port !== undefined && port >= 0 ? port : undefined;
}

/**
 * @param {unknown} value
 * @param {string} at
 * @returns {string | undefined}
 */
function legacyRange(value, at) {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const cidr = /** @type {Record<string, unknown>} */ (value).cidrIp;
    if (cidr === undefined || cidr === null || typeof cidr === 'string') {
      return cidr ?? undefined;
    }
  }
  throw new TypeError(`${at} must be a CIDR text or {"cidrIp": text}, not ${show(value)}`);
}

// i64, the Rust view's port type: JSON integers outside it are errors there too.
const I64_MIN = -(2 ** 63);
const I64_END = 2 ** 63;

/** @type {Record<string, [(v: unknown) => boolean, string]>} */
const SCALARS = {
  string: [(v) => typeof v === 'string', 'a string'],
  boolean: [(v) => typeof v === 'boolean', 'a boolean'],
  integer: [(v) => Number.isInteger(v) && /** @type {number} */ (v) >= I64_MIN && /** @type {number} */ (v) < I64_END, 'an integer'],
};

/**
 * @param {unknown} value
 * @param {string} where
 * @returns {Record<string, unknown>}
 */
function object(value, where) {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${where} must be an object, not ${show(value)}`);
  }
  return /** @type {Record<string, unknown>} */ (value);
}

/**
 * A scalar field; missing and `null` read as `undefined`.
 * @param {Record<string, unknown>} obj
 * @param {string} field
 * @param {'string' | 'boolean' | 'integer'} type
 * @param {string} [where]
 * @returns {any}
 */
function optional(obj, field, type, where) {
  const value = obj[field];
  if (value === undefined || value === null) {
    return undefined;
  }
  const [accepts, spelled] = SCALARS[type];
  if (!accepts(value)) {
    throw new TypeError(`${where ? `${where}.` : ''}${field} must be ${spelled}, not ${show(value)}`);
  }
  return value;
}

/**
 * A list field; missing and `null` (AWS Config writes it for an empty list) read as `[]`.
 * @template T
 * @param {Record<string, unknown>} obj
 * @param {string} field
 * @param {(value: unknown, where: string) => T} read
 * @param {string} [where]
 * @returns {T[]}
 */
function list(obj, field, read, where) {
  const value = obj[field];
  const path = where ? `${where}.${field}` : field;
  if (value === undefined || value === null) {
    return [];
  }
  if (!Array.isArray(value)) {
    throw new TypeError(`${path} must be a list, not ${show(value)}`);
  }
  return value.map((element, i) => read(element, `${path}[${i}]`));
}
