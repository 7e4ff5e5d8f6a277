import type { Db } from './database';
import { checkAllowRule, describeRule, type AllowRule } from '../../../shared/allowRule';

/** A rule refused (bad fields, a duplicate, an unknown id): the message is for the user. */
export class AllowRuleError extends Error {
  override name = 'AllowRuleError';
}

const COLUMNS = 'SELECT id, proto, port, process, exe, user, created_at AS createdAt, from_incident_id AS fromIncidentId FROM allow_rules';

/** The user's "expected from now on" rules (migration 011; docs/actions.md). */
export class AllowRuleStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  list(): AllowRule[] {
    return this.db.prepare<[], AllowRule>(`${COLUMNS} ORDER BY id`).all();
  }

  /** Checks and adds a rule; the same rule twice is refused, naming the one that exists. */
  add(input: unknown): AllowRule {
    const checked = checkAllowRule(input);
    if (!checked.ok) throw new AllowRuleError(checked.error);
    const r = checked.rule;
    if (r.fromIncidentId !== null && this.db.prepare('SELECT 1 FROM incidents WHERE id = ?').get(r.fromIncidentId) === undefined) {
      throw new AllowRuleError(`no incident ${r.fromIncidentId}`);
    }
    const same = this.list().find((x) => x.proto === r.proto && x.port === r.port && x.process === r.process && x.exe === r.exe && x.user === r.user);
    if (same) throw new AllowRuleError(`rule ${same.id} already allows ${describeRule(same)}`);
    const id = Number(
      this.db
        .prepare('INSERT INTO allow_rules (proto, port, process, exe, user, created_at, from_incident_id) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(r.proto, r.port, r.process, r.exe, r.user, this.now(), r.fromIncidentId).lastInsertRowid,
    );
    return this.get(id)!;
  }

  get(id: number): AllowRule | undefined {
    return this.db.prepare<[number], AllowRule>(`${COLUMNS} WHERE id = ?`).get(id);
  }

  remove(id: number): AllowRule {
    const rule = this.get(id);
    if (!rule) throw new AllowRuleError(`no allow rule ${id}${this.list().length === 0 ? ' (there are none)' : ''}`);
    this.db.prepare('DELETE FROM allow_rules WHERE id = ?').run(id);
    return rule;
  }
}
