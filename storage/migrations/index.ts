import { gb28181Migration } from './002-gb28181';

/** Schema migrations, applied in order; `PRAGMA user_version` records the last one applied. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'meta',
    sql: `
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `,
  },
  gb28181Migration,
];
