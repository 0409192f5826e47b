/** Model names as LiteLLM and OpenRouter users write them: `<provider>/<model>`, or a bare model of the default provider. */
import { Invalid } from '../../errors.ts';

/** A model resolved to the provider that serves it. */
export interface ModelRef {
  provider: string;
  /** The model name sent to the provider (may itself hold slashes, as OpenRouter's `anthropic/claude-3.5-sonnet`). */
  model: string;
  /** `<provider>/<model>`: the key of circuits, fallbacks and metrics. */
  id: string;
}

/**
 * Resolves `name`: when its first segment names a configured provider that is the provider, otherwise the whole
 * name is a model of `defaultProvider` (so `anthropic/claude-3.5-sonnet` goes to an OpenRouter default as is).
 */
export function resolveModel(name: string, providers: ReadonlySet<string>, defaultProvider: string | undefined): ModelRef {
  if (typeof name !== 'string' || name.trim() === '') throw new Invalid('model must be a non-empty string', [{ path: 'model', message: 'required' }]);
  const slash = name.indexOf('/');
  if (slash > 0 && providers.has(name.slice(0, slash))) {
    const provider = name.slice(0, slash);
    const model = name.slice(slash + 1);
    if (model === '') throw new Invalid(`model '${name}' names no model after the provider`, [{ path: 'model', message: 'model name missing after provider' }]);
    return { provider, model, id: name };
  }
  if (!defaultProvider) {
    const known = [...providers].join(', ') || 'none configured';
    throw new Invalid(`model '${name}' names no configured provider and llm.defaultProvider is not set (providers: ${known})`, [{ path: 'model', message: 'unknown provider' }]);
  }
  return { provider: defaultProvider, model: name, id: `${defaultProvider}/${name}` };
}
