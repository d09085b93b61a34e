/** CLI output: human text by default, one JSON document with --json (for scripts). */

export class UsageError extends Error {
  override name = 'UsageError';

  constructor(
    message: string,
    /** Whether pointing at `herald --help` helps (not for a file that fails to parse). */
    readonly isHelpful = true,
  ) {
    super(message);
  }
}

function formatTime(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function table(rows: Array<Record<string, string>>, columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => r[c] ?? '')))].join('\n');
}

export { formatTime };
