import parsePrometheusTextFormat from 'parse-prometheus-text-format';

/** A scrape parsed by a third-party Prometheus text-format parser. */
export interface Scrape {
  /** The value of `name` with exactly these labels (all of them), or 0 when the series is absent. */
  value(name: string, labels?: Record<string, string>): number;
  /** The sum over every series of `name` whose labels include `labels`. */
  sum(name: string, labels?: Record<string, string>): number;
  has(name: string): boolean;
  readonly families: ReturnType<typeof parsePrometheusTextFormat>;
}

export async function scrapeMetrics(httpUrl: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const response = await fetch(`${httpUrl}/metrics`, { headers });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}: ${await response.text()}`);
  if (!/^text\/plain/.test(response.headers.get('content-type') ?? '')) throw new Error(`/metrics content-type ${response.headers.get('content-type')}`);
  return parseScrape(await response.text());
}

export function parseScrape(text: string): Scrape {
  const families = parsePrometheusTextFormat(text);
  const samples = (name: string) => families.find((f) => f.name === name)?.metrics ?? [];
  const matches = (have: Record<string, string> | undefined, want: Record<string, string>) => Object.entries(want).every(([k, v]) => have?.[k] === v);
  return {
    families,
    has: (name) => families.some((f) => f.name === name),
    value: (name, labels = {}) => {
      const sample = samples(name).find((s) => matches(s.labels, labels) && Object.keys(s.labels ?? {}).length === Object.keys(labels).length);
      return sample?.value === undefined ? 0 : Number(sample.value);
    },
    sum: (name, labels = {}) =>
      samples(name)
        .filter((s) => matches(s.labels, labels))
        .reduce((n, s) => n + Number(s.value ?? 0), 0),
  };
}
