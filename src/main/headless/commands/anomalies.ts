import { openDatabase } from '../../engine/store/database';
import { withTraffic } from '../../engine/queries/incidents';
import { DetectionStore } from '../../engine/store/detectionStore';
import type { IncidentEndpoint, IncidentFeature, IncidentSummary } from '../../../shared/contract';
import { UsageError, type Command } from '../command';
import { resolveDbPath } from '../dbOption';
import { parseSince } from '../parseTime';

export const anomaliesCommand: Command = {
  name: 'anomalies',
  summary: 'List recorded incidents, newest first, with the ports, processes and remote ends that explain them',
  usage: '[--since T] [--limit N] [--json] [--db PATH]',
  options: { since: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, db: { type: 'string' } },
  async run(ctx) {
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

function bytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

function endpointLine(e: IncidentEndpoint): string {
  const addr = e.address.includes(':') ? `[${e.address}]` : e.address;
  const where = e.address === '' ? '(resolver not seen)' : e.port > 0 ? `${addr}:${e.port}/${e.proto}` : `${addr} ${e.proto}`;
  const facts = [
    e.direction === 'out' ? 'out' : 'in',
    ...(e.newForProcess ? [e.newAnywhere ? 'new for every program' : 'new for this program'] : []),
    `${e.opened} opened`,
    `${bytes(e.bytesOut)} out / ${bytes(e.bytesIn)} in`,
    ...(e.periodMs ? [`every ${(e.periodMs / 1000).toFixed(e.periodMs < 10_000 ? 1 : 0)} s`] : []),
    ...(e.heldSince !== null ? [`held since ${new Date(e.heldSince).toISOString()}`] : []),
  ];
  return `    ${e.name ? `${e.name} ` : ''}${where}: ${facts.join(', ')}`;
}

function featureLine(f: IncidentFeature): string {
  return `    ${f.feature} ${(f.share * 100).toFixed(0)}% of the explanation, ${f.value.toFixed(2)} seen, ${f.expected.toFixed(2)} expected`;
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
