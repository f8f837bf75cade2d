import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** The CLI as an operator runs it (`npm run loadtest -- …`), stopped before it starts anything. */
function loadtest(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'loadtest/cli.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('the load tester refuses what it cannot do, in one line and before starting anything', () => {
  it.each([
    [['--chaos', '--stores', 'embedded', '--nodes', '1'], /--chaos kills nodes this tool starts/],
    [['--chaos', '--url', 'http://127.0.0.1:9'], /--chaos kills nodes this tool starts/],
    [['--speed', '7'], /fastest speed/i],
  ])('%j', (args, message) => {
    const r = loadtest(...args, '--users', '5', '--venues', '2', '--minutes', '1');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^loadtest refused: /m);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
