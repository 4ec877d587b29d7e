/**
 * Eventual consistency, as Microsoft's Entra guidance describes it: right after a write, a read
 * can hit a replica that has not seen it — "a newly created object [may] return Not Found" and
 * "a recently updated property [may] not yet be visible"
 * (https://devblogs.microsoft.com/identity/designing-for-eventual-consistency-for-microsoft-entra/).
 *
 * While `graphNewUserDelaySeconds` / `graphPropertyDelaySeconds` are set, writes record when a
 * user was created and the version each change replaced; reads see the directory as it was that
 * long ago. Writes always act on the latest version (the primary), except that a user too new
 * to be replicated answers 404 to writes as well (clients retry, as terraform-provider-azuread
 * does for assignLicense). Nothing is recorded while both delays are 0.
 */
import type { ServiceContext } from "../core/types.ts";
import { findUser } from "./rules.ts";
import type { DirectoryReplication, EntraUser } from "./state.ts";

function replication(ctx: ServiceContext): DirectoryReplication {
  ctx.state.entra.replication ??= { created: {}, history: {} };
  return ctx.state.entra.replication;
}

/** Records a new user (before it is visible to reads). */
export function recordCreated(ctx: ServiceContext, user: EntraUser): void {
  if (ctx.faults.graphNewUserDelaySeconds <= 0) return;
  replication(ctx).created[user.id] = ctx.now();
}

/** Records the version of `user` a change is about to replace (call before mutating it). */
export function recordChange(ctx: ServiceContext, user: EntraUser): void {
  if (ctx.faults.graphPropertyDelaySeconds <= 0) return;
  const history = replication(ctx).history;
  const versions = history[user.id] ?? [];
  versions.push({ at: ctx.now(), user: structuredClone(user) });
  history[user.id] = versions;
}

/** Whether `user` is too new for any replica to know it. */
export function notYetReplicated(ctx: ServiceContext, user: EntraUser): boolean {
  const created = ctx.state.entra.replication?.created[user.id];
  if (created === undefined) return false;
  if (ctx.now() < created + ctx.faults.graphNewUserDelaySeconds * 1000) return true;
  delete ctx.state.entra.replication?.created[user.id];
  return false;
}

/** The version of `user` a read sees now (undefined: not found yet). */
export function replicaView(ctx: ServiceContext, user: EntraUser): EntraUser | undefined {
  if (!ctx.state.entra.replication) return user;
  if (notYetReplicated(ctx, user)) return undefined;
  const versions = ctx.state.entra.replication.history[user.id];
  if (!versions || versions.length === 0) return user;
  const horizon = ctx.now() - ctx.faults.graphPropertyDelaySeconds * 1000;
  const unseen = versions.filter((v) => v.at > horizon);
  if (unseen.length === 0) {
    delete ctx.state.entra.replication.history[user.id];
    return user;
  }
  ctx.state.entra.replication.history[user.id] = unseen;
  // The oldest change not yet replicated: a read sees the version it replaced.
  return (unseen[0] as { user: EntraUser }).user;
}

/** Every user as a read sees it now. */
export function visibleUsers(ctx: ServiceContext): EntraUser[] {
  const users = ctx.state.entra.users;
  if (!ctx.state.entra.replication) return users;
  const out: EntraUser[] = [];
  for (const u of users) {
    const seen = replicaView(ctx, u);
    if (seen) out.push(seen);
  }
  return out;
}

/** The user `key` (id or UPN) names, as a read sees it now. */
export function findVisibleUser(ctx: ServiceContext, key: string): EntraUser | undefined {
  const lower = key.toLowerCase();
  return visibleUsers(ctx).find(
    (u) => u.id.toLowerCase() === lower || u.userPrincipalName.toLowerCase() === lower,
  );
}

/** The user `key` names for a write: the latest version, unless it is too new to be replicated. */
export function findWritableUser(ctx: ServiceContext, key: string): EntraUser | undefined {
  const user = findUser(ctx, key);
  return user && !notYetReplicated(ctx, user) ? user : undefined;
}
