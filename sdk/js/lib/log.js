/**
 * Logging into the host's structured log, tagged with the plugin id. Always available.
 * @module
 */

import { host } from './host.js';

/** @typedef {import('./host.js').Level} Level */

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error']);

/**
 * @param {Level} level
 * @param {string} message
 */
export function log(level, message) {
  if (!LEVELS.has(level)) {
    throw new TypeError(`unknown log level ${JSON.stringify(level)}`);
  }
  host().log(level, String(message));
}

/** @param {string} message */
export const trace = (message) => log('trace', message);
/** @param {string} message */
export const debug = (message) => log('debug', message);
/** @param {string} message */
export const info = (message) => log('info', message);
/** @param {string} message */
export const warn = (message) => log('warn', message);
/** @param {string} message */
export const error = (message) => log('error', message);
