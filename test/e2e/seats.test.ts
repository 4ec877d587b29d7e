/** Issue 7, 5e: not enough license seats — the run stops before any write, naming the SKU. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createProject, type E2EProject, type LiveUser } from "./harness.ts";

let project: E2EProject;
before(async () => {
  project = await createProject();
});
after(async () => {
  await project?.close();
});

test("5e: a change needing more DYN365_FINANCE seats than are free fails before any partial grant", async () => {
  // Six new hires with a Finance license each: the tenant has 5 seats free (lived-in: held + 5).
  const hires = Array.from({ length: 6 }, (_, i) => `hire${i + 1}@contoso.example`);
  const entries = hires
    .map(
      (upn, i) =>
        `  - upn: ${upn}\n    displayName: New Hire ${i + 1}\n    manage: create\n    personas: [ap_clerk]\n`,
    )
    .join("\n");
  project.writeUsersYaml(project.usersYaml().replace("\nrules:\n", `\n${entries}\nrules:\n`));
  const watched = [
    "adele.vance@contoso.example",
    "chloe.martin@contoso.example",
    "eva.nowak@contoso.example",
  ];
  const before = new Map<string, LiveUser>();
  for (const upn of watched) before.set(upn, await project.live(upn));

  for (const operation of [["preview"], ["up", "--yes"]]) {
    const run = await project.cli(operation);
    assert.notEqual(run.code, 0, `${operation[0]} should fail:\n${run.output}`);
    assert.match(run.output, /not enough DYN365_FINANCE licenses: \d+ seat\(s\) needed, \d+ free of \d+/);
    assert.match(run.output, /nothing was changed/);
    assert.doesNotMatch(run.stdout, /dynamic\/\w+:User .*(creating|created|updating|updated)/);
  }
  // Nothing was written anywhere: no new user, no license or role change on existing ones.
  for (const upn of hires) assert.equal((await project.live(upn)).entra, undefined, `${upn} was created`);
  for (const upn of watched) assert.deepEqual(await project.live(upn), before.get(upn), `${upn} changed`);
});
