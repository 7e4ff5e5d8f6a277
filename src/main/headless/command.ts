import type { ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** What a command's `run` receives: parsed flags, positional arguments and the process streams. */
export interface CommandContext {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** Where a command reads a typed answer (a confirmation); absent: nothing can be asked. */
  stdin?: NodeJS.ReadableStream;
}

export interface Command {
  name: string;
  summary: string;
  /** The argument part of the usage line, e.g. `[--db PATH]`. */
  usage: string;
  options: OptionSpec;
  /** Resolves to the process exit code. */
  run(ctx: CommandContext): Promise<number>;
}

/** A failure the user can fix: printed as one line, without a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}
