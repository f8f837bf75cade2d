import { io } from 'socket.io-client';
import type { WireError } from '../../protocol/errors';
import { ClientEvent, ServerEvent } from '../../protocol/events';
import type { RedemptionConflictDetails, ScanResponse } from '../../protocol/http/orders';
import type { StaffOrdersResponse, StaffVenue, StaffVenuesResponse } from '../../protocol/http/staff';
import { trackConnection, type AppSocket } from '../shared/connection-status';
import type { DevStaffAccountsResponse } from '../../protocol/http/staff';
import { ApiError, requestJson } from '../shared/http';
import { readPageConfig, type TabletPageConfig } from '../shared/page-config';
import { OrdersBoard, clock } from './orders-board';
import { QrScanner, cameraScanningSupported, extractCode } from './qr-scanner';
import { ResultView } from './result-view';
import { Session } from './session';

const config = readPageConfig<TabletPageConfig>();
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const session = new Session();
const board = new OrdersBoard($('orders'), $('orders-count'), $('orders-empty'), () => session.value?.user.id ?? null);
const result = new ResultView();
let socket: AppSocket | null = null;
let venue: StaffVenue | null = null;
/** The redemption this tablet holds (scanned, not yet confirmed or released). */
let holding: ScanResponse | null = null;

function showOnly(section: 'signin' | 'venue-pick' | 'work'): void {
  for (const id of ['signin', 'venue-pick', 'work'] as const) $(id).hidden = id !== section;
  const signedIn = section !== 'signin';
  $('sign-out').hidden = !signedIn;
  $('conn').hidden = section !== 'work';
  if (section !== 'work') $('venue-name').textContent = '';
}

// ---- sign-in -------------------------------------------------------------------------------------

let codeRequestedFor: string | null = null;

function showSignIn(message = ''): void {
  showOnly('signin');
  $('signin-error').textContent = message;
  $('signin-hint').textContent = config.devMode
    ? 'Dev mode: sign in with just the email. Demo bartenders are staff+<venue-slug>@treatme.dev.'
    : 'We will email you a 6-digit sign-in code.';
  if (config.devMode) void listStaffAccounts();
  $('email').focus();
}

/** Dev mode: each venue's staff e-mail as a button that fills the form, so nobody has to guess a slug. */
async function listStaffAccounts(): Promise<void> {
  const list = $('staff-accounts');
  try {
    const { accounts } = await requestJson<DevStaffAccountsResponse>('GET', '/api/dev/staff-accounts');
    list.replaceChildren(
      ...accounts.map((a) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'staff-account';
        b.dataset.email = a.email;
        b.innerHTML = '<b></b><span></span>';
        b.querySelector('b')!.textContent = a.venue;
        b.querySelector('span')!.textContent = a.email;
        b.addEventListener('click', () => {
          ($('email') as HTMLInputElement).value = a.email;
          $('email').focus();
        });
        return b;
      }),
    );
    list.hidden = accounts.length === 0;
  } catch {
    list.hidden = true;
  }
}

$('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void (async () => {
    const email = $<HTMLInputElement>('email').value.trim();
    const button = $<HTMLButtonElement>('signin-submit');
    $('signin-error').textContent = '';
    button.disabled = true;
    try {
      if (config.devMode) {
        await session.devLogin(email);
      } else if (codeRequestedFor !== email) {
        const sent = await session.requestEmailCode(email);
        codeRequestedFor = email;
        $('code-row').hidden = false;
        $('signin-hint').textContent = `Code sent to ${email}.`;
        if (sent.devCode) $<HTMLInputElement>('signin-code').value = sent.devCode;
        $('signin-code').focus();
        return;
      } else {
        await session.verifyEmailCode(email, $<HTMLInputElement>('signin-code').value.trim());
      }
      await chooseVenue();
    } catch (err) {
      $('signin-error').textContent = messageOf(err);
    } finally {
      button.disabled = false;
    }
  })();
});

$('sign-out').addEventListener('click', () => void signOut());

async function signOut(message = ''): Promise<void> {
  socket?.disconnect();
  socket = null;
  venue = null;
  holding = null;
  scanner.stop();
  board.clear();
  result.hide();
  await session.signOut();
  codeRequestedFor = null;
  $('code-row').hidden = true;
  showSignIn(message);
}

// ---- venue ---------------------------------------------------------------------------------------

async function chooseVenue(): Promise<void> {
  let venues: StaffVenue[];
  try {
    venues = (await session.call<StaffVenuesResponse>('GET', '/api/staff/venues')).venues;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return await signOut('Your session ended; please sign in again.');
    showSignIn(messageOf(err));
    return;
  }
  const remembered = venues.find((v) => v.id === session.value?.venueId);
  const only = venues.length === 1 ? venues[0] : undefined;
  const pick = remembered ?? only;
  if (pick) return startShift(pick);

  showOnly('venue-pick');
  $('venue-error').textContent = venues.length === 0 ? `${session.value?.user.email ?? 'This account'} is not staff at any venue.` : '';
  $('venue-list').replaceChildren(
    ...venues.map((v) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = v.address ? `${v.name} — ${v.address}` : v.name;
      b.addEventListener('click', () => startShift(v));
      return b;
    }),
  );
}

function startShift(v: StaffVenue): void {
  venue = v;
  session.setVenue(v.id);
  showOnly('work');
  // The venue once; the staff account's name (the demo's is "<venue> Bar") goes on the sign-out button's tooltip.
  $('venue-name').textContent = v.name;
  $('sign-out').title = `Signed in as ${session.value?.user.displayName ?? ''}`;
  document.title = `TreatMe bar — ${v.name}`;
  connect();
  $('code').focus();
}

// ---- live orders ---------------------------------------------------------------------------------

function connect(): void {
  socket?.disconnect();
  const s: AppSocket = io({
    // A function, so every reconnect presents the token as refreshed by then.
    auth: (cb) => cb(session.token ? { token: session.token } : {}),
    transports: ['websocket', 'polling'],
  });
  socket = s;
  trackConnection(s, $('conn'), {
    onRefused: async (err) => {
      const code = (err as Error & { data?: WireError }).data?.code;
      if (code !== 'UNAUTHENTICATED') return false;
      if (await session.refresh()) return true;
      await signOut('Your session ended; please sign in again.');
      return false;
    },
  });

  s.on('connect', () => void joinAndCatchUp(s));
  s.on(ServerEvent.OrderPaid, ({ order }) => {
    if (order.venueId !== venue?.id) return;
    board.upsert(order);
    fetchNamesSoon();
  });
  s.on(ServerEvent.RedemptionNew, ({ order, redemption }) => {
    if (order.venueId !== venue?.id) return;
    board.upsert(order, redemption);
    fetchNamesSoon();
  });
  s.on(ServerEvent.OrderUpdated, ({ order, redemption }) => {
    if (order.venueId !== venue?.id) return;
    board.upsert(order, redemption);
  });
}

/**
 * Every (re)connect: join the staff room first, then read the open orders, so anything paid while we
 * were away is on the list and anything paid from now on arrives live; the board keeps the newer of both.
 */
async function joinAndCatchUp(s: AppSocket): Promise<void> {
  const v = venue;
  if (!v) return;
  const ack = await s
    .timeout(10_000)
    .emitWithAck(ClientEvent.StaffJoin, { venueId: v.id })
    .catch(() => null);
  if (!ack) return; // lost with the connection; the next 'connect' retries
  if (!ack.ok) {
    $('orders-empty').hidden = false;
    $('orders-empty').textContent = `Could not join ${v.name}'s staff room: ${ack.error.message}`;
    return;
  }
  await refreshOrders();
}

async function refreshOrders(): Promise<void> {
  const v = venue;
  if (!v) return;
  const requestedAt = performance.now();
  try {
    const res = await session.call<StaffOrdersResponse>('GET', `/api/staff/venues/${encodeURIComponent(v.id)}/orders`);
    if (venue?.id !== v.id) return;
    board.replaceAll(res.orders, requestedAt);
    // When the list last caught up with the server (tests and support staff read it).
    $('orders').dataset.syncedAt = new Date().toISOString();
  } catch (err) {
    console.warn('could not load open orders', err);
  }
}

let namesTimer: ReturnType<typeof setTimeout> | undefined;
/** Live events carry ids, not names: one list read shortly after a burst fills them in. */
function fetchNamesSoon(): void {
  clearTimeout(namesTimer);
  namesTimer = setTimeout(() => {
    if (board.missingNames()) void refreshOrders();
  }, 400);
}

// ---- redeeming -----------------------------------------------------------------------------------

const scanner = new QrScanner($<HTMLVideoElement>('camera-view'), (text) => void redeem(text));

if (cameraScanningSupported()) {
  $('camera-hint').textContent = 'Or point the camera at the guest’s QR code.';
} else {
  $<HTMLButtonElement>('camera').disabled = true;
  $('camera-hint').textContent =
    'Camera scanning needs a browser with BarcodeDetector (e.g. Chrome on Android) over HTTPS. Type the code, or use a USB scanner.';
}

$('camera').addEventListener('click', () => {
  if (scanner.running) {
    scanner.stop();
    $('camera').textContent = 'Scan with camera';
    return;
  }
  scanner
    .start()
    .then(() => ($('camera').textContent = 'Stop camera'))
    .catch((err: unknown) => {
      $('camera-hint').textContent = `Camera unavailable: ${err instanceof Error ? err.message : String(err)}`;
    });
});

$('scan-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>('code');
  const text = input.value;
  input.value = '';
  void redeem(text);
});

function whoFor(scan: ScanResponse): string {
  const known = board.get(scan.order.id);
  const to = known?.recipientName;
  const from = known?.buyerName;
  const note = scan.order.message ? `“${scan.order.message}”` : '';
  return [to ? `for ${to}` : '', from ? `from ${from}` : '', note].filter(Boolean).join(' · ');
}

async function redeem(text: string): Promise<void> {
  $('camera').textContent = 'Scan with camera';
  if (!text.trim()) return;
  const code = extractCode(text);
  if (!code) return result.refused('Not a TreatMe code', 'Ask the guest to open the drink in the TreatMe app.');
  try {
    const scan = await session.call<ScanResponse>('POST', '/api/redemptions/scan', { code });
    holding = scan;
    board.upsert(scan.order, scan.redemption);
    result.held(scan, whoFor(scan));
  } catch (err) {
    refuse(err);
  }
}

/** Confirm or release the drink this tablet holds; both answer the order and its redemption. */
function settleHeld(action: 'confirm' | 'release', onDone: (answer: ScanResponse, held: NonNullable<typeof holding>) => void): void {
  const held = holding;
  if (!held) return;
  result.setBusy(true);
  session
    .call<ScanResponse>('POST', `/api/redemptions/${encodeURIComponent(held.redemption.id)}/${action}`)
    .then((answer) => {
      holding = null;
      board.upsert(answer.order, answer.redemption);
      onDone(answer, held);
    })
    .catch((err: unknown) => refuse(err));
}

result.confirmBtn.addEventListener('click', () => settleHeld('confirm', (done, held) => result.redeemed(done, whoFor(held))));
result.releaseBtn.addEventListener('click', () => settleHeld('release', () => result.hide()));

result.onHide = () => {
  if (venue) $('code').focus();
};

/** Why a code was not redeemed, worded for the bar: what happened, when, and by whom. */
function refuse(err: unknown): void {
  holding = null;
  if (!(err instanceof ApiError)) return result.refused('No connection', 'Could not reach the server — try again.');
  const d = (err.wire.details ?? {}) as Partial<RedemptionConflictDetails> & { status?: string };
  const by = d.bartenderName ?? 'another bartender';
  switch (err.wire.code) {
    case 'CONFLICT':
      if (d.status === 'REDEEMED') return result.refused('Already redeemed', `at ${clock(d.redeemedAt)} by ${by}`);
      if (d.status === 'SCANNED') return result.refused('Already scanned', `at ${clock(d.scannedAt)} by ${by} — they are serving it`);
      if (d.status === 'CANCELLED') return result.refused('Cancelled', 'This treat was cancelled — do not serve.');
      return result.refused('Not held', err.wire.message);
    case 'INVALID_TRANSITION':
      return result.refused('Not redeemable', d.status ? `This treat is ${d.status.toLowerCase()}.` : err.wire.message);
    case 'NOT_FOUND':
      return result.refused('Unknown code', 'This is not a valid TreatMe drink code.');
    case 'VALIDATION':
      return result.refused('Not a TreatMe code', 'Ask the guest to open the drink in the TreatMe app.');
    case 'FORBIDDEN':
      return result.refused('Wrong venue', d.bartenderName ? `Held by ${d.bartenderName}.` : 'This drink is not for this venue.');
    case 'PAYMENT_FAILED':
      return result.refused('Payment failed', 'The card was declined — do not serve.');
    case 'UNAUTHENTICATED':
      void signOut('Your session ended; please sign in again.');
      return;
    default:
      return result.refused('Could not redeem', err.wire.message);
  }
}

function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.wire.message;
  return 'Could not reach the server — check the connection.';
}

// For tests and debugging in the console; nothing in the page depends on it.
(window as unknown as { treatmeTablet: unknown }).treatmeTablet = {
  get socket() {
    return socket;
  },
  refreshOrders,
};

if (session.value) void chooseVenue();
else showSignIn();
