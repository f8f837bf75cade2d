import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envSchema } from '../../server/config/config';

describe('README configuration table', () => {
  it('documents every variable the server reads', () => {
    const readme = readFileSync('README.md', 'utf8');
    const missing = Object.keys(envSchema.shape).filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
