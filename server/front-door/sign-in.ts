import { verifyUserCredentials } from "../tenancy/authenticate";
import { refund, reset } from "./limits";
import { signInFailuresByAccount, signInFailuresByAddress } from "./rules";
import { takeAll } from "./take-all";

/**
 * Email and password checked under the front-door limits: failed sign-ins back off the client's address
 * (past SIGNIN_FAILURES_PER_ADDRESS an hour) and the account, whichever address they come from (past
 * SIGNIN_FAILURES_PER_ACCOUNT). While either is backed off even the right password is refused with 429
 * (`rate_limited`) saying when to retry. Null for wrong credentials; a success resets the account's count.
 */
export async function signInWithLimits({ email, password, address }: { email: string; password: string; address: string }) {
  const byAddress = signInFailuresByAddress(address);
  const byAccount = signInFailuresByAccount(email);
  await takeAll([byAccount, byAddress], "too many failed sign-ins for this account or from this address");
  const user = await verifyUserCredentials(email, password);
  if (user) await Promise.all([refund(byAddress), reset(byAccount.key)]);
  return user;
}
