import { json, readBody } from "@/app/_lib/http";
import { withoutAuth } from "@/app/_lib/route";
import { SignupSchema } from "@/lib/schemas";
import { signupWithLimits } from "@/server/front-door/sign-up";
import { clientAddress } from "@/app/_lib/client-address";

// POST /api/v1/signup - self-service signup: a user and their first organization (limited per address)
export const POST = withoutAuth(async ({ req }) => {
  const input = await readBody(req, SignupSchema);
  const { user, organization } = await signupWithLimits({ input, address: clientAddress(req) });
  return json(
    {
      user: { id: user.id, email: user.email, name: user.name },
      organization: { id: organization.id, slug: organization.slug, name: organization.name, plan: organization.plan },
    },
    201,
  );
});
