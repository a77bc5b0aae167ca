import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { Cidr } from '../simian-sdk.js';
import { formatAddress, parseAddress } from '../lib/ip.js';

/** @param {string} text */
const cidr = (text) => Cidr.parse(text);

test('canonical form', () => {
  assert.equal(cidr('10.1.2.3/8').toString(), '10.0.0.0/8');
  assert.equal(cidr('10.1.2.3').toString(), '10.1.2.3/32');
  assert.equal(cidr('2001:DB8:0:0::1/32').toString(), '2001:db8::/32');
  assert.equal(cidr('::1').toString(), '::1/128');
  assert.ok(cidr('192.168.1.255/24').equals(cidr('192.168.1.0/24')));
  assert.equal(cidr('172.16.0.0/12').prefixLen, 12);
  assert.equal(`${cidr('fe80::1/10')}`, 'fe80::/10');
  assert.equal(JSON.stringify({ c: cidr('10.0.0.1/8') }), '{"c":"10.0.0.0/8"}');
});

test('open', () => {
  assert.ok(cidr('0.0.0.0/0').isOpen());
  assert.ok(cidr('::/0').isOpen());
  assert.ok(cidr('1.2.3.4/0').isOpen());
  assert.equal(cidr('1.2.3.4/0').toString(), '0.0.0.0/0');
  assert.equal(cidr('2001:db8::1/0').toString(), '::/0');
  assert.ok(!cidr('0.0.0.0/1').isOpen());
  assert.ok(!cidr('10.0.0.0/8').isOpen());
  assert.ok(cidr('::/0').isIpv6() && cidr('0.0.0.0/0').isIpv4());
});

test('containment', () => {
  assert.ok(cidr('10.0.0.0/8').contains(cidr('10.9.1.0/24')));
  assert.ok(cidr('10.0.0.0/8').contains(cidr('10.0.0.0/8')));
  assert.ok(!cidr('10.9.1.0/24').contains(cidr('10.0.0.0/8')));
  assert.ok(!cidr('10.0.0.0/8').contains(cidr('11.0.0.0/24')));
  assert.ok(cidr('0.0.0.0/0').contains(cidr('8.8.8.8')));
  assert.ok(!cidr('0.0.0.0/0').contains(cidr('::/0')));
  assert.ok(cidr('2001:db8::/32').contains(cidr('2001:db8:1::/48')));
  assert.ok(!cidr('0.0.0.0/0').equals(cidr('::/0')));
});

test('malformed', () => {
  for (const bad of [
    '',
    '/8',
    '10.0.0/8',
    '10.0.0.0/',
    '10.0.0.0/33',
    '10.0.0.0/+8',
    '10.0.0.0/-1',
    '10.0.0.0/8/8',
    '10.0.0.0 /8',
    '::/129',
    '::/1000',
    'not-an-ip/8',
    '10.0.0.256/8',
    '1.2.3.4/x',
    '010.0.0.0/8',
  ]) {
    assert.throws(() => Cidr.parse(bad), /is not a CIDR/, bad);
    assert.equal(Cidr.tryParse(bad), undefined);
  }
  assert.throws(() => Cidr.parse('10.0.0.0/33'), { message: '`10.0.0.0/33` is not a CIDR: prefix /33 is longer than /32' });
  assert.throws(() => Cidr.parse('10.0.0.0/256'), { message: '`10.0.0.0/256` is not a CIDR: bad prefix `256`' });
});

test('addresses are read and written exactly as Rust std does', () => {
  const fixture = new URL('./fixtures/ip-rust-std.tsv', import.meta.url);
  const cases = readFileSync(fixture, 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split('\t'));
  assert.ok(cases.length > 250, `${cases.length} cases`);
  let accepted = 0;
  for (const [input, rust] of cases) {
    const address = parseAddress(input);
    const js = address === null ? 'ERR' : formatAddress(address);
    assert.equal(js, rust, JSON.stringify(input));
    if (address !== null) accepted++;
  }
  assert.ok(accepted > 150 && accepted < cases.length, `${accepted} accepted`);
});
