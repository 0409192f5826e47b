/**
 * The Debian base the Containerfile starts FROM, made here because no registry of base images is reachable:
 * `debootstrap --variant=minbase bookworm` from the mirror apt uses, trimmed the way the official slim image is,
 * cached as a tarball outside the repository and imported into Podman under the exact name of the FROM line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_DIR, podmanSync, runLogged, sudoPrefix } from './podman.ts';

const SUITE = 'bookworm';
const TARBALL = join(CACHE_DIR, `debian-${SUITE}-minbase.tar`);
const LOCK = join(CACHE_DIR, 'base.lock');

/** The Debian mirror and security mirror apt uses on this machine (deb822 .sources files or sources.list). */
export function aptMirrors(): { mirror: string; security?: string } {
  const uris: string[] = [];
  const files = ['/etc/apt/sources.list', ...(existsSync('/etc/apt/sources.list.d') ? readdirSync('/etc/apt/sources.list.d').map((f) => join('/etc/apt/sources.list.d', f)) : [])];
  for (const f of files) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/^URIs:\s*(\S+)/gm)) uris.push(m[1]!);
    for (const m of text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/gm)) uris.push(m[1]!);
  }
  const debian = uris.filter((u) => /\/debian\/?$/.test(u));
  return {
    mirror: (debian[0] ?? 'http://deb.debian.org/debian').replace(/\/$/, ''),
    security: uris.find((u) => /\/debian-security\/?$/.test(u))?.replace(/\/$/, ''),
  };
}

/** Trims a fresh rootfs like Docker's debian slim images: no docs, man pages, locales or apt lists, and dpkg told to keep it so. */
function slim(rootfs: string, mirrors: { mirror: string; security?: string }): void {
  const sources = [`Types: deb\nURIs: ${mirrors.mirror}\nSuites: ${SUITE} ${SUITE}-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`];
  if (mirrors.security) sources.push(`Types: deb\nURIs: ${mirrors.security}\nSuites: ${SUITE}-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`);
  const script = `
set -eu
cd "$1"
rm -f etc/apt/sources.list
mkdir -p etc/apt/sources.list.d etc/dpkg/dpkg.cfg.d
cat > etc/dpkg/dpkg.cfg.d/docker-slim <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
find usr/share/doc -mindepth 1 ! -name copyright ! -type d -delete
find usr/share/doc -mindepth 1 -type d -empty -delete
rm -rf usr/share/man/* usr/share/groff/* usr/share/info/* usr/share/lintian/*
find usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
rm -rf var/lib/apt/lists/* var/cache/apt/*.bin var/cache/apt/archives/*.deb var/log/* tmp/*
`;
  writeFileSync(join(rootfs, 'etc/apt/sources.list.d/debian.sources'), sources.join('\n'));
  const r = spawnSync('bash', ['-c', script, 'slim', rootfs], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`trimming ${rootfs} failed (exit ${r.status})`);
}

/** Holds a lock directory while `fn` runs, so that two runs on this machine never debootstrap at once. */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(CACHE_DIR, { recursive: true });
  for (let waited = 0; ; waited += 1000) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      break;
    } catch {
      const pid = Number(existsSync(join(LOCK, 'pid')) ? readFileSync(join(LOCK, 'pid'), 'utf8') : 0);
      const alive = pid > 0 && spawnSync('kill', ['-0', String(pid)]).status === 0;
      if (!alive && waited >= 2000) rmSync(LOCK, { recursive: true, force: true });
      if (waited > 15 * 60_000) throw new Error(`${LOCK} held for 15 minutes by pid ${pid}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Makes sure Podman has `name`; returns what was done ('present', 'imported' from the cache, or 'made' by debootstrap). */
export async function ensureBaseImage(name: string, log: (line: string) => void): Promise<'present' | 'imported' | 'made'> {
  if (podmanSync(['image', 'exists', name]).status === 0) return 'present';
  return withLock(async () => {
    if (podmanSync(['image', 'exists', name]).status === 0) return 'present';
    let outcome: 'imported' | 'made' = 'imported';
    if (!existsSync(TARBALL)) {
      outcome = 'made';
      const mirrors = aptMirrors();
      const rootfs = join(CACHE_DIR, `rootfs-${process.pid}`);
      rmSync(rootfs, { recursive: true, force: true });
      log(`debootstrap --variant=minbase ${SUITE} from ${mirrors.mirror} (about 1-3 minutes; cached in ${CACHE_DIR})`);
      const [cmd, ...pre] = [...(sudoPrefix() ?? []), 'debootstrap'];
      const logFile = join(CACHE_DIR, 'debootstrap.log');
      const code = await runLogged(cmd!, [...pre, '--variant=minbase', SUITE, rootfs, mirrors.mirror], logFile, /^I: (Retrieving|Validating) Release|^I: (Installing|Configuring) (core|the base)|^I: Base system/, process.env);
      if (code !== 0) throw new Error(`debootstrap failed (exit ${code}); see ${logFile}`);
      slim(rootfs, mirrors);
      const tmp = `${TARBALL}.${process.pid}.tmp`;
      const tar = spawnSync('tar', ['--numeric-owner', '-C', rootfs, '-cf', tmp, '.'], { stdio: 'inherit' });
      if (tar.status !== 0) throw new Error(`tar of ${rootfs} failed`);
      renameSync(tmp, TARBALL);
      rmSync(rootfs, { recursive: true, force: true });
    }
    log(`podman import ${TARBALL} (${Math.round(statSync(TARBALL).size / 1e6)} MB) as ${name}`);
    const r = podmanSync(['import', '--change', 'CMD ["bash"]', TARBALL, name]);
    if (r.status !== 0) throw new Error(`podman import failed: ${r.stderr}`);
    return outcome;
  });
}
