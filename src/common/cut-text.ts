/** Cuts text to `max` UTF-16 units without splitting a surrogate pair, marking the cut with `note`. */
export function cutText(text: string, max: number, note = '…'): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - note.length);
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}${note}`;
}
