/**
 * For unit tests of code that waits on another service: each question the code asks is kept, for the
 * test to answer or fail when it chooses, and `settled` tells whether a promise has settled once
 * everything pending has run.
 */
export interface Question<T> {
  answer(value: T): void;
  fail(err: Error): void;
}

/** A stand-in's method that keeps every call as a question and returns its promise. */
export function questionsOf<T>(): { questions: Question<T>[]; ask: () => Promise<T> } {
  const questions: Question<T>[] = [];
  const ask = () =>
    new Promise<T>((resolve, reject) => {
      questions.push({ answer: resolve, fail: reject });
    });
  return { questions, ask };
}

/** Runs what is pending (a few turns of the event loop), then tells whether `p` has settled. */
export async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
}
