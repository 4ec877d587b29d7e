/**
 * The Power Platform admin API's rules: its token audiences, which apps may call it (registered
 * management applications), and how environments are found.
 */
import type { PowerPlatformEnvironment, PowerPlatformState } from "./state.ts";

/** Token audiences of the Power Platform admin API. */
export const POWER_PLATFORM_AUDIENCES = ["https://service.powerapps.com/", "https://service.powerapps.com"];

export const PROVIDER = "/providers/Microsoft.BusinessAppPlatform";

export function findEnvironment(state: PowerPlatformState, id: string): PowerPlatformEnvironment | undefined {
  return state.environments.find((e) => e.id.toLowerCase() === id.toLowerCase());
}

/** Whether `appId` is registered as a management application (`adminApplications`). */
export function isManagementApplication(state: PowerPlatformState, appId: string): boolean {
  return state.managementApplications.some((a) => a.applicationId.toLowerCase() === appId.toLowerCase());
}
