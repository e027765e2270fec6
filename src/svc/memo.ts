// The tracer asks the same questions of the same rules and chains many times (which chain a rule jumps
// to, what its DNAT target is, which rules of a chain could match a port...): one way to remember answers.

/**
 * `compute` remembered per key. Object keys are held weakly (answers go when the rule or chain goes);
 * other keys in a Map emptied when it reaches `limit`, so a long run over many strings stays bounded.
 */
export function memo<K, V>(compute: (key: K) => V, limit = 100_000): (key: K) => V {
  const weak = new WeakMap<object, V>()
  const strong = new Map<K, V>()
  return (key: K): V => {
    if (typeof key === 'object' && key !== null) {
      const known = weak.get(key)
      if (known !== undefined || weak.has(key)) return known as V
      const value = compute(key)
      weak.set(key, value)
      return value
    }
    const known = strong.get(key)
    if (known !== undefined || strong.has(key)) return known as V
    const value = compute(key)
    if (strong.size >= limit) strong.clear()
    strong.set(key, value)
    return value
  }
}
