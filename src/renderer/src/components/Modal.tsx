import { useEffect, useRef, type ReactNode } from 'react';

/** A modal dialog (the platform's <dialog>): focus stays inside, Escape closes it. */
export function Modal({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="modal"
      aria-labelledby="modal-title"
      onCancel={(e) => {
        e.preventDefault();
        // Escape here closes the dialog, not the incident behind it.
        e.stopPropagation();
        onClose();
      }}
      onKeyDown={(e) => e.key === 'Escape' && e.stopPropagation()}
    >
      <h4 id="modal-title">{title}</h4>
      {children}
    </dialog>
  );
}
