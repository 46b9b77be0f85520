import { Command, CommanderError } from 'commander';
import { appVersion } from '../../core/app-info.ts';
import { registerDomainCommands } from './commands/index.ts';
import { registerSystem } from './system.ts';
import { describeError, exitCodeFor } from './context.ts';

export function buildProgram(): Command {
  const program = new Command('stm-studio')
    .description('STM Studio: label actions in videos, fine-tune STM, predict, probe time reversal, export CSV')
    .version(appVersion())
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  registerSystem(program);
  registerDomainCommands(program);
  // Every subcommand reports usage errors through exitOverride (exit code 2) instead of process.exit.
  const override = (cmd: Command) => {
    cmd.exitOverride();
    cmd.commands.forEach(override);
  };
  override(program);
  return program;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failure, 2 usage. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    process.stderr.write(`error: ${describeError(err)}\n`);
    return exitCodeFor(err);
  }
}
