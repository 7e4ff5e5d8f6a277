import type { IncidentAction, IncidentDetail, IncidentEndpoint, IncidentFeature, IncidentSummary } from './contract';
import { featureAmount } from './trafficScale';

/**
 * An incident as plain text and as JSON, for a ticket or a chat: the window's copy buttons and
 * `portent anomalies show ID --format text|json` print the same. Times are UTC (ISO 8601), so a
 * reader elsewhere sees the same instant.
 */

const iso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');

function who(p: { name?: string | null; process?: string | null; exe: string | null; pid?: number | null }): string {
  const name = p.name ?? p.process ?? null;
  const parts = [name ?? 'unknown program', p.pid != null ? `(pid ${p.pid})` : null, p.exe && p.exe !== name ? p.exe : null];
  return parts.filter(Boolean).join(' ');
}

function endpoint(e: IncidentEndpoint): string {
  const addr = e.address === '' ? '(resolver not seen)' : e.address.includes(':') ? `[${e.address}]` : e.address;
  const where = e.port > 0 ? `${addr}:${e.port}/${e.proto}` : `${addr} ${e.proto}`;
  const facts = [e.direction, ...(e.newForProcess ? [e.newAnywhere ? 'new for every program' : 'new for this program'] : []), `${e.opened} opened`, `${e.bytesOut} B out`, `${e.bytesIn} B in`];
  return `${e.name ? `${e.name} ` : ''}${where} (${facts.join(', ')})`;
}

/**
 * Whose flows and DNS names an incident's detail lists, as headings (the engine's getIncident
 * picks them the same way): a port incident's, the whole machine's; a program's traffic
 * incident's, that program's and the unnamed traffic to its remote ends; traffic no program
 * owns, the traffic no program was named for.
 */
export function trafficScope(i: Pick<IncidentSummary, 'kind' | 'program'>): { flows: string; noFlows: string; dns: string } {
  const off = 'packet capture may be off';
  if (i.kind === 'ports') return { flows: 'Flows during the incident', noFlows: `No flows were recorded in these rounds (${off}).`, dns: 'DNS names' };
  if (i.program) {
    const name = i.program.name ?? 'the program';
    return {
      flows: `Flows of ${name} during the incident, and those to its remote ends no program was named for`,
      noFlows: `No flows of ${name} or to its remote ends were recorded in these rounds (${off}).`,
      dns: `DNS names of ${name}'s lookups and remote ends`,
    };
  }
  return { flows: 'Flows no program was named for, during the incident', noFlows: `No flows without a program were recorded in these rounds (${off}).`, dns: 'DNS names looked up by no named program' };
}

/**
 * One feature that drove a traffic incident: "bytes_out 61% of the explanation, 50 MB seen, 146 KB
 * expected" (here and in `anomalies`).
 */
export function featureText(f: IncidentFeature): string {
  return `${f.feature} ${Math.round(f.share * 100)}% of the explanation, ${featureAmount(f.feature, f.value)} seen, ${featureAmount(f.feature, f.expected)} expected`;
}

/** What an action's outcome means, in words. */
export function outcomeLabel(outcome: IncidentAction['outcome']): string {
  switch (outcome) {
    case 'sigterm':
      return 'stopped (SIGTERM)';
    case 'sigkill':
      return 'stopped (needed SIGKILL)';
    case 'gone':
      return 'already gone';
    case 'refused':
      return 'refused';
    case 'failed':
      return 'still running';
  }
}

export function incidentAsText(i: IncidentDetail): string {
  const lines = [
    `Portent incident ${i.id} [${i.status}]`,
    i.sentence,
    i.episodes.length > 1
      ? `When: ${i.episodes.map((e) => `${iso(e.startedAt)} to ${iso(e.endedAt)}`).join(', then ')} (${i.rounds} rounds; the same cause came back ${i.episodes.length - 1} time${i.episodes.length === 2 ? '' : 's'} after a pause)`
      : `When: ${iso(i.startedAt)} to ${iso(i.endedAt)} (${i.rounds} round${i.rounds === 1 ? '' : 's'})`,
    `Score: ${i.peakScore.toFixed(2)} against a threshold of ${i.threshold.toFixed(2)}`,
    `About: ${i.kind === 'ports' ? 'listening ports' : i.kind === 'both' ? `listening ports and traffic (${i.trafficKind ?? 'unusual-traffic'})` : `traffic (${i.trafficKind ?? 'unusual-traffic'})`}`,
  ];
  if (i.program) lines.push(`Program: ${who({ name: i.program.name, exe: i.program.exe })}${i.program.user ? `, user ${i.program.user}` : ''}`);
  if (i.ports.length > 0) {
    lines.push('Ports:');
    for (const p of i.ports) lines.push(`  ${p.port}/${p.proto} ${p.direction}: ${p.process === null && p.exe === null ? 'owner unknown' : who(p)}, ${Math.round(p.share * 100)}% of the error`);
  }
  if (i.endpoints.length > 0) {
    lines.push('Remote ends:');
    for (const e of i.endpoints) lines.push(`  ${endpoint(e)}`);
  }
  if (i.features.length > 0) {
    lines.push('What made it stand out:');
    for (const f of i.features) lines.push(`  ${featureText(f)}`);
  }
  if (i.processes.length > 0) {
    lines.push('Processes:');
    for (const p of i.processes) {
      const ports = p.ports.map((x) => `${x.port}/${x.proto}`).join(', ');
      lines.push(`  ${who(p)}${p.uid !== null ? `, uid ${p.uid}` : ''}${ports ? `, ports ${ports}` : ''}${p.startTicks === null ? ', start time not recorded' : ''}`);
    }
  }
  if (i.actions.length > 0) {
    lines.push('Actions:');
    for (const a of i.actions) lines.push(`  ${iso(a.at)} stop pid ${a.pid ?? '?'}: ${outcomeLabel(a.outcome)}, ${a.detail}`);
  }
  if (i.dns.length > 0) lines.push(`${trafficScope(i).dns}: ${i.dns.slice(0, 20).join(', ')}${i.dns.length > 20 ? ` and ${i.dns.length - 20} more` : ''}`);
  return lines.join('\n') + '\n';
}

/** The incident as JSON, without the per-round scores (the detail view's chart): what a ticket needs. */
export function incidentAsJson(i: IncidentDetail): string {
  const { scores: _scores, ...rest } = i;
  return JSON.stringify({ ...rest, startedAt: iso(i.startedAt), endedAt: iso(i.endedAt), episodes: i.episodes.map((e) => ({ startedAt: iso(e.startedAt), endedAt: iso(e.endedAt) })), actions: i.actions.map((a) => ({ ...a, at: iso(a.at) })) }, null, 2) + '\n';
}
