import { IncidentList } from '../components/IncidentList';
import { LearningNotice } from '../components/LearningNotice';
import { useStatus } from '../queries';
import { IncidentDetail } from './IncidentDetail';

export function Incidents({ id }: { id: number | null }) {
  const status = useStatus();
  return (
    <section aria-labelledby="incidents-title" className={id === null ? 'split' : 'split open'}>
      <div>
        <h2 id="incidents-title">Anomalies</h2>
        {status.data && <LearningNotice status={status.data} />}
        <IncidentList activeId={id} />
      </div>
      {id !== null && <IncidentDetail id={id} />}
    </section>
  );
}
