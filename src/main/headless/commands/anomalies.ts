import { createInterface } from 'node:readline';
import { openDatabase, type Db } from '../../engine/store/database';
import { getIncident, withTraffic } from '../../engine/queries/incidents';
import { IncidentActionError, stopIncidentProcess } from '../../engine/actions/incidentActions';
import { featureText, incidentAsJson, incidentAsText, outcomeLabel } from '../../../shared/incidentText';
import type { IncidentDetail, IncidentProcess } from '../../../shared/contract';
import { DetectionStore } from '../../engine/store/detectionStore';
import type { IncidentEndpoint, IncidentFeature, IncidentSummary } from '../../../shared/contract';
import { UsageError, type Command, type CommandContext } from '../command';
import { resolveDbPath } from '../dbOption';
import { parseSince } from '../parseTime';
import { formatBytes } from '../../../shared/reportFormat';

function incidentId(text: string | undefined, action: string): number {
  if (text === undefined) throw new UsageError(`anomalies ${action} needs an incident id (\`anomalies\` lists them)`);
  const id = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(id) || id < 1) throw new UsageError(`an incident id is a whole number of at least 1; got '${text}'`);
  return id;
}

/** The incident, or a clear "no incident N" (exit 1) instead of a stack. */
function loadIncident(db: Db, id: number): IncidentDetail {
  try {
    return getIncident(db, id);
  } catch (err) {
    if ((err as Error).message === `no incident ${id}`) throw new IncidentActionError(`no incident ${id}`);
    throw err;
  }
}

/** What the confirmation names: the process, its executable and its ports. */
export function confirmationText(incidentId: number, p: IncidentProcess): string {
  const ports = p.ports.map((x) => `${x.port}/${x.proto}`).join(', ');
  return [
    `Stop ${p.name ?? 'the process'} (pid ${p.pid}) of incident ${incidentId}?`,
    `  executable: ${p.exe ?? 'unknown'}`,
    `  ports: ${ports || 'none of the incident\'s'}`,
    '  It is sent SIGTERM, and SIGKILL if it has not exited after the grace period (setting actions.stopGraceSeconds).',
  ].join('\n');
}

/** Reads one line from stdin; null when there is no stdin or it ends first. */
function askLine(ctx: CommandContext, question: string): Promise<string | null> {
  const input = ctx.stdin;
  if (!input) return Promise.resolve(null);
  return new Promise((resolve) => {
    const rl = createInterface({ input, terminal: false });
    let answered = false;
    rl.once('line', (line) => {
      answered = true;
      rl.close();
      resolve(line);
    });
    rl.once('close', () => {
      if (!answered) resolve(null);
    });
    ctx.stdout.write(question);
  });
}

/** `anomalies show ID [--format text|json]`: the incident as a ticket or a chat wants it. */
function show(ctx: CommandContext, db: Db, id: number): number {
  const format = ctx.values.format ?? (ctx.values.json ? 'json' : 'text');
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json; got '${String(format)}'`);
  const incident = loadIncident(db, id);
  ctx.stdout.write(format === 'json' ? incidentAsJson(incident) : incidentAsText(incident));
  return 0;
}

/** `anomalies stop ID [--pid PID] [--yes]`: confirms, then stops the process and prints the recorded outcome. */
async function stop(ctx: CommandContext, db: Db, id: number): Promise<number> {
  const incident = loadIncident(db, id);
  if (incident.processes.length === 0) throw new IncidentActionError(`incident ${id} names no process that could be stopped`);
  let target: IncidentProcess | undefined;
  if (ctx.values.pid !== undefined) {
    const pid = Number(ctx.values.pid);
    if (!/^\d+$/.test(String(ctx.values.pid)) || pid < 1) throw new UsageError(`--pid must be a process id; got '${String(ctx.values.pid)}'`);
    target = incident.processes.find((p) => p.pid === pid);
    if (!target) throw new IncidentActionError(`incident ${id} names no process with pid ${pid} (it names pid ${incident.processes.map((p) => p.pid).join(', ')})`);
  } else if (incident.processes.length === 1) target = incident.processes[0];
  else throw new UsageError(`incident ${id} names ${incident.processes.length} processes; choose one with --pid (${incident.processes.map((p) => `${p.pid} ${p.exe ?? p.name ?? ''}`.trim()).join(', ')})`);
  ctx.stdout.write(confirmationText(id, target!) + '\n');
  if (!ctx.values.yes) {
    const answer = await askLine(ctx, 'Stop it? [y/N] ');
    if (answer === null || !/^y(es)?$/i.test(answer.trim())) {
      ctx.stdout.write(answer === null ? '\nNot stopped: no answer (pass --yes to confirm without a prompt).\n' : 'Not stopped.\n');
      return 1;
    }
  }
  const action = await stopIncidentProcess(db, id, target!.pid);
  ctx.stdout.write(`${outcomeLabel(action.outcome)}: ${action.detail}\n`);
  return action.outcome === 'sigterm' || action.outcome === 'sigkill' || action.outcome === 'gone' ? 0 : 1;
}

export const anomaliesCommand: Command = {
  name: 'anomalies',
  summary: 'List incidents (newest first, with what explains them), show one as text or JSON (show ID), or stop its process (stop ID)',
  usage: '[--since T] [--limit N] [--json] | show ID [--format text|json] | stop ID [--pid PID] [--yes]  [--db PATH]',
  options: {
    since: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, db: { type: 'string' },
    format: { type: 'string' }, pid: { type: 'string' }, yes: { type: 'boolean', short: 'y' },
  },
  async run(ctx) {
    const [action, idText, ...extra] = ctx.positionals;
    if (action !== undefined) {
      if (action !== 'show' && action !== 'stop') throw new UsageError(`expected show or stop (or nothing, to list); got '${action}'`);
      if (extra.length > 0) throw new UsageError(`too many arguments for anomalies ${action}`);
      const id = incidentId(idText, action);
      const db = openDatabase(resolveDbPath(ctx));
      try {
        return action === 'show' ? show(ctx, db, id) : await stop(ctx, db, id);
      } finally {
        db.close();
      }
    }
    const since = typeof ctx.values.since === 'string' ? parseSince(ctx.values.since) : undefined;
    const limit = ctx.values.limit === undefined ? 50 : Number(ctx.values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a whole number of at least 1; got '${String(ctx.values.limit)}'`);
    const db = openDatabase(resolveDbPath(ctx));
    try {
      const incidents = withTraffic(db, new DetectionStore(db).incidents({ limit, since }));
      if (ctx.values.json) {
        ctx.stdout.write(JSON.stringify(incidents, null, 2) + '\n');
        return 0;
      }
      if (incidents.length === 0) {
        ctx.stdout.write('No incidents recorded.\n');
        return 0;
      }
      const out: string[] = [];
      for (const i of incidents) {
        out.push(`#${i.id} [${i.status}] ${new Date(i.startedAt).toISOString()} to ${new Date(i.endedAt).toISOString()}  score ${i.peakScore.toFixed(1)} / threshold ${i.threshold.toFixed(1)}`);
        out.push(`  ${i.sentence}`);
        for (const p of i.ports) {
          const who = p.process ? `${p.process}${p.pid ? ` (pid ${p.pid})` : ''}${p.exe ? ` ${p.exe}` : ''}` : 'owner unknown';
          out.push(`    ${p.port}/${p.proto} ${p.direction}, ${(p.share * 100).toFixed(0)}% of the error, ${who}`);
        }
        if (i.kind !== 'ports') out.push(...trafficLines(i));
      }
      ctx.stdout.write(out.join('\n') + '\n');
      return 0;
    } finally {
      db.close();
    }
  },
};

/** Remote ends printed per traffic incident; features likewise. The JSON has them all. */
const SHOWN_ENDPOINTS = 5;
const SHOWN_FEATURES = 4;

function endpointLine(e: IncidentEndpoint): string {
  const addr = e.address.includes(':') ? `[${e.address}]` : e.address;
  const where = e.address === '' ? '(resolver not seen)' : e.port > 0 ? `${addr}:${e.port}/${e.proto}` : `${addr} ${e.proto}`;
  const facts = [
    e.direction === 'out' ? 'out' : 'in',
    ...(e.newForProcess ? [e.newAnywhere ? 'new for every program' : 'new for this program'] : []),
    `${e.opened} opened`,
    `${formatBytes(e.bytesOut)} out / ${formatBytes(e.bytesIn)} in`,
    ...(e.periodMs ? [`every ${(e.periodMs / 1000).toFixed(e.periodMs < 10_000 ? 1 : 0)} s`] : []),
    ...(e.heldSince !== null ? [`held since ${new Date(e.heldSince).toISOString()}`] : []),
  ];
  return `    ${e.name ? `${e.name} ` : ''}${where}: ${facts.join(', ')}`;
}

function featureLine(f: IncidentFeature): string {
  return `    ${featureText(f)}`;
}

/** What a traffic (or both) incident adds to the text listing: its kind and program, remote ends and driving features. */
function trafficLines(i: Pick<IncidentSummary, 'kind' | 'trafficKind' | 'program' | 'endpoints' | 'features'>): string[] {
  const p = i.program;
  const who = p ? [p.name ?? 'unknown program', p.exe, p.user && `user ${p.user}`].filter(Boolean).join(' ') : 'no program (host-wide)';
  const out = [`  traffic: ${i.trafficKind ?? 'unusual-traffic'}${i.kind === 'both' ? ' (with the ports above)' : ''}, ${who}`];
  out.push(...i.endpoints.slice(0, SHOWN_ENDPOINTS).map(endpointLine));
  if (i.endpoints.length > SHOWN_ENDPOINTS) out.push(`    and ${i.endpoints.length - SHOWN_ENDPOINTS} more remote ends (--json lists them)`);
  out.push(...i.features.slice(0, SHOWN_FEATURES).map(featureLine));
  return out;
}
