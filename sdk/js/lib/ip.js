/**
 * IP address text, read and written exactly as Rust's `std::net` does, so a CIDR's canonical
 * text (part of issue notes, hence of issue identity) is the same whichever SDK built it.
 * Addresses are BigInts: 32 bits for IPv4, 128 for IPv6.
 * @module
 */

/**
 * @typedef {object} Address
 * @property {boolean} v6
 * @property {bigint} value
 */

/** A cursor over the text, after Rust's `core::net::parser::Parser`. */
class Parser {
  /** @param {string} text */
  constructor(text) {
    this.text = text;
    this.at = 0;
  }

  /**
   * Run `read`; on failure rewind to where it started.
   * @template T
   * @param {() => T | null} read
   * @returns {T | null}
   */
  atomically(read) {
    const start = this.at;
    const result = read();
    if (result === null) this.at = start;
    return result;
  }

  /** @param {string} c */
  readChar(c) {
    return this.atomically(() => (this.text[this.at] === c ? (this.at++, true) : null));
  }

  /**
   * `read`, preceded by `sep` unless it is the first of a sequence.
   * @template T
   * @param {string} sep
   * @param {number} index
   * @param {() => T | null} read
   */
  separated(sep, index, read) {
    return this.atomically(() => {
      if (index > 0 && this.readChar(sep) === null) return null;
      return read();
    });
  }

  /**
   * An unsigned number of at most `maxDigits` digits that fits `max`.
   * @param {number} radix 10 or 16
   * @param {number} maxDigits
   * @param {boolean} allowZeroPrefix
   * @param {number} max
   * @returns {number | null}
   */
  number(radix, maxDigits, allowZeroPrefix, max) {
    return this.atomically(() => {
      const leadingZero = this.text[this.at] === '0';
      let value = 0;
      let digits = 0;
      for (;;) {
        const c = this.text[this.at];
        const digit = c === undefined || !/^[0-9a-fA-F]$/.test(c) ? NaN : parseInt(c, 16);
        if (Number.isNaN(digit) || digit >= radix) break;
        this.at++;
        value = value * radix + digit;
        digits++;
        if (digits > maxDigits || value > max) return null;
      }
      if (digits === 0) return null;
      if (!allowZeroPrefix && leadingZero && digits > 1) return null;
      return value;
    });
  }

  /** @returns {bigint | null} */
  ipv4() {
    return this.atomically(() => {
      let value = 0n;
      for (let i = 0; i < 4; i++) {
        // No leading zeros: `010` could be read as octal elsewhere (RFC 6943 3.1.1).
        const octet = this.separated('.', i, () => this.number(10, 3, false, 0xff));
        if (octet === null) return null;
        value = (value << 8n) | BigInt(octet);
      }
      return value;
    });
  }

  /**
   * Up to `groups.length` groups of an IPv6 address; the last two may be an IPv4 address.
   * @param {number[]} groups filled in place
   * @returns {[number, boolean]} how many were read, and whether they ended in IPv4
   */
  ipv6Groups(groups) {
    const limit = groups.length;
    for (let i = 0; i < limit; i++) {
      if (i < limit - 1) {
        const v4 = this.separated(':', i, () => this.ipv4());
        if (v4 !== null) {
          groups[i] = Number(v4 >> 16n);
          groups[i + 1] = Number(v4 & 0xffffn);
          return [i + 2, true];
        }
      }
      const group = this.separated(':', i, () => this.number(16, 4, true, 0xffff));
      if (group === null) return [i, false];
      groups[i] = group;
    }
    return [limit, false];
  }

  /** @returns {bigint | null} */
  ipv6() {
    return this.atomically(() => {
      const head = new Array(8).fill(0);
      const [headSize, headV4] = this.ipv6Groups(head);
      if (headSize === 8) return groupsValue(head);
      // IPv4 is allowed only at the end, and `::` must stand for at least one group.
      if (headV4) return null;
      if (this.readChar(':') === null || this.readChar(':') === null) return null;
      const tail = new Array(8 - (headSize + 1)).fill(0);
      const [tailSize] = this.ipv6Groups(tail);
      for (let i = 0; i < tailSize; i++) head[8 - tailSize + i] = tail[i];
      return groupsValue(head);
    });
  }

  /**
   * @template T
   * @param {() => T | null} read
   * @returns {T | null} the result only if it consumed the whole text
   */
  whole(read) {
    const result = this.atomically(read);
    return result !== null && this.at === this.text.length ? result : null;
  }
}

/** @param {number[]} groups */
function groupsValue(groups) {
  return groups.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

/**
 * An IPv4 or IPv6 address, as Rust's `IpAddr::from_str` reads it; `null` if it is not one.
 * @param {string} text
 * @returns {Address | null}
 */
export function parseAddress(text) {
  const v4 = readWhole(text, (p) => p.ipv4());
  if (v4 !== null) return { v6: false, value: v4 };
  const v6 = readWhole(text, (p) => p.ipv6());
  return v6 === null ? null : { v6: true, value: v6 };
}

/**
 * @param {string} text
 * @param {(p: Parser) => bigint | null} read
 */
function readWhole(text, read) {
  const p = new Parser(text);
  return p.whole(() => read(p));
}

/**
 * Its text as Rust's `Display` writes it: dotted quad; for IPv6 lowercase hex with the first
 * longest run of two or more zero groups as `::`, and IPv4-mapped addresses as `::ffff:a.b.c.d`.
 * @param {Address} address
 * @returns {string}
 */
export function formatAddress({ v6, value }) {
  if (!v6) return formatIpv4(value);
  if (value >> 32n === 0xffffn) return `::ffff:${formatIpv4(value & 0xffff_ffffn)}`;
  const groups = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  let best = { start: 0, len: 0 };
  let run = { start: 0, len: 0 };
  groups.forEach((group, i) => {
    if (group !== 0) {
      run = { start: 0, len: 0 };
      return;
    }
    if (run.len === 0) run.start = i;
    run.len++;
    if (run.len > best.len) best = { ...run };
  });
  /** @param {number[]} part */
  const hex = (part) => part.map((g) => g.toString(16)).join(':');
  if (best.len > 1) {
    return `${hex(groups.slice(0, best.start))}::${hex(groups.slice(best.start + best.len))}`;
  }
  return hex(groups);
}

/** @param {bigint} value */
function formatIpv4(value) {
  return [24n, 16n, 8n, 0n].map((shift) => (value >> shift) & 0xffn).join('.');
}
