/**
 * Session artifacts (the browser tool's screenshots) in `cascades_artifacts`: written by the worker that made them,
 * read by any instance, deleted with their session by the retention cleanup. Bounded per artifact and per session so
 * that a looping model cannot fill the database.
 */
import { Invalid, type Database } from '../../../kernel/index.ts';

/** Largest artifact kept. */
export const MAX_ARTIFACT_BYTES = 10 * 1024 * 1024;
/** Artifacts one session may keep. */
export const MAX_ARTIFACTS_PER_SESSION = 100;

/** An artifact as listed. */
export interface ArtifactInfo {
  name: string;
  contentType: string;
  size: number;
  createdAt: string;
}

/** Reads and writes session artifacts. */
export class ArtifactStore {
  constructor(private readonly db: Database) {}

  /** Stores `bytes` as `name` of the session; refuses one too large or past the session's count (the model is told). */
  async put(sessionId: string, name: string, contentType: string, bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength > MAX_ARTIFACT_BYTES) throw new Invalid(`artifact of ${bytes.byteLength} bytes is over the limit of ${MAX_ARTIFACT_BYTES}`, [{ path: 'artifact', message: 'too large' }]);
    // The count and the insert in one statement: two concurrent writers cannot both take the last place.
    const rows = await this.db.query<{ name: string }>(
      `INSERT INTO cascades_artifacts (session_id, name, content_type, size, bytes)
       SELECT $1::text, $2::text, $3::text, $4::int, $5::bytea
       WHERE (SELECT count(*) FROM cascades_artifacts WHERE session_id = $1::text) < $6::int
       ON CONFLICT (session_id, name) DO NOTHING RETURNING name`,
      [sessionId, name, contentType, bytes.byteLength, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), MAX_ARTIFACTS_PER_SESSION],
    );
    if (rows.length === 0 && !(await this.get(sessionId, name))) {
      throw new Invalid(`the session already keeps ${MAX_ARTIFACTS_PER_SESSION} artifacts`, [{ path: 'artifact', message: 'too many' }]);
    }
  }

  /** The session's artifacts, oldest first (without their bytes). */
  async list(sessionId: string): Promise<ArtifactInfo[]> {
    const rows = await this.db.query<{ name: string; content_type: string; size: number; created_at: string | Date }>(
      'SELECT name, content_type, size, created_at FROM cascades_artifacts WHERE session_id = $1::text ORDER BY created_at, name',
      [sessionId],
    );
    return rows.map((r) => ({ name: r.name, contentType: r.content_type, size: Number(r.size), createdAt: new Date(r.created_at).toISOString() }));
  }

  /** One artifact with its bytes, or undefined. */
  async get(sessionId: string, name: string): Promise<{ contentType: string; bytes: Uint8Array } | undefined> {
    const rows = await this.db.query<{ content_type: string; bytes: Uint8Array }>('SELECT content_type, bytes FROM cascades_artifacts WHERE session_id = $1::text AND name = $2::text', [sessionId, name]);
    const r = rows[0];
    return r ? { contentType: r.content_type, bytes: new Uint8Array(r.bytes) as Uint8Array<ArrayBuffer> } : undefined;
  }
}
