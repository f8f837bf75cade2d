/** A push as one provider sends it to one device: already in the device's language. */
export interface RenderedPush {
  title: string;
  body: string;
  data: Record<string, string>;
  /** Replaces an earlier push with the same id on the device (one per order, so updates don't pile up). */
  collapseId?: string;
}

export type DeliveryResult =
  | { outcome: 'sent' }
  /** The provider says the token will never work again: forget it. */
  | { outcome: 'dead'; reason: string }
  /** Throttled, provider trouble, timeout or network: worth another try later. */
  | { outcome: 'retry'; reason: string; retryAfterMs?: number }
  /** Refused for a reason another try will not fix (bad payload, bad credentials). */
  | { outcome: 'failed'; reason: string };

export type ProviderName = 'apns' | 'fcm';

export interface PushProvider {
  readonly name: ProviderName;
  send(token: string, push: RenderedPush): Promise<DeliveryResult>;
  close(): Promise<void>;
}

/** Seconds or an HTTP date, as both APNs and FCM may send it; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | null | undefined, now: number): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
