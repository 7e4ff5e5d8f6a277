import { z } from 'zod';

/**
 * "Expected from now on": a rule that a port, a program, or a program on a port is normal here,
 * so later detection rounds with it never alert (docs/actions.md). Distinct from marking one
 * incident expected, which approves that incident's rounds only. The schema is shared by the
 * window, the HTTP bridge and `portent allow add`, so a bad rule is refused with the same words
 * everywhere; `ruleAllows` is the one matcher both detectors use.
 */

const text = (what: string) =>
  z
    .string({ error: `${what} must be text` })
    .trim()
    .min(1, { error: `${what} must not be empty` })
    .max(4096, { error: `${what} must be at most 4096 characters` });

export const AllowRuleInputSchema = z
  .object({
    proto: z.enum(['tcp', 'udp'], { error: 'the protocol must be tcp or udp' }).nullable().default(null),
    port: z
      .number({ error: 'the port must be a whole number from 0 to 65535' })
      .int({ error: 'the port must be a whole number from 0 to 65535' })
      .min(0, { error: 'the port must be a whole number from 0 to 65535' })
      .max(65535, { error: 'the port must be a whole number from 0 to 65535' })
      .nullable()
      .default(null),
    process: text('the process name').nullable().default(null),
    exe: text('the executable')
      .refine((s) => s.startsWith('/'), { error: 'the executable must be an absolute path' })
      .nullable()
      .default(null),
    user: text('the user').nullable().default(null),
    /** The incident the rule is made from, if any. */
    fromIncidentId: z.number().int().positive().nullable().default(null),
  })
  .strict()
  .refine((r) => (r.proto === null) === (r.port === null), { error: 'a port needs its protocol and a protocol its port (like 8080/tcp)' })
  .refine((r) => r.port !== null || r.process !== null || r.exe !== null, { error: 'a rule names a port, a program (its executable or process name), or both' })
  .refine((r) => r.user === null || r.process !== null || r.exe !== null, { error: 'a user narrows a program: name the program too' });
export type AllowRuleInput = z.input<typeof AllowRuleInputSchema>;
export type AllowRuleFields = z.output<typeof AllowRuleInputSchema>;

export const AllowRuleSchema = z.object({
  id: z.number().int().positive(),
  proto: z.enum(['tcp', 'udp']).nullable(),
  port: z.number().int().min(0).max(65535).nullable(),
  process: z.string().nullable(),
  exe: z.string().nullable(),
  user: z.string().nullable(),
  createdAt: z.number().int().nonnegative(),
  fromIncidentId: z.number().int().positive().nullable(),
});
export type AllowRule = z.infer<typeof AllowRuleSchema>;

/** Checks a rule as typed or sent; the message says what is wrong, in words. */
export function checkAllowRule(input: unknown): { ok: true; rule: AllowRuleFields } | { ok: false; error: string } {
  const parsed = AllowRuleInputSchema.safeParse(input);
  if (parsed.success) return { ok: true, rule: parsed.data };
  return { ok: false, error: parsed.error.issues.map((i) => i.message).join('; ') };
}

/** What detection saw: a port and who held it (any part may be unknown). */
export interface Sighting {
  proto?: 'tcp' | 'udp' | null;
  port?: number | null;
  process: string | null;
  exe: string | null;
  user: string | null;
}

type RulePart = Pick<AllowRule, 'proto' | 'port' | 'process' | 'exe' | 'user'>;

/**
 * Whether a rule covers a sighting: every part the rule names must be seen and equal. A program
 * whose executable or user could not be read is not covered by a rule that names them: an
 * unknown is never taken for what the user allowed.
 */
export function ruleAllows(rule: RulePart, s: Sighting): boolean {
  if (rule.port !== null && (s.port !== rule.port || s.proto !== rule.proto)) return false;
  if (rule.exe !== null && s.exe !== rule.exe) return false;
  if (rule.process !== null && s.process !== rule.process) return false;
  if (rule.user !== null && s.user !== rule.user) return false;
  return true;
}

/** Whether a rule names a program (the traffic model honours only those that name no port too). */
export const namesProgramOnly = (rule: RulePart): boolean => rule.port === null && (rule.exe !== null || rule.process !== null);

/** A rule in words: "port 8080/tcp", "/usr/bin/nc as alice", "/usr/sbin/nginx on port 443/tcp". */
export function describeRule(rule: RulePart): string {
  const program = rule.exe ?? rule.process;
  const who = program === null ? null : `${program}${rule.user !== null ? ` as ${rule.user}` : ''}`;
  const port = rule.port === null ? null : `port ${rule.port}/${rule.proto}`;
  if (who && port) return `${who} on ${port}`;
  return who ?? port ?? 'nothing';
}
