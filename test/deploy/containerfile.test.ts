/** The Containerfile states what compose, Kubernetes and the container test rely on: port, volume, user, probe, base. */
import { describe, expect, it } from 'vitest';
import { baseImageName, containerfile, IMAGE } from '../helpers/deployment-topology.ts';

const text = containerfile();
/** Instructions of the final stage (after the last FROM). */
const finalStage = text.slice(text.lastIndexOf('\nFROM '));

describe('Containerfile', () => {
  it('every stage but the last starts from the one base the image test imports; the last from scratch', () => {
    const froms = [...text.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms).toEqual(['${DEBIAN_IMAGE}', '${DEBIAN_IMAGE}', 'scratch']);
    expect(baseImageName(text)).toBe('docker.io/library/debian:bookworm-slim');
  });

  it('exposes the port, declares the data volume, runs as the non-root user and listens on every address', () => {
    expect(finalStage).toMatch(new RegExp(`^EXPOSE ${IMAGE.port}$`, 'm'));
    expect(finalStage).toContain(`VOLUME ["${IMAGE.dataDir}"]`);
    expect(finalStage).toMatch(new RegExp(`^USER ${IMAGE.uid}:${IMAGE.uid}$`, 'm'));
    expect(finalStage).toContain(`CAPSTAN_DATA_DIR=${IMAGE.dataDir}`);
    expect(finalStage).toContain(`CAPSTAN_PORT=${IMAGE.port}`);
    expect(finalStage).toContain('CAPSTAN_HOST=0.0.0.0');
  });

  it('checks health with the binary itself and stops on SIGTERM through tini', () => {
    expect(finalStage).toMatch(/^HEALTHCHECK .*CMD \["\/usr\/local\/bin\/capstan", "health"\]$/m);
    expect(finalStage).toMatch(/^STOPSIGNAL SIGTERM$/m);
    expect(finalStage).toContain('ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/capstan"]');
  });
});
