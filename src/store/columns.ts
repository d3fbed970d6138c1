// Column types that differ between SQLite and PostgreSQL, for migrations.
import { sql, type RawBuilder } from 'kysely';
import type { DialectName } from './database.ts';

export function blobType(dialect: DialectName): RawBuilder<unknown> {
  return dialect === 'postgres' ? sql`bytea` : sql`blob`;
}
