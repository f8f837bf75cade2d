import proxyaddr from 'proxy-addr';
import { z } from 'zod';

/** The value types the environment sections share (env-*.ts): each parses a string variable. */
export const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

export const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
export const num = (min: number, max: number) => z.coerce.number().min(min).max(max);

/** A URL whose scheme is one of `schemes`; never throws (zod runs refinements even after .url() fails). */
export const urlWithScheme = (schemes: string[], label: string) =>
  z.string().refine((u) => {
    try {
      return schemes.includes(new URL(u).protocol);
    } catch {
      return false;
    }
  }, `must be a valid ${label} URL`);

/** A hop count, or a list proxy-addr accepts (it throws on anything else). */
export const trustProxy = z.string().refine((v) => {
  if (/^\d+$/.test(v)) return true;
  try {
    proxyaddr.compile(
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
    return true;
  } catch {
    return false;
  }
}, 'must be a hop count or a comma-separated list of proxy addresses/subnets (loopback, linklocal, uniquelocal allowed)');

export const postgresUrl = urlWithScheme(['postgres:', 'postgresql:'], 'postgres:// or postgresql://');
export const redisUrl = urlWithScheme(['redis:', 'rediss:'], 'redis:// or rediss://');
export const httpUrl = urlWithScheme(['http:', 'https:'], 'http:// or https://');
