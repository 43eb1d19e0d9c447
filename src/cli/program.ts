import { Command } from 'commander';
import { clientConfigSchema } from './config/clientConfig.js';
import { experimentConfigSchema } from './config/experimentConfig.js';
import { loadConfig } from './config/loadConfig.js';
import { runClient } from './runClient.js';
import { runCoordinator } from './runCoordinator.js';
import { configBaseDir, simulate } from './simulate.js';
import { COHORT_VERSION } from '../protocol/version.js';

const print = (line: string) => console.log(line);

export function buildProgram(): Command {
  const program = new Command('cohort')
    .description('Federated learning: a coordinator and client nodes training one model over socket.io')
    .version(COHORT_VERSION);

  program
    .command('coordinator')
    .description('serve an experiment to remote client nodes')
    .requiredOption('-c, --config <file>', 'experiment YAML')
    .action(async (opts: { config: string }) => {
      await runCoordinator(loadConfig(opts.config, experimentConfigSchema), print);
    });

  program
    .command('client')
    .description('run one client node next to local data')
    .requiredOption('-c, --config <file>', 'client YAML')
    .action(async (opts: { config: string }) => {
      await runClient(loadConfig(opts.config, clientConfigSchema), configBaseDir(opts.config), print);
    });

  program
    .command('simulate')
    .description('run a coordinator and one client per configured hospital on this machine, over loopback sockets')
    .requiredOption('-c, --config <file>', 'experiment YAML with a clients list')
    .option('--rounds <n>', 'override the number of rounds', (v) => Number.parseInt(v, 10))
    .action(async (opts: { config: string; rounds?: number }) => {
      const config = loadConfig(opts.config, experimentConfigSchema);
      await simulate(opts.rounds ? { ...config, rounds: opts.rounds } : config, { baseDir: configBaseDir(opts.config), print });
    });

  return program;
}
