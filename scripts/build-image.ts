/** `bun run image:build [TAG]`: the image as docs/deploy.md describes it, built here with Podman (default tag localhost/capstan:latest). */
import { baseImageName } from './image/containerfile.ts';
import { ensureBaseImage } from './image/base-image.ts';
import { buildImage } from './image/build.ts';
import { ensurePodman } from './image/podman.ts';

const tag = process.argv[2] ?? 'localhost/capstan:latest';
const log = (line: string) => console.log(`image: ${line}`);
const why = ensurePodman(log);
if (why) {
  console.error(`image: cannot build: ${why}`);
  process.exit(1);
}
await ensureBaseImage(baseImageName(), log);
const built = await buildImage(tag);
log(`built ${built.tag} in ${built.seconds.toFixed(0)} s: ${(built.sizeBytes / 1e6).toFixed(0)} MB`);
