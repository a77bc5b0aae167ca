/**
 * The plugin's own settings from the operator's configuration (`[plugin.<id>.settings]`).
 * Always available.
 *
 * Settings are operator input: pass the type you expect and a wrong value becomes an error
 * naming the key, rather than a surprise deep inside a rule.
 * @module
 */

import { withContext } from './errors.js';
import { host } from './host.js';
import { isU32, show } from './values.js';

/**
 * @typedef {'string' | 'boolean' | 'number' | 'integer' | 'u32' | 'array' | 'object'} SettingType
 */

/** @type {Record<SettingType, [(value: unknown) => boolean, string]>} */
const TYPES = {
  string: [(v) => typeof v === 'string', 'a string'],
  boolean: [(v) => typeof v === 'boolean', 'a boolean'],
  number: [(v) => typeof v === 'number', 'a number'],
  integer: [(v) => Number.isSafeInteger(v), 'an integer'],
  u32: [isU32, 'an integer from 0 to 4294967295'],
  array: [(v) => Array.isArray(v), 'an array'],
  object: [(v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'an object'],
};

/**
 * The setting `key` as a JSON value, or `undefined` if the operator did not set it. With
 * `type`, any other value throws.
 * @param {string} key
 * @param {SettingType} [type]
 * @returns {any}
 */
export function get(key, type) {
  const text = host().setting(key);
  if (text === undefined) {
    return undefined;
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw withContext(e, `setting \`${key}\``);
  }
  if (type !== undefined) {
    const known = TYPES[type];
    if (!known) {
      throw new TypeError(`unknown setting type ${JSON.stringify(type)}`);
    }
    const [accepts, spelled] = known;
    if (!accepts(value)) {
      throw new Error(`setting \`${key}\` must be ${spelled}, not ${show(value)}`);
    }
  }
  return value;
}

/**
 * The setting `key`, or `fallback` when unset.
 * @template T
 * @param {string} key
 * @param {T} fallback
 * @param {SettingType} [type]
 * @returns {T}
 */
export function getOr(key, fallback, type) {
  const value = get(key, type);
  return value === undefined ? fallback : value;
}

/**
 * The setting `key`, which must be a string when set (`null` reads as unset).
 * @param {string} key
 * @returns {string | undefined}
 */
export function getStr(key) {
  const value = get(key);
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new Error(`setting \`${key}\` must be a string, not ${show(value)}`);
  }
  return value;
}

/**
 * Every setting as one object.
 * @returns {Record<string, any>}
 */
export function all() {
  try {
    return JSON.parse(host().settingsAll());
  } catch (e) {
    throw withContext(e, 'settings');
  }
}
