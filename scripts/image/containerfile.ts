/** Facts read from the Containerfile, so that the scripts and tests never restate them. */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The Containerfile's path. */
export const CONTAINERFILE = join(resolve(import.meta.dirname, '../..'), 'Containerfile');

/** The Containerfile's text. */
export function containerfile(): string {
  return readFileSync(CONTAINERFILE, 'utf8');
}

/** The base image the Containerfile's stages start FROM (the default of its DEBIAN_IMAGE argument). */
export function baseImageName(text = containerfile()): string {
  const m = /^ARG DEBIAN_IMAGE=(\S+)$/m.exec(text);
  if (!m) throw new Error(`${CONTAINERFILE} has no 'ARG DEBIAN_IMAGE=<name>' line`);
  return m[1]!;
}
