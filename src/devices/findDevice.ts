import type { DeviceInfo } from '../protocol.ts';

/** Longest list of names quoted back in an error. */
const NAMES_SHOWN = 12;

/**
 * The device a user's name means, for one direction: the device of exactly
 * that name, else the one device whose name contains it (case-insensitive:
 * ALSA names such as "HDA Intel PCH: ALC3246 Analog (hw:0,0)" are long), else
 * a message naming the devices there are. Devices without channels in the
 * direction are not candidates.
 */
export function findDevice(devices: readonly DeviceInfo[], name: string, direction: 'input' | 'output'): DeviceInfo | string {
  const usable = devices.filter((d) => (direction === 'input' ? d.maxInputChannels : d.maxOutputChannels) > 0);
  const exact = usable.find((d) => d.name === name);
  if (exact !== undefined) return exact;
  const needle = name.toLowerCase();
  const partial = needle.length > 0 ? usable.filter((d) => d.name.toLowerCase().includes(needle)) : [];
  if (partial.length === 1) return partial[0]!;
  const shown = (list: readonly DeviceInfo[]): string =>
    list.length === 0 ? 'none' : list.slice(0, NAMES_SHOWN).map((d) => JSON.stringify(d.name)).join(', ') + (list.length > NAMES_SHOWN ? ', …' : '');
  if (partial.length > 1) return `${direction} device name ${JSON.stringify(name)} is ambiguous [matches: ${shown(partial)}]`;
  return `no ${direction} device named ${JSON.stringify(name)} [${direction} devices: ${shown(usable)}]`;
}
