import type { Command } from 'commander';

/** Command groups that several domains add subcommands to. */
export interface CommandGroups {
  model: Command;
}
