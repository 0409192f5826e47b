/**
 * A labelled histogram child that observes without prom-client's per-call work. prom-client's `labels(...).observe`
 * validates the labels, hashes them into a string and converts the bucket bound to a property name on every call
 * (about as much CPU as the rest of a /healthz answer); the duration histogram is observed on every request. This
 * child finds its series once and then adds to the same counters prom-client exports, so /metrics is unchanged.
 *
 * It relies on prom-client 15's Histogram internals (`hashMap` of `{ labels, bucketValues, sum, count }` keyed by
 * hash, `upperBounds`); test/unit/histogram-child.test.ts compares its output with prom-client's own observe, so an
 * upgrade that changes them fails that test. Whenever the series is not where it was found (after `reset()` or
 * `remove()`), it observes through prom-client once and finds the series again.
 */
import type { Histogram } from 'prom-client';

/** The part of prom-client's Histogram this child reads (not in its public types). */
interface HistogramInternals {
  hashMap: Record<string, Series>;
  upperBounds: readonly number[];
}

/** One labelled series as prom-client stores it. */
interface Series {
  labels: Record<string, string | number>;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

/** Observes into one labelled series of a prom-client Histogram. */
export class HistogramChild {
  private readonly internals: HistogramInternals;
  private readonly bounds: readonly number[];
  /** Property names of the buckets, as prom-client keys them (the bound's string form), computed once. */
  private readonly bucketKeys: readonly string[];
  private readonly labelPairs: [string, string][];
  private map: Record<string, Series> | undefined;
  private hash = '';
  private series: Series | undefined;

  constructor(
    private readonly histogram: Histogram<string>,
    private readonly labels: Record<string, string>,
  ) {
    this.internals = histogram as unknown as HistogramInternals;
    this.bounds = this.internals.upperBounds;
    this.bucketKeys = this.bounds.map(String);
    this.labelPairs = Object.entries(labels);
  }

  /** Adds one observation (seconds). */
  observe(value: number): void {
    const map = this.internals.hashMap;
    const series = this.series;
    if (series === undefined || map !== this.map || map[this.hash] !== series || !Number.isFinite(value)) {
      // First use, a reset, a removed series or a value prom-client refuses: its own path, then find the series.
      this.histogram.observe(this.labels, value);
      this.find();
      return;
    }
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        series.bucketValues[this.bucketKeys[i]!]! += 1;
        break;
      }
    }
    series.sum += value;
    series.count += 1;
  }

  /** Locates this child's series in the histogram's map (once per reset; a linear scan over the series). */
  private find(): void {
    const map = this.internals.hashMap;
    this.map = map;
    this.series = undefined;
    for (const hash in map) {
      const s = map[hash]!;
      if (this.labelPairs.every(([k, v]) => String(s.labels[k]) === v) && Object.keys(s.labels).length === this.labelPairs.length) {
        this.hash = hash;
        this.series = s;
        return;
      }
    }
  }
}
