/**
 * Extension event handlers are durable on the kernel bus (distributed mode: `capstan serve` processes on PostgreSQL,
 * Redis and NATS): an event published while no server runs is handled after a restart, a handler that throws gets the
 * event again, an event whose instance died while handling it goes to another instance, and with two instances each
 * event is handled by one of them.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsBus } from '../../../src/kernel/bus/nats-bus.ts';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { FAST_AGENTS } from '../../helpers/agents-server.ts';
import { startInstance, type Instance } from '../../helpers/distributed-instance.ts';
import { NATS_URL, uniqueName } from '../../helpers/env.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import type { ServerProcess } from '../../helpers/server-process.ts';
import { eventually, tempDir } from '../../kit/index.ts';

const fake = fakeLlmForFile();
const prefix = uniqueName('agentsextd').toLowerCase();
const EXT = tempDir('capstan-extensions-durable-');
const OUT = tempDir('capstan-extensions-durable-out-');
const servers: ServerProcess[] = [];
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let bus: NatsBus;

/**
 * Notes every delivery (attempts.log) and every handled event (seen.log) with its process id. An event with `flaky`
 * throws on its first delivery; one with `hang` never returns from its first delivery (until its instance dies).
 */
const NOTER = `
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
const out = ${JSON.stringify(OUT)};
export default function (capstan) {
  capstan.on('exttest.note', async (e) => {
    const { n, flaky, hang } = e.data;
    appendFileSync(out + '/attempts.log', n + ' ' + process.pid + '\\n');
    const flag = out + '/first-' + n;
    if ((flaky || hang) && !existsSync(flag)) {
      writeFileSync(flag, String(process.pid));
      if (flaky) throw new Error('first delivery fails');
      await new Promise(() => {});
    }
    appendFileSync(out + '/seen.log', n + ' ' + process.pid + '\\n');
  }, { name: 'notes' });
}
`;

const start = async (): Promise<Instance> => {
  const settings = { ...FAST_AGENTS, extensionsDir: EXT, extensionAckWaitMs: 1_500, worktreesDir: join(OUT, 'worktrees'), artifactsDir: join(OUT, 'artifacts') };
  const instance = await startInstance({ databaseUrl: db.url, prefix, fakeLlmUrl: fake.baseUrl, module: 'agents', settings, track: servers });
  const list = (await instance.api('GET', '/extensions')).body.items as { name: string; status: string; events: string[] }[];
  expect(list).toMatchObject([{ name: 'noter', status: 'loaded', events: ['exttest.note'] }]);
  return instance;
};
/** Lines of a log as [n, pid] pairs. */
const lines = (file: string): [number, number][] =>
  existsSync(join(OUT, file))
    ? readFileSync(join(OUT, file), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ').map(Number) as [number, number])
    : [];
const times = (file: string, n: number) => lines(file).filter(([m]) => m === n).length;
const note = (n: number, extra: Record<string, unknown> = {}) => bus.publish('exttest.note', { n, ...extra });

beforeAll(async () => {
  db = await createTestDatabase('agentsextd');
  mkdirSync(EXT, { recursive: true });
  writeFileSync(join(EXT, 'noter.js'), NOTER);
  bus = await NatsBus.connect({ url: NATS_URL, prefix, source: 'extensions-durable-test' });
}, 60_000);
afterAll(async () => {
  for (const s of servers) await s.stop('SIGKILL');
  await bus?.deleteStream();
  await bus?.close();
  await db?.drop();
});

describe('durable extension event handlers (distributed mode, NATS)', () => {
  let a: Instance;
  let b: Instance;

  it('handles an event published while the server was stopped once it is back; a handler that throws gets the event again', async () => {
    a = await start();
    await note(1);
    await eventually(() => expect(times('seen.log', 1)).toBe(1));
    await a.proc.stop('SIGTERM');
    // No instance runs the handler now: these wait in the handler's durable subscription.
    await note(2);
    await note(3, { flaky: true });
    a = await start();
    await eventually(() => expect([times('seen.log', 2), times('seen.log', 3)]).toEqual([1, 1]));
    // Event 3's first delivery threw (listed with the extension), the second was handled.
    expect(times('attempts.log', 3)).toBe(2);
    const errors = ((await a.api('GET', '/extensions')).body.items[0] as { handlerErrors: { type: string; error: string }[] }).handlerErrors;
    expect(errors.map((e) => [e.type, e.error])).toEqual([['exttest.note', 'first delivery fails']]);
  }, 120_000);

  it('an event whose instance died while handling it is handled by another instance', async () => {
    await note(4, { hang: true });
    // The only instance took it and hangs in the handler; it dies there without acknowledging the event.
    await eventually(() => expect(existsSync(join(OUT, 'first-4'))).toBe(true));
    await a.proc.stop('SIGKILL');
    b = await start();
    await eventually(() => expect(times('seen.log', 4)).toBe(1), { timeout: 30_000 });
    const [first, second] = lines('attempts.log').filter(([n]) => n === 4);
    expect(first![1]).not.toBe(second![1]);
  }, 120_000);

  it('with two instances each event is handled by one of them', async () => {
    a = await start();
    const ns = Array.from({ length: 20 }, (_, i) => 10 + i);
    for (const n of ns) await note(n);
    await eventually(() => expect(ns.filter((n) => times('seen.log', n) === 0)).toEqual([]));
    // Exactly once each: the two instances share one cursor (separate subscriptions would each handle every event).
    expect(ns.map((n) => times('attempts.log', n))).toEqual(ns.map(() => 1));
    expect(ns.map((n) => times('seen.log', n))).toEqual(ns.map(() => 1));
    expect(b).toBeDefined();
  }, 120_000);
});
