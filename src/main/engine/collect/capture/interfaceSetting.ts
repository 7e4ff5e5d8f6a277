/**
 * The `capture.interface` setting against this machine: the shared schema only checks that a
 * value looks like a name (it runs in the window too, which cannot list interfaces), so whether
 * the interface exists is checked here, for `config set` and for the window alike.
 */
import type { SettingKey } from '../../../../shared/settings';
import type { MachineCheck } from '../../store/settingsStore';
import { defaultCaptureInterface, listCaptureInterfaces, systemSources, type CaptureInterface, type InterfaceSources } from './interfaces';

export interface InterfaceChoices {
  names: Pick<CaptureInterface, 'name' | 'addresses' | 'loopback'>[];
  /** What an empty setting captures on: the default route's interface (null: none). */
  default: string | null;
}

/**
 * What `portent interfaces` lists (libpcap's devices); the OS's interfaces when libpcap cannot be
 * loaded in this process, so that a name can still be checked and chosen.
 */
export function interfaceChoices(sources: InterfaceSources = systemSources): InterfaceChoices {
  let interfaces: InterfaceChoices['names'];
  try {
    interfaces = listCaptureInterfaces(sources).map(({ name, addresses, loopback }) => ({ name, addresses, loopback }));
  } catch {
    interfaces = Object.entries(sources.osInterfaces()).map(([name, infos]) => ({
      name,
      addresses: (infos ?? []).map((i) => i.address),
      loopback: (infos ?? []).some((i) => i.internal),
    }));
  }
  const chosen = defaultCaptureInterface(sources);
  return { names: interfaces, default: chosen && interfaces.some((i) => i.name === chosen.name) ? chosen.name : null };
}

/** Why `name` cannot be captured on here, listing the interfaces that can; null when it can. */
export function unknownInterfaceError(name: string, available: readonly string[]): string | null {
  if (name === '' || available.includes(name)) return null;
  const list = available.length > 0 ? available.join(', ') : 'none found';
  return `capture.interface must be one of this machine's interfaces (${list}), or "" for the default route's; got ${JSON.stringify(name)}`;
}

/** The check the settings store runs before it stores a value. */
export function interfaceExistsCheck(names: () => readonly string[] = () => interfaceChoices().names.map((i) => i.name)): MachineCheck {
  return (key: SettingKey, value: unknown) => (key === 'capture.interface' && typeof value === 'string' ? unknownInterfaceError(value, names()) : null);
}
