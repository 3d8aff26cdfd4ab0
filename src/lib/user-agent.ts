/** Browser and system names as people know them, in the order that tells them apart. */
const BROWSERS: Array<[RegExp, string]> = [
  // Mail programs first: Thunderbird's and Outlook's own web views also say Gecko or Chrome.
  [/Thunderbird/i, 'Thunderbird'],
  [/Outlook|Microsoft Office/i, 'Outlook'],
  [/Edg(A|iOS)?\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/SamsungBrowser\//, 'Samsung Internet'],
  [/Chrome\/|CriOS\//, 'Chrome'],
  [/Safari\//, 'Safari'],
];
const SYSTEMS: Array<[RegExp, string]> = [
  [/iPhone/, 'iPhone'],
  [/iPad/, 'iPad'],
  [/Android/, 'Android'],
  [/Windows/, 'Windows'],
  [/CrOS/, 'ChromeOS'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/Linux/, 'Linux'],
];

/** A short readable device name from a User-Agent header, e.g. "Firefox, Windows"; null when unknown. */
export function deviceOf(userAgent: string | null | undefined): { browser: string | null; system: string | null } {
  const ua = userAgent ?? '';
  const browser = BROWSERS.find(([pattern]) => pattern.test(ua))?.[1] ?? null;
  const system = SYSTEMS.find(([pattern]) => pattern.test(ua))?.[1] ?? null;
  return { browser, system };
}
