/**
 * Targets (godon's name for the machines a breeder tunes): a named ssh or http endpoint with its credential, so
 * definitions name the target instead of repeating the connection. Targets hold no secrets, only credential names.
 */
import * as z from 'zod';
import { CREDENTIAL_NAME, HOST_KEY, SSH_HOST, SSH_USER } from './effectuation.ts';

/** A target as created. */
export const TargetInputSchema = z.discriminatedUnion('kind', [
  z
    .strictObject({
      name: z.string().regex(CREDENTIAL_NAME),
      kind: z.literal('ssh'),
      host: z.string().regex(SSH_HOST, 'a host name or an address ([::1] for IPv6); no leading -'),
      port: z.number().int().min(1).max(65535).default(22),
      user: z.string().regex(SSH_USER, 'a user name: letters, digits, _ . -, not starting with - or a digit'),
      credential: z.string().regex(CREDENTIAL_NAME),
      host_key: z.string().trim().regex(HOST_KEY, "one public key line such as 'ssh-ed25519 AAAA...'").optional(),
      host_key_check: z.boolean().default(true),
    })
    .superRefine((t, ctx) => {
      if (t.host_key_check && !t.host_key) ctx.addIssue({ code: 'custom', path: ['host_key'], message: 'required unless host_key_check is false: the server must prove who it is' });
    }),
  z.strictObject({
    name: z.string().regex(CREDENTIAL_NAME),
    kind: z.literal('http'),
    url: z.url({ protocol: /^https?$/ }).max(2000),
    credential: z.string().regex(CREDENTIAL_NAME).optional(),
  }),
]);

/** A parsed target. */
export type TargetInput = z.output<typeof TargetInputSchema>;

/** A stored ssh target's connection, as SSH effectuation uses it. */
export type SshTarget = Extract<TargetInput, { kind: 'ssh' }>;
