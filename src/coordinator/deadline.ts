/** Waits for every promise or until `ms` pass, whichever is first; returns which finished in time. */
export async function settleWithin<T>(promises: readonly Promise<T>[], ms: number): Promise<(PromiseSettledResult<T> | undefined)[]> {
  const results: (PromiseSettledResult<T> | undefined)[] = promises.map(() => undefined);
  const tracked = promises.map((p, i) =>
    p.then(
      (value) => void (results[i] = { status: 'fulfilled', value }),
      (reason: unknown) => void (results[i] = { status: 'rejected', reason }),
    ),
  );
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([Promise.all(tracked), deadline]);
  clearTimeout(timer);
  return results;
}
