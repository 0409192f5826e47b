/** Credentials: what a user sends (zod), and AES-256-GCM sealing so only ciphertext reaches the database. */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import * as z from 'zod';
import { BREEDER_NAME } from './definition.ts';

/** A credential as created: a name, a kind and its secret material. */
export const CredentialInputSchema = z.discriminatedUnion('kind', [
  z.strictObject({ name: z.string().regex(BREEDER_NAME), kind: z.literal('api_token'), token: z.string().min(1).max(8192) }),
  z.strictObject({ name: z.string().regex(BREEDER_NAME), kind: z.literal('basic_auth'), username: z.string().min(1).max(256), password: z.string().max(8192) }),
  z.strictObject({ name: z.string().regex(BREEDER_NAME), kind: z.literal('ssh_key'), private_key: z.string().min(1).max(65536) }),
  z.strictObject({ name: z.string().regex(BREEDER_NAME), kind: z.literal('database_url'), url: z.string().min(1).max(8192) }),
]);
/** A parsed credential input. */
export type CredentialInput = z.output<typeof CredentialInputSchema>;

const VERSION = 'v1';

/** The 256-bit key from the operator's key material (any text, e.g. 32 random bytes in base64). */
export function credentialKey(material: string): Buffer {
  return createHash('sha256').update(material.trim()).digest();
}

/** Encrypts the secret fields of a credential: `v1:<iv>:<ciphertext+tag>` in base64, a fresh IV each time. */
export function seal(key: Buffer, secret: Record<string, string>, name: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  // The name is authenticated data: a ciphertext copied onto another credential's row does not decrypt.
  cipher.setAAD(Buffer.from(name));
  const body = Buffer.concat([cipher.update(JSON.stringify(secret), 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${VERSION}:${iv.toString('base64')}:${body.toString('base64')}`;
}

/** Decrypts what seal wrote; throws when the key is wrong or the text was changed. */
export function unseal(key: Buffer, sealed: string, name: string): Record<string, string> {
  const [version, iv, body] = sealed.split(':');
  if (version !== VERSION || !iv || !body) throw new Error('unknown credential format');
  const raw = Buffer.from(body, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
  decipher.setAAD(Buffer.from(name));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  return JSON.parse(Buffer.concat([decipher.update(raw.subarray(0, raw.length - 16)), decipher.final()]).toString('utf8')) as Record<string, string>;
}

/** The secret fields of an input (everything but name and kind). */
export function secretOf(c: CredentialInput): Record<string, string> {
  const { name: _n, kind: _k, ...rest } = c;
  return rest as Record<string, string>;
}

/** The headers that carry an HTTP credential. */
export function authHeaders(kind: string, secret: Record<string, string>): Record<string, string> {
  if (kind === 'api_token') return { authorization: `Bearer ${secret.token}` };
  if (kind === 'basic_auth') return { authorization: `Basic ${Buffer.from(`${secret.username}:${secret.password}`).toString('base64')}` };
  throw new Error(`a ${kind} credential cannot authenticate an HTTP call`);
}
