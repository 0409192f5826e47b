/**
 * Typed events: one definition (type + zod schema of `data`) used by the publisher and by every consumer, so no
 * consumer casts `event.data`. The producing module owns the definition and exports it from its index.ts.
 */
import type * as z from 'zod';
import { Invalid } from '../errors.ts';
import { zodIssues } from '../validation.ts';
import type { OutboxEvent } from '../outbox.ts';
import type { EventBus, EventEnvelope, EventHandler, PublishOptions } from './port.ts';
import { subjectOf, validateType } from './subject-pattern.ts';

/** What a typed handler does with an event whose data does not match the schema. */
export type InvalidEventPolicy = 'throw' | ((event: EventEnvelope, error: Invalid) => void);

/** One event type and the shape of its data. */
export interface EventDefinition<S extends z.ZodType> {
  readonly type: string;
  readonly schema: S;
  /** The subject to subscribe to: the type, plus routing tokens (or `*`/`>` wildcards) when given. */
  subject(route?: string[]): string;
  /** The event's data, checked; Invalid (paths under `data`) when it does not match. */
  parse(event: EventEnvelope): z.output<S>;
  /** Publishes `data` after checking it against the schema (Invalid before anything is sent). */
  publish(bus: EventBus, data: z.input<S>, opts?: PublishOptions): Promise<EventEnvelope<z.output<S>>>;
  /** An outbox row for this event (written in the transaction of its change); typed, not re-checked at run time. */
  outbox(data: z.input<S>, opts?: Omit<OutboxEvent, 'type' | 'data'>): OutboxEvent;
  /**
   * A bus handler that hands `fn` the event with typed data. Data that does not match goes to `onInvalid` (log it;
   * the event is then acknowledged) or, with 'throw' (the default), fails the handler (a durable redelivers it).
   */
  handler(fn: (event: EventEnvelope<z.output<S>>) => void | Promise<void>, onInvalid?: InvalidEventPolicy): EventHandler;
}

/** Defines an event type (`<module>.<noun>.<verb>`) with the zod schema of its data. */
export function defineEvent<S extends z.ZodType>(type: string, schema: S): EventDefinition<S> {
  validateType(type);
  const parse = (event: EventEnvelope): z.output<S> => {
    const r = schema.safeParse(event.data);
    if (r.success) return r.data;
    throw new Invalid(`event ${event.type} ${event.id} has malformed data`, zodIssues(r.error, 'data'));
  };
  return {
    type,
    schema,
    subject: (route) => subjectOf(type, route),
    parse,
    async publish(bus, data, opts) {
      const r = schema.safeParse(data);
      if (!r.success) throw new Invalid(`event ${type} has malformed data`, zodIssues(r.error, 'data'));
      return bus.publish(type, r.data as z.output<S>, opts);
    },
    outbox: (data, opts = {}) => ({ ...opts, type, data }),
    handler(fn, onInvalid = 'throw') {
      return async (event) => {
        let data: z.output<S>;
        try {
          data = parse(event);
        } catch (err) {
          if (onInvalid === 'throw' || !(err instanceof Invalid)) throw err;
          onInvalid(event, err);
          return;
        }
        await fn({ ...event, data });
      };
    },
  };
}
