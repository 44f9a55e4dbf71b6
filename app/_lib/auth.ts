import NextAuth, { CredentialsSignin } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import GitHub from "next-auth/providers/github";
import { rateLimitedSignInCode } from "@/lib/rate-limit";
import { SignInSchema } from "@/lib/schemas";
import { AppError, retryAfterSeconds } from "@/server/errors";
import { signInWithLimits } from "@/server/front-door/sign-in";
import { authSecret } from "@/server/auth/auth-secret";
import { logger } from "@/server/logger";
import { githubSignInEnabled, userFromGithub } from "@/server/tenancy/github-user";
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
    // GitHub sign-in, only when its settings are present (AUTH_GITHUB_ID, AUTH_GITHUB_SECRET; README).
    ...(githubSignInEnabled() ? [GitHub] : []),
  ],
  callbacks: {
    async signIn({ account, profile }) {
      if (account?.provider !== "github") return true;
      // GitHub gives the primary address; without one there is nobody to sign in.
      return typeof profile?.email === "string" && profile.email.length > 0;
    },
    async jwt({ token, user, account, profile }) {
      if (account?.provider === "github" && profile?.email) {
        const ours = await userFromGithub({ githubId: String(account.providerAccountId), email: profile.email, name: profile.name as string | null });
        token.sub = ours.id;
        return token;
      }
      if (user?.id) token.sub = user.id;
      return token;
    },
    session({ session, token }) {
      if (token.sub && session.user) session.user.id = token.sub;
      return session;
    },
  },
}));
