import { openDatabase } from '../../engine/store/database';
import { AllowRuleStore } from '../../engine/store/allowRuleStore';
import { describeRule } from '../../../shared/allowRule';
import { UsageError, type Command } from '../command';
import { resolveDbPath } from '../dbOption';
import { formatTable } from '../table';

/** `8080/tcp` as a protocol and a port; anything else is refused with what is wanted. */
export function portArg(text: string): { proto: 'tcp' | 'udp'; port: number } {
  const m = /^(\d{1,5})\/(tcp|udp)$/i.exec(text.trim());
  const port = m ? Number(m[1]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--port takes a port and its protocol, like 8080/tcp or 53/udp; got '${text}'`);
  return { proto: m[2]!.toLowerCase() as 'tcp' | 'udp', port };
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * `portent allow list | add | remove ID`: what is expected from now on (docs/actions.md). A
 * running monitor honours a change from its next detection on.
 */
export const allowCommand: Command = {
  name: 'allow',
  summary: 'List, add or remove what is expected from now on (a port, a program, or a program on a port): detection never alerts on it',
  usage: 'list [--json] | add [--port N/PROTO] [--exe PATH] [--process NAME] [--user NAME] [--incident ID] | remove ID  [--db PATH]',
  options: {
    json: { type: 'boolean' }, db: { type: 'string' },
    port: { type: 'string' }, exe: { type: 'string' }, process: { type: 'string' }, user: { type: 'string' }, incident: { type: 'string' },
  },
  async run(ctx) {
    const [action, idText, ...extra] = ctx.positionals;
    if (action !== 'list' && action !== 'add' && action !== 'remove') throw new UsageError(`expected list, add or remove; got ${action === undefined ? 'nothing' : `'${action}'`}`);
    if (extra.length > 0 || (action !== 'remove' && idText !== undefined)) throw new UsageError(`too many arguments for allow ${action}`);
    const db = openDatabase(resolveDbPath(ctx));
    try {
      const store = new AllowRuleStore(db);
      if (action === 'list') {
        const rules = store.list();
        if (ctx.values.json) ctx.stdout.write(JSON.stringify(rules, null, 2) + '\n');
        else if (rules.length === 0) ctx.stdout.write('No allow rules: every port and program can raise an incident.\n');
        else {
          ctx.stdout.write(
            formatTable(
              ['ID', 'EXPECTED FROM NOW ON', 'SINCE', 'FROM INCIDENT'],
              rules.map((r) => [String(r.id), describeRule(r), new Date(r.createdAt).toISOString().slice(0, 16).replace('T', ' '), r.fromIncidentId === null ? '' : `#${r.fromIncidentId}`]),
            ),
          );
        }
        return 0;
      }
      if (action === 'remove') {
        if (idText === undefined || !/^\d+$/.test(idText) || Number(idText) < 1) throw new UsageError(`allow remove needs a rule id (\`allow list\` shows them); got ${idText === undefined ? 'nothing' : `'${idText}'`}`);
        const rule = store.remove(Number(idText));
        ctx.stdout.write(`Removed rule ${rule.id}: ${describeRule(rule)} can raise incidents again.\n`);
        return 0;
      }
      const port = text(ctx.values.port) === null ? { proto: null, port: null } : portArg(text(ctx.values.port)!);
      const incident = text(ctx.values.incident);
      if (incident !== null && !/^\d+$/.test(incident)) throw new UsageError(`--incident takes an incident id; got '${incident}'`);
      const rule = store.add({
        ...port, exe: text(ctx.values.exe), process: text(ctx.values.process), user: text(ctx.values.user), fromIncidentId: incident === null ? null : Number(incident),
      });
      ctx.stdout.write(`Added rule ${rule.id}: ${describeRule(rule)} is expected from now on.\n`);
      return 0;
    } finally {
      db.close();
    }
  },
};
