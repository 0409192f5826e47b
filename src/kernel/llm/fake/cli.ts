/** `capstan dev fake-llm`: runs the fake OpenAI-compatible server in the foreground until SIGINT/SIGTERM. */
import { parseFlags, parsePort, UsageError } from '../../cli/args.ts';
import { Invalid } from '../../errors.ts';
import type { DevCommand } from '../../module.ts';
import { startFakeLlm } from './fake-server.ts';
import { loadScriptFile, type FakeScript } from './script.ts';

function nonNegative(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${flag} must be a non-negative integer, got '${value}'`);
  return n;
}

/** The dev command. */
export const fakeLlmCommand: DevCommand = {
  description: 'a fake OpenAI-compatible LLM server (echo, or scripted replies) for tests and benchmarks',
  usage: 'fake-llm [--port N] [--host H] [--script file.yaml] [--latency-ms N] [--api-key-env VAR] [--keep N]',
  async run(argv) {
    const { values } = parseFlags(argv, {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      script: { type: 'string' },
      'latency-ms': { type: 'string' },
      'api-key-env': { type: 'string' },
      keep: { type: 'string' },
    });
    let script: FakeScript | undefined;
    if (values.script) {
      try {
        script = loadScriptFile(values.script);
      } catch (err) {
        if (err instanceof Invalid) throw new UsageError(`${values.script}: ${err.message}${err.issues.map((i) => `\n  ${i.path}: ${i.message}`).join('')}`);
        throw new UsageError(`cannot read --script ${values.script}: ${(err as Error).message}`);
      }
    }
    let apiKey: string | undefined;
    if (values['api-key-env']) {
      apiKey = process.env[values['api-key-env']];
      if (!apiKey) throw new UsageError(`--api-key-env names ${values['api-key-env']}, which is not set`);
    }
    const server = startFakeLlm({ port: parsePort(values.port) ?? 0, host: values.host, script, latencyMs: nonNegative('latency-ms', values['latency-ms']), apiKey, keep: nonNegative('keep', values.keep) });
    // Handlers go in before the line a supervisor waits for.
    const stopped = new Promise<void>((resolve) => {
      const stop = () => void server.stop().then(resolve);
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    console.log(`fake-llm listening on ${server.url} (POST /v1/chat/completions; GET /_fake/requests; PUT /_fake/script; POST /_fake/reset)`);
    await stopped;
    return 0;
  },
};
