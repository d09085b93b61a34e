import { sql, type Kysely, type Migration } from 'kysely';
import type { Engine } from '../../config.js';

/**
 * One row per feed (workspace, user, tenant) whose `version` changes in the same transaction as
 * any change to what that feed shows: a notification inserted, updated or deleted, or the bell
 * reset. Database triggers keep it, so no write path (delivery, the SDK's actions, the admin API,
 * user deletion, retention, a hand-written statement) can forget to. A node that cached a page or
 * count under a version serves it again only while one indexed read still returns that version
 * (src/inbox/feed-cache.ts), which holds across nodes.
 *
 * `max_expiry` is the latest expires_at ever given to a notification of the feed: until that time
 * passes, what the feed shows changes with the clock alone, so nothing of it is cached.
 *
 * Versions start at a random value below 2^52 (exact as a JS number, and far from any earlier
 * life of a row) and count up.
 */
export function inboxVersionsMigration(engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('inbox_versions')
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('distinct_id', 'text', (c) => c.notNull())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('version', 'bigint', (c) => c.notNull())
        .addColumn('max_expiry', 'bigint')
        .addPrimaryKeyConstraint('inbox_versions_pk', ['workspace_id', 'distinct_id', 'tenant_id'])
        // SQLite: the row lives in the primary-key b-tree, one page to write per bump instead of two.
        .$call((table) => (engine === 'postgres' ? table : table.modifyEnd(sql`without rowid`)))
        .execute();
      if (engine === 'postgres') await createPostgresTriggers(db);
      else await createSqliteTriggers(db);
      // Feeds that already hold notifications start with a version and their latest expiry.
      await sql`
        insert into inbox_versions (workspace_id, distinct_id, tenant_id, version, max_expiry)
        select workspace_id, distinct_id, tenant_id, ${randomVersion(engine)}, max(expires_at)
        from notifications group by workspace_id, distinct_id, tenant_id`.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      if (engine === 'postgres') {
        for (const name of ['notifications_version_insert', 'notifications_version_update', 'notifications_version_delete']) {
          await sql`drop trigger if exists ${sql.id(name)} on notifications`.execute(db);
        }
        await sql`drop trigger if exists inbox_badges_version on inbox_badges`.execute(db);
        await sql`drop function if exists inbox_versions_bump_inserted()`.execute(db);
        await sql`drop function if exists inbox_versions_bump_changed()`.execute(db);
        await sql`drop function if exists inbox_versions_bump_updated()`.execute(db);
        await sql`drop function if exists inbox_versions_bump_badge()`.execute(db);
      } else {
        for (const name of [
          'notifications_version_insert',
          'notifications_version_update',
          'notifications_version_delete',
          'inbox_badges_version_insert',
          'inbox_badges_version_update',
        ]) {
          await sql`drop trigger if exists ${sql.id(name)}`.execute(db);
        }
      }
      await db.schema.dropTable('inbox_versions').execute();
    },
  };
}

function randomVersion(engine: Engine) {
  return engine === 'postgres' ? sql`floor(random() * 4503599627370496)::bigint` : sql`abs(random() % 4503599627370496)`;
}

async function createSqliteTriggers(db: Kysely<unknown>): Promise<void> {
  // `row` is NEW or OLD. SQLite's two-argument max() is null when either is: spelled out instead.
  const bump = (row: 'NEW' | 'OLD', expiry: boolean) => sql`
    insert into inbox_versions (workspace_id, distinct_id, tenant_id, version, max_expiry)
    values (${sql.raw(row)}.workspace_id, ${sql.raw(row)}.distinct_id, ${sql.raw(row)}.tenant_id, abs(random() % 4503599627370496),
            ${expiry ? sql.raw(`${row}.expires_at`) : sql`null`})
    on conflict (workspace_id, distinct_id, tenant_id) do update set
      version = inbox_versions.version + 1,
      max_expiry = ${
        expiry
          ? sql`case when excluded.max_expiry is not null and (inbox_versions.max_expiry is null or excluded.max_expiry > inbox_versions.max_expiry)
                then excluded.max_expiry else inbox_versions.max_expiry end`
          : sql`inbox_versions.max_expiry`
      };`;
  await sql`create trigger notifications_version_insert after insert on notifications begin ${bump('NEW', true)} end`.execute(db);
  // An update can move a row between feeds only by a hand-written statement; both feeds change.
  await sql`create trigger notifications_version_update after update on notifications begin
    ${bump('NEW', true)}
    ${bump('OLD', false)}
  end`.execute(db);
  await sql`create trigger notifications_version_delete after delete on notifications begin ${bump('OLD', false)} end`.execute(db);
  for (const event of ['insert', 'update'] as const) {
    await sql`create trigger ${sql.id(`inbox_badges_version_${event}`)} after ${sql.raw(event)} on inbox_badges begin
      ${bump('NEW', false)}
    end`.execute(db);
  }
}

async function createPostgresTriggers(db: Kysely<unknown>): Promise<void> {
  // Updates and deletes are statement-level with transition tables: marking 10k notifications read
  // bumps one row once, and rows are locked in key order, so two statements bumping overlapping
  // feeds cannot deadlock each other here.
  const bumpFrom = (rows: ReturnType<typeof sql>) => sql`
      insert into inbox_versions as v (workspace_id, distinct_id, tenant_id, version, max_expiry)
      select workspace_id, distinct_id, tenant_id, floor(random() * 4503599627370496)::bigint, max(expires_at)
      from ${rows} as rows group by workspace_id, distinct_id, tenant_id
      order by workspace_id, distinct_id, tenant_id
      on conflict (workspace_id, distinct_id, tenant_id) do update set
        version = v.version + 1,
        max_expiry = greatest(v.max_expiry, excluded.max_expiry);`;
  await sql`
    create function inbox_versions_bump_changed() returns trigger language plpgsql as $$
    begin
      ${bumpFrom(sql`changed`)}
      return null;
    end;
    $$`.execute(db);
  // An update can move a row between feeds only by a hand-written statement; both feeds change.
  await sql`
    create function inbox_versions_bump_updated() returns trigger language plpgsql as $$
    begin
      ${bumpFrom(sql`(select workspace_id, distinct_id, tenant_id, expires_at from changed
                      union all select workspace_id, distinct_id, tenant_id, null from previous)`)}
      return null;
    end;
    $$`.execute(db);
  await sql`
    create function inbox_versions_bump_badge() returns trigger language plpgsql as $$
    begin
      insert into inbox_versions as v (workspace_id, distinct_id, tenant_id, version, max_expiry)
      values (new.workspace_id, new.distinct_id, new.tenant_id, floor(random() * 4503599627370496)::bigint, null)
      on conflict (workspace_id, distinct_id, tenant_id) do update set version = v.version + 1;
      return null;
    end;
    $$`.execute(db);
  // Herald inserts one notification per statement: a row trigger costs half a statement trigger's
  // transition table there.
  await sql`
    create function inbox_versions_bump_inserted() returns trigger language plpgsql as $$
    begin
      insert into inbox_versions as v (workspace_id, distinct_id, tenant_id, version, max_expiry)
      values (new.workspace_id, new.distinct_id, new.tenant_id, floor(random() * 4503599627370496)::bigint, new.expires_at)
      on conflict (workspace_id, distinct_id, tenant_id) do update set
        version = v.version + 1,
        max_expiry = greatest(v.max_expiry, excluded.max_expiry);
      return null;
    end;
    $$`.execute(db);
  await sql`
    create trigger notifications_version_insert after insert on notifications
    for each row execute function inbox_versions_bump_inserted()`.execute(db);
  await sql`
    create trigger notifications_version_update after update on notifications
    referencing old table as previous new table as changed for each statement execute function inbox_versions_bump_updated()`.execute(db);
  await sql`
    create trigger notifications_version_delete after delete on notifications
    referencing old table as changed for each statement execute function inbox_versions_bump_changed()`.execute(db);
  await sql`
    create trigger inbox_badges_version after insert or update on inbox_badges
    for each row execute function inbox_versions_bump_badge()`.execute(db);
}
