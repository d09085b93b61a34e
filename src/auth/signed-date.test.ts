import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSignedDate } from './signed-date.js';

const at = (iso: string) => Date.parse(iso);

test('RFC 1123, as the backend SDKs and web-sdk 1.x (x-amz-date, toGMTString) send it', () => {
  assert.deepEqual(parseSignedDate('Tue, 05 May 2026 10:00:00 GMT'), { ok: true, at: at('2026-05-05T10:00:00Z'), format: 'rfc1123' });
});

test('ISO-8601 instants (Node messages API, iOS legacy); a zone is required', () => {
  assert.deepEqual(parseSignedDate('2026-12-01T10:00:00.123Z'), { ok: true, at: at('2026-12-01T10:00:00.123Z'), format: 'iso8601' });
  assert.deepEqual(parseSignedDate('2026-12-01T15:30:00+05:30'), { ok: true, at: at('2026-12-01T10:00:00Z'), format: 'iso8601' });
  const local = parseSignedDate('2026-12-01T10:00:00');
  assert.equal(local.ok, false);
  assert.match(local.ok ? '' : local.reason, /needs a zone/);
});

test('java.util.Date.toString() with the zones Android and Java print', () => {
  const cases: Array<[string, string]> = [
    ['Tue Dec 01 10:00:00 IST 2026', '2026-12-01T04:30:00Z'],
    ['Tue Dec 01 10:00:00 PST 2026', '2026-12-01T18:00:00Z'],
    ['Tue Dec 01 10:00:00 GMT 2026', '2026-12-01T10:00:00Z'],
    ['Tue Dec 01 10:00:00 UTC 2026', '2026-12-01T10:00:00Z'],
    ['Tue Dec 01 10:00:00 GMT+05:30 2026', '2026-12-01T04:30:00Z'],
    ['Tue Dec 01 10:00:00 GMT-08:00 2026', '2026-12-01T18:00:00Z'],
    ['Tue Dec 01 10:00:00 GMT+5:30 2026', '2026-12-01T04:30:00Z'],
    ['Wed Jul 01 10:00:00 CEST 2026', '2026-07-01T08:00:00Z'],
  ];
  for (const [text, instant] of cases) {
    const parsed = parseSignedDate(text);
    assert.ok(parsed.ok, `${text}: ${parsed.ok ? '' : parsed.reason}`);
    assert.equal(parsed.at, at(instant), text);
    assert.equal(parsed.format, 'java', text);
  }
  const ist = parseSignedDate('Tue Dec 01 10:00:00 IST 2026');
  assert.match(ist.ok ? (ist.note ?? '') : '', /India Standard Time/);
});

test('ambiguous and unknown zone abbreviations are refused with the reason, never guessed', () => {
  const ambiguous = parseSignedDate('Tue Dec 01 10:00:00 GST 2026');
  assert.equal(ambiguous.ok, false);
  assert.match(ambiguous.ok ? '' : ambiguous.reason, /ambiguous.*Gulf.*South Georgia/);
  const unknown = parseSignedDate('Tue Dec 01 10:00:00 XYZT 2026');
  assert.equal(unknown.ok, false);
  assert.match(unknown.ok ? '' : unknown.reason, /not one Herald knows/);
});

test('malformed Java dates: wrong weekday, out-of-range fields, offsets past 18 hours', () => {
  for (const text of [
    'Mon Dec 01 10:00:00 GMT 2026',
    'Mon Feb 30 10:00:00 GMT 2026',
    'Tue Dec 01 24:00:00 GMT 2026',
    'Tue Dec 01 10:00:61 GMT 2026',
    'Tue Dec 01 10:00:00 GMT+19:00 2026',
    'Tue Foo 01 10:00:00 GMT 2026',
  ]) {
    assert.equal(parseSignedDate(text).ok, false, text);
  }
});

test('empty and garbage dates', () => {
  assert.equal(parseSignedDate('').ok, false);
  assert.equal(parseSignedDate('yesterday').ok, false);
});
