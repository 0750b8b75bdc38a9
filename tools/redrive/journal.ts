/**
 * What `npm run redrive` has re-driven, so that it never re-drives a record twice itself.
 *
 * A record is deleted from its failure store only after it was re-driven (the invocation accepted, the replay
 * done). If that delete then fails (an error, a receipt handle that expired meanwhile, the process killed between
 * the two calls), the record is still in the store although its event was handed on. The journal is written
 * between the two: an entry per re-driven record, keyed by the store and the SHA-256 of the record's body. A later
 * run that meets the same record again deletes it without re-driving it.
 *
 * The journal is a local file (JSON lines; `--journal <file>`, by default under `$XDG_STATE_HOME` or
 * `~/.local/state`): it covers runs from this machine. Beyond it (another operator, a lost file), re-driving a
 * record twice is still safe, only not free: the handlers answer the second delivery from their idempotency
 * records, for as long as those live.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface JournalEntry {
  /** ISO 8601 time of the re-drive. */
  readonly at: string;
  readonly key: string;
  /** The stack and store, e.g. `reliable-lambda-prod-object on-failure`. */
  readonly store: string;
  readonly messageId: string;
  /** What was done (the invocation accepted, the replay's last line). */
  readonly detail: string;
}

/** The key of a record: its store and the SHA-256 of its body (a copy of the same record has the same key). */
export function journalKey(store: string, body: string): string {
  return createHash('sha256').update(store).update('\n').update(body).digest('hex');
}

/** `$XDG_STATE_HOME/reliable-lambda/redrive-journal.jsonl`, or under `~/.local/state` without it. */
export function defaultJournalFile(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const base = env.XDG_STATE_HOME || join(home, '.local', 'state');
  return join(base, 'reliable-lambda', 'redrive-journal.jsonl');
}

export class Journal {
  private readonly entries = new Map<string, JournalEntry>();

  /** @param file where entries are kept; none: in memory, for this process only. */
  constructor(readonly file?: string) {
    if (file && existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          const entry = JSON.parse(line) as JournalEntry;
          if (typeof entry.key === 'string') this.entries.set(entry.key, entry);
        } catch {
          // A line cut short by a crash: the entries before and after it still count.
        }
      }
    }
  }

  find(key: string): JournalEntry | undefined {
    return this.entries.get(key);
  }

  /** Adds an entry, on disk (flushed) before it returns. */
  record(entry: JournalEntry): void {
    this.entries.set(entry.key, entry);
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
    const fd = openSync(this.file, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
