/** The API's one error shape, {"error": {"code", "message", "details"}}, as an Error. */

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  readonly requestId: string | null;

  constructor(
    status: number,
    code: string,
    message: string,
    details: unknown = null,
    requestId: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
    this.requestId = requestId;
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }

  get isForbidden(): boolean {
    return this.status === 403;
  }
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: unknown };
}

const STATUS_TEXT: Record<number, string> = {
  0: "The server could not be reached. Check your connection and try again.",
  401: "Your session has ended. Sign in again.",
  403: "Your role does not allow this.",
  404: "Not found.",
  413: "The request is too large.",
  429: "Too many attempts. Wait a moment and try again.",
  500: "The server failed. Quote the request id to an administrator.",
  502: "The source could not be reached.",
  503: "The service is not available right now. Try again shortly.",
};

/** Build an ApiError from a response and its (already parsed) body, whatever it holds. */
export function apiError(response: Response | undefined, body: unknown): ApiError {
  const status = response?.status ?? 0;
  const requestId = response?.headers.get("x-request-id") ?? null;
  const err = (body as ErrorBody | null)?.error;
  const message =
    typeof err?.message === "string" && err.message
      ? err.message
      : (STATUS_TEXT[status] ?? `Request failed (HTTP ${status}).`);
  const code = typeof err?.code === "string" ? err.code : status ? `http_${status}` : "network";
  return new ApiError(status, code, message, err?.details ?? null, requestId);
}

/** A readable message for anything thrown by a query or mutation. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return STATUS_TEXT[0] as string;
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}
