import type { Status } from '../../../shared/contract';
import { learningSentence } from '../../../shared/learning';
import './charts.css';

/** While the model learns: why there are no alerts yet, and for about how long (none once ready). */
export function LearningNotice({ status }: { status: Status }) {
  const sentence = learningSentence(status);
  if (sentence === null) return null;
  return (
    <p className="notice learning-notice" role="status">
      {sentence}{' '}
      <span className="muted">
        It has taken in {status.model.roundsSeen} of the {status.model.roundsNeeded} rounds it needs; ports and connections are recorded meanwhile.
      </span>
    </p>
  );
}
