import { describeRule } from '../../../shared/allowRule';
import { formatDateTime } from '../format';
import { hrefOf } from '../router';
import { useAllowRules, useRemoveAllowRule } from '../queries';
import { Problem } from './Problem';

/** The "expected from now on" rules, each with a way to delete it (Settings). */
export function AllowRules() {
  const rules = useAllowRules();
  const remove = useRemoveAllowRule();
  return (
    <fieldset className="allow-rules">
      <legend>
        <h3>Expected from now on</h3>
      </legend>
      <p className="muted">Ports and programs that never raise an incident. Add one from an incident (“Expected from now on…”) or with the command line&apos;s allow command; delete one and detection alerts on it again from the next round.</p>
      {rules.isPending && <p>Loading…</p>}
      {rules.isError && <Problem error={rules.error} what="read the rules" />}
      {rules.data && rules.data.length === 0 && <p>No rules: every port and program can raise an incident.</p>}
      {rules.data && rules.data.length > 0 && (
        <table aria-label="Allow rules">
          <thead>
            <tr>
              <th scope="col">Allowed</th>
              <th scope="col">Since</th>
              <th scope="col">From</th>
              <th scope="col" aria-label="Delete" />
            </tr>
          </thead>
          <tbody>
            {rules.data.map((r) => (
              <tr key={r.id} data-rule={r.id}>
                <td className="mono">{describeRule(r)}</td>
                <td>{formatDateTime(r.createdAt)}</td>
                <td>{r.fromIncidentId === null ? '–' : <a href={hrefOf({ view: 'incidents', id: r.fromIncidentId })}>incident {r.fromIncidentId}</a>}</td>
                <td>
                  <button type="button" disabled={remove.isPending} onClick={() => remove.mutate(r.id)} aria-label={`Delete the rule for ${describeRule(r)}`}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {remove.error && <Problem error={remove.error} what="delete the rule" />}
    </fieldset>
  );
}
