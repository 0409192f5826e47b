/** The target service: parses and stores targets, and hands SSH effectuation a stored ssh target's connection. */
import { Invalid, zodIssues } from '../../../kernel/index.ts';
import { TargetInputSchema } from '../model/target.ts';
import type { BreederStore, TargetView } from '../store/index.ts';
import type { HttpTarget } from './effectuate.ts';
import type { SshConnection } from './effectuation/ssh.ts';

/** Creates, lists and deletes targets. */
export class TargetService {
  constructor(private readonly store: BreederStore) {}

  /** Stores a target; 400 naming the field when it is malformed, 409 when the name is taken. */
  async create(input: unknown): Promise<TargetView> {
    const r = TargetInputSchema.safeParse(input);
    if (!r.success) throw new Invalid('invalid target', zodIssues(r.error, 'body'));
    return this.store.targets.create(r.data);
  }

  /** Every target. */
  list(): Promise<TargetView[]> {
    return this.store.targets.list();
  }

  /** One target by name. */
  get(name: string): Promise<TargetView> {
    return this.store.targets.get(name);
  }

  /** Deletes a target (breeders naming it fail their next trial until it exists again). */
  remove(name: string): Promise<void> {
    return this.store.targets.remove(name);
  }

  /** The connection of an ssh target, read at each effectuation so a changed target applies at once. */
  async ssh(name: string): Promise<SshConnection> {
    const t = await this.store.targets.get(name);
    if (t.kind !== 'ssh') throw new Error(`target '${name}' is an ${t.kind} target, not ssh`);
    return { host: t.host, port: t.port, user: t.user, credential: t.credential, host_key: t.host_key, host_key_check: t.host_key_check };
  }

  /** The URL and credential of an http target, read at each effectuation so a changed target applies at once. */
  async http(name: string): Promise<HttpTarget> {
    const t = await this.store.targets.get(name);
    if (t.kind !== 'http') throw new Error(`target '${name}' is an ${t.kind} target, not http`);
    return { url: t.url, credential: t.credential };
  }
}
