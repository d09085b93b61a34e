import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bodyMd5, parseHmacAuthorization, signRequest, stringToSign } from './hmac.js';

// Worked examples from reference/backend-sdk-protocol.md §2, produced by the real Node SDK's signer.
const SECRET = 'ws_secret_example';
const CONTENT_TYPE = 'application/json; charset=utf-8';
const DATE = 'Tue, 05 May 2026 10:00:00 GMT';

const body = (text: string) => Buffer.from(text, 'utf8');

test('example 1: POST /trigger/ with a JSON body', () => {
  const parts = {
    method: 'POST',
    rawBody: body('{"workflow":"wf-slug","recipients":["user-1"],"data":{}}'),
    contentType: CONTENT_TYPE,
    date: DATE,
    requestTarget: '/trigger/',
  };
  assert.equal(bodyMd5(parts.rawBody), '4ff360d6a566b630bee59c725c86f397');
  assert.equal(stringToSign(parts), `POST\n4ff360d6a566b630bee59c725c86f397\n${CONTENT_TYPE}\n${DATE}\n/trigger/`);
  assert.equal(signRequest(SECRET, parts), 'AHmoqfFiUXQnRVgZAAUVGrPp2NPBMSGoMMUVmxzwcks=');
});

test('example 2: GET with a query and no body signs an empty MD5', () => {
  const parts = { method: 'GET', rawBody: undefined, contentType: CONTENT_TYPE, date: DATE, requestTarget: '/v1/user/?limit=2&after=x+y' };
  assert.equal(stringToSign(parts), `GET\n\n${CONTENT_TYPE}\n${DATE}\n/v1/user/?limit=2&after=x+y`);
  assert.equal(signRequest(SECRET, parts), 'Ts8DEQ8dWW+tqM0N1YTPCMX1SUXV6OyV4UYUkKbESvM=');
});

test('example 3: bodiless DELETE on a percent-encoded path (raw target, not decoded)', () => {
  const parts = { method: 'DELETE', rawBody: Buffer.alloc(0), contentType: CONTENT_TYPE, date: DATE, requestTarget: '/v1/user/a%20b/' };
  assert.equal(signRequest(SECRET, parts), 'CS1HDi1Mg1YdgYgxdpcE7CndSJkLgZ7BKNmoXb2DsaM=');
});

test('example 4: a base-url prefix is part of the signed path', () => {
  const parts = {
    method: 'POST',
    rawBody: body('{"distinct_ids":["u1"]}'),
    contentType: CONTENT_TYPE,
    date: DATE,
    requestTarget: '/prefix/v1/subscriber_list/l1/subscriber/add/',
  };
  assert.equal(bodyMd5(parts.rawBody), 'be345ad8268e7be7a2a44a909e245708');
  assert.equal(signRequest(SECRET, parts), 'sRNQ2CPtgfRqDQ64qXki6NK1VolunaaVDiOvRIv2KW8=');
});

test('a body of {} is hashed; no body is the empty string, not MD5("")', () => {
  assert.equal(bodyMd5(body('{}')), '99914b932bd37a50b983c5e7c90ae93b');
  assert.equal(bodyMd5(undefined), '');
  assert.equal(bodyMd5(Buffer.alloc(0)), '');
});

test('the Authorization header splits on its last colon', () => {
  assert.deepEqual(parseHmacAuthorization('ws_key_0123456789abcdef:AHmo+/='), {
    workspaceKey: 'ws_key_0123456789abcdef',
    signature: 'AHmo+/=',
  });
  assert.deepEqual(parseHmacAuthorization('a:b:c'), { workspaceKey: 'a:b', signature: 'c' });
  assert.equal(parseHmacAuthorization('no-colon'), null);
  assert.equal(parseHmacAuthorization(':sig'), null);
  assert.equal(parseHmacAuthorization('key:'), null);
});
