import { auth } from "./auth";
import { errorResponse } from "./http";
import { AppError } from "@/server/errors";
import { callerFromApiKey, callerFromUser } from "@/server/tenancy/authenticate";
import type { Caller } from "@/server/tenancy/caller";
import { isSameOrigin } from "./same-origin";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

// Route-handler wrappers: authentication (API key or console session), then the handler, with anything
// thrown turned into the error body. Handlers stay thin: parse, call server/, shape the reply.

type Params = Record<string, string | string[]>;
interface Context<P> {
  params: Promise<P>;
}

async function authenticate(req: Request): Promise<Caller> {
  const header = req.headers.get("authorization");
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw new AppError("unauthenticated", "the Authorization header must be `Bearer <api key>`");
    return callerFromApiKey(match[1]);
  }
  const session = await auth();
  const userId = session?.user?.id;
  if (!userId) throw new AppError("unauthenticated", "sign in or send `Authorization: Bearer <api key>`");
  // A browser sends the session cookie with any site's request: a change made with it must come from the
  // console's own pages (DESIGN.md). API keys are not sent by browsers on their own, so they need no check.
  if (!SAFE_METHODS.has(req.method) && !isSameOrigin(req)) {
    throw new AppError("forbidden", "a change made with the console's session must come from the console's own origin");
  }
  return callerFromUser(userId);
}

export function withCaller<P extends Params>(
  handler: (args: { req: Request; params: P; caller: Caller }) => Promise<Response>,
) {
  return async (req: Request, ctx: Context<P>): Promise<Response> => {
    try {
      const caller = await authenticate(req);
      return await handler({ req, params: await ctx.params, caller });
    } catch (error) {
      return errorResponse(error);
    }
  };
}

export function withoutAuth<P extends Params>(handler: (args: { req: Request; params: P }) => Promise<Response>) {
  return async (req: Request, ctx: Context<P>): Promise<Response> => {
    try {
      return await handler({ req, params: await ctx.params });
    } catch (error) {
      return errorResponse(error);
    }
  };
}
