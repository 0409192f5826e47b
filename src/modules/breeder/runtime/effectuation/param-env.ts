/** Parameters as environment variables: CAPSTAN_PARAM_<NAME>, with the name upper-cased and anything but [A-Z0-9_] made '_'. */
import type { Params } from '../../model/space.ts';

/** The variable name that carries parameter `name`. */
export function paramVariable(name: string): string {
  return `CAPSTAN_PARAM_${name.replace(/[^A-Za-z0-9_]/g, '_').toUpperCase()}`;
}

/** One variable per parameter, the value as text. */
export function paramEnv(params: Params): Record<string, string> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [paramVariable(k), String(v)]));
}
