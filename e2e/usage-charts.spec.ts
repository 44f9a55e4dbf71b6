import fs from "node:fs";
import mysql from "mysql2/promise";
import { expect, expectAccessible, signUp, snap, test, uniqueEmail } from "./fixtures";
import type { Locator, Page } from "@playwright/test";

// Real usage makes the charts: a project whose compute runs, is suspended from the page and woken cold by
// a client through the proxy, then pauses when idle and is woken warm; then the project's usage panel and the billing page draw it, and the usage
// downloads as CSV.

const badge = (page: Page) => page.getByTestId("compute-state").first();
/** The bars (or the points) recharts drew inside a chart's figure. */
const bars = (chart: Locator) => chart.locator(".recharts-bar-rectangle path, path.recharts-rectangle");
const points = (chart: Locator) => chart.locator(".recharts-line-dots circle, circle.recharts-dot");

test("the usage panel and the billing page chart real usage, and the usage downloads as CSV", async ({ page }) => {
  await signUp(page, uniqueEmail("charts"), "Charts Inc");
  await page.getByRole("link", { name: "New project" }).first().click();
  await page.getByLabel("Name").fill("Orders");
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(badge(page)).toHaveText("running", { timeout: 60_000 });
  const password = (await page.getByTestId("conn-password").textContent())!.trim();
  const user = (await page.getByTestId("conn-user").textContent())!.trim();
  const conn = { host: "127.0.0.1", port: Number(process.env.E2E_PROXY_PORT), user, password, database: "main" };

  // Use it, suspend it from the page, and wake it by connecting through the proxy (a cold wake).
  const first = await mysql.createConnection(conn);
  await first.query("CREATE TABLE orders (id INT PRIMARY KEY)");
  await first.end();
  await page.getByRole("button", { name: "Suspend", exact: true }).click();
  const confirm = page.getByRole("alertdialog");
  if (await confirm.isVisible().catch(() => false)) await confirm.getByRole("button", { name: "Suspend" }).click();
  await expect(badge(page)).toHaveText("suspended", { timeout: 45_000 });
  const second = await mysql.createConnection(conn);
  await second.query("INSERT INTO orders VALUES (1)");
  await second.end();
  await expect(badge(page)).toHaveText("running", { timeout: 15_000 });

  // Let it pause when idle (a 1 s timeout, as the settings allow here) and wake it warm by connecting.
  const settings = page.getByRole("form", { name: "Compute settings" });
  await settings.getByLabel("Suspend timeout (seconds)").fill("1");
  await settings.getByRole("button", { name: "Save compute settings" }).click();
  await expect(badge(page)).toHaveText("paused", { timeout: 30_000 });
  const third = await mysql.createConnection(conn);
  await third.query("SELECT COUNT(*) FROM orders");
  await third.end();

  // The usage panel: time by state and wakes per day are drawn, the cold wake's latency is in the table.
  const panel = page.getByRole("region", { name: "Usage, last 30 days" });
  await page.reload();
  const cold = panel.getByTestId("latency-cold").locator("td");
  await expect(cold.nth(0)).toHaveText("1", { timeout: 30_000 }); // wakes
  await expect(cold.nth(1)).toHaveText(/^\d+(\.\d+)? (ms|s)$/); // p50
  await expect(cold.nth(2)).toHaveText(/^\d+(\.\d+)? (ms|s)$/); // p90
  const warm = panel.getByTestId("latency-warm").locator("td");
  await expect(warm.nth(0)).toHaveText("1");
  await expect(warm.nth(1)).toHaveText(/^\d+(\.\d+)? (ms|s)$/);
  const states = panel.getByTestId("chart-compute-states");
  await expect(bars(states).first()).toBeVisible();
  expect(await bars(states).count()).toBeGreaterThanOrEqual(3); // running, paused and suspended today
  await expect(states).toContainText(/running \d/);
  await expect(bars(panel.getByTestId("chart-compute-wakes")).first()).toBeVisible();
  await expect(panel.getByTestId("chart-compute-wakes")).toContainText(/2 wakes in 30 days: 1 warm, 1 cold/);
  await expect(panel.getByTestId("usage-suspending")).toHaveText(/^(< )?\$\d+\.\d\d$/); // under a cent while it is young
  // The data behind a chart, as a table a screen reader reads.
  await states.getByText("Show the data").click();
  await expect(states.getByRole("table")).toContainText("Running");
  await expectAccessible(page, "project page with its usage panel");
  await panel.scrollIntoViewIfNeeded();
  await snap(page, "project-usage");

  // The billing page: compute hours stacked by project, storage over time, spend against the allowance.
  await page.goto("/billing");
  const hours = page.getByTestId("chart-compute-hours");
  await expect(bars(hours).first()).toBeVisible({ timeout: 30_000 });
  await expect(hours).toContainText(/across 1 project; the most in Orders/);
  const spend = page.getByTestId("chart-spend");
  await expect(points(spend).first()).toBeVisible();
  await expect(spend).toContainText(/of 100 included CU-hours used/);
  await expect(page.getByTestId("allowance-table")).toContainText("Compute");
  // Storage is sampled once an hour by the scheduler's tick: the first sample of this compute shows.
  const storage = page.getByTestId("chart-storage");
  await expect(async () => {
    await page.reload();
    await expect(points(page.getByTestId("chart-storage")).first()).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 45_000 });
  await expect(storage).toContainText(/MiB|KiB|GiB/);
  await hours.getByText("Show the data").click();
  await expect(hours.getByRole("columnheader", { name: "Orders" })).toBeVisible();
  await expectAccessible(page, "billing page with charts");
  await snap(page, "billing-charts");

  // The CSV: a download that parses, one row per UTC day, the compute's use in it.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download CSV" }).click()]);
  expect(download.suggestedFilename()).toMatch(/^usage-organization-.*\.csv$/);
  const text = fs.readFileSync((await download.path())!, "utf8");
  const [header, ...lines] = text.trim().split("\r\n");
  expect(header).toBe("start,computeSeconds,cuSeconds,cuHours,storageBytes,bytesIn,bytesOut");
  const rows = lines.map((line) => {
    const [start, computeSeconds, cuSeconds, cuHours, storageBytes, bytesIn, bytesOut] = line.split(",");
    return { start: new Date(start!), computeSeconds: Number(computeSeconds), cuSeconds: Number(cuSeconds), cuHours: Number(cuHours), storageBytes, bytesIn: Number(bytesIn), bytesOut: Number(bytesOut) };
  });
  expect(rows).toHaveLength(30);
  expect(rows.every((r) => r.start.getUTCHours() === 0 && Number.isFinite(r.cuSeconds))).toBe(true);
  const today = rows.at(-1)!;
  expect(today.start.toISOString().slice(0, 10)).toBe(new Date().toISOString().slice(0, 10));
  expect(today.computeSeconds).toBeGreaterThan(0);
  expect(today.cuHours).toBeCloseTo(today.cuSeconds / 3600, 5);
  expect(today.bytesIn + today.bytesOut).toBeGreaterThan(0);
});
