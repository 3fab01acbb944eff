declare module 'parse-prometheus-text-format' {
  interface PromSample {
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  interface PromFamily {
    name: string;
    help: string;
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    metrics: PromSample[];
  }
  function parsePrometheusTextFormat(text: string): PromFamily[];
  export = parsePrometheusTextFormat;
}
