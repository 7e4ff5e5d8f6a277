import { describeRule, type AllowRuleFields } from '../../shared/allowRule';
import type { IncidentDetail } from '../../shared/contract';

/** One "expected from now on" the incident offers, in words, with the rule it makes. */
export interface AllowChoice {
  key: string;
  label: string;
  rule: AllowRuleFields;
}

const blank = (id: number): AllowRuleFields => ({ proto: null, port: null, process: null, exe: null, user: null, fromIncidentId: id });

/**
 * The rules an incident suggests: each port that opened or changed hands, each program (by its
 * executable, or its name when the executable was not readable, and as its user when known), and
 * each program on its port. A vanished port is not offered: it raised the incident by being gone.
 */
export function allowChoices(incident: Pick<IncidentDetail, 'id' | 'ports' | 'program'>): AllowChoice[] {
  const out = new Map<string, AllowChoice>();
  const add = (rule: AllowRuleFields) => {
    const label = describeRule(rule);
    if (!out.has(label)) out.set(label, { key: label, label, rule });
  };
  const present = incident.ports.filter((p) => p.direction !== 'vanished');
  for (const p of present) add({ ...blank(incident.id), proto: p.proto, port: p.port });
  for (const p of present) {
    if (p.exe !== null) add({ ...blank(incident.id), exe: p.exe });
    else if (p.process !== null) add({ ...blank(incident.id), process: p.process });
  }
  const program = incident.program;
  if (program && (program.exe !== null || program.name !== null)) {
    const who = program.exe !== null ? { exe: program.exe } : { process: program.name };
    if (program.user !== null) add({ ...blank(incident.id), ...who, user: program.user });
    add({ ...blank(incident.id), ...who });
  }
  for (const p of present) {
    if (p.exe !== null) add({ ...blank(incident.id), exe: p.exe, proto: p.proto, port: p.port });
  }
  return [...out.values()];
}
