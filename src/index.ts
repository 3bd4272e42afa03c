/** The library surface: the drill engine, the runtimes, inspection and reporters. */
export { runDrill, type DrillOptions, type DrillObserver } from './atocore/drill/drill.js';
export { planDrill, plannedCheckIds, type PlannedStep, type DrillStepId } from './atocore/drill/plan.js';
export { decideVerdict, exitCodeFor } from './report/verdict.js';
export { loadSeed, DEFAULT_SEED_DIR, type Seed } from './atocore/drill/seed.js';
export type { CheckResult, DrillReport, StepRecord, Verdict } from './report/model.js';
export { ProcessRuntime, type ProcessRuntimeOptions } from './runtimes/process.js';
export type { AtoCoreRuntime, AtoCoreLayout } from './runtimes/types.js';
export { AtoCoreClient } from './atocore/client.js';
export { inspectDatabaseFile, fingerprintOf, type DbInspection, type DbFingerprint } from './sqlite/inspect.js';
export { renderJsonReport } from './render/json.js';
export { renderMarkdownSummary } from './render/markdown.js';
export { renderJunit } from './render/junit.js';
export { DrillError, UsageError, InfrastructureError, ExitCode } from './common/errors.js';
export { runDrillJob, describeDrill, type DrillInputs } from './jobs/drill-job.js';
export { runValidateJob, describeValidation, type ValidateInputs } from './jobs/validate-job.js';
export { runValidation, type ValidationOptions } from './validation/validate.js';
export { ContainerRuntime, type ContainerRuntimeOptions } from './runtimes/container.js';
