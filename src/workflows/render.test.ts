import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderText, TemplateError } from './render.js';

test('templates render data, and the log helper that printed it to stdout is gone', (t) => {
  assert.equal(renderText('Hi {{data.name}}', { data: { name: 'Ada' } }), 'Hi Ada');
  const written: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  };
  t.mock.method(process.stdout, 'write', capture);
  t.mock.method(console, 'log', (...args: unknown[]) => written.push(args.join(' ')));
  t.mock.method(console, 'info', (...args: unknown[]) => written.push(args.join(' ')));
  assert.throws(() => renderText('{{log data.secret level="error"}}', { data: { secret: 'hws_leak' } }), TemplateError);
  assert.throws(() => renderText('{{log data.secret}}', { data: { secret: 'hws_leak' } }), TemplateError);
  assert.deepEqual(
    written.filter((line) => line.includes('hws_leak')),
    [],
  );
});
