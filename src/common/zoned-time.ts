/**
 * The milliseconds of an ISO-8601 time that names its zone (`Z`, `+hh:mm`, `+hhmm`); NaN for
 * one that does not (JavaScript would read it as the machine's local time) or does not parse.
 */
export function zonedTimeMs(text: string): number {
  return /(Z|[+-]\d{2}:?\d{2})$/.test(text) ? Date.parse(text) : Number.NaN;
}
