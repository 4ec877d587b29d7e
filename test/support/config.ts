/**
 * Stack config for a test sandbox, as the `sandbox` stack has it: everything from the sandbox's
 * endpoints.json through `d365-access:endpointsFile` (providers/core/settings.ts), with the
 * app's credentials overridden when a test signs in as another app (explicit keys win).
 */
import path from "node:path";
import { loadSettings, type Settings } from "../../providers/core/settings.ts";

/** A config source the providers' `configure` and `configureRuntime` accept. */
export interface TestConfig {
  get(key: string): string | undefined;
  require(key: string): string;
}

/** Config for the sandbox whose state (and endpoints.json) is in `stateDir`. */
export function sandboxConfig(
  stateDir: string,
  app?: { clientId: string; clientSecret: string },
): TestConfig {
  const values: Record<string, string> = {
    "d365-access:endpointsFile": path.join(stateDir, "endpoints.json"),
    ...(app ? { "d365-access:clientId": app.clientId, "d365-access:clientSecret": app.clientSecret } : {}),
  };
  return {
    get: (key) => values[key],
    require(key) {
      const value = values[key];
      if (value === undefined) throw new Error(`missing config ${key}`);
      return value;
    },
  };
}

/** Settings loaded from plain config values (tenant `t` unless given), without the environment's AZURE_* variables. */
export function settingsOf(values: Record<string, string> = {}): Settings {
  const all: Record<string, string> = { "d365-access:tenantId": "t", ...values };
  return loadSettings({ get: (key) => all[key] }, {});
}
