import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decideRetry, parseRetryAfter, RETRYABLE_STATUSES } from "../../providers/core/retry.ts";

const NOW = Date.parse("2026-01-01T00:00:00Z");
const fixed = { now: () => NOW, random: () => 0 };

describe("parseRetryAfter", () => {
  it("reads whole and fractional seconds (Graph sends 2.128)", () => {
    assert.equal(parseRetryAfter("5", NOW), 5000);
    assert.equal(parseRetryAfter("2.128", NOW), 2128);
    assert.equal(parseRetryAfter(" 0 ", NOW), 0);
  });
  it("reads an HTTP date relative to now, a past date as 0", () => {
    assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", NOW), 30_000);
    assert.equal(parseRetryAfter("Wed, 31 Dec 2025 23:59:00 GMT", NOW), 0);
  });
  it("ignores missing, negative and garbage values", () => {
    for (const v of [undefined, null, "", "-3", "soon", "1e3", "12abc"])
      assert.equal(parseRetryAfter(v, NOW), undefined, String(v));
  });
});

describe("decideRetry", () => {
  const base = { retryCount: 0, idempotent: true, waitedMs: 0 };
  it("honours Retry-After on 429", () => {
    assert.deepEqual(decideRetry({ ...base, status: 429, retryAfter: "3" }, fixed), {
      retry: true,
      delayMs: 3000,
      reason: RETRYABLE_STATUSES.get(429)?.reason,
    });
  });
  it("adds bounded jitter to Retry-After", () => {
    const d = decideRetry({ ...base, status: 429, retryAfter: "3" }, { ...fixed, random: () => 0.999 });
    assert.ok(d.retry && d.delayMs > 3000 && d.delayMs <= 3400, JSON.stringify(d));
  });
  it("backs off exponentially with jitter and a cap when there is no Retry-After", () => {
    const delays = [0, 1, 2, 3, 4, 5, 6].map((retryCount) => {
      const d = decideRetry(
        { ...base, retryCount, status: 503 },
        { ...fixed, maxRetries: 10, random: () => 1 },
      );
      return d.retry ? d.delayMs : -1;
    });
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    const low = decideRetry({ ...base, retryCount: 3, status: 503 }, { ...fixed, random: () => 0 });
    assert.ok(low.retry && low.delayMs === 4000);
  });
  it("does not retry client errors or 500", () => {
    for (const status of [400, 401, 403, 404, 409, 500])
      assert.equal(decideRetry({ ...base, status }, fixed).retry, false);
  });
  it("never replays a create after an ambiguous failure, but does after 429/503 or a refused connection", () => {
    const post = { ...base, idempotent: false };
    assert.equal(decideRetry({ ...post, status: 504 }, fixed).retry, false);
    assert.equal(decideRetry({ ...post, networkCode: "ECONNRESET" }, fixed).retry, false);
    assert.equal(decideRetry({ ...post, status: 429 }, fixed).retry, true);
    assert.equal(decideRetry({ ...post, status: 503 }, fixed).retry, true);
    assert.equal(decideRetry({ ...post, networkCode: "ECONNREFUSED" }, fixed).retry, true);
    assert.equal(decideRetry({ ...base, networkCode: "ECONNRESET" }, fixed).retry, true);
  });
  it("stops after maxRetries and when the total wait budget would be exceeded", () => {
    assert.equal(decideRetry({ ...base, retryCount: 6, status: 429 }, fixed).retry, false);
    const over = decideRetry(
      { ...base, status: 429, retryAfter: "200", waitedMs: 120_000 },
      { ...fixed, maxTotalWaitMs: 300_000 },
    );
    assert.equal(over.retry, false);
    assert.match(over.reason, /budget/);
  });
});
