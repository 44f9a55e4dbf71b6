import { AppError } from "../errors";
import { signup } from "../tenancy/signup";
import type { SignupInput } from "@/lib/schemas";
import { refund, reset } from "./limits";
import { signInFailuresByAccount, signInFailuresByAddress, signUpsByAddress } from "./rules";
import { takeAll } from "./take-all";

/**
 * Self-service sign-up under the front-door limits: SIGNUPS_PER_ADDRESS an hour per client address, and,
 * because without a mail server the answer "this email is taken" (409) cannot be hidden, each sign-up also
 * passes the sign-in limits and a taken email counts as a failed sign-in for the address and the email.
 * Asking whether an email has an account costs as much as guessing its password.
 */
export async function signupWithLimits({ input, address }: { input: SignupInput; address: string }) {
  const byAddress = signInFailuresByAddress(address);
  const byAccount = signInFailuresByAccount(input.email);
  await takeAll([signUpsByAddress(address), byAccount, byAddress], "too many sign-ups or failed sign-ins from this address");
  try {
    const result = await signup(input);
    await Promise.all([refund(byAddress), reset(byAccount.key)]);
    return result;
  } catch (error) {
    // A taken email stays counted as a failed sign-in; anything else was no guess.
    if (!(error instanceof AppError && error.code === "conflict")) await Promise.all([refund(byAddress), refund(byAccount)]);
    throw error;
  }
}
