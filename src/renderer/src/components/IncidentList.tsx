import { useCallback } from 'react';
import type { IncidentSummary } from '../../../shared/contract';
import { formatDateTime } from '../format';
import { incidentKindTag } from '../trafficLabels';
import { hrefOf } from '../router';
import { useIncidentPages } from '../queries';
import { Problem } from './Problem';
import { VirtualList } from './VirtualList';

const STATUS_TEXT: Record<IncidentSummary['status'], string> = { new: 'New', seen: 'Seen', expected: 'Expected', dismissed: 'Dismissed' };

function Row({ incident, active }: { incident: IncidentSummary; active: boolean }) {
  return (
    <a className={`incident-row status-${incident.status}`} href={hrefOf({ view: 'incidents', id: incident.id })} aria-current={active ? 'true' : undefined}>
      <span className="incident-when">
        {incident.status === 'new' && <span className="dot" aria-label="unseen" />}
        {formatDateTime(incident.startedAt)}
        <span className="tag">{STATUS_TEXT[incident.status]}</span>
        {incidentKindTag(incident.kind) && <span className="tag kind">{incidentKindTag(incident.kind)}</span>}
      </span>
      <span className="incident-sentence">{incident.sentence}</span>
    </a>
  );
}

/** Incidents newest first, loading older pages as the list is scrolled to its end. */
export function IncidentList({ activeId }: { activeId: number | null }) {
  const pages = useIncidentPages();
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = pages;
  const onEnd = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  if (pages.isPending) return <p>Loading incidents…</p>;
  if (pages.isError) return <Problem error={pages.error} what="list the incidents" />;
  const incidents = pages.data.pages.flat();
  if (incidents.length === 0)
    return (
      <p className="muted">
        No incidents yet. When a detection finds a round out of the ordinary (a port that starts listening, a service that is gone, a port held by a program
        that never held it, at an hour it is never used, a program calling a host it never talked to or at a regular beat), the incident appears here with its explanation, and a notification says so. Detection runs every
        hour and right after a round that changed what listens; while Portent is still learning it raises none.
      </p>
    );
  return (
    <VirtualList
      label="Incidents, newest first"
      items={incidents}
      rowHeight={64}
      keyOf={(i) => i.id}
      onEnd={onEnd}
      renderRow={(incident) => <Row incident={incident} active={incident.id === activeId} />}
    />
  );
}
