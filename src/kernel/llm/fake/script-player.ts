/** Chooses the scripted reply for a request: the first reply whose rule holds and that is not used up, per session. */
import { lastUserRegex, type FakeReply, type FakeScript } from './script.ts';

/** What the player looks at in a request. */
export interface RequestView {
  model: string;
  lastUser: string;
  header(name: string): string | null;
}

type Test = (r: RequestView) => boolean;

function compile(reply: FakeReply): Test {
  const m = reply.match;
  if (!m) return () => true;
  const tests: Test[] = [];
  if (m.model !== undefined) tests.push((r) => r.model === m.model);
  if (m.lastUser !== undefined) {
    const rule = m.lastUser;
    if (rule.startsWith('/')) {
      const re = lastUserRegex(rule);
      tests.push((r) => re.test(r.lastUser));
    } else tests.push((r) => r.lastUser.includes(rule));
  }
  for (const [name, value] of Object.entries(m.header ?? {})) tests.push((r) => r.header(name) === value);
  return (r) => tests.every((t) => t(r));
}

/** Plays one script; `reset()` forgets what was used. */
export class ScriptPlayer {
  readonly #tests: Test[];
  readonly #used = new Map<string, Uint32Array>();

  constructor(readonly script: FakeScript) {
    this.#tests = script.replies.map(compile);
  }

  /** The reply for this request (consuming one use of it), or `otherwise`, or undefined for echo. */
  next(r: RequestView): FakeReply | undefined {
    const header = this.script.sessionHeader;
    const session = header ? (r.header(header) ?? '') : '';
    let used = this.#used.get(session);
    if (!used) {
      used = new Uint32Array(this.script.replies.length);
      this.#used.set(session, used);
    }
    for (const [i, reply] of this.script.replies.entries()) {
      if (reply.times !== 'always' && used[i]! >= reply.times) continue;
      if (!this.#tests[i]!(r)) continue;
      used[i]!++;
      return reply;
    }
    return this.script.otherwise;
  }

  reset(): void {
    this.#used.clear();
  }
}
