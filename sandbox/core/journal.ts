/**
 * The request journal: one entry per request the emulated services answered (method, path with
 * query, status, calling app, time), so a test can prove "zero writes" or see exactly which
 * query found a user. It never holds a body, a header or a credential; query parameters that
 * carry one are redacted. Memory only, bounded, newest kept.
 */
import type { Journal, JournalEntry, ServiceName } from "./types.ts";

/** Entries kept (oldest dropped first): enough for a 10,000-user benchmark run's tail. */
export const JOURNAL_CAPACITY = 100_000;

/** Query parameters that may carry a credential in someone's client; never journaled as sent. */
const CREDENTIAL_PARAMETERS = new Set([
  "client_secret",
  "client_assertion",
  "password",
  "access_token",
  "refresh_token",
  "id_token",
  "code",
  "sig",
]);

/** `pathname?query` with credential-like parameters replaced by `REDACTED`. */
export function journalPath(url: URL): string {
  if (url.search === "") return url.pathname;
  const params = new URLSearchParams(url.search);
  let redacted = false;
  for (const name of [...params.keys()]) {
    if (CREDENTIAL_PARAMETERS.has(name.toLowerCase())) {
      params.set(name, "REDACTED");
      redacted = true;
    }
  }
  return redacted ? `${url.pathname}?${params.toString()}` : `${url.pathname}${url.search}`;
}

/** What `GET /journal` can filter on. */
export interface JournalFilter {
  writesOnly?: boolean;
  service?: ServiceName;
  environment?: string;
  /** Entries at or after this ISO time. */
  since?: string;
}

/** The journal with its reads for the admin API. */
export interface RequestJournal extends Journal {
  entries(filter?: JournalFilter): JournalEntry[];
  clear(): void;
}

/** Creates an empty journal. */
export function createJournal(capacity = JOURNAL_CAPACITY): RequestJournal {
  let entries: JournalEntry[] = [];
  return {
    record(entry) {
      entries.push(entry);
      if (entries.length > capacity) entries = entries.slice(entries.length - Math.floor(capacity * 0.9));
    },
    entries(filter = {}) {
      return entries.filter(
        (e) =>
          (!filter.writesOnly || e.write) &&
          (filter.service === undefined || e.service === filter.service) &&
          (filter.environment === undefined || e.environment === filter.environment) &&
          (filter.since === undefined || e.time >= filter.since),
      );
    },
    clear() {
      entries = [];
    },
  };
}
