/** The breeder store: breeders and trials on the kernel's database (PostgreSQL or PGlite). The module imports only this file of store/. */
import type { Database } from '../../../kernel/index.ts';
import { breederRows } from './breeders.ts';
import { trialRows } from './trials.ts';
import { credentialRows } from './credentials.ts';
import { targetRows } from './targets.ts';

/** The store the service and the loop use. */
export type BreederStore = ReturnType<typeof breederRows> & { trials: ReturnType<typeof trialRows>; credentials: ReturnType<typeof credentialRows>; targets: ReturnType<typeof targetRows> };

/** Builds the store over a database. */
export function createBreederStore(db: Database): BreederStore {
  return { ...breederRows(db), trials: trialRows(db), credentials: credentialRows(db), targets: targetRows(db) };
}

export type { BreederRow, TrialRow, TrialOutcome, TrialRowState } from './rows.ts';
export type { BreederStatus } from './schema.ts';
export type { UnnumberedTrial } from './trials.ts';
export type { CredentialView } from './credentials.ts';
export type { TargetView } from './targets.ts';
