import { getContainerRuntimeClient } from 'testcontainers';
import { errorMessage } from '../common/errors.js';
import { CONTAINER_ROLE_LABEL, CONTAINER_RUN_LABEL, drillRootOfMounts } from './marks.js';

/** A container (running or not) with the drill's run label. */
export interface DrillContainer {
  readonly id: string;
  readonly image: string;
  readonly runId: string;
  readonly role: string;
  readonly state: string;
  readonly createdAtMs: number;
  /** the drill root its bind mounts come from, when they do */
  readonly root: string | null;
}

export interface ContainerEngine {
  list(): Promise<DrillContainer[]>;
  remove(id: string): Promise<void>;
}

const ENGINE_TIMEOUT_MS = 20_000;

function bounded<T>(promise: Promise<T>, doing: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${doing} took longer than ${ENGINE_TIMEOUT_MS / 1_000}s`)), ENGINE_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The engine the drills use (testcontainers finds it the same way), or why there is none. */
export async function connectEngine(): Promise<ContainerEngine | { readonly unreachable: string }> {
  let docker;
  try {
    docker = (await bounded(getContainerRuntimeClient(), 'reaching the Docker engine')).container.dockerode;
  } catch (error) {
    return { unreachable: errorMessage(error) };
  }
  return {
    async list() {
      const listed = await bounded(docker.listContainers({ all: true, filters: { label: [CONTAINER_RUN_LABEL] } }), 'listing containers');
      return listed.map((c) => ({
        id: c.Id,
        image: c.Image,
        runId: c.Labels?.[CONTAINER_RUN_LABEL] ?? '',
        role: c.Labels?.[CONTAINER_ROLE_LABEL] ?? '',
        state: c.State,
        createdAtMs: c.Created * 1_000,
        root: drillRootOfMounts((c.Mounts ?? []).map((m) => m.Source).filter((s): s is string => typeof s === 'string')),
      }));
    },
    async remove(id: string) {
      await bounded(docker.getContainer(id).remove({ force: true, v: true }), `removing container ${id.slice(0, 12)}`);
    },
  };
}
