import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;

/**
 * Where better-sqlite3's native addon lives. Unset: the package finds its own bundled
 * prebuilt binary. The action's bundle sets it, because a bundle moves the JavaScript
 * away from the `.node` file the package would look for next to itself.
 */
let nativeBinding: string | undefined;

export function setSqliteNativeBinding(path: string | undefined): void {
  nativeBinding = path;
}

/** The addon set for this thread (handed to integrity workers, which load it themselves). */
export function sqliteNativeBinding(): string | undefined {
  return nativeBinding;
}

/** Every database the harness opens goes through here. */
export function openDatabase(path: string, options: { readonly?: boolean; timeoutMs?: number } = {}): SqliteDatabase {
  return new Database(path, {
    readonly: options.readonly ?? false,
    fileMustExist: true,
    timeout: options.timeoutMs ?? 5_000,
    ...(nativeBinding ? { nativeBinding } : {}),
  });
}
