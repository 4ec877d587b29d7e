/** The stack's runtime settings as the program needs them, checked against users.yaml. */
import * as pulumi from "@pulumi/pulumi";
import { configureRuntime, type Runtime } from "../../providers/core/runtime.ts";
import { SettingsError, serviceEndpoint } from "../../providers/core/settings.ts";
import { type RegisteredSystem, SYSTEMS } from "../../providers/registry.ts";
import type { DesiredState } from "../model/index.ts";

/**
 * Configures this process's runtime (settings, credential, clients) from the stack config and
 * checks that every environment users.yaml uses is mapped by the stack, with the systems it
 * needs. Stops the program (before any resource) otherwise.
 */
export function stackRuntime(config: pulumi.Config, state: DesiredState, stack: string): Runtime {
  let runtime: Runtime;
  try {
    runtime = configureRuntime({ get: (key) => config.get(key.replace(/^d365-access:/, "")) });
  } catch (err) {
    if (err instanceof SettingsError) throw new pulumi.RunError(`stack "${stack}": ${err.message}`);
    throw err;
  }
  const settings = runtime.settings;
  const problems: string[] = [];
  const used = new Map<string, Set<RegisteredSystem>>();
  for (const user of state.users) {
    for (const system of SYSTEMS) {
      for (const environment of system.environments(user))
        used.set(environment, (used.get(environment) ?? new Set()).add(system));
    }
  }
  for (const [name, systems] of [...used].sort(([a], [b]) => a.localeCompare(b))) {
    const env = settings.environments.find((e) => e.name === name);
    if (!env) {
      const known = settings.environments.map((e) => e.name).join(", ") || "none";
      problems.push(
        `users.yaml uses environment "${name}", which stack "${stack}" does not map (mapped: ${known})`,
      );
      continue;
    }
    for (const system of systems) {
      for (const service of system.services) {
        if (service.endpoint.kind === "environment" && !serviceEndpoint(settings, service, name))
          problems.push(`environment "${name}" has no ${service.endpoint.urlKey} in stack "${stack}"`);
      }
    }
    for (const system of systems) {
      for (const warning of system.environmentWarnings?.(env) ?? [])
        pulumi.log.warn(`environment "${name}" ${warning}`);
    }
  }
  if (problems.length)
    throw new pulumi.RunError(
      `the stack does not match users.yaml; nothing was changed:\n  ${problems.join("\n  ")}`,
    );
  return runtime;
}
