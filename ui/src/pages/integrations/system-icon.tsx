/** Drawn icons for each system (no external assets): a coloured tile with a simple glyph. */
const GLYPHS: Record<string, string[]> = {
  personal_email: ["M12 4a3.5 3.5 0 1 1 0 7a3.5 3.5 0 0 1 0-7z", "M4.5 20c1.2-3.6 4.2-5.5 7.5-5.5s6.3 1.9 7.5 5.5"],
  email: ["M3 6h18v12H3z", "M3 7l9 6 9-6"],
  slack: ["M9.5 3 7.5 21", "M16.5 3l-2 18", "M4 8.5h16.5", "M3.5 15.5H20"],
  telegram: ["M21 3 3 10.5l7 2.5 2.5 7.5z", "M10 13l11-10"],
  opsgenie: ["M6 16v-5a6 6 0 0 1 12 0v5l2 2H4z", "M10 20.5a2 2 0 0 0 4 0"],
  insightconnect: ["M13 2 4.5 14H11l-1 8 8.5-12H12z"],
  pagerduty: ["M8 21V4h5a4.5 4.5 0 0 1 0 9H8"],
  splunk: ["M5 6l7 6-7 6", "M13 18h6"],
  sumologic: ["M3 12h4l3-7 4 14 3-7h4"],
  webhook: ["M6 14a3 3 0 1 0 3 3h6", "M18 14a3 3 0 1 1-2.6 4.5", "M12 9a3 3 0 1 0-3-3l-3.5 7"],
};

export function SystemIcon({ type, small = false }: { type: string; small?: boolean }) {
  const paths = GLYPHS[type];
  return (
    <span class={`system-icon icon-${type}${small ? " system-icon-small" : ""}`} aria-hidden="true">
      {paths ? (
        <svg
          aria-hidden="true"
          viewBox="0 0 24 24"
          fill="none"
          stroke="currentColor"
          stroke-width="2"
          stroke-linecap="round"
          stroke-linejoin="round"
        >
          {paths.map((d) => (
            <path key={d} d={d} />
          ))}
        </svg>
      ) : (
        type.slice(0, 1).toUpperCase()
      )}
    </span>
  );
}
