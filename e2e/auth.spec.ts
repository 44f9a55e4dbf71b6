import { expect, expectAccessible, PASSWORD, signUp, snap, test, uniqueEmail } from "./fixtures";

// Sign-in and sign-up errors appear next to the field they concern, keep what was typed, and the front-door
// limit says when to try again.

test("wrong password, taken email, short password and the sign-in limit show their messages", async ({ page, browser, baseURL }) => {
  const email = uniqueEmail("auth");
  await signUp(page, email);
  await page.context().clearCookies();

  // Taken email, on the sign-up form; what was typed stays.
  await page.goto("/signup");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.getByText("Password must be at least 8 characters.")).toBeVisible();
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.getByText("An account with this email already exists. Sign in instead.")).toBeVisible();
  await expect(page.getByLabel("Email")).toHaveValue(email);
  await expect(page.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");
  await expectAccessible(page, "sign-up page with errors");

  // Wrong password, on the sign-in form.
  await page.goto("/login");
  await expectAccessible(page, "sign-in page");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("Wrong email or password.")).toBeVisible();
  await expect(page.getByLabel("Email")).toHaveValue(email);
  await expect(page.getByLabel("Password")).toHaveValue("not the password");
  await snap(page, "login-error");

  // Keep guessing: the account's limit (5 failures an hour) backs off and says when to try again.
  let limited = false;
  for (let i = 0; i < 8 && !limited; i++) {
    await page.getByRole("button", { name: "Sign in" }).click();
    const message = page.getByText(/Too many sign-in attempts; try again in \d+ seconds? \(at /);
    const wrong = page.getByText("Wrong email or password.");
    await expect(message.or(wrong)).toBeVisible();
    limited = await message.isVisible();
  }
  expect(limited).toBe(true);
  await expect(page.getByLabel("Email")).toHaveValue(email);
  await expectAccessible(page, "sign-in page, rate limited");
  await snap(page, "login-limited");

  // A signed-in user goes straight from / to their projects.
  const fresh = await browser.newContext({ baseURL });
  const other = await fresh.newPage();
  await signUp(other, uniqueEmail("landing"));
  await other.goto("/");
  await expect(other).toHaveURL(/\/projects$/);
  await fresh.close();
});
