import { describe, expect, it } from "vitest";
import { toAppError } from "./errors";

describe("toAppError", () => {
  it("answers text PostgreSQL cannot store with 422, from pg or wrapped by Prisma", () => {
    const fromPg = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: "22021" });
    const fromPrisma = Object.assign(new Error("Database error. Code: `22021`"), {
      code: "P2039",
      meta: { driverAdapterError: { cause: { kind: "postgres", code: "22021", originalCode: "22021" } } },
    });
    const inJson = Object.assign(new Error("unsupported Unicode escape sequence"), { code: "22P05" });
    for (const error of [fromPg, fromPrisma, inJson]) {
      const appError = toAppError(error);
      expect(appError.status).toBe(422);
      expect(appError.code).toBe("validation");
    }
  });

  it("keeps other database errors a 500 that leaks nothing", () => {
    const error = toAppError(Object.assign(new Error('relation "secret_table" does not exist'), { code: "42P01" }));
    expect(error.status).toBe(500);
    expect(error.message).not.toMatch(/secret_table/);
  });
});
