import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { freeLoopbackPort } from '../../src/runtimes/free-port.js';
import { PROJECT_ROOT } from './cli.js';
import { SSHD } from './infra.js';

/**
 * A real OpenSSH sshd on 127.0.0.1 for the validate tests (run as root): host and user keys
 * made here by ssh-keygen; the SSH user is a dedicated non-root account that can only read.
 * Every command the user runs goes through a ForceCommand wrapper that logs it, so a test
 * can prove what was run; sshd's own log shows every connection.
 */
export interface SshFixture {
  readonly dir: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly identityFile: string;
  /** known_hosts: the server's key as `[127.0.0.1]:port` */
  readonly knownHosts: string;
  /** the same entry hashed by ssh-keygen -H */
  readonly hashedKnownHosts: string;
  /** another key for this host: a changed host key */
  readonly wrongKnownHosts: string;
  /** an entry for another host only: this one is unknown */
  readonly otherHostKnownHosts: string;
  readonly hostPublicKey: string;
  /** the address for --ssh */
  address(port?: number): string;
  /** a known_hosts naming this server's key at another port (a proxy in front of it) */
  knownHostsForPort(port: number): string;
  /** every command the SSH user ran, in order */
  commands(): string[];
  clearCommands(): void;
  /** how many TCP connections sshd has accepted so far */
  connections(): number;
  stop(): Promise<void>;
}

export const SSH_TEST_USER = 'atocore-drill-ro';

function keygen(path: string, type = 'ed25519'): void {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'atocore-drill-test', '-f', path], { stdio: 'ignore', timeout: 30_000 });
}

/** A system account with no password (not "locked", which sshd refuses), home /, shell /bin/sh. */
function ensureSshUser(): string {
  const exists = (): boolean => {
    try {
      execFileSync('id', ['-u', SSH_TEST_USER], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (!exists()) {
    try {
      execFileSync('useradd', ['--system', '--no-create-home', '--home-dir', '/', '--shell', '/bin/sh', SSH_TEST_USER], { stdio: 'ignore' });
    } catch (error) {
      // another test file may have created it a moment ago
      if (!exists()) throw error;
    }
  }
  execFileSync('usermod', ['-p', '*', '-d', '/', '-s', '/bin/sh', SSH_TEST_USER], { stdio: 'ignore' });
  return SSH_TEST_USER;
}

async function waitForBanner(port: number, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const banner = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let data = '';
      const done = (): void => {
        socket.destroy();
        resolve(data);
      };
      socket.setTimeout(1_000, done);
      socket.on('data', (chunk) => {
        data += chunk.toString();
        if (data.includes('\n')) done();
      });
      socket.on('error', done);
      socket.on('close', done);
    });
    if (banner.startsWith('SSH-2.0')) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`sshd did not answer on 127.0.0.1:${port} within ${timeoutMs}ms\n${log()}`);
}

export async function startSshd(dir: string): Promise<SshFixture> {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const user = ensureSshUser();
  // sshd's privilege separation directory
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = join(dir, 'host_ed25519');
  const otherHostKey = join(dir, 'other_host_ed25519');
  const userKey = join(dir, 'user_ed25519');
  keygen(hostKey);
  keygen(otherHostKey);
  keygen(userKey);
  chmodSync(userKey, 0o600);
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${userKey}.pub`));
  chmodSync(authorizedKeys, 0o644);
  const commandLog = join(dir, 'commands.log');
  writeFileSync(commandLog, '');
  chmodSync(commandLog, 0o666);
  const wrapper = join(dir, 'log-command.sh');
  writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\000' "$SSH_ORIGINAL_COMMAND" >> '${commandLog}'\nexec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n`);
  chmodSync(wrapper, 0o755);
  const port = await freeLoopbackPort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'PermitRootLogin no',
      `AllowUsers ${user}`,
      // the fixture lives under /tmp, which StrictModes rejects as a key location
      'StrictModes no',
      `ForceCommand ${wrapper}`,
      'MaxSessions 10',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  const logFile = join(dir, 'sshd.log');
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  // a test file that dies before its afterAll must not leave sshd listening
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  const readLog = (): string => {
    writeFileSync(logFile, log);
    return log;
  };
  try {
    await waitForBanner(port, 15_000, readLog);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const hostPublicKey = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const otherPublicKey = readFileSync(`${otherHostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const knownHosts = write('known_hosts', `# the test sshd\n[127.0.0.1]:${port} ${hostPublicKey}\n`);
  const hashedKnownHosts = write('known_hosts.hashed', `[127.0.0.1]:${port} ${hostPublicKey}\n`);
  execFileSync('ssh-keygen', ['-H', '-f', hashedKnownHosts], { stdio: 'ignore' });
  const wrongKnownHosts = write('known_hosts.wrong', `[127.0.0.1]:${port} ${otherPublicKey}\n`);
  const otherHostKnownHosts = write('known_hosts.other', `[127.0.0.1]:${port + 1} ${hostPublicKey}\ndalidou.example ${hostPublicKey}\n`);
  return {
    dir,
    host: '127.0.0.1',
    port,
    user,
    identityFile: userKey,
    knownHosts,
    hashedKnownHosts,
    wrongKnownHosts,
    otherHostKnownHosts,
    hostPublicKey,
    address: (p = port) => `${user}@127.0.0.1:${p}`,
    knownHostsForPort: (p: number) => write(`known_hosts.${p}`, `[127.0.0.1]:${p} ${hostPublicKey}\n`),
    commands: () => readFileSync(commandLog, 'utf8').split('\0').filter((c) => c !== ''),
    clearCommands: () => writeFileSync(commandLog, ''),
    connections: () => (log.match(/^Connection from /gm) ?? []).length,
    stop: async () => {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * AtoCore's validator as `docker exec` runs it on Dalidou: as the owner of the snapshots,
 * not as the read-only SSH user (it opens snapshots read-write). A small daemon started here
 * (see ssh-atocore-exec.py); the returned command line is what the SSH user runs.
 */
export async function startAtoCoreExec(dir: string, atocoreRoot: string): Promise<{ command: string; stop(): void }> {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const script = join(dir, 'atocore-exec.py');
  copyFileSync(join(PROJECT_ROOT, 'test/support/ssh-atocore-exec.py'), script);
  chmodSync(script, 0o755);
  const socket = join(dir, 'atocore.sock');
  const child = spawn('python3', [script, 'serve', socket], {
    env: {
      ...process.env,
      PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore'),
      PYTHONDONTWRITEBYTECODE: '1',
      ATOCORE_DATA_DIR: join(atocoreRoot, 'data'),
      ATOCORE_BACKUP_DIR: join(atocoreRoot, 'backups'),
      ATOCORE_PROJECT_REGISTRY_PATH: join(atocoreRoot, 'config', 'project-registry.json'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the AtoCore exec daemon did not start')), 15_000);
    child.stdout!.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`the AtoCore exec daemon exited ${code}`)));
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  return {
    command: `${python} ${script} exec ${socket} validate {stamp}`,
    stop: () => {
      process.off('exit', killOnExit);
      child.kill('SIGTERM');
    },
  };
}

/**
 * A TCP relay in front of sshd that, after `cutAfterBytes` from the server, drops the
 * connection (a reset: a network failure in the middle of a transfer) or, with `stall`,
 * silently stops passing anything on (a hung link).
 */
export async function startCuttingProxy(targetPort: number, cutAfterBytes: number, mode: 'reset' | 'stall' = 'reset'): Promise<{ port: number; cuts(): number; stop(): Promise<void> }> {
  let cuts = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let fromServer = 0;
    let stalled = false;
    const cut = (): void => {
      cuts++;
      if (mode === 'stall') stalled = true;
      else {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
    };
    client.on('data', (chunk) => {
      if (!stalled) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (stalled) return;
      fromServer += chunk.length;
      if (fromServer > cutAfterBytes) cut();
      else client.write(chunk);
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const port = await freeLoopbackPort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    cuts: () => cuts,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A port that accepts TCP connections and never says a word: an SSH handshake that never comes. */
export async function startSilentServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  const port = await freeLoopbackPort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
