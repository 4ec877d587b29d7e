/**
 * The checkpoint switch (issue 15 item 1): a run expecting many resource changes writes the
 * state once, at the end; a small one keeps the engine's checkpoint after every step. Pure: the
 * decision, the environment variable that moves the threshold, and its errors.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  checkpointChoice,
  DEFAULT_SKIP_CHECKPOINTS_ABOVE,
  SKIP_CHECKPOINTS_ABOVE_ENV,
} from "../../src/engine/stack.ts";

test("runs from the threshold on skip checkpoints, smaller ones keep them", () => {
  assert.equal(checkpointChoice(DEFAULT_SKIP_CHECKPOINTS_ABOVE - 1, false, {}).skip, false);
  const large = checkpointChoice(2901, false, {});
  assert.equal(large.skip, true);
  assert.match(
    large.note ?? "",
    /^2901 resource changes expected \(D365_ACCESS_SKIP_CHECKPOINTS_ABOVE=200\)/,
  );
  // --skip-checkpoints forces it for any size.
  assert.equal(checkpointChoice(1, true, {}).skip, true);
});

test("the threshold moves with D365_ACCESS_SKIP_CHECKPOINTS_ABOVE, and `never` turns the switch off", () => {
  assert.equal(checkpointChoice(50, false, { [SKIP_CHECKPOINTS_ABOVE_ENV]: "50" }).skip, true);
  assert.equal(checkpointChoice(49, false, { [SKIP_CHECKPOINTS_ABOVE_ENV]: "50" }).skip, false);
  assert.equal(checkpointChoice(100_000, false, { [SKIP_CHECKPOINTS_ABOVE_ENV]: "never" }).skip, false);
  assert.throws(
    () => checkpointChoice(10, false, { [SKIP_CHECKPOINTS_ABOVE_ENV]: "lots" }),
    /D365_ACCESS_SKIP_CHECKPOINTS_ABOVE must be a positive integer or "never", got "lots"/,
  );
});
