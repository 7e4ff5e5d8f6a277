import path from 'node:path';

/**
 * How the user types a Portent command on this installation, for every message that tells them
 * what to run next. A checkout has no `portent` on the PATH: there it is `npm run -s portent --`;
 * a built tree run by Node directly (a service's `node /opt/portent/out/main/cli.js`) is that
 * line; an installation that puts a `portent` command on the PATH (or a unit that sets
 * PORTENT_COMMAND) says so. Read from the environment so the engine's thread and the capture
 * process, which inherit it, name the same command as the CLI that started them.
 */
export function portentCommand(env: NodeJS.ProcessEnv = process.env): string {
  const set = env.PORTENT_COMMAND?.trim();
  if (set) return set;
  if (env.npm_lifecycle_event === 'portent') return 'npm run -s portent --';
  return 'portent';
}

/** `portentCommand()` followed by a subcommand and its arguments: "npm run -s portent -- run". */
export function portentLine(rest: string, env: NodeJS.ProcessEnv = process.env): string {
  return `${portentCommand(env)} ${rest}`;
}

/**
 * The command line that started this CLI, to remember in PORTENT_COMMAND before anything else
 * runs: under npm its script, else `node <the built cli.js>` when that is what ran. A TypeScript
 * entry run some other way (a test, tsx by hand) is left to the default.
 */
export function invocationOf(argv1: string | undefined, env: NodeJS.ProcessEnv): string | null {
  if (env.PORTENT_COMMAND?.trim()) return null;
  if (env.npm_lifecycle_event === 'portent') return 'npm run -s portent --';
  if (argv1 && path.basename(argv1) === 'cli.js') return `node ${argv1}`;
  return null;
}
