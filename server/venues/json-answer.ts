import { hash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCb, constants } from 'node:zlib';
import type { Request, Response } from 'express';
import { setNewest } from '../lib/bounded-map';

const gzip = promisify(gzipCb);

/** Below this a gzip header and a CPU slice cost more than the bytes saved. */
export const COMPRESS_FROM_BYTES = 4_096;
const MAX_COMPRESSED = 256;
/** Last answers kept for a repeat (about 50 KB each, twice: text and bytes). */
const MAX_PREPARED = 256;

interface Prepared {
  body: string;
  etag: string;
  bytes: Buffer;
}

/**
 * Sends a JSON answer built as text with a strong ETag of its bytes (a client or proxy revalidates
 * with `If-None-Match` and gets a body-less 304), `Cache-Control: no-cache` (live counts: stored copies
 * must be revalidated every time; `private` when it names the caller's friends) and gzip for large
 * answers when asked. The same answer is compressed once: in a steady state every caller at one spot
 * gets the same bytes, so the gzip output is kept by ETag.
 */
export class JsonAnswers {
  private readonly compressed = new Map<string, Promise<Buffer>>();
  private readonly prepared = new Map<string, Prepared>();

  /**
   * `repeatKey` names the question (caller and URL): when its answer is the same text as last time (the
   * usual case between two count changes), the bytes and ETag are reused, not encoded and hashed again.
   */
  async send(req: Request, res: Response, body: string, opts: { personal: boolean; repeatKey?: string }): Promise<void> {
    const { etag, bytes } = this.prepare(body, opts.repeatKey);
    res.set('ETag', etag);
    res.set('Cache-Control', opts.personal ? 'private, no-cache' : 'public, no-cache');
    res.vary('Accept-Encoding');
    if (opts.personal) res.vary('Authorization');
    if (req.fresh) {
      res.status(304).end();
      return;
    }
    // Bytes, not text, go out: say the charset Express would have added to a string body.
    res.set('Content-Type', 'application/json; charset=utf-8');
    // Only when asked: a client that sends no Accept-Encoding gets plain JSON, whatever RFC 9110 allows.
    if (body.length >= COMPRESS_FROM_BYTES && req.headers['accept-encoding'] && req.acceptsEncodings('gzip') === 'gzip') {
      res.set('Content-Encoding', 'gzip');
      res.send(await this.gzipped(etag, bytes));
      return;
    }
    res.send(bytes);
  }

  private prepare(body: string, key: string | undefined): Prepared {
    const last = key === undefined ? undefined : this.prepared.get(key);
    if (last && last.body === body) return last;
    const bytes = Buffer.from(body, 'utf8');
    const p = { body, bytes, etag: `"${hash('sha1', bytes, 'base64url').slice(0, 27)}"` };
    if (key !== undefined) setNewest(this.prepared, key, p, MAX_PREPARED);
    return p;
  }

  private gzipped(etag: string, body: Buffer): Promise<Buffer> {
    let out = this.compressed.get(etag);
    if (out) return out;
    // Level 4: most of level 6's ratio on JSON at about half the CPU, off the event loop.
    out = gzip(body, { level: 4, strategy: constants.Z_DEFAULT_STRATEGY });
    this.compressed.set(etag, out);
    out.catch(() => this.compressed.delete(etag));
    if (this.compressed.size > MAX_COMPRESSED) {
      const oldest = this.compressed.keys().next();
      if (!oldest.done) this.compressed.delete(oldest.value);
    }
    return out;
  }
}
