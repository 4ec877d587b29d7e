/**
 * The run-wide state of `fno:User` in the provider process: one client per environment, the
 * bulk reads shared by every resource (role catalog, a snapshot of users and their rows), the
 * users written in this process, and a user's rows read fresh (design.md principle 5).
 */

import type { Runtime } from "../core/runtime.ts";
import { settled } from "../core/runtime.ts";
import { matchUser } from "./check.ts";
import { createFnoClient, type FnoClient } from "./client.ts";
import type { FnoLiveState, FnoRole } from "./model.ts";
import { fno } from "./service.ts";

export function clientFor(r: Runtime, environment: string): FnoClient {
  return createFnoClient({
    environment,
    fno: r.client(fno, environment),
    appId: r.settings.credential.clientId,
  });
}

/** The environment's role catalog: one bulk read per run. */
export function loadRoles(r: Runtime, client: FnoClient): Promise<FnoRole[]> {
  return r.cached(`fno:${client.environment}:roles`, () => client.listRoles());
}

/**
 * Every user, role row and organization row of the environment: three bulk paged reads per run,
 * indexed by UserID (lower-case) so each `read` looks at its own rows only.
 */
export function loadSnapshot(r: Runtime, client: FnoClient): Promise<Map<string, FnoLiveState>> {
  return r.cached(`fno:${client.environment}:snapshot`, async () => {
    const [users, assignments, organizations] = await settled([
      client.listUsers(),
      client.listUserRoles(),
      client.listUserRoleOrganizations(),
    ]);
    const byUser = new Map<string, { [K in keyof FnoLiveState]: FnoLiveState[K][number][] }>();
    const slot = (userId: string) => {
      const key = userId.toLowerCase();
      let entry = byUser.get(key);
      if (!entry) {
        entry = { users: [], assignments: [], organizations: [] };
        byUser.set(key, entry);
      }
      return entry;
    };
    for (const u of users) slot(u.userId).users.push(u);
    for (const a of assignments) slot(a.userId).assignments.push(a);
    for (const o of organizations) slot(o.userId).organizations.push(o);
    return byUser as Map<string, FnoLiveState>;
  });
}

/** UserIDs (lower-case, per environment) written in this process: the snapshot is stale for them. */
export function written(r: Runtime): Promise<Set<string>> {
  return r.cached("fno:written", async () => new Set<string>());
}

export const writtenKey = (environment: string, userId: string): string =>
  `${environment}\n${userId.toLowerCase()}`;

/** One user's record and rows, read fresh: the record by Alias (or the given UserID), then its rows. */
export async function readUser(client: FnoClient, upn: string, userId: string): Promise<FnoLiveState> {
  const users = await client.findUserByAlias(upn, userId);
  const record =
    matchUser({ upn, userId }, users).record ??
    users.find((u) => u.userId.toLowerCase() === userId.toLowerCase());
  if (!record) return { users, assignments: [], organizations: [] };
  const [assignments, organizations] = await settled([
    client.listUserRoles(record.userId),
    client.listUserRoleOrganizations(record.userId),
  ]);
  return { users, assignments, organizations };
}
