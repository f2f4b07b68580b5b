// Shared widgets: toasts (announced to screen readers) and a confirmation dialog.
import { h } from './dom';

export function toast(message: string, error = false): void {
  let box = document.getElementById('toasts');
  if (!box) {
    box = h('div', { id: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(box);
  }
  const el = h('div', { class: `toast${error ? ' error' : ''}`, role: error ? 'alert' : undefined }, message);
  box.append(el);
  setTimeout(() => el.remove(), error ? 8000 : 4000);
}

// A modal <dialog>: focus is trapped by the browser, Escape cancels.
export function confirmDialog(title: string, text: string, verb: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: 'confirm', 'aria-labelledby': 'dlg-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'dlg-title' }, title),
        h('p', {}, text),
        h('div', { class: 'toolbar' },
          h('button', { value: 'cancel', autofocus: true }, 'Cancel'),
          h('button', { value: 'ok', class: 'danger', id: 'confirm-ok' }, verb))));
    document.body.append(dlg);
    dlg.addEventListener('close', () => {
      resolve(dlg.returnValue === 'ok');
      dlg.remove();
    });
    dlg.showModal();
  });
}
