import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { realpathSync } from 'node:fs';
import { PORTENT_VERSION } from '../../shared/version';
import { DatabaseOpenError } from '../engine/store/database';
import { MonitorBusyError } from '../engine/monitorFile';
import { IncidentActionError } from '../engine/actions/incidentActions';
import { AllowRuleError } from '../engine/store/allowRuleStore';
import { EngineStartError } from '../engine/host/engineClient';
import { UsageError, type Command, type CommandContext } from './command';
import { invocationOf, portentCommand } from '../engine/invocation';
import { captureCommand } from './commands/capture';
import { captureSetupCommand } from './commands/captureSetup';
import { cleanupCommand } from './commands/cleanup';
import { configCommand } from './commands/config';
import { connectionsCommand } from './commands/connections';
import { exportCommand } from './commands/export';
import { statusCommand } from './commands/status';
import { interfacesCommand } from './commands/interfaces';
import { anomaliesCommand } from './commands/anomalies';
import { allowCommand } from './commands/allow';
import { detectCommand } from './commands/detect';
import { portsCommand } from './commands/ports';
import { runCommand } from './commands/run';
import { scanCommand } from './commands/scan';
import { serveCommand } from './commands/serve';
import { reportCommand } from './commands/report';

const COMMANDS: Command[] = [
  runCommand,
  serveCommand,
  statusCommand,
  scanCommand,
  portsCommand,
  connectionsCommand,
  interfacesCommand,
  captureCommand,
  captureSetupCommand,
  detectCommand,
  anomaliesCommand,
  reportCommand,
  allowCommand,
  configCommand,
  exportCommand,
  cleanupCommand,
];

function helpText(env: NodeJS.ProcessEnv): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = [
    `Portent ${PORTENT_VERSION}: learns what this machine's ports and traffic normally look like and says when something is off.`,
    '',
    `Usage: ${portentCommand(env)} <command> [options]`,
    ...(portentCommand(env) === 'portent' ? ['       (from a checkout: npm run -s portent -- <command> [options])'] : []),
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  --help, -h     Show this help, or a command\'s help after its name',
    '  --version, -v  Print the version',
    '',
    'Data is kept in ~/.local/share/portent (Linux) or ~/Library/Application Support/Portent (macOS);',
    'PORTENT_HOME or --db PATH choose another place.',
  ];
  return lines.join('\n') + '\n';
}

/**
 * A negative number where a positional belongs (`config set retention.maxDatabaseMb -1`) is a
 * value, not an unknown flag: such arguments are moved behind `--`, in order, so that parseArgs
 * takes them as positionals. One that is the value of a preceding option stays where it is.
 */
export function negativeNumbersAsValues(args: readonly string[], options: Command['options']): string[] {
  const end = args.indexOf('--');
  const head = end < 0 ? [...args] : args.slice(0, end);
  const tail = end < 0 ? [] : args.slice(end + 1);
  const kept: string[] = [];
  const moved: string[] = [];
  for (let i = 0; i < head.length; i++) {
    const a = head[i]!;
    const previous = i > 0 ? head[i - 1]! : '';
    const takesValue = previous.startsWith('--') && !previous.includes('=') && options[previous.slice(2)]?.type === 'string';
    if (/^-\d+(\.\d+)?$/.test(a) && !takesValue) moved.push(a);
    else kept.push(a);
  }
  return moved.length === 0 && end < 0 ? kept : [...kept, '--', ...moved, ...tail];
}

/** parseArgs explains at length how to pass a dash-led positional; the first sentence is the point. */
function firstSentence(message: string): string {
  const line = message.split('\n')[0] ?? message;
  const end = line.indexOf('. ');
  return end === -1 ? line : line.slice(0, end + 1);
}

function commandHelp(c: Command, env: NodeJS.ProcessEnv): string {
  return `Usage: ${portentCommand(env)} ${c.name} ${c.usage}\n\n${c.summary}.\n`;
}

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  stdin?: NodeJS.ReadableStream;
}

/** Runs one CLI invocation and resolves to its exit code; never calls process.exit itself. */
export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, stdin: process.stdin }): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(helpText(io.env));
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-v') {
    io.stdout.write(`${PORTENT_VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) {
    const what = first.startsWith('-') ? `unknown option '${first}'` : `unknown command '${first}'`;
    io.stderr.write(`portent: ${what}. Commands: ${COMMANDS.map((c) => c.name).join(', ')}. See '${portentCommand(io.env)} --help'.\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(commandHelp(command, io.env));
    return 0;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: negativeNumbersAsValues(rest, command.options), options: command.options, strict: true, allowPositionals: true });
  } catch (err) {
    io.stderr.write(`portent ${command.name}: ${firstSentence((err as Error).message)}\nUsage: ${portentCommand(io.env)} ${command.name} ${command.usage}\n`);
    return 2;
  }
  const ctx: CommandContext = { values: parsed.values, positionals: parsed.positionals, ...io };
  try {
    return await command.run(ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`portent ${command.name}: ${err.message}\nUsage: ${portentCommand(io.env)} ${command.name} ${command.usage}\n`);
      return 2;
    }
    if (err instanceof IncidentActionError || err instanceof AllowRuleError) {
      io.stderr.write(`portent ${command.name}: ${err.message}\n`);
      return 1;
    }
    if (err instanceof DatabaseOpenError || err instanceof MonitorBusyError || err instanceof EngineStartError) {
      io.stderr.write(`portent: ${err.message}\n`);
      return 1;
    }
    io.stderr.write(`portent ${command.name}: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

function invokedDirectly(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  // Messages name the command the user typed (see invocation.ts); the engine's thread and the
  // capture process inherit it.
  const typed = invocationOf(process.argv[1], process.env);
  if (typed) process.env.PORTENT_COMMAND = typed;
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`portent: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
