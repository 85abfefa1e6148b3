/**
 * Message templates: any member creates and lists them; the creator, the channel owner or a service edits
 * and deletes them; create-message renders one into a message's content (renderTemplate).
 */
import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/principal.js';
import { authorizeChannel, type ChannelAccess } from '../channels/access.js';
import { ForbiddenError, InvalidRequestError, NotFoundError } from '../errors.js';
import { codePointLength, MAX_CONTENT_CODE_POINTS } from '../messages/model.js';
import { fillTemplate, parseTemplate, toTemplateView, type TemplateRecord, type TemplateView } from '../templates/model.js';
import * as store from '../templates/store.js';

function encodeCursor(key: store.TemplateKey): string {
  return Buffer.from(JSON.stringify([key.name, key.id])).toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function decodeCursor(text: string): store.TemplateKey {
  try {
    const [name, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (typeof name === 'string' && name.length > 0 && !name.includes('\u0000') && typeof id === 'string' && UUID.test(id)) {
      return { name, id };
    }
  } catch {
    /* fall through */
  }
  throw new InvalidRequestError('cursor is not one this API issued', 'invalid_cursor');
}

async function loadTemplate(channelId: string, templateId: string): Promise<TemplateRecord> {
  const template = await store.getTemplate(channelId, templateId);
  if (!template) throw new NotFoundError('Template not found');
  return template;
}

function assertMayManage(principal: Principal, access: ChannelAccess, template: TemplateRecord): void {
  if (principal.isService || access.isOwner || template.createdBy === principal.userId) return;
  throw new ForbiddenError('Only the template creator, the channel owner or a service may change a template');
}

/** `name` arrives trimmed and within bounds, `content` within bounds and storable (schemas.ts). */
export async function createTemplate(principal: Principal, channelId: string, input: { name: string; content: string }): Promise<TemplateView> {
  parseTemplate(input.content);
  await authorizeChannel(principal, channelId);
  const now = new Date();
  const template: TemplateRecord = {
    id: randomUUID(),
    channelId,
    name: input.name,
    content: input.content,
    createdBy: principal.userId,
    createdAt: now,
    updatedAt: now,
  };
  await store.insertTemplate(template);
  return toTemplateView(template);
}

export async function listTemplates(
  principal: Principal,
  channelId: string,
  input: { limit: number; cursor?: string | undefined },
): Promise<{ templates: TemplateView[]; next_cursor: string | null }> {
  const after = input.cursor ? decodeCursor(input.cursor) : undefined;
  await authorizeChannel(principal, channelId);
  // One more than the page, to know whether another page follows.
  const rows = await store.listTemplates(channelId, input.limit + 1, after);
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  return {
    templates: page.map(toTemplateView),
    next_cursor: rows.length > input.limit && last ? encodeCursor({ name: last.name, id: last.id }) : null,
  };
}

export async function updateTemplate(
  principal: Principal,
  channelId: string,
  templateId: string,
  changes: { name?: string | undefined; content?: string | undefined },
): Promise<TemplateView> {
  if (changes.content !== undefined) parseTemplate(changes.content);
  const access = await authorizeChannel(principal, channelId);
  assertMayManage(principal, access, await loadTemplate(channelId, templateId));
  const updated = await store.updateTemplate(channelId, templateId, { ...changes, updatedAt: new Date() });
  if (!updated) throw new NotFoundError('Template not found');
  return toTemplateView(updated);
}

export async function deleteTemplate(principal: Principal, channelId: string, templateId: string): Promise<void> {
  const access = await authorizeChannel(principal, channelId);
  assertMayManage(principal, access, await loadTemplate(channelId, templateId));
  if (!(await store.deleteTemplate(channelId, templateId))) throw new NotFoundError('Template not found');
}

/**
 * The content of a message made from a template of this channel: 400 `unknown_template` if the channel has no
 * such template (a field of the request names nothing, like an unknown `reply_to_id`; a 404 would be
 * indistinguishable from an unknown channel), 400 `missing_variable` / `unknown_variable` unless exactly the template's variables are given, and 400
 * `invalid_rendered_content` unless the result is 1 to 4096 code points without U+0000 or unpaired surrogates (the values are the
 * caller's, so the template's own bounds do not guarantee the result's).
 */
export async function renderTemplate(
  principal: Principal,
  channelId: string,
  templateId: string,
  variables: Record<string, string>,
): Promise<string> {
  await authorizeChannel(principal, channelId);
  const template = await store.getTemplate(channelId, templateId);
  if (!template) throw new InvalidRequestError('template_id names no template of this channel', 'unknown_template');
  const content = fillTemplate(parseTemplate(template.content), variables);
  const length = codePointLength(content);
  if (length < 1 || length > MAX_CONTENT_CODE_POINTS) {
    throw new InvalidRequestError(
      `The rendered template is ${length} characters; a message must be 1 to ${MAX_CONTENT_CODE_POINTS}`,
      'invalid_rendered_content',
    );
  }
  if (content.includes('\u0000') || /\p{Cs}/u.test(content)) {
    throw new InvalidRequestError('The rendered template contains U+0000 or an unpaired surrogate, which a message may not', 'invalid_rendered_content');
  }
  return content;
}
