/**
 * Issue 7, 5f: Dataverse syncs a licensed Entra user only after a delay (15 s here); `up` waits
 * for it, or forces the sync through the Power Platform admin API, and succeeds.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertSandboxMatches } from "./expect.ts";
import { createProject, type E2EProject } from "./harness.ts";

let project: E2EProject;
before(async () => {
  project = await createProject({ faults: { syncDelaySeconds: 15 } });
});
after(async () => {
  await project?.close();
});

test("5f: with a 15 s Dataverse sync delay, up still brings every user into Dataverse", async () => {
  // The new hire is unknown to Dataverse until the sync picks up its license.
  const upn = "nestor.wilke@contoso.example";
  assert.equal((await project.live(upn)).entra, undefined);
  const started = Date.now();
  const up = await project.cli(["up", "--yes"]);
  const seconds = (Date.now() - started) / 1000;
  assert.equal(up.code, 0, up.output);
  console.log(`5f: up with a 15 s sync delay took ${seconds.toFixed(1)} s`);
  await assertSandboxMatches(project);
  const live = await project.live(upn);
  assert.ok(live.dataverse, "the new user is in Dataverse");
  assert.ok(live.dataverse.roles.includes("Basic User"));
});
