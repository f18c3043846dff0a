/**
 * The engine core, independent of sockets: owns the catalog, cursors and the
 * command table, and turns one command document into a reply plus the list
 * of mutations it applied (which the caller makes durable before replying).
 */
import type { Document } from 'bson';
import { commandTable, dispatch } from './commands/dispatch.js';
import type { CommandContext, Handler } from './commands/context.js';
import { CursorStore } from './commands/cursors.js';
import { compileFilter } from './query/match.js';
import type { ExecStats } from './query/execute.js';
import { Catalog } from './storage/catalog.js';
import { applyMutation, type Mutation } from './storage/mutation.js';

/** Result of executing one command. */
export interface Executed {
  reply: Document;
  mutations: Mutation[];
}

/** Compressors this engine can speak (OP_COMPRESSED). */
const COMPRESSORS = ['zlib'];

/** Database state and command execution for one engine instance. */
export class EngineCore {
  readonly catalog = new Catalog((filter) => compileFilter(filter));
  readonly cursors = new CursorStore();
  private readonly table: Record<string, Handler> = commandTable();
  /** Statistics of the most recent query, for tests and explain. */
  lastStats: ExecStats = { docsExamined: 0, stage: '' };

  /** Executes a command against database `db` for connection `connectionId`. */
  execute(db: string, body: Document, connectionId: number): Executed {
    const mutations: Mutation[] = [];
    const catalog = this.catalog;
    const ctx: CommandContext = {
      db,
      catalog,
      cursors: this.cursors,
      connectionId,
      compressors: COMPRESSORS,
      stats: { docsExamined: 0, stage: '' },
      apply(m) {
        const rec = applyMutation(catalog, m);
        mutations.push(m);
        return rec;
      },
    };
    const reply = dispatch(this.table, body, ctx);
    this.lastStats = ctx.stats;
    return { reply, mutations };
  }

  /** Re-applies a journaled mutation during recovery. */
  replay(m: Mutation): void {
    applyMutation(this.catalog, m);
  }
}
