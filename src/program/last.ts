/**
 * The last deployment as the program sees it, read once before anything is declared: who was
 * managed under which name (people.ts), the guards it recorded and what each of its resources
 * granted (guards.ts).
 *
 * Two ways in: `d365-access` hands over the exported deployment (resources with their inputs,
 * pending operations); under the official `pulumi` CLI nothing does, so the program reads the
 * stack's own last outputs through ONE StackReference to itself (it works on the file backend
 * in preview and up: https://www.pulumi.com/docs/iac/concepts/stacks/#stackreferences). The
 * outputs it reads are written by every run (index.ts): `identities`, `guards`, `guardFacts`.
 */
import * as pulumi from "@pulumi/pulumi";
import { IN_FLIGHT_OUTPUT } from "../../providers/core/inflight.ts";
import type { Guards } from "../model/index.ts";
import { type AppliedResource, appliedResources, guardsOfOutput } from "./guards.ts";
import {
  IDENTITIES_OUTPUT,
  identitiesOfDeployment,
  identitiesOfOutput,
  type LastIdentities,
} from "./people.ts";

/** The stack outputs the next run reads. */
export const GUARDS_OUTPUT = "guards";
export const GUARD_FACTS_OUTPUT = "guardFacts";

/** What the program knows of the last deployment. */
export interface LastDeployment {
  identities: LastIdentities;
  /** The guards it recorded (the file's, defaults filled in); undefined before the first run. */
  guards: Guards | undefined;
  /** Its d365-access resources in the guards' terms. */
  applied: AppliedResource[];
}

let handed: { deployment: unknown; refresh: boolean } | undefined;

/**
 * Called by the d365-access CLI with `stack.exportStack().deployment` before it runs the program;
 * `refresh`: the run refreshes first (the preview then describes drift as change, changes.ts).
 */
export function setAppliedDeployment(deployment: unknown, options: { refresh?: boolean } = {}): void {
  handed = { deployment, refresh: options.refresh === true };
}

/** The deployment d365-access handed over, if it did (undefined under the official CLI). */
export function handedDeployment(): { deployment: unknown; refresh: boolean } | undefined {
  return handed;
}

/** The root stack resource's outputs of an exported deployment. */
export function stackOutputs(deployment: unknown): Record<string, unknown> {
  const resources =
    (deployment as { resources?: { type?: string; outputs?: Record<string, unknown> }[] })?.resources ?? [];
  return resources.find((r) => r.type === "pulumi:pulumi:Stack")?.outputs ?? {};
}

/** Everything the next run needs from an exported deployment (pure). */
export function lastOfDeployment(deployment: unknown): LastDeployment {
  return {
    identities: identitiesOfDeployment(deployment),
    guards: guardsOfOutput(stackOutputs(deployment)[GUARDS_OUTPUT]),
    applied: appliedResources(deployment),
  };
}

/** The `guardFacts` output: resource key → grants and settings (written by {@link guardFactsOutput}). */
export function appliedOfOutput(value: unknown): AppliedResource[] {
  if (!value || typeof value !== "object" || Array.isArray(value)) return [];
  const out: AppliedResource[] = [];
  for (const [key, facts] of Object.entries(value as Record<string, unknown>)) {
    const [system, upn, environment] = key.split("|");
    const f = facts as { grants?: unknown; settings?: unknown };
    if (!system || !upn || !Array.isArray(f?.grants) || typeof f.settings !== "string") continue;
    out.push({
      system,
      upn,
      ...(environment ? { environment } : {}),
      grants: f.grants.map(String),
      settings: f.settings,
    });
  }
  return out;
}

/** The `guardFacts` output of the declared resources. */
export function guardFactsOutput(
  declared: AppliedResource[],
): Record<string, { grants: string[]; settings: string }> {
  return Object.fromEntries(
    declared.map((r) => [
      `${r.system}|${r.upn}|${r.environment ?? ""}`,
      { grants: r.grants, settings: r.settings },
    ]),
  );
}

/** The last deployment: the one handed over, else the stack's own outputs. */
export async function lastDeployment(): Promise<LastDeployment> {
  if (handed) return lastOfDeployment(handed.deployment);
  const self = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
  const ref = new pulumi.StackReference(self);
  const read = async (name: string) => {
    const details = await ref.getOutputDetails(name);
    return details.value ?? details.secretValue;
  };
  const [identities, guards, facts, inFlight] = await Promise.all([
    read(IDENTITIES_OUTPUT),
    read(GUARDS_OUTPUT),
    read(GUARD_FACTS_OUTPUT),
    read(IN_FLIGHT_OUTPUT),
  ]);
  return {
    identities: identitiesOfOutput(identities, inFlight),
    guards: guardsOfOutput(guards),
    applied: appliedOfOutput(facts),
  };
}
