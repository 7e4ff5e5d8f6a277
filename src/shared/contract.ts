import { z } from 'zod';
import type { MethodName } from './methods';

export { channelOf, METHOD_NAMES, type MethodName } from './methods';

/**
 * The one contract between the UI and the engine. Each method names its argument schema and its
 * result schema; the Electron preload, the IPC handlers and the local HTTP bridge are all derived
 * from this table, and every argument is validated against it before a handler runs.
 */
export const StatusSchema = z.object({
  version: z.string(),
  monitoring: z.boolean(),
  monitoringSince: z.number().int().nullable(),
  database: z.string(),
});
export type Status = z.infer<typeof StatusSchema>;

interface MethodSpec {
  args: z.ZodTuple;
  result: z.ZodType;
}

// `satisfies` makes the compiler reject a method missing here or one that methods.ts does not list.
export const contract = {
  getStatus: { args: z.tuple([]), result: StatusSchema },
} as const satisfies Record<MethodName, MethodSpec>;

export type Contract = typeof contract;
export type MethodArgs<M extends MethodName> = z.infer<Contract[M]['args']>;
export type MethodResult<M extends MethodName> = z.infer<Contract[M]['result']>;

/** What the renderer sees: one async function per contract method. */
export type PortentApi = { [M in MethodName]: (...args: MethodArgs<M>) => Promise<MethodResult<M>> };

export function isMethodName(value: unknown): value is MethodName {
  return typeof value === 'string' && Object.hasOwn(contract, value);
}

/** Validates untrusted arguments for a method; throws a readable error naming the method. */
export function parseArgs<M extends MethodName>(method: M, args: unknown): MethodArgs<M> {
  const parsed = contract[method].args.safeParse(args);
  if (!parsed.success) {
    throw new Error(`Invalid arguments for ${method}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(args)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data as MethodArgs<M>;
}
