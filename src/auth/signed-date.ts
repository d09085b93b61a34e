/**
 * The date a key+secret signed request carries, in each format the SuprSend SDKs send
 * (reference/backend-sdk-protocol.md §2, client-sdk-protocol.md §9). The text itself is signed
 * as received; this only reads the instant it names, for the staleness check.
 *
 * - RFC 1123 (`Tue, 05 May 2026 10:00:00 GMT`): the backend SDKs, and web-sdk 1.x in x-amz-date.
 * - ISO-8601 with a zone (`2026-12-01T10:00:00.000Z`): the Node SDK's messages API, iOS legacy.
 * - `java.util.Date.toString()` (`Tue Dec 01 10:00:00 IST 2026`): Android 1.x.
 *
 * Every text reads as exactly one instant, so the replay window is the same for every format: an
 * abbreviation with several meanings is read one fixed way (or refused), never "whichever reading
 * is current", which would let a captured request replay again hours later.
 */

export type SignedDateFormat = 'rfc1123' | 'iso8601' | 'java';

export type SignedDate = { ok: true; at: number; format: SignedDateFormat; note?: string } | { ok: false; reason: string };

const MINUTE_MS = 60_000;

/**
 * Zone abbreviations as Java and Android print them, each with the one offset Herald reads
 * (minutes east of UTC). Android (ICU, en-US names) prints only the North American ones and
 * GMT/UTC, and `GMT+05:30` for the rest; desktop Java and older Android print the others.
 * IST is India Standard Time: what Java prints for Asia/Kolkata, SuprSend's largest market.
 * Java also prints IST for Israel and for Ireland's summer; such a device's date reads hours off
 * and is refused as stale (fails closed), with this reading named in the reason.
 */
const ZONE_OFFSETS_MIN: Readonly<Record<string, { minutes: number; name: string }>> = {
  GMT: { minutes: 0, name: 'GMT' },
  UTC: { minutes: 0, name: 'UTC' },
  UT: { minutes: 0, name: 'UTC' },
  EST: { minutes: -300, name: 'US Eastern Standard Time' },
  EDT: { minutes: -240, name: 'US Eastern Daylight Time' },
  CST: { minutes: -360, name: 'US Central Standard Time' },
  CDT: { minutes: -300, name: 'US Central Daylight Time' },
  MST: { minutes: -420, name: 'US Mountain Standard Time' },
  MDT: { minutes: -360, name: 'US Mountain Daylight Time' },
  PST: { minutes: -480, name: 'US Pacific Standard Time' },
  PDT: { minutes: -420, name: 'US Pacific Daylight Time' },
  AKST: { minutes: -540, name: 'Alaska Standard Time' },
  AKDT: { minutes: -480, name: 'Alaska Daylight Time' },
  HST: { minutes: -600, name: 'Hawaii Standard Time' },
  HDT: { minutes: -540, name: 'Hawaii Daylight Time' },
  AST: { minutes: -240, name: 'Atlantic Standard Time' },
  ADT: { minutes: -180, name: 'Atlantic Daylight Time' },
  NST: { minutes: -210, name: 'Newfoundland Standard Time' },
  NDT: { minutes: -150, name: 'Newfoundland Daylight Time' },
  IST: { minutes: 330, name: 'India Standard Time (+05:30)' },
  WET: { minutes: 0, name: 'Western European Time' },
  WEST: { minutes: 60, name: 'Western European Summer Time' },
  BST: { minutes: 60, name: 'British Summer Time' },
  CET: { minutes: 60, name: 'Central European Time' },
  CEST: { minutes: 120, name: 'Central European Summer Time' },
  EET: { minutes: 120, name: 'Eastern European Time' },
  EEST: { minutes: 180, name: 'Eastern European Summer Time' },
  MSK: { minutes: 180, name: 'Moscow Time' },
  PKT: { minutes: 300, name: 'Pakistan Time' },
  NPT: { minutes: 345, name: 'Nepal Time' },
  ICT: { minutes: 420, name: 'Indochina Time' },
  WIB: { minutes: 420, name: 'Western Indonesia Time' },
  SGT: { minutes: 480, name: 'Singapore Time' },
  HKT: { minutes: 480, name: 'Hong Kong Time' },
  AWST: { minutes: 480, name: 'Australian Western Standard Time' },
  JST: { minutes: 540, name: 'Japan Standard Time' },
  KST: { minutes: 540, name: 'Korea Standard Time' },
  ACST: { minutes: 570, name: 'Australian Central Standard Time' },
  ACDT: { minutes: 630, name: 'Australian Central Daylight Time' },
  AEST: { minutes: 600, name: 'Australian Eastern Standard Time' },
  AEDT: { minutes: 660, name: 'Australian Eastern Daylight Time' },
  NZST: { minutes: 720, name: 'New Zealand Standard Time' },
  NZDT: { minutes: 780, name: 'New Zealand Daylight Time' },
  SAST: { minutes: 120, name: 'South Africa Standard Time' },
};

/** Abbreviations that name several zones with no dominant reading: refused rather than guessed. */
const AMBIGUOUS_ZONES: Readonly<Record<string, string>> = {
  GST: 'Gulf Standard Time (+04:00) or South Georgia Time (-02:00)',
  SST: 'Samoa Standard Time (-11:00) or Singapore Standard Time (+08:00)',
  AMT: 'Amazon Time (-04:00) or Armenia Time (+04:00)',
  ECT: 'Ecuador Time (-05:00) or Eastern Caribbean Time (-04:00)',
  CT: 'US Central Time (standard or daylight)',
  ET: 'US Eastern Time (standard or daylight)',
  PT: 'US Pacific Time (standard or daylight)',
  MT: 'US Mountain Time (standard or daylight)',
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** `EEE MMM dd HH:mm:ss zzz yyyy`, java.util.Date.toString(). */
const JAVA_DATE_RE = /^([A-Z][a-z]{2}) ([A-Z][a-z]{2}) (\d{2}) (\d{2}):(\d{2}):(\d{2}) (\S+) (\d{4})$/;
/** `GMT+05:30`, `GMT-8`, `UTC+0530`: a zone Java prints as an offset. */
const GMT_OFFSET_RE = /^(?:GMT|UTC)([+-])(\d{1,2})(?::?(\d{2}))?$/;
/** ISO-8601 date-time; the zone is required (without it the reading would depend on the server's). */
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

function zoneOffsetMinutes(zone: string): { minutes: number; note?: string } | { reason: string } {
  const offset = GMT_OFFSET_RE.exec(zone);
  if (offset) {
    const hours = Number(offset[2]);
    const minutes = Number(offset[3] ?? 0);
    if (hours > 18 || minutes > 59) return { reason: `zone offset ${zone} is out of range` };
    return { minutes: (offset[1] === '-' ? -1 : 1) * (hours * 60 + minutes) };
  }
  const upper = zone.toUpperCase();
  const ambiguous = AMBIGUOUS_ZONES[upper];
  if (ambiguous !== undefined) {
    return { reason: `zone abbreviation ${zone} is ambiguous (${ambiguous}); the device must report its zone as an offset (GMT+hh:mm)` };
  }
  const known = ZONE_OFFSETS_MIN[upper];
  if (known === undefined) {
    return { reason: `zone abbreviation ${zone} is not one Herald knows; send the date as RFC 1123 in GMT or with a GMT+hh:mm zone` };
  }
  return { minutes: known.minutes, note: `${zone} read as ${known.name}` };
}

function parseJavaDate(match: RegExpExecArray): SignedDate {
  const [, weekday, monthName, day, hour, minute, second, zone, year] = match as unknown as string[];
  const month = MONTHS.indexOf(monthName as string);
  if (month < 0 || !WEEKDAYS.includes(weekday as string))
    return { ok: false, reason: 'day or month name is not English (Java prints them in English)' };
  const fields = [Number(year), month, Number(day), Number(hour), Number(minute), Number(second)] as const;
  const utc = Date.UTC(...fields);
  const check = new Date(utc);
  // Date.UTC rolls Feb 30 over to Mar 2: a field out of range is a malformed date, not a later one.
  if (check.getUTCDate() !== fields[2] || check.getUTCHours() !== fields[3] || check.getUTCMinutes() !== fields[4] || fields[5] > 59) {
    return { ok: false, reason: 'a date or time field is out of range' };
  }
  const zoneResult = zoneOffsetMinutes(zone as string);
  if ('reason' in zoneResult) return { ok: false, reason: zoneResult.reason };
  const at = utc - zoneResult.minutes * MINUTE_MS;
  // The weekday is checked against the local date the device printed.
  if (WEEKDAYS[check.getUTCDay()] !== weekday) return { ok: false, reason: `${weekday as string} is not the weekday of that date` };
  return { ok: true, at, format: 'java', ...(zoneResult.note === undefined ? {} : { note: zoneResult.note }) };
}

/** The instant a signed request's date text names, or why it names none. */
export function parseSignedDate(text: string): SignedDate {
  const value = text.trim();
  if (value === '') return { ok: false, reason: 'the date is empty' };
  const java = JAVA_DATE_RE.exec(value);
  if (java) return parseJavaDate(java);
  const iso = ISO_RE.exec(value);
  if (iso) {
    if (iso[1] === undefined) return { ok: false, reason: 'an ISO-8601 date needs a zone (Z or +hh:mm)' };
    const at = Date.parse(value);
    return Number.isNaN(at) ? { ok: false, reason: 'not a valid ISO-8601 date' } : { ok: true, at, format: 'iso8601' };
  }
  // RFC 1123 and its relatives, as Date.parse has always read them here.
  const at = Date.parse(value);
  if (Number.isNaN(at)) return { ok: false, reason: 'not an RFC 1123, ISO-8601 or java.util.Date text' };
  return { ok: true, at, format: 'rfc1123' };
}
