import { isSettingKey } from '../../../shared/settings';
import { groupSettings, labelOf } from '../settingsForm';
import { useSettings, useStatus } from '../queries';
import { Problem } from '../components/Problem';
import { SettingField, type StoredProblem } from '../components/SettingField';
import { count, formatBytes } from '../format';
import { AllowRules } from '../components/AllowRules';
import './settings.css';

const GROUPS = groupSettings();

export function Settings() {
  const settings = useSettings();
  const status = useStatus();
  if (settings.isPending) return <p>Loading settings…</p>;
  if (settings.isError) return <Problem error={settings.error} what="read the settings" />;
  const changed = new Set(settings.data.changed.filter(isSettingKey));
  const problems = new Map<string, StoredProblem>((settings.data.invalid ?? []).map((p) => [p.key, p]));
  const databaseSize = status.data ? `${formatBytes(status.data.databaseBytes)} in use now` : null;
  return (
    <section aria-labelledby="settings-title" className="settings">
      <h2 id="settings-title">Settings</h2>
      <p className="muted">Changes apply at the monitor's next round unless a setting says otherwise. The name under each one is what the command line's config command calls it.</p>
      {problems.size > 0 && (
        <p className="setting-problem" role="alert">
          {count(problems.size, 'stored setting')} cannot be used, so {problems.size === 1 ? 'its default applies' : 'their defaults apply'}; see{' '}
          {[...problems.keys()]
            .filter(isSettingKey)
            .map((k) => `“${labelOf(k)}”`)
            .join(', ')}{' '}
          below.
        </p>
      )}
      {GROUPS.map((group) => (
        <fieldset key={group.title}>
          <legend>
            <h3>{group.title}</h3>
          </legend>
          {group.keys.map((key) => (
            <SettingField
              key={key}
              name={key}
              value={settings.data.values[key]}
              changed={changed.has(key)}
              problem={problems.get(key)}
              interfaces={key === 'capture.interface' ? settings.data.interfaces : undefined}
              aside={key === 'retention.maxDatabaseMb' ? databaseSize : undefined}
            />
          ))}
        </fieldset>
      ))}
      <AllowRules />
    </section>
  );
}
