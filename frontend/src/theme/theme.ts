/** Light or dark, chosen once from the system, then whatever the user toggles (kept). */

export type Theme = "light" | "dark";

export const THEME_KEY = "aos.theme";

export function storedTheme(storage: Storage = window.localStorage): Theme | null {
  const value = storage.getItem(THEME_KEY);
  return value === "light" || value === "dark" ? value : null;
}

export function initialTheme(): Theme {
  const stored = storedTheme();
  if (stored) return stored;
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
}
