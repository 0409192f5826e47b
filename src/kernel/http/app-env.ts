/** The Hono environment shared by every router: per-request variables set by the kernel's middleware. */
import type { Principal } from './auth.ts';

/** Variables on each request's context. */
export interface AppEnv {
  Variables: {
    requestId: string;
    principal?: Principal;
  };
}
