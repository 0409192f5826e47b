/** GET /api/v1/agents/extensions (loaded and failed extension files) and POST /extensions/commands/{name} (run a command). */
import { NotFound, type ApiRouter } from '../../../kernel/index.ts';
import type { ExtensionHost } from '../runtime/extensions/host.ts';
import { ops } from './operations.ts';

/** Adds the extension routes to the module's router. */
export function extensionRoutes(extensions: ExtensionHost) {
  return (app: ApiRouter): void => {
    app.openapi(ops.listAgentExtensions, async (c) => {
      await extensions.ready;
      return c.json({ items: extensions.list() });
    });
    app.openapi(
      ops.runAgentExtensionCommand,
      async (c) => {
        await extensions.ready;
        const { name } = c.req.valid('param');
        const outcome = await extensions.runCommand(name, c.req.valid('json').argv);
        if (!outcome) throw new NotFound(`extension command '${name}'`);
        return c.json(outcome);
      },
    );
  };
}
