import { openDatabase } from '../../engine/store/database';
import { SettingError, SettingsStore } from '../../engine/store/settingsStore';
import { interfaceExistsCheck } from '../../engine/collect/capture/interfaceSetting';
import { isSettingKey, SETTING_KEYS, SETTINGS, settingFromText, shownSetting, type SettingKey } from '../../../shared/settings';
import { UsageError, type Command } from '../command';
import { resolveDbPath } from '../dbOption';
import { formatTable } from '../table';
import { portentLine } from '../../engine/invocation';

const show = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : String(value));

function knownKey(key: string | undefined): string {
  if (key === undefined) throw new UsageError(`name a setting; \`${portentLine('config get')}\` lists them all`);
  if (!isSettingKey(key)) throw new UsageError(`unknown setting '${key}'. Settings: ${SETTING_KEYS.join(', ')}`);
  return key;
}

/**
 * `portent config get [KEY]`, `config set KEY VALUE`, `config reset KEY`. A running monitor picks
 * a change up at its next round.
 */
export const configCommand: Command = {
  name: 'config',
  summary: 'Show or change settings (get [KEY], set KEY VALUE, reset KEY)',
  usage: 'get [KEY] | set KEY VALUE | reset KEY  [--json] [--db PATH]',
  options: { json: { type: 'boolean' }, db: { type: 'string' } },
  async run(ctx) {
    const [action, key, value, ...extra] = ctx.positionals;
    if (action !== 'get' && action !== 'set' && action !== 'reset') throw new UsageError(`expected get, set or reset; got ${action === undefined ? 'nothing' : `'${action}'`}`);
    if (extra.length > 0 || (action !== 'set' && value !== undefined)) throw new UsageError(`too many arguments for config ${action}`);
    const db = openDatabase(resolveDbPath(ctx));
    try {
      const store = new SettingsStore(db, undefined, interfaceExistsCheck());
      if (action === 'get') {
        const all = store.all();
        // A stored value the schema refuses is said, never hidden behind the default it falls back to.
        const problems = store.problems();
        if (key !== undefined) {
          const k = knownKey(key) as keyof typeof all;
          const value = shownSetting(k, all[k]);
          ctx.stdout.write(ctx.values.json ? JSON.stringify(value) + '\n' : `${show(value)}\n`);
          for (const p of problems) if (p.key === k) ctx.stderr.write(`portent config: ${p.reason}\n`);
          return 0;
        }
        if (ctx.values.json) {
          const shown = Object.fromEntries(SETTING_KEYS.map((k) => [k, shownSetting(k, all[k])]));
          ctx.stdout.write(JSON.stringify(shown, null, 2) + '\n');
          for (const p of problems) ctx.stderr.write(`portent config: ${p.reason}\n`);
          return 0;
        }
        const changed = store.changed();
        const refused = new Set(problems.map((p) => p.key));
        const mark = (k: keyof typeof all) => (refused.has(k) ? ' !' : changed.has(k) ? ' *' : '');
        ctx.stdout.write(formatTable(['SETTING', 'VALUE', 'DEFAULT', 'WHAT IT DOES'], SETTING_KEYS.map((k) => [k, show(shownSetting(k, all[k])) + mark(k), show(SETTINGS[k].default), SETTINGS[k].summary])));
        if (problems.length > 0) {
          ctx.stdout.write(`\n! A stored value Portent cannot use; set another with \`${portentLine('config set KEY VALUE')}\` or drop it with \`${portentLine('config reset KEY')}\`:\n`);
          for (const p of problems) ctx.stdout.write(`  ${p.reason}\n`);
        }
        return 0;
      }
      const k = knownKey(key) as keyof typeof SETTINGS;
      if (action === 'reset') {
        store.reset(k);
        ctx.stdout.write(`${k} = ${show(SETTINGS[k].default)} (default)\n`);
        return 0;
      }
      if (value === undefined) throw new UsageError(`config set ${k} needs a value`);
      try {
        const stored = store.set(k, settingFromText(k, value));
        ctx.stdout.write(`${k} = ${show(shownSetting(k as SettingKey, stored))}\n`);
        return 0;
      } catch (err) {
        if (!(err instanceof SettingError)) throw err;
        ctx.stderr.write(`portent config: ${err.message}. The previous value stays: ${show(shownSetting(k, store.get(k)))}\n`);
        return 1;
      }
    } finally {
      db.close();
    }
  },
};
