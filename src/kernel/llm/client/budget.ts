/** A spending limit shared by several calls (one agent run, one cascade session). */
import type { LlmBudget } from '../model/request.ts';

/** A budget of `limit` (in the price table's currency); pass it as `budget` on each call that should count against it. */
export function createLlmBudget(limit: number): LlmBudget {
  let spent = 0;
  return {
    limit,
    get spent() {
      return spent;
    },
    charge(cost: number) {
      spent += cost;
    },
  };
}
