/**
 * Bounds on the reports a merge reads: they come from other jobs' artifacts, so they are
 * hostile input. 256 is GitHub's limit on the jobs of one matrix; 16 MiB is far above any
 * report the harness writes (checks and evidence are bounded when made).
 */
export const REPORT_FILE_LIMITS = { files: 256, fileBytes: 16 * 1024 * 1024, totalBytes: 128 * 1024 * 1024 } as const;
