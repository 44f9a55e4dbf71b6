import crypto from "node:crypto";

// Human-friendly unique names such as `wispy-river-4821`: they end up in MySQL user names
// (`<project-slug>.<role>`), so only lowercase letters, digits and hyphens.

const ADJECTIVES = [
  "amber", "ancient", "autumn", "billowing", "bitter", "black", "blue", "bold", "brave", "bright", "broad",
  "calm", "cold", "cool", "crimson", "curly", "damp", "dark", "dawn", "delicate", "divine", "dry", "empty",
  "falling", "fancy", "flat", "floral", "fragrant", "frosty", "gentle", "green", "hidden", "holy", "icy",
  "jolly", "late", "lingering", "little", "lively", "long", "lucky", "misty", "morning", "muddy", "mute",
  "nameless", "noisy", "odd", "old", "orange", "patient", "plain", "polished", "proud", "purple", "quiet",
  "rapid", "raspy", "red", "restless", "rough", "round", "royal", "shiny", "shy", "silent", "small",
  "snowy", "soft", "solitary", "sparkling", "spring", "square", "steep", "still", "summer", "super",
  "sweet", "tight", "tiny", "twilight", "wandering", "weathered", "white", "wild", "winter", "wispy",
  "withered", "yellow", "young",
];

const NOUNS = [
  "art", "band", "bar", "base", "bird", "block", "boat", "bonus", "bread", "breeze", "brook", "bush",
  "butterfly", "cake", "cell", "cherry", "cloud", "credit", "darkness", "dawn", "dew", "disk", "dream",
  "dust", "feather", "field", "fire", "firefly", "flower", "fog", "forest", "frog", "frost", "glade",
  "glitter", "grass", "hall", "hat", "haze", "heart", "hill", "king", "lab", "lake", "leaf", "limit",
  "math", "meadow", "mode", "moon", "morning", "mountain", "mouse", "mud", "night", "paper", "pine",
  "poetry", "pond", "queen", "rain", "recipe", "resonance", "rice", "river", "salad", "scene", "sea",
  "shadow", "shape", "silence", "sky", "smoke", "snow", "snowflake", "sound", "star", "sun", "sunset",
  "surf", "term", "thunder", "tooth", "tree", "truth", "union", "unit", "violet", "voice", "water",
  "waterfall", "wave", "wildflower", "wind", "wood",
];

const pick = <T>(items: readonly T[]): T => items[crypto.randomInt(items.length)]!;

/** `<adjective>-<noun>-<4 digits>`: about 80 million combinations. */
export function generateSlug(): string {
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${crypto.randomInt(1000, 10000)}`;
}

/** A slug made from a display name ("Acme Corp." -> "acme-corp"), or "" when nothing usable is left. */
export function slugify(name: string, maxLength = 30): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, maxLength)
    .replace(/-+$/g, "");
}
