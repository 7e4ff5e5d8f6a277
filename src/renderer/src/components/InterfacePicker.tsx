import { useState, type ReactNode } from 'react';
import type { SettingsView } from '../../../shared/contract';
import { interfaceOptions } from '../settingsForm';

const OTHER = '\u0000other';

/**
 * The capture interface: a choice among the interfaces the engine reports for this machine, or a
 * name typed by hand (which the engine checks against the same list).
 */
export function InterfacePicker({
  common,
  current,
  text,
  interfaces,
  onPick,
  onType,
  onSubmit,
  saveButton,
}: {
  common: { id: string; 'aria-describedby': string; 'aria-invalid': true | undefined; disabled: boolean };
  current: string;
  text: string;
  interfaces: SettingsView['interfaces'];
  onPick: (name: string) => void;
  onType: (name: string) => void;
  onSubmit: () => void;
  saveButton: ReactNode;
}) {
  const [typing, setTyping] = useState(false);
  const options = interfaceOptions(current, interfaces ?? { names: [], default: null });
  return (
    <>
      <select
        {...common}
        value={typing ? OTHER : text}
        onChange={(e) => {
          if (e.target.value === OTHER) {
            setTyping(true);
            onType('');
            return;
          }
          setTyping(false);
          onPick(e.target.value);
        }}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
        <option value={OTHER}>Another name…</option>
      </select>
      {typing && (
        <form
          className="setting-form"
          onSubmit={(e) => {
            e.preventDefault();
            onSubmit();
          }}
        >
          <input aria-label="Interface name" aria-describedby={common['aria-describedby']} disabled={common.disabled} value={text} onChange={(e) => onType(e.target.value)} />
          {saveButton}
        </form>
      )}
    </>
  );
}
