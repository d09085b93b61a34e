/**
 * The latest use of each credential, kept in memory so that authenticating a request never writes
 * to the database; the owner drains it into one batched write now and then.
 */
export class LastUseBuffer {
  readonly #latest = new Map<string, number>();

  note(id: string, at: number): void {
    const previous = this.#latest.get(id);
    if (previous === undefined || previous < at) this.#latest.set(id, at);
  }

  /** Takes every use noted so far, leaving the buffer empty. */
  drain(): Array<[id: string, at: number]> {
    const uses = [...this.#latest.entries()];
    this.#latest.clear();
    return uses;
  }
}

/** Status of a revocable, optionally expiring credential at `now`. */
export function credentialStatus(
  row: { revoked_at: number | null; expires_at: number | null },
  now: number,
): 'active' | 'expired' | 'revoked' {
  if (row.revoked_at !== null) return 'revoked';
  return row.expires_at !== null && row.expires_at <= now ? 'expired' : 'active';
}
