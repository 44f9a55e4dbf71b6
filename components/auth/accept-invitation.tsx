"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { api, errorMessage } from "@/lib/api-client";
import { Button } from "../ui/button";
import { FormError } from "../ui/field";

/** Joins the organization (POST /api/v1/invitations/accept), which becomes the current one, and opens its projects. */
export function AcceptInvitation({ token, organizationName }: { token: string; organizationName: string }) {
  const router = useRouter();
  const client = useQueryClient();
  const accept = useMutation({
    mutationFn: () => api("POST", "/api/v1/invitations/accept", { token }),
    onSuccess: async () => {
      await client.invalidateQueries();
      router.push("/projects");
      router.refresh();
    },
  });
  const message = accept.error ? errorMessage(accept.error) : null;
  return (
    <div className="space-y-3">
      <FormError>{message ? message.charAt(0).toUpperCase() + message.slice(1) : null}</FormError>
      <Button onClick={() => accept.mutate()} loading={accept.isPending || accept.isSuccess} className="w-full">
        Join {organizationName}
      </Button>
    </div>
  );
}
