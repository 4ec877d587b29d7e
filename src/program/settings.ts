/** The stack's runtime settings as the program needs them, checked against users.yaml. */
import * as pulumi from "@pulumi/pulumi";
import { configureRuntime, type Runtime } from "../../providers/core/runtime.ts";
import { SettingsError, serviceEndpoint } from "../../providers/core/settings.ts";
import { dataverse } from "../../providers/dataverse/service.ts";
import { fno } from "../../providers/fno/service.ts";
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
  const used = new Map<string, Set<"dataverse" | "fno">>();
  for (const user of state.users) {
    for (const a of user.dataverse)
      used.set(a.environment, (used.get(a.environment) ?? new Set()).add("dataverse"));
    for (const a of user.fno) used.set(a.environment, (used.get(a.environment) ?? new Set()).add("fno"));
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
    if (systems.has("dataverse") && !serviceEndpoint(settings, dataverse, name))
      problems.push(`environment "${name}" has no dataverseUrl in stack "${stack}"`);
    if (systems.has("fno") && !serviceEndpoint(settings, fno, name))
      problems.push(`environment "${name}" has no fnoUrl in stack "${stack}"`);
    if (systems.has("dataverse") && !env.values.powerPlatformEnvironmentId) {
      pulumi.log.warn(
        `environment "${name}" has no powerPlatformEnvironmentId: users cannot be synced on demand there`,
      );
    }
  }
  if (problems.length)
    throw new pulumi.RunError(
      `the stack does not match users.yaml; nothing was changed:\n  ${problems.join("\n  ")}`,
    );
  return runtime;
}
