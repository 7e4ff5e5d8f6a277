import { useState, type ReactNode } from 'react';
import type { IncidentDetail, IncidentProcess } from '../../../shared/contract';
import { incidentAsJson, incidentAsText, outcomeLabel } from '../../../shared/incidentText';
import { allowChoices } from '../allowChoices';
import { formatDateTime } from '../format';
import { useAddAllowRule, useRevealExecutable, useSettings, useStopProcess } from '../queries';
import { inDesktopApp } from '../transport';
import { Modal } from './Modal';
import { Problem } from './Problem';

const portsOf = (p: IncidentProcess) => (p.ports.length === 0 ? 'none of the incident’s' : p.ports.map((x) => `${x.port}/${x.proto}`).join(', '));

/** The confirmation that names what is about to be stopped: the process, its executable and its ports. */
function ConfirmStop({ incidentId, process, onClose }: { incidentId: number; process: IncidentProcess; onClose: () => void }) {
  const stop = useStopProcess();
  const settings = useSettings();
  const grace = settings.data?.values['actions.stopGraceSeconds'];
  return (
    <Modal title={`Stop ${process.name ?? 'this process'} (pid ${process.pid})?`} onClose={onClose}>
      <dl className="facts">
        <dt>Process</dt>
        <dd>
          {process.name ?? 'unknown'} (pid {process.pid})
        </dd>
        <dt>Executable</dt>
        <dd className="mono">{process.exe ?? 'unknown'}</dd>
        <dt>Ports</dt>
        <dd>{portsOf(process)}</dd>
      </dl>
      <p className="muted">
        Portent asks it to exit (SIGTERM) and forces it (SIGKILL) if it is still running after {typeof grace === 'number' ? `${grace} seconds` : 'the grace period'}. It is
        stopped only if it is still the process the incident recorded, and one Portent&apos;s user may stop.
      </p>
      {stop.data && (
        <p role="status" data-outcome={stop.data.outcome}>
          {outcomeLabel(stop.data.outcome)}: {stop.data.detail}
        </p>
      )}
      {stop.error && <Problem error={stop.error} what="stop the process" />}
      <div className="actions">
        {!stop.data && (
          <button type="button" className="danger" disabled={stop.isPending} onClick={() => stop.mutate({ id: incidentId, pid: process.pid })}>
            {stop.isPending ? 'Stopping…' : 'Stop the process'}
          </button>
        )}
        <button type="button" onClick={onClose}>
          {stop.data ? 'Close' : 'Cancel'}
        </button>
      </div>
    </Modal>
  );
}

function AllowDialog({ incident, onClose }: { incident: IncidentDetail; onClose: () => void }) {
  const choices = allowChoices(incident);
  const [picked, setPicked] = useState(choices[0]?.key ?? '');
  const add = useAddAllowRule();
  const choice = choices.find((c) => c.key === picked);
  return (
    <Modal title="Expected from now on" onClose={onClose}>
      <p className="muted">Later rounds with what you choose never raise an incident, and are learned as normal. Unlike marking this incident expected, it holds for the future; Settings lists the rules and deletes them.</p>
      {choices.length === 0 ? (
        <p>This incident names no port or program to allow.</p>
      ) : (
        <fieldset>
          <legend>Allow</legend>
          {choices.map((c) => (
            <label key={c.key} className="choice">
              <input type="radio" name="allow" value={c.key} checked={picked === c.key} onChange={() => setPicked(c.key)} disabled={add.isSuccess} /> <span className="mono">{c.label}</span>
            </label>
          ))}
        </fieldset>
      )}
      {add.data && <p role="status">Rule {add.data.id} added: no incident for it from now on.</p>}
      {add.error && <Problem error={add.error} what="add the rule" />}
      <div className="actions">
        {!add.data && choice && (
          <button type="button" disabled={add.isPending} onClick={() => add.mutate(choice.rule)}>
            Allow from now on
          </button>
        )}
        <button type="button" onClick={onClose}>
          {add.data ? 'Close' : 'Cancel'}
        </button>
      </div>
    </Modal>
  );
}

/** Copies the incident as text or JSON; where the clipboard is refused, shows the text to copy by hand. */
function CopyDetails({ incident }: { incident: IncidentDetail }) {
  const [copied, setCopied] = useState<{ form: string; ok: boolean; text: string } | null>(null);
  const copy = (form: 'text' | 'JSON') => {
    const text = form === 'text' ? incidentAsText(incident) : incidentAsJson(incident);
    navigator.clipboard.writeText(text).then(
      () => setCopied({ form, ok: true, text }),
      () => setCopied({ form, ok: false, text }),
    );
  };
  return (
    <>
      <button type="button" onClick={() => copy('text')}>
        Copy as text
      </button>
      <button type="button" onClick={() => copy('JSON')}>
        Copy as JSON
      </button>
      {copied?.ok && <span role="status">Copied the incident as {copied.form}.</span>}
      {copied && !copied.ok && (
        <div className="copy-fallback">
          <p role="alert">The clipboard refused; select the {copied.form} below and copy it.</p>
          <textarea readOnly value={copied.text} aria-label={`The incident as ${copied.form}`} rows={8} />
        </div>
      )}
    </>
  );
}

/**
 * What the user can do about an incident and its processes, and what was done; `children` are the
 * incident's own verdicts (expected, dismiss, snooze), offered first.
 */
export function IncidentActions({ incident, children }: { incident: IncidentDetail; children?: ReactNode }) {
  const [stopping, setStopping] = useState<IncidentProcess | null>(null);
  const [allowing, setAllowing] = useState(false);
  const reveal = useRevealExecutable();
  return (
    <section aria-labelledby="incident-actions-title" className="chapter incident-actions">
      <h4 id="incident-actions-title">What you can do</h4>
      {children}
      {incident.processes.length > 0 && (
        <table aria-label="The incident's processes">
          <thead>
            <tr>
              <th scope="col">Process</th>
              <th scope="col">Executable</th>
              <th scope="col">Ports</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {incident.processes.map((p) => (
              <tr key={p.pid} data-pid={p.pid}>
                <td>
                  {p.name ?? 'unknown'} <span className="muted">(pid {p.pid})</span>
                </td>
                <td className="mono">{p.exe ?? 'unknown'}</td>
                <td>{p.ports.map((x) => `${x.port}/${x.proto}`).join(', ') || '–'}</td>
                <td>
                  <button type="button" className="danger" onClick={() => setStopping(p)} disabled={p.startTicks === null} title={p.startTicks === null ? 'Portent did not record when this process started, so it cannot tell it from a later process with the same pid' : undefined}>
                    Stop…
                  </button>
                  {inDesktopApp && p.exe !== null && (
                    <button type="button" onClick={() => reveal.mutate({ id: incident.id, pid: p.pid })}>
                      Show in file manager
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {reveal.data && !reveal.data.ok && <p role="alert">Could not show the executable: {reveal.data.reason}</p>}
      {reveal.error && <Problem error={reveal.error} what="show the executable" />}
      <div className="actions">
        <button type="button" onClick={() => setAllowing(true)}>
          Expected from now on…
        </button>
        <CopyDetails incident={incident} />
      </div>
      {incident.actions.length > 0 && (
        <ul aria-label="What was done" className="action-log">
          {incident.actions.map((a, i) => (
            <li key={i} data-outcome={a.outcome}>
              {formatDateTime(a.at)}: stop pid {a.pid ?? '?'}, <strong>{outcomeLabel(a.outcome)}</strong> ({a.detail})
            </li>
          ))}
        </ul>
      )}
      {stopping && <ConfirmStop incidentId={incident.id} process={stopping} onClose={() => setStopping(null)} />}
      {allowing && <AllowDialog incident={incident} onClose={() => setAllowing(false)} />}
    </section>
  );
}
