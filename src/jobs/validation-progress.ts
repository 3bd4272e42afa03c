import { formatDuration } from '../common/duration.js';
import type { SnapshotReport, StepRecord } from '../report/model.js';
import type { ValidationObserver } from '../validation/validate.js';
import { terminalText } from '../output/console.js';

const MARK: Record<string, string> = { pass: '✓', fail: '✗', error: '!', skip: '-', warn: '~' };

/** One plain line per step and per snapshot (the failing and warning checks under it): fit for a terminal and CI logs. */
export function validationProgress(stream: NodeJS.WritableStream): ValidationObserver {
  return {
    stepStarted(_id: string, title: string) {
      stream.write(`… ${title}\n`);
    },
    stepFinished(record: StepRecord) {
      const detail = record.detail.split('\n')[0] ?? '';
      stream.write(`${MARK[record.status] ?? '?'} ${record.title} (${formatDuration(record.duration_ms)})${detail ? `: ${terminalText(detail)}` : ''}\n`);
    },
    snapshotFinished(snapshot: SnapshotReport) {
      // a snapshot not judged (one being written) says why on its own line
      const why = snapshot.status === 'skip' ? snapshot.checks.find((c) => c.status === 'skip')?.message : undefined;
      stream.write(`    ${MARK[snapshot.status] ?? '?'} ${terminalText(snapshot.stamp, 200)}${why ? `: ${terminalText(why)}` : ''}\n`);
      for (const c of snapshot.checks) if (c.status === 'fail' || c.status === 'warn') stream.write(`        ${MARK[c.status]} ${c.id}: ${terminalText(c.message)}\n`);
    },
  };
}
