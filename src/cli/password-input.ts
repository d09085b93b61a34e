import { readFileSync } from 'node:fs';
import { UsageError } from './output.js';

/** Reads one line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || ch === '\u0004') return finish(new UsageError('cancelled; nothing was changed'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * The password for `admin create` / `admin set-password`: all of standard input with
 * --password-stdin (one trailing newline dropped, so `echo` and here-strings work), else a hidden
 * prompt, asked twice, when standard input is a terminal. There is never a default password.
 */
export async function readNewPassword(isFromStdin: boolean): Promise<string> {
  if (isFromStdin) {
    let text: string;
    try {
      text = readFileSync(0, 'utf8');
    } catch (error) {
      throw new UsageError(
        `cannot read the password from standard input: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    const password = text.replace(/\r?\n$/, '');
    if (password === '') throw new UsageError('--password-stdin read an empty password');
    return password;
  }
  if (!process.stdin.isTTY) {
    throw new UsageError('pass the password on standard input with --password-stdin (or run the command in a terminal to be asked)');
  }
  const first = await promptHidden('Password: ');
  const second = await promptHidden('Repeat the password: ');
  if (first !== second) throw new UsageError('the two passwords differ; nothing was changed');
  return first;
}
