import { db } from "../db";
import { AppError } from "../errors";
import { hashPassword } from "../auth/password";
import { generateLinkToken, hashLinkToken } from "../auth/link-token";
import { refund } from "../front-door/limits";
import { signInFailuresByAddress } from "../front-door/rules";
import { takeAll } from "../front-door/take-all";

// Password resets without a mail server: an operator runs `npm run admin -- reset-password <email>`, which
// prints a one-time link to the console's /reset-password page; the page posts the token and the new
// password to POST /api/v1/account/password-reset.

/** How long a reset link stays valid. */
export const PASSWORD_RESET_TTL_MS = 60 * 60 * 1000;

export const passwordResetUrl = (origin: string, token: string) => `${origin}/reset-password?token=${encodeURIComponent(token)}`;

/** A one-time reset link for the user with this email; earlier unused links of theirs stop working. */
export async function createPasswordReset({ email, origin }: { email: string; origin: string }) {
  const user = await db.user.findUnique({ where: { email: email.trim().toLowerCase() }, select: { id: true, email: true } });
  if (!user) throw new AppError("not_found", `no user has the email ${email}`);
  const { token, hash } = generateLinkToken("msr_");
  const expiresAt = new Date(Date.now() + PASSWORD_RESET_TTL_MS);
  await db.$transaction([
    db.passwordReset.deleteMany({ where: { userId: user.id, usedAt: null } }),
    db.passwordReset.create({ data: { userId: user.id, tokenHash: hash, expiresAt } }),
  ]);
  return { email: user.email, url: passwordResetUrl(origin, token), token, expiresAt };
}

/**
 * Set a new password with a reset link's token. The link works once and expires; a wrong token counts as
 * a failed sign-in for the client's address (the front-door limits).
 */
export async function resetPassword({ token, newPassword, address }: { token: string; newPassword: string; address: string }) {
  const byAddress = signInFailuresByAddress(address);
  await takeAll([byAddress], "too many invalid password-reset attempts from this address");
  const reset = await db.passwordReset.findUnique({
    where: { tokenHash: hashLinkToken(token) },
    select: { id: true, userId: true, expiresAt: true, usedAt: true },
  });
  if (!reset) throw new AppError("not_found", "this password-reset link is not valid; ask an operator for a new one");
  await refund(byAddress);
  const now = new Date();
  if (reset.usedAt) throw new AppError("link_used", "this password-reset link was used already; ask an operator for a new one");
  if (reset.expiresAt <= now) {
    throw new AppError("link_expired", `this password-reset link expired at ${reset.expiresAt.toISOString()}; ask an operator for a new one`);
  }
  const passwordHash = await hashPassword(newPassword);
  const user = await db.$transaction(async (tx) => {
    const { count } = await tx.passwordReset.updateMany({ where: { id: reset.id, usedAt: null }, data: { usedAt: now } });
    if (count === 0) throw new AppError("link_used", "this password-reset link was used already; ask an operator for a new one");
    return tx.user.update({ where: { id: reset.userId }, data: { passwordHash }, select: { id: true, email: true } });
  });
  // The account's failed sign-ins are forgotten: the owner has just proved it.
  await db.frontDoorLimit.deleteMany({ where: { key: `signin-account:${user.email}` } });
  return user;
}
