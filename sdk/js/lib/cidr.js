/**
 * IPv4 and IPv6 CIDR blocks, kept in canonical form (host bits cleared), read and written as
 * the host's (Rust) `Cidr` does.
 * @module
 */

import { formatAddress, parseAddress } from './ip.js';

/** @param {boolean} v6 */
const width = (v6) => (v6 ? 128 : 32);

/**
 * A network: address with host bits cleared, and prefix length. `equals` works on the
 * canonical form, so `10.1.2.3/8` equals `10.0.0.0/8`.
 */
export class Cidr {
  /**
   * @param {boolean} v6
   * @param {bigint} network already masked
   * @param {number} prefixLen
   */
  constructor(v6, network, prefixLen) {
    /** @private */
    this.v6 = v6;
    /** @private */
    this.bits = network;
    /** @type {number} */
    this.prefixLen = prefixLen;
  }

  /**
   * `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a single host: `/32`, `/128`).
   * @param {string} text
   * @returns {Cidr}
   * @throws {Error} `` `<text>` is not a CIDR: ... ``
   */
  static parse(text) {
    /** @param {string} why */
    const invalid = (why) => new Error(`\`${text}\` is not a CIDR: ${why}`);
    const slash = String(text).indexOf('/');
    const addr = slash < 0 ? text : text.slice(0, slash);
    const prefix = slash < 0 ? undefined : text.slice(slash + 1);
    const address = parseAddress(addr);
    if (address === null) {
      throw invalid(`\`${addr}\` is not an IP address`);
    }
    const max = width(address.v6);
    let prefixLen = max;
    if (prefix !== undefined) {
      // Digits only, at most three (a `u8`): no sign, no spaces, no second slash.
      if (!/^[0-9]{1,3}$/.test(prefix) || Number(prefix) > 255) {
        throw invalid(`bad prefix \`${prefix}\``);
      }
      prefixLen = Number(prefix);
    }
    if (prefixLen > max) {
      throw invalid(`prefix /${prefixLen} is longer than /${max}`);
    }
    return new Cidr(address.v6, mask(address.value, address.v6, prefixLen), prefixLen);
  }

  /**
   * The CIDR, or `undefined` when `text` is not one.
   * @param {string} text
   * @returns {Cidr | undefined}
   */
  static tryParse(text) {
    try {
      return Cidr.parse(text);
    } catch {
      return undefined;
    }
  }

  isIpv4() {
    return !this.v6;
  }

  isIpv6() {
    return this.v6;
  }

  /** The whole internet of its family: `0.0.0.0/0` or `::/0`. */
  isOpen() {
    return this.prefixLen === 0;
  }

  /** The network address as text, e.g. `10.0.0.0`. */
  network() {
    return formatAddress({ v6: this.v6, value: this.bits });
  }

  /**
   * True when every address of `other` is in this network (same family only).
   * @param {Cidr} other
   */
  contains(other) {
    return (
      this.v6 === other.v6 &&
      other.prefixLen >= this.prefixLen &&
      mask(other.bits, other.v6, this.prefixLen) === this.bits
    );
  }

  /**
   * Same family, network and prefix.
   * @param {Cidr} other
   */
  equals(other) {
    return this.v6 === other.v6 && this.bits === other.bits && this.prefixLen === other.prefixLen;
  }

  /** Canonical text: `10.0.0.0/8`, `2001:db8::/32`, `::/0`. */
  toString() {
    return `${this.network()}/${this.prefixLen}`;
  }

  toJSON() {
    return this.toString();
  }
}

/**
 * Clear the host bits.
 * @param {bigint} value
 * @param {boolean} v6
 * @param {number} prefixLen
 */
function mask(value, v6, prefixLen) {
  const bits = BigInt(width(v6));
  const all = (1n << bits) - 1n;
  const keep = (all << (bits - BigInt(prefixLen))) & all;
  return value & keep;
}
