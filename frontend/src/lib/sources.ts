/** The settings each source type asks for; secrets are sent once and shown as *** after. */

export type SourceType = "files" | "postgres" | "salesforce" | "mongodb";

export interface SourceField {
  key: string;
  label: string;
  required?: boolean;
  secret?: boolean;
  /** Comma-separated input sent as a list. */
  list?: boolean;
  options?: readonly string[];
  placeholder?: string;
  help?: string;
}

export const SOURCE_TYPES: Record<SourceType, { label: string; fields: readonly SourceField[] }> = {
  files: {
    label: "Files (CSV, JSON Lines, Parquet)",
    fields: [
      {
        key: "path",
        label: "Folder, glob or URL",
        required: true,
        placeholder: "/data/exports/crm",
        help: "Each file (or glob) is a stream.",
      },
      { key: "format", label: "Format", options: ["", "csv", "jsonl", "parquet"], help: "Empty: by extension." },
    ],
  },
  postgres: {
    label: "PostgreSQL / Supabase",
    fields: [
      {
        key: "url",
        label: "Database URL",
        required: true,
        secret: true,
        placeholder: "postgresql://user:password@host:5432/db",
      },
      { key: "schemas", label: "Schemas", list: true, placeholder: "public" },
      { key: "tables", label: "Tables (empty: all)", list: true },
    ],
  },
  salesforce: {
    label: "Salesforce",
    fields: [
      { key: "client_id", label: "Client id", required: true },
      { key: "client_secret", label: "Client secret", required: true, secret: true },
      { key: "auth", label: "Auth flow", options: ["client_credentials", "password"] },
      { key: "username", label: "Username (password flow)" },
      { key: "password", label: "Password (password flow)", secret: true },
      { key: "login_url", label: "Login URL", placeholder: "https://login.salesforce.com" },
      { key: "objects", label: "Objects", list: true, placeholder: "Account, Contact, Opportunity" },
    ],
  },
  mongodb: {
    label: "MongoDB",
    fields: [
      { key: "uri", label: "Connection URI", required: true, secret: true },
      { key: "database", label: "Database", required: true },
      { key: "collections", label: "Collections (empty: all)", list: true },
    ],
  },
};

/** The `config` object for the API: empty fields left out, lists split on commas. */
export function buildConfig(
  type: SourceType,
  values: Record<string, string>,
): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const field of SOURCE_TYPES[type].fields) {
    const raw = (values[field.key] ?? "").trim();
    if (!raw) continue;
    config[field.key] = field.list
      ? raw
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : raw;
  }
  return config;
}

/** Required fields left empty, by label (checked before the API is asked). */
export function missingFields(type: SourceType, values: Record<string, string>): string[] {
  return SOURCE_TYPES[type].fields
    .filter((f) => f.required && !(values[f.key] ?? "").trim())
    .map((f) => f.label);
}
