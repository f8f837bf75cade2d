/**
 * Sets `key` as the newest entry of an insertion-ordered Map, dropping the oldest entry when the map
 * is full: the one eviction rule of this server's in-memory caches (least recently written first).
 */
export function setNewest<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  if (map.size >= max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}
