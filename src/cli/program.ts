import { Command, InvalidArgumentError } from 'commander';
import { COHORT_VERSION } from '../protocol/version.js';
import { parseHostPart, type HostPart } from './host/hostPart.js';

const print = (line: string) => console.log(line);

function parseWorkers(value: string): 'auto' | number {
  if (value === 'auto') return 'auto';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("give 'auto' or a whole number >= 0");
  return n;
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('give a port number from 0 to 65535');
  return n;
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('give a number of seconds >= 0');
  return n;
}

function parseHostPartOption(value: string): HostPart {
  try {
    return parseHostPart(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

// Commands load their modules when they run: `cohort keygen` should not wait for TensorFlow.js to load.
export function buildProgram(): Command {
  const program = new Command('cohort')
    .description('Federated learning: a coordinator and client nodes training one model over socket.io')
    .version(COHORT_VERSION);

  program
    .command('coordinator')
    .description('serve an experiment to remote client nodes (SIGHUP reloads the access list)')
    .requiredOption('-c, --config <file>', 'experiment YAML')
    .option('--new-run', 'start a new run even if the store holds an unfinished one of this experiment')
    .action(async (opts: { config: string; newRun?: boolean }) => {
      const [{ loadConfig }, { experimentConfigSchema }, { runCoordinator }] = await Promise.all([
        import('./config/loadConfig.js'),
        import('./config/experimentConfig.js'),
        import('./runCoordinator.js'),
      ]);
      await runCoordinator(loadConfig(opts.config, experimentConfigSchema), print, opts.config, { newRun: opts.newRun ?? false });
    });

  program
    .command('client')
    .description('run one client node next to local data')
    .requiredOption('-c, --config <file>', 'client YAML')
    .action(async (opts: { config: string }) => {
      const [{ loadConfig }, { clientConfigSchema }, { runClient }, { configBaseDir }] = await Promise.all([
        import('./config/loadConfig.js'),
        import('./config/clientConfig.js'),
        import('./runClient.js'),
        import('./simulate.js'),
      ]);
      await runClient(loadConfig(opts.config, clientConfigSchema), configBaseDir(opts.config), print);
    });

  program
    .command('simulate')
    .description('run a coordinator and one client per configured hospital on this machine, over loopback sockets')
    .requiredOption('-c, --config <file>', 'experiment YAML with a clients list')
    .option('--rounds <n>', 'override the number of rounds', (v) => Number.parseInt(v, 10))
    .option('--workers <n|auto>', "worker threads hosting the clients (overrides simulation.workers): 'auto' = one per core, 0 = all in one thread", parseWorkers)
    .action(async (opts: { config: string; rounds?: number; workers?: 'auto' | number }) => {
      const [{ loadConfig }, { experimentConfigSchema }, { simulate, configBaseDir }] = await Promise.all([
        import('./config/loadConfig.js'),
        import('./config/experimentConfig.js'),
        import('./simulate.js'),
      ]);
      const config = loadConfig(opts.config, experimentConfigSchema);
      const overridden = {
        ...config,
        ...(opts.rounds ? { rounds: opts.rounds } : {}),
        ...(opts.workers !== undefined ? { simulation: { ...config.simulation, workers: opts.workers } } : {}),
      };
      await simulate(overridden, { baseDir: configBaseDir(opts.config), print });
    });

  program
    .command('host')
    .description("run part K of N of an experiment's virtual clients against a remote coordinator, as hospitals connect (access mode virtual-clients)")
    .requiredOption('-c, --config <file>', "the coordinator's experiment YAML (the same file, with its partition and access.key)")
    .requiredOption('--part <K/N>', 'this host is part K of N (1 <= K <= N): it runs the K-th of N even blocks of the partition', parseHostPartOption)
    .requiredOption('--url <url>', 'the coordinator, as this machine reaches it (http://coordinator:8080)')
    .requiredOption('--coordinator-key <base64>', "the coordinator's public key, which every virtual client pins (the coordinator prints it at start; `cohort keygen` prints a kept one)")
    .option('--key <file>', "the virtual clients' key file, where this machine keeps it (default: the experiment's access.key, beside the config)")
    .option('--workers <n|auto>', "worker threads hosting the clients (overrides simulation.workers): 'auto' = one per core, 0 = all in one thread", parseWorkers)
    .option('--progress <seconds>', 'seconds between progress lines (0: none)', parseSeconds, 10)
    .action(async (opts: { config: string; part: HostPart; url: string; coordinatorKey: string; key?: string; workers?: 'auto' | number; progress: number }) => {
      const [{ loadConfig }, { experimentConfigSchema }, { runHost }, { configBaseDir }] = await Promise.all([
        import('./config/loadConfig.js'),
        import('./config/experimentConfig.js'),
        import('./host/runHost.js'),
        import('./simulate.js'),
      ]);
      const config = loadConfig(opts.config, experimentConfigSchema);
      await runHost(config, configBaseDir(opts.config), { part: opts.part, url: opts.url, coordinatorKey: opts.coordinatorKey, workers: opts.workers ?? config.simulation.workers, progressSeconds: opts.progress, ...(opts.key ? { keyPath: opts.key } : {}) }, print);
    });

  program
    .command('keygen')
    .description('create an Ed25519 identity key file (mode 0600) and print its public key')
    .requiredOption('-o, --out <file>', 'where to write the secret key (never overwritten)')
    .action(async (opts: { out: string }) => {
      const { runKeygen } = await import('./keygen.js');
      runKeygen(opts.out, print);
    });

  const storeOption = ['-s, --store <file>', 'the run store', 'cohort.db'] as const;
  program
    .command('runs')
    .description('list the runs in a store')
    .option(...storeOption)
    .action(async (opts: { store: string }) => (await import('./inspectRuns.js')).runRuns(opts.store, print));

  program
    .command('show')
    .description("a run's rounds, participants, model versions and manifest")
    .argument('<run>', 'run id (a unique prefix is enough)')
    .option(...storeOption)
    .option('--json', 'print the whole record (manifest, clients, rounds) as JSON')
    .action(async (run: string, opts: { store: string; json?: boolean }) => (await import('./inspectRuns.js')).runShow(opts.store, run, opts.json ?? false, print));

  program
    .command('dashboard')
    .description("serve a stored run's dashboard after its coordinator has exited: read-only, behind an observer token, until Ctrl-C")
    .argument('[run]', 'run id (a unique prefix is enough)')
    .option('--latest', "the store's most recent run")
    .option(...storeOption)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0 picks a free one)', parsePort, 0)
    .option('--token-file <file>', "a file holding the observer token (e.g. the experiment's observability.tokenFile); default: a fresh token, printed in the link")
    .action(async (run: string | undefined, opts: { latest?: boolean; store: string; host: string; port: number; tokenFile?: string }) => {
      const { runDashboard } = await import('./dashboardCommand.js');
      await runDashboard({ store: opts.store, ...(run !== undefined ? { run } : {}), latest: opts.latest ?? false, host: opts.host, port: opts.port, ...(opts.tokenFile ? { tokenFile: opts.tokenFile } : {}) }, print);
    });

  program
    .command('export')
    .description("write a run's global model in TensorFlow.js format (model.json + weights.bin) with its preprocessing (preprocessing.json; the standardization folded into the first layer)")
    .requiredOption('-r, --run <id>', 'run id (a unique prefix is enough)')
    .option('--round <n>', 'the round whose model to export (default: the last completed)', (v) => Number.parseInt(v, 10))
    .requiredOption('-o, --out <dir>', 'output folder')
    .option(...storeOption)
    .action(async (opts: { run: string; round?: number; out: string; store: string }) => {
      await (await import('./exportModel.js')).runExport({ store: opts.store, run: opts.run, out: opts.out, ...(opts.round !== undefined ? { round: opts.round } : {}) }, print);
    });

  program
    .command('predict')
    .description('predict on raw CSV rows with a model written by `cohort export` (its preprocessing included); prints the accuracy when the rows hold the label')
    .requiredOption('-m, --model <dir>', 'the folder `cohort export` wrote')
    .requiredOption('-d, --data <csv>', 'raw rows with a header line, columns named as in training')
    .option('-o, --out <csv>', 'write line,prediction,score for every predicted row')
    .action(async (opts: { model: string; data: string; out?: string }) => {
      await (await import('./predict.js')).runPredict({ model: opts.model, data: opts.data, ...(opts.out ? { out: opts.out } : {}) }, print);
    });

  const privacy = program.command('privacy').description('plan differential privacy with the RDP accountant (Poisson-subsampled Gaussian mechanism)');
  const toNumber = (v: string) => Number(v);
  const adjacencyHelp = 'replace-one (the default: client-level DP-FedAvg as a run charges it: sensitivity 2C, q 1) or add-remove (DP-SGD, local DP)';
  privacy
    .command('epsilon')
    .description('epsilon spent by --steps rounds at sampling rate --q and noise multiplier --sigma (printed last)')
    .requiredOption('--q <rate>', 'sampling rate: the chance that a client (or record) takes part in a round, in (0, 1]', toNumber)
    .requiredOption('--sigma <noise multiplier>', 'noise standard deviation / clipping norm', toNumber)
    .requiredOption('--steps <n>', 'rounds (or DP-SGD steps)', toNumber)
    .requiredOption('--delta <d>', 'target delta, in (0, 1)', toNumber)
    .option('--conversion <kind>', 'RDP to (epsilon, delta): improved or classic', 'improved')
    .option('--adjacency <kind>', adjacencyHelp)
    .action(async (opts: { q: number; sigma: number; steps: number; delta: number; conversion: string; adjacency?: string }) => {
      const { runPrivacyEpsilon } = await import('./privacyCommand.js');
      runPrivacyEpsilon(opts, print);
    });
  privacy
    .command('sigma')
    .description('the smallest noise multiplier keeping --steps rounds at sampling rate --q within (--epsilon, --delta) (printed last)')
    .requiredOption('--epsilon <e>', 'target epsilon', toNumber)
    .requiredOption('--q <rate>', 'sampling rate, in (0, 1]', toNumber)
    .requiredOption('--steps <n>', 'rounds (or DP-SGD steps)', toNumber)
    .requiredOption('--delta <d>', 'target delta, in (0, 1)', toNumber)
    .option('--conversion <kind>', 'RDP to (epsilon, delta): improved or classic', 'improved')
    .option('--adjacency <kind>', adjacencyHelp)
    .action(async (opts: { epsilon: number; q: number; steps: number; delta: number; conversion: string; adjacency?: string }) => {
      const { runPrivacySigma } = await import('./privacyCommand.js');
      runPrivacySigma(opts, print);
    });

  const audit = program.command('audit').description('audit log tools');
  audit
    .command('verify')
    .description('check a signed, hash-chained audit log; names every edited, removed, inserted or reordered entry')
    .argument('<log>', 'the audit log (JSON lines)')
    .option('-k, --key <base64>', "the signer's public key to require (otherwise the log's own signer is reported)")
    .option('--head <hash|file>', "a head known from elsewhere: a 64-hex entry hash, a file holding one, or a client's audit log (the heads it countersigned); catches entries cut off the end or rewritten")
    .action(async (log: string, opts: { key?: string; head?: string }) => {
      const { runAuditVerify } = await import('./auditVerify.js');
      const code = runAuditVerify(log, { ...(opts.key ? { publicKey: opts.key } : {}), ...(opts.head ? { head: opts.head } : {}) }, print);
      if (code !== 0) process.exitCode = code;
    });

  return program;
}
