import { useId, useState } from 'react';
import { checkSetting, SETTINGS, type SettingKey } from '../../../shared/settings';
import { inputKind, labelOf, textOf, valueFromInput } from '../settingsForm';
import { useSetSetting } from '../queries';
import { messageOf } from '../format';

/**
 * One setting: an input of its type, the shared check run on every change (so a bad value is
 * explained before anything is sent), and the engine's own message if it still refuses.
 */
export function SettingField({ name, value, changed }: { name: SettingKey; value: unknown; changed: boolean }) {
  const id = useId();
  const kind = inputKind(name);
  const [text, setText] = useState(() => textOf(value));
  const [sent, setSent] = useState<string | null>(null);
  const save = useSetSetting();
  const dirty = text !== textOf(value);
  const check = checkSetting(name, valueFromInput(name, text));
  const serverError = save.data && !save.data.ok ? save.data.error : save.error ? messageOf(save.error) : null;
  // The engine's refusal is about what was sent; once the input changes again it no longer applies.
  const message = !check.ok ? check.error : text === sent ? serverError : null;
  const saved = save.isSuccess && save.data.ok && text === sent;

  const send = (next: string) => {
    const candidate = valueFromInput(name, next);
    if (!checkSetting(name, candidate).ok) return;
    setSent(next);
    save.mutate({ key: name, value: candidate });
  };

  const describedBy = `${id}-summary${message ? ` ${id}-error` : ''}`;
  const common = { id, 'aria-describedby': describedBy, 'aria-invalid': !check.ok || undefined, disabled: save.isPending };

  return (
    <div className={`setting ${changed ? 'changed' : ''}`}>
      <label htmlFor={id}>
        {labelOf(name)} <code className="muted">{name}</code>
      </label>
      <div className="setting-input">
        {kind.kind === 'switch' && (
          <input
            {...common}
            type="checkbox"
            checked={text === 'true'}
            onChange={(e) => {
              const next = String(e.target.checked);
              setText(next);
              send(next);
            }}
          />
        )}
        {kind.kind === 'choice' && (
          <select
            {...common}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              send(e.target.value);
            }}
          >
            {kind.options.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        )}
        {(kind.kind === 'number' || kind.kind === 'text') && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              send(text);
            }}
          >
            <input {...common} type={kind.kind === 'number' ? 'number' : 'text'} step={kind.kind === 'number' ? kind.step : undefined} value={text} onChange={(e) => setText(e.target.value)} />
            <button type="submit" disabled={!dirty || !check.ok || save.isPending} aria-label={`Save ${name}`}>
              Save
            </button>
          </form>
        )}
        {saved && <span className="saved" role="status">Saved</span>}
      </div>
      <p id={`${id}-summary`} className="muted summary">
        {SETTINGS[name].summary} (default {textOf(SETTINGS[name].default) || 'empty'})
      </p>
      {message && (
        <p id={`${id}-error`} className="error" role="alert">
          {message}
        </p>
      )}
    </div>
  );
}
