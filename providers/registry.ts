/**
 * The registry of systems: every system d365-access manages, in the order a user's resources are
 * declared (the identity system first). The program, the report, the guards and the CLI loop over
 * this list; adding a system is its two folders (`providers/<system>/`, `sandbox/<system>/`) and
 * a line here.
 */
import { dataverse } from "./dataverse/system.ts";
import { entra } from "./entra/system.ts";
import { fno } from "./fno/system.ts";

/** The systems, identity first. */
export const SYSTEMS = [entra, dataverse, fno] as const;

/** A registered system. */
export type RegisteredSystem = (typeof SYSTEMS)[number];
