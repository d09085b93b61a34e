import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRequestOrigin, isUnsafeMethod, sessionCookieName } from './admin-session.js';

const check = (origin: string | undefined, secFetchSite: string | undefined, host: string | undefined, expected?: string) =>
  checkRequestOrigin({ origin, secFetchSite, host }, expected).ok;

test('origin check without HERALD_PUBLIC_URL: the Origin host must be the Host header', () => {
  assert.equal(check('http://herald.local:8787', undefined, 'herald.local:8787'), true);
  assert.equal(check('http://localhost', undefined, 'localhost:80'), true, 'a default port written out compares equal');
  assert.equal(check('https://herald.local', undefined, 'herald.local:443'), true);
  assert.equal(check('https://evil.example', undefined, 'herald.local'), false);
  assert.equal(check('http://herald.local.evil.example', undefined, 'herald.local'), false);
  assert.equal(check('null', undefined, 'herald.local'), false);
  assert.equal(check('not a url', undefined, 'herald.local'), false);
  assert.equal(check(undefined, undefined, 'herald.local'), true, 'non-browser clients send no Origin');
});

test('origin check with HERALD_PUBLIC_URL: exact origin, scheme included', () => {
  const expected = 'https://herald.example.com';
  assert.equal(check('https://herald.example.com', undefined, 'internal:8787', expected), true);
  assert.equal(check('http://herald.example.com', undefined, 'herald.example.com', expected), false);
  assert.equal(check('https://herald.example.com:8443', undefined, 'herald.example.com', expected), false);
});

test('Sec-Fetch-Site: same-origin and none pass, same-site and cross-site do not', () => {
  assert.equal(check(undefined, 'same-origin', 'h'), true);
  assert.equal(check(undefined, 'none', 'h'), true);
  assert.equal(check(undefined, 'same-site', 'h'), false);
  assert.equal(check(undefined, 'cross-site', 'h'), false);
  assert.equal(check('http://h', 'cross-site', 'h'), false, 'either signal refuses');
});

test('unsafe methods and cookie names', () => {
  for (const method of ['POST', 'put', 'PATCH', 'DELETE']) assert.equal(isUnsafeMethod(method), true);
  for (const method of ['GET', 'HEAD', 'OPTIONS']) assert.equal(isUnsafeMethod(method), false);
  assert.equal(sessionCookieName(true), '__Host-herald_session');
  assert.equal(sessionCookieName(false), 'herald_session');
});
