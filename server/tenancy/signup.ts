import { db } from "../db";
import { AppError } from "../errors";
import { hashPassword } from "../auth/password";
import { generateSlug, slugify } from "../util/slug";
import type { SignupInput } from "@/lib/schemas";
import crypto from "node:crypto";

/** Self-service signup: a user, their first organization, and their owner membership, all or nothing. */
export async function signup(input: SignupInput) {
  const passwordHash = await hashPassword(input.password);
  const orgName = input.organization ?? `${input.name ?? input.email.split("@")[0]}'s organization`;
  const base = slugify(input.organization ?? input.email.split("@")[0] ?? "", 24);
  const orgSlug = `${base || generateSlug().split("-").slice(0, 2).join("-")}-${crypto.randomInt(1000, 10000)}`;

  const existing = await db.user.findUnique({ where: { email: input.email }, select: { id: true } });
  if (existing) throw new AppError("conflict", "an account with this email already exists; sign in instead");

  try {
    return await db.$transaction(async (tx) => {
      const user = await tx.user.create({
        data: { email: input.email, name: input.name ?? null, passwordHash },
        select: { id: true, email: true, name: true },
      });
      const organization = await tx.organization.create({
        data: { slug: orgSlug, name: orgName, memberships: { create: { userId: user.id, role: "owner" } } },
        select: { id: true, slug: true, name: true, plan: true },
      });
      return { user, organization };
    });
  } catch (error) {
    // Two signups with one email at the same moment: the unique index decides, the loser gets the same answer.
    if ((error as { code?: string }).code === "P2002") {
      throw new AppError("conflict", "an account with this email already exists; sign in instead");
    }
    throw error;
  }
}
