/**
 * A request the HTTP layer refuses, with the status, a stable machine code and
 * a message that says what is wrong. Answered as
 * `{ "error": { "code": "…", "message": "…" } }`.
 */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly options: {
      headers?: Readonly<Record<string, string>>;
      /** Malformed input from the client: counted in switchboard_bad_input_total and logged at a rate limit. */
      badInput?: boolean;
      /** The request body was left unread: the connection cannot be reused. */
      closeConnection?: boolean;
    } = {},
  ) {
    super(message);
  }
}

/** The error code for a status the runtime chose (RequestError). */
export const CODE_OF_STATUS: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'invalid_request',
  501: 'not_implemented',
  503: 'unavailable',
};
