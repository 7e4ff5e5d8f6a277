import { IncidentList } from '../components/IncidentList';
import { IncidentDetail } from './IncidentDetail';

export function Incidents({ id }: { id: number | null }) {
  return (
    <section aria-labelledby="incidents-title" className={id === null ? 'split' : 'split open'}>
      <div>
        <h2 id="incidents-title">Anomalies</h2>
        <IncidentList activeId={id} />
      </div>
      {id !== null && <IncidentDetail id={id} />}
    </section>
  );
}
