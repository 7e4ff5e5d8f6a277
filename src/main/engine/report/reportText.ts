import type { DailyReport } from '../../../shared/contract';
import {
  captureSentence, cleanupSentence, endpointName, gapReason, formatBytes, formatSpan, formatStamp, modelSentence, ownerName, plural, reportHeadline,
} from '../../../shared/reportFormat';

/** The daily report as plain text, for a terminal and the e-mail's text part. */
export function reportText(r: DailyReport): string {
  const out: string[] = [];
  const section = (title: string, lines: string[], empty: string) => {
    out.push('', title, ...(lines.length === 0 ? [`  ${empty}`] : lines.map((l) => `  ${l}`)));
  };
  out.push(`Portent daily report: ${r.host}, ${r.day}`);
  out.push(`${formatStamp(r.from)} to ${formatStamp(r.to)} (${formatSpan(r.to - r.from)})`);
  out.push(`${reportHeadline(r.summary)}; ${plural(r.newEndpoints, 'remote end', 'remote ends')} contacted for the first time.`);
  section('Incidents', r.incidents.map((i) => `${formatStamp(i.startedAt)} [${i.status}] ${i.sentence}`), 'No incidents.');
  section(
    'Ports opened for the first time',
    r.newPorts.map((p) => `${p.port}/${p.proto} at ${formatStamp(p.firstSeenAt)} by ${ownerName(p)}${p.exe && p.exe !== p.process ? ` (${p.exe})` : ''}${p.user ? `, user ${p.user}` : ''}${p.pid !== null ? `, pid ${p.pid}` : ''}`),
    'No port opened for the first time.',
  );
  section('Programs listening for the first time', r.newListeningProcesses.map((p) => `${ownerName(p)} since ${formatStamp(p.firstSeenAt)} on ${p.ports.join(', ')}`), 'No program listened for the first time.');
  section(
    'Programs talking out for the first time',
    r.newTalkers.map((t) => `${ownerName(t)} since ${formatStamp(t.firstSeenAt)} to ${t.endpoints.map(endpointName).join(', ')}${t.moreEndpoints > 0 ? `, and ${t.moreEndpoints} more` : ''}`),
    'No program talked out for the first time.',
  );
  section('Busiest programs', r.busiestProcesses.map((p) => `${ownerName(p)}: ${formatBytes(p.bytesOut)} sent, ${formatBytes(p.bytesIn)} received, ${plural(p.endpoints, 'remote end', 'remote ends')}`), 'No traffic or connections recorded.');
  section('Busiest remote ends', r.busiestEndpoints.map((e) => `${endpointName(e)}: ${formatBytes(e.bytesOut)} sent, ${formatBytes(e.bytesIn)} received, by ${e.processes.join(', ') || 'an unknown program'}`), 'No traffic captured.');
  section('Capture', [captureSentence(r.capture), ...r.capture.gaps.map((g) => `not recording ${formatStamp(g.from)} to ${formatStamp(g.to)}: ${gapReason(g)}`), ...r.capture.offReasons.map((o) => `capture off for ${plural(o.rounds, 'round', 'rounds')}: ${o.message}`)], '');
  section('Model', [modelSentence(r.model)], '');
  section('Database', [cleanupSentence(r.database)], '');
  return out.join('\n') + '\n';
}
