// Reads one secret line from standard input. On a terminal it is read in raw mode so the
// characters are not echoed; from a pipe (`printf '%s\n' "$pw" | vigil setup ...`) it reads the
// first line, so scripts never put a password on the command line (where `ps` would show it).
import { createInterface } from 'node:readline';
import { createInterface as createPromiseInterface } from 'node:readline/promises';

const MAX_SECRET = 1024;

export async function readSecretLine(prompt: string): Promise<string> {
  const input = process.stdin;
  if (input.isTTY !== true) {
    const rl = createInterface({ input, terminal: false });
    try {
      for await (const line of rl) return line.replace(/\r$/, '').slice(0, MAX_SECRET + 1);
    } finally {
      rl.close();
    }
    throw new Error('no password on standard input');
  }
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = '';
      const onData = (chunk: Buffer): void => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            input.off('data', onData);
            resolve(value);
            return;
          }
          if (ch === '\u0003') {
            input.off('data', onData);
            reject(new Error('cancelled'));
            return;
          }
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
          else if (value.length <= MAX_SECRET) value += ch;
        }
      };
      input.on('data', onData);
    });
  } finally {
    input.setRawMode(false);
    input.pause();
    process.stderr.write('\n');
  }
}

/** Reads one visible line from the terminal (a confirmation). */
export async function readLine(prompt: string): Promise<string> {
  const rl = createPromiseInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return (await rl.question(prompt)).slice(0, MAX_SECRET);
  } finally {
    rl.close();
  }
}

/** Asks a yes/no question on a terminal; only "yes" (or "y") confirms. Not a terminal: false. */
export async function confirmOnTerminal(question: string): Promise<boolean> {
  if (process.stdin.isTTY !== true) return false;
  return /^\s*(yes|y)\s*$/i.test((await readLine(question)).slice(0, 16));
}
