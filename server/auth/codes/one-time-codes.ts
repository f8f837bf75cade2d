import { createHmac, randomInt } from 'node:crypto';
import { ErrorCode } from '../../../protocol/errors';
import type { CodeRequestBody, CodeRequestResponse, CodeVerifyBody } from '../../../protocol/http/auth';
import type { AppContext } from '../../context';
import { AppError } from '../../errors';
import { nameFromEmail } from '../user-view';
import { CodeDeliveryError, type CodeSender } from './code-sender';
import type { Stoppable } from '../../lib/job';
import { MemoryCodeStore, RedisCodeStore, type CodeStore } from './code-store';

/** Where codes are kept and how they are sent: built once by the composition root. */
export interface OneTimeCodes {
  store: CodeStore;
  sender: CodeSender;
  key: Buffer;
  settings: CodeSettings;
}

export interface CodeSettings {
  ttlSeconds: number;
  resendSeconds: number;
  maxAttempts: number;
  /** Dev mode answers with the code itself, so a developer can sign in without a mailbox. */
  revealCode: boolean;
}

export function buildOneTimeCodes(
  ctx: AppContext,
  sender: CodeSender & { close(): void },
  settings: CodeSettings,
): { codes: OneTimeCodes; stoppables: Stoppable[] } {
  return {
    codes: {
      store: ctx.redis ? new RedisCodeStore(ctx.redis.main) : new MemoryCodeStore(ctx.now),
      sender,
      settings,
      // A 6-digit code has only a million values, so a plain hash would be reversed by enumeration:
      // the HMAC key (derived from the server secret) keeps stored hashes useless to a Redis reader.
      key: ctx.tokens.deriveKey('one-time-code'),
    },
    stoppables: [{ name: 'code sender', stop: () => sender.close() }],
  };
}

const destinationKey = (b: { channel: string; destination: string }) => `${b.channel}:${b.destination}`;

function hashCode(key: Buffer, destination: string, code: string): string {
  return createHmac('sha256', key).update(`${destination}\0${code}`).digest('hex');
}

function codeNotSent(ctx: AppContext, channel: string, err: unknown): AppError {
  if (!(err instanceof CodeDeliveryError))
    return err instanceof AppError ? err : new AppError(ErrorCode.INTERNAL, 'Could not send the code', { cause: err });
  ctx.logger.warn({ err, channel, provider: err.provider, providerCode: err.providerCode }, 'one-time code not sent');
  const details = { reason: 'CODE_NOT_SENT', provider: err.provider, retryable: err.retryable };
  return err.retryable
    ? new AppError(ErrorCode.UNAVAILABLE, 'The code could not be sent right now; try again', {
        details,
        headers: { 'Retry-After': '5' },
        cause: err,
      })
    : new AppError(ErrorCode.VALIDATION, `The code could not be delivered to this ${channel === 'email' ? 'address' : 'number'}`, {
        details,
        cause: err,
      });
}

export async function requestCode(ctx: AppContext, codes: OneTimeCodes, body: CodeRequestBody): Promise<CodeRequestResponse> {
  const { store, sender, key, settings } = codes;
  const dest = destinationKey(body);
  const limits = ctx.limits;
  await limits.codeResend.consume(dest);
  await limits.codeHourly.consume(dest);
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const ttl = settings.ttlSeconds;
  await store.put(dest, hashCode(key, dest, code), ttl);
  try {
    await sender.send({ channel: body.channel, destination: body.destination, code, expiresInSeconds: ttl });
  } catch (err) {
    // Nobody received this code: it must not stay valid, and the resend wait must not hold up a retry.
    await store.delete(dest);
    await limits.codeResend.reset(dest);
    throw codeNotSent(ctx, body.channel, err);
  }
  return {
    sent: true,
    expiresInSeconds: ttl,
    resendAfterSeconds: settings.resendSeconds,
    ...(settings.revealCode ? { devCode: code } : {}),
  };
}

/** Checks the code and returns the user it signs in (created on first sign-in, marked verified). */
export async function verifyCode(ctx: AppContext, codes: OneTimeCodes, body: CodeVerifyBody) {
  const { store, key, settings } = codes;
  const dest = destinationKey(body);
  const result = await store.check(dest, hashCode(key, dest, body.code), settings.maxAttempts);
  if (result === 'wrong') throw new AppError(ErrorCode.UNAUTHENTICATED, 'Wrong code');
  if (result === 'missing') throw new AppError(ErrorCode.UNAUTHENTICATED, 'No valid code for this destination; request a new one');
  if (result === 'exhausted') throw new AppError(ErrorCode.UNAUTHENTICATED, 'Too many wrong codes; request a new one');

  const prisma = ctx.db.prisma;
  if (body.channel === 'email') {
    return prisma.user.upsert({
      where: { email: body.destination },
      update: { emailVerified: true },
      create: { email: body.destination, emailVerified: true, displayName: body.displayName ?? nameFromEmail(body.destination) },
    });
  }
  return prisma.user.upsert({
    where: { phone: body.destination },
    update: { phoneVerified: true },
    create: { phone: body.destination, phoneVerified: true, displayName: body.displayName ?? 'Guest' },
  });
}
