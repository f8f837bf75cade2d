import type { Redis } from 'ioredis';

export type CodeCheck = 'ok' | 'wrong' | 'missing' | 'exhausted';

/**
 * Pending one-time codes, keyed by destination, holding only an HMAC of the code. A wrong guess burns
 * one of `maxAttempts`; the last wrong guess deletes the code so it can never be guessed further.
 */
export interface CodeStore {
  /** Replaces any pending code for `key`; the attempt budget starts afresh with the new code. */
  put(key: string, codeHash: string, ttlSeconds: number): Promise<void>;
  check(key: string, codeHash: string, maxAttempts: number): Promise<CodeCheck>;
  /** Forgets the pending code (it was never delivered). */
  delete(key: string): Promise<void>;
}

// Compare-and-count in one script: two parallel guesses cannot both spend the same attempt.
const CHECK_SCRIPT = `
local h = redis.call('HGET', KEYS[1], 'h')
if not h then return 'missing' end
if h == ARGV[1] then redis.call('DEL', KEYS[1]) return 'ok' end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
if n >= tonumber(ARGV[2]) then redis.call('DEL', KEYS[1]) return 'exhausted' end
return 'wrong'
`;

export class RedisCodeStore implements CodeStore {
  constructor(private readonly redis: Redis) {}

  async put(key: string, codeHash: string, ttlSeconds: number): Promise<void> {
    await this.redis.multi().del(`otp:${key}`).hset(`otp:${key}`, 'h', codeHash, 'n', '0').expire(`otp:${key}`, ttlSeconds).exec();
  }

  async check(key: string, codeHash: string, maxAttempts: number): Promise<CodeCheck> {
    const r = await this.redis.eval(CHECK_SCRIPT, 1, `otp:${key}`, codeHash, String(maxAttempts));
    return r as CodeCheck;
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(`otp:${key}`);
  }
}

export class MemoryCodeStore implements CodeStore {
  private readonly codes = new Map<string, { hash: string; wrong: number; expiresAt: number }>();

  constructor(private readonly now: () => number) {}

  async put(key: string, codeHash: string, ttlSeconds: number): Promise<void> {
    this.prune();
    this.codes.set(key, { hash: codeHash, wrong: 0, expiresAt: this.now() + ttlSeconds * 1000 });
  }

  async check(key: string, codeHash: string, maxAttempts: number): Promise<CodeCheck> {
    const c = this.codes.get(key);
    if (!c || c.expiresAt <= this.now()) {
      this.codes.delete(key);
      return 'missing';
    }
    if (c.hash === codeHash) {
      this.codes.delete(key);
      return 'ok';
    }
    c.wrong += 1;
    if (c.wrong >= maxAttempts) {
      this.codes.delete(key);
      return 'exhausted';
    }
    return 'wrong';
  }

  async delete(key: string): Promise<void> {
    this.codes.delete(key);
  }

  private prune(): void {
    const now = this.now();
    for (const [k, c] of this.codes) if (c.expiresAt <= now) this.codes.delete(k);
  }
}
