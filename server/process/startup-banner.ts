import type { StaffAccount } from '../demo/staff-accounts';

export interface BannerInput {
  port: number;
  mode: string;
  devMode: boolean;
  demoGuests: number;
  staff: StaffAccount[];
}

/** What a newcomer needs after `npm start`: where the pages and docs are, and how to sign in as staff. */
export function startupBanner(b: BannerInput): { text: string; fields: Record<string, unknown> } {
  const base = `http://localhost:${b.port}`;
  const urls = {
    map: `${base}/map`,
    tablet: `${base}/tablet`,
    docs: `${base}/api/docs`,
    openapi: `${base}/api/openapi.json`,
    asyncapi: `${base}/api/asyncapi.json`,
  };
  const lines = [
    '',
    `  TreatMe live server (${b.mode}${b.devMode ? ', dev mode' : ''}) on ${base}`,
    `    map      ${urls.map}`,
    `    tablet   ${urls.tablet}`,
    `    docs     ${urls.docs}   (OpenAPI ${urls.openapi}, socket protocol ${urls.asyncapi})`,
  ];
  if (b.demoGuests > 0) lines.push(`    demo     ${b.demoGuests} simulated guests arriving, moving, leaving and buying treats`);
  if (b.devMode && b.staff.length > 0) {
    lines.push('', '  Staff sign-ins for the tablet (dev sign-in: just the e-mail):');
    const width = Math.max(...b.staff.map((s) => s.venue.length));
    for (const s of b.staff) lines.push(`    ${s.venue.padEnd(width)}  ${s.email}`);
  }
  lines.push('');
  return {
    text: lines.join('\n'),
    fields: { port: b.port, mode: b.mode, urls, demoGuests: b.demoGuests, staffSignIns: b.staff.map((s) => s.email) },
  };
}
