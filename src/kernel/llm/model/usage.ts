/** Token usage of a call and its cost from the configured price table. */

/** Tokens a call used, as the provider reported them (zero when it reported none). */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/** Prices of one model in currency units (USD by convention) per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
}

/** No tokens. */
export const ZERO_USAGE: Usage = Object.freeze({ inputTokens: 0, outputTokens: 0, totalTokens: 0 });

/** The model's price, else the provider's `*` price, else undefined (cost unknown). */
export function priceOf(prices: Readonly<Record<string, ModelPrice>>, model: string): ModelPrice | undefined {
  return prices[model] ?? prices['*'];
}

/** Cost of `usage` at `price`; undefined when the price is unknown, so an unpriced call is never reported as free. */
export function costOf(usage: Usage, price: ModelPrice | undefined): number | undefined {
  if (!price) return undefined;
  return (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000;
}
