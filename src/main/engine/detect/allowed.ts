import { ruleAllows, type AllowRule, type Sighting } from '../../../shared/allowRule';
import type { DetectionStore } from '../store/detectionStore';
import type { Cause, OpenIncident } from './incidents';
import type { CellError } from './score';
import { CHANNELS } from './features';

/** A cause found by a rule beside the model (an owner change, a running program's usual port missing), with its holder's user. */
interface OwnerCause extends Cause {
  owner: { process: string | null; exe: string | null };
  user: string | null;
}

/**
 * The port model's side of the allow rules (docs/actions.md): a cell whose port, or whose
 * holder in that round, a rule allows is no cause, so it neither opens nor extends an incident
 * nor holds one open, and a round left without causes is normal and learned as such. Cells below
 * the threshold are not looked at: they raise nothing anyway.
 */
export function allowedCauses(rules: readonly AllowRule[], store: Pick<DetectionStore, 'holderIdentity'>) {
  const allows = (s: Sighting) => rules.some((r) => ruleAllows(r, s));
  const cellAllowed = (c: Pick<CellError, 'proto' | 'port'>, roundId: number) => {
    const h = store.holderIdentity(c.proto, c.port, roundId);
    return allows({ proto: c.proto, port: c.port, process: h.name, exe: h.exe, user: h.user });
  };
  const keep = <C extends OwnerCause>(roundId: number, cells: readonly CellError[], ruleCauses: readonly C[], threshold: number) => {
    if (rules.length === 0) return null;
    const keptCells = cells.filter((c) => !(c.error > threshold && cellAllowed(c, roundId)));
    const keptRules = ruleCauses.filter((c) => !allows({ proto: c.proto, port: c.port, process: c.owner.process, exe: c.owner.exe, user: c.user }));
    if (keptCells.length === cells.length && keptRules.length === ruleCauses.length) return null;
    return { cells: keptCells, ruleCauses: keptRules, above: keptCells.some((c) => c.error > threshold) };
  };
  /** Open incidents without the cells a rule now allows (those no longer hold them open). */
  const open = (incidents: OpenIncident[], roundId: number): OpenIncident[] =>
    rules.length === 0
      ? incidents
      : incidents.map((i) => ({
          ...i,
          cells: i.cells.filter((c) => !cellAllowed({ proto: c.cell % CHANNELS === 0 ? 'tcp' : 'udp', port: Math.floor(c.cell / CHANNELS) }, roundId)),
        }));
  return Object.assign(keep, { open });
}
