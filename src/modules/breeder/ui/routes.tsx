/** @jsxImportSource hono/jsx */
/** The breeder console pages, mounted by the kernel at /ui/breeder behind the console's sign-in and scope check. */
import { Hono, type Context } from 'hono';
import type { Child } from 'hono/jsx';
import { NotFound, type AppEnv } from '../../../kernel/index.ts';
import type { BreederService } from '../runtime/service.ts';
import { BreederPage } from './breeder-page.tsx';
import { BreederListPage } from './list-page.tsx';

/** Builds the /ui/breeder router. */
export function breederUi(service: BreederService): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/', async (c) => {
    const breeders = await service.list();
    const entries = await Promise.all(breeders.map(async (breeder) => ({ breeder, best: ((await service.best(breeder.id))?.values?.[0] as number | null | undefined) ?? null })));
    return page(c, 'Breeders', <BreederListPage entries={entries} />);
  });

  app.get('/:name', async (c) => {
    const name = c.req.param('name');
    let breeder;
    try {
      breeder = await service.get(name);
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
      return page(c, 'Breeder not found', <Missing name={name} />, 404);
    }
    const [trials, best, front] = await Promise.all([service.allTrials(breeder.id), service.best(breeder.id), service.pareto(breeder.id)]);
    return page(c, `Breeder ${breeder.name}`, <BreederPage data={{ breeder, trials, best, front }} />);
  });

  return app;
}

/** Renders through the console's frame (set by the kernel on every module page). */
function page(c: Context<AppEnv>, title: string, body: Child, status: 200 | 404 = 200) {
  const render = c.get('renderPage');
  if (!render) throw new Error('breeder pages must be mounted by the kernel console (no renderPage on the request)');
  return render({ title, status }, body);
}

function Missing(props: { name: string }) {
  return (
    <main>
      <section>
        <h2>Breeder not found</h2>
        <p>
          No breeder has the name or id <code>{props.name}</code>. <a href="/ui/breeder">All breeders</a>
        </p>
      </section>
    </main>
  );
}
