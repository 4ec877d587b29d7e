/**
 * The blast-radius guard through the real engine, on the lived-in tenant (issue 12 item 4): on
 * by default, in preview, up and destroy, before any write (the sandbox's journal shows none);
 * let through for one run by the flag or the variable; and never raised by the change it checks.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { createProject, type E2EProject, steps } from "./harness.ts";

let project: E2EProject;
let demo = "";
before(async () => {
  project = await createProject({ seed: "lived-in" });
  demo = project.usersYaml();
});
after(async () => {
  await project?.close();
});

/** users.yaml without its `guards` block: the defaults apply. */
const withoutGuards = (yaml: string) => yaml.replace(/\nguards:\n(?: {2}.*\n)+/, "\n");
/** users.yaml with no user at all. */
const emptied = (yaml: string) => yaml.replace(/\nusers:\n[\s\S]*?\n(?=rules:)/, "\nusers: []\n\n");
/** users.yaml without the given users. */
const without = (yaml: string, ...names: string[]) =>
  names.reduce(
    (y, n) => y.replace(new RegExp(` {2}- upn: ${n}@contoso\\.example\\n(?: {4}.*\\n)+\\n`), ""),
    yaml,
  );

function writes(): unknown[] {
  return project.sandbox.sandbox.journal.entries({ writesOnly: true });
}

test("an emptied users.yaml is refused by default in preview, up and destroy; the override lets it through", async () => {
  project.writeUsersYaml(withoutGuards(demo));
  assert.doesNotMatch(project.usersYaml(), /guards:/);
  const first = await project.cli(["up", "--yes"]);
  assert.equal(first.code, 0, first.output);

  // A file that lost everything but its comments is an error, not "nobody".
  project.writeUsersYaml("# yaml-language-server: $schema=./schemas/users.schema.json\n# (emptied)\n");
  project.sandbox.sandbox.journal.clear();
  const blank = await project.cli(["preview"]);
  assert.notEqual(blank.code, 0, blank.output);
  assert.match(blank.output, /users\.yaml:1:1: the file is empty/);

  const yaml = emptied(withoutGuards(demo));
  assert.match(yaml, /\nusers: \[\]\n/);
  project.writeUsersYaml(yaml);
  for (const operation of [["preview"], ["up", "--yes"], ["destroy", "--yes"]]) {
    const run = await project.cli(operation);
    assert.notEqual(run.code, 0, run.output);
    assert.match(
      run.output,
      /guards\.maxUsersRemoved is 5 \((?:the default|set by the last deployment)\), but this change has 6 users removed/,
      `${operation[0]}: ${run.output}`,
    );
    assert.match(run.output, /removes 6 user\(s\) \(adele\.vance@contoso\.example/);
    assert.match(run.output, /--override-guards/);
    assert.match(run.output, /D365_ACCESS_OVERRIDE_GUARDS=1/);
    assert.doesNotMatch(run.stdout, /dynamic\/\w+:User .*(deleting|deleted)/);
  }
  assert.deepEqual(writes(), [], "nothing was written");

  // The flag lets a preview through and says so; the variable (CI) lets one up through.
  const preview = await project.cli(["preview", "--override-guards"]);
  assert.equal(preview.code, 0, preview.output);
  assert.match(preview.output, /guards overridden for this run/);
  assert.ok(steps(preview.stdout).includes("delete entra:adele.vance@contoso.example"), preview.stdout);
  assert.deepEqual(writes(), [], "a preview writes nothing");
  const up = await project.cli(["up", "--yes"], { D365_ACCESS_OVERRIDE_GUARDS: "1" });
  assert.equal(up.code, 0, up.output);
  assert.match(up.stdout, /deleted/);
  const chloe = (await project.live("chloe.martin@contoso.example")).fno;
  assert.equal(chloe?.enabled, false, "an adopted user removed is disabled in F&O");
  assert.ok(!chloe?.roles.includes("VENDINVOICEACCOUNTSPAYABLECLERK"), "and loses the roles users.yaml gave");
});

test("a change cannot raise the guard it is checked against; raised on its own first, it applies next time", async () => {
  project.writeUsersYaml(demo.replace(/maxUsersRemoved: \d+/, "maxUsersRemoved: 1"));
  const restore = await project.cli(["up", "--yes"]);
  assert.equal(restore.code, 0, restore.output);

  // Removing two users and raising the guard to 2 in the same change: the deployed 1 holds.
  const two = without(demo, "chloe.martin", "eva.nowak");
  assert.doesNotMatch(two, /chloe|eva\.nowak/);
  project.writeUsersYaml(two.replace(/maxUsersRemoved: \d+/, "maxUsersRemoved: 2"));
  const chloe = await project.live("chloe.martin@contoso.example");
  project.sandbox.sandbox.journal.clear();
  for (const operation of [["preview"], ["up", "--yes"]]) {
    const run = await project.cli(operation);
    assert.notEqual(run.code, 0, run.output);
    assert.match(
      run.output,
      /guards\.maxUsersRemoved is 1 \(set by the last deployment\), but this change has 2 users removed/,
    );
    assert.match(run.output, /raise the guard in users\.yaml in a pull request of its own/);
  }
  assert.deepEqual(writes(), [], "nothing was written");
  assert.deepEqual(await project.live("chloe.martin@contoso.example"), chloe, "chloe's access is untouched");

  // Raised alone (nobody removed), then the removal passes.
  project.writeUsersYaml(demo.replace(/maxUsersRemoved: \d+/, "maxUsersRemoved: 2"));
  const raise = await project.cli(["up", "--yes"]);
  assert.equal(raise.code, 0, raise.output);
  project.writeUsersYaml(two.replace(/maxUsersRemoved: \d+/, "maxUsersRemoved: 2"));
  const up = await project.cli(["up", "--yes"]);
  assert.equal(up.code, 0, up.output);
  assert.match(up.stdout, /- \d+ deleted/);
});

test("as under the official CLI, with no deployment handed over, the guards come from the stack's own outputs", async () => {
  // A program module without `setAppliedDeployment`: d365-access then hands nothing over, as
  // the official CLI's language host does not, and the program reads its StackReference.
  writeFileSync(
    path.join(project.dir, "self-reference.ts"),
    'export { program } from "./src/program/index.ts";\n',
  );
  project.writeUsersYaml(emptied(demo));
  project.sandbox.sandbox.journal.clear();
  const refused = await project.cli(["preview", "--program", "self-reference.ts"]);
  assert.notEqual(refused.code, 0, refused.output);
  // The last deployment recorded maxUsersRemoved: 2; users.yaml says 3: the stricter holds.
  assert.match(
    refused.output,
    /guards\.maxUsersRemoved is 2 \(set by the last deployment\), but this change has 4 users removed/,
  );
  assert.deepEqual(writes(), [], "nothing was written");
  const through = await project.cli(["preview", "--program", "self-reference.ts", "--override-guards"]);
  assert.equal(through.code, 0, through.output);
  assert.match(through.output, /guards overridden for this run/);
});
