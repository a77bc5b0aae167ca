/**
 * Small checks on values that cross the contract: a wrong type would otherwise surface as a
 * trap (or a silently wrapped number) inside the component instead of a readable error.
 * @module
 */

/** The largest `u32`, the contract's type for scores. */
export const U32_MAX = 0xffff_ffff;

/**
 * @param {unknown} value
 * @returns {value is number}
 */
export function isU32(value) {
  return Number.isInteger(value) && /** @type {number} */ (value) >= 0 && /** @type {number} */ (value) <= U32_MAX;
}

/**
 * A short rendering of a value for error messages: JSON where possible, cut at 80 characters.
 * @param {unknown} value
 * @returns {string}
 */
export function show(value) {
  let text;
  if (value === undefined) {
    text = 'undefined';
  } else if (typeof value === 'bigint') {
    text = `${value}n`;
  } else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * @param {unknown} value
 * @param {string} what e.g. `issue.title`
 * @returns {string}
 */
export function requireString(value, what) {
  if (typeof value !== 'string') {
    throw new TypeError(`${what} must be a string, not ${show(value)}`);
  }
  return value;
}

/**
 * @param {unknown} value
 * @param {string} what e.g. `issue.score`
 * @returns {number}
 */
export function requireU32(value, what) {
  if (!isU32(value)) {
    throw new TypeError(`${what} must be an integer from 0 to ${U32_MAX}, not ${show(value)}`);
  }
  return /** @type {number} */ (value);
}

// Rust's `str::trim` (Unicode White_Space), not JavaScript's, which also strips U+FEFF and
// keeps U+0085: the SDKs must agree on what counts as blank.
const RUST_WHITESPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const RUST_TRIM = new RegExp(`^[${RUST_WHITESPACE}]+|[${RUST_WHITESPACE}]+$`, 'g');

/**
 * `text` without leading and trailing whitespace, as Rust's `str::trim` sees it.
 * @param {string} text
 * @returns {string}
 */
export function rustTrim(text) {
  return text.replace(RUST_TRIM, '');
}
