/** Roles: work held by one instance at a time (kernel leases), membership, and sharded role sets spread over members. */
export type { HeldRole, RoleHandle, RoleOptions, Roles, RoleWork, ShardOptions } from './types.ts';
export { createRoles, type RolesOptions } from './roles.ts';
export { Membership, type Member, type MembershipOptions } from './membership.ts';
export { assignRoles } from './assignment.ts';
