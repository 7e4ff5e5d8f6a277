import type { DailyReport } from '../../../shared/contract';
import { columnBars, rowBars } from '../../../shared/reportCharts';
import {
  captureSentence, cleanupSentence, endpointName, gapReason, formatBytes, formatClock, formatSpan, formatStamp, modelSentence, ownerName, plural, reportHeadline,
} from '../../../shared/reportFormat';

/**
 * The daily report as one self-contained HTML file: styles inline, charts as inline SVG, no
 * script, and a content security policy that forbids loading anything, so opening it (from the
 * data folder or an e-mail) makes no network request.
 */

const esc = (text: string | number): string =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function table(headers: string[], rows: (string | number)[][], empty: string): string {
  if (rows.length === 0) return `<p class="none">${esc(empty)}</p>`;
  return `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const W = 720;
const H = 120;

/** Bytes per hour as columns, hours without a recorded round shaded, an incident's start marked. */
function activityChart(r: DailyReport): string {
  const bars = columnBars(r.hours.map((h) => h.bytes), W, H);
  const step = r.hours.length === 0 ? 0 : W / r.hours.length;
  const off = r.hours.map((h, i) => (h.rounds === 0 ? `<rect class="off" x="${i * step}" y="0" width="${step}" height="${H}"><title>${esc(formatClock(h.at))}: not recording</title></rect>` : '')).join('');
  const cols = bars
    .map((b, i) => `<rect class="bar" x="${b.x.toFixed(1)}" y="${b.y.toFixed(1)}" width="${b.width.toFixed(1)}" height="${b.height.toFixed(1)}"><title>${esc(formatClock(r.hours[i]!.at))}: ${esc(formatBytes(b.value))}, ${esc(plural(r.hours[i]!.rounds, 'round', 'rounds'))}</title></rect>`)
    .join('');
  const marks = r.hours
    .map((h, i) => (h.incidents > 0 ? `<circle class="incident" cx="${(i * step + step / 2).toFixed(1)}" cy="8" r="5"><title>${esc(formatClock(h.at))}: ${esc(plural(h.incidents, 'incident', 'incidents'))}</title></circle>` : ''))
    .join('');
  const ticks = r.hours
    .map((h, i) => (i % 3 === 0 ? `<text x="${(i * step + 2).toFixed(1)}" y="${H + 14}">${esc(formatClock(h.at))}</text>` : ''))
    .join('');
  return `<svg class="chart" role="img" aria-label="Traffic per hour, with hours not recorded shaded and incidents marked" viewBox="0 0 ${W} ${H + 18}" width="${W}" height="${H + 18}">${off}${cols}${marks}${ticks}</svg>`;
}

/** The busiest programs by bytes each way, as horizontal bars. */
function busiestChart(r: DailyReport): string {
  const rows = r.busiestProcesses.filter((p) => p.bytesOut + p.bytesIn > 0);
  if (rows.length === 0) return '';
  const row = 22;
  const labelW = 180;
  const bars = rowBars(rows.map((p) => p.bytesOut + p.bytesIn), W - labelW - 90, row);
  const body = bars
    .map((b, i) => {
      const p = rows[i]!;
      return `<text x="0" y="${(b.y + row / 2 + 2).toFixed(1)}">${esc(ownerName(p))}</text><rect class="bar" x="${labelW}" y="${b.y.toFixed(1)}" width="${b.width.toFixed(1)}" height="${b.height}"><title>${esc(ownerName(p))}: ${esc(formatBytes(p.bytesOut))} out, ${esc(formatBytes(p.bytesIn))} in</title></rect><text x="${(labelW + b.width + 6).toFixed(1)}" y="${(b.y + row / 2 + 2).toFixed(1)}">${esc(formatBytes(b.value))}</text>`;
    })
    .join('');
  return `<svg class="chart" role="img" aria-label="Busiest programs by bytes" viewBox="0 0 ${W} ${rows.length * row}" width="${W}" height="${rows.length * row}">${body}</svg>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2330;background:#fff;margin:0;padding:24px 32px;max-width:820px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #d8dce6;padding-bottom:4px}
.period{color:#5a6375;margin:0}.headline{font-size:18px;margin:12px 0 0}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eceef3;vertical-align:top}th{color:#5a6375;font-weight:600}
.none{color:#5a6375;font-style:italic}.chart{display:block;max-width:100%;height:auto;font-size:11px;fill:#5a6375}
.chart .bar{fill:#3867d6}.chart .off{fill:#eceef3}.chart .incident{fill:#c0392b}
.status-new{color:#c0392b;font-weight:600}footer{margin-top:32px;color:#5a6375;font-size:12px}
`;

export function reportHtml(r: DailyReport): string {
  const title = `Portent daily report: ${r.host}, ${r.day}`;
  const incidents = table(
    ['Started', 'Status', 'What happened'],
    r.incidents.map((i) => [formatStamp(i.startedAt), i.status, i.sentence]),
    'No incidents.',
  );
  const newPorts = table(
    ['Port', 'First seen', 'Program', 'Executable', 'User', 'PID'],
    r.newPorts.map((p) => [`${p.port}/${p.proto}`, formatStamp(p.firstSeenAt), ownerName(p), p.exe ?? '', p.user ?? '', p.pid ?? '']),
    'No port opened for the first time.',
  );
  const listeners = table(
    ['Program', 'Executable', 'User', 'First listened', 'Ports'],
    r.newListeningProcesses.map((p) => [ownerName(p), p.exe ?? '', p.user ?? '', formatStamp(p.firstSeenAt), p.ports.join(', ')]),
    'No program listened for the first time.',
  );
  const talkers = table(
    ['Program', 'Executable', 'First talked out', 'To'],
    r.newTalkers.map((t) => [ownerName(t), t.exe ?? '', formatStamp(t.firstSeenAt), t.endpoints.map(endpointName).join(', ') + (t.moreEndpoints > 0 ? `, and ${t.moreEndpoints} more` : '')]),
    'No program talked out for the first time.',
  );
  const busiest = table(
    ['Program', 'Sent', 'Received', 'Remote ends'],
    r.busiestProcesses.map((p) => [ownerName(p), formatBytes(p.bytesOut), formatBytes(p.bytesIn), p.endpoints]),
    'No traffic or connections recorded.',
  );
  const endpoints = table(
    ['Remote end', 'Sent', 'Received', 'Programs'],
    r.busiestEndpoints.map((e) => [endpointName(e), formatBytes(e.bytesOut), formatBytes(e.bytesIn), e.processes.join(', ') || 'an unknown program']),
    'No traffic captured.',
  );
  const gaps = table(
    ['From', 'To', 'Why'],
    r.capture.gaps.map((g) => [formatStamp(g.from), formatStamp(g.to), gapReason(g)]),
    'No gap: the monitor recorded throughout.',
  );
  const offReasons = r.capture.offReasons.length === 0 ? '' : table(['Capture off because', 'Rounds'], r.capture.offReasons.map((o) => [o.message, o.rounds]), '');
  const cleanups = table(
    ['Cleanup', 'Status', 'Removed', 'Database'],
    r.database.cleanups.map((c) => [
      formatStamp(c.at),
      c.status,
      `${c.removed.roundPorts} socket rows, ${c.removed.connections} spans, ${c.removed.packets} packets, ${c.removed.flows} flows, ${c.removed.trafficWindows} windows, ${c.removed.reportFiles} report files`,
      c.bytesBefore === null || c.bytesAfter === null ? '' : `${formatBytes(c.bytesBefore)} → ${formatBytes(c.bytesAfter)}`,
    ]),
    'No cleanup ran in the period.',
  );
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${esc(title)}</h1>
<p class="period">${esc(formatStamp(r.from))} to ${esc(formatStamp(r.to))} (${esc(formatSpan(r.to - r.from))})</p>
<p class="headline">${esc(reportHeadline(r.summary))}; ${esc(plural(r.newEndpoints, 'remote end', 'remote ends'))} contacted for the first time.</p>
<h2>Activity</h2>${activityChart(r)}
<h2>Incidents</h2>${incidents}
<h2>Ports opened for the first time</h2>${newPorts}
<h2>Programs listening for the first time</h2>${listeners}
<h2>Programs talking out for the first time</h2>${talkers}
<h2>Busiest programs</h2>${busiestChart(r)}${busiest}
<h2>Busiest remote ends</h2>${endpoints}
<h2>Capture</h2><p>${esc(captureSentence(r.capture))}</p>${gaps}${offReasons}
<h2>Model</h2><p>${esc(modelSentence(r.model))}</p>
<h2>Database</h2><p>${esc(cleanupSentence(r.database))}</p>${cleanups}
<footer>Built ${esc(formatStamp(r.builtAt))} by Portent ${esc(r.version)}. The same data is in portent-report-${esc(r.day)}.json beside this file.</footer>
</body></html>
`;
}
