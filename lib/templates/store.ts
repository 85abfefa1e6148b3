/**
 * message_templates in PostgreSQL: a chat's templates, one name per chat, listed by name with a keyset over
 * (name, id). Every statement is scoped by chat, so a template id from another chat is simply not found.
 */
import { ConflictError, NotFoundError } from '../errors.js';
import { pgQuery } from '../postgres/pool.js';
import type { TemplateRecord } from './model.js';

interface TemplateRow {
  id: string;
  chat_id: string;
  name: string;
  content: string;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, chat_id, name, content, created_by, created_at, updated_at';

function toRecord(row: TemplateRow): TemplateRecord {
  return {
    id: row.id,
    channelId: row.chat_id,
    name: row.name,
    content: row.content,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Unique (chat, name) → 409; the chat gone in the meantime (its FK) → 404. */
function mapWriteError(error: unknown, name: string | undefined): unknown {
  const code = (error as { code?: string }).code;
  if (code === '23505') return new ConflictError(`This channel already has a template named ${JSON.stringify(name)}`);
  if (code === '23503') return new NotFoundError('Channel not found');
  return error;
}

export async function insertTemplate(template: TemplateRecord): Promise<void> {
  try {
    await pgQuery(
      `INSERT INTO message_templates (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [template.id, template.channelId, template.name, template.content, template.createdBy, template.createdAt, template.updatedAt],
    );
  } catch (error) {
    throw mapWriteError(error, template.name);
  }
}

export async function getTemplate(channelId: string, templateId: string): Promise<TemplateRecord | undefined> {
  const { rows } = await pgQuery<TemplateRow>(`SELECT ${COLUMNS} FROM message_templates WHERE chat_id = $1 AND id = $2`, [
    channelId,
    templateId,
  ]);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** Sets the given fields and updated_at; undefined when the template is gone. */
export async function updateTemplate(
  channelId: string,
  templateId: string,
  changes: { name?: string | undefined; content?: string | undefined; updatedAt: Date },
): Promise<TemplateRecord | undefined> {
  try {
    const { rows } = await pgQuery<TemplateRow>(
      `UPDATE message_templates
          SET name = COALESCE($3, name), content = COALESCE($4, content), updated_at = $5
        WHERE chat_id = $1 AND id = $2
       RETURNING ${COLUMNS}`,
      [channelId, templateId, changes.name ?? null, changes.content ?? null, changes.updatedAt],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  } catch (error) {
    throw mapWriteError(error, changes.name);
  }
}

/** True when a row was deleted. */
export async function deleteTemplate(channelId: string, templateId: string): Promise<boolean> {
  const { rowCount } = await pgQuery('DELETE FROM message_templates WHERE chat_id = $1 AND id = $2', [channelId, templateId]);
  return (rowCount ?? 0) > 0;
}

/** Where the previous page ended. */
export interface TemplateKey {
  name: string;
  id: string;
}

/** Up to `limit` templates of a chat by name (code-point order), after `after` when given. */
export async function listTemplates(channelId: string, limit: number, after: TemplateKey | undefined): Promise<TemplateRecord[]> {
  const { rows } = await pgQuery<TemplateRow>(
    `SELECT ${COLUMNS} FROM message_templates
      WHERE chat_id = $1
        AND ($3::text IS NULL OR (name, id) > ($3::text COLLATE "C", $4::uuid))
      ORDER BY name, id
      LIMIT $2`,
    [channelId, limit, after?.name ?? null, after?.id ?? null],
  );
  return rows.map(toRecord);
}
