/**
 * JSON schemas of the HTTP API: fastify validates request bodies with them (Ajv, no type coercion,
 * unknown fields refused) and @fastify/swagger turns them into /openapi.json.
 */
import type { Limits } from './options.js';

export interface PredictBody {
  text?: string;
  texts?: string[];
  pair?: string;
  pairs?: string[];
  tasks?: string[];
  top_k?: number;
}

export const PREDICT_FIELDS = ['text', 'texts', 'pair', 'pairs', 'tasks', 'top_k'] as const;

export function predictBodySchema(l: Limits) {
  const text = { type: 'string', maxLength: l.maxChars };
  const list = (description: string) => ({ type: 'array', minItems: 1, maxItems: l.maxTexts, items: text, description });
  return {
    type: 'object',
    description: 'Give exactly one of `text` or `texts`. Pair tasks take the second text in `pair` / `pairs` (same length as `texts`).',
    additionalProperties: false,
    properties: {
      text: { ...text, description: 'one text' },
      texts: list(`up to ${l.maxTexts} texts; results come back in the same order`),
      pair: { ...text, description: 'the second text of a pair task, with `text`' },
      pairs: list('the second texts of a pair task, one per entry of `texts`'),
      tasks: { type: 'array', minItems: 1, maxItems: 256, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 256 }, description: 'tasks to answer (default: every task of the model)' },
      top_k: { type: 'integer', minimum: 1, maximum: l.maxTopK, description: 'labels or replies per task (default 1 for classifiers, 3 for replies)' },
    },
  } as const;
}

const scored = { type: 'object', properties: { label: { type: 'string' }, score: { type: 'number' } } } as const;
const labelResult = { type: 'object', description: 'classify / pair task', properties: { label: { type: 'string' }, score: { type: 'number', description: 'probability' }, top: { type: 'array', items: scored } } } as const;
const replyResult = {
  type: 'object',
  description: 'reply task: the best replies of the model reply set',
  properties: { replies: { type: 'array', items: { type: 'object', properties: { text: { type: 'string' }, score: { type: 'number' } } } } },
} as const;

export const predictResponseSchema = {
  type: 'object',
  properties: {
    model: { type: 'string' },
    version: { type: 'integer', description: 'the model version that answered (1, +1 per reload)' },
    results: { type: 'array', description: 'one object per input, keyed by task name', items: { type: 'object', additionalProperties: { anyOf: [labelResult, replyResult] } } },
  },
} as const;

export const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { status: { type: 'integer' }, code: { type: 'string' }, message: { type: 'string', description: 'what was wrong, naming the field and the limit' } },
    },
  },
} as const;

const task = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    kind: { type: 'string', enum: ['classify', 'pair', 'reply'] },
    labels: { type: 'array', items: { type: 'string' } },
    replies: { type: 'integer' },
    default_top_k: { type: 'integer' },
    max_top_k: { type: 'integer' },
  },
} as const;

export const modelSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    kind: { type: 'string', description: "the model's architecture (sequence-classifier, bi-encoder, dan, ...)" },
    version: { type: 'integer' },
    loaded_at: { type: 'string' },
    created: { type: 'string' },
    bytes: { type: 'integer', description: 'size of the model folder' },
    tasks: { type: 'array', items: task },
  },
} as const;

export const modelsSchema = { type: 'object', properties: { models: { type: 'array', items: modelSchema } } } as const;

export const reloadBodySchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { dir: { type: 'string', minLength: 1, description: 'load from this folder from now on (default: the folder it was loaded from)' } },
} as const;
