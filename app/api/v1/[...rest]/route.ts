import { errorResponse } from "@/app/_lib/http";
import { AppError } from "@/server/errors";

// Any other /api/v1 path: the JSON error body, not Next's HTML 404 page.
const notFound = async () => errorResponse(new AppError("not_found", "no such API endpoint"));
export { notFound as GET, notFound as POST, notFound as PATCH, notFound as PUT, notFound as DELETE };
