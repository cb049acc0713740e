/**
 * Every refused request gets `{"error": {"status", "code", "message"}}` with a message that names
 * the field and, for limits, the limit and the flag that sets it. Limits are 413, other bad input
 * 400 (415 for a body that is not JSON), a full queue 429; 5xx only for the server's own faults.
 */
import type { FastifyError } from 'fastify';
import type { Limits } from './options.js';
import { PREDICT_FIELDS } from './schemas.js';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

export function errorBody(e: ApiError): { error: { status: number; code: string; message: string } } {
  return { error: { status: e.status, code: e.code, message: e.message } };
}

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Maps what fastify throws before a handler runs (body parsing, schema validation) to an ApiError. */
export function fromFastify(e: FastifyError & { validation?: AjvError[] }, limits: Limits): ApiError {
  if (e instanceof ApiError) return e;
  if (e.validation?.length) return fromValidation(e.validation[0]!, limits);
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'body_too_large', `the request body is larger than ${limits.maxBodyBytes} bytes (the server's limit, --max-body-bytes)`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'unsupported_media_type', 'send the body as JSON with Content-Type: application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'empty_body', 'the body is empty; send a JSON object such as {"text": "..."}');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, 'bad_content_length', 'the Content-Length header does not match the body');
  }
  if (e instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return new ApiError(400, 'invalid_json', `the body is not valid JSON: ${e.message}`);
  const status = e.statusCode ?? 500;
  if (status >= 400 && status < 500) return new ApiError(status, e.code ? e.code.toLowerCase() : 'bad_request', e.message);
  return new ApiError(500, 'internal', `internal error: ${e.message}`);
}

function fromValidation(v: AjvError, l: Limits): ApiError {
  const field = fieldName(v.instancePath);
  switch (v.keyword) {
    case 'maxItems':
      if (field === 'texts' || field === 'pairs') return new ApiError(413, 'too_many_texts', `"${field}" has more than ${l.maxTexts} entries (the server's limit per request, --max-texts); split it into several requests`);
      break;
    case 'maxLength':
      if (/^(text|pair|texts\[\d+\]|pairs\[\d+\])$/.test(field)) return new ApiError(413, 'text_too_long', `${field} is longer than ${l.maxChars} characters (the server's limit, --max-chars)`);
      break;
    case 'additionalProperties':
      return new ApiError(400, 'unknown_field', `unknown field "${String(v.params.additionalProperty)}"${field ? ` in ${field}` : ''} (fields: ${PREDICT_FIELDS.join(', ')})`);
    case 'type':
      return new ApiError(400, 'wrong_type', `${field || 'the body'} must be ${article(String(v.params.type))}`);
    case 'maximum':
      return new ApiError(400, field === 'top_k' ? 'top_k_too_large' : 'invalid_request', `${field} must be at most ${String(v.params.limit)}${field === 'top_k' ? " (the server's limit, --max-top-k)" : ''}`);
    case 'minItems':
      return new ApiError(400, 'empty_list', `"${field}" must not be empty`);
  }
  return new ApiError(400, 'invalid_request', `${field || 'the body'} ${v.message ?? 'is invalid'}`);
}

/** Ajv's /texts/3 as texts[3]. */
function fieldName(instancePath: string): string {
  return instancePath
    .split('/')
    .filter(Boolean)
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
}

function article(type: string): string {
  if (type === 'object') return 'a JSON object';
  if (type === 'array') return 'an array';
  if (type === 'integer') return 'a whole number';
  if (type.includes(',')) return `one of ${type}`;
  return `a ${type}`;
}
