/**
 * Last line of defence for text that is stored for humans (request-log reasons and paths, audit
 * details): anything shaped like a secret is cut out before it is written. The reasons Herald
 * composes never contain secrets by construction; this catches what a client put where it did not
 * belong (a workspace secret sent as the workspace key, a token pasted into a URL or a Date header).
 *
 *   workspace secret   hws_<mode>_…          → hws_<mode>_[redacted]
 *   webhook secret     hwh_<mode>_…          → hwh_<mode>_[redacted]
 *   API key            hak_<mode>_XXXX…      → hak_<mode>_XXXX… (the display prefix, shown in lists anyway)
 *   service token      hst_XXXX…             → hst_XXXX… (likewise)
 *   JWT / JWS          eyJ….….…              → [redacted token]
 *   PEM private key    -----BEGIN … PRIVATE KEY----- … → [redacted private key]
 *   base64 of a PEM    LS0tLS1CRUdJTi…       → [redacted key]
 */

const API_KEY_DISPLAY_PREFIX_CHARS = 'hak_test_'.length + 4;
const SERVICE_TOKEN_DISPLAY_PREFIX_CHARS = 'hst_'.length + 4;

function keepPrefix(chars: number): (match: string) => string {
  return (match) => (match.length > chars ? `${match.slice(0, chars)}…` : match);
}

const RULES: ReadonlyArray<readonly [RegExp, string | ((match: string) => string)]> = [
  [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, '[redacted private key]'],
  [/LS0tLS1CRUdJTi[A-Za-z0-9+/=]*/g, '[redacted key]'],
  [/eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?/g, '[redacted token]'],
  [/hws_(test|live)_[0-9A-Za-z]*/g, 'hws_$1_[redacted]'],
  [/hwh_(test|live)_[0-9A-Za-z]*/g, 'hwh_$1_[redacted]'],
  [/hak_(?:test|live)_[0-9A-Za-z]*/g, keepPrefix(API_KEY_DISPLAY_PREFIX_CHARS)],
  [/hst_[0-9A-Za-z]*/g, keepPrefix(SERVICE_TOKEN_DISPLAY_PREFIX_CHARS)],
];

// Percent-encoding hides a secret from the patterns (`hws%5Ftest%5F…`, a URL-encoded PEM); layers
// of it too (`%255F`). Decoded a few times at most: each pass at least shortens the text.
const MAX_DECODE_PASSES = 3;
const ENCODED_RUN = /(?:%[0-9A-Fa-f]{2})+/g;

function decodeRuns(text: string): string {
  return text.replace(ENCODED_RUN, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run; // not UTF-8: left as it is
    }
  });
}

/**
 * `text` with every secret-shaped part cut out. Text that hides a secret behind percent-encoding
 * is returned decoded (and redacted); other text keeps its form.
 */
export function redactSecrets(text: string): string {
  const redacted = redactPlain(text);
  if (!text.includes('%')) return redacted;
  let decoded = text;
  for (let pass = 0; pass < MAX_DECODE_PASSES && decoded.includes('%'); pass++) {
    const next = decodeRuns(decoded);
    if (next === decoded) break;
    decoded = next;
  }
  const redactedDecoded = redactPlain(decoded);
  return redactedDecoded === decoded ? redacted : redactedDecoded;
}

function redactPlain(text: string): string {
  let result = text;
  for (const [pattern, replacement] of RULES) {
    result = typeof replacement === 'string' ? result.replace(pattern, replacement) : result.replace(pattern, replacement);
  }
  return result;
}
