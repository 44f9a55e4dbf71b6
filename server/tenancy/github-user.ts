import crypto from "node:crypto";
import { db } from "../db";
import { AppError } from "../errors";
import { signup } from "./signup";

/** Marks a user made by GitHub sign-in: not a scrypt hash, so no password ever matches it. */
const marker = (githubId: string) => `oauth:github:${githubId}`;

/** Whether GitHub sign-in is configured (AUTH_GITHUB_ID and AUTH_GITHUB_SECRET, Auth.js's own names). */
export function githubSignInEnabled(): boolean {
  return Boolean(process.env.AUTH_GITHUB_ID && process.env.AUTH_GITHUB_SECRET);
}

/**
 * The user behind a GitHub sign-in: the one it made before, or a new user with an organization of its own
 * (as a sign-up makes). An email that already has a password account is not taken over by GitHub: that
 * user signs in with the password.
 */
export async function userFromGithub({ githubId, email, name }: { githubId: string; email: string; name?: string | null }) {
  const normalized = email.trim().toLowerCase();
  const existing = await db.user.findUnique({ where: { email: normalized }, select: { id: true, passwordHash: true } });
  if (existing) {
    if (existing.passwordHash !== marker(githubId)) {
      throw new AppError("conflict", "an account with this email signs in with a password");
    }
    return { id: existing.id };
  }
  const { user } = await signup({ email: normalized, password: crypto.randomBytes(32).toString("base64url"), name: name?.slice(0, 63) || undefined });
  await db.user.update({ where: { id: user.id }, data: { passwordHash: marker(githubId) } });
  return { id: user.id };
}
