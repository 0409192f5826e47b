/** Building envelopes for publication and validating envelopes that arrive from the network. */
import * as z from 'zod';
import { Invalid } from '../errors.ts';
import { newId } from '../ids.ts';
import type { EventEnvelope, PublishOptions } from './port.ts';
import { isValidType, subjectOf, validateRoute, validateType } from './subject-pattern.ts';

/** The wire shape of an envelope; anything received from NATS is parsed with it before a handler sees it. */
export const envelopeSchema = z.object({
  id: z.string().min(1).max(200),
  type: z.string().refine(isValidType, 'type must be dotted tokens without wildcards or spaces'),
  time: z.iso.datetime({ offset: true }),
  source: z.string(),
  correlationId: z.string().optional(),
  traceparent: z.string().max(200).optional(),
  data: z.unknown(),
});

/** Builds a validated envelope and the subject it travels on (the type plus `opts.route`). */
export function buildEnvelope<T>(type: string, data: T, defaultSource: string, opts: PublishOptions = {}): { envelope: EventEnvelope<T>; json: string; subject: string } {
  validateType(type);
  validateRoute(opts.route);
  const subject = subjectOf(type, opts.route);
  if (opts.id !== undefined && (opts.id.length === 0 || opts.id.length > 200)) {
    throw new Invalid('invalid event id', [{ path: 'id', message: 'must be 1 to 200 characters' }]);
  }
  const envelope: EventEnvelope<T> = { id: opts.id ?? newId(), type, time: new Date().toISOString(), source: opts.source ?? defaultSource, data };
  // Only set when given, so an envelope equals itself after a JSON round trip.
  if (opts.correlationId !== undefined) envelope.correlationId = opts.correlationId;
  if (opts.traceparent !== undefined) envelope.traceparent = opts.traceparent;
  let json: string;
  try {
    json = JSON.stringify(envelope);
  } catch (err) {
    throw new Invalid(`event data is not JSON-serialisable: ${(err as Error).message}`, [{ path: 'data', message: 'must be JSON-serialisable' }]);
  }
  return { envelope, json, subject };
}

/**
 * Parses a wire message into an envelope, or says why it is malformed. When `subject` is given, the envelope's type
 * must be that subject or its leading tokens (the rest are routing tokens).
 */
export function parseEnvelope(text: string, subject?: string): { ok: true; envelope: EventEnvelope } | { ok: false; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed = envelopeSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
  // The subject routes the event, so an envelope claiming another type would mislead its reader.
  const type = parsed.data.type;
  if (subject !== undefined && type !== subject && !(subject.length > type.length && subject.startsWith(type) && subject[type.length] === '.')) {
    return { ok: false, reason: `type '${type}' differs from subject '${subject}'` };
  }
  return { ok: true, envelope: parsed.data as EventEnvelope };
}
