/**
 * Until issue 8, one drizzle journal (./drizzle) held every owner's migrations and kernel_migrations recorded bare
 * tags. Each of those migrations now lives, with the same SQL, in its owner's journal under a new tag; this map lets
 * the migrator (and archive import) carry an old record over instead of running a migration a second time.
 */
export const LEGACY_TAGS: Readonly<Record<string, { module: string; tag: string }>> = {
  '0000_kernel_outbox': { module: 'kernel', tag: '0000_kernel_outbox' },
  '0001_workflow_tables': { module: 'workflow', tag: '0000_workflow_tables' },
  '0002_kernel_outbox_subject': { module: 'kernel', tag: '0001_kernel_outbox_subject' },
  '0003_kernel_outbox_traceparent': { module: 'kernel', tag: '0002_kernel_outbox_traceparent' },
  '0004_breeder_tables': { module: 'breeder', tag: '0000_breeder_tables' },
  '0005_cascades_tables': { module: 'cascades', tag: '0000_cascades_tables' },
  '0006_agents_tables': { module: 'agents', tag: '0000_agents_tables' },
};

/** The owner-qualified name (`module/tag`) of a migration recorded by the old single journal; unknown tags stay as they are. */
export function qualifyLegacyTag(tag: string): string {
  const m = LEGACY_TAGS[tag];
  return m ? `${m.module}/${m.tag}` : tag;
}
