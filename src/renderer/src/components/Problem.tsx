import { messageOf } from '../format';

/** A failed read or action, said in words where the data would have been. */
export function Problem({ error, what }: { error: unknown; what: string }) {
  return (
    <p className="error" role="alert">
      Could not {what}: {messageOf(error)}
    </p>
  );
}
