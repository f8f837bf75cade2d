import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCb, constants } from 'node:zlib';
import type { Request, Response } from 'express';

const gzip = promisify(gzipCb);

/** Below this a gzip header and a CPU slice cost more than the bytes saved. */
export const COMPRESS_FROM_BYTES = 4_096;
const MAX_COMPRESSED = 256;

/**
 * Sends a JSON answer built as text with a strong ETag of its bytes (a client or proxy revalidates
 * with `If-None-Match` and gets a body-less 304), `Cache-Control: no-cache` (live counts: stored copies
 * must be revalidated every time; `private` when it names the caller's friends) and gzip for large
 * answers when asked. The same answer is compressed once: in a steady state every caller at one spot
 * gets the same bytes, so the gzip output is kept by ETag.
 */
export class JsonAnswers {
  private readonly compressed = new Map<string, Promise<Buffer>>();

  async send(req: Request, res: Response, body: string, opts: { personal: boolean }): Promise<void> {
    const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 27)}"`;
    res.set('ETag', etag);
    res.set('Cache-Control', opts.personal ? 'private, no-cache' : 'public, no-cache');
    res.vary('Accept-Encoding');
    if (opts.personal) res.vary('Authorization');
    if (req.fresh) {
      res.status(304).end();
      return;
    }
    res.type('application/json');
    // Only when asked: a client that sends no Accept-Encoding gets plain JSON, whatever RFC 9110 allows.
    if (body.length >= COMPRESS_FROM_BYTES && req.headers['accept-encoding'] && req.acceptsEncodings('gzip') === 'gzip') {
      res.set('Content-Encoding', 'gzip');
      res.send(await this.gzipped(etag, body));
      return;
    }
    res.send(body);
  }

  private gzipped(etag: string, body: string): Promise<Buffer> {
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
