import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSpan, parseDuration } from './duration.js';

test('durations parse with s, m, h, d and w units', () => {
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('15m'), 900_000);
  assert.equal(parseDuration('24h'), 86_400_000);
  assert.equal(parseDuration('30d'), 2_592_000_000);
  assert.equal(parseDuration('2w'), 1_209_600_000);
  assert.equal(parseDuration('0'), 0);
  for (const bad of ['', '30', '1.5h', '-1h', '1y', 'h', '10 d', '1e3s', '9999999999d']) assert.equal(parseDuration(bad), null, bad);
});

test('spans read naturally', () => {
  assert.equal(formatSpan(180_000), '3 min');
  assert.equal(formatSpan(-180_000), '3 min');
  assert.equal(formatSpan(7_500_000), '2 h 5 min');
  assert.equal(formatSpan(90_000_000), '1 d 1 h');
  assert.equal(formatSpan(500), '500 ms');
});
