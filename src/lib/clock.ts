/** Milliseconds since the epoch. Injected wherever time decides an outcome, so tests can freeze it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export function fixedClock(at: number): Clock & { set(ms: number): void; advance(ms: number): void } {
  let current = at;
  return {
    now: () => current,
    set: (ms) => {
      current = ms;
    },
    advance: (ms) => {
      current += ms;
    },
  };
}
