/**
 * The service's one error vocabulary. Domain code throws these; one mapping (in the HTTP layer) turns them
 * into the API's `{"error": {"code", "message"}}` shape. Anything else is an internal error and its details
 * never reach a client.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidRequestError extends AppError {
  constructor(message: string, code = 'invalid_request') {
    super(400, code, message);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'A valid bearer token is required') {
    super(401, 'unauthorized', message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'You may not do this here') {
    super(403, 'forbidden', message);
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'Not found') {
    super(404, 'not_found', message);
  }
}

export class ConflictError extends AppError {
  constructor(message: string) {
    super(409, 'conflict', message);
  }
}

/** What the request points at existed once and is gone for good (a feed cursor past its retention). */
export class GoneError extends AppError {
  constructor(message: string, code: string) {
    super(410, code, message);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super(413, 'payload_too_large', `The request body exceeds ${limitBytes} bytes`);
  }
}

export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number) {
    super(429, 'rate_limited', 'Too many requests; slow down', { 'Retry-After': String(retryAfterSeconds) });
  }
}

/** A store is down, disabled or too slow: the client should retry later. */
export class StoreUnavailableError extends AppError {
  constructor(
    readonly store: 'scylla' | 'postgres' | 'redis',
    detail: string,
    retryAfterSeconds = 1,
  ) {
    super(503, 'unavailable', `The ${store} store is unavailable; retry shortly`, {
      'Retry-After': String(retryAfterSeconds),
    });
    this.detail = detail;
  }
  readonly detail: string;
}
