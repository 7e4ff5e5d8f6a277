import { useId, useState, type ReactNode } from 'react';
import { checkSetting, type SettingKey } from '../../../shared/settings';
import type { SettingsView } from '../../../shared/contract';
import { defaultText, helpOf, inputKind, labelOf, textOf, unitOf, valueFromInput } from '../settingsForm';
import { useSetSetting } from '../queries';
import { messageOf } from '../format';
import { InterfacePicker } from './InterfacePicker';

export interface StoredProblem {
  stored: string;
  reason: string;
}

/**
 * One setting: a sentence-like label, an input of its kind with its unit, the shared check run on
 * every change (so a bad value is explained before anything is sent), and the engine's own
 * message if it still refuses, with the value that stays.
 */
export function SettingField({
  name,
  value,
  changed,
  problem,
  interfaces,
  aside,
}: {
  name: SettingKey;
  value: unknown;
  changed: boolean;
  /** The stored value cannot be used (the default shown applies in its place). */
  problem?: StoredProblem;
  interfaces?: SettingsView['interfaces'];
  /** Shown beside the input, such as the database's current size beside its cap. */
  aside?: ReactNode;
}) {
  const id = useId();
  const kind = inputKind(name);
  const unit = unitOf(name);
  const label = labelOf(name);
  const [text, setText] = useState(() => textOf(value));
  const [sent, setSent] = useState<string | null>(null);
  const save = useSetSetting();
  const dirty = text !== textOf(value);
  const check = checkSetting(name, valueFromInput(name, text));
  const refusal = save.data && !save.data.ok ? save.data.error : save.error ? messageOf(save.error) : null;
  // The engine's refusal is about what was sent; once the input changes again it no longer applies.
  const shownRefusal = text === sent && refusal ? `${refusal}. The previous value stays: ${textOf(value) === '' ? 'empty' : textOf(value)}` : null;
  const message = !check.ok ? check.error : shownRefusal;
  const saved = save.isSuccess && save.data.ok && text === sent;

  const send = (next: string) => {
    const candidate = valueFromInput(name, next);
    if (!checkSetting(name, candidate).ok) return;
    setSent(next);
    save.mutate({ key: name, value: candidate });
  };

  const helpId = `${id}-help`;
  const describedBy = [unit ? `${id}-unit` : null, helpId, aside ? `${id}-aside` : null, problem ? `${id}-problem` : null, message ? `${id}-error` : null].filter(Boolean).join(' ');
  const common = { id, 'aria-describedby': describedBy, 'aria-invalid': !check.ok || undefined, disabled: save.isPending };
  const saveButton = (
    <button type="submit" disabled={!dirty || !check.ok || save.isPending} aria-label={`Save: ${label}`}>
      Save
    </button>
  );
  const typed = (type: 'number' | 'text' | 'time' | 'password', step?: number) => (
    <form
      className="setting-form"
      onSubmit={(e) => {
        e.preventDefault();
        send(text);
      }}
    >
      <input {...common} type={type} step={step} value={text} onChange={(e) => setText(e.target.value)} className={type === 'text' ? 'wide' : undefined} />
      {unit && (
        <span id={`${id}-unit`} className="unit">
          {unit}
        </span>
      )}
      {saveButton}
    </form>
  );

  return (
    <div className={`setting${changed && !problem ? ' changed' : ''}${problem ? ' has-problem' : ''}`} data-setting={name}>
      {kind.kind !== 'switch' && <label htmlFor={id}>{label}</label>}
      <div className="setting-input">
        {kind.kind === 'switch' && (
          <>
            <input
              {...common}
              type="checkbox"
              role="switch"
              className="switch"
              checked={text === 'true'}
              onChange={(e) => {
                const next = String(e.target.checked);
                setText(next);
                send(next);
              }}
            />
            <label htmlFor={id}>{label}</label>
          </>
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
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        )}
        {kind.kind === 'interface' && (
          <InterfacePicker
            common={common}
            current={textOf(value)}
            text={text}
            interfaces={interfaces}
            onPick={(next) => {
              setText(next);
              send(next);
            }}
            onType={setText}
            onSubmit={() => send(text)}
            saveButton={saveButton}
          />
        )}
        {kind.kind === 'number' && typed('number', kind.step)}
        {kind.kind === 'time' && typed('time')}
        {kind.kind === 'text' && typed('text')}
        {kind.kind === 'secret' && typed('password')}
        {aside && (
          <span id={`${id}-aside`} className="setting-aside">
            {aside}
          </span>
        )}
        {saved && (
          <span className="saved" role="status">
            Saved
          </span>
        )}
      </div>
      <p id={helpId} className="muted help">
        {helpOf(name)} Default: {defaultText(name)}. <code title="The name for the command line's config command">{name}</code>
      </p>
      {problem && (
        <p id={`${id}-problem`} className="setting-problem">
          The stored value <code>{problem.stored}</code> cannot be used: {problem.reason}. Saving a value here replaces it.
        </p>
      )}
      {message && (
        <p id={`${id}-error`} className="error" role="alert">
          {message}
        </p>
      )}
    </div>
  );
}
