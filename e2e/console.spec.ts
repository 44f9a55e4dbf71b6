import mysql from "mysql2/promise";
import { expect, expectAccessible, signUp, snap, test, uniqueEmail } from "./fixtures";
import type { Page } from "@playwright/test";

// The tenant's path through the console: sign up, create a project, connect through the proxy with what the
// page gave, suspend from the page, wake it by connecting, and see each change without a reload.

/** The values of the copied `mariadb` command: -h host -P port -u user -p'password' database. */
function parseCliCommand(command: string) {
  const m = /^mariadb -h (\S+) -P (\d+) -u (\S+) -p'((?:[^']|'\\'')*)' (\S+)$/.exec(command.trim());
  if (!m) throw new Error(`not a mariadb command with a password: ${command}`);
  return { host: m[1]!, port: Number(m[2]), user: m[3]!, password: m[4]!.replace(/'\\''/g, "'"), database: m[5]! };
}

const badge = (page: Page) => page.getByTestId("compute-state").first();

test("a new user signs up, creates a project, connects, suspends and wakes it, all seen live", async ({ page, browser, baseURL }) => {
  // Landing and sign-up.
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Serverless MariaDB");
  await expectAccessible(page, "landing page");
  await snap(page, "landing");
  await page.getByRole("link", { name: "Sign up" }).first().click();
  await expect(page).toHaveURL(/\/signup$/);
  await expectAccessible(page, "sign-up page");
  await snap(page, "signup");
  const email = uniqueEmail("owner");
  await signUp(page, email, "Acme");
  await expect(page.getByText("No projects yet")).toBeVisible();
  await expectAccessible(page, "empty projects page");
  await snap(page, "projects-empty");

  // New project: the page opens at once and shows progress until the compute runs.
  await page.getByRole("link", { name: "New project" }).first().click();
  await expectAccessible(page, "new project page");
  await page.getByLabel("Name").fill("Shop");
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(page).toHaveURL(/\/projects\/(?!new$)[^/]+$/);
  const projectUrl = page.url();
  await expect(badge(page)).toHaveText("running", { timeout: 60_000 });
  await expect(page.getByTestId("conn-password")).toBeVisible();
  const slug = (await page.getByTestId("project-slug").textContent())!.trim();
  await expect(page.getByTestId("conn-user")).toHaveText(`${slug}.app`);
  await expectAccessible(page, "project page");
  await snap(page, "project");

  // Copy the mariadb command and connect through the proxy with its values.
  await page.getByRole("button", { name: "Copy mariadb CLI snippet" }).click();
  const command = await page.evaluate(() => navigator.clipboard.readText());
  const conn = parseCliCommand(command);
  expect(conn.port).toBe(Number(process.env.E2E_PROXY_PORT));
  expect(conn.user).toBe(`${slug}.app`);
  const first = await mysql.createConnection(conn);
  await first.query("CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)");
  await first.query("INSERT INTO notes VALUES (1, 'written through the proxy')");
  await first.end();

  // Suspend from the page (a confirmation comes only while connections are open).
  await page.getByRole("button", { name: "Suspend", exact: true }).click();
  const confirm = page.getByRole("alertdialog");
  if (await confirm.isVisible().catch(() => false)) await confirm.getByRole("button", { name: "Suspend" }).click();
  await expect(badge(page)).toHaveText("suspended", { timeout: 45_000 });
  await expect(page.getByRole("button", { name: "Resume" })).toBeEnabled();
  await expect(page.getByRole("button", { name: "Suspend", exact: true })).toBeDisabled();

  // Connecting wakes it; the page shows it running without a reload, and says the proxy woke it.
  const second = await mysql.createConnection(conn);
  const [rows] = await second.query("SELECT body FROM notes WHERE id = 1");
  expect(rows).toEqual([{ body: "written through the proxy" }]);
  await second.end();
  await expect(badge(page)).toHaveText("running", { timeout: 15_000 });
  await expect(page.getByTestId("operation-row").filter({ hasText: "Resume compute" }).first()).toBeVisible();
  await expect(page.getByTestId("last-wake")).toContainText(/proxy/i);

  // Settings: the API's validation shows inline; access rules too.
  const settings = page.getByRole("form", { name: "Compute settings" });
  await settings.getByLabel("Suspend timeout (seconds)").fill("999999999");
  await settings.getByRole("button", { name: "Save compute settings" }).click();
  await expect(settings.getByText(/must be 0 \(never\) or between/)).toBeVisible();
  await settings.getByLabel("Suspend timeout (seconds)").fill("600");
  await settings.getByRole("button", { name: "Save compute settings" }).click();
  await expect(page.getByText("Compute settings saved", { exact: true })).toBeVisible();
  const access = page.getByRole("form", { name: "Access rules" });
  await access.getByLabel("Allowed IP ranges").fill("127.0.0.1\n10.0.0.300");
  await access.getByRole("button", { name: "Save access rules" }).click();
  await expect(access.getByText(/Line 2 \(10\.0\.0\.300\)/)).toBeVisible();
  await access.getByLabel("Allowed IP ranges").fill("127.0.0.1\n::1");
  await access.getByRole("button", { name: "Save access rules" }).click();
  await expect(page.getByText("Access rules saved", { exact: true })).toBeVisible();
  await expect(access.getByLabel("Allowed IP ranges")).toHaveValue("127.0.0.1/32\n::1/128");

  // Roles: create one (password shown once), then delete it after confirming.
  const roles = page.getByRole("form", { name: "New role" });
  await roles.getByLabel("New role name").fill("reporting");
  await roles.getByRole("button", { name: "Create role" }).click();
  const shown = page.getByRole("dialog", { name: `Password for ${slug}.reporting` });
  await expect(shown).toBeVisible();
  await shown.getByRole("button", { name: "Done" }).click();
  await page.getByRole("button", { name: "Delete role reporting" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Delete role" }).click();
  await expect(page.getByText("Role reporting deleted", { exact: true })).toBeVisible();

  const projectId = projectUrl.split("/").pop()!;
  const own = await page.request.get(`/api/v1/projects/${projectId}`);
  expect(own.status(), await own.text()).toBe(200);
  const computeId = ((await own.json()) as { project: { compute: { id: string } } }).project.compute.id;

  // A member of another organization gets 404 for this project, on the page and through the API.
  const other = await browser.newContext({ baseURL });
  const stranger = await other.newPage();
  await signUp(stranger, uniqueEmail("stranger"));
  const response = await stranger.goto(projectUrl);
  expect(response?.status()).toBe(404);
  await expect(stranger.getByText("Project not found")).toBeVisible();
  await expect(stranger.getByText(slug)).toHaveCount(0);
  expect((await stranger.request.get(`/api/v1/projects/${projectId}`)).status()).toBe(404);
  const suspendOther = await stranger.request.post(`/api/v1/compute/${computeId}/suspend`, { headers: { origin: baseURL! } });
  expect(suspendOther.status()).toBe(404);
  await other.close();

  // The projects list shows the state; delete the project by typing its name; sign out.
  await page.goto("/projects");
  await expect(page.getByRole("link", { name: "Shop" })).toBeVisible();
  await expect(badge(page)).toHaveText("running");
  await expectAccessible(page, "projects page");
  await snap(page, "projects");
  await page.goto(projectUrl);
  await page.getByRole("button", { name: "Delete project" }).click();
  const del = page.getByRole("alertdialog");
  await expect(del.getByRole("button", { name: "Delete project" })).toBeDisabled();
  await del.getByLabel("Type Shop to confirm").fill("Shop");
  await del.getByRole("button", { name: "Delete project" }).click();
  await expect(page).toHaveURL(/\/projects$/);
  await expect(page.getByText("No projects yet")).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(new RegExp(`^${baseURL}/?$`));
});
