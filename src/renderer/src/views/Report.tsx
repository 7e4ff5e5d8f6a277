import type { ReactNode } from 'react';
import type { DailyReport, ReportEntry } from '../../../shared/contract';
import { columnBars, rowBars } from '../../../shared/reportCharts';
import {
  captureSentence, cleanupSentence, endpointName, formatBytes, formatClock, formatSpan, formatStamp, modelSentence, ownerName, plural, reportHeadline,
} from '../../../shared/reportFormat';
import { hrefOf } from '../router';
import { useReport, useReports } from '../queries';
import { Problem } from '../components/Problem';
import './report.css';

/**
 * The daily report in the window: the same report as the HTML file and `portent report`, read
 * through the contract's getReport, with a list of the days built to move between them.
 */

const W = 720;
const H = 110;

function ActivityChart({ report }: { report: DailyReport }) {
  const step = report.hours.length === 0 ? 0 : W / report.hours.length;
  const bars = columnBars(report.hours.map((h) => h.bytes), W, H);
  return (
    <svg className="report-chart" role="img" aria-label="Traffic per hour, with hours not recorded shaded and incidents marked" viewBox={`0 0 ${W} ${H + 18}`}>
      {report.hours.map((h, i) =>
        h.rounds === 0 ? (
          <rect key={`off-${h.at}`} className="off" x={i * step} y={0} width={step} height={H}>
            <title>{formatClock(h.at)}: not recording</title>
          </rect>
        ) : null,
      )}
      {bars.map((b, i) => (
        <rect key={`bar-${report.hours[i]!.at}`} className="bar" x={b.x} y={b.y} width={b.width} height={b.height}>
          <title>{`${formatClock(report.hours[i]!.at)}: ${formatBytes(b.value)}, ${plural(report.hours[i]!.rounds, 'round', 'rounds')}`}</title>
        </rect>
      ))}
      {report.hours.map((h, i) =>
        h.incidents > 0 ? (
          <circle key={`inc-${h.at}`} className="incident" cx={i * step + step / 2} cy={8} r={5}>
            <title>{`${formatClock(h.at)}: ${plural(h.incidents, 'incident', 'incidents')}`}</title>
          </circle>
        ) : null,
      )}
      {report.hours.map((h, i) =>
        i % 3 === 0 ? (
          <text key={`t-${h.at}`} x={i * step + 2} y={H + 14}>
            {formatClock(h.at)}
          </text>
        ) : null,
      )}
    </svg>
  );
}

function BusiestChart({ report }: { report: DailyReport }) {
  const rows = report.busiestProcesses.filter((p) => p.bytesOut + p.bytesIn > 0);
  if (rows.length === 0) return null;
  const row = 22;
  const labelW = 180;
  const bars = rowBars(rows.map((p) => p.bytesOut + p.bytesIn), W - labelW - 90, row);
  return (
    <svg className="report-chart" role="img" aria-label="Busiest programs by bytes" viewBox={`0 0 ${W} ${rows.length * row}`}>
      {bars.map((b, i) => (
        <g key={`${ownerName(rows[i]!)}-${i}`}>
          <text x={0} y={b.y + row / 2 + 2}>
            {ownerName(rows[i]!)}
          </text>
          <rect className="bar" x={labelW} y={b.y} width={b.width} height={b.height} />
          <text x={labelW + b.width + 6} y={b.y + row / 2 + 2}>
            {formatBytes(b.value)}
          </text>
        </g>
      ))}
    </svg>
  );
}

function Table({ caption, headers, rows, empty }: { caption: string; headers: string[]; rows: ReactNode[][]; empty: string }) {
  if (rows.length === 0) return <p className="muted">{empty}</p>;
  return (
    <table>
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          {headers.map((h) => (
            <th key={h} scope="col">
              {h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={i}>
            {r.map((c, j) => (
              <td key={j}>{c}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ReportBody({ report }: { report: DailyReport }) {
  return (
    <article className="report" aria-label={`Daily report of ${report.day}`}>
      <p className="report-period">
        {report.host}: {formatStamp(report.from)} to {formatStamp(report.to)} ({formatSpan(report.to - report.from)})
      </p>
      <p className="report-headline">
        {reportHeadline(report.summary)}; {plural(report.newEndpoints, 'remote end', 'remote ends')} contacted for the first time.
      </p>
      <h3>Activity</h3>
      <ActivityChart report={report} />
      <h3>Incidents</h3>
      <Table
        caption="Incidents"
        headers={['Started', 'Status', 'What happened']}
        rows={report.incidents.map((i) => [formatStamp(i.startedAt), i.status, <a href={hrefOf({ view: 'incidents', id: i.id })}>{i.sentence}</a>])}
        empty="No incidents."
      />
      <h3>Ports opened for the first time</h3>
      <Table
        caption="Ports opened for the first time"
        headers={['Port', 'First seen', 'Program', 'Executable', 'User', 'PID']}
        rows={report.newPorts.map((p) => [`${p.port}/${p.proto}`, formatStamp(p.firstSeenAt), ownerName(p), p.exe ?? '', p.user ?? '', p.pid ?? ''])}
        empty="No port opened for the first time."
      />
      <h3>Programs listening for the first time</h3>
      <Table
        caption="Programs listening for the first time"
        headers={['Program', 'Executable', 'User', 'First listened', 'Ports']}
        rows={report.newListeningProcesses.map((p) => [ownerName(p), p.exe ?? '', p.user ?? '', formatStamp(p.firstSeenAt), p.ports.join(', ')])}
        empty="No program listened for the first time."
      />
      <h3>Programs talking out for the first time</h3>
      <Table
        caption="Programs talking out for the first time"
        headers={['Program', 'Executable', 'First talked out', 'To']}
        rows={report.newTalkers.map((t) => [ownerName(t), t.exe ?? '', formatStamp(t.firstSeenAt), t.endpoints.map(endpointName).join(', ') + (t.moreEndpoints > 0 ? `, and ${t.moreEndpoints} more` : '')])}
        empty="No program talked out for the first time."
      />
      <h3>Busiest programs</h3>
      <BusiestChart report={report} />
      <Table
        caption="Busiest programs"
        headers={['Program', 'Sent', 'Received', 'Remote ends']}
        rows={report.busiestProcesses.map((p) => [ownerName(p), formatBytes(p.bytesOut), formatBytes(p.bytesIn), p.endpoints])}
        empty="No traffic or connections recorded."
      />
      <h3>Busiest remote ends</h3>
      <Table
        caption="Busiest remote ends"
        headers={['Remote end', 'Sent', 'Received', 'Programs']}
        rows={report.busiestEndpoints.map((e) => [endpointName(e), formatBytes(e.bytesOut), formatBytes(e.bytesIn), e.processes.join(', ') || 'an unknown program'])}
        empty="No traffic captured."
      />
      <h3>Capture</h3>
      <p>{captureSentence(report.capture)}</p>
      {report.capture.offReasons.map((o) => (
        <p key={o.message} className="muted">
          Capture off for {plural(o.rounds, 'round', 'rounds')}: {o.message}
        </p>
      ))}
      <h3>Model</h3>
      <p>{modelSentence(report.model)}</p>
      <h3>Database</h3>
      <p>{cleanupSentence(report.database)}</p>
      <p className="muted">
        Built {formatStamp(report.builtAt)} by Portent {report.version}.
      </p>
    </article>
  );
}

function DayPicker({ current, reports }: { current: string | null; reports: ReportEntry[] }) {
  if (reports.length === 0) return null;
  return (
    <nav aria-label="Reports by day" className="toolbar report-days">
      {reports.slice(0, 14).map((r) => (
        <a key={r.day} href={hrefOf({ view: 'report', day: r.day })} aria-current={r.day === current ? 'page' : undefined} title={reportHeadline(r.summary)}>
          {r.day}
        </a>
      ))}
    </nav>
  );
}

export function Report({ day }: { day: string | null }) {
  const report = useReport(day);
  const reports = useReports();
  const shown = report.data?.day ?? day;
  return (
    <section aria-labelledby="report-title">
      <h2 id="report-title">Daily report{shown ? ` of ${shown}` : ''}</h2>
      <DayPicker current={shown} reports={reports.data ?? []} />
      {report.isPending && <p>Loading the report…</p>}
      {report.isError && <Problem error={report.error} what="read the daily report" />}
      {report.data && <ReportBody report={report.data} />}
    </section>
  );
}
