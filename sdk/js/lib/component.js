/**
 * The component side: the contract's imports as a {@link Host}, and an auditor as the
 * `auditor` world's exports. The build's entry module calls this through
 * `auditor.componentExports(...)`, so the wiring comes from the same copy of the SDK the rule
 * imported, wherever that lives.
 *
 * Shapes follow the componentize-js 0.23 bindings: records with camelCase fields, `option` as
 * `undefined`, a `result` in a list as `{tag: 'ok' | 'err', val}`, and an imported function
 * returning `result` throws its error value as the `payload` of an exception.
 * @module
 */

import { HostError } from './errors.js';
import { installHost } from './host.js';
import { Item } from './item.js';

/**
 * The contract's interfaces as the entry module imports them
 * (`import * as log from 'simian:plugin/log@0.1.0'`, ...).
 * @typedef {object} Imports
 * @property {{log: (level: string, message: string) => void}} log
 * @property {{get: (key: string) => string | undefined, all: () => string}} settings
 * @property {Record<'classifyAccount' | 'classifyArn' | 'classifyCidr' | 'classifyCanonicalId',
 *   (own: string, subject: string) => import('./host.js').Classification>} accounts
 * @property {{getByArn: (arn: string) => import('./item.js').ItemRecord | undefined,
 *   get: (accountId: string, region: string, resourceType: string, resourceId: string) => import('./item.js').ItemRecord | undefined,
 *   list: (resourceType: string, accountId: string | undefined, offset: number, limit: number) => import('./item.js').ItemRecord[]}} items
 */

/**
 * @param {Imports} imports
 * @returns {import('./host.js').Host}
 */
export function componentHost({ log, settings, accounts, items }) {
  /** @param {import('./item.js').ItemRecord | undefined} record */
  const item = (record) => (record === undefined ? undefined : Item.fromRecord(record));
  return {
    log: (level, message) => log.log(level, message),
    setting: (key) => settings.get(key),
    settingsAll: () => settings.all(),
    classifyAccount: (own, id) => hostCall(() => accounts.classifyAccount(own, id)),
    classifyArn: (own, arn) => hostCall(() => accounts.classifyArn(own, arn)),
    classifyCidr: (own, cidr) => hostCall(() => accounts.classifyCidr(own, cidr)),
    classifyCanonicalId: (own, id) => hostCall(() => accounts.classifyCanonicalId(own, id)),
    itemByArn: (arn) => item(hostCall(() => items.getByArn(arn))),
    findItem: (account, region, type, id) => item(hostCall(() => items.get(account, region, type, id))),
    listItems: (type, account, offset, limit) =>
      hostCall(() => items.list(type, account, offset, limit)).map((record) => Item.fromRecord(record)),
  };
}

/**
 * Call an import returning `result<_, host-error>`: its error arrives as an exception
 * carrying the `host-error` variant as `payload`; it leaves as a {@link HostError}.
 * @template T
 * @param {() => T} call
 * @returns {T}
 */
export function hostCall(call) {
  try {
    return call();
  } catch (e) {
    const payload = e !== null && typeof e === 'object' && 'payload' in e ? /** @type {any} */ (e).payload : undefined;
    if (payload !== null && typeof payload === 'object' && typeof payload.tag === 'string') {
      throw new HostError(payload.tag, payload.val ?? '');
    }
    throw e;
  }
}

/**
 * The `auditor` world's exports for `auditor`, with host calls going to `imports`. The
 * instance (`setup`) starts on the first batch and serves every later one, like a Rust
 * plugin's `new()`.
 * @param {import('./auditor.js').Auditor<any>} auditor
 * @param {Imports} imports
 */
export function componentExports(auditor, imports) {
  const host = componentHost(imports);
  /** @type {ReturnType<typeof auditor.start> | undefined} */
  let instance;
  return {
    describe: () => auditor.describe(),
    /** @param {import('./item.js').ItemRecord[]} records */
    audit(records) {
      const restore = installHost(host);
      try {
        instance ??= auditor.start();
        return auditor
          .run(instance, records.map((record) => Item.fromRecord(record)))
          .map((result) => (result.ok ? { tag: 'ok', val: result.issues } : { tag: 'err', val: result.error }));
      } finally {
        restore();
      }
    },
  };
}
