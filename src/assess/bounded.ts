// Bounded concurrency for probe fan-out: at most `limit` in flight, results in input order;
// once `signal` aborts (the check's time bound), no new item starts.
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>, signal?: AbortSignal): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
      while (next < items.length && signal?.aborted !== true) {
        const i = next++;
        const item = items[i];
        if (item !== undefined) out[i] = await fn(item);
      }
    }),
  );
  return out;
}
