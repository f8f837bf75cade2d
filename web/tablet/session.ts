import type { SessionResponse, UserView } from '../../protocol/http/auth';
import { ApiError, requestJson } from '../shared/http';

const STORAGE_KEY = 'treatme.tablet.session';

export interface StoredSession {
  accessToken: string;
  refreshToken: string;
  user: UserView;
  venueId?: string;
}

/**
 * The tablet's sign-in, kept in localStorage so a tablet that reboots mid-shift comes back signed in.
 * Access tokens are short-lived: every call retries once after a refresh, and refreshes are shared so
 * a burst of 401s rotates the refresh token only once.
 */
export class Session {
  private current: StoredSession | null = load();
  private refreshing: Promise<boolean> | null = null;

  get value(): StoredSession | null {
    return this.current;
  }

  get token(): string | null {
    return this.current?.accessToken ?? null;
  }

  async devLogin(email: string): Promise<void> {
    const s = await requestJson<SessionResponse>('POST', '/api/auth/dev-login', { body: { email } });
    this.save(s, undefined);
  }

  async requestEmailCode(email: string): Promise<{ devCode?: string }> {
    return await requestJson('POST', '/api/auth/code/request', { body: { channel: 'email', destination: email } });
  }

  async verifyEmailCode(email: string, code: string): Promise<void> {
    const s = await requestJson<SessionResponse>('POST', '/api/auth/code/verify', { body: { channel: 'email', destination: email, code } });
    this.save(s, undefined);
  }

  setVenue(venueId: string | undefined): void {
    if (!this.current) return;
    this.current = { ...this.current, venueId };
    persist(this.current);
  }

  async signOut(): Promise<void> {
    const refreshToken = this.current?.refreshToken;
    this.current = null;
    localStorage.removeItem(STORAGE_KEY);
    if (refreshToken) await requestJson('POST', '/api/auth/logout', { body: { refreshToken } }).catch(() => undefined);
  }

  /** Trades the refresh token for new tokens; false when the session is over (sign in again). */
  refresh(): Promise<boolean> {
    this.refreshing ??= (async () => {
      const refreshToken = this.current?.refreshToken;
      if (!refreshToken) return false;
      try {
        const s = await requestJson<SessionResponse>('POST', '/api/auth/refresh', { body: { refreshToken } });
        this.save(s, this.current?.venueId);
        return true;
      } catch (err) {
        if (err instanceof ApiError && err.status < 500) {
          this.current = null;
          localStorage.removeItem(STORAGE_KEY);
        }
        return false;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** An authorized API call, retried once with a refreshed token after a 401. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await requestJson<T>(method, path, { token: this.token, body });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && (await this.refresh())) {
        return await requestJson<T>(method, path, { token: this.token, body });
      }
      throw err;
    }
  }

  private save(s: SessionResponse, venueId: string | undefined): void {
    this.current = { accessToken: s.accessToken, refreshToken: s.refreshToken, user: s.user, ...(venueId ? { venueId } : {}) };
    persist(this.current);
  }
}

function load(): StoredSession | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as StoredSession) : null;
  } catch {
    return null;
  }
}

function persist(s: StoredSession): void {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(s));
}
