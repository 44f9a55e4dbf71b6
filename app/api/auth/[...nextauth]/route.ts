// GET/POST /api/auth/* - Auth.js endpoints (csrf, sign-in with credentials, session, sign-out)
import { handlers } from "@/app/_lib/auth";

export const { GET, POST } = handlers;
