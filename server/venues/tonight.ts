/** A night runs from 06:00 to 06:00 local time: at 1 am on Saturday it is still Friday night. */
const NIGHT_STARTS_AT_HOUR = 6;

/**
 * The weekday (0 = Sunday) of the night in progress at a venue. Venues carry no time zone, so local
 * time is taken from the longitude (15° per hour); that can be an hour or two off a legal zone, which
 * the 06:00 cut-over absorbs for anything scheduled as "Friday night".
 */
export function nightWeekday(venueLng: number, now: number): number {
  const localMs = now + (venueLng / 15) * 3_600_000 - NIGHT_STARTS_AT_HOUR * 3_600_000;
  return new Date(localMs).getUTCDay();
}

export interface SpecialSchedule {
  daysOfWeek: number[];
  validFrom: Date | string | null;
  validUntil: Date | string | null;
}

export function isSpecialTonight(s: SpecialSchedule, venueLng: number, now: number): boolean {
  if (s.validFrom !== null && new Date(s.validFrom).getTime() > now) return false;
  if (s.validUntil !== null && new Date(s.validUntil).getTime() <= now) return false;
  return s.daysOfWeek.length === 0 || s.daysOfWeek.includes(nightWeekday(venueLng, now));
}
