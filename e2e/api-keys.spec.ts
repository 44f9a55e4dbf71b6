import { expect, expectAccessible, signUp, snap, test, uniqueEmail } from "./fixtures";

test("API key: create, copy the secret shown once, use it, revoke it, and the API refuses it", async ({ page, playwright, baseURL }) => {
  await signUp(page, uniqueEmail("keys"));
  await page.getByRole("link", { name: "API keys" }).click();
  await expect(page.getByText("No API keys")).toBeVisible();
  await expectAccessible(page, "API keys page");

  await page.getByLabel("Name").fill("ci-deploy");
  await page.getByRole("button", { name: "Create API key" }).click();
  const dialog = page.getByRole("dialog", { name: "API key ci-deploy" });
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Copy API key" }).click();
  const key = await page.evaluate(() => navigator.clipboard.readText());
  expect(key).toMatch(/^msk_/);
  await expect(dialog.getByTestId("api-key-secret")).toHaveText(key);
  await expectAccessible(page, "API key secret dialog");
  await snap(page, "api-key-secret");
  await dialog.getByRole("button", { name: "Done" }).click();

  const row = page.getByTestId("api-key-row").filter({ hasText: "ci-deploy" });
  await expect(row).toContainText(key.slice(0, 8));
  await expect(row).toContainText("never used");

  const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { authorization: `Bearer ${key}` } });
  expect((await api.get("/api/v1/projects")).status()).toBe(200);
  await page.reload();
  // Only the row a person sees: while the page streams in, the DOM may also hold a hidden copy of it.
  await expect(page.getByTestId("api-key-row").filter({ hasText: "ci-deploy", visible: true })).toContainText("last used");
  await snap(page, "api-keys");

  await page.getByRole("button", { name: "Revoke ci-deploy" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Revoke key" }).click();
  await expect(page.getByText("API key ci-deploy revoked", { exact: true })).toBeVisible();
  await expect(page.getByText("No API keys")).toBeVisible();
  const refused = await api.get("/api/v1/projects");
  expect(refused.status()).toBe(401);
  expect(await refused.json()).toMatchObject({ error: { code: "unauthenticated" } });
  await api.dispose();
});
