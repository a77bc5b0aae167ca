/**
 * Amazon Resource Names, `arn:partition:service:region:account:resource`, read as the host
 * reads them.
 * @module
 */

/**
 * Exactly twelve ASCII digits.
 * @param {string} text
 */
export function isAccountId(text) {
  return /^[0-9]{12}$/.test(text);
}

export class Arn {
  /**
   * @param {string} text
   * @returns {Arn}
   * @throws {Error} `` `<text>` is not an ARN: ... ``
   */
  static parse(text) {
    /** @param {string} why */
    const invalid = (why) => new Error(`\`${text}\` is not an ARN: ${why}`);
    const fields = text.split(':');
    if (fields.length < 6) {
      throw invalid('expected six `:`-separated fields');
    }
    // The resource keeps its own colons (`function:f:1`).
    const [prefix, partition, service, region, account] = fields;
    const resource = fields.slice(5).join(':');
    if (prefix !== 'arn') {
      throw invalid('it must start with `arn:`');
    }
    if (partition === '' || service === '') {
      throw invalid('partition and service must not be empty');
    }
    if (resource === '') {
      throw invalid('resource must not be empty');
    }
    if (!(account === '' || account === '*' || account === 'aws' || isAccountId(account))) {
      throw invalid('account must be a 12-digit id, `*`, `aws` or empty');
    }
    return new Arn(partition, service, region, account, resource);
  }

  /**
   * @param {string} partition `aws`, `aws-cn`, `aws-us-gov`, ...
   * @param {string} service
   * @param {string} region empty for global services (IAM, S3)
   * @param {string} account a 12-digit id, `*`, `aws` (AWS-managed resources), or empty
   * @param {string} resource everything after the fifth colon
   */
  constructor(partition, service, region, account, resource) {
    this.partition = partition;
    this.service = service;
    this.region = region;
    this.account = account;
    this.resource = resource;
  }

  toString() {
    return `arn:${this.partition}:${this.service}:${this.region}:${this.account}:${this.resource}`;
  }
}
