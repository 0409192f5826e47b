/** The credential service: seals on create, shows metadata only, unseals for the loop's calls. */
import { readFileSync } from 'node:fs';
import { Conflict, Invalid, zodIssues } from '../../../kernel/index.ts';
import { authHeaders, credentialKey, CredentialInputSchema, seal, secretOf, unseal } from '../model/credentials.ts';
import type { BreederStore, CredentialView } from '../store/index.ts';

/** Creates, lists and deletes credentials; `headers` is the only way secrets leave, into an outbound call. */
export class CredentialService {
  private readonly key: Buffer | undefined;

  constructor(
    private readonly store: BreederStore,
    keyFile: string | undefined,
  ) {
    // Read once at start: a missing or empty key file is an operator error worth failing loudly for.
    if (keyFile !== undefined) {
      const material = readFileSync(keyFile, 'utf8');
      if (material.trim().length < 16) throw new Error(`modules.breeder.credentialKeyFile ${keyFile}: the key must be at least 16 characters`);
      this.key = credentialKey(material);
    }
  }

  private needKey(): Buffer {
    if (!this.key) throw new Conflict('credentials need an encryption key: set modules.breeder.credentialKeyFile');
    return this.key;
  }

  /** Stores a credential sealed with the server's key. */
  async create(input: unknown): Promise<CredentialView> {
    const r = CredentialInputSchema.safeParse(input);
    if (!r.success) throw new Invalid('invalid credential', zodIssues(r.error, 'body'));
    return this.store.credentials.create(r.data.name, r.data.kind, seal(this.needKey(), secretOf(r.data), r.data.name));
  }

  /** Metadata of every credential. */
  list(): Promise<CredentialView[]> {
    return this.store.credentials.list();
  }

  /** Metadata of one credential. */
  get(name: string): Promise<CredentialView> {
    return this.store.credentials.get(name);
  }

  /** Deletes a credential. */
  remove(name: string): Promise<void> {
    return this.store.credentials.remove(name);
  }

  /** The private key of an ssh_key credential, for one SSH effectuation. */
  async sshKey(name: string): Promise<string> {
    const { kind, sealed } = await this.store.credentials.sealed(name);
    if (kind !== 'ssh_key') throw new Error(`credential '${name}' is a ${kind}, not an ssh_key`);
    return unseal(this.needKey(), sealed, name).private_key!;
  }

  /** The Authorization headers of an http credential. */
  async headers(name: string): Promise<Record<string, string>> {
    const { kind, sealed } = await this.store.credentials.sealed(name);
    return authHeaders(kind, unseal(this.needKey(), sealed, name));
  }
}
