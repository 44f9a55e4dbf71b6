import { config } from "../config";
import type { Limit } from "./limits";

// The front door's limits, from the configuration (README, "Configuration"). Keys name what is counted:
// failed sign-ins per client address and per account (email), and sign-ups per client address.

const backoff = () => config().FRONT_DOOR_MAX_BACKOFF_SECONDS;

export const signInFailuresByAddress = (address: string): Limit => ({
  key: `signin-address:${address}`,
  perHour: config().SIGNIN_FAILURES_PER_ADDRESS,
  maxBackoffSeconds: backoff(),
});

export const signInFailuresByAccount = (email: string): Limit => ({
  key: `signin-account:${email}`,
  perHour: config().SIGNIN_FAILURES_PER_ACCOUNT,
  maxBackoffSeconds: backoff(),
});

export const signUpsByAddress = (address: string): Limit => ({
  key: `signup-address:${address}`,
  perHour: config().SIGNUPS_PER_ADDRESS,
  maxBackoffSeconds: backoff(),
});
