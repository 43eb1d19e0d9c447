import { Command } from 'commander';
import { COHORT_VERSION } from '../protocol/version.js';

const print = (line: string) => console.log(line);

// Commands load their modules when they run: `cohort keygen` should not wait for TensorFlow.js to load.
export function buildProgram(): Command {
  const program = new Command('cohort')
    .description('Federated learning: a coordinator and client nodes training one model over socket.io')
    .version(COHORT_VERSION);

  program
    .command('coordinator')
    .description('serve an experiment to remote client nodes (SIGHUP reloads the access list)')
    .requiredOption('-c, --config <file>', 'experiment YAML')
    .action(async (opts: { config: string }) => {
      const [{ loadConfig }, { experimentConfigSchema }, { runCoordinator }] = await Promise.all([
        import('./config/loadConfig.js'),
        import('./config/experimentConfig.js'),
        import('./runCoordinator.js'),
      ]);
      await runCoordinator(loadConfig(opts.config, experimentConfigSchema), print, opts.config);
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
    .action(async (opts: { config: string; rounds?: number }) => {
      const [{ loadConfig }, { experimentConfigSchema }, { simulate, configBaseDir }] = await Promise.all([
        import('./config/loadConfig.js'),
        import('./config/experimentConfig.js'),
        import('./simulate.js'),
      ]);
      const config = loadConfig(opts.config, experimentConfigSchema);
      await simulate(opts.rounds ? { ...config, rounds: opts.rounds } : config, { baseDir: configBaseDir(opts.config), print });
    });

  program
    .command('keygen')
    .description('create an Ed25519 identity key file (mode 0600) and print its public key')
    .requiredOption('-o, --out <file>', 'where to write the secret key (never overwritten)')
    .action(async (opts: { out: string }) => {
      const { runKeygen } = await import('./keygen.js');
      runKeygen(opts.out, print);
    });

  const audit = program.command('audit').description('audit log tools');
  audit
    .command('verify')
    .description('check a signed, hash-chained audit log; names every edited, removed, inserted or reordered entry')
    .argument('<log>', 'the audit log (JSON lines)')
    .option('-k, --key <base64>', "the signer's public key to require (otherwise the log's own signer is reported)")
    .action(async (log: string, opts: { key?: string }) => {
      const { runAuditVerify } = await import('./auditVerify.js');
      const code = runAuditVerify(log, opts.key ? { publicKey: opts.key } : {}, print);
      if (code !== 0) process.exitCode = code;
    });

  return program;
}
