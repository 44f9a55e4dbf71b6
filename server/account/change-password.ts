import { db } from "../db";
import { AppError } from "../errors";
import { hashPassword, verifyPassword } from "../auth/password";
import { refund, reset } from "../front-door/limits";
import { signInFailuresByAccount, signInFailuresByAddress } from "../front-door/rules";
import { takeAll } from "../front-door/take-all";
import { requireUser, type Caller } from "../tenancy/caller";

/**
 * A signed-in user changes their password. The current password is checked under the sign-in limits
 * (a wrong one counts as a failed sign-in for the account and the address), so a stolen session cannot
 * be used to guess it.
 */
export async function changePassword({
  caller,
  currentPassword,
  newPassword,
  address,
}: {
  caller: Caller;
  currentPassword: string;
  newPassword: string;
  address: string;
}) {
  const userId = requireUser(caller, "changing a password");
  const user = await db.user.findUnique({ where: { id: userId }, select: { id: true, email: true, passwordHash: true } });
  if (!user) throw new AppError("unauthenticated", "the session's user no longer exists; sign in again");
  const byAddress = signInFailuresByAddress(address);
  const byAccount = signInFailuresByAccount(user.email);
  await takeAll([byAccount, byAddress], "too many wrong passwords for this account or from this address");
  if (!(await verifyPassword(currentPassword, user.passwordHash))) {
    throw new AppError("validation", "the current password is not correct", [{ path: "currentPassword", message: "is not correct" }]);
  }
  await Promise.all([refund(byAddress), reset(byAccount.key)]);
  await db.user.update({ where: { id: user.id }, data: { passwordHash: await hashPassword(newPassword) } });
}
