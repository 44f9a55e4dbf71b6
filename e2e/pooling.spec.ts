import { expect, expectAccessible, signUp, snap, test, uniqueEmail } from "./fixtures";
import { reportSessions } from "./support/run-reporter";

// Connection pooling in the console (issue 15): the compute settings' "Pool connections" switch, saved
// through the API and read back after a reload; and the compute panel's pool lines, from a pool that a real
// ActivityReporter writes to the product's PostgreSQL the way a proxy process does (e2e/support/report-sessions.ts).

type ComputeJson = { poolConnections: boolean; pooling: Record<string, unknown> };

test("compute settings turn connection pooling off and on, and the compute panel shows the pool and its queue", async ({ page }) => {
  await signUp(page, uniqueEmail("pooling"));
  await page.getByRole("link", { name: "New project" }).first().click();
  await page.getByLabel("Name").fill("Pooled");
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(page).toHaveURL(/\/projects\/(?!new$)[^/]+$/);
  const projectId = page.url().split("/").pop()!;
  await expect(page.getByTestId("compute-state").first()).toHaveText("running", { timeout: 60_000 });
  const slug = (await page.getByTestId("project-slug").textContent())!.trim();
  const compute = async () => ((await (await page.request.get(`/api/v1/projects/${projectId}`)).json()) as { project: { compute: ComputeJson } }).project.compute;

  // On by default, with its explanation beside the switch.
  const settings = page.getByRole("form", { name: "Compute settings" });
  const poolSwitch = settings.getByRole("switch", { name: "Pool connections" });
  await expect(poolSwitch).toHaveAttribute("aria-checked", "true");
  await expect(poolSwitch).toHaveAccessibleDescription(/Turn off for applications that rely on per-connection state the proxy cannot follow/);
  await expect(page.getByTestId("compute-pooling")).toHaveText("Connection pooling on: no client sessions.");

  // Off: saved, said in the panel, and still off after a reload.
  await poolSwitch.click();
  await expect(poolSwitch).toHaveAttribute("aria-checked", "false");
  await settings.getByRole("button", { name: "Save compute settings" }).click();
  await expect(page.getByText("Compute settings saved", { exact: true })).toBeVisible();
  await expect(page.getByTestId("compute-pooling")).toHaveText("Connection pooling off: each client session holds its own server connection.");
  await page.reload();
  await expect(page.getByRole("switch", { name: "Pool connections" })).toHaveAttribute("aria-checked", "false");
  expect(await compute()).toMatchObject({ poolConnections: false, pooling: { enabled: false } });

  // On again.
  await page.getByRole("switch", { name: "Pool connections" }).click();
  await page.getByRole("form", { name: "Compute settings" }).getByRole("button", { name: "Save compute settings" }).click();
  await expect(page.getByTestId("compute-pooling")).toHaveText("Connection pooling on: no client sessions.");
  expect(await compute()).toMatchObject({ poolConnections: true, pooling: { enabled: true } });

  // A proxy's pool, shown live: 4 client sessions (3 parked), 1 server connection in use and 2 idle of 120,
  // 2 clients waiting, 40 waits ended in 1 s in all, 1 timed out.
  const stop = await reportSessions(slug, { pool: true });
  try {
    await expect(page.getByTestId("compute-pooling")).toHaveText("4 client sessions; server connections: 1 in use, 2 idle of 120.");
    await expect(page.getByTestId("compute-pool-queue")).toHaveText(
      "2 clients wait for a server connection (longest 1.5 s); average wait 25 ms, 1 wait timed out.",
    );
    expect((await compute()).pooling).toEqual({
      enabled: true,
      clientSessions: 4,
      serverConnections: { inUse: 1, idle: 2, limit: 120 },
      queue: { waiting: 2, longestWaitMs: 1500, averageWaitMs: 25, timeouts: 1 },
    });
    await expectAccessible(page, "project page with a connection pool");
    await snap(page, "project-pooling");
  } finally {
    await stop();
  }
  // The reporter stopped (as a proxy does): its pool is gone from the page.
  await expect(page.getByTestId("compute-pool-queue")).toHaveCount(0);
  await expect(page.getByTestId("compute-pooling")).toHaveText("Connection pooling on: no client sessions.");
});
