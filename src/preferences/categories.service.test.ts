import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../lib/errors.js';
import { parseCategoryInputs } from './categories.service.js';

function problemsOf(content: unknown): string {
  try {
    parseCategoryInputs(content);
  } catch (error) {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, 'VALIDATION_FAILED');
    return error.message;
  }
  assert.fail('expected a validation error');
}

describe('category file validation', () => {
  test('one object or a list; optional fields normalised; default_preference defaults to opt_in', () => {
    assert.deepEqual(parseCategoryInputs({ slug: 'billing', name: ' Billing ' }), [
      { slug: 'billing', name: 'Billing', section: null, description: null, default_preference: 'opt_in' },
    ]);
    assert.deepEqual(
      parseCategoryInputs([
        { slug: 'a', name: 'A', section: 'S', description: 'd', default_preference: 'cant_unsubscribe' },
        { slug: 'b.c_d-e', name: 'B', section: null, default_preference: 'opt_out' },
      ]).map((c) => [c.slug, c.section, c.default_preference]),
      [
        ['a', 'S', 'cant_unsubscribe'],
        ['b.c_d-e', null, 'opt_out'],
      ],
    );
  });

  test('every problem is reported at once, with the item it belongs to', () => {
    const message = problemsOf([
      { slug: 'ok', name: 'Fine' },
      { slug: 'Bad Slug', name: 'x' },
      { slug: 'promo', name: '', default_preference: 'optin' },
      { slug: 'ok', name: 'Again' },
      { slug: 'typo', name: 'T', default_preferences: 'opt_out' },
      'not an object',
    ]);
    assert.match(message, /nothing was applied/);
    assert.match(message, /category\[1\] "Bad Slug": slug must be/);
    assert.match(message, /category\[2\] "promo": name must be a non-empty string/);
    assert.match(message, /category\[2\] "promo": default_preference must be one of opt_in, opt_out, cant_unsubscribe \(got "optin"\)/);
    assert.match(message, /category\[3\] "ok": slug "ok" is also used by category\[0\]/);
    assert.match(message, /category\[4\] "typo": unknown field "default_preferences"/);
    assert.match(message, /category\[5\]: must be an object/);
  });

  test('empty lists and empty optional strings are refused', () => {
    assert.match(problemsOf([]), /no categories given/);
    assert.match(problemsOf({ slug: 's', name: 'n', section: '  ' }), /section must be a non-empty string/);
  });
});
