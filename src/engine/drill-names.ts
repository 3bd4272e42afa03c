/** The drills a service's backup plan can be put through, in the order they run; a profile says which of them it has. */
export const DRILL_NAMES = ['restore', 'verification', 'offsite', 'rotation'] as const;
export type DrillName = (typeof DRILL_NAMES)[number];

export function isDrillName(name: string): name is DrillName {
  return (DRILL_NAMES as readonly string[]).includes(name);
}
