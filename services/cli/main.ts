import { Command, CommanderError, Option } from 'commander';
import { registerActionCommands } from './commands/action.js';
import { registerCheckpointCommands, registerProtectCommand } from './commands/checkpoint.js';
import { registerExecutionCommands } from './commands/execution.js';
import { registerPolicyCommands } from './commands/policy.js';
import { registerPolicyResourceCommands } from './commands/policy-resource.js';
import { registerProtectableCommands } from './commands/protectable.js';
import { registerRecoveryCommands } from './commands/recovery.js';
import { registerServiceCommands } from './commands/service.js';
import { registerSiteCommands } from './commands/site.js';
import { CommandContext } from './context.js';
import { describeError } from './http.js';
import { type CliIo, processIo } from './io.js';

export type { CliIo } from './io.js';

/**
 * The global --os-* options of python-openstackclient. Their OS_* variables
 * and clouds.yaml are merged later in auth.ts, so defaults stay unset here.
 */
function addGlobalOptions(program: Command): void {
  const opts: Array<[string, string]> = [
    ['--os-cloud <name>', 'cloud name in clouds.yaml (env: OS_CLOUD)'],
    [
      '--os-auth-type <type>',
      'authentication type: password, token, v3applicationcredential (env: OS_AUTH_TYPE)',
    ],
    ['--os-auth-url <url>', 'Keystone URL (env: OS_AUTH_URL)'],
    ['--os-username <name>', 'user name (env: OS_USERNAME)'],
    ['--os-user-id <id>', 'user ID (env: OS_USER_ID)'],
    ['--os-password <password>', 'user password (env: OS_PASSWORD)'],
    ['--os-project-name <name>', 'project name to scope to (env: OS_PROJECT_NAME)'],
    ['--os-project-id <id>', 'project ID to scope to (env: OS_PROJECT_ID)'],
    ['--os-user-domain-name <name>', 'domain name of the user (env: OS_USER_DOMAIN_NAME)'],
    ['--os-user-domain-id <id>', 'domain ID of the user (env: OS_USER_DOMAIN_ID)'],
    ['--os-project-domain-name <name>', 'domain name of the project (env: OS_PROJECT_DOMAIN_NAME)'],
    ['--os-project-domain-id <id>', 'domain ID of the project (env: OS_PROJECT_DOMAIN_ID)'],
    [
      '--os-default-domain <id>',
      'domain ID used when none is given (env: OS_DEFAULT_DOMAIN, default: default)',
    ],
    ['--os-application-credential-id <id>', 'application credential ID (env: OS_APPLICATION_CREDENTIAL_ID)'],
    [
      '--os-application-credential-name <name>',
      'application credential name (env: OS_APPLICATION_CREDENTIAL_NAME)',
    ],
    [
      '--os-application-credential-secret <secret>',
      'application credential secret (env: OS_APPLICATION_CREDENTIAL_SECRET)',
    ],
    ['--os-region-name <region>', 'region of the Dragon endpoint (env: OS_REGION_NAME)'],
    [
      '--os-interface <interface>',
      'endpoint interface: public, internal, admin (env: OS_INTERFACE, default: public)',
    ],
    ['--os-token <token>', 'an existing token (env: OS_TOKEN)'],
    ['--os-endpoint <url>', 'Dragon endpoint; with --os-token skips Keystone (env: OS_ENDPOINT, OS_URL)'],
    ['--os-cacert <file>', 'CA bundle to verify TLS servers (env: OS_CACERT)'],
    [
      '--os-disaster-recovery-api-version <version>',
      'API microversion, e.g. 1.0 or latest (env: OS_DISASTER_RECOVERY_API_VERSION)',
    ],
  ];
  for (const [flags, description] of opts) program.addOption(new Option(flags, description));
  program.option('--insecure', 'do not verify TLS certificates');
  program.option('--debug', 'print tracebacks on errors');
}

/** Build the whole command tree; one fresh tree per invocation so runs never share state. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('dragon');
  const ctx = new CommandContext(io, () => program.opts());
  program
    .description('Dragon: workload disaster recovery for OpenStack')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError(false);
  addGlobalOptions(program);

  const policy = program.command('policy').description('Workload policies');
  registerPolicyCommands(policy, ctx);
  registerProtectCommand(policy, ctx);
  registerPolicyResourceCommands(policy, ctx);
  registerActionCommands(program.command('action').description('Protection actions'), ctx);
  registerExecutionCommands(program.command('execution').description('Executions'), ctx);
  registerCheckpointCommands(program.command('checkpoint').description('Checkpoints (recovery points)'), ctx);
  registerRecoveryCommands(
    program
      .command('recovery')
      .description('Recoveries: a checkpoint brought back at a site, dry runs and drills'),
    ctx,
  );
  registerServiceCommands(program.command('service').description('Dragon services'), ctx);
  registerSiteCommands(
    program.command('site').description('Sites workloads run at and are recovered to'),
    ctx,
  );
  registerProtectableCommands(
    program.command('protectable').description('Resources that can be protected'),
    ctx,
  );
  return program;
}

/**
 * Run `dragon` with argv (without node and script) and return the exit
 * status: 0 on success, 1 on any error, printed on stderr the way OSC does.
 */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed help or its usage error.
      return err.exitCode;
    }
    io.stderr.write(`${describeError(err)}\n`);
    if (program.opts().debug && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
