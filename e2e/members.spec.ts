import type { APIRequestContext, Page } from "@playwright/test";
import { expect, expectAccessible, PASSWORD, runTool, signUp, snap, test, uniqueEmail } from "./fixtures";

// Organizations and members through the console: invite (the link shown once), accept as a new user, a
// viewer who sees but cannot change (no button, and the API's 403), switching organizations, changing a
// role, removing a member (their API key stops working), the last owner kept, refused invitation links,
// the audit log, billing, and passwords (change, and the operator's reset link).

/** A change made with the page's session cookie, as the console's own pages send it (same Origin). */
const asPage = (page: Page, baseURL: string) => ({
  post: (url: string, data?: unknown) => page.request.post(url, { data: data ?? {}, headers: { origin: baseURL } }),
});

async function invite(page: Page, email: string, role: string): Promise<string> {
  const form = page.getByRole("form", { name: "Invite a member" });
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Role").selectOption(role);
  await form.getByRole("button", { name: "Create invitation" }).click();
  const link = page.getByTestId("invitation-link");
  await expect(link).toContainText("/invite?token=");
  const url = (await link.textContent())!.trim();
  await page.getByTestId("invitation-link-panel").getByRole("button", { name: "Done" }).click();
  return url;
}

async function switchTo(page: Page, organization: string): Promise<void> {
  await page.getByTestId("org-switcher").click();
  await page.getByRole("menuitemradio", { name: new RegExp(organization) }).click();
  await expect(page.getByTestId("org-switcher")).toContainText(organization);
}

async function bearer(request: APIRequestContext, key: string, url: string) {
  return request.get(url, { headers: { authorization: `Bearer ${key}` } });
}

test("invite a viewer who signs up from the link, sees but cannot change, switches organizations; role change, removal, audit log", async ({ page, browser, baseURL }) => {
  // The owner: an organization with a project and a running compute.
  const ownerEmail = uniqueEmail("owner");
  await signUp(page, ownerEmail, "Acme");
  const owner = asPage(page, baseURL!);
  const project = (await (await owner.post("/api/v1/projects", { name: "Shop" })).json()).project;
  const created = await owner.post(`/api/v1/projects/${project.id}/compute`);
  expect(created.status()).toBe(201);
  const computeId = (await created.json()).compute.id;

  // Members page: invite a viewer; the link is shown once with Copy.
  await page.getByRole("link", { name: "Members", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Members", level: 1 })).toBeVisible();
  const viewerEmail = uniqueEmail("viewer");
  const link = await invite(page, viewerEmail, "viewer");
  await expect(page.getByTestId("invitation-row").filter({ hasText: viewerEmail })).toContainText("viewer");
  await expectAccessible(page, "members page");
  await snap(page, "members");

  // The invited person, signed out: the link leads to sign-up with the email filled in, then back to accept.
  const guest = await browser.newContext({ baseURL });
  const viewer = await guest.newPage();
  await viewer.goto(link);
  await expect(viewer.getByRole("heading", { name: "Join Acme" })).toBeVisible();
  await expect(viewer.getByText("You are invited to join Acme as viewer")).toBeVisible();
  await expectAccessible(viewer, "invitation page, signed out");
  await snap(viewer, "invite");
  await viewer.getByRole("link", { name: "Sign up to accept" }).click();
  await expect(viewer.getByLabel("Email")).toHaveValue(viewerEmail);
  await viewer.getByLabel("Password").fill(PASSWORD);
  await viewer.getByLabel("Organization").fill("Viewer Home");
  await viewer.getByRole("button", { name: "Sign up" }).click();
  await expect(viewer).toHaveURL(/\/invite\?token=/);
  await viewer.getByRole("button", { name: "Join Acme" }).click();
  await expect(viewer).toHaveURL(/\/projects$/);
  await expect(viewer.getByTestId("org-switcher")).toContainText("Acme");

  // The viewer sees the project but no action that changes it; a forged request gets the 403 body.
  await expect(viewer.getByRole("link", { name: "New project" })).toHaveCount(0);
  await viewer.getByRole("link", { name: /Shop/ }).click();
  await expect(viewer.getByTestId("compute-state").first()).toHaveText("running", { timeout: 60_000 });
  await expect(viewer.getByRole("button", { name: "Suspend", exact: true })).toHaveCount(0);
  await expect(viewer.getByRole("button", { name: "Resume" })).toHaveCount(0);
  await expect(viewer.getByRole("button", { name: "Delete project" })).toHaveCount(0);
  await expect(viewer.getByRole("form", { name: "New role" })).toHaveCount(0);
  await expect(viewer.getByTestId("settings-read-only")).toBeVisible();
  await expectAccessible(viewer, "project page as a viewer");
  const forged = await viewer.request.post(`/api/v1/compute/${computeId}/suspend`, { data: {}, headers: { origin: baseURL! } });
  expect(forged.status()).toBe(403);
  const body = await forged.json();
  expect(body.error.code).toBe("forbidden");
  expect(body.error.message).toContain("a viewer can read but not change anything");
  // Audit log and billing are not offered to a viewer.
  await expect(viewer.getByRole("link", { name: "Audit log" })).toHaveCount(0);
  await expect(viewer.getByRole("link", { name: "Billing" })).toHaveCount(0);

  // Switching organizations shows the other organization's projects.
  await viewer.getByRole("link", { name: "Projects", exact: true }).click();
  await expect(viewer.getByRole("link", { name: /Shop/ })).toBeVisible();
  await switchTo(viewer, "Viewer Home");
  await expect(viewer.getByText("No projects yet")).toBeVisible();
  await expect(viewer.getByRole("link", { name: /Shop/ })).toHaveCount(0);
  await switchTo(viewer, "Acme");
  await expect(viewer.getByRole("link", { name: /Shop/ })).toBeVisible();

  // The owner makes the viewer a member; the viewer can then make an API key.
  await page.reload();
  // Only the row a person sees: while the page streams in, the DOM may also hold a hidden copy of it.
  const row = page.getByTestId("member-row").filter({ hasText: viewerEmail, visible: true });
  await expect(row.getByTestId("member-role")).toHaveText("viewer");
  await row.getByRole("button", { name: `Change role of ${viewerEmail}` }).click();
  const dialog = page.getByRole("dialog", { name: `Change the role of ${viewerEmail}` });
  await dialog.getByLabel("Role", { exact: true }).selectOption("member");
  await dialog.getByRole("button", { name: "Save role" }).click();
  await expect(row.getByTestId("member-role")).toHaveText("member");
  const keyReply = await viewer.request.post("/api/v1/api-keys", { data: { name: "laptop" }, headers: { origin: baseURL! } });
  expect(keyReply.status()).toBe(201);
  const { key, apiKey } = await keyReply.json();
  expect(apiKey.role).toBe("member");
  expect((await bearer(viewer.request, key, "/api/v1/projects")).status()).toBe(200);

  // Removing the member ends their access at once and revokes their key.
  await row.getByRole("button", { name: `Remove ${viewerEmail}` }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Remove member" }).click();
  await expect(page.getByTestId("member-row").filter({ hasText: viewerEmail })).toHaveCount(0);
  const refused = await bearer(viewer.request, key, "/api/v1/projects");
  expect(refused.status()).toBe(401);
  expect((await refused.json()).error.code).toBe("unauthenticated");
  await viewer.goto(`/projects/${project.id}`);
  await expect(viewer.getByRole("heading", { name: /not found/i })).toBeVisible();
  await guest.close();

  // The last owner cannot leave: the API's 409 is said in the dialog.
  await page.getByTestId("member-row").filter({ hasText: ownerEmail }).getByRole("button", { name: "Leave" }).click();
  const leave = page.getByRole("alertdialog");
  await leave.getByRole("button", { name: "Leave organization" }).click();
  await expect(leave.getByRole("alert")).toContainText("last owner");
  await leave.getByRole("button", { name: "Cancel" }).click();

  // Billing: owners see the plan and upgrade.
  await page.getByRole("link", { name: "Billing" }).click();
  await expect(page.getByTestId("billing-plan")).toHaveText(/free/i);
  await expectAccessible(page, "billing page");
  await snap(page, "billing");
  await page.getByRole("button", { name: "Upgrade to pro" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Switch to pro" }).click();
  await expect(page.getByTestId("billing-plan")).toHaveText(/pro/i);

  // The audit log: who did what, when.
  await page.getByRole("link", { name: "Audit log" }).click();
  const rows = page.getByTestId("audit-row");
  await expect(rows.filter({ hasText: `invited ${viewerEmail} as viewer` })).toBeVisible();
  await expect(rows.filter({ hasText: `changed the role of ${viewerEmail} from viewer to member` })).toContainText(ownerEmail);
  await expect(rows.filter({ hasText: `removed ${viewerEmail}` })).toContainText("1 API key revoked");
  await expect(rows.filter({ hasText: "changed the plan from free to pro" })).toBeVisible();
  await rows.first().locator("time").hover();
  await expect(page.getByRole("tooltip")).toBeVisible();
  await expectAccessible(page, "audit log page");
  await snap(page, "audit-log");
});

test("revoked, expired and someone else's invitation links get a clear page", async ({ page, browser, baseURL }) => {
  await signUp(page, uniqueEmail("owner"), "Initech");
  await page.goto("/members");
  const revokedEmail = uniqueEmail("revoked");
  const revokedLink = await invite(page, revokedEmail, "member");
  await page.getByRole("button", { name: `Revoke invitation of ${revokedEmail}` }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Revoke invitation" }).click();
  await expect(page.getByTestId("invitation-row").filter({ hasText: revokedEmail })).toHaveCount(0);
  const expiredEmail = uniqueEmail("expired");
  const expiredLink = await invite(page, expiredEmail, "viewer");
  runTool("e2e/support/expire-invitations.ts", [expiredEmail]);
  const otherEmail = uniqueEmail("other");
  const otherLink = await invite(page, otherEmail, "viewer");

  const guest = await browser.newContext({ baseURL });
  const visitor = await guest.newPage();
  await visitor.goto(revokedLink);
  await expect(visitor.getByRole("heading", { name: "This invitation was revoked" })).toBeVisible();
  await visitor.goto(expiredLink);
  await expect(visitor.getByRole("heading", { name: "This invitation has expired" })).toBeVisible();
  await expectAccessible(visitor, "expired invitation page");
  await snap(visitor, "invite-expired");
  await visitor.goto("/invite?token=msi_not-a-real-token");
  await expect(visitor.getByRole("heading", { name: "This invitation link is not valid" })).toBeVisible();
  // Signed in as someone else: the page names the invited email and offers to sign out.
  await signUp(visitor, uniqueEmail("someone"));
  await visitor.goto(otherLink);
  await expect(visitor.getByRole("heading", { name: "This invitation is for someone else" })).toBeVisible();
  await expect(visitor.getByTestId("invite-refused")).toContainText(otherEmail);
  await guest.close();
});

test("a signed-in user changes their password and signs in with it; an operator's reset link sets another", async ({ page, baseURL }) => {
  const email = uniqueEmail("pw");
  await signUp(page, email);
  await page.getByRole("link", { name: "Account" }).click();
  await expect(page.getByRole("heading", { name: "Account", level: 1 })).toBeVisible();
  await expectAccessible(page, "account page");
  await snap(page, "account");
  const form = page.getByRole("form", { name: "Change password" });
  await form.getByLabel("Current password").fill("not my password");
  await form.getByLabel("New password", { exact: true }).fill("a brand new passphrase");
  await form.getByLabel("New password again").fill("a brand new passphrase");
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(form.getByText("Current password is not correct.")).toBeVisible();
  await form.getByLabel("Current password").fill(PASSWORD);
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Password changed", { exact: true })).toBeVisible();

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("a brand new passphrase");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/projects$/);
  await page.getByRole("button", { name: "Sign out" }).click();

  // Forgotten: the operator's command prints a one-time link.
  const printed = runTool("scripts/admin.ts", ["reset-password", email]);
  const resetUrl = /(http\S+\/reset-password\?token=\S+)/.exec(printed)?.[1];
  expect(resetUrl, printed).toBeTruthy();
  await page.goto(new URL(resetUrl!).pathname + new URL(resetUrl!).search);
  await expect(page.getByRole("heading", { name: "Choose a new password" })).toBeVisible();
  await expectAccessible(page, "reset-password page");
  await snap(page, "reset-password");
  await page.getByLabel("New password", { exact: true }).fill("third time lucky pass");
  await page.getByLabel("New password again").fill("third time lucky pass");
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.getByText("Your password is changed.")).toBeVisible();
  // The link works once.
  await page.goto(new URL(resetUrl!).pathname + new URL(resetUrl!).search);
  await page.getByLabel("New password", { exact: true }).fill("fourth time lucky pass");
  await page.getByLabel("New password again").fill("fourth time lucky pass");
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.getByRole("form", { name: "Set a new password" }).getByRole("alert")).toContainText("used already");
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("third time lucky pass");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/projects$/);
  void baseURL;
});
