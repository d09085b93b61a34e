const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION_RE = /^(\d{1,9})(s|m|h|d|w)$/;

/**
 * Parses a duration such as `90s`, `15m`, `24h`, `30d` or `2w` into milliseconds.
 * `0` (without unit) is accepted and means zero. Returns null for anything else.
 */
export function parseDuration(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const match = DURATION_RE.exec(trimmed);
  if (!match) return null;
  const amount = Number(match[1]);
  const unit = match[2] as keyof typeof UNIT_MS;
  const ms = amount * UNIT_MS[unit];
  return Number.isSafeInteger(ms) ? ms : null;
}

/** Human form of a span, e.g. `3 min`, `2 h 5 min`, `4 d`. Used in rejection reasons. */
export function formatSpan(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1_000) return `${abs} ms`;
  if (abs < 60_000) return `${Math.round(abs / 1_000)} s`;
  if (abs < 3_600_000) return `${Math.round(abs / 60_000)} min`;
  if (abs < 86_400_000) {
    const h = Math.floor(abs / 3_600_000);
    const m = Math.round((abs % 3_600_000) / 60_000);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  const d = Math.floor(abs / 86_400_000);
  const h = Math.round((abs % 86_400_000) / 3_600_000);
  return h ? `${d} d ${h} h` : `${d} d`;
}
