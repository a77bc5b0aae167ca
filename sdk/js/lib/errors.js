/**
 * The two kinds of failure a plugin sees: a host call that did not succeed ({@link HostError},
 * the contract's `host-error`) and anything else that stops an audit (a plain `Error`).
 * @module
 */

/**
 * @typedef {'denied' | 'invalid' | 'timeout' | 'too-large' | 'failed'} HostErrorKind
 */

const KINDS = new Set(['denied', 'invalid', 'timeout', 'too-large', 'failed']);

/**
 * Why a host call did not succeed. A denial is a value the plugin can handle (catch it and
 * carry on), never a trap. `message` is spelled as the Rust SDK displays it:
 * `denied: <why>`, `timeout`, `too large: <why>`.
 */
export class HostError extends Error {
  /**
   * @param {HostErrorKind} kind
   * @param {string} [detail] what the host said; none for `timeout`
   */
  constructor(kind, detail = '') {
    if (!KINDS.has(kind)) {
      throw new TypeError(`unknown host error kind ${JSON.stringify(kind)}`);
    }
    const label = kind === 'too-large' ? 'too large' : kind;
    super(kind === 'timeout' ? label : `${label}: ${detail}`);
    this.name = 'HostError';
    /** @type {HostErrorKind} */
    this.kind = kind;
    /** @type {string} */
    this.detail = kind === 'timeout' ? '' : detail;
  }

  /** @param {string} why */
  static denied(why) {
    return new HostError('denied', why);
  }

  /** @param {string} why */
  static invalid(why) {
    return new HostError('invalid', why);
  }
}

/**
 * Prefix an error's message with what was being done (`configuration of sg-1: ...`), keeping
 * the original as `cause`.
 * @param {unknown} error
 * @param {string} context
 * @returns {Error}
 */
export function withContext(error, context) {
  return new Error(`${context}: ${errorText(error)}`, { cause: error });
}

/**
 * The text an exception becomes when it is reported to the host as an item's error. A host
 * error reads `host call failed: denied: ...`, as in the Rust SDK.
 * @param {unknown} error
 * @returns {string}
 */
export function errorText(error) {
  if (error instanceof HostError) {
    return `host call failed: ${error.message}`;
  }
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}
