/**
 * The item under audit: one AWS resource in the AWS Config configuration-item envelope.
 * @module
 */

import { withContext } from './errors.js';
import { requireString, rustTrim } from './values.js';

/**
 * @typedef {object} Tag
 * @property {string} key
 * @property {string} value
 */

/**
 * The contract's `item` record, as the component bindings pass it.
 * @typedef {object} ItemRecord
 * @property {string} resourceType
 * @property {string} resourceId
 * @property {string} resourceName
 * @property {string} arn
 * @property {string} accountId
 * @property {string} region
 * @property {string} captureTime
 * @property {string} configuration JSON text
 * @property {string} supplementaryConfiguration JSON object text
 * @property {Tag[]} tags
 */

/**
 * One AWS resource as the host hands it to a plugin. Field names are the contract's
 * (`resource-type` reads `resourceType`).
 *
 * The configuration stays JSON text (`configurationText`): an auditor parses it when it
 * needs it, through {@link Item#configuration}, whose error names the item.
 */
export class Item {
  /**
   * A minimal item with an empty configuration; fill it in with the `with*` methods.
   * @param {string} resourceType e.g. `AWS::EC2::SecurityGroup`
   * @param {string} resourceId
   */
  constructor(resourceType, resourceId) {
    /** @type {string} */
    this.resourceType = requireString(resourceType, 'resourceType');
    /** @type {string} */
    this.resourceId = requireString(resourceId, 'resourceId');
    this.resourceName = '';
    this.arn = '';
    this.accountId = '';
    /** An AWS region, or `global` for IAM. */
    this.region = '';
    /** RFC 3339 time the configuration was captured. */
    this.captureTime = '';
    /** JSON text shaped like AWS Config's `configuration`: read it with `configuration()`. */
    this.configurationText = '{}';
    /** JSON object text (`{}` when none): read it with `supplementary()`. */
    this.supplementaryText = '{}';
    /** @type {Tag[]} In the order AWS reported them. */
    this.tags = [];
  }

  /**
   * The item from the contract's record.
   * @param {ItemRecord} record
   * @returns {Item}
   */
  static fromRecord(record) {
    const item = new Item(record.resourceType, record.resourceId);
    item.resourceName = record.resourceName;
    item.arn = record.arn;
    item.accountId = record.accountId;
    item.region = record.region;
    item.captureTime = record.captureTime;
    item.configurationText = record.configuration;
    item.supplementaryText = record.supplementaryConfiguration;
    item.tags = record.tags.map(({ key, value }) => ({ key, value }));
    return item;
  }

  /**
   * The contract's record for this item.
   * @returns {ItemRecord}
   */
  toRecord() {
    return {
      resourceType: this.resourceType,
      resourceId: this.resourceId,
      resourceName: this.resourceName,
      arn: this.arn,
      accountId: this.accountId,
      region: this.region,
      captureTime: this.captureTime,
      configuration: this.configurationText,
      supplementaryConfiguration: this.supplementaryText,
      tags: this.tags.map(({ key, value }) => ({ key, value })),
    };
  }

  /** @param {string} name */
  withName(name) {
    this.resourceName = requireString(name, 'resourceName');
    return this;
  }

  /** @param {string} arn */
  withArn(arn) {
    this.arn = requireString(arn, 'arn');
    return this;
  }

  /** @param {string} accountId */
  withAccount(accountId) {
    this.accountId = requireString(accountId, 'accountId');
    return this;
  }

  /** @param {string} region */
  withRegion(region) {
    this.region = requireString(region, 'region');
    return this;
  }

  /** @param {string} captureTime */
  withCaptureTime(captureTime) {
    this.captureTime = requireString(captureTime, 'captureTime');
    return this;
  }

  /**
   * @param {unknown} configuration any JSON value; stored as its JSON text
   */
  withConfiguration(configuration) {
    this.configurationText = JSON.stringify(configuration);
    return this;
  }

  /**
   * Raw text, kept as given, so tests can feed malformed configurations.
   * @param {string} text
   */
  withConfigurationText(text) {
    this.configurationText = requireString(text, 'configuration');
    return this;
  }

  /** @param {Record<string, unknown>} supplementary */
  withSupplementary(supplementary) {
    this.supplementaryText = JSON.stringify(supplementary);
    return this;
  }

  /**
   * @param {string} key
   * @param {string} value
   */
  withTag(key, value) {
    this.tags.push({ key: requireString(key, 'tag key'), value: requireString(value, 'tag value') });
    return this;
  }

  /**
   * The configuration parsed, then handed to `view` (e.g. `SecurityGroup.from`) when given.
   * Any error, from the JSON or from the view, names the item:
   * `configuration of AWS::EC2::SecurityGroup sg-1: ...`.
   * @template [T=any]
   * @param {(value: any) => T} [view]
   * @returns {T}
   */
  configuration(view) {
    return parseWith(this.configurationText, view, `configuration of ${this.label()}`);
  }

  /**
   * The supplementary configuration, parsed like {@link Item#configuration}; an empty text
   * reads as `{}`.
   * @template [T=any]
   * @param {(value: any) => T} [view]
   * @returns {T}
   */
  supplementary(view) {
    const text = rustTrim(this.supplementaryText) === '' ? '{}' : this.supplementaryText;
    return parseWith(text, view, `supplementary configuration of ${this.label()}`);
  }

  /**
   * The value of the first tag named `key` (AWS tag keys are case-sensitive).
   * @param {string} key
   * @returns {string | undefined}
   */
  tag(key) {
    return this.tags.find((tag) => tag.key === key)?.value;
  }

  /** `AWS::EC2::SecurityGroup sg-123`, for error messages. */
  label() {
    return `${this.resourceType} ${this.resourceId}`;
  }

  /**
   * Read one AWS Config configuration-item envelope (as AWS Config exports it, or written by
   * hand for tests), as the host reads it: `configuration` may be an object or JSON text,
   * `tags` an object or a list of `{key, value}`. The error names the field.
   * @param {string | Record<string, unknown>} envelope JSON text or a parsed object
   * @returns {Item}
   */
  static fromEnvelope(envelope) {
    let value = envelope;
    if (typeof envelope === 'string') {
      try {
        value = JSON.parse(envelope);
      } catch (e) {
        throw withContext(e, 'item envelope is not JSON');
      }
    }
    return readEnvelope(value);
  }
}

/**
 * @param {string} text
 * @param {((value: any) => any) | undefined} view
 * @param {string} context
 */
function parseWith(text, view, context) {
  try {
    const value = JSON.parse(text);
    return view ? view(value) : value;
  } catch (e) {
    throw withContext(e, context);
  }
}

/** An envelope field that is missing or malformed. */
class FieldError extends Error {
  /**
   * @param {string} field
   * @param {string} message
   */
  constructor(field, message) {
    super(`field \`${field}\` ${message}`);
    this.field = field;
  }
}

/**
 * @param {unknown} value
 * @returns {Item}
 */
function readEnvelope(value) {
  if (!isObject(value)) {
    throw new FieldError('<item>', 'an item must be a JSON object');
  }
  const obj = /** @type {Record<string, unknown>} */ (value);
  /**
   * @param {string[]} names accepted spellings, first preferred
   * @param {boolean} required
   */
  const text = (names, required) => {
    for (const name of names) {
      const v = obj[name];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string') throw new FieldError(name, 'must be a string');
      return v;
    }
    if (required) throw new FieldError(names[0], 'is required');
    return '';
  };
  let configuration;
  const config = obj.configuration;
  if (config === undefined || config === null) {
    throw new FieldError('configuration', 'is required');
  } else if (typeof config === 'string') {
    // AWS Config's API returns the configuration as a JSON string.
    try {
      JSON.parse(config);
    } catch (e) {
      throw new FieldError('configuration', `is a string but not JSON: ${/** @type {Error} */ (e).message}`);
    }
    configuration = config;
  } else {
    configuration = JSON.stringify(config);
  }
  const supplementary = obj.supplementaryConfiguration;
  let supplementaryConfiguration = '{}';
  if (isObject(supplementary)) {
    supplementaryConfiguration = JSON.stringify(supplementary);
  } else if (supplementary !== undefined && supplementary !== null) {
    throw new FieldError('supplementaryConfiguration', 'must be an object');
  }
  const item = new Item(text(['resourceType'], true), text(['resourceId'], true));
  item.resourceName = text(['resourceName'], false);
  item.arn = text(['arn', 'ARN'], false);
  item.accountId = text(['accountId', 'awsAccountId'], true);
  item.region = text(['awsRegion'], false);
  item.captureTime = text(['configurationItemCaptureTime'], false);
  item.configurationText = configuration;
  item.supplementaryText = supplementaryConfiguration;
  item.tags = envelopeTags(obj.tags);
  return item;
}

/**
 * Tags come as an object map from AWS Config, or as EC2's `[{"key": .., "value": ..}]`. An
 * object's tags come out sorted by key, as the host (whose JSON maps are ordered) reads them.
 * @param {unknown} tags
 * @returns {Tag[]}
 */
function envelopeTags(tags) {
  if (tags === undefined || tags === null) return [];
  if (isObject(tags)) {
    return Object.keys(tags)
      .sort(byCodePoint)
      .map((key) => {
        const value = tags[key];
        if (typeof value !== 'string') throw new FieldError(`tags.${key}`, 'must be a string');
        return { key, value };
      });
  }
  if (Array.isArray(tags)) {
    return tags.map((tag, i) => {
      /** @param {string} a @param {string} b */
      const get = (a, b) => {
        if (!isObject(tag)) return undefined;
        const v = a in tag ? tag[a] : tag[b];
        return typeof v === 'string' ? v : undefined;
      };
      const key = get('key', 'Key');
      const value = get('value', 'Value');
      if (key === undefined || value === undefined) {
        throw new FieldError(`tags[${i}]`, 'needs a string key and value');
      }
      return { key, value };
    });
  }
  throw new FieldError('tags', 'must be an object');
}

/**
 * Code point order, which is UTF-8 byte order: how the host sorts map keys.
 * @param {string} a
 * @param {string} b
 */
function byCodePoint(a, b) {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = /** @type {number} */ (x[i].codePointAt(0)) - /** @type {number} */ (y[i].codePointAt(0));
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, any>}
 */
function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
