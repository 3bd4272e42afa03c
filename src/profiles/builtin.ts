import { fileURLToPath } from 'node:url';

/** The profiles that ship with the harness; `atocore` is built in code (src/atocore/drill/), the others are files. */
export const BUILTIN_PROFILES = ['atocore', 'jellycore'] as const;
export type BuiltinProfile = (typeof BUILTIN_PROFILES)[number];

/** Where the built-in profile files lie (the bundle resolves this URL from two levels below the root, as here). */
export const BUILTIN_PROFILE_DIR = fileURLToPath(new URL('../../profiles/', import.meta.url));

export function isBuiltinProfile(name: string): name is BuiltinProfile {
  return (BUILTIN_PROFILES as readonly string[]).includes(name);
}
