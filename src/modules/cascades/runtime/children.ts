/**
 * Starting child sessions from a running session, and what a child's end does to its parent: a waited-for child
 * wakes the parent (which a worker then resumes), a detached one (async_cascades) leaves its result in the parent's log.
 */
import { interpolate, Invalid, NotFound, type JobQueue, type Logger } from '../../../kernel/index.ts';
import type { CascadeDefinition } from '../model/definition.ts';
import { checkDefinition, checkInputs } from '../model/parse-definition.ts';
import type { Session } from '../model/session.ts';
import { resultOf, type CascadeStore, type ChildSessionStore, type NewChild } from '../store/index.ts';
import { enqueueSession } from './queue.ts';

/** How deep children may nest (a child of a child ...): a cascade that starts itself stops here instead of forever. */
export const MAX_CHILD_DEPTH = 5;

/** Starts children and tells parents about ended ones. One per worker; stateless. */
export class ChildRunner {
  constructor(
    private readonly store: CascadeStore,
    readonly children: ChildSessionStore,
    private readonly queue: JobQueue,
    private readonly log: Logger,
  ) {}

  /** A saved cascade's checked definition, or NotFound. */
  async definition(cascade: string): Promise<CascadeDefinition> {
    const stored = await this.store.getDefinition(cascade);
    if (!stored) throw new NotFound(`cascade '${cascade}'`);
    return checkDefinition(stored.spec);
  }

  /**
   * A child of saved cascade `cascade` with `inputs` rendered from their templates over `scope` (or taken as they are
   * when `scope` is null) and checked against
   * the cascade's inputs_schema (Invalid names the input).
   */
  async prepare(id: string, cascade: string, inputs: Record<string, unknown>, scope: Record<string, unknown> | null, defs = new Map<string, CascadeDefinition>()): Promise<NewChild> {
    let spec = defs.get(cascade);
    if (!spec) {
      spec = await this.definition(cascade);
      defs.set(cascade, spec);
    }
    // null scope: values as given (a model's tool arguments, an answer to validate), never read as templates.
    const values = scope === null ? inputs : (interpolate(inputs, scope) as Record<string, unknown>);
    return { id, spec, inputs: checkInputs(spec, values) };
  }

  /** Creates the children that do not exist yet and queues every one given (a queued job of a running child is a no-op); Invalid past MAX_CHILD_DEPTH. */
  async start(parentId: string, kids: NewChild[], detached = false): Promise<void> {
    if (kids.length === 0) return;
    const depth = (await this.children.depthOf(parentId)) ?? 0;
    if (depth + 1 > MAX_CHILD_DEPTH) throw new Invalid(`sub-cascades nest deeper than ${MAX_CHILD_DEPTH} levels (does a cascade start itself?)`, [{ path: 'cascade', message: `depth ${depth + 1} > ${MAX_CHILD_DEPTH}` }]);
    await this.children.create(parentId, kids, detached);
    for (const k of kids) await enqueueSession(this.queue, k.id, 'start');
  }

  /**
   * Called once a child session has ended (completed, error, cancelled) on this instance: wakes its waiting parent,
   * or logs a detached child's result on the parent. A crash before this runs is covered by the sweeper for waits.
   */
  async ended(child: Session): Promise<void> {
    const parent = child.parentSessionId;
    if (!parent) return;
    try {
      if (child.detached) {
        await this.children.appendLog(parent, { phase: null, turn: null, kind: 'async_cascade', content: { sessionId: child.id, cascadeId: child.cascadeId, status: child.status, output: resultOf(child), error: child.error } });
      } else if (await this.children.wakeParent(parent)) {
        await enqueueSession(this.queue, parent, `c${child.id}`);
      }
    } catch (err) {
      this.log.warn({ err, session: child.id, parent }, 'could not tell the parent session that its child ended; the sweeper wakes it');
    }
  }
}
