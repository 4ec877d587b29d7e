/**
 * The package entry `d365-access/components` (package.json `exports`): the building blocks of
 * the project's Pulumi program, for a program of your own. The package's `.` entry stays the
 * program itself (src/program/main.ts): the official CLI's Node.js language host runs
 * `exports["."]` when package.json has `exports` (pulumi/pulumi `sdk/nodejs/cmd/run/run.ts`). `UserAccess` declares one person's Dataverse and F&O access
 * (and Entra licenses) by Entra object id, so a program that creates the person with
 * `@pulumi/azuread` chains `user.objectId` into it; `program` is the whole users.yaml program.
 * Your stack needs the same `d365-access:*` config as ours (stacks/Pulumi.example.yaml).
 */
export {
  type AccessContext,
  type AccessUser,
  accessUser,
  declareUserAccess,
  UserAccess,
  type UserAccessArgs,
} from "./program/access.ts";
export { declareUsers, program, userResourceName } from "./program/index.ts";
