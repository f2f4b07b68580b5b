// A command line <-> argv, the way a POSIX shell splits words, without running
// one: the editor shows one line and sends the argv array the daemon runs
// without a shell (docs/ui.md).
//
//   splitArgs(`printf '%s\n' "a b" c\ d`)  ->  ["printf", "%s\\n", "a b", "c d"]
//   joinArgs(["printf", "%s\\n", "a b"])   ->  `printf '%s\n' 'a b'`
//
// Quoting: '...' is literal; "..." is literal except \" \\ \$ \` and a
// backslash-newline; outside quotes a backslash makes the next character
// literal.  Nothing is expanded ($HOME, *, ~ stay as typed): that is what
// "through a shell" is for, and shellSyntax() says when a line looks like it
// wanted one.

export type SplitResult = { argv: string[]; error: null } | { argv: null; error: string };

export function splitArgs(line: string): SplitResult {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '' | "'" | '"' = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = '';
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = '';
      else if (c === '\\' && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1])) {
        if (line[i + 1] !== '\n') word += line[i + 1];
        i++;
      } else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= line.length) return { argv: null, error: 'the line ends with a backslash' };
      if (line[i + 1] !== '\n') {
        word += line[i + 1];
        inWord = true;
      }
      i++;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) return { argv: null, error: `a ${quote === "'" ? 'single' : 'double'} quote is not closed` };
  if (inWord) argv.push(word);
  return { argv, error: null };
}

const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function joinArgs(argv: string[]): string {
  return argv.map((a) => (PLAIN.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

// The first unquoted character of LINE that only a shell would act on
// (a pipe, a redirection, $VAR, a glob ...), or null.
export function shellSyntax(line: string): string | null {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = '';
      else if (quote === '"' && c === '$') return '$';
      else if (quote === '"' && c === '\\') i++;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '\\') i++;
    else if ('|&;<>$`*?(){}'.includes(c)) return c;
    else if (c === '~' && (i === 0 || /\s/.test(line[i - 1]))) return c;
  }
  return null;
}
