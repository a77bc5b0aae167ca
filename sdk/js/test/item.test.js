import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Item } from '../simian-sdk.js';

test('an envelope with an object configuration', () => {
  const item = Item.fromEnvelope(
    JSON.stringify({
      resourceType: 'AWS::EC2::SecurityGroup',
      resourceId: 'sg-1',
      resourceName: 'web',
      ARN: 'arn:aws:ec2:us-east-1:111111111111:security-group/sg-1',
      accountId: '111111111111',
      awsRegion: 'us-east-1',
      configurationItemCaptureTime: '2024-01-01T00:00:00Z',
      configuration: { groupId: 'sg-1' },
      tags: { owner: 'alice' },
    }),
  );
  assert.equal(item.arn, 'arn:aws:ec2:us-east-1:111111111111:security-group/sg-1');
  assert.equal(item.region, 'us-east-1');
  assert.equal(item.supplementaryText, '{}');
  assert.equal(item.tag('owner'), 'alice');
  assert.equal(item.tag('Owner'), undefined);
  assert.equal(item.configuration().groupId, 'sg-1');
});

test('an envelope with a string configuration and a tag list', () => {
  const item = Item.fromEnvelope({
    resourceType: 'AWS::S3::Bucket',
    resourceId: 'b',
    awsAccountId: '111111111111',
    configuration: '{"name":"b"}',
    supplementaryConfiguration: { BucketPolicy: { policyText: null } },
    tags: [{ key: 'env', value: 'prod' }, { Key: 'team', Value: 'a' }],
  });
  assert.equal(item.accountId, '111111111111');
  assert.equal(item.configurationText, '{"name":"b"}');
  assert.equal(item.tag('env'), 'prod');
  assert.equal(item.tag('team'), 'a');
  assert.deepEqual(item.supplementary(), { BucketPolicy: { policyText: null } });
});

test('tags from an object come sorted by key, as the host reads them', () => {
  const item = Item.fromEnvelope({ resourceType: 'T', resourceId: 'i', accountId: '1', configuration: {}, tags: { b: '2', a: '1', B: '3' } });
  assert.deepEqual(item.tags.map((t) => t.key), ['B', 'a', 'b']);
});

test('envelope errors name the field', () => {
  assert.throws(
    () => Item.fromEnvelope({ resourceType: 'T', accountId: '1', configuration: {} }),
    /field `resourceId` is required/,
  );
  assert.throws(
    () => Item.fromEnvelope({ resourceType: 'T', resourceId: 'i', accountId: '1', configuration: '{not json' }),
    /field `configuration` is a string but not JSON/,
  );
  assert.throws(() => Item.fromEnvelope({ resourceType: 'T', resourceId: 'i', accountId: '1' }), /`configuration` is required/);
  assert.throws(
    () => Item.fromEnvelope({ resourceType: 'T', resourceId: 'i', accountId: '1', configuration: {}, tags: { a: 1 } }),
    /field `tags.a` must be a string/,
  );
  assert.throws(
    () => Item.fromEnvelope({ resourceType: 'T', resourceId: 'i', accountId: '1', configuration: {}, tags: [{ key: 'a' }] }),
    /field `tags\[0\]` needs a string key and value/,
  );
  assert.throws(() => Item.fromEnvelope('[1]'), /an item must be a JSON object/);
  assert.throws(() => Item.fromEnvelope('{'), /item envelope is not JSON/);
});

test('configuration errors name the item, from the JSON or from the view', () => {
  const item = new Item('AWS::X::Y', 'x-1').withConfigurationText('{"port": "no"}');
  assert.throws(
    () =>
      item.configuration((value) => {
        if (typeof value.port !== 'number') throw new TypeError('port must be a number');
        return value;
      }),
    { message: 'configuration of AWS::X::Y x-1: port must be a number' },
  );
  const truncated = new Item('AWS::X::Y', 'x-2').withConfigurationText('{"a": [');
  assert.throws(() => truncated.configuration(), /^Error: configuration of AWS::X::Y x-2: /);
  const blank = new Item('AWS::X::Y', 'x-1');
  blank.supplementaryText = ' \n';
  assert.deepEqual(blank.supplementary(), {});
});

test('records round-trip, and copies share nothing', () => {
  const item = new Item('AWS::S3::Bucket', 'b')
    .withName('b')
    .withArn('arn:aws:s3:::b')
    .withAccount('111111111111')
    .withRegion('us-east-1')
    .withCaptureTime('2024-01-01T00:00:00Z')
    .withConfiguration({ name: 'b' })
    .withSupplementary({ x: 1 })
    .withTag('owner', 'a');
  const record = item.toRecord();
  assert.deepEqual(record, {
    resourceType: 'AWS::S3::Bucket',
    resourceId: 'b',
    resourceName: 'b',
    arn: 'arn:aws:s3:::b',
    accountId: '111111111111',
    region: 'us-east-1',
    captureTime: '2024-01-01T00:00:00Z',
    configuration: '{"name":"b"}',
    supplementaryConfiguration: '{"x":1}',
    tags: [{ key: 'owner', value: 'a' }],
  });
  const back = Item.fromRecord(record);
  record.tags[0].value = 'changed';
  assert.equal(back.tag('owner'), 'a');
  assert.deepEqual(back.toRecord().tags, [{ key: 'owner', value: 'a' }]);
  assert.throws(() => new Item(/** @type {any} */ (undefined), 'x'), /resourceType must be a string/);
});
