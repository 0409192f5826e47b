/**
 * The `browser` tool's machinery: one Chromium per worker process (Debian's, driven by playwright-core), one browser
 * context per session (its own cookies and storage), at most `maxPages` pages per session, closed when the session's
 * run ends on this worker. Every request a page makes (navigation, redirect, sub-resource) must go to a host of the
 * cascade's `allow_hosts`, the same list http_get obeys; others are aborted.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';

/**
 * playwright-core is loaded on first use, by a name the bundler cannot see: at load time it resolves its own
 * package.json from node_modules, which the compiled binary (and so the container) does not have, so a static
 * import stopped `capstan` from starting there. Without node_modules the tool fails with this message instead.
 */
const PLAYWRIGHT = 'playwright-core';
async function launchChromium(executablePath: string): Promise<Browser> {
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = (await import(PLAYWRIGHT)) as typeof import('playwright-core'));
  } catch (err) {
    throw new Error(`the browser tool needs the playwright-core package, which this build does not carry (run from source with its dependencies installed): ${(err as Error).message}`);
  }
  return chromium.launch({ executablePath, args: ['--no-sandbox'] });
}
import { hostAllowed, newId, parseHostAllowlist, type Logger } from '../../../kernel/index.ts';
import type { BrowserSnapshot } from '../model/session.ts';

/**
 * Largest browser snapshot a checkpoint keeps (characters of its JSON). Every turn writes a checkpoint row, so this
 * bounds what a browsing session adds per turn. Over it, localStorage goes first, then the cookies; the page URLs
 * always stay (each at most MAX_SNAPSHOT_URL characters, longer ones are not reopened).
 */
export const MAX_BROWSER_SNAPSHOT_CHARS = 64 * 1024;
const MAX_SNAPSHOT_URL = 2_048;

/** `snap` cut down to MAX_BROWSER_SNAPSHOT_CHARS: without localStorage, then without cookies, naming what went. */
export function boundSnapshot(snap: BrowserSnapshot): BrowserSnapshot {
  const pages = snap.pages.filter((u) => u.length <= MAX_SNAPSHOT_URL);
  const fits = (s: BrowserSnapshot) => JSON.stringify(s).length <= MAX_BROWSER_SNAPSHOT_CHARS;
  const whole: BrowserSnapshot = { storage: snap.storage, pages };
  if (fits(whole) || !snap.storage) return whole;
  const cookiesOnly: BrowserSnapshot = { storage: { cookies: snap.storage.cookies, origins: [] }, pages, dropped: ['localStorage'] };
  if (fits(cookiesOnly)) return cookiesOnly;
  return { storage: null, pages, dropped: ['localStorage', 'cookies'] };
}

/** Browser settings of a worker. */
export interface BrowserOptions {
  executablePath: string;
  /** Pages one session may have open at once. */
  maxPages: number;
  /** Keeps an artifact of a session (the module stores it in the database, where any instance serves it). */
  saveArtifact(sessionId: string, name: string, contentType: string, bytes: Uint8Array): Promise<void>;
  /** Longest wait of one action (navigation, click, typing). */
  actionTimeoutMs: number;
}

/** A browser action given up because its signal was aborted (an operator signal arrived, or the session stopped). */
export class ActionInterrupted extends Error {}

/**
 * `action()` raced against `signal`: rejects with ActionInterrupted as soon as the signal aborts (at once when it
 * already has, without starting the action). Playwright cannot cancel one action, so a given-up action goes on in the
 * page until it settles, its timeout passes or the context closes; its outcome is dropped.
 */
export function interruptible<T>(signal: AbortSignal | undefined, action: () => Promise<T>): Promise<T> {
  if (!signal) return action();
  const why = () => new ActionInterrupted(signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'interrupted'));
  if (signal.aborted) return Promise.reject(why());
  const running = action();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      // The abandoned action's own end (often an error once the context closes) must not surface as unhandled.
      running.catch(() => undefined);
      reject(why());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    running.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** One session's browser: its context, its pages (the last opened is current), its screenshots. */
export class SessionBrowser {
  private pages: Page[] = [];

  constructor(
    private readonly sessionId: string,
    private readonly context: BrowserContext,
    private readonly opts: BrowserOptions,
    private readonly onClose: () => void,
  ) {}

  private current(): Page {
    const p = this.pages.at(-1);
    if (!p) throw new Error('no page open: navigate first');
    return p;
  }

  /** Opens `url` in the current page, or in a new one (`newPage`), within the page limit. */
  async navigate(url: string, newPage: boolean): Promise<string> {
    if (newPage || this.pages.length === 0) {
      if (this.pages.length >= this.opts.maxPages) throw new Error(`page limit of ${this.opts.maxPages} reached`);
      this.pages.push(await this.context.newPage());
    }
    const res = await this.current().goto(url, { timeout: this.opts.actionTimeoutMs });
    return `opened ${this.current().url()} (status ${res?.status() ?? 'none'}, title ${JSON.stringify(await this.current().title())})`;
  }

  /** Clicks the first element matching `selector`. */
  async click(selector: string): Promise<string> {
    await this.current().click(selector, { timeout: this.opts.actionTimeoutMs });
    return `clicked ${selector}`;
  }

  /** Types `text` into the field matching `selector` (replacing its value). */
  async type(selector: string, text: string): Promise<string> {
    await this.current().fill(selector, text, { timeout: this.opts.actionTimeoutMs });
    return `typed into ${selector}`;
  }

  /** The visible text of `selector` (default the whole page). */
  async readText(selector: string | undefined): Promise<string> {
    return this.current().innerText(selector ?? 'body', { timeout: this.opts.actionTimeoutMs });
  }

  /** Saves a PNG of the current page as a session artifact; returns its name. */
  async screenshot(): Promise<string> {
    const png = await this.current().screenshot({ timeout: this.opts.actionTimeoutMs });
    // A sortable id rather than a counter: a session recovered on another worker keeps taking screenshots.
    const name = `screenshot-${newId()}.png`;
    await this.opts.saveArtifact(this.sessionId, name, 'image/png', png);
    return name;
  }

  /**
   * Cookies, localStorage and the open pages' URLs (bounded, see boundSnapshot), for the checkpoint. A page whose
   * navigation was given up reports the URL it had before. Pages without a URL of their own (about:blank) are kept
   * as such, so the page order, and which page is current, survive.
   */
  async snapshot(): Promise<BrowserSnapshot> {
    const storage = (await this.context.storageState()) as unknown as NonNullable<BrowserSnapshot['storage']>;
    return boundSnapshot({ storage, pages: this.pages.map((p) => p.url()) });
  }

  /**
   * Reopens the pages of a snapshot in order (the last is current): each gets a page, and an http(s) URL is loaded
   * again (the context's allowlist applies). Returns the URLs that failed to load, with the reason; their page stays.
   */
  async reopen(urls: readonly string[]): Promise<{ url: string; error: string }[]> {
    const failed: { url: string; error: string }[] = [];
    for (const url of urls.slice(0, this.opts.maxPages)) {
      const page = await this.context.newPage();
      this.pages.push(page);
      if (!/^https?:/.test(url)) continue;
      await page.goto(url, { timeout: this.opts.actionTimeoutMs }).catch((err: unknown) => failed.push({ url, error: (err as Error).message.split('\n')[0]! }));
    }
    return failed;
  }

  /** Pages open now. */
  get openPages(): number {
    return this.pages.length;
  }

  /** Closes the context and its pages. */
  async close(): Promise<void> {
    this.pages = [];
    this.onClose();
    await this.context.close();
  }
}

/** The worker's Chromium, launched on first use and shared by its sessions' contexts. */
export class BrowserPool {
  private browser: Promise<Browser> | undefined;
  private readonly open = new Set<SessionBrowser>();

  constructor(
    private readonly opts: BrowserOptions,
    private readonly log: Logger,
  ) {}

  /**
   * A new context for a session, with requests limited to `allowHosts`; from `restore` (a checkpoint's snapshot) it
   * starts with those cookies and localStorage (the caller reopens the pages: SessionBrowser.reopen).
   */
  async forSession(sessionId: string, allowHosts: readonly string[], restore?: BrowserSnapshot): Promise<SessionBrowser> {
    this.browser ??= launchChromium(this.opts.executablePath);
    // The snapshot holds what storageState() gave on another worker; playwright's own type of it, read back from JSON.
    const context = await (await this.browser).newContext(restore?.storage ? { storageState: restore.storage as never } : {});
    const rules = parseHostAllowlist(allowHosts);
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      const local = url.protocol === 'data:' || url.protocol === 'about:' || url.protocol === 'blob:';
      if (local || ((url.protocol === 'http:' || url.protocol === 'https:') && hostAllowed(url, rules))) await route.continue();
      else await route.abort('blockedbyclient');
    });
    const b: SessionBrowser = new SessionBrowser(sessionId, context, this.opts, () => this.open.delete(b));
    this.open.add(b);
    return b;
  }

  /** Contexts open now (one per session using the browser on this worker). */
  get openContexts(): number {
    return this.open.size;
  }

  /** Closes every context and the browser (worker stop). */
  async close(): Promise<void> {
    await Promise.all([...this.open].map((b) => b.close().catch((err: unknown) => this.log.warn({ err }, 'closing a session browser failed'))));
    const b = this.browser;
    this.browser = undefined;
    if (b) await (await b).close().catch(() => undefined);
  }
}
