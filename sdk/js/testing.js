/**
 * A fake host for `node --test`: configure it like an operator would configure simian
 * (settings, accounts, networks, known items), then run the auditor against it with
 * {@link auditWith}. Host calls behave like the real host's: an ungranted capability throws a
 * `HostError` of kind `denied`, classifications follow the host's rules, and logs are recorded
 * for assertions.
 *
 * ```js
 * import { FakeHost, auditWith } from './.simian/js/testing.js';
 * const host = new FakeHost().setting('score', 5);
 * const [result] = auditWith(rule, [bucket], host);
 * assert.equal(result.issues[0].score, 5);
 * ```
 * @module
 */

import { AccountBook } from './lib/account-book.js';
import { Cidr } from './lib/cidr.js';
import { HostError } from './lib/errors.js';
import { installHost } from './lib/host.js';
import { Item } from './lib/item.js';

/** @typedef {import('./lib/host.js').Level} Level */
/** @typedef {import('./lib/auditor.js').AuditResult} AuditResult */

/** The most items one `items.list` call returns, as in the host. */
const MAX_PAGE = 1000;

/** A copy, so a plugin that changes an item it was given cannot change the host's. */
const copy = (/** @type {Item} */ item) => Item.fromRecord(item.toRecord());

/**
 * A configurable fake host. Configuration methods return the host, for chaining.
 */
export class FakeHost {
  /** No settings, no accounts; logs, settings, accounts and items granted. */
  constructor() {
    /** @private @type {Map<string, unknown>} */
    this.settings = new Map();
    /** @private @type {import('./lib/account-book.js').Account[]} */
    this.accounts = [];
    /** @private @type {[string, string][]} canonical id, account id */
    this.canonicalIds = [];
    /** @private @type {import('./lib/account-book.js').Network[]} */
    this.networks = [];
    /** @private @type {Item[]} */
    this.items = [];
    /** @private */
    this.accountsDenied = false;
    /** @private */
    this.itemsDenied = false;
    /** @private @type {{level: Level, message: string}[]} */
    this.logged = [];
  }

  /**
   * A plugin setting, as the operator would write it in `[plugin.<id>.settings]`.
   * @param {string} key
   * @param {unknown} value any JSON value
   */
  setting(key, value) {
    this.settings.set(key, value);
    return this;
  }

  /**
   * An account the operator configured; `thirdParty` marks a vendor account.
   * @param {string} id
   * @param {string} name
   * @param {boolean} [thirdParty]
   */
  account(id, name, thirdParty = false) {
    this.accounts.push({ id, name, thirdParty });
    return this;
  }

  /**
   * The S3 canonical user id of a configured account.
   * @param {string} accountId
   * @param {string} canonicalId
   */
  canonicalId(accountId, canonicalId) {
    this.canonicalIds.push([canonicalId, accountId]);
    return this;
  }

  /**
   * A network of ours: CIDRs inside it classify as `same`, named `name`.
   * @param {string} name
   * @param {string} cidr throws if it is not a CIDR (a broken fixture, not plugin behaviour)
   */
  network(name, cidr) {
    return this.addNetwork(name, cidr, undefined);
  }

  /**
   * A network belonging to a configured account: CIDRs inside it classify as that account.
   * @param {string} name
   * @param {string} cidr
   * @param {string} accountId
   */
  accountNetwork(name, cidr, accountId) {
    return this.addNetwork(name, cidr, accountId);
  }

  /**
   * @private
   * @param {string} name
   * @param {string} cidr
   * @param {string | undefined} account
   */
  addNetwork(name, cidr, account) {
    let parsed;
    try {
      parsed = Cidr.parse(cidr);
    } catch (e) {
      throw new Error(`FakeHost.network(${name}): ${/** @type {Error} */ (e).message}`);
    }
    this.networks.push({ name, cidr: parsed, account });
    return this;
  }

  /**
   * An item the `items` service can return; buckets, VPCs, endpoints and IAM principals also
   * place account-less ARNs, as the host's store does.
   * @param {Item} item
   */
  item(item) {
    if (!(item instanceof Item)) {
      throw new TypeError('FakeHost.item needs an Item');
    }
    this.items.push(copy(item));
    return this;
  }

  /** Withhold the `accounts` grant. */
  denyAccounts() {
    this.accountsDenied = true;
    return this;
  }

  /** Withhold the `items` grant. */
  denyItems() {
    this.itemsDenied = true;
    return this;
  }

  /**
   * Everything logged so far, in order.
   * @returns {{level: Level, message: string}[]}
   */
  logs() {
    return this.logged.map((entry) => ({ ...entry }));
  }

  /**
   * Make this the host for plugin calls until the returned function is called.
   * @returns {() => void}
   */
  install() {
    return installHost(this.asHost());
  }

  /**
   * Call `fn` with this host installed.
   * @template T
   * @param {() => T} fn
   * @returns {T}
   */
  run(fn) {
    const uninstall = this.install();
    try {
      return fn();
    } finally {
      uninstall();
    }
  }

  /**
   * The host interface the SDK calls, over this configuration.
   * @private
   * @returns {import('./lib/host.js').Host}
   */
  asHost() {
    const book = () => {
      if (this.accountsDenied) {
        throw HostError.denied('the accounts capability is not granted');
      }
      // A canonical id belongs to its account's entry (in simian.toml it is that account's
      // `canonical_id`): one given for an account never configured is ignored, as the host
      // could not have it.
      const accounts = this.accounts.map((a) => ({
        ...a,
        canonicalId: this.canonicalIds.findLast(([, account]) => account === a.id)?.[0],
      }));
      return new AccountBook(accounts, this.networks, this.items);
    };
    /**
     * @param {(book: AccountBook) => import('./lib/host.js').Classification} classify
     */
    const classifyWith = (classify) => {
      const b = book();
      try {
        return classify(b);
      } catch (e) {
        throw HostError.invalid(/** @type {Error} */ (e).message);
      }
    };
    const items = () => {
      if (this.itemsDenied) {
        throw HostError.denied('the items capability is not granted');
      }
      return this.items;
    };
    return {
      log: (level, message) => {
        this.logged.push({ level, message });
      },
      setting: (key) => (this.settings.has(key) ? JSON.stringify(this.settings.get(key)) : undefined),
      settingsAll: () => JSON.stringify(Object.fromEntries([...this.settings].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))),
      classifyAccount: (own, id) => book().classifyAccount(own, id),
      classifyArn: (own, arn) => classifyWith((b) => b.classifyArn(own, arn)),
      classifyCidr: (own, cidr) => classifyWith((b) => b.classifyCidr(own, cidr)),
      classifyCanonicalId: (own, id) => book().classifyCanonicalId(own, id),
      itemByArn: (arn) => {
        const found = items().find((i) => i.arn === arn);
        return found && copy(found);
      },
      findItem: (accountId, region, resourceType, resourceId) => {
        const found = items().find(
          (i) =>
            i.accountId === accountId && i.region === region && i.resourceType === resourceType && i.resourceId === resourceId,
        );
        return found && copy(found);
      },
      listItems: (resourceType, accountId, offset, limit) =>
        items()
          .filter((i) => i.resourceType === resourceType && (accountId === undefined || i.accountId === accountId))
          .slice(offset, offset + Math.min(limit, MAX_PAGE))
          .map(copy),
    };
  }
}

/**
 * Run an auditor the way a component would: `setup` once, then one batch, with `host`
 * installed. If `setup` fails, every item gets that error.
 * @param {import('./lib/auditor.js').Auditor<any>} auditor the rule module's default export
 * @param {Item[]} items
 * @param {FakeHost} [host]
 * @returns {AuditResult[]}
 */
export function auditWith(auditor, items, host = new FakeHost()) {
  return host.run(() => auditor.run(auditor.start(), items));
}

export { installHost };
