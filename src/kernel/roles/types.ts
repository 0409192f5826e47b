/** The Roles contract: named pieces of work held by exactly one instance at a time through a kernel lease. */
import type { Member } from './membership.ts';

/** What a role's work gets to know about its tenure. */
export interface HeldRole {
  /** The role (lease) name. */
  name: string;
  /** The set it belongs to: the set name for a sharded role, the role's own name otherwise. */
  set: string;
  /** Index of the shard within its set (0 for a plain role). */
  shard: number;
  /** The lease's fencing token: strictly larger for every later holder, so a store can refuse a stale holder's write. */
  token: number;
  /** This instance's id (the lease owner). */
  owner: string;
}

/**
 * The work done while a role is held. It must return soon after `signal` aborts (the lease was lost, the role is
 * handed over to another instance, or the handle was stopped); the lease is released only after it returned, so the
 * next holder never overlaps a holder that stops in time. Returning early releases the role (it is taken again after a
 * pause); throwing is logged and does the same.
 */
export type RoleWork = (signal: AbortSignal, held: HeldRole) => Promise<void>;

/** Options of a plain role. */
export interface RoleOptions {
  /** Lease TTL: a crashed holder's role is free again within this. Integer ≥ 300 ms. */
  ttlMs: number;
}

/** Options of a sharded role set. */
export interface ShardOptions extends RoleOptions {
  /**
   * A role this instance is not assigned but that nobody has held for this long is taken anyway, so an assignee
   * that cannot take it (its lease store is unreachable, it is stuck) delays the work by this much at most.
   * Default: twice the larger of ttlMs and the membership timeout.
   */
  graceMs?: number;
}

/** A running role or role set; stop() ends its work and releases what it holds. */
export interface RoleHandle {
  /** Names of the roles this handle holds now. */
  held(): string[];
  /** Aborts the work, waits for it to return, releases the leases; no new attempts after it resolves. */
  stop(): Promise<void>;
}

/** Roles of one instance: plain roles (first come, first served) and sharded role sets spread over live members. */
export interface Roles {
  /** This instance's id: the owner of its leases and its member id. */
  readonly self: string;
  /**
   * Keeps trying to hold `name`; while held, runs `work`. Any instance may win it: use this for a singleton (one
   * outbox relay, one scheduler per deployment).
   */
  holdRole(name: string, opts: RoleOptions, work: RoleWork): RoleHandle;
  /**
   * Holds some of `names` (the shards of `set`): each is assigned to one of the live members that run the set
   * (balanced per set, see assignRoles) and only its assignee tries to acquire it. When members join or leave, a
   * holder hands a role over once its new assignee asks for it. `work` is called per held shard. Joins this
   * instance to the membership and announces the set there.
   */
  holdShards(set: string, names: readonly string[], opts: ShardOptions, work: RoleWork): RoleHandle;
  /** Live members of the role membership as this instance sees them, sorted by id (empty until it joined). */
  members(): Member[];
  /** Names of every role this instance holds now. */
  held(): string[];
  /** Stops every handle, then leaves the membership. */
  close(): Promise<void>;
}
