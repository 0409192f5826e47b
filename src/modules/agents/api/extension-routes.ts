/** GET /api/v1/agents/extensions (loaded and failed extension files) and POST /extensions/commands/{name} (run a command). */
import { z } from '@hono/zod-openapi';
import { defineRoute, NotFound, storableText, type ApiRouter } from '../../../kernel/index.ts';
import type { ExtensionHost } from '../runtime/extensions/host.ts';

const commandParam = z.object({ name: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'a command name: lower-case letters, digits and -') });
const commandBody = z.strictObject({ argv: z.array(storableText(z.string().max(10_000))).max(200).default([]) });
const ok = (description: string) => ({ description, content: { 'application/json': { schema: z.any() } } });

/** Adds the extension routes to the module's router. */
export function extensionRoutes(extensions: ExtensionHost) {
  return (app: ApiRouter): void => {
    app.openapi(defineRoute({ method: 'get', path: '/extensions', operationId: 'listAgentExtensions', summary: 'Extension files: what each registered, or why it was skipped', responses: { 200: ok('the extensions') } }), async (c) => {
      await extensions.ready;
      return c.json({ items: extensions.list() });
    });
    app.openapi(
      defineRoute({ method: 'post', path: '/extensions/commands/{name}', operationId: 'runAgentExtensionCommand', summary: "Run an extension's command on the server (capstan agents ext NAME ...)", errors: [400, 404], request: { params: commandParam, body: { content: { 'application/json': { schema: commandBody } }, required: true } }, responses: { 200: ok('its exit code and output') } }),
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
