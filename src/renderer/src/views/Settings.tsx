import { isSettingKey } from '../../../shared/settings';
import { groupSettings } from '../settingsForm';
import { useSettings } from '../queries';
import { Problem } from '../components/Problem';
import { SettingField } from '../components/SettingField';

const GROUPS = groupSettings();

export function Settings() {
  const settings = useSettings();
  if (settings.isPending) return <p>Loading settings…</p>;
  if (settings.isError) return <Problem error={settings.error} what="read the settings" />;
  const changed = new Set(settings.data.changed.filter(isSettingKey));
  return (
    <section aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      {GROUPS.map((group) => (
        <fieldset key={group.prefix}>
          <legend>{group.title}</legend>
          {group.keys.map((key) => (
            <SettingField key={key} name={key} value={settings.data.values[key]} changed={changed.has(key)} />
          ))}
        </fieldset>
      ))}
    </section>
  );
}
