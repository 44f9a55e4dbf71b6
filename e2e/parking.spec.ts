import { expect, expectAccessible, signUp, snap, test, uniqueEmail } from "./fixtures";
import { reportSessions } from "./support/run-reporter";

// Parking idle sessions in the console (issue 14): the compute settings' "Park idle sessions" and "Park
// after", with validation, saved through the API; and the compute panel's sessions line, from sessions a
// reporter writes to the product's PostgreSQL the way a proxy process does (e2e/support/report-sessions.ts).

test("compute settings park idle sessions, and the compute panel says which sessions are parked and pinned", async ({ page }) => {
  await signUp(page, uniqueEmail("parking"));
  await page.getByRole("link", { name: "New project" }).first().click();
  await page.getByLabel("Name").fill("Pools");
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(page).toHaveURL(/\/projects\/(?!new$)[^/]+$/);
  const projectId = page.url().split("/").pop()!;
  await expect(page.getByTestId("compute-state").first()).toHaveText("running", { timeout: 60_000 });
  const slug = (await page.getByTestId("project-slug").textContent())!.trim();

  // Defaults: parking on, after the suspend timeout (the field is empty, the timeout its placeholder).
  const settings = page.getByRole("form", { name: "Compute settings" });
  const parkSwitch = settings.getByRole("switch", { name: "Park idle sessions" });
  const parkAfter = settings.getByLabel("Park after (seconds)");
  await expect(parkSwitch).toHaveAttribute("aria-checked", "true");
  await expect(parkAfter).toHaveValue("");
  await expect(page.getByText(/park idle sessions after 5 min/)).toBeVisible();

  // A bad value is refused next to the field; a good one is saved through the API.
  await parkAfter.fill("0");
  await settings.getByRole("button", { name: "Save compute settings" }).click();
  await expect(settings.getByText(/must be a whole number of seconds between 1 and 86400, or null/)).toBeVisible();
  await expect(parkAfter).toHaveAttribute("aria-invalid", "true");
  await parkAfter.fill("120");
  await settings.getByRole("button", { name: "Save compute settings" }).click();
  await expect(page.getByText("Compute settings saved", { exact: true })).toBeVisible();
  await expect(page.getByText(/park idle sessions after 2 min/)).toBeVisible();
  let compute = ((await (await page.request.get(`/api/v1/projects/${projectId}`)).json()) as { project: { compute: Record<string, unknown> } }).project.compute;
  expect(compute).toMatchObject({ parkIdleSessions: true, parkAfterSeconds: 120 });

  // Turned off: saved, and still off after a reload.
  await parkSwitch.click();
  await expect(parkSwitch).toHaveAttribute("aria-checked", "false");
  await settings.getByRole("button", { name: "Save compute settings" }).click();
  await expect(page.getByText(/idle sessions not parked/)).toBeVisible();
  await page.reload();
  await expect(page.getByRole("switch", { name: "Park idle sessions" })).toHaveAttribute("aria-checked", "false");
  await expect(page.getByLabel("Park after (seconds)")).toHaveValue("120");
  compute = ((await (await page.request.get(`/api/v1/projects/${projectId}`)).json()) as { project: { compute: Record<string, unknown> } }).project.compute;
  expect(compute).toMatchObject({ parkIdleSessions: false, parkAfterSeconds: 120 });

  // Sessions as a proxy reports them: shown live, in words.
  expect(compute.sessions).toEqual({ active: 0, parked: 0, pinned: 0, pins: [] });
  await expect(page.getByTestId("compute-sessions")).toHaveCount(0);
  const stop = await reportSessions(slug);
  try {
    await expect(page.getByTestId("compute-sessions")).toHaveText("3 sessions parked, 1 pinned: open transaction, idle 2 h.");
    await expect(page.getByText("1 pinned session keeps it running.")).toBeVisible();
    await expect(page.getByTestId("active-connections")).toHaveText("1");
    // Suspending closes the pinned session's connection; the parked ones hold none and stay.
    await page.getByRole("button", { name: "Suspend", exact: true }).click();
    const confirm = page.getByRole("alertdialog");
    await expect(confirm).toContainText("1 open connection will be closed. 3 parked sessions stay connected.");
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await expectAccessible(page, "project page with parked sessions");
    await snap(page, "project-parking");
  } finally {
    await stop();
  }
  // The reporter stopped (as a proxy does): its sessions are gone from the page.
  await expect(page.getByTestId("compute-sessions")).toHaveCount(0);
});
