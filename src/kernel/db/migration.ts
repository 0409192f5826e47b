/** What a migration is, and whose: the kernel's and each module's migrations are separate journals. */

/** One migration: drizzle's tag (file name without .sql) and its SQL text. */
export interface Migration {
  readonly tag: string;
  readonly sql: string;
}

/** One owner's journal: `kernel` or a module's name, and its migrations in journal order. */
export interface MigrationSet {
  readonly module: string;
  readonly migrations: readonly Migration[];
}
