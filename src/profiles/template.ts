/**
 * `${name}` placeholders in a profile's strings. Names: the profile's variables, `drill_root`,
 * `profile_dir`, `harness_pid`, `port:NAME` for each port it declares, and where they apply
 * `backup` (the backup's path) and `marker` (the marker's value). `$${` stands for a literal `${`.
 * An unknown name is the profile's error, found when it is loaded, never at run time.
 */
const PLACEHOLDER = /\$(\$?)\{([^}]*)\}/g;

/** Placeholder names every profile may use, besides its variables and ports. */
export const BUILTIN_PLACEHOLDERS = ['drill_root', 'profile_dir', 'harness_pid', 'backup', 'marker'] as const;

/** The placeholder names a string uses (escaped ones excepted). */
export function placeholdersIn(text: string): string[] {
  const names: string[] = [];
  for (const match of text.matchAll(PLACEHOLDER)) if (match[1] === '') names.push(match[2] ?? '');
  return names;
}

/** The string with every placeholder replaced; a name without a value throws (the caller checked names at load). */
export function expand(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(PLACEHOLDER, (whole, escape: string, name: string) => {
    if (escape === '$') return whole.slice(1);
    const value = values[name];
    if (value === undefined) throw new Error(`internal: no value for \${${name}}`);
    return value;
  });
}
