/** The blast-radius guard of users.yaml stops preview and up, before any write, through the real engine. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createProject, type E2EProject } from "./harness.ts";

let project: E2EProject;
before(async () => {
  project = await createProject();
});
after(async () => {
  await project?.close();
});

test("removing more users than guards.maxUsersRemoved allows fails in preview and up; nothing changes", async () => {
  const first = await project.cli(["up", "--yes"]);
  assert.equal(first.code, 0, first.output);
  const yaml = project
    .usersYaml()
    .replace(/maxUsersRemoved: \d+/, "maxUsersRemoved: 1")
    .replace(/ {2}- upn: chloe\.martin@contoso\.example\n(?: {4}.*\n)+\n/, "")
    .replace(/ {2}- upn: eva\.nowak@contoso\.example\n(?: {4}.*\n)+\n/, "");
  assert.doesNotMatch(yaml, /chloe|eva\.nowak/);
  project.writeUsersYaml(yaml);
  const chloe = await project.live("chloe.martin@contoso.example");

  for (const operation of [["preview"], ["up", "--yes"]]) {
    const run = await project.cli(operation);
    assert.notEqual(run.code, 0, run.output);
    assert.match(run.output, /guards\.maxUsersRemoved is 1, but this change has 2 users removed/);
    assert.match(run.output, /raise the guard in users\.yaml/);
    assert.doesNotMatch(run.stdout, /dynamic\/\w+:User .*(deleting|deleted)/);
  }
  assert.deepEqual(await project.live("chloe.martin@contoso.example"), chloe, "chloe's access is untouched");

  // Raising the guard in the same change lets it through.
  project.writeUsersYaml(yaml.replace("maxUsersRemoved: 1", "maxUsersRemoved: 2"));
  const up = await project.cli(["up", "--yes"]);
  assert.equal(up.code, 0, up.output);
  assert.match(up.stdout, /- 6 deleted/);
});
