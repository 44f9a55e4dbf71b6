import { auth } from "./auth";
import { errorResponse } from "./http";
import { AppError } from "@/server/errors";
import { callerFromApiKey, callerFromUser } from "@/server/tenancy/authenticate";
import type { Caller } from "@/server/tenancy/caller";

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
