import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../lib/errors.js';
import { readMessageListQuery } from './messages.routes.js';

function validationError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof AppError && error.code === 'VALIDATION_FAILED' && pattern.test(error.message);
}

describe('readMessageListQuery', () => {
  test('multi-value filters accept `key`, `key[]`, and repeats of either', () => {
    const { filter } = readMessageListQuery({ recipient_id: 'a', 'recipient_id[]': ['b', 'c'], 'status[]': 'seen', category: ['x', 'y'] });
    assert.deepEqual(filter.recipientIds, ['a', 'b', 'c']);
    assert.deepEqual(filter.statuses, ['seen']);
    assert.deepEqual(filter.categories, ['x', 'y']);
  });

  test('defaults and limits', () => {
    assert.equal(readMessageListQuery({}).limit, 20);
    assert.equal(readMessageListQuery({ limit: '5000' }).limit, 1000);
    assert.throws(() => readMessageListQuery({ limit: '0' }), validationError(/limit/));
    assert.throws(() => readMessageListQuery({ limit: ['1', '2'] }), validationError(/limit must be given once/));
  });

  test('workflow and workflow_slug are one filter', () => {
    assert.equal(readMessageListQuery({ workflow: 'w' }).filter.workflowSlug, 'w');
    assert.equal(readMessageListQuery({ workflow_slug: 'w' }).filter.workflowSlug, 'w');
    assert.throws(() => readMessageListQuery({ workflow: 'a', workflow_slug: 'b' }), validationError(/one of them/));
  });

  test('created_at bounds are RFC 3339 times', () => {
    const { filter } = readMessageListQuery({ created_at_gte: '2026-04-26T21:34:33Z' });
    assert.equal(filter.createdFrom, Date.parse('2026-04-26T21:34:33Z'));
    assert.throws(() => readMessageListQuery({ created_at_lte: 'soon' }), validationError(/created_at_lte/));
  });

  test('filters Herald cannot apply are refused rather than silently ignored', () => {
    assert.throws(() => readMessageListQuery({ is_campaign: 'true' }), validationError(/"is_campaign"/));
    assert.throws(() => readMessageListQuery({ colour: 'red' }), validationError(/unknown query parameter "colour"/));
  });
});
