/**
 * What `up` will change, said in the preview (issue 12 items 1–3): for every resource the engine
 * will create, update or delete, one line a reviewer reads in plain `d365-access preview`,
 * attached to the resource it concerns (`pulumi.log.info`, printed under Diagnostics):
 *
 *   adopts Entra user adele.vance@contoso.example: add license DYN365_FINANCE; remove license …
 *   adopts F&O user adele.vance in contoso-demo unchanged
 *   removes F&O user bob in contoso-demo: revoke role LEDGERACCOUNTANT [USMF]; disable the account
 *
 * Each system reads what it holds (bulk reads) and describes its own pure plans (its
 * describe.ts, through the registry's `describer`); this module only says which resources to
 * describe and prints the lines. Which resources: every declared one, with the outputs the last
 * deployment recorded under its name (after renames), and every resource of the last deployment
 * users.yaml no longer declares. The last deployment is the one `d365-access` hands over; under
 * the official CLI only the people it managed are known (the `identities` output), so there the
 * preview describes the resources of new people only (adoptions and creates).
 */
import * as pulumi from "@pulumi/pulumi";
import { type Change, renderChange } from "../../providers/core/describe.ts";
import type { Runtime } from "../../providers/core/runtime.ts";
import type { DescribeDeclared, DescribeRequest } from "../../providers/core/system.ts";
import { SYSTEMS } from "../../providers/registry.ts";
import type { DesiredState, DesiredUser } from "../model/index.ts";

/** A resource of the last deployment: its id and outputs. */
interface Recorded {
  id: string;
  outputs: Record<string, unknown>;
}

/** What the program knows of the last deployment. */
export interface LastRun {
  /** `stack.exportStack().deployment`, when d365-access handed it over. */
  deployment?: unknown;
  /** Resource names of the identity resources the last deployment managed (official CLI path). */
  managed: ReadonlySet<string>;
  /** Old resource name → new one (renames). */
  renames: ReadonlyMap<string, string>;
  /** Whether the run refreshes first. */
  refresh: boolean;
}

const nameOfUrn = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

/** `<name>` or `<name>/<environment>` under its new name after a rename. */
function renamed(name: string, renames: ReadonlyMap<string, string>): string {
  const slash = name.indexOf("/");
  const base = slash < 0 ? name : name.slice(0, slash);
  const to = renames.get(base);
  return to === undefined ? name : `${to}${name.slice(base.length)}`;
}

/** The last deployment's resources of one type, by (new) resource name. */
export function recordedOf(deployment: unknown, type: string, renames: ReadonlyMap<string, string>) {
  const d = (deployment ?? {}) as {
    resources?: { urn?: string; type?: string; id?: string; outputs?: Record<string, unknown> }[];
  };
  const out = new Map<string, Recorded>();
  for (const r of d.resources ?? [])
    if (r.type === type && r.urn)
      out.set(renamed(nameOfUrn(r.urn), renames), { id: r.id ?? "", outputs: r.outputs ?? {} });
  return out;
}

/** The request to one system (pure; exported for tests). */
export function requestFor(
  system: (typeof SYSTEMS)[number],
  state: DesiredState,
  objectIds: ReadonlyMap<string, string | undefined>,
  last: LastRun,
  name: (upn: string) => string,
): DescribeRequest<DesiredUser> {
  const recorded =
    last.deployment === undefined
      ? undefined
      : recordedOf(last.deployment, system.resourceType, last.renames);
  const declared: DescribeDeclared<DesiredUser>[] = [];
  for (const user of state.users) {
    const base = name(user.upn);
    // Under the official CLI, a person managed before has state we cannot read here: not described.
    if (!recorded && last.managed.has(base)) continue;
    const objectId = objectIds.get(user.upn.toLowerCase());
    const names =
      system.scope === "tenant"
        ? [{ name: base }]
        : system.environments(user).map((environment) => ({ name: `${base}/${environment}`, environment }));
    for (const n of names) {
      const before = recorded?.get(n.name);
      declared.push({
        ...n,
        user,
        ...(objectId ? { objectId } : {}),
        ...(before ? { last: before.outputs, lastId: before.id } : {}),
      });
    }
  }
  const names = new Set(declared.map((d) => d.name));
  const removed = [...(recorded ?? [])]
    .filter(([n]) => !names.has(n))
    .map(([n, r]) => ({ name: n, id: r.id, outputs: r.outputs }));
  return { declared, removed, refresh: last.refresh };
}

/** The URN's resource name of a declared resource (known in preview once registered). */
function nameOf(resource: pulumi.CustomResource): Promise<string> {
  return new Promise((resolve) => resource.urn.apply((urn) => resolve(nameOfUrn(urn))));
}

/**
 * Prints what `up` will change, system by system. A system whose reads fail says so in one
 * warning; the operation that needs the call fails with the reason.
 */
export async function sayChanges(
  rt: Runtime,
  state: DesiredState,
  declared: Record<string, pulumi.CustomResource[]>,
  objectIds: ReadonlyMap<string, string | undefined>,
  last: LastRun,
  name: (upn: string) => string,
): Promise<void> {
  for (const system of SYSTEMS) {
    const request = requestFor(system, state, objectIds, last, name);
    if (request.declared.length + request.removed.length === 0) continue;
    let changes: Map<string, Change>;
    try {
      changes = await (await system.describer())(rt, request);
    } catch (e) {
      pulumi.log.warn(
        `${system.label}: cannot say in the preview what up will change: ${(e as Error).message}`,
      );
      continue;
    }
    const resources = new Map(
      await Promise.all((declared[system.name] ?? []).map(async (r) => [await nameOf(r), r] as const)),
    );
    const type = system.resourceType.slice(system.resourceType.indexOf("/") + 1);
    for (const [n, change] of [...changes].sort(([a], [b]) => a.localeCompare(b))) {
      const resource = resources.get(n);
      if (resource) pulumi.log.info(renderChange(change), resource);
      else pulumi.log.info(`${type} ${n}: ${renderChange(change)}`);
    }
  }
}
