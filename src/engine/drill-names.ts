/** The drills a service's backup plan can be put through; a profile says which of them it has. */
export const DRILL_NAMES = ['restore', 'rotation', 'offsite', 'verification'] as const;
export type DrillName = (typeof DRILL_NAMES)[number];

export function isDrillName(name: string): name is DrillName {
  return (DRILL_NAMES as readonly string[]).includes(name);
}
