import { auth } from "./auth";
import { errorResponse } from "./http";
import { AppError } from "@/server/errors";
import { changesState, isOwnOrigin, publicOrigin } from "@/server/http/origin";
import { callerFromApiKey, callerFromUser } from "@/server/tenancy/authenticate";
import { inOrganization, type Caller } from "@/server/tenancy/caller";

// Route-handler wrappers: authentication (API key or console session), the acting organization, then the
// handler, with anything thrown turned into the error body. Handlers stay thin: parse, call server/, shape
// the reply. What a caller may do is decided in server/ (server/tenancy/caller.ts, `authorize`).

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
  // A cookie is sent by the browser whichever site made the request: changes must come from our own pages.
  if (changesState(req.method) && !isOwnOrigin(req.headers.get("origin"), req.headers)) {
    throw new AppError(
      "forbidden",
      "a change made with the console's session must come from the console's own origin (the Origin header); use an API key from elsewhere",
    );
  }
  return callerFromUser(userId);
}

/**
 * An authenticated route. `?organizationId=` on any call makes a session act in that organization (404
 * when the caller is not a member); otherwise a session acts in the user's current organization and an
 * API key in its own.
 */
export function withCaller<P extends Params>(
  handler: (args: { req: Request; params: P; caller: Caller; origin: string }) => Promise<Response>,
) {
  return async (req: Request, ctx: Context<P>): Promise<Response> => {
    try {
      let caller = await authenticate(req);
      const requested = new URL(req.url).searchParams.get("organizationId");
      if (requested) caller = inOrganization(caller, requested);
      return await handler({ req, params: await ctx.params, caller, origin: publicOrigin(req) });
    } catch (error) {
      return errorResponse(error);
    }
  };
}

export function withoutAuth<P extends Params>(handler: (args: { req: Request; params: P; origin: string }) => Promise<Response>) {
  return async (req: Request, ctx: Context<P>): Promise<Response> => {
    try {
      return await handler({ req, params: await ctx.params, origin: publicOrigin(req) });
    } catch (error) {
      return errorResponse(error);
    }
  };
}
