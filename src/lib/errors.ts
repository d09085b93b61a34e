/**
 * The one error type the services throw. Codes are stable and never renamed or reused; each maps
 * to exactly one HTTP status here. `detail` is for Herald's own logs (the precise reason a request
 * was rejected) and never goes to the client; it must not contain secrets.
 */
const STATUS = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  KEY_REVOKED: 401,
  KEY_EXPIRED: 401,
  SIGNATURE_INVALID: 401,
  SIGNATURE_EXPIRED: 401,
  TOKEN_INVALID: 401,
  TOKEN_EXPIRED: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  ORIGIN_NOT_ALLOWED: 403,
  SUBSCRIBER_MISMATCH: 403,
  TENANT_NOT_IN_SCOPE: 403,
  SESSION_NOT_FRESH: 403,
  CSRF_TOKEN_INVALID: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  SERVICE_UNAVAILABLE: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof STATUS;

/** Every code, in table order (the OpenAPI document's error `type` enum is built from it). */
export const ERROR_CODES = Object.keys(STATUS) as ErrorCode[];

export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, message: string, options: { detail?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = options.detail;
  }

  get status(): number {
    return STATUS[this.code];
  }
}

export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}

/** The server cannot start for a reason the operator can fix (a port in use): a message, no stack. */
export class StartupError extends Error {
  override name = 'StartupError';
}
