/**
 * For faults that repeat (a database outage meets every request): returns a check that says yes
 * at most once per `intervalMs`, and how many times it said no since, so one log line can stand
 * for all of them.
 */
export function logAtMostEvery(intervalMs: number): () => { log: boolean; suppressed: number } {
  let lastAt = -Infinity;
  let suppressed = 0;
  return () => {
    const now = Date.now();
    if (now - lastAt < intervalMs) {
      suppressed++;
      return { log: false, suppressed };
    }
    const result = { log: true, suppressed };
    lastAt = now;
    suppressed = 0;
    return result;
  };
}
