import NextAuth, { CredentialsSignin } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { rateLimitedSignInCode } from "@/lib/rate-limit";
import { SignInSchema } from "@/lib/schemas";
import { AppError, retryAfterSeconds } from "@/server/errors";
import { signInWithLimits } from "@/server/front-door/sign-in";
import { authSecret } from "@/server/auth/auth-secret";
import { logger } from "@/server/logger";
import { clientAddress } from "./client-address";

/**
 * A sign-in refused by the front-door limits. Auth.js redirects with `?error=CredentialsSignin&code=` this
 * code (`rate_limited:<seconds>`, lib/rate-limit.ts), so the console can say when to try again.
 */
class TooManySignInAttempts extends CredentialsSignin {
  constructor(retryAfter: number) {
    super(`too many failed sign-ins; retry in ${retryAfter} s`);
    this.code = rateLimitedSignInCode(retryAfter);
  }
}

// Auth.js: console sign-in with email and password (provider id `credentials`), JWT sessions (credentials
// sign-in needs them). The host is trusted and the secret generated, so no Auth.js variable is required.
export const { handlers, auth, signIn, signOut } = NextAuth(() => ({
  secret: authSecret(),
  trustHost: true,
  session: { strategy: "jwt" },
  pages: { signIn: "/login" },
  // A refused sign-in (wrong password, or backed off) is no server error: one line, not a stack trace
  // per guess.
  logger: {
    error(error: Error) {
      if (error instanceof CredentialsSignin) logger.info({ code: error.code }, "sign-in refused");
      else logger.error({ err: error.stack ?? String(error) }, "auth error");
    },
  },
  providers: [
    Credentials({
      id: "credentials",
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      async authorize(raw, request) {
        const parsed = SignInSchema.safeParse(raw);
        if (!parsed.success) return null;
        try {
          return await signInWithLimits({ ...parsed.data, address: clientAddress(request) });
        } catch (error) {
          const wait = error instanceof AppError ? retryAfterSeconds(error) : null;
          if (wait !== null) throw new TooManySignInAttempts(wait);
          throw error;
        }
      },
    }),
  ],
  callbacks: {
    jwt({ token, user }) {
      if (user?.id) token.sub = user.id;
      return token;
    },
    session({ session, token }) {
      if (token.sub && session.user) session.user.id = token.sub;
      return session;
    },
  },
}));
