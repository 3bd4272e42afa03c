import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request the stand-in API host received. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

/**
 * How the stand-in answers:
 * - github: check runs and commit statuses, as api.github.com does
 * - gitea: no Checks API (404), commit statuses (as Gitea's /api/v1)
 * - no-checks-permission: check runs refused with 403 "Resource not accessible by integration" (a token without checks: write)
 * - failing: every call answers 500
 * - reset: every connection is cut before an answer
 * - hang: accepts and never answers
 */
export type ApiBehaviour = 'github' | 'gitea' | 'no-checks-permission' | 'failing' | 'reset' | 'hang';

const CHECK_RUNS = /^\/repos\/([^/]+)\/([^/]+)\/check-runs$/;
const CHECK_RUN = /^\/repos\/([^/]+)\/([^/]+)\/check-runs\/(\d+)$/;
const STATUSES = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]+)$/;

/**
 * A loopback HTTP server standing in for the API host (GITHUB_API_URL points at it). It
 * records every request and answers the few calls the action makes, like GitHub (or Gitea) would.
 */
export class LoopbackGitHubApi {
  readonly requests: RecordedRequest[] = [];
  behaviour: ApiBehaviour;
  readonly token: string;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #nextId = 4_000_001;

  private constructor(server: Server, behaviour: ApiBehaviour, token: string) {
    this.#server = server;
    this.behaviour = behaviour;
    this.token = token;
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(behaviour: ApiBehaviour = 'github', token = 'ghs_loopbackTestToken0123456789'): Promise<LoopbackGitHubApi> {
    let api: LoopbackGitHubApi | undefined;
    const server = createServer((req, res) => void api!.#handle(req, res));
    api = new LoopbackGitHubApi(server, behaviour, token);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return api;
  }

  get url(): string {
    const address = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  /** Requests to the Checks API and the statuses API, in order. */
  checkRunRequests(): RecordedRequest[] {
    return this.requests.filter((r) => CHECK_RUNS.test(r.path) || CHECK_RUN.test(r.path));
  }

  statusRequests(): RecordedRequest[] {
    return this.requests.filter((r) => STATUSES.test(r.path));
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = undefined;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    this.requests.push({ method: req.method ?? '', path, headers: { ...req.headers }, body });

    if (this.behaviour === 'hang') return;
    if (this.behaviour === 'reset') {
      req.socket.destroy();
      return;
    }
    const send = (status: number, payload: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(payload));
    };
    if (req.headers.authorization !== `Bearer ${this.token}`) return send(401, { message: 'Bad credentials' });
    if (this.behaviour === 'failing') return send(500, { message: 'Server Error' });

    const created = CHECK_RUNS.exec(path);
    const updated = CHECK_RUN.exec(path);
    const status = STATUSES.exec(path);
    if ((created || updated) && this.behaviour === 'gitea') return send(404, { message: 'Not Found', url: this.url });
    if ((created || updated) && this.behaviour === 'no-checks-permission') {
      return send(403, { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest/checks/runs#create-a-check-run', status: '403' });
    }
    if (created && req.method === 'POST') {
      const id = this.#nextId++;
      const request = body as Record<string, unknown>;
      return send(201, {
        id,
        name: request.name,
        head_sha: request.head_sha,
        status: request.conclusion ? 'completed' : (request.status ?? 'queued'),
        conclusion: request.conclusion ?? null,
        html_url: `${this.url}/${created[1]}/${created[2]}/runs/${id}`,
        url: `${this.url}${path}/${id}`,
      });
    }
    if (updated && req.method === 'PATCH') {
      const request = body as Record<string, unknown>;
      return send(200, { id: Number(updated[3]), status: request.conclusion ? 'completed' : 'in_progress', conclusion: request.conclusion ?? null });
    }
    if (status && req.method === 'POST') {
      const request = body as Record<string, unknown>;
      return send(201, { id: this.#nextId++, state: request.state, context: request.context ?? 'default', description: request.description ?? null, target_url: request.target_url ?? null });
    }
    send(404, { message: 'Not Found' });
  }
}
