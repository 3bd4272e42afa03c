import * as core from '@actions/core';
import type { DrillObserver } from '../engine/step-loop.js';
import type { ValidationObserver } from '../validation/validate.js';

/**
 * Each step of a run as a collapsible group of the workflow log (`::group::`), its checks
 * inside. A step that never started (skipped after a halt) has no group: it is one line.
 */
class LogGroups {
  #open = false;
  open(title: string): void {
    this.close();
    core.startGroup(title);
    this.#open = true;
  }
  close(): void {
    if (!this.#open) return;
    core.endGroup();
    this.#open = false;
  }
}

export function drillInLogGroups(inner: DrillObserver): DrillObserver {
  const groups = new LogGroups();
  return {
    stepStarted(step) {
      groups.open(step.title);
      inner.stepStarted?.(step);
    },
    stepFinished(record, checks) {
      inner.stepFinished?.(record, checks);
      groups.close();
    },
  };
}

export function validationInLogGroups(inner: ValidationObserver): ValidationObserver {
  const groups = new LogGroups();
  return {
    stepStarted(id, title) {
      groups.open(title);
      inner.stepStarted?.(id, title);
    },
    stepFinished(record) {
      inner.stepFinished?.(record);
      groups.close();
    },
    snapshotFinished(snapshot) {
      inner.snapshotFinished?.(snapshot);
    },
  };
}
