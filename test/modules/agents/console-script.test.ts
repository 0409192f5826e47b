/** The agents console's browser scripts, run against a stub DOM and EventSource: live list rows and the live log. */
import { describe, expect, it } from 'vitest';
import { AGENT_SCRIPT, LIST_SCRIPT } from '../../../src/modules/agents/ui/live-script.ts';

/** A stand-in for the browser's EventSource that lets the test deliver messages and named events. */
class FakeSource {
  static CLOSED = 2;
  static last: FakeSource;
  readyState = 1;
  closed = false;
  onopen?: () => void;
  onerror?: () => void;
  onmessage?: (m: { data: string }) => void;
  readonly listeners = new Map<string, () => void>();
  constructor(readonly url: string) {
    FakeSource.last = this;
  }
  addEventListener(name: string, fn: () => void) {
    this.listeners.set(name, fn);
  }
  close() {
    this.closed = true;
  }
  send(data: unknown) {
    this.onmessage?.({ data: JSON.stringify(data) });
  }
}

const cell = () => ({ textContent: '', className: '' });

describe('agents console scripts', () => {
  it('the agent page appends new log rows once each and reloads when the agent ended', () => {
    const log = { dataset: { agent: 'a 1', after: '5', ended: 'false' }, textContent: '[turn 1] assistant {}' };
    let reloads = 0;
    new Function('document', 'EventSource', 'location', AGENT_SCRIPT)({ getElementById: () => log }, FakeSource, { reload: () => reloads++ });
    const source = FakeSource.last;
    expect(source.url).toBe('/api/v1/agents/agents/a%201/logs?follow=1&after=5');
    source.send({ id: 5, turn: 1, kind: 'assistant', content: {} });
    source.send({ id: 6, turn: 2, kind: 'tool', content: { name: 'write_file' } });
    // A reconnect replays from the page's first id: rows already shown are skipped.
    source.send({ id: 6, turn: 2, kind: 'tool', content: { name: 'write_file' } });
    expect(log.textContent).toBe('[turn 1] assistant {}\n[turn 2] tool {"name":"write_file"}');
    source.listeners.get('end')!();
    expect([source.closed, reloads]).toEqual([true, 1]);
  });

  it('the agent page of an ended agent opens no stream', () => {
    FakeSource.last = undefined as unknown as FakeSource;
    new Function('document', 'EventSource', 'location', AGENT_SCRIPT)({ getElementById: () => ({ dataset: { agent: 'x', after: '0', ended: 'true' } }) }, FakeSource, { reload: () => undefined });
    expect(FakeSource.last).toBeUndefined();
  });

  it('the list follows agents.> and updates status and turn of the rows it shows; an unknown agent reloads the page', () => {
    const row = { status: cell(), turn: cell() };
    const doc = {
      body: { dataset: {} as Record<string, string> },
      querySelector: (sel: string) => (sel === 'tr[data-agent="a1"]' ? { querySelector: (f: string) => (f.includes('status') ? row.status : row.turn) } : null),
    };
    let reloads = 0;
    const timers: (() => void)[] = [];
    new Function('document', 'EventSource', 'location', 'CSS', 'setTimeout', 'clearTimeout', LIST_SCRIPT)(doc, FakeSource, { reload: () => reloads++ }, { escape: (s: string) => s }, (fn: () => void) => timers.push(fn), () => undefined);
    const source = FakeSource.last;
    expect(source.url).toBe('/api/v1/events?pattern=agents.%3E');
    source.onopen!();
    expect(doc.body.dataset.live).toBe('open');
    source.send({ type: 'agents.agent.started', data: { agentId: 'a1' } });
    source.send({ type: 'agents.agent.turn', data: { agentId: 'a1', turn: 3 } });
    expect([row.status.textContent, row.turn.textContent]).toEqual(['running', '3']);
    source.send({ type: 'agents.agent.failed', data: { agentId: 'a1', reason: 'x' } });
    expect([row.status.textContent, row.status.className]).toEqual(['failed', 'bad']);
    expect(timers).toHaveLength(0);
    source.send({ type: 'agents.agent.queued', data: { agentId: 'new-one' } });
    source.send({ type: 'agents.swarm.started', data: { swarmId: 's' } });
    // One reload however many unknown things arrive.
    expect(timers).toHaveLength(1);
    timers[0]!();
    expect(reloads).toBe(1);
  });
});
